"""Where a command's answer goes.

The answer goes to the real stdout. While a command runs, ``main`` sends everything else
that writes to stdout (handler logs, EMF metrics) to stderr, so ``--json`` output stays
parseable.
"""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from typing import Any, TextIO

_answer: TextIO = sys.stdout


def capture_answer_stream() -> None:
    global _answer  # noqa: PLW0603 - the process's real stdout, taken once per run
    _answer = sys.stdout
    # The service logger took stdout when it was imported (right for Lambda); a command's
    # logs are not its answer, so they go to stderr.
    from ses_feedback.observability import logger

    logger.registered_handler.setStream(_CurrentStderr())  # type: ignore[attr-defined]


class _CurrentStderr:
    """Whatever ``sys.stderr`` is when a line is written (tests swap it)."""

    def write(self, text: str) -> int:
        return sys.stderr.write(text)

    def flush(self) -> None:
        sys.stderr.flush()


def answer_stream() -> TextIO:
    """Where answers go, for commands that stream many lines (export, list --all)."""
    return _answer


def say(text: str = "") -> None:
    print(text, file=_answer, flush=True)


def print_json(value: Any) -> None:
    say(json.dumps(value, indent=2))


def error(text: str) -> None:
    print(f"error: {text}", file=sys.stderr, flush=True)


def iso(moment: datetime | None) -> str | None:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z") if moment else None
