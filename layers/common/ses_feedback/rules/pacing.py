"""How fast, and how much, a bulk worker may send: pure arithmetic on SES's quota.

The stack's bulk mail may use ``BulkRateShare`` (default 0.8) of SES's ``MaxSendRate`` and of
its 24-hour quota, so transactional mail keeps the rest. At most ``BulkMaxConcurrency``
workers run at once (the event source's maximum concurrency), so each paces itself at its
share of that: together they can never pass it, with no shared counter to pay for.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field


def worker_rate(max_send_rate: float, share: float, max_concurrency: int) -> float:
    """Messages a second one worker may send."""
    return max_send_rate * share / max_concurrency


def quota_left(max_24_hour_send: float, sent_last_24_hours: float, share: float) -> int:
    """How many more messages bulk mail may send now without passing its share of the 24-hour quota."""
    return max(0, int(max_24_hour_send * share - sent_last_24_hours))


@dataclass
class Pacer:
    """Even spacing at ``rate`` messages a second: each send waits for its slot (no bursts).

    ``clock`` and ``sleep`` are passed in (``time.monotonic``/``time.sleep`` in a worker) so the
    spacing is tested without waiting.
    """

    rate: float
    clock: Callable[[], float]
    sleep: Callable[[float], None]
    _next: float | None = field(default=None, init=False)

    def wait(self) -> None:
        now = self.clock()
        slot = now if self._next is None or self._next < now else self._next
        if slot > now:
            self.sleep(slot - now)
        self._next = slot + 1.0 / self.rate

    def slow_down(self, seconds: float) -> None:
        """SES throttled: the next send waits at least ``seconds``."""
        self._next = max(self._next or 0.0, self.clock() + seconds)
