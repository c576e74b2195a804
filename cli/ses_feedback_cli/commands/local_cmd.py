"""`ses-feedback local …`: the stack on a moto server (AWS_ENDPOINT_URL)."""

from __future__ import annotations

import argparse
from typing import Any

from ses_feedback_cli.local import LocalStack, bootstrap, drain
from ses_feedback_cli.output import print_json


def cmd_bootstrap(args: argparse.Namespace) -> int:
    print_json(bootstrap(LocalStack(prefix=args.prefix)))
    return 0


def cmd_drain(args: argparse.Namespace) -> int:
    summary = drain(LocalStack(prefix=args.prefix), batch_size=args.batch_size)
    print_json(
        {
            "processed": summary.processed,
            "failed": summary.failed,
            "batches": summary.batches,
            "invocation_errors": summary.invocation_errors,
        }
    )
    return 0


def register(commands: Any) -> None:
    local = commands.add_parser("local", help="local mode on a moto server (AWS_ENDPOINT_URL)")
    local_commands = local.add_subparsers(dest="local_command", required=True)
    local_commands.add_parser(
        "bootstrap", help="create the template's resources; print logical ID → name/ARN/URL as JSON"
    ).set_defaults(func=cmd_bootstrap)
    drain_parser = local_commands.add_parser(
        "drain", help="run FeedbackFunction over the feedback queue until empty"
    )
    drain_parser.add_argument("--batch-size", type=int, default=None, help="default: the template's")
    drain_parser.set_defaults(func=cmd_drain)
