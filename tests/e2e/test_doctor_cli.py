"""The installed `ses-feedback doctor` as a subprocess, against the loopback DNS server."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support import dns_zones as z
from tests.support.dns_server import DnsServer

CLI = str(Path(sys.executable).with_name("ses-feedback"))


def run_doctor(
    server: DnsServer, records: dict[str, str], *extra: str, json_output: bool = True
) -> subprocess.CompletedProcess[str]:
    server.zones.set(z.zones(records))
    # No AWS credentials and an endpoint nobody listens on: --dns-only must not need them.
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env |= {"AWS_CONFIG_FILE": os.devnull, "AWS_SHARED_CREDENTIALS_FILE": os.devnull}
    env |= {"AWS_ENDPOINT_URL": "http://127.0.0.1:9", "AWS_REGION": z.REGION}
    tokens = [arg for token in z.TOKENS for arg in ("--dkim-token", token)]
    return subprocess.run(
        [CLI, "doctor", z.DOMAIN, "--dns-only", "--nameserver", server.address, *tokens, *extra]
        + (["--json"] if json_output else []),
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_correct_domain_exits_0_with_every_check_passing(dns_server: DnsServer) -> None:
    result = run_doctor(dns_server, z.correct_records())
    assert result.returncode == 0, result.stderr
    checks = json.loads(result.stdout)
    assert {c["status"] for c in checks} == {"PASS"}
    assert all(set(c) == {"id", "status", "detail", "fix"} for c in checks)
    assert not any(c["id"].startswith("ses.") for c in checks)  # no AWS call at all
    assert checks[-1]["id"] == "dmarc.verdict"


@pytest.mark.parametrize(
    ("records", "failing", "fix"),
    [
        (z.without("dmarc"), "dns.dmarc", '_dmarc.example.com TXT "v=DMARC1; p=none'),
        (z.without("mx"), "dns.mail_from.mx", "mail.example.com MX 10 feedback-smtp.us-east-1.amazonses.com"),
        (
            z.replacing(spf='mail TXT "v=spf1 mx ~all"'),
            "dns.mail_from.spf",
            'mail.example.com TXT "v=spf1 include:amazonses.com ~all"',
        ),
    ],
)
def test_a_broken_record_exits_1_and_prints_its_fix(
    dns_server: DnsServer, records: dict[str, str], failing: str, fix: str
) -> None:
    result = run_doctor(dns_server, records)
    assert result.returncode == 1, result.stderr
    by_id = {c["id"]: c for c in json.loads(result.stdout)}
    assert by_id[failing]["status"] == "FAIL"
    assert fix in by_id[failing]["fix"]


def test_text_report_names_status_check_and_fix(dns_server: DnsServer) -> None:
    text = run_doctor(dns_server, z.without("dmarc"), json_output=False)
    assert text.returncode == 1
    assert "FAIL  dns.dmarc" in text.stdout
    assert 'fix: publish _dmarc.example.com TXT "v=DMARC1; p=none' in text.stdout


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--dkim-token", z.TOKENS[0]], "give all three Easy DKIM tokens, not 4"),
        (["--nameserver", "127.0.0.1:99999"], "port must be 1-65535"),
    ],
)
def test_bad_arguments_exit_2_and_name_the_argument(
    dns_server: DnsServer, arguments: list[str], message: str
) -> None:
    result = run_doctor(dns_server, z.correct_records(), *arguments)
    assert result.returncode == 2
    # Under --json an error is the API's error shape on stdout (the CLI's one rule), else stderr.
    error = json.loads(result.stdout)["error"]
    assert message in error["message"]
    assert result.stderr == ""
