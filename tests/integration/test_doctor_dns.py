"""`doctor --dns-only` against a real authoritative DNS server on loopback, one broken record at a time.

Each case serves the correct zone with exactly one record missing or wrong, and asserts
the check that must catch it (status and the fix it prints), and the DMARC verdict.
"""

from __future__ import annotations

import pytest
from ses_feedback_doctor.diagnose import DoctorRequest, diagnose
from ses_feedback_doctor.dns_lookup import DnsLookup
from ses_feedback_doctor.model import Check, Status, failed

from tests.support import dns_zones as z
from tests.support.dns_server import DnsServer, zone_from_records


def doctor(
    server: DnsServer, records: dict[str, str], tokens: tuple[str, ...] = z.TOKENS, **request: str
) -> dict[str, Check]:
    server.zones.set(z.zones(records))
    checks = diagnose(
        DoctorRequest(domain=z.DOMAIN, region=z.REGION, dns_only=True, dkim_tokens=tokens, **request),
        DnsLookup(nameserver=server.address, timeout=2),
    )
    by_id = {check.id: check for check in checks}
    assert len(by_id) == len(checks), "check ids are unique"
    return by_id


def test_correct_zone_passes_every_check_and_dmarc(dns_server: DnsServer) -> None:
    # Given a zone with the DKIM CNAMEs, MAIL FROM MX and SPF, and a DMARC record
    checks = doctor(dns_server, z.correct_records())
    # Then every check passes, and mail passes DMARC through both SPF and DKIM
    assert {c.id: c.status for c in checks.values()} == {
        "dns.dkim.1": Status.PASS,
        "dns.dkim.2": Status.PASS,
        "dns.dkim.3": Status.PASS,
        "dns.mail_from.mx": Status.PASS,
        "dns.mail_from.spf": Status.PASS,
        "dns.dmarc": Status.PASS,
        "alignment.spf": Status.PASS,
        "alignment.dkim": Status.PASS,
        "dmarc.verdict": Status.PASS,
    }
    assert (
        "through SPF (MAIL FROM mail.example.com) and DKIM (d=example.com)" in checks["dmarc.verdict"].detail
    )
    assert "1 of 10 DNS look-ups" in checks["dns.mail_from.spf"].detail
    assert all(c.fix is None for c in checks.values())
    assert dns_server.zones.queries > 0


def test_no_dmarc_record_fails_with_the_record_to_publish(dns_server: DnsServer) -> None:
    checks = doctor(dns_server, z.without("dmarc"))
    assert checks["dns.dmarc"].status is Status.FAIL
    assert checks["dns.dmarc"].fix is not None
    assert checks["dns.dmarc"].fix.startswith(
        'publish _dmarc.example.com TXT "v=DMARC1; p=none; rua=mailto:dmarc-reports@example.com"'
    )
    # SPF and DKIM still align, but without a policy there is nothing to pass
    assert checks["alignment.spf"].status is Status.PASS
    assert checks["alignment.dkim"].status is Status.PASS
    assert checks["dmarc.verdict"].status is Status.FAIL
    assert checks["dmarc.verdict"].fix == checks["dns.dmarc"].fix


def test_spf_without_amazonses_fails_and_mail_passes_dmarc_through_dkim_only(dns_server: DnsServer) -> None:
    checks = doctor(dns_server, z.replacing(spf='mail TXT "v=spf1 ip4:192.0.2.0/24 ~all"'))
    spf = checks["dns.mail_from.spf"]
    assert spf.status is Status.FAIL
    assert "does not include amazonses.com" in spf.detail
    assert spf.fix == (
        'replace the SPF record with mail.example.com TXT "v=spf1 include:amazonses.com ~all" '
        "(the MAIL FROM subdomain only sends through SES)"
    )
    assert checks["alignment.spf"].status is Status.FAIL
    assert checks["alignment.spf"].fix == spf.fix
    assert checks["dmarc.verdict"].status is Status.PASS
    assert "through DKIM; SPF does not align" in checks["dmarc.verdict"].detail


def test_two_spf_records_fail_as_permerror(dns_server: DnsServer) -> None:
    records = z.correct_records()
    records["spf2"] = 'mail TXT "v=spf1 include:amazonses.com -all"'
    checks = doctor(dns_server, records)
    spf = checks["dns.mail_from.spf"]
    assert spf.status is Status.FAIL
    assert spf.detail == "2 SPF records at mail.example.com: receivers return permerror, so SPF fails"
    assert spf.fix == 'replace them with one record: mail.example.com TXT "v=spf1 include:amazonses.com ~all"'
    assert checks["alignment.spf"].status is Status.FAIL


