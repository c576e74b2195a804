"""doctor's `dmarc.reports` check: reports arriving, the last one's age, the pass rate, the verdict."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from moto import mock_aws
from ses_feedback.edges.dmarc_store import DmarcReportStore
from ses_feedback.model.dmarc import DmarcReport
from ses_feedback_doctor.model import Status, Target
from ses_feedback_doctor.reports import dmarc_reports_check
from ses_feedback_emulator.bootstrap import bootstrap
from ses_feedback_stack.names import LocalStack

from tests.support import dmarc_reports as build

TARGET = Target(domain="example.com", region="us-east-1", mail_from_domain="mail.example.com")
NOW = datetime(2026, 11, 28, 12, tzinfo=UTC)


@pytest.fixture
def table() -> Iterator[str]:
    with mock_aws():
        refs = bootstrap(LocalStack(prefix="doc"))
        yield refs["DmarcReportTable"]


def _report(day: int, passing: int, failing: int) -> DmarcReport:
    return build.report(
        NOW - timedelta(days=day + 1),
        build.passing("54.240.8.1", passing),
        build.failing("203.0.113.7", failing),
    )


def test_no_reports_is_a_warning_that_says_how_to_receive_them(table: str) -> None:
    check = dmarc_reports_check(TARGET, table, NOW)

    assert check.status is Status.WARN
    assert check.detail == "no DMARC aggregate report about example.com stored in the last 30 days"
    assert check.fix is not None and "ReceiveDmarcReports=true" in check.fix


def test_recent_reports_give_the_pass_rate_and_the_verdict(table: str) -> None:
    # Given eight days of reports, stored an hour ago, with a small failing source
    store = DmarcReportStore(table)
    for day in range(8):
        store.put(_report(day, passing=990, failing=10), NOW - timedelta(hours=1), timedelta(days=30))

    check = dmarc_reports_check(TARGET, table, NOW)

    assert check.status is Status.PASS
    assert check.detail == (
        "8 report(s) in 30 days, the last stored 1 h ago; 8000 message(s), 99.0% passed DMARC; "
        "the data supports p=quarantine (99.0% of mail passes on 8 days of reports); published p=none"
    )
    assert check.fix == "fix these sources first: 203.0.113.7"


def test_reports_that_stopped_arriving_are_a_warning(table: str) -> None:
    DmarcReportStore(table).put(_report(20, 100, 0), NOW - timedelta(days=20), timedelta(days=30))

    check = dmarc_reports_check(TARGET, table, NOW)

    assert check.status is Status.WARN
    assert "the last stored 20 days ago" in check.detail
    assert check.fix == "reports stopped arriving: check the receipt rule and the reports subdomain's MX"


def test_a_table_that_cannot_be_read_is_unknown(table: str) -> None:
    check = dmarc_reports_check(TARGET, "no-such-table", NOW)

    assert check.status is Status.UNKNOWN
    assert check.detail.startswith("could not check: the report table no-such-table could not be read")
