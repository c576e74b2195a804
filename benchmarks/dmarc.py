"""DMARC reports: how fast the hardened reader reads the 909 KB, 2,286-record sample, its
peak memory, and the DynamoDB requests it takes to store a report (and a repeat).

Reading is measured in-process (no AWS); peak memory is tracemalloc's peak while reading
(Python allocations, the reader's own buffers and the report). Storing goes through
``DmarcReports.store_reports`` on a moto server: requests are counted on the store's client.
"""

from __future__ import annotations

import gzip
import time
import tracemalloc
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

from ses_feedback import wiring
from ses_feedback.parsing.dmarc import read_reports
from ses_feedback_emulator import motoserver
from ses_feedback_emulator.bootstrap import bootstrap
from ses_feedback_stack.names import LocalStack

from benchmarks import into_devnull

SAMPLE = (
    Path(__file__).resolve().parents[1]
    / "tests/fixtures/dmarc/aggregate/!large-example.com!1711897200!1711983600.xml"
)
ROUNDS = 10
STORED = 50


def _read_rate(data: bytes) -> tuple[float, int]:
    started = time.perf_counter()
    for _ in range(ROUNDS):
        read_reports(data)
    rate = ROUNDS / (time.perf_counter() - started)
    tracemalloc.start()
    read_reports(data)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return rate, peak


def run(endpoint: str) -> list[str]:
    data = SAMPLE.read_bytes()
    records = len(read_reports(data).reports[0].records)
    out = [f"dmarc reports ({len(data) / 1000:,.0f} KB sample, {records:,} records)"]
    for label, form in (("xml", data), ("xml.gz", gzip.compress(data))):
        rate, peak = _read_rate(form)
        out.append(
            f"  read {label:<7} {rate:6.1f} reports/s ({rate * records:,.0f} records/s), "
            f"peak memory {peak / 2**20:.1f} MiB"
        )

    motoserver.reset(endpoint)
    refs = bootstrap(LocalStack(prefix="bench-dmarc"))
    use_case = wiring.dmarc_reports_for(refs["DmarcReportTable"])
    calls: Counter[str] = Counter()
    use_case.store.client.meta.events.register(
        "before-call.dynamodb.*", lambda model, **_: calls.update([model.name])
    )
    report = read_reports(data).reports[0]
    copies = [report.model_copy(update={"report_id": f"{report.report_id}-{n}"}) for n in range(STORED)]
    for label, batch in (("store", copies), ("store again", copies)):
        calls.clear()
        started = time.perf_counter()
        with into_devnull():
            outcome = use_case.store_reports(batch, datetime.now(UTC))
        elapsed = time.perf_counter() - started
        per_report = {name: count / STORED for name, count in sorted(calls.items())}
        out.append(
            f"  {label:<12} {STORED / elapsed:6.1f} reports/s on moto; DynamoDB requests per report: "
            f"{sum(per_report.values()):.1f} ({', '.join(f'{n} {v:.1f}' for n, v in per_report.items())}); "
            f"stored {outcome.stored}, already stored {outcome.duplicates}"
        )
    return out
