"""SES's account-level suppression list (SES v2): the gateway for reading and lifting it.

SES keeps its own list and refuses to send to an address on it, whatever our table says:
lifting here without lifting there leaves the address blocked. ``entries`` pages through
``ListSuppressedDestinations``; ``remove`` calls ``DeleteSuppressedDestination`` and
treats "not on the list" as done, so a lift can be retried safely.

SES keeps that list per region: ``SesAccountSuppressionLists`` is every region the deployment
sends from (docs/deploy.md, "Several regions"), read one after the other and lifted in each.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Protocol

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from ses_feedback.model.reasons import Reason

if TYPE_CHECKING:
    from mypy_boto3_sesv2 import SESV2Client

# SES's reasons → ours. SES suppresses only for hard bounces and complaints.
SES_REASONS: dict[str, Reason] = {"BOUNCE": Reason.HARD_BOUNCE, "COMPLAINT": Reason.COMPLAINT}
# ListSuppressedDestinations returns at most 1,000 entries a page.
PAGE_SIZE = 1000


@dataclass(frozen=True)
class SesSuppressedDestination:
    email_address: str
    reason: str  # SES's word: BOUNCE or COMPLAINT
    last_update_time: datetime


class SesSuppressionList(Protocol):
    """What the sync reads and a lift removes from: one region's list, or every region's."""

    def entries(self) -> Iterator[SesSuppressedDestination]: ...

    def remove(self, address: str) -> bool: ...


class SesAccountSuppressionList:
    """SES's account-level list in one region (None: the region boto3 picks)."""

    def __init__(self, client: SESV2Client | None = None, region: str | None = None) -> None:
        self._client = client
        self.region = region

    @property
    def client(self) -> SESV2Client:
        if self._client is None:
            self._client = boto3.client(
                "sesv2",
                region_name=self.region,
                config=Config(retries={"mode": "standard", "max_attempts": 8}),
            )
        return self._client

    def entries(self, page_size: int = PAGE_SIZE) -> Iterator[SesSuppressedDestination]:
        """Every entry of the account's list, one page in memory at a time."""
        arguments: dict[str, Any] = {"PageSize": page_size}
        while True:
            response = self.client.list_suppressed_destinations(**arguments)
            for summary in response.get("SuppressedDestinationSummaries", []):
                updated = summary["LastUpdateTime"]
                yield SesSuppressedDestination(
                    email_address=summary["EmailAddress"],
                    reason=summary["Reason"],
                    last_update_time=updated if updated.tzinfo else updated.replace(tzinfo=UTC),
                )
            token = response.get("NextToken")
            if not token:
                return
            arguments["NextToken"] = token

    def remove(self, address: str) -> bool:
        """Take the address off SES's list; False when it was not on it."""
        try:
            self.client.delete_suppressed_destination(EmailAddress=address)
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "NotFoundException":
                return False
            raise
        return True


class SesAccountSuppressionLists:
    """SES's list in each region the deployment sends from: read all of them, lift in each."""

    def __init__(self, lists: Sequence[SesAccountSuppressionList]) -> None:
        if not lists:
            raise ValueError("at least one region's list")
        self.lists = tuple(lists)

    @classmethod
    def of(cls, regions: Sequence[str | None]) -> SesAccountSuppressionLists:
        return cls([SesAccountSuppressionList(region=region) for region in regions])

    def entries(self) -> Iterator[SesSuppressedDestination]:
        """Every region's entries, one region after the other (an address on two lists comes twice:
        the import writes it once)."""
        for ses in self.lists:
            yield from ses.entries()

    def remove(self, address: str) -> bool:
        """Take the address off every region's list (each call is safe to repeat, so a lift that
        fails half-way is retried whole); False when no region had it."""
        removed = [ses.remove(address) for ses in self.lists]
        return any(removed)
