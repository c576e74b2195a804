"""What operators send (API parameters, CLI arguments): notes, actors, page sizes, addresses.

Each rule refuses with ``InvalidRequest`` naming the field; none rewrites the input.
"""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict, Field

from ses_feedback.errors import InvalidAddress, InvalidRequest
from ses_feedback.model.streams import (
    ALL_BULK_UNSUBSCRIBED,
    STREAM_RULE,
    UNSUBSCRIBE_SCOPE_RULE,
    is_stream_name,
)
from ses_feedback.parsing.addresses import holds_address, normalize_address

NOTE_MAX = 1000
ACTOR_MAX = 2048


@dataclass(frozen=True)
class PageSize:
    """How many items one read returns: its default, and the most a caller may ask for."""

    field: str  # the parameter's name in the API (the CLI's option is ``--`` it)
    default: int
    most: int

    def clean(self, value: int) -> int:
        if not 1 <= value <= self.most:
            raise InvalidRequest.of(self.field, f"must be between 1 and {self.most}")
        return value


# The one table of page sizes: the API's query parameters, the CLI's options and the use cases'
# defaults all read it, so a limit cannot differ between doors.
ADDRESSES = PageSize("limit", default=100, most=1000)  # a page of suppressed addresses
HISTORY = PageSize("limit", default=50, most=1000)  # a page of one address's history
# The newest history entries shown with an address's state: one Query with its state, kept small.
RECENT_HISTORY = PageSize("history", default=20, most=100)
# export's pages: DynamoDB returns at most 1 MB a Query, a thousand states fit well below it.
EXPORT = PageSize("page_size", default=1000, most=1000)


def _required_text(field: str, value: str | None, longest: int, missing: str) -> str:
    if value is None or not value.strip():
        raise InvalidRequest.of(field, missing)
    if len(value) > longest:
        raise InvalidRequest.of(field, f"longer than {longest} characters")
    return value


def clean_note(note: str | None) -> str:
    return _required_text("note", note, NOTE_MAX, "say why (a note is required for every manual change)")


def clean_erasure_note(note: str | None) -> str:
    """An erasure's note: its audit entry outlives the address, so it may hold no address."""
    why = clean_note(note)
    if holds_address(why):
        raise InvalidRequest.of(
            "note",
            "must hold no email address: the erasure's audit entry keeps its note after the address "
            "is forgotten (give a ticket number)",
        )
    return why


def clean_actor(actor: str | None) -> str:
    return _required_text("actor", actor, ACTOR_MAX, "who made the change is required")


def address_field(raw: str, field: str = "address") -> str:
    """The canonical address, or ``InvalidRequest`` naming ``field`` and the rule it breaks."""
    try:
        return normalize_address(raw)
    except InvalidAddress as exc:
        raise InvalidRequest.of(field, exc.message) from None


def stream_field(raw: str) -> str:
    if not is_stream_name(raw):
        raise InvalidRequest.of("stream", STREAM_RULE)
    return raw


def unsubscribe_scope_field(raw: str) -> str:
    """A stream whose unsubscribe an operator lifts, or ``*bulk-unsubscribed`` (the recipient left all)."""
    if raw != ALL_BULK_UNSUBSCRIBED and not is_stream_name(raw):
        raise InvalidRequest.of("stream", UNSUBSCRIBE_SCOPE_RULE)
    return raw


class ErasureRequest(BaseModel):
    """POST /suppressions/{address}/erasure: why (kept in the audit entry; do not put the address in it)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    note: str = Field(
        min_length=1, max_length=NOTE_MAX, description="why, e.g. a ticket number; never the address"
    )


class ManualSuppressionRequest(BaseModel):
    """PUT /suppressions/{address}: suppress by hand, saying why."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    note: str = Field(min_length=1, max_length=NOTE_MAX, description="why; kept in the address's history")
