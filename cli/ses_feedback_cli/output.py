"""Where a command's answer goes.

The answer goes to the real stdout. While a command runs, ``main`` sends everything else
that writes to stdout (handler logs, EMF metrics) to stderr, so ``--json`` output stays
parseable.

One rule for errors, in ``error``: under ``--json`` an error is the answer, a JSON object
``{"error": {"code", "message", "field", "problems"}}`` (the API's error body) on stdout;
otherwise it is one line ``error: …`` on stderr.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
from collections.abc import Iterator
from typing import Any, TextIO

_answer: TextIO = sys.stdout
_errors_as_json = False


def json_errors() -> bool:
    return _errors_as_json


def errors_as_json(on: bool) -> None:
    """Set by ``main`` from the command's ``--json``: where ``error`` writes."""
    global _errors_as_json  # noqa: PLW0603 - one command per process
    _errors_as_json = on


def capture_answer_stream() -> None:
    global _answer  # noqa: PLW0603 - the process's real stdout, taken once per run
    _answer = sys.stdout
    # The service logger took stdout when it was imported (right for Lambda); a command's
    # logs are not its answer, so they go to stderr.
    from ses_feedback.observability import logger

    logger.registered_handler.setStream(_CurrentStderr())  # type: ignore[attr-defined]


@contextlib.contextmanager
def operator_logging() -> Iterator[None]:
    """While a command runs in-process, the domain logs as ``ses-feedback-cli`` at WARNING.

    In Lambda its INFO lines (a suppression lifted, by whom) are the audit trail in
    CloudWatch; at a terminal the printed answer is the record and the history item holds
    the audit, so only warnings and errors show. POWERTOOLS_LOG_LEVEL, when set, still wins;
    local mode's functions set their own service name and level when they are loaded.
    """
    from ses_feedback.observability import logger

    level, service = logger.log_level, logger.get_current_keys().get("service")
    logger.setLevel(os.environ.get("POWERTOOLS_LOG_LEVEL", "WARNING"))
    logger.append_keys(service=os.environ.get("POWERTOOLS_SERVICE_NAME", "ses-feedback-cli"))
    try:
        yield
    finally:
        logger.setLevel(level)
        logger.append_keys(service=service)


class _CurrentStderr:
    """Whatever ``sys.stderr`` is when a line is written (tests swap it)."""

    def write(self, text: str) -> int:
        return sys.stderr.write(text)

    def flush(self) -> None:
        sys.stderr.flush()


def answer_stream() -> TextIO:
    """Where answers go, for commands that stream many lines (export, list --all)."""
    return _answer


def counted(count: int, one: str, many: str) -> str:
    """``1 row``, ``2 rows``: a count and its noun, for the lines a person reads."""
    return f"{count:,} {one if count == 1 else many}"


def say(text: str = "") -> None:
    print(text, file=_answer, flush=True)


def print_json(value: Any) -> None:
    say(json.dumps(value, indent=2))


def error(text: str, code: str = "failed", body: dict[str, Any] | None = None) -> None:
    """An error, by the one rule: the JSON answer under ``--json`` (``body`` when the error
    table gave one, else ``code`` and ``text``), else a line on stderr."""
    if _errors_as_json:
        said = body or {"error": {"code": code, "message": text, "field": None, "problems": []}}
        print(json.dumps(said), file=_answer, flush=True)
    else:
        print(f"error: {text}", file=sys.stderr, flush=True)
