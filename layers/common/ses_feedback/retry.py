"""The one retry policy of every store retry, bounded in attempts and in time.

The store retries three things: a write that lost a version race (``VersionConflict``, the
write path re-reads and decides again), keys a ``BatchGetItem`` left unprocessed and items a
``BatchWriteItem`` left unprocessed (DynamoDB's answer when a partition is throttled; AWS
asks for a backoff before sending them again: ``until_processed``, the one loop that does it for
every table). All three wait as this policy says:
exponential backoff with full jitter (contenders spread apart), at most ``attempts`` tries,
and never past the invocation's deadline. A Lambda handler decorated with
``within_remaining_time`` sets that deadline from its context, less a margin to answer in:
API Gateway gives up on a request at 29 s, so a retry that would end later is not made and
the caller gets a refusal it may retry (503) instead of a timeout.
"""

from __future__ import annotations

import functools
import random
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, TypeVar

from ses_feedback.errors import StoreBusy

# time.monotonic() value past which no retry starts (None: no deadline, e.g. the CLI).
_DEADLINE: ContextVar[float | None] = ContextVar("ses_feedback_retry_deadline", default=None)

Handler = TypeVar("Handler", bound=Callable[..., Any])


@dataclass(frozen=True)
class RetryPolicy:
    """200 attempts carry 100 concurrent notifications for one address (the e2e test); the
    pause is capped at 0.2 s, so a lone conflict costs a few milliseconds."""

    attempts: int = 200
    base_seconds: float = 0.004
    cap_seconds: float = 0.2
    # Room left, at the deadline, to answer (and for API Gateway's 29 s against a 30 s function).
    margin_seconds: float = 2.0
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.monotonic

    def pause(self, attempt: int) -> float:
        return random.uniform(0, min(self.cap_seconds, self.base_seconds * 2 ** min(attempt, 6)))

    def wait(self, attempt: int) -> bool:
        """After failed attempt ``attempt`` (0 for the first): pause and say True if another
        attempt may follow, else say False at once (no attempts or no time left)."""
        if attempt + 1 >= self.attempts:
            return False
        pause = self.pause(attempt)
        deadline = _DEADLINE.get()
        if deadline is not None and self.clock() + pause > deadline - self.margin_seconds:
            return False
        self.sleep(pause)
        return True

    def until_processed(
        self, call: Callable[..., Any], request_items: dict[str, Any], unprocessed: str
    ) -> Iterator[dict[str, Any]]:
        """Each response of a DynamoDB ``BatchGetItem`` or ``BatchWriteItem`` (``call``), sent again
        for what it left ``unprocessed`` (``UnprocessedKeys`` or ``UnprocessedItems``: a throttled
        partition) after this policy's pause; ``StoreBusy`` when it has no attempt or no time left."""
        attempt = 0
        pending = request_items
        while True:
            response: dict[str, Any] = call(RequestItems=pending)
            yield response
            pending = dict(response.get(unprocessed) or {})
            if not pending:
                return
            if not self.wait(attempt):
                raise StoreBusy("DynamoDB kept leaving part of a batch unprocessed (throttling)")
            attempt += 1


@contextmanager
def deadline_in(seconds: float, clock: Callable[[], float] = time.monotonic) -> Iterator[None]:
    """Retries started inside this block end before ``seconds`` from now (less the margin)."""
    token = _DEADLINE.set(clock() + seconds)
    try:
        yield
    finally:
        _DEADLINE.reset(token)


def within_remaining_time(handler: Handler) -> Handler:
    """A Lambda handler whose store retries end before its invocation's time does."""

    @functools.wraps(handler)
    def bounded(event: Any, context: Any) -> Any:
        with deadline_in(context.get_remaining_time_in_millis() / 1000):
            return handler(event, context)

    return bounded  # type: ignore[return-value]
