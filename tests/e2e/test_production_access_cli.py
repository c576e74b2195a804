"""`ses-feedback production-access` against the local stack (moto server) and real DNS on loopback."""

from __future__ import annotations

import boto3

from tests.e2e.conftest import Cli
from tests.support import dns_zones as z
from tests.support.dns_server import DnsServer


def test_a_stack_that_is_not_ready_is_not_submitted(cli: Cli, dns_server: DnsServer) -> None:
    # Given the local stack (its identity verified, its MAIL FROM set), but no DMARC record
    cli.run("local", "bootstrap")
    dns_server.zones.set(z.zones(z.without("dmarc")))

    # When
    result = cli.run(
        "production-access", "--domain", z.DOMAIN, "--nameserver", dns_server.address, "--submit", check=False
    )

    # Then the readiness says what is missing, the description is shown, and nothing is sent
    assert result.returncode == 1
    assert "ready      the sending domain is verified" in result.stdout
    assert "NOT READY  a DMARC record is published" in result.stdout
    assert "ready      bounces and complaints reach the feedback stack" in result.stdout
    assert "ready      the suppression list is in place" in result.stdout
    assert "use case description (TRANSACTIONAL, https://example.com), for review:" in result.stdout
    assert "3 transient bounces within 14 days suppress it for 7 days" in result.stdout
    assert "error: not submitted: fix what is NOT READY first" in result.stderr


def test_a_ready_local_stack_submits_the_request_the_readiness_shows(cli: Cli, dns_server: DnsServer) -> None:
    # Given the local stack and its DNS as published
    cli.run("local", "bootstrap")
    dns_server.zones.set(z.zones(z.correct_records()))
    # When
    result = cli.run(
        "production-access", "--domain", z.DOMAIN, "--nameserver", dns_server.address, "--submit", check=False
    )
    # Then every item is ready, and the local SES holds the request as it was sent
    assert result.returncode == 0, result.stderr
    assert "NOT READY" not in result.stdout
    assert "submitted the request for production access in us-east-1" in result.stdout
    details = boto3.client("sesv2").get_account()["Details"]
    assert (details["MailType"], details["WebsiteURL"]) == ("TRANSACTIONAL", "https://example.com")
    assert "3 transient bounces within 14 days suppress it for 7 days" in details["UseCaseDescription"]
