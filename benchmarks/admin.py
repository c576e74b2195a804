"""Suppression admin: import and export rates, and DynamoDB requests per 1,000 rows imported.

A 20,000-row CSV (a header row, other providers' reason words, dates) is imported into a
fresh local stack through ``BulkImport.import_entries`` — what `ses-feedback
suppressions import` runs — then imported again (the idempotent re-run), then exported page
by page. Then 2,000 unsubscribes (half from the newsletter, half from another stream) are
imported and the newsletter is exported (`export --stream newsletter`): the every-stream
listing, then the scoped index, filtered to the newsletter. Requests are counted on the
store's own boto3 client. The rates are moto's (one request at a time, on this machine), not
DynamoDB's: read them as relative figures.
"""

from __future__ import annotations

import csv
import io
import time
from collections import Counter
from datetime import UTC, datetime
from typing import Any

from ses_feedback import wiring
from ses_feedback.edges.store import SuppressionStore
from ses_feedback.parsing.csv_rows import read_rows
from ses_feedback.settings import Settings
from ses_feedback.usecases.bulk_import import BulkImport
from ses_feedback_emulator import motoserver
from ses_feedback_emulator.bootstrap import bootstrap
from ses_feedback_stack.names import LocalStack

from benchmarks import into_devnull

ROWS = 20_000
UNSUBSCRIBES = 2_000
TARGET_REQUESTS_PER_1000 = 40
_WORDS = ["bounce", "hard_bounce", "complaint", "spam", "unsubscribed", ""]


def _lines() -> list[str]:
    return ["email,reason,created_at\n"] + [
        f"user{i}@example.com,{_WORDS[i % len(_WORDS)]},2025-01-01T00:00:{i % 60:02}Z\n" for i in range(ROWS)
    ]


def run(endpoint: str) -> list[str]:
    motoserver.reset(endpoint)
    refs = bootstrap(LocalStack(prefix="bench-admin"))
    store = SuppressionStore(refs["SuppressionTable"])
    calls: Counter[str] = Counter()
    store.client.meta.events.register("before-call.dynamodb.*", lambda model, **_: calls.update([model.name]))
    admin = wiring.bulk_import_for(
        Settings.from_env({"SUPPRESSION_TABLE": store.table_name}), suppressions=store
    )
    lines = _lines()
    out = [f"suppression admin ({ROWS:,} rows, moto server on loopback)"]

    for label in ("import (new list)", "import again (no change)"):
        calls.clear()
        started = time.perf_counter()
        with into_devnull():  # its summary log line
            summary = admin.import_entries(read_rows(lines, datetime.now(UTC)), "bench")
        elapsed = time.perf_counter() - started
        per_1000 = {name: count * 1000 / ROWS for name, count in sorted(calls.items())}
        total = sum(per_1000.values())
        writes = per_1000.get("BatchWriteItem", 0.0)
        out.append(
            f"  {label:<26} {ROWS / elapsed:8,.0f} rows/s  "
            f"requests per 1,000 rows: {total:.1f} "
            f"({', '.join(f'{name} {value:.1f}' for name, value in per_1000.items()) or 'none'}); "
            f"imported {summary.imported:,}, unchanged {summary.unchanged:,}"
        )
        if label.startswith("import (new"):
            verdict = "within" if writes <= TARGET_REQUESTS_PER_1000 else "OVER"
            out.append(
                f"  {'':<26} write requests per 1,000 rows: {writes:.1f} "
                f"(target ≤ {TARGET_REQUESTS_PER_1000}: {verdict}; full 25-item batches)"
            )

    calls.clear()
    started = time.perf_counter()
    sink = io.StringIO()
    writer = csv.writer(sink)
    exported = 0
    for state in store.iter_suppressed(None, datetime.now(UTC), page_size=1000):
        writer.writerow([state.address, state.reason.value if state.reason else "", state.since])
        exported += 1
        if sink.tell() > 1 << 20:  # stream: keep at most ~1 MB, as writing to a file would
            sink.seek(0)
            sink.truncate()
    elapsed = time.perf_counter() - started
    out.append(
        f"  {'export (csv, pages of 1,000)':<26} {exported / elapsed:8,.0f} rows/s  "
        f"Query requests: {calls['Query']} for {exported:,} addresses"
    )
    out.append(_stream_export(admin, store, calls))
    return out


def _stream_export(admin: BulkImport, store: SuppressionStore, calls: Counter[str]) -> str:
    """`export --stream newsletter` after 2,000 unsubscribes, half of them from another stream."""
    rows = ["email,reason,stream\n"] + [
        f"reader{i}@example.com,unsubscribed,{'newsletter' if i % 2 else 'promo'}\n"
        for i in range(UNSUBSCRIBES)
    ]
    with into_devnull():
        admin.import_entries(read_rows(rows, datetime.now(UTC)), "bench")
    read = Counter[str]()

    def count_read(parsed: dict[str, Any], **_: Any) -> None:
        read.update(scanned=parsed.get("ScannedCount", 0), returned=parsed.get("Count", 0))

    store.client.meta.events.register("after-call.dynamodb.Query", count_read)
    calls.clear()
    started = time.perf_counter()
    exported = sum(
        1 for _ in store.iter_suppressed(None, datetime.now(UTC), 1000, stream="newsletter", bulk=True)
    )
    elapsed = time.perf_counter() - started
    store.client.meta.events.unregister("after-call.dynamodb.Query", count_read)
    return (
        f"  {'export --stream (pages of 1,000)':<26} {exported / elapsed:8,.0f} rows/s  "
        f"Query requests: {calls['Query']} for {exported:,} addresses "
        f"({ROWS:,} every-stream + {UNSUBSCRIBES // 2:,} of the newsletter's; items read "
        f"{read['scanned']:,}, kept by the filters {read['returned']:,})"
    )


if __name__ == "__main__":
    import os

    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    with motoserver.running() as server:
        os.environ["AWS_ENDPOINT_URL"] = server.endpoint
        print("\n".join(run(server.endpoint)))
