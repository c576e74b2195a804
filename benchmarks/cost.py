"""What a million notifications (and a million sends) cost, here and in the straightforward design.

Requests and DynamoDB capacity units are measured (capacity.py sizes what each request
writes and reads), per notification type, on the real FeedbackFunction in SQS batches of
the template's FeedbackBatchSize (feedback.py's run), and on SenderFunction for one send.
SNS and SQS requests follow from the design: SES publishes each notification once to SNS;
SNS delivers to SQS (a SendMessage, charged to the queue) and Lambda's poller receives up to
10 messages per ReceiveMessage and deletes up to 10 per DeleteMessageBatch. Lambda
GB-seconds: the handler's measured time per batch at the template's MemorySize, where the
CPU part is stretched by Lambda's CPU share (one vCPU at 1,769 MB, proportionally less
below), the waits on the moto server standing in for DynamoDB's latency, rounded up to the
millisecond per invocation as Lambda bills. CloudWatch Logs: the bytes the handler writes (its
log lines and EMF documents, counted as it writes them, metrics published as in Lambda), and
Lambda's own START, END and REPORT lines for each invocation (their size from the lines'
documented text format, with the X-Ray part that ``Tracing: Active`` adds).

The straightforward design is measured the same way: SNS → Lambda per notification, a plain
handler that parses the notification and makes one PutItem per event, no batching, no state.

Not counted (not per notification, or the same in both designs): the custom metrics that EMF
creates (billed per metric and month, not per value), X-Ray traces (sampled: the first request
each second and 5% of the rest), the pollers' empty ReceiveMessage calls while the queue is
idle, log and table storage, data transfer, and the free tiers.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import boto3
from ses_feedback_emulator import motoserver
from ses_feedback_stack.names import LocalStack

from benchmarks import feedback, into_devnull, metrics_on, sender
from benchmarks.capacity import CapacityMeter
from tests.support import ses_events

REGION = "us-east-1"
# Published on-demand prices, us-east-1, USD, as of 2025-01 (DynamoDB's on-demand prices are
# those after its 2024-11-01 reduction). Sources: aws.amazon.com/lambda/pricing/ (arm64),
# aws.amazon.com/sqs/pricing/ (standard queue), aws.amazon.com/sns/pricing/ (standard topic;
# deliveries to SQS and to Lambda are free), aws.amazon.com/dynamodb/pricing/on-demand/,
# aws.amazon.com/ses/pricing/, aws.amazon.com/api-gateway/pricing/ (REST),
# aws.amazon.com/cloudwatch/pricing/ (Logs, standard class). They were not re-read online for
# this table: check them before deciding on these figures.
PRICES_AS_OF = "2025-01"
LAMBDA_GB_SECOND = 0.0000133334  # arm64, first 7.5 billion GB-s a month
LAMBDA_REQUEST = 0.20 / 1e6
SNS_PUBLISH = 0.50 / 1e6  # per 64 KB chunk published
SQS_REQUEST = 0.40 / 1e6  # per 64 KB chunk of each request
DYNAMODB_WRITE_UNIT = 0.625 / 1e6
DYNAMODB_READ_UNIT = 0.125 / 1e6
SES_EMAIL = 0.10 / 1000  # per recipient of an outgoing message
API_GATEWAY_REST_REQUEST = 3.50 / 1e6
# EventBridge: custom events published (per 64 KB chunk of each entry; ours are < 1 KB), and
# each API destination invocation (a webhook delivery). aws.amazon.com/eventbridge/pricing/.
EVENTBRIDGE_EVENT = 1.00 / 1e6
API_DESTINATION_INVOCATION = 0.20 / 1e6
# Per GB ingested; since 2025-05 Lambda's logs are tiered, and this is still the first 10 TB's
# price. Counted per 10^9 bytes (the higher reading of "GB").
CLOUDWATCH_LOGS_BYTE = 0.50 / 1e9
# What Lambda writes itself for each invocation, in the text log format the template keeps
# (a warm invocation: a cold one adds "Init Duration" to REPORT).
_REQUEST_ID = "3f1c2b7e-9d4a-4e8b-a6c5-0b1d2e3f4a5b"
PLATFORM_LINES = (
    f"START RequestId: {_REQUEST_ID} Version: $LATEST\n",
    f"END RequestId: {_REQUEST_ID}\n",
    f"REPORT RequestId: {_REQUEST_ID}\tDuration: 744.21 ms\tBilled Duration: 745 ms\t"
    "Memory Size: 512 MB\tMax Memory Used: 98 MB\t\n"
    "XRAY TraceId: 1-6751d2a3-4b5c6d7e8f9a0b1c2d3e4f5a\tSegmentId: 1a2b3c4d5e6f7a8b\tSampled: true\t\n",
)
PLATFORM_LOG_BYTES = sum(len(line.encode()) for line in PLATFORM_LINES)

FULL_VCPU_MB = 1769  # Lambda: one vCPU's worth at 1,769 MB, proportionally less below
MEMORY_CHOICES = (128, 256, 512, 1024, 1769)
SQS_RECEIVE_MAX = 10  # messages per ReceiveMessage and entries per DeleteMessageBatch
STRAIGHTFORWARD_PER_TYPE = 200
SENDS = 100


@dataclass(frozen=True)
class Usage:
    """Per notification (or per send): requests, capacity units, Lambda invocations and time."""

    dynamodb_requests: float
    rcu: float
    wcu: float
    sns: float
    sqs: float
    invocations: float
    cpu_seconds: float  # per invocation, at a full vCPU (this machine)
    wall_seconds: float  # per invocation, waits included
    log_bytes: float  # ingested by CloudWatch Logs: the handler's share and Lambda's own lines
    emails: float = 0.0
    events: float = 0.0  # events published on the stack's bus
    put_events: float = 0.0  # PutEvents requests (not billed: EventBridge bills the events)
    webhook_calls: float = 0.0  # API destination invocations: one webhook per event, assumed

    def lambda_seconds(self, memory_mb: int) -> float:
        """Billed seconds of one invocation: the CPU part slowed by Lambda's CPU share, in 1 ms steps."""
        waiting = max(0.0, self.wall_seconds - self.cpu_seconds)
        seconds = waiting + self.cpu_seconds * max(1.0, FULL_VCPU_MB / memory_mb)
        return math.ceil(seconds * 1000) / 1000

    def gb_seconds(self, memory_mb: int) -> float:
        return self.invocations * memory_mb / 1024 * self.lambda_seconds(memory_mb)

    def dollars_per_million(self, memory_mb: int) -> float:
        per_one = (
            self.rcu * DYNAMODB_READ_UNIT
            + self.wcu * DYNAMODB_WRITE_UNIT
            + self.sns * SNS_PUBLISH
            + self.sqs * SQS_REQUEST
            + self.invocations * LAMBDA_REQUEST
            + self.gb_seconds(memory_mb) * LAMBDA_GB_SECOND
            + self.log_bytes * CLOUDWATCH_LOGS_BYTE
            + self.emails * SES_EMAIL
            + self.events * EVENTBRIDGE_EVENT
            + self.webhook_calls * API_DESTINATION_INVOCATION
        )
        return per_one * 1e6


