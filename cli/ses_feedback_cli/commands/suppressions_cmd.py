"""`ses-feedback suppressions …`: read and change the suppression list.

Every command is a thin shell around ``ses_feedback.admin.SuppressionAdmin`` (the same use
case the API function calls); domain errors become exit codes in ``_run``, in one place.
"""

from __future__ import annotations

import argparse
import csv
import getpass
import json
import os
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TextIO

import boto3
from botocore.exceptions import BotoCoreError, ClientError
from ses_feedback.addresses import normalize_address
from ses_feedback.admin import ManualOutcome, SuppressionAdmin
from ses_feedback.errors import (
    ComplaintLiftNeedsForce,
    InvalidAddress,
    InvalidInput,
    NotSuppressed,
    SesFeedbackError,
)
from ses_feedback.imports import RowError, read_rows
from ses_feedback.policy import AddressState, Reason
from ses_feedback.ses_account import SesAccountSuppressionList
from ses_feedback.store import HistoryEntry, SuppressionStore

from ses_feedback_cli.local import LocalStack, region
from ses_feedback_cli.output import answer_stream, error, iso, print_json, say
from ses_feedback_cli.progress import ProgressBar

REASONS = [reason.value for reason in Reason]
EXPORT_COLUMNS = ["address", "reason", "since", "expires_at", "note", "actor"]


def table_name(args: argparse.Namespace) -> str:
    """--table, else $SUPPRESSION_TABLE (as in Lambda), else the local stack's table."""
    # boto3 reads AWS_DEFAULT_REGION only; the README's local mode exports AWS_REGION.
    os.environ.setdefault("AWS_DEFAULT_REGION", region())
    return str(
        args.table
        or os.environ.get("SUPPRESSION_TABLE")
        or LocalStack(prefix=args.prefix).name("SuppressionTable")
    )


def _days(variable: str, default: float) -> timedelta:
    return timedelta(days=float(os.environ.get(variable) or default))


def build_admin(args: argparse.Namespace, ses_sync: bool = False) -> SuppressionAdmin:
    table = table_name(args)
    return SuppressionAdmin(
        store=SuppressionStore(table),
        history_retention=_days("HISTORY_RETENTION_DAYS", 365),
        soft_bounce_suppression=_days("SOFT_BOUNCE_SUPPRESSION_DAYS", 7),
        ses=SesAccountSuppressionList() if ses_sync else None,
    )


def actor(args: argparse.Namespace) -> str:
    """--actor, else the IAM principal of the credentials in use (as the API records), else the OS user."""
    if getattr(args, "actor", None):
        return str(args.actor)
    try:
        return str(boto3.client("sts").get_caller_identity()["Arn"])
    except (BotoCoreError, ClientError):
        return f"os-user:{getpass.getuser()}"


def state_json(state: AddressState) -> dict[str, Any]:
    return {
        "address": state.address,
        "reason": state.reason.value if state.reason else None,
        "since": iso(state.since),
        "expires_at": iso(state.expires_at),
        "note": state.note,
        "actor": state.actor,
    }


def history_json(entry: HistoryEntry) -> dict[str, Any]:
    return {
        "occurred_at": iso(entry.occurred_at),
        "event_type": entry.event_type,
        "action": entry.action,
        "detail": entry.detail,
        "reason": entry.reason,
        "note": entry.note,
        "actor": entry.actor,
    }


