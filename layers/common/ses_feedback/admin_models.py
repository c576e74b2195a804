"""What the suppressions API takes and answers (pydantic): the OpenAPI document is built from these."""

from __future__ import annotations

from datetime import UTC, datetime

from pydantic import BaseModel, ConfigDict, Field

from ses_feedback.admin import NOTE_MAX, ManualOutcome
from ses_feedback.policy import AddressState, Reason
from ses_feedback.store import HistoryEntry, HistoryPage, StatePage


def _iso(moment: datetime | None) -> str | None:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z") if moment else None


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ManualSuppressionRequest(_Model):
    """PUT /suppressions/{address}: suppress by hand, saying why."""

    note: str = Field(min_length=1, max_length=NOTE_MAX, description="why; kept in the address's history")


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
            since=_iso(state.since),
            expires_at=_iso(state.expires_at),
            note=state.note,
            actor=state.actor,
        )


class HistoryItem(_Model):
    occurred_at: str
    event_type: str = Field(description="SES's event type, or Manual / Import")
    action: str = Field(description="suppress, lift, count_soft_bounce, reset_soft_bounces, record")
    detail: str
    reason: str | None = None
    note: str | None = None
    actor: str | None = None

    @classmethod
    def of(cls, entry: HistoryEntry) -> HistoryItem:
        return cls(
            occurred_at=_iso(entry.occurred_at) or "",
            event_type=entry.event_type,
            action=entry.action,
            detail=entry.detail,
            reason=entry.reason,
            note=entry.note,
            actor=entry.actor,
        )


class SuppressionPage(_Model):
    items: list[Suppression]
    next_cursor: str | None = Field(description="pass as ?cursor= for the next page; null on the last")

    @classmethod
    def of(cls, page: StatePage, now: datetime) -> SuppressionPage:
        return cls(items=[Suppression.of(s, now) for s in page.items], next_cursor=page.next_cursor)


class HistoryPageModel(_Model):
    items: list[HistoryItem]
    next_cursor: str | None

    @classmethod
    def of(cls, page: HistoryPage) -> HistoryPageModel:
        return cls(items=[HistoryItem.of(e) for e in page.items], next_cursor=page.next_cursor)


class SuppressionDetail(_Model):
    """GET /suppressions/{address}: the state and the newest history entries."""

    suppression: Suppression
    soft_bounce_count: int
    lifted_at: str | None
    history: list[HistoryItem]


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