def _memory(logical_id: str) -> int:
    template = LocalStack().template
    size = template["Resources"][logical_id]["Properties"].get("MemorySize")
    return int(size or template["Globals"]["Function"]["MemorySize"])


def _batch_size() -> int:
    return int(LocalStack().template["Parameters"]["FeedbackBatchSize"]["Default"])


def ours(figures: feedback.TypeFigures) -> Usage:
    n = figures.notifications
    per_batch = n / figures.batches
    return Usage(
        dynamodb_requests=figures.requests / n,
        rcu=figures.rcu / n,
        wcu=figures.wcu / n,
        sns=1,
        # SNS's SendMessage, then the poller's receives and batched deletes.
        sqs=1 + 2 / SQS_RECEIVE_MAX,
        invocations=1 / per_batch,
        cpu_seconds=figures.cpu_seconds / figures.batches,
        wall_seconds=figures.wall_seconds / figures.batches,
        log_bytes=figures.log_bytes / n + PLATFORM_LOG_BYTES / per_batch,
        events=figures.events / n,
        put_events=figures.put_events / n,
        webhook_calls=figures.events / n,
    )


def straightforward_handler(table: str, client: Any) -> Callable[[dict[str, Any], Any], None]:
    """SNS → Lambda, one notification per invocation: parse it, one PutItem, nothing else."""

    def handler(event: dict[str, Any], context: Any) -> None:
        for record in event["Records"]:
            message = json.loads(record["Sns"]["Message"])
            kind = message.get("eventType") or message.get("notificationType")
            mail = message["mail"]
            client.put_item(
                TableName=table,
                Item={
                    "pk": {"S": mail["destination"][0]},
                    "sk": {"S": f"{mail['timestamp']}#{kind}#{mail['messageId']}"},
                    "type": {"S": kind},
                    "detail": {"S": json.dumps(message.get(kind.lower(), {}))[:400]},
                },
            )

    return handler


