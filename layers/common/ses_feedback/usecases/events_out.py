"""Publishing events to app teams: the timeline's exactly-once check, the bus, then the timeline.

``publish`` leaves out the events the timeline already holds (published before: a repeated
notification publishes nothing), publishes the rest (10 to a ``PutEvents``, failed entries
retried: ``edges.bus``) and only then adds them to their messages' timelines, so an event the
bus refused is not marked published and the redelivered notification publishes it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from aws_lambda_powertools.metrics import MetricUnit

from ses_feedback.errors import EventsNotPublished
from ses_feedback.model.moments import utc_now
from ses_feedback.model.outbound import BusEvent
from ses_feedback.observability import logger, metrics
from ses_feedback.rules.announcements import recipient_change

if TYPE_CHECKING:
    from ses_feedback.edges.bus import EventBus
    from ses_feedback.edges.timeline import TimelineStore
    from ses_feedback.usecases.unsubscribe import RecipientChange


@dataclass
class EventPublisher:
    bus: EventBus
    timeline: TimelineStore | None = None
    clock: Callable[[], datetime] = utc_now

    def publish(self, events: Sequence[BusEvent]) -> int:
        """Publish the events not published before; the number published."""
        unique = list({event.id: event for event in events}.values())
        if self.timeline is not None and unique:
            seen = self.timeline.published(unique)
            unique = [event for event in unique if event.id not in seen]
        if not unique:
            return 0
        try:
            self.bus.publish(unique)
        except EventsNotPublished as exc:
            # Those the bus took are marked published; the others are not, and are raised.
            left = set(exc.ids)
            self._mark([event for event in unique if event.id not in left])
            metrics.add_metric(name="EventsNotPublished", unit=MetricUnit.Count, value=len(left))
            raise
        self._mark(unique)
        return len(unique)

    def announce(self, events: Sequence[BusEvent]) -> None:
        """Publish what an operation already did (a send, a lift, an erasure): the operation
        stands whatever the bus says, so a failure is logged and counted (EventsNotPublished),
        not raised."""
        try:
            self.publish(events)
        except EventsNotPublished as exc:
            logger.error(
                "events not published",
                extra={"types": sorted({e.type for e in events}), "events": len(exc.ids)},
            )

    def _mark(self, published: list[BusEvent]) -> None:
        if not published:
            return
        if self.timeline is not None:
            self.timeline.append(published, self.clock())
        metrics.add_metric(name="EventsPublished", unit=MetricUnit.Count, value=len(published))


def announce_changes(publisher: EventPublisher) -> Callable[[RecipientChange], None]:
    """The unsubscribe page's ``announce``: each change a recipient makes, as an event on the bus."""

    def announce(change: RecipientChange) -> None:
        publisher.announce([recipient_change(change.kind, change.address, change.scope, change.occurred_at)])

    return announce
