"""DmarcReportFunction on in-process moto: SES stored a message, the function stores its
reports once per reporter and report id, and sets aside what it cannot read."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws
from ses_feedback.edges.dmarc_store import PART_BYTES, DmarcReportStore
from ses_feedback.edges.report_mail import ReportMailBucket
from ses_feedback.errors import InvalidRequest
from ses_feedback.model.dmarc import DmarcRecord, DmarcReport, PublishedPolicy
from ses_feedback.parsing.dmarc import read_reports
from ses_feedback_emulator.bootstrap import bootstrap
from ses_feedback_emulator.dmarc import as_mail, ingest, report_address
from ses_feedback_emulator.lambdas import LocalContext, load_handler
from ses_feedback_stack.names import LocalStack
from ses_feedback_stack.template import REPO_ROOT

from tests.integration.test_feedback_function import emitted_metrics

SAMPLES = REPO_ROOT / "tests" / "fixtures" / "dmarc"
LARGE = SAMPLES / "aggregate" / "!large-example.com!1711897200!1711983600.xml"
TWILIGHT = SAMPLES / "aggregate" / "twilight.eml"


@dataclass
class DmarcStack:
    local: LocalStack
    refs: dict[str, str]
    store: DmarcReportStore
    bucket: ReportMailBucket

    def keys(self, prefix: str) -> list[str]:
        s3 = boto3.client("s3")
        listed = s3.list_objects_v2(Bucket=self.bucket.bucket, Prefix=prefix)
        return [item["Key"] for item in listed.get("Contents", [])]


@pytest.fixture
def dmarc_stack(monkeypatch: pytest.MonkeyPatch) -> Iterator[DmarcStack]:
    with mock_aws():
        local = LocalStack(prefix="it")
        refs = bootstrap(local)
        for name, value in local.function_environment("DmarcReportFunction").items():
            monkeypatch.setenv(name, value)
        # Local ingest loads the function quietly (metrics off); put both back after each test.
        monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "false")
        yield DmarcStack(
            local=local,
            refs=refs,
            store=DmarcReportStore(refs["DmarcReportTable"]),
            bucket=ReportMailBucket(refs["DmarcReportBucket"]),
        )


def test_the_event_file_runs_the_function_on_the_message_ses_stored(dmarc_stack: DmarcStack) -> None:
    # Given SES stored a report mail under the receipt rule's prefix + the event's message id
    event = json.loads((REPO_ROOT / "events" / "dmarc_report" / "ses_receipt.json").read_text())
    message_id = event["Records"][0]["ses"]["mail"]["messageId"]
    dmarc_stack.bucket.put_incoming(message_id, TWILIGHT.read_bytes())
    handler = load_handler(dmarc_stack.local, "DmarcReportFunction")

    # When
    result = handler(event, LocalContext(function_name="DmarcReportFunction"))

    # Then
    assert result["messages"][0] | {"key": None} == {
        "key": None,
        "stored": 1,
        "duplicates": 0,
        "rejected_to": None,
        "reason": None,
        "report_ids": ["1627703331531660819"],
    }
    (stored,) = dmarc_stack.store.reports("twlnet.com")
    assert (stored.org_name, stored.messages, stored.dmarc_pass) == ("google.com", 1, 1)


def test_the_same_report_twice_is_stored_once(dmarc_stack: DmarcStack) -> None:
    first = ingest(dmarc_stack.local, TWILIGHT, TWILIGHT.read_bytes())
    again = ingest(dmarc_stack.local, TWILIGHT, TWILIGHT.read_bytes())

    assert (first["stored"], first["duplicates"]) == (1, 0)
    assert (again["stored"], again["duplicates"]) == (0, 1)
    assert len(list(dmarc_stack.store.reports("twlnet.com"))) == 1


def test_an_unreadable_message_is_moved_under_rejected_and_counted(
    dmarc_stack: DmarcStack, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a message whose only attachment is not well-formed XML
    bad = SAMPLES / "aggregate" / "invalid_xml.xml"

    # When
    outcome = ingest(dmarc_stack.local, bad, bad.read_bytes())

    # Then it is set aside with its reason, and nothing is left to retry
    assert outcome["rejected_to"] == "rejected/" + outcome["key"].removeprefix("incoming/")
    assert (
        outcome["reason"]
        == "invalid_xml.xml: not well-formed XML: not well-formed (invalid token): line 5, column 17"
    )
    assert dmarc_stack.keys("incoming/") == []
    assert dmarc_stack.keys("rejected/") == [outcome["rejected_to"]]
    assert dmarc_stack.bucket.rejected_count() == 1


def test_a_part_that_cannot_be_read_beside_a_report_is_set_aside_and_counted(
    dmarc_stack: DmarcStack, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a message with a readable report and an attachment that is not well-formed XML
    message = EmailMessage()
    message["Subject"] = "Report domain: example.com"
    message.set_content("Two reports.")
    good = SAMPLES / "aggregate" / "veeam.com!example.com!1530133200!1530219600.xml"
    bad = SAMPLES / "aggregate" / "invalid_xml.xml"
    for path in (good, bad):
        message.add_attachment(path.read_bytes(), maintype="text", subtype="xml", filename=path.name)
    dmarc_stack.bucket.put_incoming("m1", message.as_bytes())
    handler = load_handler(dmarc_stack.local, "DmarcReportFunction")
    event = json.loads((REPO_ROOT / "events" / "dmarc_report" / "ses_receipt.json").read_text())
    event["Records"][0]["ses"]["mail"]["messageId"] = "m1"

    # When
    (outcome,) = handler(event, LocalContext(function_name="DmarcReportFunction"))["messages"]

    # Then the report is stored, and the message is copied under rejected/ with the part's reason
    assert (outcome["stored"], outcome["rejected_to"]) == (1, "rejected/m1")
    assert outcome["reason"].startswith("invalid_xml.xml: not well-formed XML")
    assert dmarc_stack.keys("incoming/") == ["incoming/m1"]
    assert dmarc_stack.keys("rejected/") == ["rejected/m1"]
    # And counted as a rejection, which raises DmarcReportRejectedAlarm
    metrics = emitted_metrics(capsys.readouterr().out)
    assert (metrics["DmarcReportStored"], metrics["DmarcReportRejected"]) == (1, 1)


MAIL_ID = "Records[0].ses.mail.messageId"


def _without_id(event: dict[str, Any]) -> None:
    del event["Records"][0]["ses"]["mail"]["messageId"]


def _id_outside_the_prefix(event: dict[str, Any]) -> None:
    # The id becomes part of an S3 key: only what SES gives (letters, digits, '.', '_', '-')
    event["Records"][0]["ses"]["mail"]["messageId"] = "../other/key"


def _no_records(event: dict[str, Any]) -> None:
    event["Records"] = []


@pytest.mark.parametrize(
    ("change", "field"),
    [(_without_id, MAIL_ID), (_id_outside_the_prefix, MAIL_ID), (_no_records, "Records")],
)
def test_an_event_that_names_no_stored_message_is_refused_naming_the_field(
    dmarc_stack: DmarcStack, change: Callable[[dict[str, Any]], None], field: str
) -> None:
    # Given the receipt event, broken
    event = json.loads((REPO_ROOT / "events" / "dmarc_report" / "ses_receipt.json").read_text())
    change(event)
    handler = load_handler(dmarc_stack.local, "DmarcReportFunction")
    # When / Then: refused, naming what is wrong (Lambda retries, then the dead-letter queue keeps it)
    with pytest.raises(InvalidRequest) as refused:
        handler(event, LocalContext(function_name="DmarcReportFunction"))
    assert refused.value.field == field
    assert dmarc_stack.keys("rejected/") == []


def test_the_rejection_is_a_metric(dmarc_stack: DmarcStack, capsys: pytest.CaptureFixture[str]) -> None:
    dmarc_stack.bucket.put_incoming("m1", b"\x00 not a report")
    handler = load_handler(dmarc_stack.local, "DmarcReportFunction")
    event = json.loads((REPO_ROOT / "events" / "dmarc_report" / "ses_receipt.json").read_text())
    event["Records"][0]["ses"]["mail"]["messageId"] = "m1"

    handler(event, LocalContext(function_name="DmarcReportFunction"))

    assert emitted_metrics(capsys.readouterr().out)["DmarcReportRejected"] == 1


def test_a_report_naming_its_reporter_by_address_is_logged_without_it(
    dmarc_stack: DmarcStack, no_address_in_logs: Any
) -> None:
    # Given a report whose org_name and report_id are addresses (the reporter writes what it likes)
    veeam = (SAMPLES / "aggregate" / "veeam.com!example.com!1530133200!1530219600.xml").read_text()
    xml = veeam.replace("<org_name>veeam.com<", "<org_name>dmarc-team@veeam.com<").replace(
        "<report_id>sonexushealth.com:1530233361<", "<report_id>1530233361@mx.veeam.com<"
    )
    dmarc_stack.bucket.put_incoming("m1", xml.encode())
    handler = load_handler(dmarc_stack.local, "DmarcReportFunction")
    event = json.loads((REPO_ROOT / "events" / "dmarc_report" / "ses_receipt.json").read_text())
    event["Records"][0]["ses"]["mail"]["messageId"] = "m1"

    # When
    result = handler(event, LocalContext(function_name="DmarcReportFunction"))

    # Then it is stored as written (the autouse guard fails the test if a log line holds either) ...
    assert result["messages"][0]["report_ids"] == ["1530233361@mx.veeam.com"]
    (stored,) = dmarc_stack.store.reports("example.com")
    assert stored.org_name == "dmarc-team@veeam.com"
    # ... and its log line still tells reports apart: the address's hash stands in its place
    (logged,) = [line for line in no_address_in_logs.lines if "dmarc report read" in line]
    digest = hashlib.sha256(b"1530233361@mx.veeam.com").hexdigest()[:16]
    assert f'"report_id":"<{digest}>"' in logged


def test_the_2286_record_report_fits_in_one_item(dmarc_stack: DmarcStack) -> None:
    outcome = ingest(dmarc_stack.local, LARGE, LARGE.read_bytes())

    assert outcome["stored"] == 1
    items = boto3.client("dynamodb").scan(TableName=dmarc_stack.refs["DmarcReportTable"])["Items"]
    parts = [item for item in items if item["pk"]["S"].startswith("DOMAIN#")]
    assert len(parts) == 1
    assert len(parts[0]["body"]["B"]) < PART_BYTES
    (stored,) = dmarc_stack.store.reports("example.com")
    assert stored == read_reports(LARGE.read_bytes()).reports[0]


def _random_report(records: int) -> DmarcReport:
    import random

    pick = random.Random(7)
    return DmarcReport(
        org_name="big.example",
        report_id="big-1",
        domain="example.com",
        begin=datetime(2026, 11, 1, tzinfo=UTC),
        end=datetime(2026, 11, 2, tzinfo=UTC),
        policy=PublishedPolicy(p="none"),
        records=tuple(
            DmarcRecord(
                source_ip=f"10.{pick.randrange(256)}.{pick.randrange(256)}.{pick.randrange(256)}",
                count=pick.randrange(1, 1000),
                disposition="none",
                dkim="fail",
                spf="pass",
                header_from=f"{pick.getrandbits(64):x}.example.com",
                envelope_from=f"{pick.getrandbits(64):x}.example.net",
            )
            for _ in range(records)
        ),
    )


def test_a_report_bigger_than_an_item_is_stored_in_parts_and_read_back_whole(dmarc_stack: DmarcStack) -> None:
    # Given 20,000 records of random sources and domains (compresses to well over 400 KB)
    report = _random_report(20_000)

    # When
    stored = dmarc_stack.store.put(report, datetime.now(UTC), timedelta(days=1))

    # Then it took several items, each within DynamoDB's 400 KB, and reads back equal
    assert stored is True
    items = boto3.client("dynamodb").scan(TableName=dmarc_stack.refs["DmarcReportTable"])["Items"]
    parts = [item for item in items if item["pk"]["S"].startswith("DOMAIN#")]
    assert len(parts) > 1
    assert all(len(item["body"]["B"]) <= PART_BYTES for item in parts)
    assert list(dmarc_stack.store.reports("example.com")) == [report]
    assert dmarc_stack.store.put(report, datetime.now(UTC), timedelta(days=1)) is False


def test_a_plain_report_file_is_mailed_to_the_report_address(dmarc_stack: DmarcStack) -> None:
    recipient = report_address(dmarc_stack.local)
    mail = as_mail(Path("r.xml.gz"), b"\x1f\x8b data", recipient)

    assert recipient == "reports@dmarc.example.com"
    assert b"Content-Type: application/gzip" in mail
    assert as_mail(TWILIGHT, b"kept as is", recipient) == b"kept as is"
