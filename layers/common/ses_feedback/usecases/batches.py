"""Batches: accept many recipients at once, then send them at the account's rate, each once.

``Batches`` is the API's side: ``create`` validates every recipient as ``POST /messages`` does
(``parsing.batch_request``), keeps the batch (``edges.batch_store``) and queues its recipients
in chunks (``edges.batch_queue``); ``status`` and ``cancel`` answer for the calling app's own
batches only.

``BulkWorker`` is BulkSenderFunction's: for each chunk, it checks the batch (cancelled?), the
24-hour quota (``rules.pacing``; a chunk that would pass it waits, and the batch says so), then
for each recipient claims its record *before* SES is called and sends it through the sender's
own use case (``Sender.send``: the suppression check at send time, the stream's unsubscribe
link and headers), paced at its share of SES's ``MaxSendRate``. SES throttling (or a paused
account) gives the claim back and puts the rest of the chunk back on the queue with a delay:
it is never a failure. Only a permanent SES refusal fails a recipient. The call that settles a
batch's last recipient publishes ``batch.done`` (docs/events.md).
"""

from __future__ import annotations

import uuid
from bisect import bisect_left
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Literal

from aws_lambda_powertools.metrics import MetricUnit

from ses_feedback.edges.batch_queue import NotQueued
from ses_feedback.edges.batch_store import BatchRecord
from ses_feedback.errors import (
    BatchNotFound,
    BatchNotQueued,
    ConcurrentUpdate,
    ReputationGuard,
    SendingPaused,
    SendingThrottled,
    SesFeedbackError,
    is_refusal,
)
from ses_feedback.model.answers import SendStatus
from ses_feedback.model.batches import (
    INTERRUPTED,
    NOT_QUEUED,
    BatchAccepted,
    BatchState,
    BatchStatus,
    Outcome,
    RecipientFailure,
)
from ses_feedback.model.moments import iso_z, utc_now
from ses_feedback.observability import logger, metrics
from ses_feedback.parsing.addresses import address_hash
from ses_feedback.parsing.batch_request import (
    BATCH_TAG,
    BatchRequest,
    Chunk,
    ChunkRecipient,
    chunks,
    message_for,
    split,
)
from ses_feedback.rules.announcements import batch_done
from ses_feedback.rules.pacing import Pacer, quota_left, worker_rate

if TYPE_CHECKING:
    from ses_feedback.edges.batch_queue import BatchQueue
    from ses_feedback.edges.batch_store import BatchStore
    from ses_feedback.edges.ses_quota import SesQuota
    from ses_feedback.usecases.events_out import EventPublisher
    from ses_feedback.usecases.sending import Sender

# SES said "slow down" (or the account is paused): the rest of the chunk comes back after this.
THROTTLED_DELAY_SECONDS = 5
# The sending guard holds bulk mail (a reputation alarm fires): look again after this.
GUARD_WAIT_SECONDS = 300
# The 24-hour quota is full: look again after this (SQS's longest delay).
QUOTA_WAIT_SECONDS = 900
# The worker stops taking recipients when its invocation has less than this left (an SES
# call with botocore's retries can take most of a minute); the rest goes back on the queue.
STOP_WITH_SECONDS_LEFT = 75.0
# SES answering 5xx to the same chunk this many times in a row fails its next recipient.
MAX_SERVER_ERRORS = 5
# A cancel takes effect within this many recipients of a chunk being sent.
RECHECK_EVERY = 10
# A batch the queue partly refused: its answer lists at most this many ranges of recipients.
LISTED_RANGES = 10
NOT_QUEUED_MESSAGE = "the batch queue kept failing when the batch was accepted: not sent; send it again"

_RETRY_LATER = (SendingThrottled, SendingPaused, ConcurrentUpdate)
_NON_FINAL = (BatchState.QUEUED, BatchState.SENDING, BatchState.WAITING_QUOTA)


def _status(record: BatchRecord, failures: list[RecipientFailure]) -> BatchStatus:
    counts = record.counts
    return BatchStatus(
        batch_id=record.batch_id,
        state=record.state,
        stream=str(record.content.get("stream", "transactional")),
        total=record.total,
        sent=counts.get(Outcome.SENT, 0),
        suppressed=counts.get(Outcome.SUPPRESSED, 0),
        failed=counts.get(Outcome.FAILED, 0),
        refused=record.refused,
        cancelled=counts.get(Outcome.CANCELLED, 0),
        pending=max(0, record.accepted - record.settled),
        failures=failures,
        created_at=record.created_at,
        finished_at=record.finished_at,
        waiting_until=record.waiting_until if record.state is BatchState.WAITING_QUOTA else None,
    )


