"""``Accept-Language`` → the language to answer in, among those offered (RFC 9110 §12.5.4).

Lookup as RFC 4647 §3.4 describes it: the ranges in order of their weight (``q``), each
tried as given and then with its last subtag cut (``ja-JP`` → ``ja``); ``*`` and a range
nobody offers fall through to the default. A malformed entry is skipped, never an error:
browsers send this header on every request and a page must still answer.
The layer has no HTTP toolkit to borrow this from (Werkzeug's ``LanguageAccept`` would be a
whole WSGI library in every cold start for twenty lines).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

_RANGE = re.compile(r"^(?:\*|[A-Za-z]{1,8}(?:-[A-Za-z0-9]{1,8})*)$")
_WEIGHT = re.compile(r"^q=(0(?:\.\d{0,3})?|1(?:\.0{0,3})?)$", re.IGNORECASE)
MAX_RANGES = 32  # more is not a browser's header


def negotiate(header: str | None, offered: Sequence[str], default: str) -> str:
    """The first of ``offered`` that the header asks for, by weight; ``default`` otherwise."""
    wanted: list[tuple[float, int, str]] = []
    for position, part in enumerate((header or "").split(",")[:MAX_RANGES]):
        tag, *params = (piece.strip() for piece in part.split(";"))
        if not _RANGE.match(tag):
            continue
        weight = 1.0
        for param in params:
            match = _WEIGHT.match(param)
            if match is None:
                weight = -1.0  # a weight we cannot read: skip the range rather than guess
                break
            weight = float(match.group(1))
        if weight > 0:
            wanted.append((-weight, position, tag.lower()))
    lower = {language.lower(): language for language in offered}
    for _, _, asked in sorted(wanted):
        tag = asked
        while tag and tag != "*":
            if tag in lower:
                return lower[tag]
            tag = tag.rpartition("-")[0]
    return default
