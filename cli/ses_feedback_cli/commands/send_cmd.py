"""`ses-feedback send …`: one message through SenderFunction, the way an app team sends it.

Without ``--function-name`` it runs the template's SenderFunction in-process against the
local stack (``AWS_ENDPOINT_URL``), as a direct invoke; with it, it calls the deployed
function with ``lambda:Invoke``. Either way the payload is the request and the result the
answer. Exit status: 0 sent (to everyone or to those not suppressed, or nobody was left),
else the error table's for the refusal (``rejected`` and an error answer alike: 2 for a request
it calls invalid, 1 for the others), and 2 for a bad command line.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field
from typing import Any

from ses_feedback import wiring
from ses_feedback.model.answers import exit_status_of
from ses_feedback_emulator.lambdas import LocalContext, load_handler
from ses_feedback_emulator.state import served_stack

from ses_feedback_cli.output import error, print_json, say

CLI_APP = "ses-feedback-cli"


@dataclass
class _ClientContext:
    custom: dict[str, str] = field(default_factory=lambda: {"app": CLI_APP})


@dataclass
class CliContext(LocalContext):
    """A Lambda context whose ClientContext names the calling app, as ``lambda:Invoke`` sets it."""

    client_context: _ClientContext = field(default_factory=_ClientContext)


def request_payload(args: argparse.Namespace) -> dict[str, Any]:
    payload: dict[str, Any] = {"from": args.sender, "to": args.to, "subject": args.subject}
    for name in ("cc", "bcc", "reply_to", "text", "html", "idempotency_key", "stream"):
        value = getattr(args, name)
        if value:
            payload[name] = value
    if args.tag:
        payload["tags"] = dict(tag.split("=", 1) for tag in args.tag)
    if args.on_suppressed:
        payload["on_suppressed"] = args.on_suppressed
    return payload


def invoke_local(prefix: str, payload: dict[str, Any]) -> dict[str, Any]:
    # The unsubscribe links of a bulk stream name the REST API its `local up` serves.
    handler = load_handler(served_stack(prefix), "SenderFunction", quiet=True)
    answer: dict[str, Any] = handler(payload, CliContext(function_name="SenderFunction"))
    return answer


def invoke_deployed(function_name: str, payload: dict[str, Any]) -> dict[str, Any]:
    invoked = wiring.lambda_invoker_for().invoke(function_name, payload, {"app": CLI_APP})
    body = invoked.body
    if invoked.function_error:
        message = body.get("errorMessage", "") if isinstance(body, dict) else ""
        return {"error": {"code": "function_error", "message": message, "field": None, "problems": []}}
    answer: dict[str, Any] = body
    return answer


def cmd_send(args: argparse.Namespace) -> int:
    for tag in args.tag or []:
        if "=" not in tag:
            error(f"--tag takes NAME=VALUE, got {tag!r}")
            return 2
    payload = request_payload(args)
    if args.function_name:
        answer = invoke_deployed(args.function_name, payload)
    else:
        answer = invoke_local(args.prefix, payload)
    status = exit_status_of(answer)
    if args.json:
        print_json(answer)
    else:
        say(describe(answer))
    return status


def describe(answer: dict[str, Any]) -> str:
    if "error" in answer:
        problem = answer["error"]
        return f"refused ({problem['code']}): {problem['message']}"
    lines = [
        f"{answer['status']}" + (f": message id {answer['message_id']}" if answer.get("message_id") else "")
    ]
    if answer.get("sent_to"):
        lines.append("  sent to: " + ", ".join(answer["sent_to"]))
    for entry in answer.get("suppressed", []):
        lines.append(f"  suppressed: {entry['address']} ({entry['reason']} since {entry['since']})")
    return "\n".join(lines)


def register(commands: Any) -> None:
    send = commands.add_parser(
        "send", help="send one message through SenderFunction (local stack, or --function-name)"
    )
    send.add_argument("--from", dest="sender", required=True, help="an address at the stack's sending domain")
    send.add_argument("--to", action="append", default=[], help="recipient (repeatable)")
    send.add_argument("--cc", action="append", default=[], help="copy recipient (repeatable)")
    send.add_argument("--bcc", action="append", default=[], help="blind copy recipient (repeatable)")
    send.add_argument("--reply-to", action="append", default=[], help="Reply-To address (repeatable)")
    send.add_argument("--subject", required=True)
    send.add_argument("--text", help="plain-text body")
    send.add_argument("--html", help="HTML body")
    send.add_argument("--tag", action="append", help="SES message tag NAME=VALUE (repeatable)")
    send.add_argument("--idempotency-key", help="the same key within the window sends once")
    send.add_argument(
        "--stream",
        help="message stream (default transactional); a bulk stream sends one message per recipient with "
        "one-click unsubscribe, and --text/--html must contain {{unsubscribe_url}}",
    )
    send.add_argument(
        "--on-suppressed", choices=["drop", "reject"], help="drop suppressed recipients (default) or refuse"
    )
    send.add_argument(
        "--function-name",
        help="invoke this deployed SenderFunction (default: run it against the local stack)",
    )
    send.add_argument("--json", action="store_true", help="print the answer as JSON")
    send.set_defaults(func=cmd_send)
