"""Batches on in-process moto: BatchesApiFunction's routes and BulkSenderFunction over the template's
own table and queue.

moto has no SES v2 ``GetAccount``: the worker's quota client answers through
``botocore.stub.Stubber`` (``quota`` below); everything else (DynamoDB, SQS, SendEmail) is moto.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from moto.ses.models import ses_backends
from ses_feedback import wiring
from ses_feedback.edges.bus import EventBus
from ses_feedback.errors import EventsNotPublished, SendingThrottled
from ses_feedback.model.reasons import Reason
from ses_feedback_emulator.lambdas import LocalContext, load_handler
from ses_feedback_stack.names import LOCAL_ACCOUNT_ID, region

from tests.integration.conftest import Stack
from tests.integration.test_sender_function import api_event, suppress
from tests.support.batch_drain import drain, invoke
from tests.support.bus import BusTap

Handler = Callable[[dict[str, Any], Any], Any]


@dataclass
class Batches:
    api: Handler
    worker: Handler
    queue_url: str
    stack: Stack

    def call(self, method: str, path: str, body: Any = None, role: str = "news-app") -> tuple[int, Any]:
        event = api_event(method, path, None if body is None else json.dumps(body), role)
        if "{" not in path and path.count("/") == 2:
            event["resource"] = "/batches/{batch_id}"
            event["pathParameters"] = {"batch_id": path.rsplit("/", 1)[1]}
            event["requestContext"]["resourcePath"] = "/batches/{batch_id}"
        response = self.api(event, LocalContext("BatchesApiFunction"))
        return response["statusCode"], json.loads(response["body"])

    def invoke_worker(self, message: dict[str, Any]) -> Any:
        """BulkSenderFunction with one received message, as the event source mapping calls it."""
        return invoke(self.worker, message)

    def drain(self, max_messages: int = 1000) -> int:
        """The event source mapping: one message per invocation until the queue is empty."""
        return drain(self.worker, self.queue_url, max_messages)


def delivered() -> list[str]:
    backend = ses_backends[LOCAL_ACCOUNT_ID][region()]
    return [a for m in backend.sent_messages for addresses in m.destinations.values() for a in addresses]


def account(max_rate: float = 1000.0, max_24h: float = 50000.0, sent: float = 0.0) -> dict[str, Any]:
    return {"SendQuota": {"MaxSendRate": max_rate, "Max24HourSend": max_24h, "SentLast24Hours": sent}}


@pytest.fixture
def batches(stack: Stack, monkeypatch: pytest.MonkeyPatch) -> Iterator[Batches]:
    for logical_id in ("BatchesApiFunction", "BulkSenderFunction"):
        for name, value in stack.local.function_environment(logical_id).items():
            monkeypatch.setenv(name, value)
    api = load_handler(stack.local, "BatchesApiFunction")
    worker = load_handler(stack.local, "BulkSenderFunction")
    yield Batches(api=api, worker=worker, queue_url=stack.refs["BatchQueue"], stack=stack)


@pytest.fixture
def quota(batches: Batches) -> Iterator[Stubber]:
    """SES's GetAccount, answered by a Stubber (moto has none): a fast account unless a test says."""
    stubber = Stubber(wiring.bulk_worker().quota.client)
    stubber.activate()
    yield stubber
    stubber.deactivate()


def batch(*to: str, **changes: Any) -> dict[str, Any]:
    request: dict[str, Any] = {
        "from": "news@example.com",
        "subject": "November",
        "text": "Hello",
        "recipients": [{"to": address} for address in to],
    }
    request.update(changes)
    return request


# ---- POST /batches -----------------------------------------------------------------------------


def test_every_recipient_is_validated_as_messages_validates_and_the_bad_ones_are_named(
    batches: Batches,
) -> None:
    # When
    status, answer = batches.call(
        "POST", "/batches", batch("a@example.org", "not an address", "b@example.org", "c@exa mple.org")
    )
    # Then
    assert status == 202
    assert answer["accepted"] == 2
    assert [(r["index"], r["to"]) for r in answer["refused"]] == [
        (1, "not an address"),
        (3, "c@exa mple.org"),
    ]
    assert all(r["message"].startswith("to: ") for r in answer["refused"])
    status, shown = batches.call("GET", f"/batches/{answer['batch_id']}")
    assert status == 200
    assert (shown["state"], shown["total"], shown["refused"], shown["pending"]) == ("queued", 4, 2, 2)


