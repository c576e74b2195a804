"""Dead letters: what is in the feedback DLQ, and moving it back to the feedback queue.

Two ways to move: SQS's own message move task (``StartMessageMoveTask``: asynchronous,
server-side, the way to go on AWS) and a bounded receive → send → delete loop for
endpoints without it (moto has no move task) or when only ``--max`` messages should go.
The loop sends before it deletes, so a crash in between can only duplicate a message,
never lose one; FeedbackFunction applies a duplicate as a no-op.

The two queues may be in two regions: a replica-region stack (``HomeRegion`` set) has no
feedback queue; its subscription's DLQ is its own (SNS wants it in the subscription's region)
and its messages go back to the home region's feedback queue. Only the loop crosses regions:
SQS's move task moves within one region (and only out of the DLQ of an SQS queue, not of an
SNS subscription), so each side is an SQS edge of its own region.

Inspection re-parses each body with the same parser FeedbackFunction uses, and reports
ids, the event type and the parser's error: never a recipient address. SQS is reached
through ``edges.queues``.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ses_feedback.edges.queues import SQS_BATCH
from ses_feedback.errors import InvalidNotification
from ses_feedback.parsing.events import parse_sqs_body

if TYPE_CHECKING:
    from ses_feedback.edges.queues import Queues

# Long enough to send and delete a batch before SQS would show its messages again.
_HOLD_SECONDS = 60


@dataclass(frozen=True)
class DeadLetter:
    """One DLQ message, described without its recipients."""

    sqs_message_id: str
    receive_count: int
    sns_message_id: str | None
    event_type: str | None
    ses_message_id: str | None
    error: str | None  # the parser's error today; None: it parses now (failed for another reason)

    def as_dict(self) -> dict[str, Any]:
        return {
            "sqs_message_id": self.sqs_message_id,
            "sns_message_id": self.sns_message_id,
            "event_type": self.event_type,
            "ses_message_id": self.ses_message_id,
            "receive_count": self.receive_count,
            "error": self.error,
        }


def describe(message: dict[str, Any]) -> DeadLetter:
    body = message.get("Body", "")
    sns_message_id = None
    try:
        envelope = json.loads(body)
        if isinstance(envelope, dict) and isinstance(envelope.get("MessageId"), str):
            sns_message_id = envelope["MessageId"]
    except (ValueError, RecursionError):
        pass  # no envelope to read an id from; the parser below says what is wrong
    event_type = ses_message_id = error = None
    try:
        event = parse_sqs_body(body)
        event_type, ses_message_id = event.raw_type, event.mail.message_id
    except InvalidNotification as exc:
        # The parser names fields, never their values: safe to print.
        error = str(exc)
    return DeadLetter(
        sqs_message_id=message["MessageId"],
        receive_count=int(message.get("Attributes", {}).get("ApproximateReceiveCount", "0")),
        sns_message_id=sns_message_id,
        event_type=event_type,
        ses_message_id=ses_message_id,
        error=error,
    )


@dataclass
class Inspection:
    depth: int
    messages: list[DeadLetter] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "dead_letter_queue_depth": self.depth,
            "shown": len(self.messages),
            "by_event_type": dict(Counter(m.event_type or "(unparseable)" for m in self.messages)),
            "parse_now": sum(1 for m in self.messages if m.error is None),
            "invalid": sum(1 for m in self.messages if m.error is not None),
            "messages": [m.as_dict() for m in self.messages],
        }


@dataclass
class Redrive:
    method: str  # "move-task" or "loop"
    moved: int = 0  # messages moved by the loop (the move task reports through SQS itself)
    task_handle: str | None = None
    dead_letter_queue_depth_before: int = 0

    def as_dict(self) -> dict[str, Any]:
        answer: dict[str, Any] = {
            "method": self.method,
            "dead_letter_queue_depth_before": self.dead_letter_queue_depth_before,
        }
        if self.method == "loop":
            answer["moved"] = self.moved
        else:
            answer["task_handle"] = self.task_handle
        return answer


class RedriveIncomplete(Exception):
    def __init__(self, moved: int, refused: int) -> None:
        super().__init__(f"moved {moved}; the feedback queue refused {refused} (they stay in the DLQ)")
        self.moved = moved


class MoveTaskInOneRegion(Exception):
    """``--method move-task`` where the DLQ and the feedback queue are in two regions."""

    def __init__(self, dead_letter_region: str, feedback_region: str) -> None:
        super().__init__(
            f"SQS's message move task moves within one region, and the dead-letter queue is in "
            f"{dead_letter_region}, the feedback queue in {feedback_region}: use --method loop (or auto)"
        )


class NoMoveTask(Exception):
    """``--method move-task`` on an endpoint without SQS's message move task."""

    def __init__(self) -> None:
        super().__init__("this endpoint has no SQS message move task: use --method loop (or auto)")


