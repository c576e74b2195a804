"""Operating the suppression list: manual suppressions and lifts, bulk imports, SES's own list.

The rules are pure functions (state + input + now → a decision or a verdict), tested
without I/O. ``SuppressionAdmin`` is the use case every entry point calls (the API
function, the CLI, the scheduled SES sync): it reads through the store, applies the
rules and writes through the store, one transaction per change, conditional on the
version it read (the same pattern as feedback, so neither loses the other's update).

Rules:
- a manual suppression (reason ``manual``, with a note and who asked) never replaces an
  equal or stronger reason (complaint, hard bounce, manual); it replaces a soft bounce;
- lifting needs a suppressed address and a note; lifting a complaint needs ``force``;
  it clears the soft-bounce count too (the person fixed their mailbox) and remembers
  when it happened: new feedback may suppress the address again at once, but an import
  or SES's list only with evidence dated after the lift;
- every manual change is one history entry naming the actor and the note.
"""

from __future__ import annotations

import random
import re
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from functools import cache

from aws_lambda_powertools.metrics import MetricUnit

from ses_feedback.addresses import address_hash, normalize_address
from ses_feedback.errors import (
    ComplaintLiftNeedsForce,
    ConcurrentUpdate,
    InvalidAddress,
    InvalidInput,
    NotSuppressed,
)
from ses_feedback.imports import ImportEntry, RowError
from ses_feedback.observability import logger, metrics
from ses_feedback.policy import STRENGTH, Action, AddressState, Decision, Reason
from ses_feedback.ses_account import SES_REASONS, SesAccountSuppressionList, SesSuppressedDestination
from ses_feedback.settings import get_settings
from ses_feedback.store import (
    BATCH_GET_LIMIT,
    ApplyResult,
    HistoryEntry,
    HistoryPage,
    StatePage,
    SuppressionStore,
    VersionConflict,
)

MANUAL_EVENT = "Manual"  # the history's event type for changes made by an operator
IMPORT_EVENT = "Import"  # … and for entries loaded in bulk (a file, or SES's list)
SES_SYNC_ACTOR = "ses:account-suppression-list"
SES_SYNC_NOTE = "on the SES account-level suppression list"
NOTE_MAX = 1000
ACTOR_MAX = 2048
PAGE_MAX = 1000
_MAX_CONFLICT_RETRIES = 20


# SSO session names are often email addresses (assumed-role/Admin/jane@example.com).
_EMAIL_IN_TEXT = re.compile(r"[^\s/:@]+@[^\s/:@]+\.[^\s/:@]+")


def _loggable_actor(actor: str | None) -> str | None:
    """The actor for a log line: any email address in it replaced by its hash."""
    if actor is None:
        return None
    return _EMAIL_IN_TEXT.sub(lambda m: f"<{address_hash(m.group(0).lower())}>", actor)


def utc_now() -> datetime:
    return datetime.now(UTC)


# ---- pure rules ----------------------------------------------------------------------------


def _required_text(field: str, value: str | None, longest: int, missing: str) -> str:
    text = (value or "").strip()
    if not text:
        raise InvalidInput(field, missing)
    if len(text) > longest:
        raise InvalidInput(field, f"longer than {longest} characters")
    return text


def clean_note(note: str | None) -> str:
    return _required_text("note", note, NOTE_MAX, "say why (a note is required for every manual change)")


def clean_actor(actor: str | None) -> str:
    return _required_text("actor", actor, ACTOR_MAX, "who made the change is required")


def clean_limit(limit: int) -> int:
    if not 1 <= limit <= PAGE_MAX:
        raise InvalidInput("limit", f"must be between 1 and {PAGE_MAX}")
    return limit


def parse_address(raw: str) -> str:
    try:
        return normalize_address(raw)
    except InvalidAddress as exc:
        raise InvalidInput("address", str(exc)) from None


def manual_suppression(
    state: AddressState, note: str, actor: str, now: datetime, key: str
) -> Decision | None:
    """Suppress by hand; None when an equal or stronger suppression already holds."""
    current = state.current(now)
    if current.reason is not None and STRENGTH[current.reason] >= STRENGTH[Reason.MANUAL]:
        return None
    new_state = replace(current, reason=Reason.MANUAL, since=now, expires_at=None, note=note, actor=actor)
    return Decision(
        address=state.address,
        action=Action.SUPPRESS,
        event_type=MANUAL_EVENT,
        detail="suppressed by hand",
        dedupe_key=key,
        occurred_at=now,
        new_state=new_state,
        reason=Reason.MANUAL,
        note=note,
        actor=actor,
    )