def test_a_fault_of_the_shared_content_refuses_the_whole_batch(batches: Batches) -> None:
    # When: a from outside the sending domain, and a subject with a line break
    outside = batches.call("POST", "/batches", batch("a@example.org", **{"from": "x@elsewhere.org"}))
    injected = batches.call("POST", "/batches", batch("a@example.org", subject="Hi\r\nBcc: x@example.org"))
    # Then
    assert outside[0] == 400
    assert outside[1]["error"]["field"] == "from"
    assert injected[0] == 400
    assert injected[1]["error"]["field"] == "subject"


def test_a_batch_with_no_valid_recipient_is_refused_naming_them(batches: Batches) -> None:
    status, answer = batches.call("POST", "/batches", batch("nope", "still nope"))
    assert status == 400
    assert answer["error"]["field"] == "recipients"
    assert [p["field"] for p in answer["error"]["problems"]] == ["recipients[0].to", "recipients[1].to"]


def test_data_without_a_template_is_refused_for_that_recipient(batches: Batches) -> None:
    request = batch("a@example.org", "b@example.org")
    request["recipients"][1]["data"] = {"name": "B"}
    status, answer = batches.call("POST", "/batches", request)
    assert status == 202
    assert answer["refused"][0]["index"] == 1
    assert answer["refused"][0]["message"].startswith("data:")


def test_another_apps_batch_is_not_found(batches: Batches) -> None:
    # Given
    _, answer = batches.call("POST", "/batches", batch("a@example.org"))
    # When
    status, other = batches.call("GET", f"/batches/{answer['batch_id']}", role="billing-app")
    cancel, _ = batches.call("DELETE", f"/batches/{answer['batch_id']}", role="billing-app")
    # Then
    assert status == 404
    assert other["error"]["code"] == "batch_not_found"
    assert cancel == 404


# ---- the worker ------------------------------------------------------------------------------


def test_the_worker_sends_each_recipient_once_and_the_batch_ends_done_with_exact_counts(
    batches: Batches, quota: Stubber
) -> None:
    # Given: 120 recipients (three chunks), one invalid, two suppressed
    to = [f"r{i}@example.org" for i in range(120)]
    to[7] = "invalid@"
    suppress(batches.stack.store, "r3@example.org", Reason.HARD_BOUNCE)
    suppress(batches.stack.store, "r90@example.org", Reason.COMPLAINT)
    _, accepted = batches.call("POST", "/batches", batch(*to))
    for _ in range(3):
        quota.add_response("get_account", account())
    # When
    batches.drain()
    # Then
    _, shown = batches.call("GET", f"/batches/{accepted['batch_id']}")
    assert (shown["state"], shown["sent"], shown["suppressed"], shown["refused"], shown["failed"]) == (
        "done",
        117,
        2,
        1,
        0,
    )
    assert shown["pending"] == 0
    assert shown["finished_at"] is not None
    expected = sorted(set(to) - {"invalid@", "r3@example.org", "r90@example.org"})
    assert sorted(delivered()) == expected


def test_a_chunk_received_twice_mails_nobody_twice(batches: Batches, quota: Stubber) -> None:
    # Given: the batch sent, and its first chunk put on the queue again (SQS delivers at least once)
    _, accepted = batches.call("POST", "/batches", batch(*(f"r{i}@example.org" for i in range(10))))
    sqs = boto3.client("sqs", region_name=region())
    (message,) = sqs.receive_message(QueueUrl=batches.queue_url)["Messages"]
    sqs.send_message(QueueUrl=batches.queue_url, MessageBody=message["Body"])
    sqs.send_message(QueueUrl=batches.queue_url, MessageBody=message["Body"])
    sqs.delete_message(QueueUrl=batches.queue_url, ReceiptHandle=message["ReceiptHandle"])
    quota.add_response("get_account", account())
    quota.add_response("get_account", account())
    # When
    batches.drain()
    # Then
    assert len(delivered()) == 10
    _, shown = batches.call("GET", f"/batches/{accepted['batch_id']}")
    assert (shown["state"], shown["sent"]) == ("done", 10)


# ---- batch.done ----------------------------------------------------------------------------------


def batches_done(tap: BusTap) -> list[dict[str, Any]]:
    return [e["detail"] for e in tap.drain() if e["detail-type"] == "batch.done"]