@dataclass
class Batches:
    store: BatchStore
    queue: BatchQueue
    sender: Sender
    retention: timedelta
    clock: Callable[[], datetime] = utc_now
    new_id: Callable[[], str] = field(default=lambda: uuid.uuid4().hex)
    # Events out: batch.done when counting what the queue refused ends the batch.
    events: EventPublisher | None = None

    def create(
        self, request: BatchRequest, app: str, unsubscribe_base_url: str | None = None
    ) -> BatchAccepted:
        parts = split(request)
        first = parts.accepted[0]
        # What the stack refuses of any message (the from domain, a bulk stream's needs) is
        # refused now, not once per recipient by the worker.
        if self.sender.check(message_for(request.content(), first.to, first.data)):
            self.sender.unsubscribe_base(unsubscribe_base_url)
        now = self.clock()
        batch_id = self.new_id()
        record = BatchRecord(
            batch_id=batch_id,
            app=app,
            state=BatchState.QUEUED,
            content=request.content(),
            total=len(request.recipients),
            refused=len(parts.refused),
            accepted=len(parts.accepted),
            created_at=iso_z(now),
            unsubscribe_base_url=unsubscribe_base_url,
        )
        self.store.create(record, now + self.retention)
        try:
            queued = self.queue.put(
                chunks(
                    batch_id, (ChunkRecipient(index=r.index, to=r.to, data=r.data) for r in parts.accepted)
                )
            )
        except NotQueued as exc:
            accepted = [r.index for r in parts.accepted]
            refusal = self._not_queued(record, exc, accepted, now + self.retention)
            if refusal is not None:
                raise refusal from exc
            queued = exc.queued + len(exc.chunks)  # every chunk had reached a worker after all
        metrics.add_metric(name="BatchRecipientsQueued", unit=MetricUnit.Count, value=len(parts.accepted))
        logger.info(
            "batch queued",
            extra={
                "app": app,
                "batch_id": batch_id,
                "accepted": len(parts.accepted),
                "refused": len(parts.refused),
                "chunks": queued,
                "stream": request.stream,
            },
        )
        return BatchAccepted(batch_id=batch_id, accepted=len(parts.accepted), refused=parts.refused)

    def _not_queued(
        self, record: BatchRecord, exc: NotQueued, accepted: list[int], expires: datetime
    ) -> BatchNotQueued | None:
        """The queue kept refusing some chunks: each of their recipients is counted failed
        (``not_queued``), so the batch still ends with counts that add up, and the caller is told
        which recipients to send again (not the whole request: the others are on their way).
        None when a worker had every one of them (SQS had stored them after all)."""
        left = [
            (r.index, RecipientFailure(to=r.to, code=NOT_QUEUED, message=NOT_QUEUED_MESSAGE))
            for chunk in exc.chunks
            for r in chunk.recipients
        ]
        withdrawn = self.store.withdraw(record.batch_id, left, expires)
        # When nothing else is pending this ends the batch, and batch.done is published here.
        _finish_if_complete(self.store, record.batch_id, self.clock, self.events)
        # What a worker got to first was queued after all (SQS stored it, though the call failed).
        queued = record.accepted - len(withdrawn)
        if not withdrawn:
            logger.warning(
                "batch queue failed, but each chunk reached a worker", extra={"batch_id": record.batch_id}
            )
            return None
        metrics.add_metric(name="BatchRecipientsNotQueued", unit=MetricUnit.Count, value=len(withdrawn))
        logger.error(
            "batch partly queued",
            extra={
                "app": record.app,
                "batch_id": record.batch_id,
                "queued": queued,
                "not_queued": len(withdrawn),
                "reason": exc.reason,
            },
        )
        said = f"the batch queue kept failing ({exc.reason}): batch {record.batch_id}"
        if not queued:
            return BatchNotQueued(
                f"{said} queued none of its {record.accepted} recipients and sends none (each is counted "
                f"failed, code {NOT_QUEUED}); send the request again",
                sorted(withdrawn),
                NOT_QUEUED_MESSAGE,
            )
        not_queued = set(withdrawn)
        where = _ranges(sorted(not_queued), [i for i in accepted if i not in not_queued])
        return BatchNotQueued(
            f"{said} queued {queued} of its {record.accepted} recipients, which it sends; {len(withdrawn)} "
            f"were not and will not be (counted failed, code {NOT_QUEUED}): the request's recipients "
            f"{where}; send those again, not the whole request",
            sorted(not_queued),
            NOT_QUEUED_MESSAGE,
        )

    def status(self, batch_id: str, app: str) -> BatchStatus:
        record = self._own(batch_id, app)
        return _status(record, self.store.failures(batch_id))

    def cancel(self, batch_id: str, app: str) -> BatchStatus:
        """Nothing not yet sent will be; a batch already done or cancelled stays as it is."""
        self._own(batch_id, app)
        if self.store.set_state(batch_id, BatchState.CANCELLED, _NON_FINAL, self.clock()):
            logger.info("batch cancelled", extra={"app": app, "batch_id": batch_id})
        return self.status(batch_id, app)

    def _own(self, batch_id: str, app: str) -> BatchRecord:
        record = self.store.get(batch_id) if _plausible_id(batch_id) else None
        if record is None or record.app != app:
            raise BatchNotFound()
        return record


