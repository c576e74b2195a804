"""What the API answers (pydantic): the OpenAPI document is built from these, and the CLI prints them.

One renderer per thing: ``Suppression.of`` for an address's state, ``HistoryItem.of`` for a
history entry, ``ErrorAnswer.of`` for every refusal (through the error table).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from ses_feedback.errors import (
    REFUSALS,
    Refusal,
    SesFeedbackError,
    SuppressedRecipientsRejected,
    refusal_of_code,
)
from ses_feedback.model.moments import iso_z
from ses_feedback.model.preferences import Catalogue
from ses_feedback.model.reasons import Reason
from ses_feedback.model.state import (
    AddressState,
    HistoryEntry,
    HistoryPage,
    ManualOutcome,
    StatePage,
    StreamStatePage,
)
from ses_feedback.model.streams import EVERY, Streams


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# ---- sending ----------------------------------------------------------------------------------


class SendStatus(StrEnum):
    SENT = "sent"  # every recipient was sent to
    PARTIALLY_SUPPRESSED = "partially_suppressed"  # sent to the others; the suppressed were dropped
    SUPPRESSED = "suppressed"  # everyone was suppressed: nothing sent, SES not called
    # on_suppressed=reject and someone was suppressed: nothing sent. A refusal: its code, HTTP
    # status and exit status are its row in the error table.
    REJECTED = REFUSALS[SuppressedRecipientsRejected].code


class SuppressedRecipient(BaseModel):
    address: str
    reason: Reason
    since: datetime | None


class SentMessage(BaseModel):
    to: str
    message_id: str


class SendAnswer(BaseModel):
    status: SendStatus
    message_id: str | None = Field(default=None, description="SES message id; null when nothing was sent")
    sent_to: list[str] = Field(default_factory=list, description="normalised addresses given to SES")
    suppressed: list[SuppressedRecipient] = Field(default_factory=list)
    messages: list[SentMessage] = Field(
        default_factory=list,
        description="bulk streams: one message per recipient, each with its SES message id "
        "(message_id is the first); empty on transactional streams",
    )

    @property
    def refusal(self) -> Refusal | None:
        """The error table's row for this answer: ``rejected`` has one; the others are answers."""
        return refusal_of_code(self.status)

    @property
    def http_status(self) -> int:
        return self.refusal.http_status if self.refusal else 200


# ---- refusals (every door) ----------------------------------------------------------------------


class FieldProblem(BaseModel):
    field: str | None
    message: str


class ErrorDetail(BaseModel):
    code: str = Field(description="stable error code; docs/refusals.md lists them with their HTTP status")
    message: str
    field: str | None = Field(default=None, description="the request field that is wrong, if one is")
    problems: list[FieldProblem] = Field(
        default_factory=list,
        description="every wrong field; for queue_unavailable, each recipient not queued "
        "(recipients[i], i its index in the request)",
    )


class ErrorAnswer(BaseModel):
    error: ErrorDetail

    @classmethod
    def of(cls, error: SesFeedbackError) -> ErrorAnswer:
        """The answer body for a refusal; its code comes from the error table."""
        return cls(
            error=ErrorDetail(
                code=error.code,
                message=error.message,
                field=error.field,
                problems=[FieldProblem(field=f, message=m) for f, m in error.problems],
            )
        )


def exit_status_of(body: dict[str, Any]) -> int:
    """The CLI's exit status for an answer body, either door's: 0 done, else its row's in the error table.

    An error body whose code has no row (a function error) is 1.
    """
    error = body.get("error")
    refusal = refusal_of_code(error["code"] if error else body.get("status", ""))
    if refusal is not None:
        return refusal.exit_status
    return 1 if error else 0


