"""`ses-feedback demo`: the whole loop locally, in one command."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from ses_feedback_emulator import demo

from ses_feedback_cli.arguments import positive_rate
from ses_feedback_cli.output import say


def cmd_demo(args: argparse.Namespace) -> int:
    progress = (lambda text: print(text, file=sys.stderr, flush=True)) if args.json else say
    result = demo.run(progress, max_send_rate=args.max_send_rate)
    if args.json:
        say(demo.as_json(result))
    else:
        say()
        for line in demo.table(result):
            say(line)
        say()
        skipped = sum(row.round2 == "skipped" for row in result.rows)
        say(
            f"{result.feedback_applied} feedback notifications applied; the second round skipped "
            f"{skipped} suppressed recipient(s). {result.seconds:.1f} s."
        )
    return 0 if result.consistent else 1


def register(commands: Any) -> None:
    parser = commands.add_parser("demo", help="run the whole loop on a fresh embedded stack (no AWS account)")
    parser.add_argument("--json", action="store_true", help="print the outcome table as JSON")
    parser.add_argument(
        "--max-send-rate",
        type=positive_rate,
        default=None,
        help="the local SES answers Throttling above this many messages a second (as local up's)",
    )
    parser.set_defaults(func=cmd_demo)
