"""DMARC reports: store what arrives by mail (once per reporter and report id), set aside
what cannot be read, and summarise what the stored reports say."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit

from ses_feedback.edges.dmarc_store import DmarcReportStore, ReportTooLarge
from ses_feedback.edges.report_mail import MessageTooLarge, ReportMailBucket
from ses_feedback.errors import UnreadableReport
from ses_feedback.model.dmarc import DmarcReport
from ses_feedback.observability import logger, metrics
from ses_feedback.parsing.addresses import loggable
from ses_feedback.parsing.dmarc import DEFAULT_LIMITS, ReadLimits, read_reports
from ses_feedback.rules.dmarc import DmarcSummary, OwnSending, summarize

_ADDRESS = re.compile(r"[^\s@<>\"']+@[^\s@<>\"']+")


@dataclass
class IngestOutcome:
    key: str
    stored: int = 0
    duplicates: int = 0
    rejected_to: str | None = None
    reason: str | None = None
    report_ids: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "stored": self.stored,
            "duplicates": self.duplicates,
            "rejected_to": self.rejected_to,
            "reason": self.reason,
            "report_ids": self.report_ids,
        }


@dataclass
class DmarcReports:
    store: DmarcReportStore
    retention: timedelta  # how long a stored report is kept (settings: DMARC_REPORT_RETENTION_DAYS)
    bucket: ReportMailBucket | None = None
    limits: ReadLimits = DEFAULT_LIMITS

    def receive(self, message_id: str, data: bytes) -> str:
        """Put a message where SES receiving puts it (local mode plays SES); returns its key."""
        if self.bucket is None:
            raise RuntimeError("no report bucket configured")
        return self.bucket.put_incoming(message_id, data)

    def ingest(self, key: str, now: datetime) -> IngestOutcome:
        """Read one received message from the bucket and store its reports.

        A message that holds no readable report is moved under ``rejected/`` and counted: the
        same bytes would fail the same way, so it is never retried. A message with reports
        and a part that could not be read has its reports stored and a copy set aside under
        ``rejected/``, counted the same way, so that the part is not lost in a log line.
        Storage errors raise (the invocation is retried, and storing twice changes nothing).
        """
        if self.bucket is None:
            raise RuntimeError("no report bucket configured")
        outcome = IngestOutcome(key=key)
        try:
            read = read_reports(self.bucket.read(key, self.limits.max_input_bytes), self.limits)
            self._store(read.reports, now, outcome)
        except (UnreadableReport, MessageTooLarge, ReportTooLarge) as refusal:
            outcome.rejected_to = self.bucket.reject(key)
            _rejected("dmarc message rejected", outcome, str(refusal))
            return outcome
        for note in read.notes:
            logger.info("dmarc report note", extra={"key": key, "note": _ADDRESS.sub("<address>", note)})
        if read.problems:
            outcome.rejected_to = self.bucket.set_aside(key)
            _rejected("dmarc message partly read", outcome, "; ".join(read.problems))
        return outcome

    def store_reports(self, reports: Iterable[DmarcReport], now: datetime, key: str = "") -> IngestOutcome:
        outcome = IngestOutcome(key=key)
        self._store(reports, now, outcome)
        return outcome

    def _store(self, reports: Iterable[DmarcReport], now: datetime, outcome: IngestOutcome) -> None:
        for report in reports:
            if self.store.put(report, now, self.retention):
                outcome.stored += 1
                metrics.add_metric(name="DmarcReportStored", unit=MetricUnit.Count, value=1)
                metrics.add_metric(name="DmarcMessagesReported", unit=MetricUnit.Count, value=report.messages)
            else:
                outcome.duplicates += 1
                metrics.add_metric(name="DmarcReportDuplicate", unit=MetricUnit.Count, value=1)
            outcome.report_ids.append(report.report_id)
            # The reporter writes org_name and report_id as it likes, addresses included.
            logger.info(
                "dmarc report read",
                extra={
                    "org_name": loggable(report.org_name),
                    "report_id": loggable(report.report_id),
                    "domain": report.domain,
                },
            )

    def summary(self, domain: str, own: OwnSending, since: datetime | None = None) -> DmarcSummary:
        return summarize(domain, self.store.reports(domain, since), own)

    def last_stored_at(self, domain: str) -> datetime | None:
        return self.store.latest_stored_at(domain)


def _rejected(message: str, outcome: IngestOutcome, reason: str) -> None:
    """Counted (``DmarcReportRejected``, which raises its alarm) and logged, addresses hidden."""
    outcome.reason = _ADDRESS.sub("<address>", reason)
    metrics.add_metric(name="DmarcReportRejected", unit=MetricUnit.Count, value=1)
    logger.warning(message, extra={"key": outcome.rejected_to, "reason": outcome.reason})
