"""`ses-feedback redrive` against the template's queues in moto (in-process).

moto has no SQS message move task (StartMessageMoveTask raises NotImplementedError), so
the move-task path is checked with botocore's Stubber on a real client, and moto plays
everything the loop does.
"""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from ses_feedback.edges.queues import Queues
from ses_feedback.usecases.redrive import DeadLetters, NoMoveTask
from ses_feedback_cli.main import main

from tests.conftest import EMAIL
from tests.integration.conftest import Stack
from tests.support import ses_events as b


def queue_depth(sqs: Any, url: str) -> int:
    return Queues(client=sqs).depth(url)


def dead_letters(stack: Stack, sqs: Any | None = None) -> DeadLetters:
    queues = Queues(client=sqs or boto3.client("sqs"))
    return DeadLetters(queues, stack.refs["FeedbackDeadLetterQueue"], queues, stack.refs["FeedbackQueue"])


def dead_letter(stack: Stack, *bodies: str) -> None:
    sqs = boto3.client("sqs")
    for body in bodies:
        sqs.send_message(QueueUrl=stack.refs["FeedbackDeadLetterQueue"], MessageBody=body)


def sns_body(message: dict[str, Any] | str) -> str:
    return json.dumps(b.sns_envelope(message))


def run_cli(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    assert main(["--prefix", "it", *args]) == 0
    return capsys.readouterr().out


def test_dry_run_shows_type_ids_and_error_without_addresses_and_moves_nothing(
    stack: Stack, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given: a bounce that failed for a transient reason, and two that never will parse
    bounce = b.bounce(["victim@example.com"], message_id="0100-ses-id-1")
    dead_letter(
        stack,
        sns_body(bounce),
        sns_body("this is not SES feedback"),
        sns_body({"eventType": "Bounce", "mail": b.mail(["other@example.com"])}),
    )
    # When
    out = run_cli(capsys, "redrive", "--dry-run", "--json")
    # Then
    answer = json.loads(out)
    assert answer["dead_letter_queue_depth"] == 3
    assert answer["parse_now"] == 1 and answer["invalid"] == 2
    by_type = {m["event_type"]: m for m in answer["messages"]}
    assert by_type["Bounce"]["ses_message_id"] == "0100-ses-id-1"
    assert by_type["Bounce"]["error"] is None
    errors = sorted(m["error"] for m in answer["messages"] if m["error"])
    assert any("a Bounce notification needs its 'bounce' object" in e for e in errors)
    assert any(e.startswith("not JSON") for e in errors)
    assert all(m["sns_message_id"] for m in answer["messages"])
    assert not EMAIL.search(out)
    # ... and every message is still there, visible for a redrive right away
    assert queue_depth(boto3.client("sqs"), stack.refs["FeedbackDeadLetterQueue"]) == 3


def test_dry_run_describes_a_body_nested_too_deep_for_json(
    stack: Stack, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given: the body FeedbackFunction failed because json cannot read it (nested too deep)
    dead_letter(stack, "[" * 100_000 + "]" * 100_000, sns_body(b.complaint(["someone@example.com"])))
    # When
    answer = json.loads(run_cli(capsys, "redrive", "--dry-run", "--json"))
    # Then it is described like any other unreadable message, and the other one too
    assert (answer["invalid"], answer["parse_now"]) == (1, 1)
    assert any(m["error"] == "not JSON that can be read: nested too deep" for m in answer["messages"])


def test_dry_run_text_output_names_no_address(stack: Stack, capsys: pytest.CaptureFixture[str]) -> None:
    dead_letter(stack, sns_body(b.complaint(["someone@example.com"])), "garbage")
    out = run_cli(capsys, "redrive", "--dry-run")
    assert "dead-letter queue: 2 message(s)" in out
    assert "Complaint" in out and "(unparseable)" in out
    assert not EMAIL.search(out)


def test_redrive_falls_back_to_the_loop_where_there_is_no_move_task_and_moves_everything(
    stack: Stack, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given
    bodies = [sns_body(b.bounce([f"user{i}@example.com"])) for i in range(23)]
    dead_letter(stack, *bodies)
    # When
    answer = json.loads(run_cli(capsys, "redrive", "--json"))
    # Then
    assert answer == {"method": "loop", "dead_letter_queue_depth_before": 23, "moved": 23}
    sqs = boto3.client("sqs")
    assert queue_depth(sqs, stack.refs["FeedbackDeadLetterQueue"]) == 0
    moved = []
    while batch := sqs.receive_message(QueueUrl=stack.refs["FeedbackQueue"], MaxNumberOfMessages=10).get(
        "Messages", []
    ):
        moved += [m["Body"] for m in batch]
    assert sorted(moved) == sorted(bodies)


def test_redrive_max_moves_at_most_n(stack: Stack) -> None:
    dead_letter(stack, *(sns_body(b.delivery([f"u{i}@example.com"])) for i in range(15)))
    sqs = boto3.client("sqs")
    result = dead_letters(stack, sqs).redrive(limit=12)
    assert (result.method, result.moved) == ("loop", 12)
    assert queue_depth(sqs, stack.refs["FeedbackDeadLetterQueue"]) == 3
    assert queue_depth(sqs, stack.refs["FeedbackQueue"]) == 12


def test_inspect_respects_its_limit(stack: Stack) -> None:
    dead_letter(stack, *(f"garbage {i}" for i in range(25)))
    inspection = dead_letters(stack).inspect(limit=7)
    assert (inspection.depth, len(inspection.messages)) == (25, 7)


def test_redrive_uses_the_sqs_move_task_where_the_endpoint_has_it() -> None:
    # Given: a real client whose calls are stubbed (moto lacks StartMessageMoveTask)
    sqs = boto3.client("sqs", region_name="us-east-1")
    dlq = "https://sqs.us-east-1.amazonaws.com/123456789012/dlq"
    queue = "https://sqs.us-east-1.amazonaws.com/123456789012/feedback"
    arn = "arn:aws:sqs:us-east-1:123456789012:{}"
    with Stubber(sqs) as stub:
        stub.add_response(
            "get_queue_attributes",
            {"Attributes": {"ApproximateNumberOfMessages": "42"}},
            {"QueueUrl": dlq, "AttributeNames": ["ApproximateNumberOfMessages"]},
        )
        stub.add_response(
            "get_queue_attributes",
            {"Attributes": {"QueueArn": arn.format("dlq")}},
            {"QueueUrl": dlq, "AttributeNames": ["QueueArn"]},
        )
        stub.add_response(
            "get_queue_attributes",
            {"Attributes": {"QueueArn": arn.format("feedback")}},
            {"QueueUrl": queue, "AttributeNames": ["QueueArn"]},
        )
        stub.add_response(
            "start_message_move_task",
            {"TaskHandle": "task-1"},
            {"SourceArn": arn.format("dlq"), "DestinationArn": arn.format("feedback")},
        )
        # When
        queues = Queues(client=sqs)
        result = DeadLetters(queues, dlq, queues, queue).redrive()
        # Then
        stub.assert_no_pending_responses()
    assert result.as_dict() == {
        "method": "move-task",
        "dead_letter_queue_depth_before": 42,
        "task_handle": "task-1",
    }


def test_a_refused_move_task_is_an_error_not_a_silent_fallback() -> None:
    sqs = boto3.client("sqs", region_name="us-east-1")
    dlq = "https://sqs.us-east-1.amazonaws.com/123456789012/dlq"
    with Stubber(sqs) as stub:
        stub.add_response("get_queue_attributes", {"Attributes": {"ApproximateNumberOfMessages": "1"}})
        stub.add_response("get_queue_attributes", {"Attributes": {"QueueArn": "arn:aws:sqs:us-east-1:1:dlq"}})
        stub.add_response("get_queue_attributes", {"Attributes": {"QueueArn": "arn:aws:sqs:us-east-1:1:q"}})
        stub.add_client_error("start_message_move_task", "AccessDenied", http_status_code=403)
        with pytest.raises(Exception, match="AccessDenied"):
            queues = Queues(client=sqs)
            DeadLetters(queues, dlq, queues, "https://sqs.us-east-1.amazonaws.com/1/q").redrive()


def test_asking_for_the_move_task_where_there_is_none_says_so(stack: Stack) -> None:
    # Given: moto, which has no move task
    dead_letter(stack, "garbage")
    # Then: no silent fallback to the loop, and nothing moved
    with pytest.raises(NoMoveTask, match="--method loop"):
        dead_letters(stack).redrive(method="move-task")
    assert queue_depth(boto3.client("sqs"), stack.refs["FeedbackDeadLetterQueue"]) == 1
