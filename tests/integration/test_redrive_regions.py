"""`ses-feedback redrive` in a replica region, on in-process moto over two regions.

A replica-region stack (``HomeRegion`` set) has no feedback queue: what its SNS subscription
cannot deliver to the home's queue waits in its own dead-letter queue, and a redrive moves it
to the home region's feedback queue (receive here, send there, delete what was sent).
"""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from ses_feedback import wiring
from ses_feedback.edges.queues import Queues
from ses_feedback.usecases.redrive import DeadLetters, MoveTaskInOneRegion
from ses_feedback_cli.main import main
from ses_feedback_stack.names import LOCAL_ACCOUNT_ID, LocalStack

from tests.support import ses_events as b
from tests.support.regions import HOME, REPLICA, bootstrapped

PREFIX = "rd"
QUEUE, DLQ = f"{PREFIX}-FeedbackQueue", f"{PREFIX}-FeedbackDeadLetterQueue"


def aws_url(region: str, name: str) -> str:
    """A deployed queue's URL, as its stack output gives it (the region in its host)."""
    return f"https://sqs.{region}.amazonaws.com/{LOCAL_ACCOUNT_ID}/{name}"


@pytest.fixture
def stacks(empty_aws: None) -> list[LocalStack]:
    return bootstrapped(PREFIX)


def sqs(region: str) -> Any:
    return boto3.client("sqs", region_name=region)


def dead_letter(region: str, *bodies: str, attributes: dict[str, Any] | None = None) -> None:
    for body in bodies:
        sqs(region).send_message(
            QueueUrl=aws_url(region, DLQ), MessageBody=body, MessageAttributes=attributes or {}
        )


def drain(region: str, name: str) -> list[dict[str, Any]]:
    """Every message of a queue, received once and deleted (so none is counted twice)."""
    client, url, taken = sqs(region), aws_url(region, name), []
    while batch := client.receive_message(
        QueueUrl=url, MaxNumberOfMessages=10, MessageAttributeNames=["All"]
    ).get("Messages", []):
        taken += batch
        client.delete_message_batch(
            QueueUrl=url,
            Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(batch)],
        )
    return taken


