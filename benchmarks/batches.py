"""A batch against the local SES held to a set rate, and what a recipient costs.

The run: the local SES answers Throttling above ``RATE`` messages a second and reports it as
GetAccount's MaxSendRate; the batch is accepted by BatchesApiFunction (in this process) and
sent by BulkSenderFunction's instances (processes, at the event source's maximum
concurrency, as ``local up`` runs them). From what the local SES accepted: the rate achieved
against the target (``RATE`` x BulkRateShare), its highest second and its mean, and the
recipients lost (counted sent but not in the mailbox, or neither sent nor settled) or mailed
twice. ``BENCH_BATCH_RECIPIENTS`` (default 10,000) and ``BENCH_BATCH_RATE`` (default 50, so a
target of 40 a second) change the size and the rate.

Where a local run's time goes: every AWS request of the worker goes to one moto server process
that answers one request at a time (so that conditional writes stay atomic), about 3 ms of its
CPU a request here. A recipient costs the worker about 4.2 requests (claim, suppression check,
SendEmail, the outcome's transaction, a re-read of the batch every 10) and 6-9 ms of its own CPU;
the two instances run in parallel, each paced at its share. The local SES's feedback (a Send
and a Delivery notification a recipient, published to SNS through the same server into a queue
nobody drains here, each publish also walking every message already in that queue) doubled the
server's work and grew with the batch: the rate run disables the event destination, as SES
publishes feedback outside the stack on AWS (FeedbackFunction is measured on its own).

The price: the same worker in this process, its requests counted as they leave its clients
(DynamoDB's capacity units by ``capacity.CapacityMeter``), at an unthrottled rate so that its
own time is measured; the billed time of a paced worker is its pace (it waits for its slot),
priced separately. Beside it, the same mail through ``POST /messages`` one recipient a
request (SenderFunction measured the same way, plus API Gateway's request price).
"""

from __future__ import annotations

import collections
import json
import os
import time
import urllib.request
from datetime import datetime
from typing import Any

from ses_feedback_emulator import motoserver
from ses_feedback_emulator.bootstrap import bootstrap
from ses_feedback_emulator.lambdas import LocalContext, load_handler
from ses_feedback_emulator.pollers import QueuePoller
from ses_feedback_stack.names import LocalStack

from benchmarks import into_devnull
from benchmarks.capacity import CapacityMeter
from benchmarks.cost import (
    API_GATEWAY_REST_REQUEST,
    DYNAMODB_READ_UNIT,
    DYNAMODB_WRITE_UNIT,
    LAMBDA_GB_SECOND,
    LAMBDA_REQUEST,
    PLATFORM_LOG_BYTES,
    SES_EMAIL,
    SQS_REQUEST,
    Usage,
    _memory,
)

RECIPIENTS = int(os.environ.get("BENCH_BATCH_RECIPIENTS", "10000"))
RATE = float(os.environ.get("BENCH_BATCH_RATE", "50"))
PRICED = 500  # recipients the in-process worker sends to be priced
CHUNK = 50


def _call(endpoint: str, path: str, body: Any = None) -> Any:
    data = json.dumps(body).encode() if body is not None else None
    method = "POST" if body is not None else "GET"
    request = urllib.request.Request(f"{endpoint}{path}", data=data, method=method)
    with urllib.request.urlopen(request, timeout=120) as answer:
        return json.load(answer)


def _api_event(method: str, path: str, body: Any = None) -> dict[str, Any]:
    resource = "/batches" if path == "/batches" else "/batches/{batch_id}"
    return {
        "resource": resource,
        "path": path,
        "httpMethod": method,
        "headers": {"Content-Type": "application/json"},
        "multiValueHeaders": {},
        "queryStringParameters": None,
        "multiValueQueryStringParameters": None,
        "pathParameters": None if path == "/batches" else {"batch_id": path.rsplit("/", 1)[1]},
        "stageVariables": None,
        "requestContext": {
            "resourcePath": resource,
            "httpMethod": method,
            "stage": "v1",
            "requestId": "bench",
            "identity": {"userArn": "arn:aws:iam::123456789012:user/bench-app", "caller": "bench"},
        },
        "body": json.dumps(body) if body is not None else None,
        "isBase64Encoded": False,
    }


def _batch(count: int, prefix: str) -> dict[str, Any]:
    return {
        "from": "news@example.com",
        "subject": "November",
        "text": "Hello",
        "recipients": [{"to": f"{prefix}{i}@example.org"} for i in range(count)],
    }


