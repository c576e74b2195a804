"""`ses-feedback batches send|show|cancel`: bulk sending through the stack's REST API.

The CLI is an app like any other here: it calls ``POST /batches`` and ``GET``/``DELETE
/batches/{id}`` on the REST API (``--api``, else ``$SES_FEEDBACK_API_URL``, else `local up`'s
``http://127.0.0.1:3000``), signed with the credentials in use, so a batch is the signer's
and only they see it. ``send`` reads the recipients from a CSV file (a ``to`` column and one
column per template field), reports each bad line with its number and sends the rest, then
follows the batch with a progress bar until it is done (Ctrl-C stops following, not the batch).
A file of more than 10,000 recipients goes as several batches, one per 10,000 lines.

Exit status: 0 the batches were sent to the end (recipients that failed are listed), 1 a
refusal, a cancelled batch, or no REST API answering, 2 a bad command line, file or request.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ses_feedback import wiring
from ses_feedback.errors import REFUSALS, AwsCallFailed, BatchNotQueued, InvalidRequest
from ses_feedback.model.answers import exit_status_of
from ses_feedback.parsing.batch_csv import RecipientsFile, read_recipients
from ses_feedback.parsing.batch_request import MAX_BATCH_RECIPIENTS
from ses_feedback_emulator.state import recorded_stack
from ses_feedback_stack.names import region

from ses_feedback_cli.output import counted, error, print_json, say
from ses_feedback_cli.progress import ProgressBar

_FINAL = ("done", "cancelled")
# The API's answer when the batch queue kept failing part-way (docs/batches.md).
QUEUE_UNAVAILABLE = REFUSALS[BatchNotQueued].code
# `local up`'s REST API (its default --api-port), unless SES_FEEDBACK_API_URL or --api says.
LOCAL_API_URL = "http://127.0.0.1:3000"


@dataclass(frozen=True)
class Answer:
    status: int
    body: Any


def api_url(given: str | None, prefix: str) -> str:
    """--api, else $SES_FEEDBACK_API_URL, else the REST API `local up` serves for this region's
    stack (`--region`; each region has its own), else the default local one."""
    if given or os.environ.get("SES_FEEDBACK_API_URL"):
        return str(given or os.environ.get("SES_FEEDBACK_API_URL")).rstrip("/")
    endpoint = os.environ.get("AWS_ENDPOINT_URL")
    record = recorded_stack(endpoint, prefix, region()) if endpoint else None
    served = record.get("api_url") if record else None
    return (served if isinstance(served, str) and served else LOCAL_API_URL).rstrip("/")


def call(base: str, method: str, path: str, body: Any = None) -> Answer:
    return Answer(*wiring.rest_api_call(base, method, path, body))


def skipped(text: str) -> None:
    """A recipient not sent while the rest are (not the command's error): a line on stderr."""
    print(f"skipped {text}", file=sys.stderr, flush=True)


def unreachable(exc: AwsCallFailed) -> int:
    error(f"{exc.message}: start `ses-feedback local up`, or give --api (the stack's SendingApiUrl output)")
    return 1


POLL_SECONDS = 1.0


def _problem(answer: Answer) -> dict[str, Any]:
    """The refusal's ``error`` object ({} when the body is not the API's error shape)."""
    found = answer.body.get("error") if isinstance(answer.body, dict) else None
    return found if isinstance(found, dict) else {}


def _code(answer: Answer) -> str:
    return str(_problem(answer).get("code", answer.status))


def _refused(answer: Answer, listed: bool = True) -> int:
    """The refusal's message on stderr and its exit status; with ``listed``, its other problems."""
    problem, code = _problem(answer), _code(answer)
    body = answer.body if problem else None
    error(f"refused ({code}): {problem.get('message', '')}", code=code, body=body)
    for item in problem.get("problems", [])[1:] if listed else []:
        print(f"  {item.get('field')}: {item.get('message')}", file=sys.stderr, flush=True)
    return exit_status_of(answer.body) if problem else 1


def request_content(args: argparse.Namespace) -> dict[str, Any]:
    content: dict[str, Any] = {"from": args.sender}
    for name in ("stream", "subject", "text", "html"):
        if getattr(args, name):
            content[name] = getattr(args, name)
    if args.template:
        content["template"] = {"name": args.template}
    if args.reply_to:
        content["reply_to"] = args.reply_to
    if args.tag:
        content["tags"] = dict(tag.split("=", 1) for tag in args.tag)
    return content


def cmd_send(args: argparse.Namespace) -> int:
    for tag in args.tag or []:
        if "=" not in tag:
            error(f"--tag takes NAME=VALUE, got {tag!r}")
            return 2
    try:
        with Path(args.recipients).open(encoding="utf-8-sig", newline="") as lines:
            recipients = read_recipients(lines)
    except OSError as exc:
        error(f"--recipients {args.recipients}: {exc.strerror or exc}")
        return 2
    except UnicodeDecodeError:
        error(f"--recipients {args.recipients}: not UTF-8 text")
        return 2
    except InvalidRequest as exc:
        error(f"--recipients {args.recipients}: {exc.message.removeprefix('recipients: ')}")
        return 2
    if recipients.fields and not args.template:
        error(f"--recipients: columns {', '.join(recipients.fields)} fill a template: give --template")
        return 2
    for bad in recipients.bad:
        skipped(f"{args.recipients} line {bad.line}: {bad.message}")
    if not recipients.recipients:
        error(f"--recipients {args.recipients}: no recipient to send to")
        return 2
    base = api_url(args.api, args.prefix)
    content = request_content(args)
    batch_ids: list[str] = []
    try:
        for start in range(0, len(recipients.recipients), MAX_BATCH_RECIPIENTS):
            part = recipients.recipients[start : start + MAX_BATCH_RECIPIENTS]
            answer = call(base, "POST", "/batches", {**content, "recipients": part})
            if answer.status != 202:
                if _code(answer) == QUEUE_UNAVAILABLE:
                    refused_status = _refused(answer, listed=False)
                    _report_not_sent(args.recipients, recipients, start, answer)
                    return refused_status
                _report_recipient_problems(args.recipients, recipients, start, answer)
                return _refused(answer)
            for refused in answer.body["refused"]:
                at = recipients.line_of(start + refused["index"])
                skipped(f"{args.recipients} line {at}: {refused['message']}")
            batch_ids.append(answer.body["batch_id"])
            if not args.json:
                queued = counted(answer.body["accepted"], "recipient", "recipients")
                say(f"batch {answer.body['batch_id']}: {queued} queued")
        if args.no_wait:
            shown = [call(base, "GET", f"/batches/{i}").body for i in batch_ids]
        else:
            shown = _follow(base, batch_ids, show_progress=not args.no_progress)
    except AwsCallFailed as exc:
        return unreachable(exc)
    except KeyboardInterrupt:
        error(
            "stopped following; the batch goes on: `ses-feedback batches show ID`, "
            "`ses-feedback batches cancel ID`"
        )
        return 1
    for batch in shown:
        if args.json:
            print_json(batch)
        else:
            for line in describe(batch):
                say(line)
    return 1 if any(s["state"] == "cancelled" for s in shown) else 0


def _recipient_problems(answer: Answer) -> list[tuple[int, str]]:
    """The refusal's problems that name one recipient (``recipients[i]``): its index in the
    request, and what is wrong."""
    found = []
    for problem in _problem(answer).get("problems", []):
        field = str(problem.get("field") or "")
        if field.startswith("recipients[") and "]" in field:
            found.append((int(field[len("recipients[") : field.index("]")]), str(problem.get("message"))))
    return found


def _report_recipient_problems(name: str, recipients: RecipientsFile, start: int, answer: Answer) -> None:
    """A batch refused because none of its recipients could be sent: each one's line."""
    for index, message in _recipient_problems(answer):
        skipped(f"{name} line {recipients.line_of(start + index)}: {message}")


def _report_not_sent(name: str, recipients: RecipientsFile, start: int, answer: Answer) -> None:
    """``queue_unavailable``: the file's lines to send again, as ranges: this batch's recipients the
    queue did not take (the API names them by their index in its request, which began at the
    file's recipient ``start``), then every recipient of the batches after it, never sent."""
    not_queued = [start + index for index, _ in _recipient_problems(answer)]
    after = range(start + MAX_BATCH_RECIPIENTS, len(recipients.recipients))
    for what, indexes in (
        ("not queued (send those lines again, not the whole file: the others are sent)", not_queued),
        ("not sent (the batches after it)", after),
    ):
        if indexes:
            print(f"  {what}: {name} lines {_line_ranges(recipients, indexes)}", file=sys.stderr, flush=True)


def _line_ranges(recipients: RecipientsFile, indexes: Iterable[int]) -> str:
    """Recipients (their indexes in the file, ascending) as their lines, a range per run of
    recipients that follow one another ("3-52, 60"; a range may span a bad line, skipped anyway)."""
    runs: list[list[int]] = []
    for index in indexes:
        if runs and runs[-1][1] == index - 1:
            runs[-1][1] = index
        else:
            runs.append([index, index])
    lines = [(recipients.line_of(first), recipients.line_of(last)) for first, last in runs]
    return ", ".join(f"{a:,}" if a == b else f"{a:,}-{b:,}" for a, b in lines)


def _follow(base: str, batch_ids: list[str], show_progress: bool) -> list[dict[str, Any]]:
    """Poll until every batch is done or cancelled, drawing one bar for all of them."""
    statuses = [call(base, "GET", f"/batches/{i}").body for i in batch_ids]
    queued = sum(s["total"] - s["refused"] for s in statuses)
    progress = ProgressBar(queued, enabled=show_progress, unit="recipients")
    while True:
        settled = sum(s["sent"] + s["suppressed"] + s["failed"] + s["cancelled"] for s in statuses)
        progress.done_bytes = settled
        progress.update(settled)
        if all(s["state"] in _FINAL for s in statuses):
            progress.finish()
            return statuses
        waiting = [s for s in statuses if s["state"] == "waiting_quota"]
        if waiting:
            progress.message(f"waiting for the 24-hour quota until {waiting[0]['waiting_until']}")
        time.sleep(POLL_SECONDS)
        statuses = [call(base, "GET", f"/batches/{i}").body for i in batch_ids]


def describe(status: dict[str, Any]) -> list[str]:
    lines = [
        f"batch {status['batch_id']}: {status['state']}",
        f"  total {status['total']:,}: sent {status['sent']:,}, suppressed {status['suppressed']:,}, "
        f"failed {status['failed']:,}, refused {status['refused']:,}, cancelled {status['cancelled']:,}, "
        f"pending {status['pending']:,}",
        f"  created {status['created_at']}"
        + (f", finished {status['finished_at']}" if status["finished_at"] else ""),
    ]
    if status.get("waiting_until"):
        lines.append(f"  waiting for the 24-hour quota until {status['waiting_until']}")
    lines += [f"  failed: {f['to']} ({f['code']}): {f['message']}" for f in status.get("failures", [])]
    return lines


def _show_or_cancel(args: argparse.Namespace, method: str) -> int:
    try:
        answer = call(api_url(args.api, args.prefix), method, f"/batches/{args.batch_id}")
    except AwsCallFailed as exc:
        return unreachable(exc)
    if answer.status != 200:
        return _refused(answer)
    if args.json:
        print_json(answer.body)
    else:
        for line in describe(answer.body):
            say(line)
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    return _show_or_cancel(args, "GET")


def cmd_cancel(args: argparse.Namespace) -> int:
    return _show_or_cancel(args, "DELETE")


def register(commands: Any) -> None:
    batches = commands.add_parser(
        "batches", help="bulk sending at the account's rate (the REST API's /batches)"
    )
    batch_commands = batches.add_subparsers(dest="batches_command", required=True)
    api_help = "the REST API (default: $SES_FEEDBACK_API_URL, else local up's http://127.0.0.1:3000)"

    send = batch_commands.add_parser(
        "send", help="send one message to every recipient of a CSV file, and follow it to the end"
    )
    send.add_argument("--from", dest="sender", required=True, help="an address at the stack's sending domain")
    send.add_argument(
        "--stream", help="message stream (default transactional; a bulk stream adds unsubscribe)"
    )
    send.add_argument("--template", help="SES template name; the CSV's other columns fill it")
    send.add_argument("--subject")
    send.add_argument("--text", help="plain-text body")
    send.add_argument("--html", help="HTML body")
    send.add_argument("--reply-to", action="append", default=[], help="Reply-To address (repeatable)")
    send.add_argument("--tag", action="append", help="SES message tag NAME=VALUE (repeatable)")
    send.add_argument(
        "--recipients",
        required=True,
        help="CSV file: a header with a 'to' column and one column per template field",
    )
    send.add_argument("--no-wait", action="store_true", help="print the batch as queued; do not follow it")
    send.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")
    send.add_argument("--api", help=api_help)
    send.add_argument("--json", action="store_true", help="print each batch at its end as JSON")
    send.set_defaults(func=cmd_send)

    for name, func, text in (
        ("show", cmd_show, "a batch's state, exact counts and failures"),
        ("cancel", cmd_cancel, "cancel what a batch has not yet sent"),
    ):
        command = batch_commands.add_parser(name, help=text)
        command.add_argument("batch_id")
        command.add_argument("--api", help=api_help)
        command.add_argument("--json", action="store_true", help="print JSON")
        command.set_defaults(func=func)
