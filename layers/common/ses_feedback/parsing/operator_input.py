"""What operators send (API parameters, CLI arguments): notes, actors, page sizes, addresses.

Each rule refuses with ``InvalidRequest`` naming the field; none rewrites the input.
"""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict, Field

from ses_feedback.errors import InvalidAddress, InvalidRequest
from ses_feedback.model.streams import STREAM_RULE, is_stream_name
from ses_feedback.parsing.addresses import holds_address, normalize_address

NOTE_MAX = 1000
ACTOR_MAX = 2048
PAGE_MAX = 1000
# A note may span lines (LF); any other control character (CR, NUL, ESC, DEL, C1...) or a Unicode
# line separator could make a printed history show lines that are not there.
_NOTE_CONTROL = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029]")
# An actor is one line: no control character at all.
_ACTOR_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def _required_text(
    field: str, value: str | None, longest: int, missing: str, *, control: re.Pattern[str], allowed: str
) -> str:
    if value is None or not value.strip():
        raise InvalidRequest.of(field, missing)
    if len(value) > longest:
        raise InvalidRequest.of(field, f"longer than {longest} characters")
    found = control.search(value)
    if found is not None:
        raise InvalidRequest.of(
            field, f"must not contain control characters {allowed}(found U+{ord(found.group()):04X})"
        )
    return value


def clean_note(note: str | None) -> str:
    return _required_text(
        "note",
        note,
        NOTE_MAX,
        "say why (a note is required for every manual change)",
        control=_NOTE_CONTROL,
        allowed="other than the newline (LF) ",
    )


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
    return _required_text(
        "actor", actor, ACTOR_MAX, "who made the change is required", control=_ACTOR_CONTROL, allowed=""
    )


def clean_limit(limit: int) -> int:
    if not 1 <= limit <= PAGE_MAX:
        raise InvalidRequest.of("limit", f"must be between 1 and {PAGE_MAX}")
    return limit


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