@dataclass
class DeadLetters:
    """The dead-letter queue (``source``: SQS in its region) and the feedback queue its messages
    go back to (``destination``: SQS in the feedback queue's region, the home's)."""

    source: Queues
    dlq_url: str
    destination: Queues
    queue_url: str

    @property
    def crosses_regions(self) -> bool:
        return self.source.region_name != self.destination.region_name

    def depths(self) -> dict[str, int]:
        return {
            "feedback": self.destination.depth(self.queue_url),
            "dead_letter": self.source.depth(self.dlq_url),
        }

    def inspect(self, limit: int) -> Inspection:
        """Look at up to ``limit`` DLQ messages and leave every one of them where it was."""
        inspection = Inspection(depth=self.source.depth(self.dlq_url))
        held: list[dict[str, Any]] = []
        try:
            while len(held) < limit:
                batch = self.source.receive(self.dlq_url, min(SQS_BATCH, limit - len(held)), _HOLD_SECONDS)
                if not batch:
                    break
                held.extend(batch)
                inspection.messages.extend(describe(m) for m in batch)
        finally:
            # Make them visible again at once, so that a redrive right after sees them all.
            self.source.release(self.dlq_url, held)
        return inspection

    def redrive(self, *, limit: int | None = None, method: str = "auto") -> Redrive:
        """Move DLQ messages back to the feedback queue.

        ``method``: "move-task", "loop", or "auto" (the move task where the endpoint has it, no
        ``limit`` is asked for and both queues are in one region, else the loop). The loop moves
        at most ``limit`` messages, and never more than the DLQ held when it started: a message
        that fails again while the loop runs comes back to the DLQ and must not be cycled forever.
        It receives and deletes in the DLQ's region and sends in the feedback queue's, and deletes
        only what the feedback queue accepted.
        """
        if method == "move-task" and self.crosses_regions:
            raise MoveTaskInOneRegion(self.source.region_name, self.destination.region_name)
        depth = self.source.depth(self.dlq_url)
        if method in ("auto", "move-task") and limit is None and not self.crosses_regions:
            handle = self.source.start_move_task(self.dlq_url, self.queue_url)
            if handle is not None:
                return Redrive(method="move-task", task_handle=handle, dead_letter_queue_depth_before=depth)
            if method == "move-task":
                raise NoMoveTask
        bound = depth if limit is None else min(limit, depth)
        result = Redrive(method="loop", dead_letter_queue_depth_before=depth)
        while result.moved < bound:
            batch = self.source.receive(self.dlq_url, min(SQS_BATCH, bound - result.moved), _HOLD_SECONDS)
            if not batch:
                break
            sent = self.destination.send(self.queue_url, batch)
            self.source.delete(self.dlq_url, [m for m in batch if m["MessageId"] in sent])
            result.moved += len(sent)
            if len(sent) < len(batch):
                # The rest stay in the DLQ (visible again after the hold); say so rather than spin.
                raise RedriveIncomplete(result.moved, len(batch) - len(sent))
        return result