def held(region: str, name: str) -> int:
    """Messages in a queue, visible or held out of sight by a receive."""
    counts = sqs(region).get_queue_attributes(
        QueueUrl=aws_url(region, name),
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return sum(int(value) for value in counts.values())


def bodies(count: int) -> list[str]:
    return [json.dumps(b.sns_envelope(b.bounce([f"user{i}@example.com"]))) for i in range(count)]


def replica_dead_letters() -> DeadLetters:
    return wiring.dead_letters_for(aws_url(HOME, QUEUE), aws_url(REPLICA, DLQ), REPLICA, HOME)


def run_cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    status = main(["--prefix", PREFIX, "--region", REPLICA, "redrive", *args])
    out, err = capsys.readouterr()
    return status, out, err


def test_a_replica_regions_dead_letters_end_in_the_home_queue_each_once(stacks: list[LocalStack]) -> None:
    # Given: 23 messages SNS could not deliver from eu-west-1 (three batches' worth), with the
    # attributes SNS puts on a dead letter
    sent = bodies(23)
    dead_letter(REPLICA, *sent, attributes={"ErrorCode": {"DataType": "String", "StringValue": "403"}})
    # When
    result = replica_dead_letters().redrive()
    # Then: every one is in us-east-1's feedback queue, once, with its attributes, and none is
    # left in eu-west-1's dead-letter queue (nor went to us-east-1's)
    assert (result.method, result.moved, result.dead_letter_queue_depth_before) == ("loop", 23, 23)
    arrived = drain(HOME, QUEUE)
    assert sorted(m["Body"] for m in arrived) == sorted(sent)
    assert all(m["MessageAttributes"]["ErrorCode"]["StringValue"] == "403" for m in arrived)
    assert held(REPLICA, DLQ) == 0
    assert held(HOME, DLQ) == 0


def test_auto_takes_the_loop_across_regions_without_trying_the_move_task(
    stacks: list[LocalStack], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given: SQS's move task, which would fail the test if it were asked (it stays in one region)
    def no_move_task(*args: Any) -> str:
        pytest.fail("the move task was tried across regions")

    monkeypatch.setattr(Queues, "start_move_task", no_move_task)
    dead_letter(REPLICA, *bodies(3))
    # When
    result = replica_dead_letters().redrive(method="auto")
    # Then
    assert (result.method, result.moved) == ("loop", 3)
    assert len(drain(HOME, QUEUE)) == 3


def test_max_moves_at_most_n_across_regions(stacks: list[LocalStack]) -> None:
    dead_letter(REPLICA, *bodies(15))
    result = replica_dead_letters().redrive(limit=12)
    assert result.moved == 12
    assert (held(REPLICA, DLQ), len(drain(HOME, QUEUE))) == (3, 12)


def test_nothing_is_deleted_when_the_home_queue_takes_nothing(stacks: list[LocalStack]) -> None:
    # Given: the home queue is gone (a home stack deleted, a wrong --queue-url)
    sqs(HOME).delete_queue(QueueUrl=aws_url(HOME, QUEUE))
    dead_letter(REPLICA, *bodies(4))
    # When / Then: the send fails, and every message is still in the DLQ (held out of sight
    # for a while by the receive, then visible again)
    with pytest.raises(ClientError, match=r"NonExistentQueue|QueueDoesNotExist"):
        replica_dead_letters().redrive(method="loop")
    assert held(REPLICA, DLQ) == 4


def test_move_task_across_regions_is_refused_before_anything_moves(stacks: list[LocalStack]) -> None:
    dead_letter(REPLICA, *bodies(2))
    with pytest.raises(MoveTaskInOneRegion, match=f"in {REPLICA}, the feedback queue in {HOME}"):
        replica_dead_letters().redrive(method="move-task")
    assert held(REPLICA, DLQ) == 2


def test_the_cli_moves_a_deployed_replicas_dead_letters_to_the_queue_its_url_names(
    stacks: list[LocalStack], capsys: pytest.CaptureFixture[str]
) -> None:
    # Given
    sent = bodies(3)
    dead_letter(REPLICA, *sent)
    urls = ("--queue-url", aws_url(HOME, QUEUE), "--dlq-url", aws_url(REPLICA, DLQ))
    # When
    status, out, _ = run_cli(capsys, *urls, "--json")
    # Then
    assert status == 0
    assert json.loads(out) == {
        "method": "loop",
        "dead_letter_queue_depth_before": 3,
        "moved": 3,
        "regions": {"dead_letter_queue": REPLICA, "feedback_queue": HOME},
    }
    assert sorted(m["Body"] for m in drain(HOME, QUEUE)) == sorted(sent)
    assert held(REPLICA, DLQ) == 0


def test_the_cli_on_a_local_replica_stack_uses_its_dlq_and_the_home_stacks_queue(
    stacks: list[LocalStack], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given: a shell in the replica region (its functions' HOME_REGION; `local up --regions`
    # records it with the stack, which in-process moto cannot serve: see the e2e)
    monkeypatch.setenv("HOME_REGION", HOME)
    dead_letter(REPLICA, *bodies(2))
    # When: first a look, then the move
    status, out, _ = run_cli(capsys, "--dry-run", "--json")
    assert (status, json.loads(out)["dead_letter_queue_depth"]) == (0, 2)
    assert held(REPLICA, DLQ) == 2
    status, out, _ = run_cli(capsys)
    # Then
    assert status == 0
    assert f"moved 2 of 2 message(s) back to the feedback queue in {HOME} (from {REPLICA}'s" in out
    assert (held(REPLICA, DLQ), len(drain(HOME, QUEUE))) == (0, 2)


def test_the_cli_refuses_the_move_task_across_regions(
    stacks: list[LocalStack], capsys: pytest.CaptureFixture[str]
) -> None:
    dead_letter(REPLICA, *bodies(1))
    urls = ("--queue-url", aws_url(HOME, QUEUE), "--dlq-url", aws_url(REPLICA, DLQ))
    status, out, err = run_cli(capsys, *urls, "--method", "move-task")
    assert status == 2 and not out
    assert err == (
        f"error: SQS's message move task moves within one region, and the dead-letter queue is in "
        f"{REPLICA}, the feedback queue in {HOME}: use --method loop (or auto)\n"
    )
    assert held(REPLICA, DLQ) == 1


def test_the_cli_refuses_a_home_queue_url_that_names_no_region(
    stacks: list[LocalStack], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given: a replica region's shell, and the home queue given by an address without its region
    monkeypatch.setenv("HOME_REGION", HOME)
    dead_letter(REPLICA, *bodies(1))
    loopback = f"http://127.0.0.1:5000/{LOCAL_ACCOUNT_ID}/{QUEUE}"
    # When
    status, out, _ = run_cli(capsys, "--queue-url", loopback, "--json")
    # Then: refused (it would be taken for eu-west-1's queue of that name), nothing moved
    assert status == 2
    refusal = json.loads(out)["error"]
    assert refusal["code"] == "invalid_request"
    assert refusal["message"] == (
        f"--queue-url names no region, and the feedback queue is in the home region {HOME}, "
        f"not {REPLICA} (--region): give its https://sqs.{HOME}.amazonaws.com/… URL"
    )
    assert held(REPLICA, DLQ) == 1


def test_a_queue_url_without_a_region_is_taken_in_the_region_when_the_stack_is_the_home(
    stacks: list[LocalStack], capsys: pytest.CaptureFixture[str]
) -> None:
    # Given: the home region, its queues named by loopback addresses (a local endpoint)
    dead_letter(HOME, *bodies(2))
    local = f"http://127.0.0.1:5000/{LOCAL_ACCOUNT_ID}/"
    # When
    status = main(
        [
            "--prefix",
            PREFIX,
            "--region",
            HOME,
            "redrive",
            "--queue-url",
            local + QUEUE,
            "--dlq-url",
            local + DLQ,
        ]
    )
    # Then
    assert status == 0
    assert (held(HOME, DLQ), len(drain(HOME, QUEUE))) == (0, 2)