def test_too_many_dns_lookups_through_chained_includes_fail(dns_server: DnsServer) -> None:
    # Given an SPF record whose includes chain inside the zone: 2 + 3 + 3 + 4 = 12 look-ups
    records = z.replacing(
        spf='mail TXT "v=spf1 include:amazonses.com include:spf1.example.com ~all"',
        spf1='spf1 TXT "v=spf1 a mx include:spf2.example.com ~all"',
        spf2='spf2 TXT "v=spf1 a mx include:spf3.example.com ~all"',
        spf3='spf3 TXT "v=spf1 a mx ptr exists:%{i}.x.example.com ~all"',
    )
    checks = doctor(dns_server, records)
    spf = checks["dns.mail_from.spf"]
    assert spf.status is Status.FAIL
    assert "it needs 12 DNS look-ups (limit 10): receivers return permerror" in spf.detail
    assert spf.fix is not None
    assert spf.fix.startswith(
        'replace the SPF record with mail.example.com TXT "v=spf1 include:amazonses.com ~all"'
    )


def test_ten_lookups_are_still_within_the_limit(dns_server: DnsServer) -> None:
    # 2 + 3 + 4 + 1 = 10: the limit itself is allowed
    records = z.replacing(
        spf='mail TXT "v=spf1 include:amazonses.com include:spf1.example.com ~all"',
        spf1='spf1 TXT "v=spf1 a mx include:spf2.example.com ~all"',
        spf2='spf2 TXT "v=spf1 a mx mx:example.com include:spf3.example.com ~all"',
        spf3='spf3 TXT "v=spf1 a ip4:192.0.2.1 ~all"',
    )
    checks = doctor(dns_server, records)
    assert checks["dns.mail_from.spf"].status is Status.PASS
    assert "(10 of 10 DNS look-ups)" in checks["dns.mail_from.spf"].detail


def test_wrong_dkim_target_fails_that_record_and_dkim_alignment(dns_server: DnsServer) -> None:
    token = z.TOKENS[1]
    checks = doctor(dns_server, z.replacing(dkim2=f"{token}._domainkey CNAME {token}.dkim.example.net."))
    assert [checks[f"dns.dkim.{i}"].status for i in (1, 2, 3)] == [Status.PASS, Status.FAIL, Status.PASS]
    assert checks["dns.dkim.2"].detail == (
        f"{token}._domainkey.example.com points to {token}.dkim.example.net, not {token}.dkim.amazonses.com"
    )
    assert checks["dns.dkim.2"].fix == (
        f"change the record to {token}._domainkey.example.com CNAME {token}.dkim.amazonses.com"
    )
    assert checks["alignment.dkim"].status is Status.FAIL
    # SPF still aligns, so mail passes DMARC, but only until it is forwarded
    assert checks["dmarc.verdict"].status is Status.WARN
    assert "through SPF alone" in checks["dmarc.verdict"].detail
    assert checks["dmarc.verdict"].fix == checks["dns.dkim.2"].fix


def test_missing_dkim_record_says_which_record_to_publish(dns_server: DnsServer) -> None:
    token = z.TOKENS[2]
    checks = doctor(dns_server, z.without("dkim3"))
    assert checks["dns.dkim.3"].status is Status.FAIL
    assert (
        checks["dns.dkim.3"].fix == f"publish {token}._domainkey.example.com CNAME {token}.dkim.amazonses.com"
    )


def test_missing_mail_from_mx_fails_and_spf_cannot_align(dns_server: DnsServer) -> None:
    checks = doctor(dns_server, z.without("mx"))
    mx = checks["dns.mail_from.mx"]
    assert mx.status is Status.FAIL
    assert mx.fix == "publish mail.example.com MX 10 feedback-smtp.us-east-1.amazonses.com"
    assert checks["alignment.spf"].status is Status.FAIL
    assert "amazonses.com MAIL FROM" in checks["alignment.spf"].detail
    assert checks["alignment.spf"].fix == mx.fix
    assert checks["dmarc.verdict"].status is Status.PASS  # through DKIM


def test_mail_from_mx_of_another_region_fails(dns_server: DnsServer) -> None:
    checks = doctor(dns_server, z.replacing(mx="mail MX 10 feedback-smtp.eu-west-1.amazonses.com."))
    assert checks["dns.mail_from.mx"].status is Status.FAIL
    assert "feedback-smtp.eu-west-1.amazonses.com, not this region's" in checks["dns.mail_from.mx"].detail
    assert checks["dns.mail_from.mx"].fix == (
        "change the record to mail.example.com MX 10 feedback-smtp.us-east-1.amazonses.com"
    )


def test_plus_all_fails(dns_server: DnsServer) -> None:
    checks = doctor(dns_server, z.replacing(spf='mail TXT "v=spf1 include:amazonses.com +all"'))
    assert checks["dns.mail_from.spf"].status is Status.FAIL
    assert "+all lets anyone pass SPF" in checks["dns.mail_from.spf"].detail


