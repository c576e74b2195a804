"""Unsubscribe tokens and erasure digests: HMAC-SHA256 with the stack's keys. Pure: keys passed in.

A token names the key that signed it, the address and the stream, and carries their
HMAC-SHA256 under that key; it never expires (CAN-SPAM wants a link to work for 30 days,
and Gmail penalises broken ones). Rotation: add a key to the secret and make it current;
tokens signed with an older key still verify as long as that key stays in the secret.

    token = base64url("<key id>\\n<stream>\\n<address>") "." base64url(HMAC-SHA256(key, same bytes))

Verification recomputes the MAC and compares it in constant time (``hmac.compare_digest``);
a token that is forged, truncated, altered or signed with a key the secret does not hold
is refused with ``InvalidToken`` and changes nothing.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property

from ses_feedback.errors import InvalidToken
from ses_feedback.model.streams import is_stream_name

# An address is at most 320 characters: a token longer than this is not one of ours.
MAX_TOKEN_LENGTH = 1024
# The key whose derived digest names erasure tombstones: it must stay in the secret for ever.
ERASURE_KEY_ID = "k1"
_ERASURE_LABEL = b"ses-feedback erasure tombstone v1"


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    if not text or not set(text) <= _B64_CHARS:
        raise InvalidToken()
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        raise InvalidToken() from None


_B64_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


@dataclass(frozen=True)
class KeyRing:
    """The stack secret's keys, by id; ``current`` signs new tokens."""

    current: str
    keys: Mapping[str, bytes]

    def __post_init__(self) -> None:
        if self.current not in self.keys:
            raise ValueError("the current key id names no key of the secret")
        if any(not key_id or "\n" in key_id for key_id in self.keys):
            raise ValueError("key ids are non-empty and hold no line break")

    def issue(self, address: str, stream: str) -> str:
        """The unsubscribe token for ``address`` on ``stream``, signed with the current key."""
        payload = f"{self.current}\n{stream}\n{address}".encode()
        return f"{_b64(payload)}.{_b64(self._mac(self.current, payload))}"

    def verify(self, token: str) -> tuple[str, str]:
        """``(address, stream)`` of a token this stack signed; ``InvalidToken`` otherwise."""
        if len(token) > MAX_TOKEN_LENGTH or token.count(".") != 1:
            raise InvalidToken()
        encoded_payload, encoded_mac = token.split(".")
        payload, mac = _unb64(encoded_payload), _unb64(encoded_mac)
        parts = payload.split(b"\n")
        if len(parts) != 3:
            raise InvalidToken()
        try:
            key_id, stream, address = (part.decode() for part in parts)
        except UnicodeDecodeError:
            raise InvalidToken() from None
        if key_id not in self.keys:
            raise InvalidToken()
        if not hmac.compare_digest(mac, self._mac(key_id, payload)):
            raise InvalidToken()
        if not is_stream_name(stream) or "@" not in address:
            raise InvalidToken()  # signed by us, so never: but a token is input, checked all the same
        return address, stream

    def erasure_digest(self, address: str) -> str:
        """The keyed hash that names an erased address's tombstone (stable across rotations)."""
        mac = self._erasure_mac.copy()
        mac.update(address.encode())
        return mac.hexdigest()

    @cached_property
    def _erasure_mac(self) -> hmac.HMAC:
        # The derived key, keyed once: every send looks up each recipient's tombstone.
        key = hmac.new(self.keys[ERASURE_KEY_ID], _ERASURE_LABEL, hashlib.sha256).digest()
        return hmac.new(key, digestmod=hashlib.sha256)

    def _mac(self, key_id: str, payload: bytes) -> bytes:
        return hmac.new(self.keys[key_id], payload, hashlib.sha256).digest()


def key_ring_from_secret(secret: Mapping[str, object]) -> KeyRing:
    """The secret's JSON, ``{"current": "k2", "k1": "…", "k2": "…"}`` → a ``KeyRing``.

    The stack generates ``{"current": "k1", "k1": <64 random characters>}``; rotation adds a
    key and moves ``current``. ``k1`` also keys erasure tombstones: never remove it.
    """
    current = secret.get("current")
    keys = {
        name: value.encode() for name, value in secret.items() if name != "current" and isinstance(value, str)
    }
    if not isinstance(current, str):
        raise ValueError("the secret names no current key")
    if ERASURE_KEY_ID not in keys:
        raise ValueError(f"the secret lacks key {ERASURE_KEY_ID}, which erasure tombstones need")
    if any(len(key) < 32 for key in keys.values()):
        raise ValueError("every key of the secret is at least 32 characters")
    return KeyRing(current, keys)
