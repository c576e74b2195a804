"""`ses-feedback suppressions …`: read and change the suppression list."""

from __future__ import annotations

import argparse
import os
from datetime import UTC, datetime
from typing import Any

from ses_feedback.addresses import normalize_address
from ses_feedback.errors import InvalidAddress
from ses_feedback.store import SuppressionStore

from ses_feedback_cli.local import LocalStack
from ses_feedback_cli.output import error, iso, print_json, say


def table_name(args: argparse.Namespace) -> str:
    """--table, else $SUPPRESSION_TABLE (as in Lambda), else the local stack's table."""
    return str(
        args.table
        or os.environ.get("SUPPRESSION_TABLE")
        or LocalStack(prefix=args.prefix).name("SuppressionTable")
    )


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
        "history": [
            {
                "occurred_at": iso(entry.occurred_at),
                "event_type": entry.event_type,
                "action": entry.action,
                "detail": entry.detail,
                "reason": entry.reason,
            }
            for entry in history
        ],
    }
    if args.json:
        print_json(answer)
        return 0
    status = f"suppressed ({answer['reason']}) since {answer['since']}" if suppressed else "not suppressed"
    if answer["expires_at"]:
        status += f", until {answer['expires_at']}"
    say(f"{address}: {status}; soft bounces in window: {state.soft_bounce_count}")
    for entry in answer["history"]:
        say(f"  {entry['occurred_at']}  {entry['event_type']:<12} {entry['detail']:<28} {entry['action']}")
    return 0


def register(commands: Any) -> None:
    suppressions = commands.add_parser("suppressions", help="read and change the suppression list")
    suppressions.add_argument(
        "--table", help="table name (default: $SUPPRESSION_TABLE, else the local stack's)"
    )
    suppression_commands = suppressions.add_subparsers(dest="suppressions_command", required=True)
    get = suppression_commands.add_parser("get", help="one address: state, reason, expiry and recent history")
    get.add_argument("address")
    get.add_argument("--json", action="store_true", help="print JSON")
    get.add_argument("--history", type=int, default=20, help="history entries to show (default: %(default)s)")
    get.set_defaults(func=cmd_get)
