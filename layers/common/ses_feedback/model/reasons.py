"""Why an address is suppressed, and which reason outranks which."""

from __future__ import annotations

from enum import StrEnum


class Reason(StrEnum):
    """Why an address is suppressed; the values are the API's strings."""

    HARD_BOUNCE = "hard_bounce"
    SOFT_BOUNCE = "soft_bounce"
    COMPLAINT = "complaint"
    MANUAL = "manual"

    def at_least_as_strong_as(self, other: Reason) -> bool:
        """The one rule of rank: a suppression for ``self`` is never replaced by one for a
        reason it is at least as strong as."""
        return _STRENGTH[self] >= _STRENGTH[other]


# Complaints rank highest: mailing a complainer again costs the most reputation; a soft
# bounce is the only temporary reason.
_STRENGTH: dict[Reason, int] = {
    Reason.SOFT_BOUNCE: 1,
    Reason.HARD_BOUNCE: 2,
    Reason.MANUAL: 2,
    Reason.COMPLAINT: 3,
}

# Listing order when no reason is asked for: one index partition after the other, strongest first.
LISTING_ORDER = (Reason.COMPLAINT, Reason.HARD_BOUNCE, Reason.MANUAL, Reason.SOFT_BOUNCE)