def refusal_responses(kinds: Iterable[type[SesFeedbackError]]) -> dict[int, Any]:
    """A route's OpenAPI error responses, by HTTP status, from the error table."""
    by_status: dict[int, list[str]] = {}
    for kind in kinds:
        refusal = REFUSALS[kind]
        by_status.setdefault(refusal.http_status, []).append(
            f"{refusal.code}: {(kind.__doc__ or '').strip()}"
        )
    return {
        status: {"description": "; ".join(lines), "content": {"application/json": {"model": ErrorAnswer}}}
        for status, lines in sorted(by_status.items())
    }


# ---- the suppression list -----------------------------------------------------------------------


class Suppression(_Model):
    address: str
    reason: Reason | None = Field(description="null when the address is not suppressed")
    since: str | None = None
    expires_at: str | None = Field(default=None, description="only soft bounces expire")
    note: str | None = None
    actor: str | None = Field(default=None, description="who suppressed it by hand or imported it")

    @classmethod
    def of(cls, state: AddressState, now: datetime) -> Suppression:
        if not state.is_suppressed(now):
            return cls(address=state.address, reason=None)
        return cls(
            address=state.address,
            reason=state.reason,
            since=iso_z(state.since),
            expires_at=iso_z(state.expires_at),
            note=state.note,
            actor=state.actor,
        )


class StreamSuppression(Suppression):
    """One row of a stream's listing: the suppression that applies on that stream."""

    scope: str | None = Field(
        description="what it covers: '*' every stream, '*bulk' every bulk stream (a complaint), "
        "'*bulk-unsubscribed' every bulk stream (the recipient left them all), or the stream's name "
        "(an unsubscribe); null when nothing applies on the stream"
    )

    @classmethod
    def on(cls, state: AddressState, stream: str, bulk: bool, now: datetime) -> StreamSuppression:
        applying = state.scope_on(stream, bulk, now)
        if applying is None:
            return cls(address=state.address, reason=None, scope=None)
        scope, reason, since = applying
        if scope == EVERY:
            return cls(**Suppression.of(state, now).model_dump(), scope=scope)
        # A scoped entry keeps its reason and date only: no note, actor or expiry.
        return cls(address=state.address, reason=reason, since=iso_z(since), scope=scope)


class HistoryItem(_Model):
    occurred_at: str
    event_type: str = Field(description="SES's event type, or Manual / Import")
    action: str = Field(description="suppress, lift, count_soft_bounce, reset_soft_bounces, record")
    detail: str
    reason: str | None = None
    note: str | None = None
    actor: str | None = None
    source: str | None = Field(default=None, description="'recipient' for the address's own changes")

    @classmethod
    def of(cls, entry: HistoryEntry) -> HistoryItem:
        return cls(
            occurred_at=iso_z(entry.occurred_at),
            event_type=entry.event_type,
            action=entry.action,
            detail=entry.detail,
            reason=entry.reason,
            note=entry.note,
            actor=entry.actor,
            source=entry.source,
        )


class SuppressionPage(_Model):
    items: list[Suppression]
    next_cursor: str | None = Field(description="pass as ?cursor= for the next page; null on the last")

    @classmethod
    def of(cls, page: StatePage, now: datetime) -> SuppressionPage:
        return cls(items=[Suppression.of(s, now) for s in page.items], next_cursor=page.next_cursor)


class StreamSuppressionPage(_Model):
    """GET /suppressions?stream=S: the addresses mail on stream S may not go to now."""

    stream: str
    items: list[StreamSuppression]
    next_cursor: str | None = Field(description="pass as ?cursor= for the next page; null on the last")

    @classmethod
    def of(cls, page: StreamStatePage, now: datetime) -> StreamSuppressionPage:
        return cls(
            stream=page.stream,
            items=[StreamSuppression.on(s, page.stream, page.bulk, now) for s in page.items],
            next_cursor=page.next_cursor,
        )


class HistoryPageModel(_Model):
    items: list[HistoryItem]
    next_cursor: str | None

    @classmethod
    def of(cls, page: HistoryPage) -> HistoryPageModel:
        return cls(items=[HistoryItem.of(e) for e in page.items], next_cursor=page.next_cursor)


