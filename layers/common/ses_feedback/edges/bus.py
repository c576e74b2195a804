"""EventBridge: the stack's own bus, where app teams' events are published (docs/events.md).

``PutEvents`` takes at most 10 entries a request, and may accept some and fail others
(``FailedEntryCount``, an ``ErrorCode`` per failed entry, e.g. ``ThrottlingException`` or
``InternalFailure``): the failed entries alone are sent again, with backoff, and whatever is
still failing after the last attempt is raised (``EventsNotPublished`` names how many), never
dropped. botocore's own retries cover a whole request that fails.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import boto3
from botocore.config import Config

from ses_feedback.errors import EventsNotPublished
from ses_feedback.model.outbound import SOURCE, BusEvent
from ses_feedback.retry import RetryPolicy

# PutEvents' limit: 10 entries (and 256 KB) a request; our events are a few hundred bytes.
PUT_EVENTS_LIMIT = 10


# Failed entries are sent again under the one retry policy (retry.py: full-jitter backoff, bounded
# in attempts and by the invocation's deadline), with its own numbers: 5 attempts, 50 ms to 1 s.
PUBLISH_RETRY = RetryPolicy(attempts=5, base_seconds=0.05, cap_seconds=1.0)


def events_client() -> Any:
    return boto3.client("events", config=Config(retries={"mode": "standard", "max_attempts": 5}))


@dataclass
class EventBus:
    bus_name: str
    client: Any = None
    retry: RetryPolicy = PUBLISH_RETRY

    def __post_init__(self) -> None:
        if self.client is None:
            self.client = events_client()

    def publish(self, events: Sequence[BusEvent]) -> None:
        """Publish every event, 10 to a request; raise ``EventsNotPublished`` with the ids left."""
        failed: list[BusEvent] = []
        for start in range(0, len(events), PUT_EVENTS_LIMIT):
            failed.extend(self._put(list(events[start : start + PUT_EVENTS_LIMIT])))
        if failed:
            raise EventsNotPublished(
                f"{len(failed)} of {len(events)} events were not accepted by the bus after "
                f"{self.retry.attempts} attempts",
                ids=[event.id for event in failed],
            )

    def _put(self, batch: list[BusEvent]) -> list[BusEvent]:
        pending = batch
        attempt = 0
        while True:
            response = self.client.put_events(Entries=[self.entry(event) for event in pending])
            if not response.get("FailedEntryCount"):
                return []
            # Entries answer in the order they were sent; a failed one has an ErrorCode.
            pending = [
                event
                for event, result in zip(pending, response["Entries"], strict=True)
                if result.get("ErrorCode")
            ]
            if not self.retry.wait(attempt):
                return pending
            attempt += 1

    def entry(self, event: BusEvent) -> dict[str, Any]:
        return {
            "EventBusName": self.bus_name,
            "Source": SOURCE,
            "DetailType": event.type,
            "Detail": event.model_dump_json(),
            "Time": event.occurred_at,
        }
