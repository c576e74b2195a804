"""`ses-feedback`: the operator CLI. Each command is a thin shell around the domain package."""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from collections.abc import Sequence
from importlib import metadata
from types import ModuleType
from typing import Any, NoReturn

from ses_feedback_cli import output

# The command modules (and boto3, pydantic and the domain behind them) are imported inside
# ``main``'s guard: a Ctrl-C while they load is an interruption like any other, not a traceback.


def command_groups() -> list[ModuleType]:
    """Each command group registers itself here: one line per module in commands/."""
    from ses_feedback_cli.commands import (
        batches_cmd,
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

    return [
        demo_cmd,
        local_cmd,
        send_cmd,
        batches_cmd,
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


class _Parser(argparse.ArgumentParser):
    """argparse, with its refusals said by the one rule for errors (``output.error``), and
    ``--region`` on every command and sub-command (before or after its name, as the AWS CLI)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        from ses_feedback_cli.arguments import region_name

        # SUPPRESS: a sub-command without --region keeps the one given before its name.
        self.add_argument(
            "--region",
            type=region_name,
            default=argparse.SUPPRESS,
            help="the AWS region for every call (sets AWS_REGION and AWS_DEFAULT_REGION; "
            "default: $AWS_REGION, else $AWS_DEFAULT_REGION, else us-east-1)",
        )

    def error(self, message: str) -> NoReturn:
        if output.json_errors():
            output.error(f"{self.prog}: {message}", code="invalid_request")
            sys.exit(2)
        super().error(message)


def build_parser() -> argparse.ArgumentParser:
    from ses_feedback_stack.names import DEFAULT_PREFIX

    from ses_feedback_cli.arguments import stack_prefix

    parser = _Parser(
        prog="ses-feedback", description="Operate ses-feedback: local mode, suppression list, sending."
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    parser.add_argument(
        "--prefix",
        type=stack_prefix,
        default=DEFAULT_PREFIX,
        help="local stack name prefix (default: %(default)s)",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    for group in command_groups():
        group.register(commands)
    return parser


def _version() -> str:
    try:
        return metadata.version("ses-feedback")
    except metadata.PackageNotFoundError:
        return "(not installed)"


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; whatever happens, one line (or one JSON answer) and an exit status.

    0 done, 1 refused or failed, 2 bad input, 70 a bug (the line says what to report),
    130 interrupted (Ctrl-C), 141 stdout closed by its reader (``… | head``): quietly.
    """
    arguments = list(sys.argv[1:] if argv is None else argv)
    output.errors_as_json("--json" in arguments)
    try:
        return _run(arguments)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr, flush=True)
        return 130
    except BrokenPipeError:
        # The reader has what it wanted (`export | head`): no message, and no second error
        # when the interpreter flushes stdout on its way out.
        with contextlib.suppress(OSError):
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141


def _run(arguments: list[str]) -> int:
    from pydantic import ValidationError
    from ses_feedback.errors import SesFeedbackError, is_refusal
    from ses_feedback.model.answers import ErrorAnswer
    from ses_feedback.parsing.problems import invalid_request
    from ses_feedback.settings import Settings
    from ses_feedback_stack.names import region

    from ses_feedback_cli import aws_failures

    output.capture_answer_stream()
    args = build_parser().parse_args(arguments)
    output.errors_as_json(bool(getattr(args, "json", False)))
    # Before any client is built: boto3 reads only AWS_DEFAULT_REGION, and most clients here are
    # built without a region; Lambda sets both, a shell (docs/local-mode.md, `local up`'s hint)
    # may set AWS_REGION alone; --region sets both, as the AWS CLI's --region wins over them.
    if getattr(args, "region", None):
        os.environ["AWS_REGION"] = os.environ["AWS_DEFAULT_REGION"] = args.region
    os.environ.setdefault("AWS_DEFAULT_REGION", region())
    with contextlib.redirect_stdout(sys.stderr), output.operator_logging():
        try:
            result: int = args.func(args)
        except aws_failures.FAILURES as exc:
            output.error(aws_failures.explain(exc), code=aws_failures.code_of(exc))
            return 1
        except SesFeedbackError as exc:
            if not is_refusal(exc):
                raise
            output.error(str(exc), body=ErrorAnswer.of(exc).model_dump(mode="json"))
            return exc.exit_status
        except (KeyboardInterrupt, BrokenPipeError):
            raise
        except OSError as exc:
            # A file that cannot be read or written, a local server that is not there.
            where = f"{exc.filename}: " if exc.filename else ""
            output.error(f"{where}{exc.strerror or exc}", code=type(exc).__name__)
            return 1
        except ValidationError as exc:
            if exc.title != Settings.__name__:
                return _internal_error(exc)
            # The shell's environment (SUPPRESSION_TABLE, HOME_REGION, …) is not what the
            # functions' settings take: name the variable, as a refusal of bad input.
            refusal = invalid_request(exc.errors())
            output.error(f"environment variable {refusal}", code="invalid_environment")
            return 2
        except Exception as exc:
            return _internal_error(exc)
    return result


def _internal_error(exc: Exception) -> int:
    """A bug, not an answer: one line to report; the traceback on request."""
    if os.environ.get("SES_FEEDBACK_TRACEBACK"):
        raise exc
    output.error(
        f"internal error ({type(exc).__name__}: {' '.join(str(exc).split())[:300]}): "
        "a bug; please report it, with the traceback that SES_FEEDBACK_TRACEBACK=1 prints",
        code="internal_error",
    )
    return 70


if __name__ == "__main__":
    sys.exit(main())
