"""Unsubscribe tokens: HMAC-SHA256 over key id, address and stream, the address encrypted; what verifies."""

from __future__ import annotations

import base64

import pytest
from ses_feedback.errors import InvalidToken
from ses_feedback.rules.tokens import KeyRing, key_ring_from_secret

K1 = b"k1-secret-0123456789abcdefghijklmnopqrstuvwxyz"
K2 = b"k2-secret-0123456789abcdefghijklmnopqrstuvwxyz"
RING = KeyRing("k1", {"k1": K1})


def test_a_token_names_its_address_and_stream() -> None:
    token = RING.issue("jane@example.com", "newsletter")
    assert RING.verify(token) == ("jane@example.com", "newsletter")


def test_a_token_is_url_safe_and_never_expires() -> None:
    token = RING.issue("o'brien+news@example.com", "newsletter")
    assert set(token) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.")
    # No time in it: the same address and stream always give the same token.
    assert RING.issue("o'brien+news@example.com", "newsletter") == token


def test_a_token_does_not_give_the_address_away() -> None:
    # Given a link that will sit in mail clients, proxies' logs and forwarded messages
    token = RING.issue("jane.doe@example.com", "newsletter")
    key_id, stream, sealed = token.split(".")
    # Then neither the token nor its decoded bytes hold the address or a part of it
    assert (key_id, stream) == ("k1", "newsletter")
    decoded = base64.urlsafe_b64decode(sealed + "=" * (-len(sealed) % 4))
    for part in ("jane.doe", "example.com"):
        assert part not in token
        assert part.encode() not in decoded


def _sealed(token: str) -> tuple[str, bytes]:
    key_id, stream, sealed = token.split(".")
    return f"{key_id}.{stream}", base64.urlsafe_b64decode(sealed + "=" * (-len(sealed) % 4))


def _token(prefix: str, blob: bytes) -> str:
    return f"{prefix}.{base64.urlsafe_b64encode(blob).decode().rstrip('=')}"


def test_a_forged_mac_is_refused() -> None:
    prefix, blob = _sealed(RING.issue("jane@example.com", "newsletter"))
    with pytest.raises(InvalidToken):
        RING.verify(_token(prefix, b"\0" * 32 + blob[32:]))


def test_an_altered_address_is_refused() -> None:
    # Flipping a bit of the ciphertext flips the same bit of the address: the MAC no longer matches.
    prefix, blob = _sealed(RING.issue("jane@example.com", "newsletter"))
    altered = blob[:32] + bytes([blob[32] ^ 0x01]) + blob[33:]
    with pytest.raises(InvalidToken):
        RING.verify(_token(prefix, altered))


def test_another_stream_under_the_same_mac_is_refused() -> None:
    token = RING.issue("jane@example.com", "newsletter")
    with pytest.raises(InvalidToken):
        RING.verify(token.replace("k1.newsletter.", "k1.transactional.", 1))


@pytest.mark.parametrize("cut", [1, 2, 10, 43])
def test_a_truncated_token_is_refused(cut: int) -> None:
    token = RING.issue("jane@example.com", "newsletter")
    with pytest.raises(InvalidToken):
        RING.verify(token[:-cut])


def test_a_token_of_another_key_is_refused() -> None:
    stranger = KeyRing("k1", {"k1": K2})  # same id, another stack's key
    with pytest.raises(InvalidToken):
        RING.verify(stranger.issue("jane@example.com", "newsletter"))


def test_a_token_of_an_unknown_key_id_is_refused() -> None:
    newer = KeyRing("k9", {"k1": K1, "k9": K2})
    with pytest.raises(InvalidToken):
        RING.verify(newer.issue("jane@example.com", "newsletter"))


def test_after_rotation_old_tokens_still_verify_and_new_ones_use_the_new_key() -> None:
    old_token = RING.issue("jane@example.com", "newsletter")
    rotated = KeyRing("k2", {"k1": K1, "k2": K2})
    new_token = rotated.issue("jane@example.com", "newsletter")
    assert new_token != old_token
    assert rotated.verify(old_token) == ("jane@example.com", "newsletter")
    assert rotated.verify(new_token) == ("jane@example.com", "newsletter")
    with pytest.raises(InvalidToken):
        RING.verify(new_token)  # the old ring does not know k2


@pytest.mark.parametrize(
    "garbage",
    [
        "",
        ".",
        "a.b",
        "a.b.c",
        "%%%.%%%.%%%",
        "x" * 2000,
        "k1.newsletter.",
        "k1.newsletter.aGVsbG8",
        "k1.News.aGVsbG8",
        "k1.newsletter.%%%",
        "\u00e9t\u00e9.abc",
    ],
)
def test_garbage_is_refused(garbage: str) -> None:
    with pytest.raises(InvalidToken):
        RING.verify(garbage)


def test_the_erasure_digest_is_keyed_and_survives_rotation() -> None:
    rotated = KeyRing("k2", {"k1": K1, "k2": K2})
    assert RING.erasure_digest("jane@example.com") == rotated.erasure_digest("jane@example.com")
    assert RING.erasure_digest("jane@example.com") != KeyRing("k1", {"k1": K2}).erasure_digest(
        "jane@example.com"
    )
    assert "jane" not in RING.erasure_digest("jane@example.com")


def test_the_stack_generated_secret_reads_as_a_ring() -> None:
    ring = key_ring_from_secret({"current": "k1", "k1": "A" * 64})
    assert ring.current == "k1" and ring.keys == {"k1": b"A" * 64}


@pytest.mark.parametrize(
    "secret",
    [
        {"k1": "A" * 64},  # no current
        {"current": "k2", "k1": "A" * 64},  # current names no key
        {"current": "k2", "k2": "A" * 64},  # k1 (erasure) missing
        {"current": "k1", "k1": "short"},
        {"current": "k1", "k1": "A" * 64, "k.2": "B" * 64},  # a key id a token could not carry
    ],
)
def test_a_broken_secret_is_refused(secret: dict[str, str]) -> None:
    with pytest.raises(ValueError):
        key_ring_from_secret(secret)
