"""Pagination cursors (issue 23): opaque, authenticated, bound to the stack's key."""

from __future__ import annotations

import base64

import pytest
from ses_feedback.errors import InvalidCursor
from ses_feedback.rules.cursors import CursorSeal
from ses_feedback.rules.tokens import KeyRing

RING = KeyRing("k1", {"k1": b"a" * 40})
POSITION = {"r": "hard_bounce", "k": {"pk": "ADDR#jane@example.org", "sk": "STATE"}}


def test_a_cursor_opens_to_the_position_it_sealed() -> None:
    seal = CursorSeal.of(RING)
    assert seal.open(seal.seal(POSITION)) == POSITION


def test_a_cursor_carries_no_address_in_clear() -> None:
    cursor = CursorSeal.of(RING).seal(POSITION)
    _, _, encoded = cursor.partition(".")
    raw = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4))
    assert b"jane" not in raw and b"example" not in raw and b"ADDR" not in raw
    assert "jane" not in cursor


def test_every_edited_character_of_a_cursor_is_refused() -> None:
    seal = CursorSeal.of(RING)
    cursor = seal.seal(POSITION)
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    for index in range(len(cursor)):
        replacement = alphabet[(alphabet.find(cursor[index]) + 1) % len(alphabet)]
        edited = cursor[:index] + replacement + cursor[index + 1 :]
        if edited == cursor:
            continue
        with pytest.raises(InvalidCursor):
            seal.open(edited)


@pytest.mark.parametrize(
    "cursor", ["", "k1", "k1.", "k1.AAAA", "k9.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "x" * 3000]
)
def test_a_cursor_this_service_did_not_hand_out_is_refused(cursor: str) -> None:
    with pytest.raises(InvalidCursor) as refused:
        CursorSeal.of(RING).open(cursor)
    assert refused.value.field == "cursor"


def test_another_stacks_cursor_is_refused() -> None:
    other = CursorSeal.of(KeyRing("k1", {"k1": b"b" * 40}))
    with pytest.raises(InvalidCursor):
        CursorSeal.of(RING).open(other.seal(POSITION))


def test_a_cursor_of_an_older_key_still_opens_after_rotation() -> None:
    old = CursorSeal.of(RING).seal(POSITION)
    rotated = CursorSeal.of(KeyRing("k2", {"k1": b"a" * 40, "k2": b"c" * 40}))
    assert rotated.open(old) == POSITION
    assert rotated.seal(POSITION).startswith("k2.")
