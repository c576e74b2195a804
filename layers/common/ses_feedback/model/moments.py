"""The clock and the one way a moment is written (ISO 8601, UTC, ``Z``)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal, overload


def utc_now() -> datetime:
    return datetime.now(UTC)


@overload
def iso_z(moment: datetime, timespec: Literal["auto", "milliseconds"] = "auto") -> str: ...
@overload
def iso_z(moment: None, timespec: Literal["auto", "milliseconds"] = "auto") -> None: ...
def iso_z(moment: datetime | None, timespec: Literal["auto", "milliseconds"] = "auto") -> str | None:
    """``2026-11-28T09:12:00Z``; the store's keys use ``milliseconds`` so they sort as text."""
    if moment is None:
        return None
    return moment.astimezone(UTC).isoformat(timespec=timespec).replace("+00:00", "Z")
