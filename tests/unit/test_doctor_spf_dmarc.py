"""SPF and DMARC as the doctor reads them: parsing, look-up counting, alignment. No DNS here:
the TXT answers an include reaches are given as data."""

from __future__ import annotations

import pytest
from ses_feedback_doctor import dmarc, spf
from ses_feedback_doctor.diagnose import (
    BadDoctorInput,
    mail_from_domain,
    normalize_domain,
    normalize_token,
)
from ses_feedback_doctor.model import Lookup


def targets(**records: str) -> dict[str, Lookup]:
    return {domain.replace("_", "."): Lookup(records=(text,)) for domain, text in records.items()}


@pytest.mark.parametrize(
    ("record", "lookups"),
    [
        ("v=spf1 -all", 0),
        ("v=spf1 ip4:192.0.2.0/24 ip6:2001:db8::/32 ~all", 0),
        ("v=spf1 a mx ptr exists:%{i}.spf.example.com include:amazonses.com -all", 5),
        ("v=spf1 a:mail.example.com mx:example.com/24 ~all", 2),
        ("v=spf1 redirect=amazonses.com", 1),
        ("v=spf1 ~all redirect=amazonses.com", 0),  # redirect is ignored when all is present
        ("v=spf1 exp=explain.example.com -all", 0),  # exp is not a look-up
    ],
)
def test_lookup_count_of_one_record(record: str, lookups: int) -> None:
    evaluation = spf.evaluate(spf.parse(record), targets(amazonses_com="v=spf1 ip4:54.240.0.0/18 -all"))
    assert evaluation.lookups == lookups


def test_lookups_are_counted_through_nested_includes() -> None:
    record = spf.parse("v=spf1 include:a.example include:amazonses.com ~all")
    found = targets(
        a_example="v=spf1 mx include:b.example ~all",
        b_example="v=spf1 a a mx ~all",
        amazonses_com="v=spf1 ip4:54.240.0.0/18 -all",
    )
    evaluation = spf.evaluate(record, found)
    assert evaluation.lookups == 2 + 2 + 3
    assert evaluation.includes_amazonses
    assert evaluation.problems == []


def test_amazonses_reached_through_another_include_counts_as_included() -> None:
    record = spf.parse("v=spf1 include:_spf.example ~all")
    evaluation = spf.evaluate(
        record, {"_spf.example": Lookup(records=("v=spf1 include:amazonses.com -all",))}
    )
    assert evaluation.includes_amazonses


@pytest.mark.parametrize(
    ("found", "problem"),
    [
        ({}, "include:a.example could not be read (not fetched)"),
        (
            {"a.example": Lookup(records=("google-site-verification=x",))},
            "include:a.example has no SPF record",
        ),
        (
            {"a.example": Lookup(records=("v=spf1 -all", "v=spf1 ~all"))},
            "include:a.example has 2 SPF records",
        ),
        ({"a.example": Lookup(records=("v=spf1 include:a.example",))}, "include:a.example loops back"),
        ({"a.example": Lookup(error="Timeout")}, "include:a.example could not be read (Timeout)"),
    ],
)
def test_includes_that_make_receivers_return_permerror_are_problems(
    found: dict[str, Lookup], problem: str
) -> None:
    evaluation = spf.evaluate(spf.parse("v=spf1 include:a.example ~all"), found)
    assert any(p.startswith(problem) for p in evaluation.problems), evaluation.problems


@pytest.mark.parametrize(
    ("record", "qualifier"),
    [
        ("v=spf1 +all", "+"),
        ("v=spf1 all", "+"),
        ("v=spf1 ?all", "?"),
        ("v=spf1 -all", "-"),
        ("v=spf1 mx", None),
    ],
)
def test_all_qualifier_defaults_to_pass(record: str, qualifier: str | None) -> None:
    assert spf.parse(record).all_qualifier == qualifier


@pytest.mark.parametrize(
    "record", ["v=spf1 include ~all", "v=spf1 foo:bar ~all", "v=spf2 -all", "v=spf1 ip4 -all"]
)
def test_invalid_spf_is_a_syntax_error(record: str) -> None:
    with pytest.raises(spf.SpfSyntaxError):
        spf.parse(record)


def test_only_v_spf1_records_count_as_spf() -> None:
    lookup = Lookup(records=("v=spf1 -all", "v=spf10", "google-site-verification=abc", "V=SPF1 ~all"))
    assert spf.spf_records(lookup) == ["v=spf1 -all", "V=SPF1 ~all"]


def test_dmarc_record_parses_policy_alignment_and_reports() -> None:
    record = dmarc.parse(
        "v=DMARC1; p=reject; sp=quarantine; aspf=s; adkim=r; pct=50; "
        "rua=mailto:a@x.example,mailto:b@y.example"
    )
    assert (record.policy, record.subdomain_policy, record.spf_alignment, record.dkim_alignment) == (
        "reject",
        "quarantine",
        "s",
        "r",
    )
    assert record.percent == 50
    assert record.report_addresses == ("mailto:a@x.example", "mailto:b@y.example")


def test_dmarc_defaults_are_relaxed_alignment_and_full_percentage() -> None:
    record = dmarc.parse("v=DMARC1; p=none")
    assert (record.spf_alignment, record.dkim_alignment, record.percent, record.report_addresses) == (
        "r",
        "r",
        100,
        (),
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("p=none; v=DMARC1", "must start with v=DMARC1"),
        ("v=DMARC1", "p= must be one of"),
        ("v=DMARC1; p=none; aspf=x", "aspf= must be r or s"),
        ("v=DMARC1; p=none; pct=all", "pct= must be a number"),
        ("v=DMARC1; p=none; junk", "is not a tag=value pair"),
    ],
)
def test_invalid_dmarc_names_what_is_wrong(text: str, message: str) -> None:
    with pytest.raises(dmarc.DmarcSyntaxError, match=message):
        dmarc.parse(text)


@pytest.mark.parametrize(
    ("identifier", "from_domain", "mode", "aligned"),
    [
        ("mail.example.com", "example.com", "r", True),
        ("mail.example.com", "example.com", "s", False),
        ("example.com", "example.com", "s", True),
        ("example.com", "news.example.com", "r", True),
        ("amazonses.com", "example.com", "r", False),
        ("badexample.com", "example.com", "r", False),
        ("MAIL.Example.com.", "example.com", "r", True),
    ],
)
def test_alignment(identifier: str, from_domain: str, mode: str, aligned: bool) -> None:
    assert dmarc.aligned(identifier, from_domain, mode) is aligned


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        (None, "mail.example.com"),
        ("bounce", "bounce.example.com"),
        ("bounce.example.com", "bounce.example.com"),
    ],
)
def test_mail_from_takes_a_label_or_a_full_name(given: str | None, expected: str) -> None:
    assert mail_from_domain("example.com", given) == expected


def test_domain_is_normalized_to_lower_case_idna_without_final_dot() -> None:
    assert normalize_domain("Bücher.Example.") == "xn--bcher-kva.example"


@pytest.mark.parametrize("text", ["localhost", "exa mple.com", "-bad.example.com", "a..b"])
def test_bad_domain_is_refused_naming_the_argument(text: str) -> None:
    with pytest.raises(BadDoctorInput, match="DOMAIN"):
        normalize_domain(text)


def test_dkim_token_may_be_given_as_the_record_name() -> None:
    token = "4jdq7gbyxfybzfk6kdqzrpudlmlqa2bb"
    assert normalize_token(f"{token}._domainkey.example.com") == token
    with pytest.raises(BadDoctorInput, match="--dkim-token"):
        normalize_token("not a token")