def _server_error(exc: SesFeedbackError) -> bool:
    """Whether SES's answer behind ``exc`` was a 5xx (its own failure, worth another try later)."""
    response = getattr(exc.__cause__, "response", None) or {}
    return int(response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)) >= 500


def _ranges(indexes: list[int], queued: list[int]) -> str:
    """Sorted request ``indexes`` as ranges ("at indexes 0-49, 120-999"); a range runs on over
    indexes that are not ``queued`` (sorted): refused recipients, never sent either way."""
    runs: list[list[int]] = []
    for index in indexes:
        if runs and bisect_left(queued, runs[-1][1]) == bisect_left(queued, index):
            runs[-1][1] = index  # no queued recipient in between
        else:
            runs.append([index, index])
    shown = ", ".join(str(a) if a == b else f"{a}-{b}" for a, b in runs[:LISTED_RANGES])
    more = f" and {len(runs) - LISTED_RANGES} more ranges" if len(runs) > LISTED_RANGES else ""
    return f"at indexes {shown}{more}"


def _finish_if_complete(
    store: BatchStore,
    batch_id: str,
    clock: Callable[[], datetime],
    events: EventPublisher | None,
) -> None:
    """End the batch once every recipient has its outcome, and publish ``batch.done``.

    A conditional write decides which call ends it, so exactly one does and publishes:
    ``set_state(DONE)`` from a state that is not final; for a cancelled batch (already final,
    its pending recipients moving to cancelled), ``close_cancelled``."""
    ended = _end(store, batch_id, clock)
    if ended is None or events is None:
        return
    record, status = ended
    tags = record.content.get("tags", {})
    # The batch is over whatever the bus says: a refusal is logged and counted, not raised.
    events.announce([batch_done(status, record.app, tags, clock())])


def _end(
    store: BatchStore, batch_id: str, clock: Callable[[], datetime]
) -> tuple[BatchRecord, BatchStatus] | None:
    """The batch's record and final status if this call ended it; None if not (not complete
    yet, or another call ended it)."""
    record = store.get(batch_id)
    if record is None or not record.complete or record.state is BatchState.DONE:
        return None
    if record.state is not BatchState.CANCELLED:
        if store.set_state(batch_id, BatchState.DONE, _NON_FINAL, clock()):
            record = store.get(batch_id) or record
            status = _status(record, [])
            logger.info(
                "batch done",
                extra={
                    "batch_id": batch_id,
                    "sent": status.sent,
                    "suppressed": status.suppressed,
                    "failed": status.failed,
                },
            )
            return record, status
        # Cancelled between the read and the write (a DELETE): it ends cancelled, below.
        record = store.get(batch_id) or record
        if record.state is not BatchState.CANCELLED:
            return None
    if not store.close_cancelled(batch_id):
        return None
    status = _status(record, [])
    logger.info("batch ended cancelled", extra={"batch_id": batch_id, "cancelled": status.cancelled})
    return record, status


