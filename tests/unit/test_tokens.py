"""Unsubscribe tokens: HMAC-SHA256 over key id, address and stream; what verifies and what does not."""

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


def test_a_forged_mac_is_refused() -> None:
    payload = RING.issue("jane@example.com", "newsletter").split(".")[0]
    forged = base64.urlsafe_b64encode(b"\0" * 32).decode().rstrip("=")
    with pytest.raises(InvalidToken):
        RING.verify(f"{payload}.{forged}")


def test_another_address_under_the_same_mac_is_refused() -> None:
    _, mac = RING.issue("jane@example.com", "newsletter").split(".")
    other = base64.urlsafe_b64encode(b"k1\nnewsletter\njohn@example.com").decode().rstrip("=")
    with pytest.raises(InvalidToken):
        RING.verify(f"{other}.{mac}")


def test_another_stream_under_the_same_mac_is_refused() -> None:
    _, mac = RING.issue("jane@example.com", "newsletter").split(".")
    other = base64.urlsafe_b64encode(b"k1\ntransactional\njane@example.com").decode().rstrip("=")
    with pytest.raises(InvalidToken):
        RING.verify(f"{other}.{mac}")


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
    "garbage", ["", ".", "a.b", "a.b.c", "%%%.%%%", "x" * 2000, "aGVsbG8.aGVsbG8", "\u00e9t\u00e9.abc"]
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
    ],
)
def test_a_broken_secret_is_refused(secret: dict[str, str]) -> None:
    with pytest.raises(ValueError):
        key_ring_from_secret(secret)
