"""`ses-feedback messages …`: a message's timeline, as app teams read it (docs/events.md).

The operator reads any app's messages; the API's own answer models are printed.
"""

from __future__ import annotations

import argparse
import os
from typing import Any

from ses_feedback import wiring
from ses_feedback.model.moments import iso_z
from ses_feedback.model.timeline import Timeline
from ses_feedback.settings import Settings
from ses_feedback_stack.names import LocalStack

from ses_feedback_cli.commands.suppressions_cmd import _run
from ses_feedback_cli.output import print_json, say


def _timelines(args: argparse.Namespace) -> Any:
    table = (
        args.table or os.environ.get("MESSAGE_TABLE") or LocalStack(prefix=args.prefix).name("MessageTable")
    )
    environ = {"SUPPRESSION_TABLE": "unused", **os.environ, "MESSAGE_TABLE": table}
    return wiring.timelines_for(Settings.from_env(environ))


def _show(timeline: Timeline) -> None:
    say(
        f"message {timeline.message_id}: app {timeline.app or '-'}, stream {timeline.stream or '-'}, "
        f"sent {iso_z(timeline.sent_at) or '-'}"
    )
    if timeline.tags:
        say("  tags: " + ", ".join(f"{k}={v}" for k, v in sorted(timeline.tags.items())))
    for recipient in timeline.recipients:
        say(f"  {recipient.address}: {recipient.status}")
        for event in recipient.events:
            say(f"    {iso_z(event.at)}  {event.type}")


def cmd_show(args: argparse.Namespace) -> int:
    timeline = _timelines(args).show(args.message_id, None)
    if args.json:
        print_json(timeline.model_dump(mode="json"))
    else:
        _show(timeline)
    return 0


def cmd_find(args: argparse.Namespace) -> int:
    found = _timelines(args).find(args.idempotency_key, args.app)
    if args.json:
        print_json(found.model_dump(mode="json"))
    elif not found.messages:
        say("no message with that idempotency key")
    for timeline in [] if args.json else found.messages:
        _show(timeline)
    return 0


def register(commands: Any) -> None:
    messages = commands.add_parser(
        "messages", help="a message's timeline: what was sent, and each event since"
    )
    messages.add_argument("--table", help="message table (default: $MESSAGE_TABLE, else the local stack's)")
    sub = messages.add_subparsers(dest="messages_command", required=True)
    show = sub.add_parser("show", help="one message by its SES message id")
    show.add_argument("message_id")
    show.add_argument("--json", action="store_true", help="print the API's answer")
    show.set_defaults(func=_run(cmd_show))
    find = sub.add_parser("find", help="the messages sent with an idempotency key")
    find.add_argument("--idempotency-key", required=True)
    find.add_argument("--app", help="only this app's (default: every app's)")
    find.add_argument("--json", action="store_true", help="print the API's answer")
    find.set_defaults(func=_run(cmd_find))
