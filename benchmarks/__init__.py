"""`make bench`: figures, not pass/fail. Each module has ``run(endpoint) -> list[str]``."""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Iterator
from typing import TextIO

# Read by Powertools at every flush: `make bench` sets it "true", metrics_on() where they count.
METRICS_DISABLED = "POWERTOOLS_METRICS_DISABLED"


class Written:
    """Where a handler's log lines and EMF documents go: counted as CloudWatch Logs would ingest
    them (each line one event, its uncompressed UTF-8 size), then written on to ``sink``."""

    def __init__(self, sink: TextIO) -> None:
        self.sink = sink
        self.bytes = 0

    def write(self, text: str) -> int:
        self.bytes += len(text.encode())
        return self.sink.write(text)

    def flush(self) -> None:
        self.sink.flush()


@contextlib.contextmanager
def into_devnull() -> Iterator[Written]:
    """Handlers still format their log lines and EMF metrics (that is part of their cost, as
    in Lambda), into /dev/null rather than into the report, and what they write is counted
    (the cost table prices it). Enter it after ``load_handler``: the shared logger takes the
    function's level then."""
    from ses_feedback.observability import logger  # noqa: PLC0415  # after load_handler, as in Lambda

    with open(os.devnull, "w") as devnull:
        sink = Written(devnull)
        with contextlib.redirect_stdout(sink):
            streams = [
                (h, h.setStream(sink)) for h in logger.handlers if isinstance(h, logging.StreamHandler)
            ]
            try:
                yield sink
            finally:
                for handler, stream in streams:
                    if stream is not None:
                        handler.setStream(stream)


@contextlib.contextmanager
def metrics_on() -> Iterator[None]:
    """Metrics published, as in Lambda: each invocation prints its EMF document (into /dev/null here).

    ``make bench`` turns them off for the figures that do not depend on them; off, Powertools'
    flush neither prints nor clears them, so a handler would do less than in Lambda and its
    metric set grow.
    """
    before = os.environ.get(METRICS_DISABLED)
    os.environ[METRICS_DISABLED] = "false"
    try:
        yield
    finally:
        if before is None:
            del os.environ[METRICS_DISABLED]
        else:
            os.environ[METRICS_DISABLED] = before