def _plausible_id(batch_id: str) -> bool:
    return 0 < len(batch_id) <= 64 and batch_id.isalnum()


# ---- the worker --------------------------------------------------------------------------------


@dataclass
class ChunkReport:
    sent: int = 0
    suppressed: int = 0
    failed: int = 0
    cancelled: int = 0
    requeued: int = 0  # recipients put back (throttled, quota, out of time)


class ChunkOfUnknownBatch(LookupError):
    """A chunk whose batch has no record (deleted by hand, or a message not put by this stack)."""

    def __init__(self, batch_id: str) -> None:
        super().__init__(f"no record of batch {batch_id!r}: the chunk goes to the batch DLQ")
        self.batch_id = batch_id


@dataclass
class BulkWorker:
    store: BatchStore
    queue: BatchQueue
    sender: Sender
    quota: SesQuota
    pacer: Pacer
    share: float
    max_concurrency: int
    retention: timedelta
    clock: Callable[[], datetime] = utc_now
    # Events out (docs/events.md): batch.done, published once, by the call that ends the batch.
    events: EventPublisher | None = None

    def process(self, chunk: Chunk, seconds_left: Callable[[], float]) -> ChunkReport:
        report = ChunkReport()
        record = self.store.get(chunk.batch_id)
        if record is None:
            # Never dropped: failed, it is received again and, after BatchMaxReceiveCount receives,
            # lands in the batch DLQ (alarmed), where an operator sees it.
            raise ChunkOfUnknownBatch(chunk.batch_id)
        expires = self.clock() + self.retention
        if record.state is BatchState.CANCELLED:
            for recipient in chunk.recipients:
                self._settle_without_sending(record, recipient, Outcome.CANCELLED, expires, report)
            self._finish_if_complete(chunk.batch_id)
            return report
        if not self._within_quota(record, chunk, report):
            return report
        for position, recipient in enumerate(chunk.recipients):
            if seconds_left() < STOP_WITH_SECONDS_LEFT:
                self._put_back(chunk, position, 0, report)
                break
            if position and position % RECHECK_EVERY == 0:
                record = self.store.get(chunk.batch_id) or record
                if record.state is BatchState.CANCELLED:
                    for rest in chunk.recipients[position:]:
                        self._settle_without_sending(record, rest, Outcome.CANCELLED, expires, report)
                    break
            give_up = chunk.server_errors >= MAX_SERVER_ERRORS
            verdict = self._send_one(record, recipient, expires, report, give_up)
            if verdict != "ok":
                delay = GUARD_WAIT_SECONDS if verdict == "guarded" else THROTTLED_DELAY_SECONDS
                self._put_back(chunk, position, delay, report, verdict == "server_error")
                break
        self.quota.count(report.sent)
        self._finish_if_complete(chunk.batch_id)
        return report

    # ---- steps ------------------------------------------------------------------------------

    def _within_quota(self, record: BatchRecord, chunk: Chunk, report: ChunkReport) -> bool:
        quota = self.quota.current()
        self.pacer.rate = worker_rate(quota.max_send_rate, self.share, self.max_concurrency)
        left = quota_left(quota.max_24_hour_send, quota.sent_last_24_hours, self.share)
        if left < len(chunk.recipients):
            until = self.clock() + timedelta(seconds=QUOTA_WAIT_SECONDS)
            self.store.set_state(record.batch_id, BatchState.WAITING_QUOTA, _NON_FINAL, until)
            self._put_back(chunk, 0, QUOTA_WAIT_SECONDS, report)
            logger.info(
                "batch waits for the 24-hour quota",
                extra={"batch_id": record.batch_id, "quota_left": left, "chunk": len(chunk.recipients)},
            )
            metrics.add_metric(name="BatchQuotaWaits", unit=MetricUnit.Count, value=1)
            return False
        if record.state is not BatchState.SENDING:
            self.store.set_state(
                record.batch_id, BatchState.SENDING, (BatchState.QUEUED, BatchState.WAITING_QUOTA)
            )
        return True

    def _send_one(
        self,
        record: BatchRecord,
        recipient: ChunkRecipient,
        expires: datetime,
        report: ChunkReport,
        give_up: bool,
    ) -> Literal["ok", "throttled", "server_error", "guarded"]:
        """One recipient, claimed before SES is called; not "ok" when it must wait (its claim given back).

        ``give_up``: SES failed this chunk with server errors too often; the next one fails the recipient.
        """
        content = {**record.content, "tags": {**record.content.get("tags", {}), BATCH_TAG: record.batch_id}}
        request = message_for(content, recipient.to, recipient.data)
        # The wait comes before the claim: a worker stopped while it waits leaves no claim behind.
        self.pacer.wait()
        claim = self.store.claim(record.batch_id, recipient.index, expires)
        if not claim.won:
            if claim.status == "claimed":
                self._interrupted(record, recipient, expires, report)
            return "ok"  # settled before (a redelivered chunk): nobody is mailed twice
        try:
            answer = self.sender.send(request, record.app, record.unsubscribe_base_url)
        except ReputationGuard:
            # The sending guard holds bulk mail while a reputation alarm fires: wait it out.
            self.store.release(record.batch_id, recipient.index)
            logger.info("batch held by the sending guard", extra={"batch_id": record.batch_id})
            return "guarded"
        except _RETRY_LATER as exc:
            self.store.release(record.batch_id, recipient.index)
            self.pacer.slow_down(THROTTLED_DELAY_SECONDS)
            logger.info("bulk send slowed by SES", extra={"batch_id": record.batch_id, "code": exc.code})
            metrics.add_metric(name="BatchThrottled", unit=MetricUnit.Count, value=1)
            return "throttled"
        except SesFeedbackError as exc:
            if not is_refusal(exc):
                raise
            if _server_error(exc) and not give_up:
                # SES's own failure (HTTP 5xx after botocore's retries): not the recipient's,
                # unless it keeps failing (MAX_SERVER_ERRORS puts back).
                self.store.release(record.batch_id, recipient.index)
                self.pacer.slow_down(THROTTLED_DELAY_SECONDS)
                logger.warning("bulk send met an SES server error", extra={"batch_id": record.batch_id})
                return "server_error"
            failure = RecipientFailure(to=recipient.to, code=exc.code, message=exc.message)
            self.store.settle(record.batch_id, recipient.index, Outcome.FAILED, expires, failure=failure)
            report.failed += 1
            logger.info(
                "batch recipient failed",
                extra={"batch_id": record.batch_id, "code": exc.code, "to_hash": address_hash(recipient.to)},
            )
            return "ok"
        outcome = Outcome.SUPPRESSED if answer.status is SendStatus.SUPPRESSED else Outcome.SENT
        self.store.settle(record.batch_id, recipient.index, outcome, expires, message_id=answer.message_id)
        if outcome is Outcome.SENT:
            report.sent += 1
        else:
            report.suppressed += 1
        return "ok"

    def _interrupted(
        self, record: BatchRecord, recipient: ChunkRecipient, expires: datetime, report: ChunkReport
    ) -> None:
        failure = RecipientFailure(
            to=recipient.to,
            code=INTERRUPTED,
            message="the worker stopped while SES had the message; not sent again, so it may or may "
            "not have been delivered",
        )
        if self.store.settle(record.batch_id, recipient.index, Outcome.FAILED, expires, failure=failure):
            report.failed += 1
            logger.warning("batch recipient interrupted", extra={"batch_id": record.batch_id})

    def _settle_without_sending(
        self,
        record: BatchRecord,
        recipient: ChunkRecipient,
        outcome: Outcome,
        expires: datetime,
        report: ChunkReport,
    ) -> None:
        claim = self.store.claim(record.batch_id, recipient.index, expires)
        if claim.won:
            self.store.settle(record.batch_id, recipient.index, outcome, expires)
            report.cancelled += 1
        elif claim.status == "claimed":
            self._interrupted(record, recipient, expires, report)

    def _put_back(
        self, chunk: Chunk, position: int, delay: int, report: ChunkReport, server_error: bool = False
    ) -> None:
        rest = chunk.recipients[position:]
        if rest:
            errors = chunk.server_errors + 1 if server_error else chunk.server_errors
            self.queue.put(
                [Chunk(batch_id=chunk.batch_id, recipients=rest, server_errors=errors)], delay_seconds=delay
            )
            report.requeued += len(rest)

    def _finish_if_complete(self, batch_id: str) -> None:
        _finish_if_complete(self.store, batch_id, self.clock, self.events)
