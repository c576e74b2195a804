"""Message streams: every send names one; which are transactional, and the scopes a suppression covers.

A stream is a name (``[a-z0-9-]``, at most 32): ``transactional`` unless the sender says
otherwise. The names in the ``TransactionalStreams`` parameter are transactional; every other
name is a *bulk* stream (newsletters, marketing), which carries one-click unsubscribe.

A suppression covers a *scope*: every stream (``EVERY``), every bulk stream (``ALL_BULK``, a
complaint about bulk mail; ``ALL_BULK_UNSUBSCRIBED``, the recipient's own "leave every bulk
stream"), or one stream (its name). The two bulk scopes are kept apart so that lifting one never
lifts the other: an operator's lift of a complaint keeps the recipient's wish, and a recipient's
rejoin never lifts a complaint. The scope names that are not stream names start with ``*``,
which no stream name may contain, so the two never collide.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from ses_feedback.model.reasons import Reason

DEFAULT_STREAM = "transactional"
STREAM_PATTERN = r"^[a-z0-9-]{1,32}$"
STREAM_RULE = "a stream name is 1-32 lower-case letters, digits or '-'"  # STREAM_PATTERN, in words
_STREAM = re.compile(STREAM_PATTERN)
# The message tag that carries the stream to SES and back in its feedback (mail.tags).
STREAM_TAG = "stream"

EVERY = "*"
ALL_BULK = "*bulk"
ALL_BULK_UNSUBSCRIBED = "*bulk-unsubscribed"
BULK_SCOPES = (ALL_BULK, ALL_BULK_UNSUBSCRIBED)
# What an operator may lift by naming it: a stream's unsubscribe, or the recipient's "leave all".
UNSUBSCRIBE_SCOPE_PATTERN = r"^([a-z0-9-]{1,32}|\*bulk-unsubscribed)$"
UNSUBSCRIBE_SCOPE_RULE = f"{STREAM_RULE}, or '{ALL_BULK_UNSUBSCRIBED}' (the recipient left every bulk stream)"


def is_stream_name(text: str) -> bool:
    return bool(_STREAM.fullmatch(text))


@dataclass(frozen=True)
class Streams:
    """Which stream names are transactional (the ``TransactionalStreams`` parameter)."""

    transactional: frozenset[str] = frozenset({DEFAULT_STREAM})

    @classmethod
    def parse(cls, text: str) -> Streams:
        """``"transactional,receipts"`` → the set; an empty list means the default."""
        names = frozenset(name.strip() for name in text.split(",") if name.strip())
        bad = sorted(name for name in names if not is_stream_name(name))
        if bad:
            raise ValueError(f"not stream names ([a-z0-9-], at most 32): {', '.join(bad)}")
        return cls(names or frozenset({DEFAULT_STREAM}))

    def is_transactional(self, stream: str) -> bool:
        """The one definition of transactional mail: no unsubscribe link; the sending guard lets it out."""
        return stream in self.transactional

    def is_bulk(self, stream: str) -> bool:
        return not self.is_transactional(stream)


@dataclass(frozen=True)
class ScopedSuppression:
    """A suppression that covers one stream, or every bulk stream, not the whole address."""

    scope: str  # ALL_BULK, ALL_BULK_UNSUBSCRIBED or a stream name
    reason: Reason
    since: datetime

    def covers(self, stream: str, bulk: bool) -> bool:
        return self.scope == stream or (bulk and self.scope in BULK_SCOPES)
