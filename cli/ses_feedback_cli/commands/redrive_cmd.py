"""`ses-feedback redrive`: look into the feedback dead-letter queue and move it back."""

from __future__ import annotations

import argparse
from typing import Any

from ses_feedback import wiring
from ses_feedback.usecases.redrive import DeadLetters, NoMoveTask, RedriveIncomplete
from ses_feedback_stack.names import LocalStack, region

from ses_feedback_cli.arguments import whole_number
from ses_feedback_cli.output import error, print_json, say


def dead_letters(args: argparse.Namespace) -> DeadLetters:
    """The feedback queue and its dead-letter queue: the flags, else the local stack's."""
    refs = LocalStack(prefix=args.prefix).resolver().refs
    return wiring.dead_letters_for(
        args.queue_url or refs["FeedbackQueue"], args.dlq_url or refs["FeedbackDeadLetterQueue"], region()
    )


def cmd_redrive(args: argparse.Namespace) -> int:
    queues = dead_letters(args)
    if args.dry_run:
        inspection = queues.inspect(limit=args.max or 100)
        answer = inspection.as_dict()
        if args.json:
            print_json(answer)
            return 0
        say(f"dead-letter queue: {inspection.depth} message(s); showing {len(inspection.messages)}")
        for m in inspection.messages:
            what = m.event_type or "(unparseable)"
            why = m.error or "parses now: it failed for another reason (throttling, a bug since fixed?)"
            ses = m.ses_message_id or "-"
            say(f"  {m.sqs_message_id}  {what:<18} ses={ses}  receives={m.receive_count}  {why}")
        return 0
    try:
        result = queues.redrive(limit=args.max, method=args.method)
    except (RedriveIncomplete, NoMoveTask) as exc:
        error(str(exc))
        return 1
    answer = result.as_dict()
    if args.json:
        print_json(answer)
    elif result.method == "loop":
        before = result.dead_letter_queue_depth_before
        say(f"moved {result.moved} of {before} message(s) back to the feedback queue")
    else:
        before = result.dead_letter_queue_depth_before
        say(f"started SQS message move task {result.task_handle} for {before} message(s)")
    return 0


def register(commands: Any) -> None:
    parser = commands.add_parser(
        "redrive",
        help="move the feedback dead-letter queue back to the feedback queue (--dry-run: look first)",
    )
    parser.add_argument(
        "--dry-run", action="store_true", help="show what is there (no address), move nothing"
    )
    parser.add_argument(
        "--max", type=whole_number(1, 1_000_000), default=None, help="move (or show) at most N messages"
    )
    parser.add_argument(
        "--method",
        choices=["auto", "move-task", "loop"],
        default="auto",
        help="auto (default): SQS's message move task where the endpoint has it and no --max, else a loop",
    )
    parser.add_argument("--queue-url", help="feedback queue URL (default: the local stack's)")
    parser.add_argument("--dlq-url", help="dead-letter queue URL (default: the local stack's)")
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.set_defaults(func=cmd_redrive)
