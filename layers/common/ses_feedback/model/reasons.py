"""Why an address is suppressed, and which reason outranks which."""

from __future__ import annotations

from enum import StrEnum


class Reason(StrEnum):
    """Why an address is suppressed; the values are the API's strings."""

    HARD_BOUNCE = "hard_bounce"
    SOFT_BOUNCE = "soft_bounce"
    COMPLAINT = "complaint"
    MANUAL = "manual"
    # Scoped to one stream (one-click unsubscribe): never the whole address.
    UNSUBSCRIBED = "unsubscribed"
    # The address was erased (GDPR art. 17): only an HMAC of it is kept, suppressed everywhere.
    ERASED = "erased"

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
    Reason.UNSUBSCRIBED: 2,
    Reason.COMPLAINT: 3,
    Reason.ERASED: 4,
}

# Listing order when no reason is asked for: one index partition after the other, strongest first.
# Unsubscribes are scoped to a stream and erasures keep no address: neither is in the index.
LISTING_ORDER = (Reason.COMPLAINT, Reason.HARD_BOUNCE, Reason.MANUAL, Reason.SOFT_BOUNCE)
