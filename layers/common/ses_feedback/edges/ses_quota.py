"""SES's sending quota (SES v2 ``GetAccount``): the rate and the 24-hour count a bulk worker keeps under.

Read at most once a minute per container: SES updates ``SentLast24Hours`` within minutes,
and a rate raised by AWS is picked up within that minute.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import boto3
from botocore.config import Config

if TYPE_CHECKING:
    from mypy_boto3_sesv2 import SESV2Client

REREAD_SECONDS = 60.0


@dataclass(frozen=True)
class SendQuota:
    max_send_rate: float  # messages a second
    max_24_hour_send: float
    sent_last_24_hours: float


class SesQuota:
    def __init__(
        self, client: SESV2Client | None = None, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._client = client
        self._clock = clock
        self._read: tuple[float, SendQuota] | None = None

    @property
    def client(self) -> SESV2Client:
        if self._client is None:
            self._client = boto3.client(
                "sesv2", config=Config(retries={"mode": "standard", "max_attempts": 8})
            )
        return self._client

    def current(self, fresh: bool = False) -> SendQuota:
        now = self._clock()
        if fresh or self._read is None or now - self._read[0] >= REREAD_SECONDS:
            quota = self.client.get_account()["SendQuota"]
            self._read = (
                now,
                SendQuota(
                    max_send_rate=float(quota.get("MaxSendRate", 1.0)),
                    max_24_hour_send=float(quota.get("Max24HourSend", 200.0)),
                    sent_last_24_hours=float(quota.get("SentLast24Hours", 0.0)),
                ),
            )
        return self._read[1]

    def count(self, sent: int) -> None:
        """Add what this worker sent since the last read, so the next check sees it before SES does."""
        if self._read is not None and sent:
            at, quota = self._read
            self._read = (
                at,
                SendQuota(quota.max_send_rate, quota.max_24_hour_send, quota.sent_last_24_hours + sent),
            )