def lift_decision(
    state: AddressState, note: str, actor: str, now: datetime, *, force: bool, key: str
) -> Decision:
    """Lift a suppression; complaints only with ``force``."""
    current = state.current(now)
    if current.reason is None:
        raise NotSuppressed("the address is not suppressed")
    if current.reason is Reason.COMPLAINT and not force:
        raise ComplaintLiftNeedsForce(
            "the address complained: lifting a complaint needs force (--force, or ?force=true)"
        )
    lifted = replace(
        current,
        reason=None,
        since=None,
        expires_at=None,
        note=None,
        actor=None,
        soft_bounce_count=0,
        soft_window_start=None,
        lifted_at=now,
    )
    return Decision(
        address=state.address,
        action=Action.LIFT,
        event_type=MANUAL_EVENT,
        detail=f"lifted {current.reason.value}" + (" (forced)" if force else ""),
        dedupe_key=key,
        occurred_at=now,
        new_state=lifted,
        reason=current.reason,
        note=note,
        actor=actor,
    )


class Verdict(StrEnum):
    """What an import does with one entry."""

    NEW = "new"  # the table does not know the address: one batched write
    UPDATE = "update"  # it does (counters, a weaker reason, a lift): a conditional, audited write
    UNCHANGED = "unchanged"  # already suppressed for an equal or stronger reason
    LIFTED = "lifted"  # an operator lifted it after the entry's date (or the entry has none)
    EXPIRED = "expired"  # a soft bounce whose suppression would already be over


def import_verdict(
    entry: ImportEntry, state: AddressState, actor: str, now: datetime, soft_bounce_suppression: timedelta
) -> tuple[Verdict, AddressState | None]:
    """The verdict for one imported entry, and the state to write for NEW and UPDATE."""
    current = state.current(now)
    since = entry.since or now
    expires_at = None
    if entry.reason is Reason.SOFT_BOUNCE:
        expires_at = since + soft_bounce_suppression
        if expires_at <= now:
            return Verdict.EXPIRED, None
    if current.reason is not None and STRENGTH[current.reason] >= STRENGTH[entry.reason]:
        return Verdict.UNCHANGED, None
    if current.lifted_at is not None and (entry.since is None or entry.since <= current.lifted_at):
        return Verdict.LIFTED, None
    new_state = replace(
        current, reason=entry.reason, since=since, expires_at=expires_at, note=entry.note, actor=actor
    )
    if state.version == 0:
        return Verdict.NEW, replace(new_state, version=1)
    return Verdict.UPDATE, new_state


def ses_entry(destination: SesSuppressedDestination, index: int) -> ImportEntry | RowError:
    """An entry of SES's account-level list as an import entry (``index`` stands for the line)."""
    try:
        address = normalize_address(destination.email_address)
    except InvalidAddress as exc:
        return RowError(index, "EmailAddress", str(exc))
    reason = SES_REASONS.get(destination.reason)
    if reason is None:
        return RowError(index, "Reason", f"unknown SES reason {destination.reason[:20]!r}")
    return ImportEntry(
        line=index, address=address, reason=reason, note=SES_SYNC_NOTE, since=destination.last_update_time
    )


# ---- the use case ----------------------------------------------------------------------------


@dataclass(frozen=True)
class ManualOutcome:
    state: AddressState
    changed: bool  # False: nothing to do (already suppressed as strongly, say)
    ses_removed: bool | None = None  # whether SES's list had it; None when the sync is off


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


