from __future__ import annotations

import re
import string

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from ses_feedback.errors import InvalidAddress
from ses_feedback.parsing.addresses import address_hash, mask_address, normalize_address, parse_address


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("jane@example.com", "jane@example.com"),
        ("Jane.Doe@Example.COM", "jane.doe@example.com"),
        ("Jane Doe <Jane.Doe@Example.com>", "jane.doe@example.com"),
        ('"Doe, Jane" <jane@example.com>', "jane@example.com"),
        ("  jane@example.com  ", "jane@example.com"),
        ("jane@bücher.example", "jane@xn--bcher-kva.example"),
        ("bounce+campaign7@simulator.amazonses.com", "bounce+campaign7@simulator.amazonses.com"),
        # Forms people really write: tags, apostrophes, quoted local parts, Unicode domains
        # and display names (a non-ASCII one too, as mail clients write them).
        ("O'Brien+Receipts@Example.COM", "o'brien+receipts@example.com"),
        ("first.last-x_y@sub.example.co.uk", "first.last-x_y@sub.example.co.uk"),
        ('"john doe"@example.org', '"john doe"@example.org'),
        ("Jöns Ådahl <jons@Bücher.Example>", "jons@xn--bcher-kva.example"),
        ("<jane@example.com>", "jane@example.com"),
        ("user@münchen.de", "user@xn--mnchen-3ya.de"),
    ],
)
def test_normalize_address_gives_one_canonical_form(raw: str, expected: str) -> None:
    # When
    normalised = normalize_address(raw)
    # Then
    assert normalised == expected


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "jane",
        "jane@",
        "@example.com",
        "jane@localhost",
        "ja ne@example.com",
        "a" * 65 + "@example.com",
        # parseaddr used to rewrite these into other addresses, or let through what SES
        # cannot deliver to: each is refused now, never rewritten.
        "bob@exa mple.com",
        ".bob@example.org",
        "bob.@example.org",
        "b..ob@example.org",
        "bob@-x.example.org",
        "bob@x_y.example.org",
        "bob@example.org.",
        "jane@example.com.",
        "jösé@example.org",  # a non-ASCII local part needs SMTPUTF8, which SES does not take
        "Jane jane@example.com",
        "jane@example.com, john@example.com",
        "jane@example.com <john@example.com>",
        "x" * 250 + "@example.com",
    ],
)
def test_normalize_address_refuses_what_ses_could_not_deliver_to(raw: str) -> None:
    with pytest.raises(InvalidAddress):
        normalize_address(raw)


def test_a_refusal_says_why_without_repeating_the_address() -> None:
    with pytest.raises(InvalidAddress) as refused:
        normalize_address("secret.person@exa mple.com")
    assert "secret.person" not in str(refused.value)
    assert "SPACE" in str(refused.value)


def test_parse_address_keeps_the_display_name_apart() -> None:
    parsed = parse_address('"Doe, Jane" <Jane@Example.com>')
    assert (parsed.display_name, parsed.address) == ("Doe, Jane", "jane@example.com")


# A generator of addresses SES can deliver to: dot-atoms of RFC 5322 atext (upper case too),
# host-name labels, ASCII or Unicode.
_ATEXT = st.sampled_from(list(string.ascii_letters + string.digits + "!#$%&'*+-/=?^_`{|}~"))
_ATOM = st.text(_ATEXT, min_size=1, max_size=8)
_LOCAL = st.lists(_ATOM, min_size=1, max_size=3).map(".".join)
_LABEL = st.from_regex(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,8}[A-Za-z0-9])?", fullmatch=True) | st.sampled_from(
    ["bücher", "münchen", "пример", "例え"]
)
_DOMAIN = st.tuples(st.lists(_LABEL, min_size=1, max_size=3), st.sampled_from(["com", "org", "example"])).map(
    lambda parts: ".".join([*parts[0], parts[1]])
)


@settings(max_examples=300, deadline=None)
@given(local=_LOCAL, domain=_DOMAIN)
def test_normalising_is_idempotent_and_keeps_local_part_and_domain(local: str, domain: str) -> None:
    # Given an address SES can deliver to
    raw = f"{local}@{domain}"
    # When
    try:
        once = normalize_address(raw)
    except InvalidAddress:
        # The generator can make what email-validator refuses for a documented reason (a
        # label that IDNA forbids, or an all-numeric top-level label): never rewritten, so fine.
        return
    # Then: normalising again changes nothing
    assert normalize_address(once) == once
    # and the address is the same one, case and IDNA aside
    got_local, _, got_domain = once.rpartition("@")
    assert got_local == local.lower()
    assert (
        got_domain == domain.encode("idna").decode("ascii").lower()
        or got_domain.startswith("xn--")
        or ("xn--" in got_domain)
    )


def test_address_hash_is_stable_and_does_not_contain_the_address() -> None:
    # Given
    address = "jane@example.com"
    # When
    first, second = address_hash(address), address_hash(address)
    # Then
    assert first == second
    assert "jane" not in first
    assert address_hash("john@example.com") != first
    # A digest of fixed size, whatever the address's length: not an encoding that can be read back
    long_address = "a" * 60 + "@" + "sub." * 40 + "example.com"
    assert all(re.fullmatch("[0-9a-f]{16}", address_hash(a)) for a in (address, long_address))


def test_mask_address_keeps_domain_and_first_letter_only() -> None:
    assert mask_address("jane.doe@example.com") == "j***@example.com"
