"""`make bench`: figures, not pass/fail. Each module has ``run(endpoint) -> list[str]``."""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Iterator


@contextlib.contextmanager
def into_devnull() -> Iterator[None]:
    """Handlers still format their log lines and EMF metrics (that is part of their cost, as
    in Lambda), into /dev/null rather than into the report. Enter it after ``load_handler``:
    the shared logger takes the function's level then."""
    from ses_feedback.observability import logger  # noqa: PLC0415  # after load_handler, as in Lambda

    with open(os.devnull, "w") as sink, contextlib.redirect_stdout(sink):
        streams = [(h, h.setStream(sink)) for h in logger.handlers if isinstance(h, logging.StreamHandler)]
        try:
            yield
        finally:
            for handler, stream in streams:
                if stream is not None:
                    handler.setStream(stream)
