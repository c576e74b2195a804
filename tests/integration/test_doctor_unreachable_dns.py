"""When DNS cannot be asked, doctor says it could not check (UNKNOWN, exit 1), never FAIL with
"publish the record": the record may well be there."""

from __future__ import annotations

import pytest
from ses_feedback_cli.main import main
from ses_feedback_doctor.diagnose import DoctorRequest, diagnose
from ses_feedback_doctor.dns_lookup import DnsLookup
from ses_feedback_doctor.model import Status, failed

from tests.support import dns_zones as z
from tests.support.dns_server import DnsServer, zone_from_records

DNS_CHECKS = {
    "dns.dkim.1",
    "dns.dkim.2",
    "dns.dkim.3",
    "dns.mail_from.mx",
    "dns.mail_from.spf",
    "dns.dmarc",
    "alignment.spf",
    "alignment.dkim",
    "dmarc.verdict",
}


def test_a_server_that_does_not_answer_makes_every_dns_check_unknown() -> None:
    # Given nothing listens on 127.0.0.1:1
    checks = diagnose(
        DoctorRequest(domain=z.DOMAIN, region=z.REGION, dns_only=True, dkim_tokens=z.TOKENS),
        DnsLookup(nameserver="127.0.0.1:1", timeout=0.5),
    )

    # Then every check says it could not check, and none tells to publish anything
    assert {check.id for check in checks} == DNS_CHECKS
    assert {check.status for check in checks} == {Status.UNKNOWN}
    assert all(check.detail.startswith("could not check") for check in checks)
    assert not any("publish" in (check.fix or "") for check in checks)
    assert failed(checks)


def test_a_server_that_refuses_the_query_is_unknown_too(dns_server: DnsServer) -> None:
    # Given the loopback server serves another zone only, so it answers REFUSED for ours
    dns_server.zones.set([zone_from_records("example.org", [])])

    checks = {
        c.id: c
        for c in diagnose(
            DoctorRequest(domain=z.DOMAIN, region=z.REGION, dns_only=True, dkim_tokens=z.TOKENS),
            DnsLookup(nameserver=dns_server.address, timeout=2),
        )
    }

    assert checks["dns.dmarc"].status is Status.UNKNOWN
    assert "REFUSED" in checks["dns.dmarc"].detail
    assert checks["dmarc.verdict"].status is Status.UNKNOWN


def test_the_command_prints_unknown_and_exits_1(capsys: pytest.CaptureFixture[str]) -> None:
    tokens = [arg for token in z.TOKENS for arg in ("--dkim-token", token)]

    status = main(
        ["doctor", z.DOMAIN, "--dns-only", "--nameserver", "127.0.0.1:1", "--timeout", "0.5", *tokens]
    )

    out = capsys.readouterr().out
    assert status == 1
    assert "UNKNOWN  dns.dmarc" in out
    assert "FAIL" not in out