@dataclass
class SuppressionAdmin:
    store: SuppressionStore
    history_retention: timedelta = timedelta(days=365)
    soft_bounce_suppression: timedelta = timedelta(days=7)
    ses: SesAccountSuppressionList | None = None  # set when lifts also lift SES's list
    clock: Callable[[], datetime] = utc_now

    # ---- reads ----------------------------------------------------------------------

    def get(self, raw_address: str, history_limit: int = 20) -> tuple[AddressState, list[HistoryEntry]]:
        address = parse_address(raw_address)
        return self.store.get_with_history(address, limit=clean_limit(history_limit))

    def history(self, raw_address: str, limit: int = 50, cursor: str | None = None) -> HistoryPage:
        return self.store.history(parse_address(raw_address), clean_limit(limit), cursor)

    def list_suppressed(
        self, reason: Reason | None = None, limit: int = 100, cursor: str | None = None
    ) -> StatePage:
        return self.store.list_suppressed(reason, clean_limit(limit), cursor, self.clock())

    # ---- manual changes -------------------------------------------------------------

    def suppress(self, raw_address: str, note: str | None, actor: str | None) -> ManualOutcome:
        address, why, who = parse_address(raw_address), clean_note(note), clean_actor(actor)
        key = f"manual:{uuid.uuid4().hex}"
        return self._change(address, lambda state, now: manual_suppression(state, why, who, now, key))

    def lift(
        self, raw_address: str, note: str | None, actor: str | None, force: bool = False
    ) -> ManualOutcome:
        address, why, who = parse_address(raw_address), clean_note(note), clean_actor(actor)
        key = f"lift:{uuid.uuid4().hex}"
        now = self.clock()
        state = self.store.get_state(address)
        try:
            lift_decision(state, why, who, now, force=force, key=key)  # refuse before touching SES
        except NotSuppressed:
            if self.ses is None or not self.ses.remove(address):
                raise
            # Only SES had it (our sync had not imported it yet): lifted there, say so here.
            self._record_ses_only_lift(address, why, who, now, key)
            return ManualOutcome(state.current(now), changed=True, ses_removed=True)
        # SES first: if it fails, nothing changed here and the lift can simply be retried.
        ses_removed = self.ses.remove(address) if self.ses is not None else None
        outcome = self._change(
            address, lambda s, at: lift_decision(s, why, who, at, force=force, key=key), state
        )
        return replace(outcome, ses_removed=ses_removed)

    def _record_ses_only_lift(self, address: str, note: str, actor: str, now: datetime, key: str) -> None:
        decision = Decision(
            address=address,
            action=Action.LIFT,
            event_type=MANUAL_EVENT,
            detail="lifted on the SES account-level suppression list",
            dedupe_key=key,
            occurred_at=now,
            new_state=None,
            note=note,
            actor=actor,
        )
        self.store.apply(decision, AddressState(address=address), now, now + self.history_retention)
        self._log(decision)

    def _change(
        self,
        address: str,
        rule: Callable[[AddressState, datetime], Decision | None],
        state: AddressState | None = None,
    ) -> ManualOutcome:
        for attempt in range(_MAX_CONFLICT_RETRIES):
            now = self.clock()
            state = state or self.store.get_state(address)
            decision = rule(state, now)
            if decision is None:
                return ManualOutcome(state.current(now), changed=False)
            try:
                applied = self.store.apply(decision, state, now, now + self.history_retention)
            except VersionConflict:
                time.sleep(random.uniform(0, 0.01 * (attempt + 1)))
                state = None
                continue
            self._log(decision)
            return ManualOutcome(applied.state or state, changed=applied.result is ApplyResult.APPLIED)
        raise ConcurrentUpdate(f"address {address_hash(address)} kept changing")

    @staticmethod
    def _log(decision: Decision) -> None:
        # The operations dashboard's "Suppressions added, and lifted" widget draws these.
        if decision.action is Action.LIFT:
            metrics.add_metric(name="SuppressionsLifted", unit=MetricUnit.Count, value=1)
        elif decision.reason is Reason.MANUAL:
            metrics.add_metric(name="SuppressedManual", unit=MetricUnit.Count, value=1)
        logger.info(
            "suppression changed by hand",
            extra={
                "action": decision.action.value,
                "detail": decision.detail,
                "reason": decision.reason.value if decision.reason else None,
                "actor": _loggable_actor(decision.actor),
                "address_hash": address_hash(decision.address),
            },
        )

    # ---- bulk ---------------------------------------------------------------------------

    def import_entries(
        self,
        rows: Iterable[ImportEntry | RowError],
        actor: str,
        on_reject: Callable[[RowError], None] | None = None,
        on_progress: Callable[[int], None] | None = None,
    ) -> ImportSummary:
        """Load entries in batches: safe to run twice, bad rows reported and skipped.

        Rows are taken 100 distinct addresses at a time: one BatchGetItem reads their
        states, the pure ``import_verdict`` decides each, addresses the table does not
        know are written 25 to a BatchWriteItem, and the few it knows go through the
        conditional, audited path. A second run finds every address suppressed and writes
        nothing.
        """
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
            if previous is not None:
                summary.duplicates += 1
                if STRENGTH[previous.reason] >= STRENGTH[row.reason]:
                    continue
            chunk[row.address] = row
            if len(chunk) == BATCH_GET_LIMIT:
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
        now = self.clock()
        states = self.store.get_states((e.address for e in entries), brief=True)
        new_states: list[AddressState] = []
        for entry in entries:
            verdict, new_state = import_verdict(
                entry, states[entry.address], actor, now, self.soft_bounce_suppression
            )
            if verdict is Verdict.NEW and new_state is not None:
                new_states.append(new_state)
            elif verdict is Verdict.UPDATE:
                verdict = self._import_known(entry, actor)
            self._count(summary, verdict)
        self.store.put_new_states(new_states, now)

    def _import_known(self, entry: ImportEntry, actor: str) -> Verdict:
        """An address the table knows: a conditional write with a history entry, retried on conflict.

        The state is read again in full: the batch read was brief, and this write replaces it.
        """
        state = self.store.get_state(entry.address)
        for attempt in range(_MAX_CONFLICT_RETRIES):
            now = self.clock()
            verdict, new_state = import_verdict(entry, state, actor, now, self.soft_bounce_suppression)
            if verdict not in (Verdict.UPDATE, Verdict.NEW) or new_state is None:
                return verdict
            decision = Decision(
                address=entry.address,
                action=Action.SUPPRESS,
                event_type=IMPORT_EVENT,
                detail="imported",
                dedupe_key=f"import:{uuid.uuid4().hex}",
                occurred_at=now,
                new_state=new_state,
                reason=entry.reason,
                note=entry.note,
                actor=actor,
            )
            try:
                self.store.apply(decision, state, now, now + self.history_retention)
            except VersionConflict:
                time.sleep(random.uniform(0, 0.01 * (attempt + 1)))
                state = self.store.get_state(entry.address)
                continue
            return Verdict.UPDATE
        raise ConcurrentUpdate(f"address {address_hash(entry.address)} kept changing")

    @staticmethod
    def _count(summary: ImportSummary, verdict: Verdict) -> None:
        if verdict is Verdict.NEW:
            summary.imported += 1
        elif verdict is Verdict.UPDATE:
            summary.updated += 1
        elif verdict is Verdict.UNCHANGED:
            summary.unchanged += 1
        elif verdict is Verdict.LIFTED:
            summary.lifted += 1
        else:
            summary.expired += 1

    def sync_from_ses(self, ses: SesAccountSuppressionList) -> ImportSummary:
        """Import SES's account-level list, so entries SES added on its own are visible here."""
        entries = (ses_entry(d, i) for i, d in enumerate(ses.entries(), start=1))

        def skipped(row: RowError) -> None:
            logger.warning(
                "ses suppression list entry skipped",
                extra={"index": row.line, "field": row.field, "error": row.message},
            )

        return self.import_entries(entries, SES_SYNC_ACTOR, on_reject=skipped)


@cache
def get_ses_account_list() -> SesAccountSuppressionList:
    """The container's SES gateway (its client is built on first use)."""
    return SesAccountSuppressionList()


@cache
def get_admin() -> SuppressionAdmin:
    """The container's admin use case, built on first use from the settings."""
    settings = get_settings()
    return SuppressionAdmin(
        store=SuppressionStore(settings.table_name),
        history_retention=settings.history_retention,
        soft_bounce_suppression=settings.policy.soft_bounce_suppression,
        ses=get_ses_account_list() if settings.sync_ses_account_suppression_list else None,
    )


def sync_ses_account_list() -> dict[str, object]:
    """SuppressionSyncFunction's one call: import SES's list, count what changed."""
    summary = get_admin().sync_from_ses(get_ses_account_list())
    metrics.add_metric(
        name="SesSuppressionsImported", unit=MetricUnit.Count, value=summary.imported + summary.updated
    )
    metrics.add_metric(name="SesSuppressionsRejected", unit=MetricUnit.Count, value=summary.rejected)
    answer = summary.as_dict()
    answer.pop("rejected_rows")
    return answer
