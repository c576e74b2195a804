"""Pagination cursors, sealed: opaque to whoever holds one, and refused once edited. Pure: keys passed in.

A cursor says where a listing resumes: the last key a page returned, which holds an address
(``ADDR#…``). So the cursor is encrypted and authenticated with AES-256-GCM, under a key
derived from the stack's streams secret (the key ring of ``rules.tokens``) with a label of its
own, so it is never the key of an unsubscribe token:

    cursor = "<key id>." base64url(nonce (12 bytes) + AES-GCM(key, nonce, position JSON))

A cursor that is edited, truncated, made by another stack or under a key the secret no longer
holds fails GCM's tag check and is ``InvalidCursor`` (400); one that opens still has its
position checked by the store (another listing's cursor is refused by name). Nothing in it
is readable without the key: no address, no reason, no table layout.

Without a streams secret (a CLI pointed at a table by name), ``CursorSeal.for_this_process``
seals with a random key of the process: its cursors resume within that process only.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import TYPE_CHECKING, Any

from ses_feedback.errors import InvalidCursor

if TYPE_CHECKING:
    from ses_feedback.rules.tokens import KeyRing

# Longer than any cursor this service makes (a position names at most two keys of an address).
MAX_CURSOR_LENGTH = 2048
_LABEL = b"ses-feedback pagination cursor v1"
_NONCE_BYTES = 12  # GCM's standard nonce; random, so 2**32 cursors per key stay far from a repeat
_TAG_BYTES = 16
_PROCESS_KEY_ID = "process"


@cache
def _derive(secret_key: bytes) -> bytes:
    return hmac.new(secret_key, _LABEL, hashlib.sha256).digest()


@dataclass(frozen=True)
class CursorSeal:
    """Seals a listing's position into a cursor, and opens only cursors it sealed."""

    current: str
    keys: Mapping[str, bytes] = field(repr=False)  # key id → derived 256-bit key

    @classmethod
    def of(cls, ring: KeyRing) -> CursorSeal:
        return cls(ring.current, {key_id: _derive(key) for key_id, key in ring.keys.items()})

    @classmethod
    def for_this_process(cls) -> CursorSeal:
        return _process_seal()

    def seal(self, position: Mapping[str, Any]) -> str:
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM  # noqa: PLC0415  # first cursor only

        nonce = os.urandom(_NONCE_BYTES)
        plain = json.dumps(position, separators=(",", ":"), sort_keys=True).encode()
        sealed = AESGCM(self.keys[self.current]).encrypt(nonce, plain, _LABEL)
        return f"{self.current}.{_b64(nonce + sealed)}"

    def open(self, cursor: str) -> dict[str, Any]:
        """The position a cursor of ours holds; ``InvalidCursor`` for anything else."""
        from cryptography.exceptions import InvalidTag  # noqa: PLC0415
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM  # noqa: PLC0415

        key_id, dot, encoded = cursor.partition(".")
        if not dot or len(cursor) > MAX_CURSOR_LENGTH or key_id not in self.keys:
            raise InvalidCursor()
        try:
            blob = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4))
        except (binascii.Error, ValueError):
            raise InvalidCursor() from None
        # Only the one spelling we wrote: base64's spare low bits in the last character would
        # otherwise let an edited cursor decode to the same bytes.
        if len(blob) < _NONCE_BYTES + _TAG_BYTES or _b64(blob) != encoded:
            raise InvalidCursor()
        try:
            plain = AESGCM(self.keys[key_id]).decrypt(blob[:_NONCE_BYTES], blob[_NONCE_BYTES:], _LABEL)
        except InvalidTag:
            raise InvalidCursor() from None
        position = json.loads(plain)  # sealed by us: JSON we wrote
        if not isinstance(position, dict):
            raise InvalidCursor()
        return position


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


@cache
def _process_seal() -> CursorSeal:
    return CursorSeal(_PROCESS_KEY_ID, {_PROCESS_KEY_ID: os.urandom(32)})