def test_a_batch_sent_to_the_end_publishes_one_batch_done_with_its_exact_counts_and_no_address(
    batches: Batches, quota: Stubber
) -> None:
    # Given: 70 recipients (two chunks), one invalid, one suppressed, and a tap on the stack's bus
    tap = BusTap(batches.stack.refs["EventBus"])
    to = [f"r{i}@example.org" for i in range(70)]
    to[5] = "invalid@"
    suppress(batches.stack.store, "r60@example.org", Reason.HARD_BOUNCE)
    _, accepted = batches.call("POST", "/batches", batch(*to, tags={"campaign": "2026-11"}))
    for _ in range(2):
        quota.add_response("get_account", account())
    # When
    batches.drain()
    # Then: one batch.done, whose counts are GET's
    (done,) = batches_done(tap)
    _, shown = batches.call("GET", f"/batches/{accepted['batch_id']}")
    assert done["batch_id"] == accepted["batch_id"]
    assert (done["state"], done["app"], done["stream"], done["tags"]) == (
        "done",
        "news-app",
        "transactional",
        {"campaign": "2026-11"},
    )
    counts = ("total", "sent", "suppressed", "failed", "refused", "cancelled")
    assert {k: done[k] for k in counts} == {
        "total": 70,
        "sent": 68,
        "suppressed": 1,
        "failed": 0,
        "refused": 1,
        "cancelled": 0,
    }
    assert {k: shown[k] for k in counts} == {k: done[k] for k in counts}
    assert done["created_at"].rstrip("Z") == shown["created_at"].rstrip("Z").removesuffix(".000000")
    assert done["finished_at"] is not None
    assert (done["address"], done["message_id"]) == (None, None)
    assert "@" not in json.dumps(done)


def test_a_chunk_received_again_after_the_batch_ended_publishes_no_second_batch_done(
    batches: Batches, quota: Stubber
) -> None:
    # Given: a one-chunk batch, its message kept (SQS may deliver it again), sent to the end
    tap = BusTap(batches.stack.refs["EventBus"])
    _, accepted = batches.call("POST", "/batches", batch(*(f"r{i}@example.org" for i in range(5))))
    sqs = boto3.client("sqs", region_name=region())
    (message,) = sqs.receive_message(QueueUrl=batches.queue_url)["Messages"]
    quota.add_response("get_account", account())
    quota.add_response("get_account", account())
    assert batches.invoke_worker(message) == {"batchItemFailures": []}
    # When: the worker is handed the same message again (a retried invocation)
    assert batches.invoke_worker(message) == {"batchItemFailures": []}
    # Then: nobody mailed twice, and the batch's end told once
    assert len(delivered()) == 5
    (done,) = batches_done(tap)
    assert (done["batch_id"], done["state"], done["sent"]) == (accepted["batch_id"], "done", 5)


def test_a_cancelled_batch_publishes_batch_done_cancelled_when_its_last_recipient_is_settled(
    batches: Batches, quota: Stubber
) -> None:
    # Given: a batch of two chunks, cancelled before the worker took any
    tap = BusTap(batches.stack.refs["EventBus"])
    _, accepted = batches.call("POST", "/batches", batch(*(f"r{i}@example.org" for i in range(60))))
    batches.call("DELETE", f"/batches/{accepted['batch_id']}")
    # When: the worker reaches the first chunk, then the second
    batches.drain(max_messages=1)
    first = batches_done(tap)
    batches.drain()
    # Then: nothing until its last pending recipient is settled, then one batch.done, cancelled
    assert first == []
    (done,) = batches_done(tap)
    assert (done["state"], done["cancelled"], done["sent"], done["total"]) == ("cancelled", 60, 0, 60)


