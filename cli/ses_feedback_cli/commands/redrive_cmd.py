"""`ses-feedback redrive`: look into the feedback dead-letter queue and move it back."""

from __future__ import annotations

import argparse
from typing import Any

from ses_feedback import wiring
from ses_feedback.usecases.redrive import DeadLetters, MoveTaskInOneRegion, NoMoveTask, RedriveIncomplete
from ses_feedback_stack.names import LocalStack, region

from ses_feedback_cli.arguments import whole_number
from ses_feedback_cli.commands.suppressions_cmd import settings
from ses_feedback_cli.output import error, print_json, say


class UnplacedQueue(ValueError):
    """A queue URL that names no region, for a queue that is not in --region's."""


def dead_letters(args: argparse.Namespace) -> DeadLetters:
    """This region's dead-letter queue and the feedback queue its messages go back to: the
    home region's (a replica-region stack has none of its own; docs/deploy.md "Several regions").

    The flags name a deployed stack's queues; each is in the region its URL names, else in
    --region's, which a feedback queue at home cannot be when this is a replica region. Without
    them, the local stack's: this region's DLQ and the home stack's feedback queue.
    """
    here = region()
    home = settings(args).home_region or here
    dlq_url = (
        args.dlq_url or LocalStack(prefix=args.prefix, region=here).resolver().refs["FeedbackDeadLetterQueue"]
    )
    dlq_region = wiring.queue_url_region(dlq_url) or here
    if args.queue_url:
        queue_url, feedback_region = args.queue_url, wiring.queue_url_region(args.queue_url)
        if feedback_region is None and home != here:
            raise UnplacedQueue(
                f"--queue-url names no region, and the feedback queue is in the home region {home}, "
                f"not {here} (--region): give its https://sqs.{home}.amazonaws.com/… URL"
            )
    else:
        queue_url = LocalStack(prefix=args.prefix, region=home).resolver().refs["FeedbackQueue"]
        feedback_region = home
    return wiring.dead_letters_for(queue_url, dlq_url, dlq_region, feedback_region or here)


def cmd_redrive(args: argparse.Namespace) -> int:
    try:
        queues = dead_letters(args)
    except UnplacedQueue as exc:
        error(str(exc), code="invalid_request")
        return 2
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
    except MoveTaskInOneRegion as exc:
        error(str(exc), code="invalid_request")
        return 2
    answer = result.as_dict()
    if queues.crosses_regions:
        answer["regions"] = {
            "dead_letter_queue": queues.source.region_name,
            "feedback_queue": queues.destination.region_name,
        }
    if args.json:
        print_json(answer)
    elif result.method == "loop":
        before = result.dead_letter_queue_depth_before
        where = (
            f" in {queues.destination.region_name} (from {queues.source.region_name}'s dead-letter queue)"
            if queues.crosses_regions
            else ""
        )
        say(f"moved {result.moved} of {before} message(s) back to the feedback queue{where}")
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
        help=(
            "auto (default): SQS's message move task where the endpoint has it, no --max and both "
            "queues in one region, else a loop (move-task: refused across regions)"
        ),
    )
    parser.add_argument(
        "--queue-url",
        help="feedback queue URL, the home region's (default: the local stack's); its region from its host",
    )
    parser.add_argument(
        "--dlq-url",
        help="dead-letter queue URL, --region's (default: the local stack's); its region from its host",
    )
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.set_defaults(func=cmd_redrive)
