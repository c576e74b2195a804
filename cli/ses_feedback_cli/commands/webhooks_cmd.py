"""`ses-feedback webhooks …`: app teams' webhooks, as an operator manages them (docs/events.md).

The operator may add a webhook for any app or every app (``--app '*'``, the default) and sees
and removes every webhook. On the local stack (no $EVENT_BUS_NAME) the bus and role are the
local stack's, and an http:// URL on loopback is accepted; a deployed stack takes https:// only.
"""

from __future__ import annotations

import argparse
import os
from typing import Any

from ses_feedback import wiring
from ses_feedback.model.outbound import SUBSCRIBABLE
from ses_feedback.model.webhooks import EVERY_APP, WebhookModel
from ses_feedback.parsing.webhooks import WebhookRequest
from ses_feedback.settings import Settings
from ses_feedback.usecases.webhooks import Webhooks
from ses_feedback_stack.names import LocalStack

from ses_feedback_cli.commands.suppressions_cmd import _run
from ses_feedback_cli.output import print_json, say


def _webhooks(args: argparse.Namespace) -> Webhooks:
    if os.environ.get("EVENT_BUS_NAME"):
        environ = {"SUPPRESSION_TABLE": "unused", **os.environ}
    else:
        environ = {**os.environ, **LocalStack(prefix=args.prefix).function_environment("WebhooksFunction")}
    return wiring.webhooks_for(Settings.from_env(environ))


def _line(webhook: WebhookModel) -> str:
    return f"{webhook.id}  {webhook.url}  app {webhook.app}  {', '.join(webhook.events)}"


def cmd_add(args: argparse.Namespace) -> int:
    request = WebhookRequest(url=args.url, events=args.event or list(SUBSCRIBABLE), app=args.app)
    added = _webhooks(args).add(request, None)
    if args.json:
        print_json(added.model_dump(mode="json"))
        return 0
    say(f"added {_line(added)}")
    say(f"secret (shown this once; every delivery carries it in X-Ses-Feedback-Secret): {added.secret}")
    return 0


def cmd_list(args: argparse.Namespace) -> int:
    found = _webhooks(args).list(None)
    if args.json:
        print_json(found.model_dump(mode="json"))
        return 0
    if not found.webhooks:
        say("no webhooks")
    for webhook in found.webhooks:
        say(_line(webhook))
    return 0


def cmd_remove(args: argparse.Namespace) -> int:
    _webhooks(args).remove(args.webhook_id, None)
    say(f"removed {args.webhook_id}")
    return 0


def cmd_test(args: argparse.Namespace) -> int:
    event = _webhooks(args).test(args.webhook_id, None)
    say(f"published webhook.test {event.id} to {args.webhook_id}")
    return 0


def register(commands: Any) -> None:
    webhooks = commands.add_parser(
        "webhooks", help="app teams' webhooks: EventBridge rules and API destinations"
    )
    sub = webhooks.add_subparsers(dest="webhooks_command", required=True)
    add = sub.add_parser("add", help="add a webhook; prints its secret once")
    add.add_argument("--url", required=True, help="https:// (locally also http:// on loopback)")
    add.add_argument("--app", default=EVERY_APP, help="whose events it receives (default: '*', every app's)")
    add.add_argument(
        "--event",
        action="append",
        choices=SUBSCRIBABLE,
        metavar="TYPE",
        help="an event type (repeat; default: all)",
    )
    add.add_argument("--json", action="store_true", help="print the API's answer")
    add.set_defaults(func=_run(cmd_add))
    listing = sub.add_parser("list", help="every webhook")
    listing.add_argument("--json", action="store_true", help="print the API's answer")
    listing.set_defaults(func=_run(cmd_list))
    remove = sub.add_parser("remove", help="remove a webhook (its rule, API destination and connection)")
    remove.add_argument("webhook_id")
    remove.set_defaults(func=_run(cmd_remove))
    test = sub.add_parser("test", help="send a webhook a webhook.test event")
    test.add_argument("webhook_id")
    test.set_defaults(func=_run(cmd_test))