def test_a_batch_cancelled_as_its_last_recipient_is_settled_ends_cancelled_and_tells_it_once(
    batches: Batches, quota: Stubber, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given: a DELETE that lands between the worker's last settle and its ending the batch
    tap = BusTap(batches.stack.refs["EventBus"])
    _, accepted = batches.call("POST", "/batches", batch("r0@example.org", "r1@example.org"))
    store = wiring.bulk_worker().store
    real_set_state = store.set_state

    def cancelled_first(batch_id: str, state: Any, *args: Any, **kwargs: Any) -> bool:
        if state.value == "done":
            batches.call("DELETE", f"/batches/{batch_id}")
        return real_set_state(batch_id, state, *args, **kwargs)

    monkeypatch.setattr(store, "set_state", cancelled_first)
    quota.add_response("get_account", account())
    # When
    batches.drain()
    # Then: both were sent; the batch is cancelled, and its end is told once, as cancelled
    _, shown = batches.call("GET", f"/batches/{accepted['batch_id']}")
    assert (shown["state"], shown["sent"], shown["pending"]) == ("cancelled", 2, 0)
    (done,) = batches_done(tap)
    assert (done["state"], done["sent"], done["cancelled"]) == ("cancelled", 2, 0)


def test_a_bus_that_will_not_take_batch_done_leaves_the_batch_done_and_is_counted(
    batches: Batches,
    quota: Stubber,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    # Given: the bus fails every entry, every time
    def refuse(self: EventBus, events: Any) -> None:
        raise EventsNotPublished("down", ids=[e.id for e in events])

    monkeypatch.setattr(EventBus, "publish", refuse)
    _, accepted = batches.call("POST", "/batches", batch("r0@example.org", "r1@example.org"))
    quota.add_response("get_account", account())
    # When (drain asserts that the worker failed no message)
    batches.drain()
    # Then: the batch is done all the same, and the refusal is logged and counted
    _, shown = batches.call("GET", f"/batches/{accepted['batch_id']}")
    assert (shown["state"], shown["sent"]) == ("done", 2)
    assert "events not published" in caplog.messages
    assert '"EventsNotPublished":[1.0]' in capsys.readouterr().out


def test_a_recipient_claimed_by_a_worker_that_stopped_is_never_sent_again(
    batches: Batches, quota: Stubber
) -> None:
    # Given: a worker claimed r1 and stopped before SES answered (its record says so)
    _, accepted = batches.call("POST", "/batches", batch("r0@example.org", "r1@example.org"))
    store = wiring.bulk_worker().store
    from datetime import UTC, datetime, timedelta

    assert store.claim(accepted["batch_id"], 1, datetime.now(UTC) + timedelta(days=1)).won
    quota.add_response("get_account", account())
    # When: the chunk is received again
    batches.drain()
    # Then: r1 is reported as interrupted, not mailed
    assert delivered() == ["r0@example.org"]
    _, shown = batches.call("GET", f"/batches/{accepted['batch_id']}")
    assert (shown["state"], shown["sent"], shown["failed"]) == ("done", 1, 1)
    assert shown["failures"] == [
        {"to": "r1@example.org", "code": "interrupted", "message": shown["failures"][0]["message"]}
    ]


def test_ses_throttling_puts_the_rest_back_and_fails_nobody(
    batches: Batches, quota: Stubber, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given: SES throttles every third send (after botocore's own retries)
    _, accepted = batches.call("POST", "/batches", batch(*(f"r{i}@example.org" for i in range(6))))
    sender = wiring.bulk_worker().sender
    real_send = sender.send
    calls = {"n": 0}

    def sometimes_throttled(*args: Any, **kwargs: Any) -> Any:
        calls["n"] += 1
        if calls["n"] % 3 == 0:
            raise SendingThrottled("SES is throttling sends (Throttling); retry later")
        return real_send(*args, **kwargs)

    monkeypatch.setattr(sender, "send", sometimes_throttled)
    monkeypatch.setattr("ses_feedback.usecases.batches.THROTTLED_DELAY_SECONDS", 0)
    for _ in range(10):
        quota.add_response("get_account", account())
    # When
    batches.drain()
    # Then
    assert sorted(delivered()) == sorted(f"r{i}@example.org" for i in range(6))
    _, shown = batches.call("GET", f"/batches/{accepted['batch_id']}")
    assert (shown["state"], shown["sent"], shown["failed"]) == ("done", 6, 0)


def test_a_batch_that_would_pass_the_24_hour_quota_waits_and_says_so(
    batches: Batches, quota: Stubber
) -> None:
    # Given: the bulk share of the quota (0.8 x 100) is all but used
    _, accepted = batches.call("POST", "/batches", batch(*(f"r{i}@example.org" for i in range(5))))
    quota.add_response("get_account", account(max_24h=100, sent=78))
    # When
    sqs = boto3.client("sqs", region_name=region())
    batches.drain(max_messages=1)
    # Then: nothing sent, the chunk is back on the queue (delayed), the batch says why
    assert delivered() == []
    _, shown = batches.call("GET", f"/batches/{accepted['batch_id']}")
    assert shown["state"] == "waiting_quota"
    assert shown["waiting_until"] is not None
    attributes = sqs.get_queue_attributes(QueueUrl=batches.queue_url, AttributeNames=["All"])["Attributes"]
    assert attributes["ApproximateNumberOfMessagesDelayed"] == "1"


def test_delete_cancels_what_is_not_yet_sent(batches: Batches, quota: Stubber) -> None:
    # Given
    _, accepted = batches.call("POST", "/batches", batch(*(f"r{i}@example.org" for i in range(60))))
    # When
    status, cancelled = batches.call("DELETE", f"/batches/{accepted['batch_id']}")
    batches.drain()
    # Then
    assert status == 200
    assert cancelled["state"] == "cancelled"
    assert delivered() == []
    _, shown = batches.call("GET", f"/batches/{accepted['batch_id']}")
    assert (shown["state"], shown["cancelled"], shown["pending"]) == ("cancelled", 60, 0)


def test_only_a_permanent_ses_refusal_fails_a_recipient_and_an_ses_server_error_is_tried_again(
    batches: Batches, quota: Stubber, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given: SES rejects r1's message (a virus, say) and answers r3's first try with a 500
    from botocore.exceptions import ClientError
    from ses_feedback.errors import MessageRejected, SesFailure

    _, accepted = batches.call("POST", "/batches", batch(*(f"r{i}@example.org" for i in range(5))))
    sender = wiring.bulk_worker().sender
    real_send = sender.send
    server_errors = {"left": 1}

    def refusing(request: Any, *args: Any, **kwargs: Any) -> Any:
        to = [given.text for given in request.to]
        if to == ["r1@example.org"]:
            raise MessageRejected("SES rejected the message: virus")
        if to == ["r3@example.org"] and server_errors["left"]:
            server_errors["left"] -= 1
            cause = ClientError(
                {"Error": {"Code": "InternalFailure"}, "ResponseMetadata": {"HTTPStatusCode": 500}},
                "SendEmail",
            )
            raise SesFailure("SES refused the request (InternalFailure)") from cause
        return real_send(request, *args, **kwargs)

    monkeypatch.setattr(sender, "send", refusing)
    monkeypatch.setattr("ses_feedback.usecases.batches.THROTTLED_DELAY_SECONDS", 0)
    for _ in range(4):
        quota.add_response("get_account", account())
    # When
    batches.drain()
    # Then
    _, shown = batches.call("GET", f"/batches/{accepted['batch_id']}")
    assert (shown["state"], shown["sent"], shown["failed"]) == ("done", 4, 1)
    assert [(f["to"], f["code"]) for f in shown["failures"]] == [("r1@example.org", "message_rejected")]
    assert sorted(delivered()) == ["r0@example.org", "r2@example.org", "r3@example.org", "r4@example.org"]


def test_a_bulk_stream_batch_gives_each_recipient_its_own_unsubscribe_link(
    batches: Batches, quota: Stubber
) -> None:
    # Given
    request = batch("a@example.org", "b@example.org", stream="newsletter", text="Hi {{unsubscribe_url}}")
    status, _ = batches.call("POST", "/batches", request)
    assert status == 202
    quota.add_response("get_account", account())
    # When
    batches.drain()
    # Then
    backend = ses_backends[LOCAL_ACCOUNT_ID][region()]
    bodies = [m.body for m in backend.sent_messages]
    assert len(bodies) == 2
    assert all("/unsubscribe/" in body for body in bodies)
    assert bodies[0] != bodies[1]


def test_a_bulk_stream_batch_without_the_placeholder_is_refused_whole(batches: Batches) -> None:
    status, answer = batches.call("POST", "/batches", batch("a@example.org", stream="newsletter"))
    assert status == 400
    assert answer["error"]["field"] == "text"


def test_the_sending_guard_holds_a_batch_while_a_reputation_alarm_fires(
    batches: Batches, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given: the guard on, the bounce-rate alarm in ALARM, and a batch of bulk mail
    cloudwatch = boto3.client("cloudwatch", region_name=region())
    alarms = [batches.stack.local.name(a) for a in ("BounceRateAlarm", "ComplaintRateAlarm")]
    for name in alarms:
        cloudwatch.put_metric_alarm(
            AlarmName=name, Namespace="AWS/SES", MetricName="Reputation.BounceRate", Statistic="Maximum",
            Period=900, EvaluationPeriods=1, Threshold=0.01, ComparisonOperator="GreaterThanThreshold",
        )  # fmt: skip
    cloudwatch.set_alarm_state(AlarmName=alarms[0], StateValue="ALARM", StateReason="test")
    monkeypatch.setenv("SENDING_GUARD", "true")
    monkeypatch.setenv("REPUTATION_ALARM_NAMES", ",".join(alarms))
    wiring.reset()
    newsletter = batch("a@example.org", "b@example.org", stream="newsletter", text="Hi {{unsubscribe_url}}")
    _, accepted = batches.call("POST", "/batches", newsletter)
    stubber = Stubber(wiring.bulk_worker().quota.client)
    stubber.add_response("get_account", account())
    # When
    with stubber:
        batches.drain(max_messages=1)
    # Then: nothing sent, nothing failed, the chunk waits on the queue
    assert delivered() == []
    _, shown = batches.call("GET", f"/batches/{accepted['batch_id']}")
    assert (shown["sent"], shown["failed"], shown["pending"]) == (0, 0, 2)
    sqs = boto3.client("sqs", region_name=region())
    attributes = sqs.get_queue_attributes(QueueUrl=batches.queue_url, AttributeNames=["All"])["Attributes"]
    assert attributes["ApproximateNumberOfMessagesDelayed"] == "1"


def test_each_recipient_of_a_templated_batch_gets_its_own_data(batches: Batches, quota: Stubber) -> None:
    # Given: moto's SES v2 cannot send a templated message, so SES's answers are stubbed on the
    # worker's own client, shaped as SES answers
    request = batch("a@example.org", "b@example.org", subject=None, text=None, template={"name": "news"})
    request["recipients"][0]["data"] = {"name": "A"}
    request["recipients"][1]["data"] = {"name": "B"}
    _, accepted = batches.call("POST", "/batches", request)
    quota.add_response("get_account", account())
    sends: list[dict[str, Any]] = []
    client = wiring.bulk_worker().sender.ses.client
    client.meta.events.register(
        "before-parameter-build.sesv2.SendEmail", lambda params, **_: sends.append(params)
    )
    # When
    with Stubber(client) as ses:
        ses.add_response("send_email", {"MessageId": "templated-a"})
        ses.add_response("send_email", {"MessageId": "templated-b"})
        batches.drain()
    # Then
    assert [json.loads(s["Content"]["Template"]["TemplateData"]) for s in sends] == [
        {"name": "A"},
        {"name": "B"},
    ]
    assert {s["Content"]["Template"]["TemplateName"] for s in sends} == {"news"}
    _, shown = batches.call("GET", f"/batches/{accepted['batch_id']}")
    assert (shown["state"], shown["sent"]) == ("done", 2)


# ---- when the queue fails ----------------------------------------------------------------------
# moto's SQS cannot be told to fail, so SQS's failures are played by wrapping the API function's
# own SQS client (what SQS answers: entries in `Failed`, or an error after botocore's retries);
# the chunks it does take go to moto's queue as usual.


def fail_sqs(
    batches: Batches, monkeypatch: pytest.MonkeyPatch, refuse: Callable[[dict[str, Any]], bool] | None
) -> None:
    """SendMessageBatch refuses the entries ``refuse`` picks (every time), or every call with a
    500 when ``refuse`` is None; the store's retry policy without its pauses."""
    from botocore.exceptions import ClientError
    from ses_feedback.retry import RetryPolicy

    queue = wiring.batches().queue
    monkeypatch.setattr(queue, "retry", RetryPolicy(attempts=3, sleep=lambda seconds: None))
    real = queue.client.send_message_batch

    def failing(**call: Any) -> Any:
        if refuse is None:
            raise ClientError(
                {"Error": {"Code": "InternalError"}, "ResponseMetadata": {"HTTPStatusCode": 500}},
                "SendMessageBatch",
            )
        kept = [e for e in call["Entries"] if not refuse(json.loads(e["MessageBody"]))]
        answer = real(QueueUrl=call["QueueUrl"], Entries=kept) if kept else {"Successful": []}
        failed = [
            {"Id": e["Id"], "SenderFault": False, "Code": "InternalError"}
            for e in call["Entries"]
            if e not in kept
        ]
        return {**answer, "Failed": failed}

    monkeypatch.setattr(queue.client, "send_message_batch", failing)


def test_a_batch_the_queue_fails_part_way_ends_with_exact_counts_and_the_caller_is_told_which(
    batches: Batches, quota: Stubber, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given: 160 recipients (four chunks), index 60 refused, and SQS refusing the second chunk
    # (accepted recipients 50-100) every time
    to = [f"r{i}@example.org" for i in range(160)]
    to[60] = "invalid@"
    fail_sqs(batches, monkeypatch, lambda chunk: chunk["recipients"][0]["index"] == 50)
    # When
    status, answer = batches.call("POST", "/batches", batch(*to))
    # Then: 503 naming the batch, what was queued and which recipients were not
    assert status == 503
    assert answer["error"]["code"] == "queue_unavailable"
    message = answer["error"]["message"]
    (batch_id,) = [word for word in message.split() if len(word) == 32]
    assert "queued 109 of its 159 recipients" in message
    assert "at indexes 50-100;" in message
    assert "not the whole request" in message
    # each recipient not queued is a problem of its own, by its index in the request
    assert [p["field"] for p in answer["error"]["problems"]] == [
        f"recipients[{i}]" for i in range(50, 101) if i != 60
    ]
    # And: the worker sends what was queued; the batch ends done, its counts adding up
    for _ in range(3):
        quota.add_response("get_account", account())
    batches.drain()
    _, shown = batches.call("GET", f"/batches/{batch_id}")
    assert (shown["state"], shown["sent"], shown["failed"], shown["refused"], shown["pending"]) == (
        "done",
        109,
        50,
        1,
        0,
    )
    assert shown["total"] == shown["sent"] + shown["failed"] + shown["refused"]
    assert {f["code"] for f in shown["failures"]} == {"not_queued"}
    assert sorted(f["to"] for f in shown["failures"]) == sorted(
        f"r{i}@example.org" for i in range(50, 101) if i != 60
    )
    assert sorted(delivered()) == sorted(f"r{i}@example.org" for i in (*range(50), *range(101, 160)))


def test_a_batch_the_queue_takes_none_of_is_done_at_once_and_may_be_sent_again(
    batches: Batches, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given: SQS failing every call
    fail_sqs(batches, monkeypatch, None)
    tap = BusTap(batches.stack.refs["EventBus"])
    # When
    status, answer = batches.call("POST", "/batches", batch(*(f"r{i}@example.org" for i in range(60))))
    # Then
    assert status == 503
    message = answer["error"]["message"]
    assert "queued none of its 60 recipients" in message
    assert message.endswith("send the request again")
    (batch_id,) = [word for word in message.split() if len(word) == 32]
    _, shown = batches.call("GET", f"/batches/{batch_id}")
    assert (shown["state"], shown["failed"], shown["pending"]) == ("done", 60, 0)
    assert shown["finished_at"] is not None
    # and the API function, which ended the batch, told it once
    (done,) = batches_done(tap)
    assert (done["batch_id"], done["state"], done["failed"], done["sent"]) == (batch_id, "done", 60, 0)


def test_the_cli_names_the_file_lines_the_queue_did_not_take_and_those_it_never_sent(
    batches: Batches, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given: a CSV of 170 recipients with a bad line (line 4) among them, sent as batches of 120
    # (the CLI's 10,000, made small), the CLI's REST API calls answered by the API function
    # in-process, and SQS refusing every chunk that starts at index 50 of a request
    from ses_feedback_cli.commands import batches_cmd
    from ses_feedback_cli.main import main

    lines = ["to", "r0@example.org", "r1@example.org", "bad@example.org,a second cell"]
    lines += [f"r{i}@example.org" for i in range(2, 170)]
    csv_file = tmp_path / "list.csv"
    csv_file.write_text("\n".join(lines) + "\n")
    monkeypatch.setattr(batches_cmd, "MAX_BATCH_RECIPIENTS", 120)
    monkeypatch.setattr(
        wiring, "rest_api_call", lambda base, method, path, body=None: batches.call(method, path, body)
    )
    fail_sqs(batches, monkeypatch, lambda chunk: chunk["recipients"][0]["index"] == 50)
    # When
    status = main(
        ["batches", "send", "--from", "news@example.com", "--subject", "Hi", "--text", "Hello",
         "--recipients", str(csv_file), "--api", "http://api.invalid", "--no-wait"]
    )  # fmt: skip
    # Then: refused (exit 1) with the API's message, then the file's lines to send again: the
    # first batch's recipients 50-99 (r50 is on line 53), and the second batch's, never sent
    errors = capsys.readouterr().err
    assert status == 1
    assert "refused (queue_unavailable): the batch queue kept failing" in errors
    assert "queued 70 of its 120 recipients" in errors
    assert (
        f"  not queued (send those lines again, not the whole file: the others are sent): {csv_file} "
        "lines 53-102\n"
    ) in errors
    assert f"  not sent (the batches after it): {csv_file} lines 123-172\n" in errors
    # and the request indexes are not listed one per line
    assert "recipients[50]" not in errors


class TakenAfterAll:
    """A queue edge whose last chunk SQS stored although the call failed (a timeout after SQS
    answered): every chunk goes to the real queue, then ``NotQueued`` names the last one.
    ``before_raising`` runs in between (a worker that gets to the chunk first)."""

    def __init__(self, real: Any, before_raising: Callable[[], object]) -> None:
        self.real = real
        self.before_raising = before_raising

    def put(self, messages: Any, delay_seconds: int = 0) -> int:
        from ses_feedback.edges.batch_queue import NotQueued

        sent = list(messages)
        self.real.put(sent, delay_seconds)
        self.before_raising()
        raise NotQueued(sent[-1:], len(sent) - 1, "ReadTimeoutError")


@pytest.mark.parametrize("worker_first", [True, False], ids=["worker-first", "withdrawn-first"])
def test_a_chunk_the_queue_took_after_all_is_sent_or_withdrawn_never_both(
    batches: Batches, quota: Stubber, worker_first: bool
) -> None:
    # Given: the queue edge injected through the use case's constructor (the race needs a worker
    # to run between SQS storing the chunk and the API hearing it failed)
    from ses_feedback.errors import BatchNotQueued
    from ses_feedback.parsing.batch_request import BatchRequest
    from ses_feedback.usecases.batches import Batches as BatchesUseCase

    for _ in range(3):
        quota.add_response("get_account", account())
    real = wiring.batches()
    drain = batches.drain if worker_first else lambda: 0
    use_case = BatchesUseCase(
        store=real.store, queue=TakenAfterAll(real.queue, drain), sender=real.sender, retention=real.retention
    )
    request = BatchRequest.model_validate(batch(*(f"r{i}@example.org" for i in range(70))))
    # When
    if worker_first:
        # Then: every chunk reached a worker, so the batch is simply accepted
        batch_id = use_case.create(request, "news-app").batch_id
    else:
        # Then: the last chunk's 20 recipients are counted not queued, and the caller is told
        with pytest.raises(BatchNotQueued) as refused:
            use_case.create(request, "news-app")
        assert "queued 50 of its 70 recipients" in refused.value.message
        assert "at indexes 50-69;" in refused.value.message
        batch_id = next(word for word in refused.value.message.split() if len(word) == 32)
    batches.drain()
    # And: each recipient has one outcome, and the mailbox agrees with the counts
    _, shown = batches.call("GET", f"/batches/{batch_id}")
    assert (shown["state"], shown["pending"]) == ("done", 0)
    assert shown["sent"] + shown["failed"] == 70
    assert len(delivered()) == len(set(delivered())) == shown["sent"]
    assert shown["sent"] == (70 if worker_first else 50)


# ---- chunks the worker cannot deal with --------------------------------------------------------


def receive_until_dead_lettered(batches: Batches) -> list[list[dict[str, str]]]:
    """The event source mapping as SQS drives it: a failed record is received again (its
    visibility timeout shortened to 0 here) until the redrive policy moves it to the DLQ."""
    sqs = boto3.client("sqs", region_name=region())
    answers = []
    while messages := sqs.receive_message(QueueUrl=batches.queue_url, VisibilityTimeout=0).get("Messages"):
        (message,) = messages
        answer = batches.invoke_worker(message)
        answers.append(answer["batchItemFailures"])
    return answers


@pytest.mark.parametrize("fault", ["unknown batch", "DynamoDB failing"])
def test_a_chunk_the_worker_keeps_failing_ends_in_the_batch_dlq(
    batches: Batches, quota: Stubber, monkeypatch: pytest.MonkeyPatch, fault: str
) -> None:
    # Given: a chunk whose batch has no record, or a batch whose table keeps failing
    from botocore.exceptions import ClientError
    from ses_feedback.parsing.batch_request import Chunk, ChunkRecipient

    chunk = Chunk(batch_id="f" * 32, recipients=[ChunkRecipient(index=0, to="r0@example.org")])
    sqs = boto3.client("sqs", region_name=region())
    if fault == "unknown batch":
        sqs.send_message(QueueUrl=batches.queue_url, MessageBody=chunk.model_dump_json())
    else:
        batches.call("POST", "/batches", batch("r0@example.org"))

        def unavailable(**_: Any) -> Any:
            raise ClientError({"Error": {"Code": "InternalServerError"}}, "GetItem")

        monkeypatch.setattr(wiring.bulk_worker().store.client, "get_item", unavailable)
    max_receives = int(batches.stack.local.template["Parameters"]["BatchMaxReceiveCount"]["Default"])
    # When
    answers = receive_until_dead_lettered(batches)
    # Then: failed each time it was received, never dropped, and now in the DLQ; nobody mailed
    assert len(answers) == max_receives
    assert all(len(failures) == 1 for failures in answers)
    dlq = batches.stack.refs["BatchDeadLetterQueue"]
    assert len(sqs.receive_message(QueueUrl=dlq, MaxNumberOfMessages=10).get("Messages", [])) == 1
    assert delivered() == []