def test_strict_spf_alignment_can_never_align_with_a_mail_from_subdomain(dns_server: DnsServer) -> None:
    checks = doctor(dns_server, z.replacing(dmarc='_dmarc TXT "v=DMARC1; p=reject; aspf=s"'))
    assert checks["alignment.spf"].status is Status.FAIL
    assert checks["alignment.spf"].fix == (
        "drop aspf=s from _dmarc.example.com: SES's MAIL FROM is always a subdomain"
    )
    assert checks["dmarc.verdict"].status is Status.PASS  # DKIM d= is the domain itself


def test_unparseable_dmarc_record_fails(dns_server: DnsServer) -> None:
    checks = doctor(dns_server, z.replacing(dmarc='_dmarc TXT "v=DMARC1; p=maybe"'))
    assert checks["dns.dmarc"].status is Status.FAIL
    assert "p= must be one of none, quarantine, reject, not 'maybe'" in checks["dns.dmarc"].detail
    assert checks["dmarc.verdict"].status is Status.FAIL


def test_without_dkim_tokens_dkim_is_a_warning_not_a_failure(dns_server: DnsServer) -> None:
    checks = doctor(dns_server, z.correct_records(), tokens=())
    assert checks["dns.dkim"].status is Status.WARN
    assert "--dkim-token three times" in (checks["dns.dkim"].fix or "")
    assert checks["alignment.dkim"].status is Status.WARN
    assert checks["dmarc.verdict"].status is Status.WARN
    assert not failed(list(checks.values()))


def test_custom_mail_from_subdomain_is_checked_where_it_is(dns_server: DnsServer) -> None:
    records = z.replacing(
        mx="bounce MX 10 feedback-smtp.us-east-1.amazonses.com.",
        spf='bounce TXT "v=spf1 include:amazonses.com ~all"',
    )
    checks = doctor(dns_server, records, mail_from="bounce")
    assert checks["dns.mail_from.mx"].status is Status.PASS
    assert checks["dns.mail_from.spf"].status is Status.PASS
    assert "MAIL FROM bounce.example.com" in checks["alignment.spf"].detail


def test_large_answers_come_back_over_tcp(dns_server: DnsServer) -> None:
    # Given a MAIL FROM name whose TXT answer is too big for a 512-byte UDP answer
    records = z.correct_records()
    for index in range(12):
        records[f"verify{index}"] = f'mail TXT "site-verification={"x" * 60}{index}"'
    tcp_before = dns_server.zones.tcp_queries
    checks = doctor(dns_server, records)
    # Then the SPF record is still found among them: the UDP answer was truncated, and
    # dnspython asked again over TCP
    assert checks["dns.mail_from.spf"].status is Status.PASS
    assert dns_server.zones.tcp_queries > tcp_before


@pytest.mark.parametrize("rdtype", ["TXT", "MX", "CNAME"])
def test_a_name_outside_the_served_zones_is_a_query_error_not_a_missing_record(
    dns_server: DnsServer, rdtype: str
) -> None:
    dns_server.zones.set([zone_from_records("example.org", [])])
    lookup = DnsLookup(nameserver=dns_server.address, timeout=2).query("mail.example.com", rdtype)
    assert lookup.records == ()
    assert lookup.error is not None
    assert "REFUSED" in lookup.error


def test_a_subdomain_without_its_own_dmarc_record_inherits_its_parents(dns_server: DnsServer) -> None:
    # Given news.example.com set up for SES, with DMARC only at _dmarc.example.com
    news = {
        **{
            f"dkim{i}": f"{token}._domainkey.news CNAME {token}.dkim.amazonses.com."
            for i, token in enumerate(z.TOKENS, start=1)
        },
        "mx": "mail.news MX 10 feedback-smtp.us-east-1.amazonses.com.",
        "spf": 'mail.news TXT "v=spf1 include:amazonses.com ~all"',
        "dmarc": '_dmarc TXT "v=DMARC1; p=reject; sp=quarantine"',
    }
    dns_server.zones.set(z.zones(news))
    checks = {
        c.id: c
        for c in diagnose(
            DoctorRequest(domain="news.example.com", region=z.REGION, dns_only=True, dkim_tokens=z.TOKENS),
            DnsLookup(nameserver=dns_server.address, timeout=2),
        )
    }
    # Then the parent's record applies, with its subdomain policy, and mail passes DMARC
    assert checks["dns.dmarc"].status is Status.PASS
    assert checks["dns.dmarc"].detail == (
        "no record at _dmarc.news.example.com; _dmarc.example.com TXT v=DMARC1; p=reject; sp=quarantine "
        "applies to it: policy sp=quarantine"
    )
    assert checks["dmarc.verdict"].status is Status.PASS
    assert "MAIL FROM mail.news.example.com" in checks["dmarc.verdict"].detail
