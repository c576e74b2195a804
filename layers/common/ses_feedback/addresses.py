"""The one address normaliser, and the one way an address may appear in a log."""

from __future__ import annotations

import hashlib
from email.utils import parseaddr

from ses_feedback.errors import InvalidAddress

# RFC 5321 limits: 64 octets local part, 254 in all (the path limit minus the brackets).
_MAX_LOCAL = 64
_MAX_ADDRESS = 254


def normalize_address(raw: str) -> str:
    """Return the canonical form used for every store and lookup.

    Strips a display name (``"Jane <Jane@Example.COM>"``), IDNA-encodes the domain and
    lower-cases the whole address. SES itself treats addresses case-insensitively for
    suppression, so the local part is lower-cased too.
    """
    _, address = parseaddr(raw.strip())
    address = address.strip()
    local, at, domain = address.rpartition("@")
    if not at or not local or not domain or any(c.isspace() for c in address):
        raise InvalidAddress("not an email address")
    try:
        ascii_domain = domain.rstrip(".").encode("idna").decode("ascii")
    except UnicodeError as exc:
        raise InvalidAddress("domain is not a valid IDNA name") from exc
    if "." not in ascii_domain or ascii_domain.startswith(".") or ".." in ascii_domain:
        raise InvalidAddress("domain is not a valid host name")
    normalised = f"{local}@{ascii_domain}".lower()
    if len(local.encode()) > _MAX_LOCAL or len(normalised) > _MAX_ADDRESS:
        raise InvalidAddress("address is too long")
    return normalised


def address_hash(address: str) -> str:
    """A stable, non-reversible key for logs: the same address always gives the same hash."""
    return hashlib.sha256(address.encode()).hexdigest()[:16]


def mask_address(address: str) -> str:
    """``jane.doe@example.com`` → ``j***@example.com``: enough to read a log, not to mail anyone."""
    local, _, domain = address.rpartition("@")
    return f"{local[:1]}***@{domain}" if local else "***"
