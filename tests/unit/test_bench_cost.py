"""The cost table's arithmetic (`make bench` prints it): what a handler logs is priced as
CloudWatch Logs ingests it, at the published $0.50 per GB."""

from __future__ import annotations

import io

import pytest

from benchmarks import Written
from benchmarks.cost import PLATFORM_LINES, PLATFORM_LOG_BYTES, Usage, ours
from benchmarks.feedback import TypeFigures


def _usage(log_bytes: float) -> Usage:
    # Nothing else that costs: no requests, no invocation, no time.
    return Usage(
        dynamodb_requests=0,
        rcu=0,
        wcu=0,
        sns=0,
        sqs=0,
        invocations=0,
        cpu_seconds=0,
        wall_seconds=0,
        log_bytes=log_bytes,
    )


def test_a_gigabyte_logged_per_notification_costs_fifty_cents_each() -> None:
    # Given: 10^9 bytes ingested for each notification, and nothing else
    usage = _usage(log_bytes=1e9)
    # When / Then: $0.50 each, so $500,000 per million
    assert usage.dollars_per_million(512) == pytest.approx(500_000)


def test_lambdas_own_lines_are_paid_once_per_invocation_so_a_batch_shares_them() -> None:
    # Given: a batch of 100 notifications whose handler wrote 4,500 bytes of its own
    figures = TypeFigures(
        notifications=100, batches=1, requests=0, rcu=0, wcu=0, cpu_seconds=0, wall_seconds=0, log_bytes=4500
    )
    # When
    per_notification = ours(figures).log_bytes
    # Then: 45 bytes each of the handler's, and a hundredth of Lambda's START/END/REPORT lines
    assert per_notification == pytest.approx(45 + PLATFORM_LOG_BYTES / 100)
    assert [line.split(" ", 1)[0] for line in PLATFORM_LINES] == ["START", "END", "REPORT"]


def test_what_a_handler_writes_is_counted_in_utf8_bytes_and_passed_on() -> None:
    # Given: a sink that counts on the way to another stream
    target = io.StringIO()
    written = Written(target)
    # When: a log line with a non-ASCII character (2 bytes in UTF-8), then an EMF document
    written.write('{"message":"café"}\n')
    written.write('{"_aws":{}}\n')
    written.flush()
    # Then: 20 + 12 bytes, and the text itself arrived unchanged
    assert written.bytes == 32
    assert target.getvalue() == '{"message":"café"}\n{"_aws":{}}\n'
