"""The one address parser, on email-validator (the validator pydantic's ``EmailStr`` uses).

An address is accepted only if SES can deliver to it: a 7-bit local part (dot-atom or
quoted; SES takes no SMTPUTF8), a domain of valid host-name labels (Unicode domains are
IDNA-encoded), within RFC 5321's lengths. Anything else is refused with the reason, never
rewritten into another address. A display name (``Jane <jane@example.com>``) is kept apart
for the headers SES builds; the address itself is stored and looked up lower-cased (SES
treats addresses case-insensitively for suppression).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from email.utils import unquote
from functools import lru_cache

from ses_feedback.errors import InvalidAddress

# ``Name <address>``: the address inside the brackets is validated on its own. The name is
# a quoted string, or words without RFC 5322's specials (a "." is allowed, as in "John Q.
# Public"; non-ASCII letters too, as mail clients write them).
_NAME_AND_ADDRESS = re.compile(
    r"^(?P<name>\"(?:[^\"\\]|\\.)*\"|[^<>@,;:\\\"()\[\]]*?)\s*<(?P<address>[^<>]*)>$"
)


@dataclass(frozen=True)
class ParsedAddress:
    display_name: str  # "" when none was given
    address: str  # the canonical form: every store key and lookup uses it


def parse_address(raw: str) -> ParsedAddress:
    """Split off a display name and validate the address; raise ``InvalidAddress`` with the reason.

    Not cached: a caller that needs an address again keeps what this returned (a send request
    parses each address once, at its door, and passes the result along).
    """
    # Imported by the first address parsed, not with this module: email-validator compiles
    # its grammar on import (tens of ms), and importing a handler should not pay for it.
    from email_validator import EmailNotValidError, validate_email  # noqa: PLC0415

    text = raw.strip()
    name = ""
    bracketed = _NAME_AND_ADDRESS.match(text)
    if bracketed:
        name, text = unquote(bracketed.group("name").strip()), bracketed.group("address").strip()
    try:
        valid = validate_email(
            text,
            check_deliverability=False,
            allow_smtputf8=False,
            allow_quoted_local=True,
            allow_display_name=False,
            strict=True,  # RFC 5321 lengths: 64 octets before the @-sign
        )
    except EmailNotValidError as exc:
        # email-validator's messages name the rule (and the offending characters), not the address.
        raise InvalidAddress(str(exc)) from None
    if valid.ascii_email is None:  # only with SMTPUTF8, which is refused above; kept for the type
        raise InvalidAddress("the address needs SMTPUTF8, which SES does not support")
    return ParsedAddress(display_name=name, address=valid.ascii_email.lower())


@lru_cache(maxsize=4096)
def normalize_address(raw: str) -> str:
    """The canonical form used for every store and lookup (see the module's rules).

    Cached: a feedback batch reads an event's recipients when it prefetches their states and
    again when it decides (the send path does not come here: it keeps its parsed addresses).
    """
    return parse_address(raw).address


def address_hash(address: str) -> str:
    """A stable, non-reversible key for logs: the same address always gives the same hash."""
    return hashlib.sha256(address.encode()).hexdigest()[:16]


def mask_address(address: str) -> str:
    """``jane.doe@example.com`` → ``j***@example.com``: enough to read a log, not to mail anyone."""
    local, _, domain = address.rpartition("@")
    return f"{local[:1]}***@{domain}" if local else "***"


# SSO session names are often email addresses (assumed-role/Admin/jane@example.com).
_EMAIL_IN_TEXT = re.compile(r"[^\s/:@]+@[^\s/:@]+\.[^\s/:@]+")


def holds_address(text: str) -> bool:
    """Whether some part of ``text`` is shaped like an email address (what ``loggable`` hashes)."""
    return _EMAIL_IN_TEXT.search(text) is not None


def loggable(text: str | None) -> str | None:
    """Text for a log line (an actor, say) with any email address in it replaced by its hash."""
    if text is None:
        return None
    return _EMAIL_IN_TEXT.sub(lambda m: f"<{address_hash(m.group(0).lower())}>", text)
