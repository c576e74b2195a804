"""DMARC reports on the local stack, as an operator runs them: ingest every sample through
the bucket and DmarcReportFunction, then `dmarc summary` adds up what the reports say."""

from __future__ import annotations

import email
import email.message
import gzip
import io
import json
import re
import zipfile
from pathlib import Path

import pytest

from tests.e2e.conftest import Cli

SAMPLES = Path(__file__).resolve().parents[1] / "fixtures" / "dmarc"
FILES = sorted(
    str(p) for p in SAMPLES.rglob("*") if p.is_file() and p.suffix in {".xml", ".gz", ".zip", ".eml"}
)
BAD = {"invalid_utf_8.xml", "invalid_xml.xml"}


def _xml_documents(path: Path) -> list[bytes]:
    """The XML inside a sample, unpacked with the standard library (not the reader under test)."""
    data = path.read_bytes()
    if path.suffix == ".gz":
        return [gzip.decompress(data)]
    if path.suffix == ".zip":
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return [archive.read(name) for name in archive.namelist()]
    if path.suffix == ".eml":
        documents = []
        for part in email.message_from_bytes(data).walk():
            payload = part.get_payload(decode=True)
            if isinstance(payload, bytes) and payload[:2] == b"\x1f\x8b":
                documents.append(gzip.decompress(payload.rstrip(b"\r\n")))
            elif isinstance(payload, bytes) and payload[:2] == b"PK":
                with zipfile.ZipFile(io.BytesIO(payload)) as archive:
                    documents += [archive.read(name) for name in archive.namelist()]
        return documents
    return [data]


def expected_messages(domain: str) -> int:
    """The sum of <count> over the distinct reports (reporter, report id) about ``domain``."""
    seen: dict[tuple[bytes, bytes], int] = {}
    for name in FILES:
        if Path(name).name in BAD:
            continue
        for xml in _xml_documents(Path(name)):
            published = re.search(rb"<policy_published>\s*<domain>([^<]+)</domain>", xml)
            assert published, name
            if published.group(1).strip().lower() != domain.encode():
                continue
            org = re.search(rb"<org_name>([^<]*)</org_name>", xml)
            contact = re.search(rb"<email>([^<]*)</email>", xml)
            report_id = re.search(rb"<report_id>([^<]+)</report_id>", xml)
            assert org is not None and contact is not None and report_id is not None
            reporter = org.group(1).strip() or contact.group(1).strip()
            counts = [int(c) for c in re.findall(rb"<count>\s*(\d+)\s*</count>", xml)]
            seen[(reporter, report_id.group(1).strip())] = sum(counts)
    return sum(seen.values())


@pytest.fixture
def local_stack(cli: Cli) -> Cli:
    cli.run("local", "bootstrap")
    return cli


def test_ingested_samples_add_up_and_ingesting_again_changes_nothing(local_stack: Cli) -> None:
    # When every sample is delivered as SES would
    first = local_stack.run("dmarc", "ingest", "--json", *FILES, check=False)

    # Then the two broken ones are set aside (exit 1, each line saying why), the rest stored
    assert first.returncode == 1
    outcomes = {Path(line["file"]).name: line for line in map(json.loads, first.stdout.splitlines())}
    assert {name for name, o in outcomes.items() if o["rejected_to"]} == BAD
    assert (
        sum(o["stored"] for o in outcomes.values()) == len(FILES) - len(BAD) - 2
    )  # nice-input .gz/.zip repeat .xml
    for name in BAD:
        assert outcomes[name]["reason"]

    summary = local_stack.run("dmarc", "summary", "example.com", "--since", "1970-01-01", "--json")
    totals = json.loads(summary.stdout)
    assert totals["messages"] == expected_messages("example.com")
    assert totals["messages"] == sum(source["messages"] for source in totals["sources"])
    assert totals["messages"] == sum(day["messages"] for day in totals["daily"])
    assert totals["verdict"]["policy"] in {"none", "quarantine", "reject"}

    # When the same files arrive again
    again = local_stack.run("dmarc", "ingest", "--json", *FILES, check=False)

    # Then nothing new is stored and the summary is the same
    assert sum(json.loads(line)["stored"] for line in again.stdout.splitlines()) == 0
    assert (
        local_stack.run("dmarc", "summary", "example.com", "--since", "1970-01-01", "--json").stdout
        == summary.stdout
    )


def test_a_mail_with_a_report_and_an_unreadable_part_stores_the_report_and_says_so(
    local_stack: Cli, tmp_path: Path
) -> None:
    # Given a report mail with one readable report and one attachment that is not XML
    message = email.message.EmailMessage()
    message["Subject"] = "Report domain: example.com"
    message.set_content("Two reports.")
    for name in ("veeam.com!example.com!1530133200!1530219600.xml", "invalid_xml.xml"):
        data = (SAMPLES / "aggregate" / name).read_bytes()
        message.add_attachment(data, maintype="text", subtype="xml", filename=name)
    mail = tmp_path / "two.eml"
    mail.write_bytes(message.as_bytes())

    # When
    result = local_stack.run("dmarc", "ingest", str(mail), check=False)

    # Then the report is stored, and the unreadable part is an error naming where the copy is
    assert result.returncode == 1
    assert f"{mail}: 1 report(s) stored" in result.stdout
    assert f"error: {mail}: invalid_xml.xml: not well-formed XML" in result.stderr
    assert "(a copy set aside as rejected/" in result.stderr


def test_summary_names_the_verdict_and_the_failing_sources(local_stack: Cli) -> None:
    sample = str(SAMPLES / "aggregate" / "rfc9990-example.net!example.com!1700000000!1700086399.xml")
    local_stack.run("dmarc", "ingest", sample)

    out = local_stack.run("dmarc", "summary", "example.com", "--since", "1970-01-01").stdout.splitlines()

    assert out[0].startswith("example.com since ")
    assert out[0].endswith(": 1 report(s), 7 message(s), 5 passed DMARC (71.4%); published p=reject")
    assert out[1] == "verdict: p=none: not enough data yet: 7 message(s) on 1 day(s) (want 100 on 7)"
    assert out[2] == "fix first: 203.0.113.10"


def test_the_demo_ingests_a_report_and_prints_the_summary() -> None:
    from tests.e2e.test_demo import run_demo

    result = run_demo()

    assert result.returncode == 0, result.stderr[-2000:]
    output = result.stdout + result.stderr
    assert "example.com: 11 message(s), 8 passed DMARC (72.7%)" in output
    assert "verdict: p=none: not enough data yet: 11 message(s) on 1 day(s) (want 100 on 7)" in output
    assert "54.240.8.1: 8 message(s), 8 passed, this stack" in output
    assert "203.0.113.66: 3 message(s), 0 passed, not this stack" in output