def measure_straightforward(endpoint: str) -> dict[str, Usage]:
    motoserver.reset(endpoint)
    table = "straightforward-events"
    client = boto3.client("dynamodb")
    client.create_table(
        TableName=table,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    meter = CapacityMeter().attach(client)
    handler = straightforward_handler(table, client)
    usage = {}
    for kind, build in feedback._builders().items():
        meter.reset()
        cpu = wall = 0.0
        with into_devnull() as written:  # it logs nothing itself: Lambda's own lines only
            for i in range(STRAIGHTFORWARD_PER_TYPE):
                event = ses_events.sns_event(build(i))
                started, started_wall = time.process_time(), time.perf_counter()
                handler(event, None)
                cpu += time.process_time() - started
                wall += time.perf_counter() - started_wall
        usage[kind] = _per_invocation(meter, STRAIGHTFORWARD_PER_TYPE, cpu, wall, written.bytes, sns=1)
    return usage


def measure_send(endpoint: str) -> Usage:
    _, handler, context, suppression_check = sender.ready(endpoint)
    meter = CapacityMeter().attach(suppression_check.store.client)
    if suppression_check.timeline is not None:  # each accepted message's timeline: one BatchWriteItem
        meter.attach(suppression_check.timeline.client)
    cpu = wall = 0.0
    with metrics_on(), into_devnull() as written:
        for i in range(SENDS):
            started, started_wall = time.process_time(), time.perf_counter()
            answer = handler(sender._request(i, idempotent=False), context)
            cpu += time.process_time() - started
            wall += time.perf_counter() - started_wall
            assert answer["status"] == "partially_suppressed", answer
    # SES bills each recipient: four of the five (one is suppressed).
    usage = _per_invocation(meter, SENDS, cpu, wall, written.bytes, sns=0, emails=len(sender.RECIPIENTS) - 1)
    # The suppressed recipient is told as message.suppressed: one event, one webhook call.
    return replace(usage, events=1, put_events=1, webhook_calls=1)


def _per_invocation(
    meter: CapacityMeter, n: int, cpu: float, wall: float, logged: int, *, sns: float, emails: float = 0
) -> Usage:
    """One invocation per notification (or send): the meter's, the clock's and the log's totals over n."""
    return Usage(
        dynamodb_requests=sum(meter.requests.values()) / n,
        rcu=meter.rcu / n,
        wcu=meter.wcu / n,
        sns=sns,
        sqs=0,
        invocations=1,
        cpu_seconds=cpu / n,
        wall_seconds=wall / n,
        log_bytes=logged / n + PLATFORM_LOG_BYTES,
        emails=emails,
    )


def _row(name: str, usage: Usage, memory_mb: int) -> str:
    return (
        f"{name:<34}{usage.dynamodb_requests:>7.2f}{usage.rcu:>7.2f}{usage.wcu:>7.2f}{usage.sns:>5.0f}"
        f"{usage.sqs:>6.2f}{usage.invocations:>7.2f}{usage.gb_seconds(memory_mb) * 1000:>10.3f}"
        f"{usage.log_bytes:>8.0f}{usage.events:>7.2f}{usage.put_events:>7.3f}"
        f"{usage.dollars_per_million(memory_mb):>11.2f}"
    )


# A million sends (docs/events.md): each send's Send event and, for those delivered, its
# Delivery; 2% hard bounces, 0.1% complaints (after delivery); with tracking on
# (PublishEngagementEvents=true), 20% opens and 2% clicks. Notifications per send, by type.
SEND_MIX = {"Delivery": 0.98, "Bounce (Permanent)": 0.02, "Complaint": 0.001}
TRACKING_MIX = {"Send": 1.0, "Open": 0.20, "Click": 0.02}


def mix_dollars(per_type: dict[str, Usage], mix: dict[str, float], memory_mb: int) -> float:
    """Feedback's cost for a million sends of ``mix`` (notifications per send, by type)."""
    return sum(rate * per_type[kind].dollars_per_million(memory_mb) for kind, rate in mix.items())


def run(endpoint: str) -> list[str]:
    measured = feedback.measure(endpoint)  # feedback.py's run, priced here
    before = feedback.measure(endpoint, with_events=False)  # the same function without bus and timeline
    simple = measure_straightforward(endpoint)
    send = measure_send(endpoint)
    feedback_mb, sender_mb, batch = _memory("FeedbackFunction"), _memory("SenderFunction"), _batch_size()
    columns = [
        ("DDB", 7),
        ("RCU", 7),
        ("WCU", 7),
        ("SNS", 5),
        ("SQS", 6),
        ("Lambda", 7),
        ("GB-ms", 10),
        ("Logs B", 8),
        ("Events", 7),
        ("PutEv", 7),
    ]
    header = f"{'':<34}" + "".join(f"{name:>{width}}" for name, width in columns) + f"{'$/million':>11}"
    lines = [
        f"Cost per notification and per send — {REGION} on-demand prices as of {PRICES_AS_OF} "
        "(benchmarks/cost.py cites them; check before relying on them); free tiers left out",
        f"ours: SES → SNS → SQS → FeedbackFunction, batches of {batch}, {feedback_mb} MB; straightforward: "
        f"SNS → Lambda per notification, one PutItem per event, no batching, same {feedback_mb} MB",
        "",
        header,
    ]
    for kind, figures in measured.items():
        lines.append(_row(f"{kind} (ours, no events)", ours(before[kind]), feedback_mb))
        lines.append(_row("  + bus, timeline, webhook", ours(figures), feedback_mb))
        lines.append(_row("  straightforward", simple[kind], feedback_mb))
    ours_now = {kind: ours(figures) for kind, figures in measured.items()}
    ours_before = {kind: ours(figures) for kind, figures in before.items()}
    lines += [
        "",
        "A million sends' feedback: "
        + ", ".join(f"{k} {v:g}" for k, v in SEND_MIX.items())
        + " per send; tracking on adds "
        + ", ".join(f"{k} {v:g}" for k, v in TRACKING_MIX.items()),
    ]
    for label, mix in (("tracking off", SEND_MIX), ("tracking on", {**SEND_MIX, **TRACKING_MIX})):
        lines.append(
            f"  {label:<13} ours, no events ${mix_dollars(ours_before, mix, feedback_mb):>7.2f}   "
            f"+ bus, timeline, webhook ${mix_dollars(ours_now, mix, feedback_mb):>7.2f}   "
            f"straightforward ${mix_dollars(simple, mix, feedback_mb):>7.2f}   "
            f"(the sender's timeline write and message.suppressed are in the send's row)"
        )
    lines += [
        "",
        header,
        _row(f"one send, 5 recipients (ours, {sender_mb} MB)", send, sender_mb),
        f"  + SES: {send.emails:.0f} emails = ${send.emails * SES_EMAIL * 1e6:,.0f} per million sends "
        "(included above); through the REST API "
        f"+ ${API_GATEWAY_REST_REQUEST * 1e6:.2f} per million",
        "",
        "Lambda memory (its CPU share grows with it): estimated billed ms per invocation, $/million",
        f"{'':<34}" + "".join(f"{mb:>8} MB {'':>10}" for mb in MEMORY_CHOICES),
    ]
    choices = {
        "FeedbackFunction, Bounce batch": ours(measured["Bounce (Permanent)"]),
        "FeedbackFunction, Delivery batch": ours(measured["Delivery"]),
        "SenderFunction, one send": send,
    }
    for name, usage in choices.items():
        lines.append(
            f"{name:<34}"
            + "".join(
                f"{usage.lambda_seconds(mb) * 1000:>8.0f} ms ${usage.dollars_per_million(mb):>8.2f}"
                for mb in MEMORY_CHOICES
            )
        )
    lines += [
        "",
        "DDB = DynamoDB requests, RCU/WCU capacity units, SNS/SQS requests, Lambda invocations, GB-ms "
        "Lambda GB-milliseconds, Logs B bytes CloudWatch Logs ingests (the handler's lines and EMF, "
        f"measured; Lambda's START/END/REPORT, {PLATFORM_LOG_BYTES} B per invocation), Events published on "
        "the bus (each also one webhook call, assumed), PutEv PutEvents requests — all per notification "
        "(per send); $/million includes SES for the send, EventBridge's events and API destination calls",
        "",
    ]
    return lines