def _run(command: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    """Domain errors → a message on stderr and an exit code: 2 bad input, 1 refused."""

    def run(args: argparse.Namespace) -> int:
        try:
            return command(args)
        except InvalidInput as exc:
            error(str(exc))
            return 2
        except (NotSuppressed, ComplaintLiftNeedsForce) as exc:
            error(str(exc))
            return 1
        except SesFeedbackError as exc:
            error(str(exc))
            return 1

    return run


# ---- reads ---------------------------------------------------------------------------------


def cmd_get(args: argparse.Namespace) -> int:
    try:
        address = normalize_address(args.address)
    except InvalidAddress as exc:
        error(str(exc))
        return 2
    state, history = SuppressionStore(table_name(args)).get_with_history(address, limit=args.history)
    suppressed = state.is_suppressed(datetime.now(UTC))
    answer: dict[str, Any] = {
        "address": address,
        "suppressed": suppressed,
        "reason": state.reason.value if suppressed and state.reason else None,
        "since": iso(state.since) if suppressed else None,
        "expires_at": iso(state.expires_at) if suppressed else None,
        "soft_bounce_count": state.soft_bounce_count,
        "note": state.note if suppressed else None,
        "actor": state.actor if suppressed else None,
        "lifted_at": iso(state.lifted_at),
        "history": [history_json(entry) for entry in history],
    }
    if args.json:
        print_json(answer)
        return 0
    status = f"suppressed ({answer['reason']}) since {answer['since']}" if suppressed else "not suppressed"
    if answer["expires_at"]:
        status += f", until {answer['expires_at']}"
    say(f"{address}: {status}; soft bounces in window: {state.soft_bounce_count}")
    for entry in history:
        say(_history_line(entry))
    return 0


def _history_line(entry: HistoryEntry) -> str:
    line = f"  {iso(entry.occurred_at)}  {entry.event_type:<12} {entry.detail:<28} {entry.action}"
    if entry.actor or entry.note:
        line += f"  by {entry.actor or '?'}: {entry.note or ''}"
    return line


def _state_line(state: AddressState) -> str:
    reason = state.reason.value if state.reason else "-"
    line = f"{state.address:<40} {reason:<12} {iso(state.since) or '':<26}"
    if state.expires_at:
        line += f" until {iso(state.expires_at)}"
    if state.note:
        line += f"  {state.note}"
    return line


def cmd_list(args: argparse.Namespace) -> int:
    admin = build_admin(args)
    reason = Reason(args.reason) if args.reason else None
    cursor = args.cursor
    while True:
        page = admin.list_suppressed(reason, limit=args.limit, cursor=cursor)
        if args.all:
            # Streams: one JSON object (or text line) per address, page after page.
            stream = answer_stream()
            for state in page.items:
                stream.write((json.dumps(state_json(state)) if args.json else _state_line(state)) + "\n")
            stream.flush()
            if page.next_cursor is None:
                return 0
            cursor = page.next_cursor
            continue
        if args.json:
            print_json({"items": [state_json(s) for s in page.items], "next_cursor": page.next_cursor})
        else:
            for state in page.items:
                say(_state_line(state))
            if page.next_cursor:
                say(f"more: --cursor {page.next_cursor}")
        return 0


def cmd_history(args: argparse.Namespace) -> int:
    admin = build_admin(args)
    page = admin.history(args.address, limit=args.limit, cursor=args.cursor)
    if args.json:
        print_json({"items": [history_json(e) for e in page.items], "next_cursor": page.next_cursor})
        return 0
    for entry in page.items:
        say(_history_line(entry))
    if page.next_cursor:
        say(f"more: --cursor {page.next_cursor}")
    return 0


# ---- manual changes ------------------------------------------------------------------------


def _report(args: argparse.Namespace, outcome: ManualOutcome, verb: str) -> int:
    answer = {**state_json(outcome.state), "changed": outcome.changed, "ses_removed": outcome.ses_removed}
    if args.json:
        print_json(answer)
    elif outcome.changed:
        say(
            f"{outcome.state.address}: {verb}"
            + (" (also on SES's account list)" if outcome.ses_removed else "")
        )
    else:
        say(f"{outcome.state.address}: already suppressed ({answer['reason']}); nothing changed")
    return 0


def cmd_add(args: argparse.Namespace) -> int:
    outcome = build_admin(args).suppress(args.address, args.note, actor(args))
    return _report(args, outcome, "suppressed (manual)")


def cmd_remove(args: argparse.Namespace) -> int:
    outcome = build_admin(args, ses_sync=args.ses_sync).lift(
        args.address, args.note, actor(args), force=args.force
    )
    return _report(args, outcome, "lifted")


# ---- bulk ----------------------------------------------------------------------------------


def _counted_lines(handle: TextIO, progress: ProgressBar) -> Iterator[str]:
    for line in handle:
        progress.advance_bytes(len(line))
        yield line


def cmd_import(args: argparse.Namespace) -> int:
    path = Path(args.file)
    if not path.is_file():
        raise InvalidInput("FILE", f"{path} is not a file")
    admin = build_admin(args)
    who = actor(args)
    progress = ProgressBar(path.stat().st_size, enabled=not args.no_progress)
    reason = Reason(args.reason) if args.reason else None

    def reject(row: RowError) -> None:
        progress.message(f"skipped {row}")

    # utf-8-sig: spreadsheets often start a CSV with a byte-order mark.
    with path.open(newline="", encoding="utf-8-sig", errors="replace") as handle:
        rows = read_rows(_counted_lines(handle, progress), datetime.now(UTC), reason)
        summary = admin.import_entries(rows, who, on_reject=reject, on_progress=progress.update)
    progress.finish()
    if args.json:
        print_json(summary.as_dict())
    else:
        say(
            f"{summary.rows:,} rows: {summary.imported:,} imported, {summary.updated:,} updated, "
            f"{summary.unchanged:,} already suppressed, {summary.lifted:,} lifted since, "
            f"{summary.expired:,} expired, {summary.duplicates:,} repeated, {summary.rejected:,} rejected"
        )
        for row in summary.rejected_rows:
            say(f"  {row}")
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    store = SuppressionStore(table_name(args))
    reason = Reason(args.reason) if args.reason else None
    states = store.iter_suppressed(reason, datetime.now(UTC), page_size=args.page_size)
    if args.output:
        with Path(args.output).open("w", newline="", encoding="utf-8") as handle:
            count = _write_export(states, args.format, handle)
    else:
        count = _write_export(states, args.format, answer_stream())
    if args.output:
        say(f"exported {count:,} addresses to {args.output}")
    return 0


def _write_export(states: Iterator[AddressState], fmt: str, stream: TextIO) -> int:
    """One row per address as pages arrive: memory stays one page, whatever the list's size."""
    count = 0
    if fmt == "csv":
        writer = csv.writer(stream)
        writer.writerow(EXPORT_COLUMNS)
        for state in states:
            row = state_json(state)
            writer.writerow([row[column] or "" for column in EXPORT_COLUMNS])
            count += 1
    else:
        for state in states:
            stream.write(json.dumps(state_json(state)) + "\n")
            count += 1
    stream.flush()
    return count


# ---- the parser ----------------------------------------------------------------------------


def _limit(text: str) -> int:
    value = int(text)
    if not 1 <= value <= 1000:
        raise argparse.ArgumentTypeError("must be between 1 and 1000")
    return value


def register(commands: Any) -> None:
    suppressions = commands.add_parser("suppressions", help="read and change the suppression list")
    suppressions.add_argument(
        "--table", help="table name (default: $SUPPRESSION_TABLE, else the local stack's)"
    )
    sub = suppressions.add_subparsers(dest="suppressions_command", required=True)

    get = sub.add_parser("get", help="one address: state, reason, expiry and recent history")
    get.add_argument("address")
    get.add_argument("--json", action="store_true", help="print JSON")
    get.add_argument(
        "--history", type=_limit, default=20, help="history entries to show (default: %(default)s)"
    )
    get.set_defaults(func=cmd_get)

    listing = sub.add_parser("list", help="suppressed addresses, newest first, a page at a time")
    listing.add_argument("--reason", choices=REASONS, help="only this reason (default: all)")
    listing.add_argument("--limit", type=_limit, default=100, help="addresses a page (default: %(default)s)")
    listing.add_argument("--cursor", help="the next_cursor of the previous page")
    listing.add_argument("--all", action="store_true", help="every page, streamed (with --json: JSON lines)")
    listing.add_argument("--json", action="store_true", help="print JSON: items and next_cursor")
    listing.set_defaults(func=_run(cmd_list))

    history = sub.add_parser("history", help="one address's history, newest first, a page at a time")
    history.add_argument("address")
    history.add_argument("--limit", type=_limit, default=50, help="entries a page (default: %(default)s)")
    history.add_argument("--cursor", help="the next_cursor of the previous page")
    history.add_argument("--json", action="store_true", help="print JSON: items and next_cursor")
    history.set_defaults(func=_run(cmd_history))

    actor_help = "who makes the change (default: the ARN of the AWS credentials in use)"
    add = sub.add_parser("add", help="suppress an address by hand (reason manual)")
    add.add_argument("address")
    add.add_argument("--note", required=True, help="why; kept in the address's history")
    add.add_argument("--actor", help=actor_help)
    add.add_argument("--json", action="store_true", help="print JSON")
    add.set_defaults(func=_run(cmd_add))

    remove = sub.add_parser("remove", help="lift an address's suppression")
    remove.add_argument("address")
    remove.add_argument("--note", required=True, help="why; kept in the address's history")
    remove.add_argument("--force", action="store_true", help="needed to lift a complaint")
    remove.add_argument("--actor", help=actor_help)
    remove.add_argument(
        "--ses-sync",
        action=argparse.BooleanOptionalAction,
        default=os.environ.get("SYNC_SES_ACCOUNT_SUPPRESSION_LIST", "false").lower() == "true",
        help="also lift it on SES's account-level suppression list "
        "(default: $SYNC_SES_ACCOUNT_SUPPRESSION_LIST, else off)",
    )
    remove.add_argument("--json", action="store_true", help="print JSON")
    remove.set_defaults(func=_run(cmd_remove))

    load = sub.add_parser("import", help="load a CSV export from another provider (safe to run twice)")
    load.add_argument("file", help="CSV: one address a line, or with a header row (see README)")
    load.add_argument("--reason", choices=REASONS, help="give every row this reason (ignore the file's)")
    load.add_argument("--actor", help=actor_help)
    load.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")
    load.add_argument("--json", action="store_true", help="print the summary as JSON")
    load.set_defaults(func=_run(cmd_import))

    export = sub.add_parser("export", help="every suppressed address, streamed page by page")
    export.add_argument("--format", choices=["csv", "jsonl"], default="csv")
    export.add_argument("--reason", choices=REASONS, help="only this reason (default: all)")
    export.add_argument("--output", help="write to this file (default: stdout)")
    export.add_argument("--page-size", type=_limit, default=1000, help=argparse.SUPPRESS)
    export.set_defaults(func=_run(cmd_export))
