"""The cost table's arithmetic (`make bench` prints it): what a handler logs is priced as
CloudWatch Logs ingests it, at the published $0.50 per GB."""

from __future__ import annotations

import io
from dataclasses import replace

import pytest

from benchmarks import Written
from benchmarks.cost import PLATFORM_LINES, PLATFORM_LOG_BYTES, Usage, mix_dollars, ours
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


def test_each_published_event_is_priced_as_an_eventbridge_event_and_a_webhook_call() -> None:
    # Given: 100 notifications that published 150 events in 15 PutEvents requests, nothing else
    figures = TypeFigures(
        notifications=100,
        batches=1,
        requests=0,
        rcu=0,
        wcu=0,
        cpu_seconds=0,
        wall_seconds=0,
        log_bytes=0,
        events=150,
        put_events=15,
    )
    usage = ours(figures)
    # When / Then: $1.00 per million events and $0.20 per million API destination calls, 1.5 each
    assert (usage.events, usage.put_events, usage.webhook_calls) == (1.5, 0.15, 1.5)
    silent = ours(replace(figures, events=0, put_events=0))
    added = usage.dollars_per_million(512) - silent.dollars_per_million(512)
    assert added == pytest.approx(1.5 * 1.00 + 1.5 * 0.20)


def test_a_mix_prices_each_type_by_its_rate_per_send() -> None:
    per_type = {"Delivery": _usage(1e6), "Bounce (Permanent)": _usage(2e6)}
    # 0.98 x $500 + 0.02 x $1,000 per million
    assert mix_dollars(per_type, {"Delivery": 0.98, "Bounce (Permanent)": 0.02}, 512) == pytest.approx(510)
