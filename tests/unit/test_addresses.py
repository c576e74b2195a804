from __future__ import annotations

import pytest
from ses_feedback.addresses import address_hash, mask_address, normalize_address
from ses_feedback.errors import InvalidAddress


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("jane@example.com", "jane@example.com"),
        ("Jane.Doe@Example.COM", "jane.doe@example.com"),
        ("Jane Doe <Jane.Doe@Example.com>", "jane.doe@example.com"),
        ('"Doe, Jane" <jane@example.com>', "jane@example.com"),
        ("  jane@example.com  ", "jane@example.com"),
        ("jane@bücher.example", "jane@xn--bcher-kva.example"),
        ("jane@example.com.", "jane@example.com"),
        ("bounce+campaign7@simulator.amazonses.com", "bounce+campaign7@simulator.amazonses.com"),
    ],
)
def test_normalize_address_gives_one_canonical_form(raw: str, expected: str) -> None:
    # When
    normalised = normalize_address(raw)
    # Then
    assert normalised == expected


@pytest.mark.parametrize(
    "raw",
    ["", "jane", "jane@", "@example.com", "jane@localhost", "ja ne@example.com", "a" * 65 + "@example.com"],
)
def test_normalize_address_rejects_what_is_not_an_address(raw: str) -> None:
    with pytest.raises(InvalidAddress):
        normalize_address(raw)


def test_address_hash_is_stable_and_does_not_contain_the_address() -> None:
    # Given
    address = "jane@example.com"
    # When
    first, second = address_hash(address), address_hash(address)
    # Then
    assert first == second
    assert "jane" not in first
    assert address_hash("john@example.com") != first


def test_mask_address_keeps_domain_and_first_letter_only() -> None:
    assert mask_address("jane.doe@example.com") == "j***@example.com"