def _rate_run(endpoint: str) -> list[str]:
    motoserver.reset(endpoint)
    stack = LocalStack(prefix="bench-batch")
    bootstrap(stack)
    _without_feedback(stack)
    _call(endpoint, "/_local/send-quota", {"max_send_rate": RATE, "enforced_rate": RATE, "throttled": 0})
    api = load_handler(stack, "BatchesApiFunction", quiet=True)
    started = time.perf_counter()
    answer = api(
        _api_event("POST", "/batches", _batch(RECIPIENTS, "reader")), LocalContext("BatchesApiFunction")
    )
    accept_seconds = time.perf_counter() - started
    batch_id = json.loads(answer["body"])["batch_id"]
    share = float(stack.template["Parameters"]["BulkRateShare"]["Default"])
    poller = QueuePoller(stack, "BulkSenderFunction").start()
    try:
        while True:
            shown = json.loads(api(_api_event("GET", f"/batches/{batch_id}"), LocalContext("x"))["body"])
            if shown["state"] in ("done", "cancelled"):
                break
            time.sleep(2)
    finally:
        poller.stop()
    messages = [m for m in _call(endpoint, "/_local/messages") if m["tags"].get("batch") == batch_id]
    mailed = collections.Counter(a for m in messages for a in m["to"])
    duplicated = sum(n - 1 for n in mailed.values())
    lost = shown["sent"] - len(mailed) + shown["pending"]
    moments = sorted(
        datetime.fromisoformat(m["accepted_at"].replace("Z", "+00:00")).timestamp() for m in messages
    )
    per_second = collections.Counter(int(t) for t in moments)
    span = max(moments[-1] - moments[0], 1e-9)
    throttled = _call(endpoint, "/_local/send-quota")["throttled"]
    return [
        f"Batches: {RECIPIENTS:,} recipients, local SES at MaxSendRate {RATE:g}/s (Throttling above "
        f"it), BulkRateShare {share:g}, {poller_instances(stack)} worker instances",
        f"  accepted in {accept_seconds:.1f} s (POST /batches, validation and queueing); "
        f"state {shown['state']}: sent {shown['sent']:,}, failed {shown['failed']}, "
        f"pending {shown['pending']}",
        f"  rate: target {RATE * share:g}/s; achieved mean {len(moments) / span:.1f}/s over {span:.0f} s, "
        f"highest second {max(per_second.values())}; SES throttled {throttled} request(s)",
        f"  lost {lost}, mailed twice {duplicated}",
    ]


def _without_feedback(stack: LocalStack) -> None:
    """The configuration set's event destination, disabled for the rate run.

    SES publishes its feedback outside the stack (and FeedbackFunction is measured on its own);
    the local SES would publish it through the same one-request-at-a-time server as the worker's
    own requests, two SNS publishes a recipient into a queue nobody drains here.
    """
    import boto3  # noqa: PLC0415

    sesv2: Any = boto3.client("sesv2")
    for resource in stack.template["Resources"].values():
        if resource["Type"] != "AWS::SES::ConfigurationSetEventDestination":
            continue
        properties = stack.resolver().resolve(resource["Properties"])
        destination = properties["EventDestination"]
        sesv2.create_configuration_set_event_destination(
            ConfigurationSetName=properties["ConfigurationSetName"],
            EventDestinationName=destination["Name"],
            EventDestination={
                "Enabled": False,
                "MatchingEventTypes": ["DELIVERY"],
                "SnsDestination": {"TopicArn": destination["SnsDestination"]["TopicARN"]},
            },
        )


def poller_instances(stack: LocalStack) -> int:
    from ses_feedback_emulator.pollers import sqs_event_source  # noqa: PLC0415

    return sqs_event_source(stack, "BulkSenderFunction").max_concurrency


def _priced(endpoint: str) -> tuple[Usage, Usage]:
    """(one batch recipient, one POST /messages of one recipient): requests, units, time."""
    from ses_feedback.parsing.batch_request import Chunk  # noqa: PLC0415

    motoserver.reset(endpoint)
    stack = LocalStack(prefix="bench-price")
    bootstrap(stack)
    _call(endpoint, "/_local/send-quota", {"max_send_rate": 1e6, "enforced_rate": None})
    api = load_handler(stack, "BatchesApiFunction", quiet=True)
    api(_api_event("POST", "/batches", _batch(PRICED, "priced")), LocalContext("BatchesApiFunction"))
    worker_handler = load_handler(stack, "BulkSenderFunction", quiet=True)
    from ses_feedback import wiring  # noqa: PLC0415  # after load_handler

    worker = wiring.bulk_worker()
    meter = CapacityMeter().attach(worker.store.client)
    ses_calls = collections.Counter[str]()
    worker.sender.ses.client.meta.events.register(
        "after-call.sesv2", lambda model, **_: ses_calls.update([model.name])
    )
    sqs = worker.queue.client
    queue_url = worker.queue.queue_url
    chunks = invocations = 0
    cpu = wall = 0.0
    with into_devnull() as written:
        while True:
            received = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=1).get("Messages", [])
            if not received:
                break
            (message,) = received
            chunk = Chunk.model_validate_json(message["Body"])
            record = {"messageId": message["MessageId"], "receiptHandle": "r", "body": message["Body"],
                      "attributes": {}, "messageAttributes": {}, "md5OfBody": "", "eventSource": "aws:sqs",
                      "eventSourceARN": "arn", "awsRegion": "us-east-1"}  # fmt: skip
            started, started_wall = time.process_time(), time.perf_counter()
            worker_handler({"Records": [record]}, LocalContext("BulkSenderFunction", timeout_seconds=180))
            cpu += time.process_time() - started
            wall += time.perf_counter() - started_wall
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
            chunks += 1
            invocations += 1
            assert len(chunk.recipients) <= CHUNK
    n = PRICED
    # SQS: the API's SendMessageBatch (10 chunks each), and per chunk the poller's receive and delete.
    sqs_requests = (chunks / 10 + 2 * chunks) / n
    batch = Usage(
        dynamodb_requests=sum(meter.requests.values()) / n,
        rcu=meter.rcu / n,
        wcu=meter.wcu / n,
        sns=0,
        sqs=sqs_requests,
        invocations=invocations / n,
        cpu_seconds=cpu / invocations,
        wall_seconds=wall / invocations,
        log_bytes=(written.bytes / invocations + PLATFORM_LOG_BYTES) * invocations / n,
        emails=ses_calls["SendEmail"] / n,
    )
    # The same mail, one recipient a POST /messages.
    sender_handler = load_handler(stack, "SenderFunction", quiet=True)
    sender = wiring.sender()
    sender_meter = CapacityMeter().attach(sender.store.client)
    cpu = wall = 0.0
    with into_devnull() as written:
        for i in range(n):
            request = {
                "from": "news@example.com",
                "to": [f"one{i}@example.org"],
                "subject": "Hi",
                "text": "x",
            }
            started, started_wall = time.process_time(), time.perf_counter()
            sender_handler(request, LocalContext("SenderFunction"))
            cpu += time.process_time() - started
            wall += time.perf_counter() - started_wall
    one = Usage(
        dynamodb_requests=sum(sender_meter.requests.values()) / n,
        rcu=sender_meter.rcu / n,
        wcu=sender_meter.wcu / n,
        sns=0,
        sqs=0,
        invocations=1,
        cpu_seconds=cpu / n,
        wall_seconds=wall / n,
        log_bytes=written.bytes / n + PLATFORM_LOG_BYTES,
        emails=1,
    )
    return batch, one