class ScopedItem(_Model):
    scope: str = Field(
        description="a stream name, '*bulk' (a complaint about bulk mail) or '*bulk-unsubscribed' "
        "(the recipient left every bulk stream)"
    )
    reason: Reason
    since: str | None


class SuppressionDetail(_Model):
    """GET /suppressions/{address}: the state and the newest history entries."""

    suppression: Suppression
    soft_bounce_count: int
    lifted_at: str | None
    history: list[HistoryItem]
    scoped: list[ScopedItem] = Field(
        default_factory=list,
        description="suppressions of one stream or of every bulk stream ('*bulk', '*bulk-unsubscribed')",
    )

    @classmethod
    def of(cls, state: AddressState, history: list[HistoryEntry], now: datetime) -> SuppressionDetail:
        return cls(
            suppression=Suppression.of(state, now),
            soft_bounce_count=state.soft_bounce_count,
            lifted_at=iso_z(state.lifted_at),
            history=[HistoryItem.of(e) for e in history],
            scoped=[ScopedItem(scope=e.scope, reason=e.reason, since=iso_z(e.since)) for e in state.scoped],
        )


class AddressStatus(Suppression):
    """The CLI's ``suppressions get``: the same detail, flat, with ``suppressed`` spelled out."""

    suppressed: bool
    soft_bounce_count: int
    lifted_at: str | None
    history: list[HistoryItem]
    scoped: list[ScopedItem] = Field(default_factory=list)

    @classmethod
    def of_detail(cls, detail: SuppressionDetail) -> AddressStatus:
        return cls(
            **detail.suppression.model_dump(),
            suppressed=detail.suppression.reason is not None,
            soft_bounce_count=detail.soft_bounce_count,
            lifted_at=detail.lifted_at,
            history=detail.history,
            scoped=detail.scoped,
        )


class ManualChange(_Model):
    """The answer to PUT and DELETE."""

    suppression: Suppression
    changed: bool = Field(description="false when nothing had to change (already suppressed as strongly)")
    ses_removed: bool | None = Field(
        default=None, description="DELETE with the SES sync on: whether SES's account list had it"
    )

    @classmethod
    def of(cls, outcome: ManualOutcome, now: datetime) -> ManualChange:
        return cls(
            suppression=Suppression.of(outcome.state, now),
            changed=outcome.changed,
            ses_removed=outcome.ses_removed,
        )


class StreamStatus(_Model):
    """GET /suppressions/{address}?stream=S and ``suppressions get --stream S``: that stream's answer."""

    address: str
    stream: str
    suppressed: bool = Field(description="whether mail on this stream would be dropped for this address")
    reason: Reason | None = Field(
        description="why: an every-stream reason, complaint (bulk), unsubscribed, erased"
    )
    since: str | None


class ErasureAnswer(_Model):
    """POST /suppressions/{address}/erasure and ``suppressions erase``."""

    erased: bool = Field(description="always true: the address is erased (again, if it was)")
    deleted_items: int = Field(description="items that held the address in clear, deleted now")
    since: str | None = Field(description="when the address was first erased")


class CatalogueStream(_Model):
    """One bulk stream of the catalogue: what the preference page shows of it."""

    stream: str
    title: dict[str, str] = Field(description="the display name, by language tag ('en' always)")
    description: dict[str, str] = Field(description="one line, by language tag ('en' always)")
    transactional: bool = Field(
        description="true: named in TransactionalStreams, so the page leaves it out (it cannot be left)"
    )


class StreamCatalogueAnswer(_Model):
    """``ses-feedback streams list --json``."""

    streams: list[CatalogueStream]

    @classmethod
    def of(cls, catalogue: Catalogue, streams: Streams) -> StreamCatalogueAnswer:
        return cls(
            streams=[
                CatalogueStream(
                    stream=entry.stream,
                    title=entry.title,
                    description=entry.description,
                    transactional=not streams.is_bulk(entry.stream),
                )
                for entry in catalogue.entries
            ]
        )
