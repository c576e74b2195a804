"""Unsubscribe tokens and erasure digests: HMAC-SHA256 with the stack's keys. Pure: keys passed in.

A token names the key that made it and the stream, and carries the address encrypted, so
the URL (in a mail client's history, a proxy's log, a forwarded message) does not give the
address away; it never expires (CAN-SPAM wants a link to work for 30 days, and Gmail
penalises broken ones). Rotation: add a key to the secret and make it current; tokens of an
older key still verify as long as that key stays in the secret.

    tag   = HMAC-SHA256(mac key, "<key id>\\n<stream>\\n<address>")
    token = "<key id>.<stream>." base64url(tag + AES-256-CTR(encryption key, tag[:16], address))

This is the SIV construction (the MAC of the plaintext is the cipher's IV): deterministic,
so the same address and stream always give the same link, and authenticated, so nobody
without the key can make or alter one. The MAC and encryption keys are derived from the
secret's key with HMAC and two labels. Verification decrypts, recomputes the tag and
compares it in constant time (``hmac.compare_digest``); a token that is forged, truncated,
altered or of a key the secret does not hold is refused with ``InvalidToken`` and changes
nothing. AES comes from the maintained ``cryptography`` package, loaded on first use.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache, cached_property

from ses_feedback.errors import InvalidToken
from ses_feedback.model.streams import is_stream_name

# An address is at most 320 characters: a token longer than this is not one of ours.
MAX_TOKEN_LENGTH = 1024
# The key whose derived digest names erasure tombstones: it must stay in the secret for ever.
ERASURE_KEY_ID = "k1"
_ERASURE_LABEL = b"ses-feedback erasure tombstone v1"
_MAC_LABEL = b"ses-feedback unsubscribe token mac v2"
_ENCRYPTION_LABEL = b"ses-feedback unsubscribe token encryption v2"
_TAG_BYTES = 32  # the whole HMAC-SHA256
_IV_BYTES = 16  # AES's block: CTR's initial counter block
_KEY_ID = re.compile(r"[A-Za-z0-9-]{1,32}")
_B64_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    if not text or not set(text) <= _B64_CHARS:
        raise InvalidToken()
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        raise InvalidToken() from None


def _ctr(key: bytes, iv: bytes, data: bytes) -> bytes:
    """AES-256-CTR: the same call encrypts and decrypts."""
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes  # noqa: PLC0415  # first token only

    cipher = Cipher(algorithms.AES(key), modes.CTR(iv)).encryptor()
    return cipher.update(data) + cipher.finalize()


@dataclass(frozen=True)
class _DerivedKeys:
    mac: bytes
    encryption: bytes


@cache
def _derive(secret_key: bytes) -> _DerivedKeys:
    def derived(label: bytes) -> bytes:
        return hmac.new(secret_key, label, hashlib.sha256).digest()

    return _DerivedKeys(mac=derived(_MAC_LABEL), encryption=derived(_ENCRYPTION_LABEL))


@dataclass(frozen=True)
class KeyRing:
    """The stack secret's keys, by id; ``current`` makes new tokens."""

    current: str
    keys: Mapping[str, bytes] = field(repr=False)

    def __post_init__(self) -> None:
        if self.current not in self.keys:
            raise ValueError("the current key id names no key of the secret")
        if any(not _KEY_ID.fullmatch(key_id) for key_id in self.keys):
            raise ValueError("key ids are 1 to 32 letters, digits or hyphens")

    def issue(self, address: str, stream: str) -> str:
        """The unsubscribe token for ``address`` on ``stream``, made with the current key."""
        keys = _derive(self.keys[self.current])
        tag = _tag(keys.mac, self.current, stream, address)
        sealed = _ctr(keys.encryption, tag[:_IV_BYTES], address.encode())
        return f"{self.current}.{stream}.{_b64(tag + sealed)}"

    def verify(self, token: str) -> tuple[str, str]:
        """``(address, stream)`` of a token this stack made; ``InvalidToken`` otherwise."""
        if len(token) > MAX_TOKEN_LENGTH or token.count(".") != 2:
            raise InvalidToken()
        key_id, stream, encoded = token.split(".")
        if key_id not in self.keys or not is_stream_name(stream):
            raise InvalidToken()
        blob = _unb64(encoded)
        if len(blob) <= _TAG_BYTES:
            raise InvalidToken()
        tag, sealed = blob[:_TAG_BYTES], blob[_TAG_BYTES:]
        keys = _derive(self.keys[key_id])
        try:
            address = _ctr(keys.encryption, tag[:_IV_BYTES], sealed).decode()
        except UnicodeDecodeError:
            raise InvalidToken() from None
        if not hmac.compare_digest(tag, _tag(keys.mac, key_id, stream, address)):
            raise InvalidToken()
        if "@" not in address:
            raise InvalidToken()  # made by us, so never: but a token is input, checked all the same
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


def _tag(mac_key: bytes, key_id: str, stream: str, address: str) -> bytes:
    return hmac.new(mac_key, f"{key_id}\n{stream}\n{address}".encode(), hashlib.sha256).digest()


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
