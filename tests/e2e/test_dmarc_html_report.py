"""`dmarc report --html`: the page a person opens, loaded in a real headless Chromium."""

from __future__ import annotations

import subprocess
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from moto import mock_aws
from ses_feedback.edges.dmarc_store import DmarcReportStore
from ses_feedback.model.dmarc import DmarcReport
from ses_feedback_cli.main import main
from ses_feedback_emulator.bootstrap import bootstrap
from ses_feedback_stack.names import LocalStack

from tests.support import dmarc_reports as build
from tests.support.browser import CHROMIUM, HEADLESS


def chromium(*args: str) -> subprocess.CompletedProcess[str]:
    with tempfile.TemporaryDirectory() as profile:
        return subprocess.run(
            [CHROMIUM, *HEADLESS, f"--user-data-dir={profile}", *args],
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        )


def _report(day: datetime, passing: int, failing: int) -> DmarcReport:
    # A hostile reporter's text must show as text, never run as markup.
    return build.report(
        day,
        build.passing("54.240.8.1", passing),
        build.failing("203.0.113.7", failing, spf_domain="<script>alert(1)</script>"),
    )


@pytest.fixture
def page(tmp_path: Path) -> Iterator[Path]:
    with mock_aws():
        table = bootstrap(LocalStack(prefix="html"))["DmarcReportTable"]
        store = DmarcReportStore(table)
        start = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(days=14)
        for offset in range(14):
            day = start + timedelta(days=offset)
            store.put(_report(day, 100 + 10 * offset, 40 - 3 * offset), day, timedelta(days=30))
        html = tmp_path / "report.html"
        assert (
            main(["dmarc", "report", "example.com", "--since", "30d", "--table", table, "--html", str(html)])
            == 0
        )
        yield html


def test_the_page_loads_in_chromium_with_its_chart_and_failing_sources(page: Path, tmp_path: Path) -> None:
    # When Chromium loads the page and takes a screenshot
    screenshot = tmp_path / "report.png"
    chromium(f"--screenshot={screenshot}", "--window-size=900,1000", page.as_uri())
    dom = chromium("--dump-dom", page.as_uri()).stdout

    # Then it rendered: the PNG is there, and the DOM the browser built holds the chart and the table
    assert screenshot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert screenshot.stat().st_size > 10_000
    assert dom.count('<rect class="day"') == 14
    assert "203.0.113.7" in dom
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in dom
    assert "<script>" not in dom
    # Nothing is fetched: no URL other than the SVG namespace
    assert "src=" not in page.read_text() and "href=" not in page.read_text()
