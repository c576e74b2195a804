"""`ses-feedback`: the operator CLI. Each command is a thin shell around the domain package."""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from collections.abc import Sequence

from ses_feedback_stack.names import DEFAULT_PREFIX, region

from ses_feedback_cli import aws_failures
from ses_feedback_cli.commands import (
    demo_cmd,
    dmarc_cmd,
    doctor_cmd,
    local_cmd,
    messages_cmd,
    openapi_cmd,
    production_access_cmd,
    redrive_cmd,
    send_cmd,
    stats_cmd,
    streams_cmd,
    suppressions_cmd,
    webhooks_cmd,
)
from ses_feedback_cli.output import capture_answer_stream, error, operator_logging

# Each command group registers itself here: one line per module in commands/.
COMMAND_GROUPS = [
    demo_cmd,
    local_cmd,
    send_cmd,
    suppressions_cmd,
    streams_cmd,
    messages_cmd,
    webhooks_cmd,
    redrive_cmd,
    stats_cmd,
    doctor_cmd,
    dmarc_cmd,
    production_access_cmd,
    openapi_cmd,
]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ses-feedback", description="Operate ses-feedback: local mode, suppression list, sending."
    )
    parser.add_argument(
        "--prefix", default=DEFAULT_PREFIX, help="local stack name prefix (default: %(default)s)"
    )
    commands = parser.add_subparsers(dest="command", required=True)
    for group in COMMAND_GROUPS:
        group.register(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    # boto3 reads only AWS_DEFAULT_REGION, and most clients here are built without a region;
    # Lambda sets both, a shell (docs/local-mode.md, `local up`'s hint) may set AWS_REGION alone.
    os.environ.setdefault("AWS_DEFAULT_REGION", region())
    capture_answer_stream()
    with contextlib.redirect_stdout(sys.stderr), operator_logging():
        try:
            result: int = args.func(args)
        except aws_failures.FAILURES as exc:
            said = aws_failures.explain(exc)
            if said is None:
                raise
            error(said)
            return 1
    return result


if __name__ == "__main__":
    sys.exit(main())
