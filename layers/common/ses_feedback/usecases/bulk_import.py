"""Loading suppressions in bulk: another provider's CSV export, or SES's account-level list.

Rows are taken 100 distinct addresses at a time: one BatchGetItem reads their states, the
pure ``rules.manual.import_verdict`` decides each, addresses the table does not know are
written 25 to a BatchWriteItem, and the few it knows go through the one write path
(conditional, audited). A second run finds every address suppressed and writes nothing.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from aws_lambda_powertools.metrics import MetricUnit

from ses_feedback.edges.ses_account import SES_REASONS
from ses_feedback.edges.store import BATCH_GET_LIMIT
from ses_feedback.errors import InvalidAddress
from ses_feedback.model.state import AddressState, Decision
from ses_feedback.observability import logger, metrics
from ses_feedback.parsing.addresses import normalize_address
from ses_feedback.parsing.csv_rows import ImportEntry, RowError
from ses_feedback.parsing.operator_input import clean_actor
from ses_feedback.rules.manual import Verdict, import_decision, import_verdict, stronger_entry
from ses_feedback.usecases.write_path import WritePath

if TYPE_CHECKING:
    from ses_feedback.edges.ses_account import SesSuppressedDestination, SesSuppressionList

SES_SYNC_ACTOR = "ses:account-suppression-list"
SES_SYNC_NOTE = "on the SES account-level suppression list"


@dataclass
class ImportSummary:
    rows: int = 0  # data rows read (valid or not)
    imported: int = 0  # new addresses written
    updated: int = 0  # known addresses whose state changed
    unchanged: int = 0  # already suppressed as strongly (a second run counts them all here)
    lifted: int = 0  # skipped: lifted by an operator after the entry's date
    expired: int = 0  # skipped: soft bounces already over
    duplicates: int = 0  # the same address again in the same batch of rows
    rejected: int = 0  # bad rows, each reported by line
    rejected_rows: list[RowError] = field(default_factory=list)

    REJECTED_KEPT = 10_000  # the report keeps this many; the count is exact

    def count(self, verdict: Verdict) -> None:
        field_name = {
            Verdict.NEW: "imported",
            Verdict.UPDATE: "updated",
            Verdict.UNCHANGED: "unchanged",
            Verdict.LIFTED: "lifted",
            Verdict.EXPIRED: "expired",
        }[verdict]
        setattr(self, field_name, getattr(self, field_name) + 1)

    def as_dict(self) -> dict[str, object]:
        return {
            "rows": self.rows,
            "imported": self.imported,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "lifted": self.lifted,
            "expired": self.expired,
            "duplicates": self.duplicates,
            "rejected": self.rejected,
            "rejected_rows": [
                {"line": e.line, "field": e.field, "error": e.message} for e in self.rejected_rows
            ],
        }


def ses_entry(destination: SesSuppressedDestination, index: int) -> ImportEntry | RowError:
    """An entry of SES's account-level list as an import entry (``index`` stands for the line)."""
    try:
        address = normalize_address(destination.email_address)
    except InvalidAddress as exc:
        return RowError(index, "EmailAddress", exc.message)
    reason = SES_REASONS.get(destination.reason)
    if reason is None:
        return RowError(index, "Reason", f"unknown SES reason {destination.reason[:20]!r}")
    return ImportEntry(
        line=index, address=address, reason=reason, note=SES_SYNC_NOTE, since=destination.last_update_time
    )


@dataclass
class BulkImport:
    writes: WritePath
    soft_bounce_suppression: timedelta

    def import_entries(
        self,
        rows: Iterable[ImportEntry | RowError],
        actor: str,
        on_reject: Callable[[RowError], None] | None = None,
        on_progress: Callable[[int], None] | None = None,
    ) -> ImportSummary:
        """Load entries in chunks: safe to run twice, bad rows reported and skipped."""
        who = clean_actor(actor)
        summary = ImportSummary()
        chunk: dict[str, ImportEntry] = {}
        for row in rows:
            summary.rows += 1
            if isinstance(row, RowError):
                summary.rejected += 1
                if len(summary.rejected_rows) < ImportSummary.REJECTED_KEPT:
                    summary.rejected_rows.append(row)
                if on_reject is not None:
                    on_reject(row)
                continue
            previous = chunk.get(row.address)
            if previous is not None and (previous.stream or row.stream) and previous.stream != row.stream:
                # Another scope of an address this chunk holds: write the chunk first, so this
                # row reads what it wrote (one state item holds every scope of an address).
                self._import_chunk(list(chunk.values()), who, summary)
                chunk.clear()
                previous = None
            if previous is not None:
                summary.duplicates += 1
            chunk[row.address] = row if previous is None else stronger_entry(previous, row)
            if len(chunk) == BATCH_GET_LIMIT:  # one BatchGetItem per chunk of distinct addresses
                self._import_chunk(list(chunk.values()), who, summary)
                chunk.clear()
                if on_progress is not None:
                    on_progress(summary.rows)
        if chunk:
            self._import_chunk(list(chunk.values()), who, summary)
        if on_progress is not None:
            on_progress(summary.rows)
        logger.info(
            "suppression import done",
            extra={k: v for k, v in summary.as_dict().items() if k != "rejected_rows"},
        )
        return summary

    def _import_chunk(self, entries: list[ImportEntry], actor: str, summary: ImportSummary) -> None:
        store = self.writes.store
        now = self.writes.clock()
        states = store.get_states((e.address for e in entries), brief=True)
        new_states: list[AddressState] = []
        for entry in entries:
            verdict, new_state = import_verdict(
                entry, states[entry.address], actor, now, self.soft_bounce_suppression
            )
            if verdict is Verdict.NEW and new_state is not None:
                new_states.append(new_state)
            elif verdict is Verdict.UPDATE:
                verdict = self._import_known(entry, actor)
            summary.count(verdict)
        store.put_new_states(new_states, now)

    def _import_known(self, entry: ImportEntry, actor: str) -> Verdict:
        """An address the table knows: through the write path, from a full read (the batch read
        was brief, and this write replaces the state)."""
        verdicts: list[Verdict] = []
        key = f"import:{uuid.uuid4().hex}"

        def rule(state: AddressState, now: datetime) -> Decision | None:
            verdict, new_state = import_verdict(entry, state, actor, now, self.soft_bounce_suppression)
            verdicts.append(verdict)
            if verdict not in (Verdict.UPDATE, Verdict.NEW) or new_state is None:
                return None
            return import_decision(entry, new_state, actor, now, key)

        written = self.writes.write(entry.address, rule)
        return Verdict.UPDATE if written.decision is not None else verdicts[-1]

    def sync_from_ses(self, ses: SesSuppressionList) -> ImportSummary:
        """Import SES's account-level list, so entries SES added on its own are visible here."""
        entries = (ses_entry(d, i) for i, d in enumerate(ses.entries(), start=1))

        def skipped(row: RowError) -> None:
            logger.warning(
                "ses suppression list entry skipped",
                extra={"index": row.line, "field": row.field, "error": row.message},
            )

        summary = self.import_entries(entries, SES_SYNC_ACTOR, on_reject=skipped)
        metrics.add_metric(
            name="SesSuppressionsImported", unit=MetricUnit.Count, value=summary.imported + summary.updated
        )
        metrics.add_metric(name="SesSuppressionsRejected", unit=MetricUnit.Count, value=summary.rejected)
        return summary
