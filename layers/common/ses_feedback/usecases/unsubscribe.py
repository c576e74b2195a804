"""One-click unsubscribe (RFC 8058): a signed token → the address's stream entry, through the write path.

The token is verified before anything is read (``rules.tokens``: constant-time HMAC); a
token this stack did not sign is ``InvalidToken`` and changes nothing. An unsubscribe is
idempotent: a second one finds the stream entry and writes nothing. Logs carry the
address's hash and the stream, never the address.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from aws_lambda_powertools.metrics import MetricUnit

from ses_feedback.observability import logger, metrics
from ses_feedback.parsing.addresses import address_hash
from ses_feedback.rules.announcements import unsubscribed_event
from ses_feedback.rules.scopes import unsubscribe_decision
from ses_feedback.usecases.write_path import WritePath

if TYPE_CHECKING:
    from ses_feedback.rules.tokens import KeyRing
    from ses_feedback.usecases.events_out import EventPublisher


@dataclass(frozen=True)
class Unsubscribed:
    stream: str
    changed: bool  # False: the address was already unsubscribed from the stream (or erased)


@dataclass(frozen=True)
class UnsubscribeLink:
    """What the confirmation page may show: the stream, and the address masked."""

    stream: str
    masked_address: str


@dataclass
class Unsubscriber:
    writes: WritePath
    key_ring: Callable[[], KeyRing]
    events: EventPublisher | None = None  # recipient.unsubscribed on the stack's bus

    def inspect(self, token: str) -> UnsubscribeLink:
        """Check the token and say what it would unsubscribe; reads and writes nothing."""
        address, stream = self.key_ring().verify(token)
        return UnsubscribeLink(stream=stream, masked_address=mask(address))

    def unsubscribe(self, token: str) -> Unsubscribed:
        address, stream = self.key_ring().verify(token)
        key = f"unsubscribe:{stream}:{uuid.uuid4().hex}"
        written = self.writes.write(address, lambda state, now: unsubscribe_decision(state, stream, now, key))
        changed = written.decision is not None
        if changed:
            metrics.add_metric(name="Unsubscribed", unit=MetricUnit.Count, value=1)
            if self.events is not None and written.decision is not None:
                self.events.announce([unsubscribed_event(written.decision, stream)])
        logger.info(
            "unsubscribe", extra={"stream": stream, "changed": changed, "address_hash": address_hash(address)}
        )
        return Unsubscribed(stream=stream, changed=changed)


def mask(address: str) -> str:
    """``jane@example.com`` → ``j***@example.com``: enough for a person to recognise, not to harvest."""
    local, _, domain = address.rpartition("@")
    return f"{local[:1]}***@{domain}"