# MaxSendRates to price a paced worker at: this run's, a new production account's, a large one's.
PACED_AT = (14.0, 100.0)


def _paced_gb_seconds(memory_mb: int, rate: float) -> float:
    """A paced worker's billed GB-s per recipient: it holds its invocation for its slot."""
    share = float(LocalStack().template["Parameters"]["BulkRateShare"]["Default"])
    workers = int(LocalStack().template["Parameters"]["BulkMaxConcurrency"]["Default"])
    per_worker = rate * share / workers
    return memory_mb / 1024 / per_worker


def run(endpoint: str) -> list[str]:
    lines = _rate_run(endpoint)
    batch, one = _priced(endpoint)
    bulk_mb, sender_mb = _memory("BulkSenderFunction"), _memory("SenderFunction")
    unpaced_lambda = batch.gb_seconds(bulk_mb) * LAMBDA_GB_SECOND * 1e6

    def paced_at(rate: float) -> float:
        return (
            batch.dollars_per_million(bulk_mb)
            - unpaced_lambda
            + _paced_gb_seconds(bulk_mb, rate) * (LAMBDA_GB_SECOND * 1e6)
        )

    paced = paced_at(RATE)
    elsewhere = ", ".join(f"${paced_at(rate):,.2f} at {rate:g}/s" for rate in PACED_AT)
    through_messages = one.dollars_per_million(sender_mb) + API_GATEWAY_REST_REQUEST * 1e6
    ses = SES_EMAIL * 1e6
    batch_dollars = batch.dollars_per_million(bulk_mb)
    batch_ddb = (batch.rcu * DYNAMODB_READ_UNIT + batch.wcu * DYNAMODB_WRITE_UNIT) * 1e6
    one_ddb = (one.rcu * DYNAMODB_READ_UNIT + one.wcu * DYNAMODB_WRITE_UNIT) * 1e6
    lines += [
        f"  per recipient (in-process worker, {PRICED} recipients): DynamoDB {batch.dynamodb_requests:.2f} "
        f"requests ({batch.rcu:.2f} RCU, {batch.wcu:.2f} WCU), SES {batch.emails:.2f} SendEmail, "
        f"SQS {batch.sqs:.3f}, Lambda {batch.invocations:.3f} invocations; POST /messages one recipient a "
        f"request: DynamoDB {one.dynamodb_requests:.2f} ({one.rcu:.2f} RCU), SES 1",
        f"  $ per million recipients, SES's ${ses:,.0f} included: batch ${batch_dollars:,.2f} unpaced, "
        f"${paced:,.2f} paced at {RATE:g}/s x share ({bulk_mb} MB waiting for its slot); "
        f"POST /messages ${through_messages:,.2f} ({sender_mb} MB, + API Gateway); paced at other "
        f"MaxSendRates: {elsewhere}",
        f"  without SES: batch ${batch_dollars - ses:,.2f} unpaced, ${paced - ses:,.2f} paced; "
        f"POST /messages ${through_messages - ses:,.2f}; DynamoDB alone: batch ${batch_ddb:,.2f}, "
        f"POST /messages ${one_ddb:,.2f}; SQS ${batch.sqs * SQS_REQUEST * 1e6:,.2f}; "
        f"Lambda requests ${batch.invocations * LAMBDA_REQUEST * 1e6:,.2f}",
        "",
    ]
    return lines
