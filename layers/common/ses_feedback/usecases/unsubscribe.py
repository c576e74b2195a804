"""The recipient's own changes by their signed link: one-click unsubscribe (RFC 8058), the preference page.

The token is verified before anything is read (``rules.tokens``: constant-time HMAC); a
token this stack did not sign is ``InvalidToken`` and changes nothing. Every change goes
through the write path, is idempotent (a second one finds the entry and writes nothing) and
is in the address's history with ``source: recipient``. Reading the page changes nothing.
Logs carry the address's hash and the stream, never the address.

Each change the recipient makes is handed to ``announce`` as a ``RecipientChange``
(``recipient.unsubscribed`` / ``recipient.resubscribed``); ``wiring`` publishes it on the
stack's bus (docs/events.md) when the deployment has one.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from aws_lambda_powertools.metrics import MetricUnit

from ses_feedback.errors import InvalidRequest, RejoinRefused
from ses_feedback.model.preferences import Catalogue, PreferenceView
from ses_feedback.model.reasons import Reason
from ses_feedback.model.streams import ALL_BULK_UNSUBSCRIBED, Streams
from ses_feedback.observability import logger, metrics
from ses_feedback.parsing.addresses import address_hash
from ses_feedback.parsing.preference_form import FormAction, PreferenceForm
from ses_feedback.rules import preferences
from ses_feedback.rules.scopes import scope_words, unsubscribe_decision
from ses_feedback.usecases.write_path import WritePath

if TYPE_CHECKING:
    from ses_feedback.model.state import AddressState, Decision
    from ses_feedback.rules.tokens import KeyRing


UNSUBSCRIBED_EVENT = "recipient.unsubscribed"
RESUBSCRIBED_EVENT = "recipient.resubscribed"


@dataclass(frozen=True)
class Unsubscribed:
    stream: str
    changed: bool  # False: the address was already unsubscribed from the stream (or erased)


@dataclass(frozen=True)
class RecipientChange:
    """One change a recipient made to their own address: what its event carries."""

    kind: str  # "recipient.unsubscribed" or "recipient.resubscribed"
    address: str
    scope: str  # a stream, or ALL_BULK_UNSUBSCRIBED: every bulk stream
    occurred_at: datetime


@dataclass(frozen=True)
class PreferenceChange:
    """What a form on the page did, and the page as it now stands."""

    action: FormAction
    scope: str  # the stream, or ALL_BULK_UNSUBSCRIBED
    changed: bool  # False: it already was so (idempotent), or the address is erased
    view: PreferenceView


def not_announced(change: RecipientChange) -> None:
    """Without an event bus (EVENT_BUS_NAME unset), a recipient's change is in the history only."""


@dataclass
class Unsubscriber:
    writes: WritePath
    key_ring: Callable[[], KeyRing]
    streams: Streams = field(default_factory=Streams)
    announce: Callable[[RecipientChange], None] = not_announced

    def unsubscribe(self, token: str) -> Unsubscribed:
        address, stream = self.key_ring().verify(token)
        key = f"unsubscribe:{stream}:{uuid.uuid4().hex}"
        written = self.writes.write(address, lambda state, now: unsubscribe_decision(state, stream, now, key))
        changed = written.decision is not None
        if written.decision is not None:
            metrics.add_metric(name="Unsubscribed", unit=MetricUnit.Count, value=1)
            self.announce(RecipientChange(UNSUBSCRIBED_EVENT, address, stream, written.decision.occurred_at))
        logger.info(
            "unsubscribe", extra={"stream": stream, "changed": changed, "address_hash": address_hash(address)}
        )
        return Unsubscribed(stream=stream, changed=changed)

    # ---- the preference page -------------------------------------------------------------

    def preferences(self, token: str, catalogue: Catalogue) -> PreferenceView:
        """The page of the token's address: one read, no write (link scanners fetch GETs)."""
        address, stream = self.key_ring().verify(token)
        state = self.writes.store.get_state(address)
        return preferences.view(state, stream, mask(address), self._bulk(catalogue), self.writes.clock())

    def change(self, token: str, form: PreferenceForm, catalogue: Catalogue) -> PreferenceChange:
        """Carry out one of the page's forms; ``RejoinRefused``: a rejoin not the recipient's to make."""
        address, link_stream = self.key_ring().verify(token)
        state = self.writes.store.get_state(address)
        shown = self._bulk(catalogue)
        before = preferences.view(state, link_stream, mask(address), shown, self.writes.clock())
        scope = form.stream or ALL_BULK_UNSUBSCRIBED
        if form.stream is not None:
            choice = next((c for c in before.choices if c.stream == form.stream), None)
            if choice is None:
                raise InvalidRequest.of("stream", "not one of the streams this page offers")
            if form.action is FormAction.RESUBSCRIBE and choice.left_all:
                # Lifting the stream's own entry would still send nothing: the page does not offer it.
                raise InvalidRequest.of(
                    "stream", "every bulk stream was left: rejoin them first (resubscribe_all)"
                )
        if state.erased and not form.action.leaves:
            raise RejoinRefused(scope_words(scope), Reason.ERASED.value)
        key = f"{form.action.value}:{scope}:{uuid.uuid4().hex}"

        def rule(current: AddressState, now: datetime) -> Decision | None:
            if form.action.leaves:
                return preferences.leave(current, scope, now, key)
            return preferences.rejoin(current, scope, now, key)

        written = self.writes.write(address, rule, state)
        changed = written.decision is not None
        if written.decision is not None:
            kind = UNSUBSCRIBED_EVENT if form.action.leaves else RESUBSCRIBED_EVENT
            metrics.add_metric(
                name="Unsubscribed" if form.action.leaves else "Resubscribed", unit=MetricUnit.Count, value=1
            )
            self.announce(RecipientChange(kind, address, scope, written.decision.occurred_at))
        logger.info(
            "preference change",
            extra={
                "action": form.action.value,
                "scope": scope,
                "changed": changed,
                "address_hash": address_hash(address),
            },
        )
        after = preferences.view(written.state, link_stream, mask(address), shown, self.writes.clock())
        return PreferenceChange(action=form.action, scope=scope, changed=changed, view=after)

    def _bulk(self, catalogue: Catalogue) -> list[str]:
        """The catalogue's streams the page offers: bulk ones (transactional mail always goes)."""
        return [entry.stream for entry in catalogue.entries if self.streams.is_bulk(entry.stream)]


def mask(address: str) -> str:
    """``jane@example.com`` → ``j***@example.com``: enough for a person to recognise, not to harvest."""
    local, _, domain = address.rpartition("@")
    return f"{local[:1]}***@{domain}"
