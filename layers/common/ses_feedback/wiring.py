"""Settings → edges → use cases: each built on first use, cached for the life of the container.

Lambda keeps a container warm between invocations, so clients and use cases are built once,
on the first request that needs them (never at import time: the environment may not be
set yet). Tests and local mode start "a new container" with ``reset()``: the one list of
caches. The ``*_for`` builders take explicit settings, for the CLI (its table may come
from ``--table``) and for tests that pass their own clock.

Each builder imports its edge or use case when it first runs: a function's cold start loads
the modules its own requests use (the sender never loads the feedback policy, SES's event
models, the admin use cases or the DMARC reader), not every use case of the package.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import datetime, timedelta
from functools import cache
from typing import TYPE_CHECKING, Any, TypeVar

from ses_feedback.model.moments import utc_now
from ses_feedback.settings import Settings

if TYPE_CHECKING:
    from ses_feedback.edges.alarms import StackAlarms
    from ses_feedback.edges.batch_queue import BatchQueue
    from ses_feedback.edges.batch_store import BatchStore
    from ses_feedback.edges.lambda_invoke import LambdaInvoker
    from ses_feedback.edges.reputation import ReputationMetrics
    from ses_feedback.edges.ses_account import SesAccountSuppressionLists
    from ses_feedback.edges.ses_setup import SesSetup
    from ses_feedback.edges.stacks import Stacks
    from ses_feedback.edges.store import SuppressionStore
    from ses_feedback.edges.timeline import TimelineStore
    from ses_feedback.rules.tokens import KeyRing
    from ses_feedback.usecases.admin import SuppressionAdmin
    from ses_feedback.usecases.batches import Batches, BulkWorker
    from ses_feedback.usecases.bulk_import import BulkImport
    from ses_feedback.usecases.dmarc import DmarcReports
    from ses_feedback.usecases.events_out import EventPublisher
    from ses_feedback.usecases.feedback import FeedbackProcessor
    from ses_feedback.usecases.redrive import DeadLetters
    from ses_feedback.usecases.sending import Sender
    from ses_feedback.usecases.timelines import Timelines
    from ses_feedback.usecases.unsubscribe import Unsubscriber
    from ses_feedback.usecases.webhooks import Webhooks
    from ses_feedback.usecases.write_path import WritePath

T = TypeVar("T")

_BUILDERS: list[Callable[[], object]] = []


def cached(builder: Callable[[], T]) -> Callable[[], T]:
    """Cache ``builder`` for the container and register it with ``reset``."""
    wrapped = cache(builder)
    _BUILDERS.append(wrapped)
    return wrapped


def reset() -> None:
    """Forget every cached setting, client and use case (a new container)."""
    for builder in _BUILDERS:
        builder.cache_clear()  # type: ignore[attr-defined]


# ---- settings and edges ------------------------------------------------------------------------


@cached
def settings() -> Settings:
    return Settings.from_env(os.environ)


@cached
def store() -> SuppressionStore:
    """The store every writer uses (feedback, admin, import, unsubscribe): in the home region."""
    return _store(settings(), key_ring, settings().writes_region)


def store_for(config: Settings) -> SuppressionStore:
    """The writers' store on explicit settings (the CLI): in the home region too."""
    return _store(config, cache(lambda: key_ring_for(config)), config.writes_region)


@cached
def local_store() -> SuppressionStore:
    """The store the sender and the bulk worker read: this region's replica of the table (a
    global table has one name in every region). In the home region it is ``store()`` itself."""
    config = settings()
    if config.writes_region is None:
        return store()
    return _store(config, key_ring, None)


def _store(config: Settings, ring: Callable[[], KeyRing], region: str | None) -> SuppressionStore:
    """The store; with the streams secret configured it also reads and writes erasure tombstones."""
    from ses_feedback.edges.store import SuppressionStore
    from ses_feedback.rules.cursors import CursorSeal

    if not config.streams_secret_id:
        # cursors sealed with a key of this process
        return SuppressionStore(config.table_name, region=region)
    # The secret is read on the first state read that needs a tombstone key (or the first
    # cursor), not before.
    return SuppressionStore(
        config.table_name,
        tombstone_of=lambda address: ring().erasure_digest(address),
        cursors=cache(lambda: CursorSeal.of(ring())),
        region=region,
    )


@cached
def key_ring() -> KeyRing:
    return key_ring_for(settings())


def key_ring_for(config: Settings) -> KeyRing:
    from ses_feedback.edges.secrets import load_key_ring
    from ses_feedback.errors import StreamsNotConfigured

    if not config.streams_secret_id:
        raise StreamsNotConfigured("this deployment has no streams secret (STREAMS_SECRET_ID)")
    return load_key_ring(config.streams_secret_id)


@cached
def ses_account_list() -> SesAccountSuppressionLists:
    """SES's account-level list in every region the deployment sends from (clients built on first use)."""
    return ses_account_lists_for(settings())


def ses_account_lists_for(config: Settings) -> SesAccountSuppressionLists:
    from ses_feedback.edges.ses_account import SesAccountSuppressionLists

    return SesAccountSuppressionLists.of(config.ses_regions)


@cached
def timeline() -> TimelineStore | None:
    """Each message's timeline (None: this deployment keeps none)."""
    return timeline_for(settings())


def timeline_for(config: Settings) -> TimelineStore | None:
    from ses_feedback.edges.timeline import TimelineStore

    if not config.message_table:
        return None
    return TimelineStore(config.message_table, config.message_retention)


@cached
def publisher() -> EventPublisher | None:
    """The stack's event bus, behind the timeline's exactly-once check (None: no bus configured)."""
    return publisher_for(settings(), timeline())


def publisher_for(config: Settings, timelines: TimelineStore | None = None) -> EventPublisher | None:
    from ses_feedback.edges.bus import EventBus
    from ses_feedback.usecases.events_out import EventPublisher

    if not config.event_bus_name:
        return None
    return EventPublisher(bus=EventBus(config.event_bus_name), timeline=timelines)


# ---- use cases ---------------------------------------------------------------------------------


def write_path_for(
    config: Settings, suppressions: SuppressionStore | None = None, clock: Callable[[], datetime] = utc_now
) -> WritePath:
    from ses_feedback.usecases.write_path import WritePath

    store = suppressions or store_for(config)
    # One retry policy: the store's (unprocessed items) is the write path's (version conflicts).
    return WritePath(store=store, history_retention=config.history_retention, clock=clock, retry=store.retry)


@cached
def write_path() -> WritePath:
    return write_path_for(settings(), store())


def feedback_processor() -> FeedbackProcessor:
    """A new processor per batch: it remembers the states that batch read and wrote."""
    from ses_feedback.usecases.feedback import FeedbackProcessor

    return FeedbackProcessor(writes=write_path(), policy=settings().policy, publisher=publisher())


def admin_for(
    config: Settings, ses_sync: bool | None = None, clock: Callable[[], datetime] = utc_now
) -> SuppressionAdmin:
    """``ses_sync``: lifts also lift SES's account list (default: the settings say)."""
    from ses_feedback.usecases.admin import SuppressionAdmin

    sync = config.sync_ses_account_suppression_list if ses_sync is None else ses_sync
    return SuppressionAdmin(
        writes=write_path_for(config, clock=clock),
        ses=ses_account_lists_for(config) if sync else None,
        events=publisher_for(config),
        timeline=timeline_for(config),
    )


@cached
def admin() -> SuppressionAdmin:
    from ses_feedback.usecases.admin import SuppressionAdmin

    config = settings()
    return SuppressionAdmin(
        writes=write_path(),
        ses=ses_account_list() if config.sync_ses_account_suppression_list else None,
        events=publisher_for(config),
        timeline=timeline(),
    )


def bulk_import_for(
    config: Settings, clock: Callable[[], datetime] = utc_now, suppressions: SuppressionStore | None = None
) -> BulkImport:
    from ses_feedback.usecases.bulk_import import BulkImport

    return BulkImport(
        writes=write_path_for(config, suppressions, clock),
        soft_bounce_suppression=config.policy.soft_bounce_suppression,
    )


@cached
def bulk_import() -> BulkImport:
    from ses_feedback.usecases.bulk_import import BulkImport

    return BulkImport(writes=write_path(), soft_bounce_suppression=settings().policy.soft_bounce_suppression)


@cached
def sender() -> Sender:
    from ses_feedback.edges.ses import SesGateway
    from ses_feedback.usecases.sending import Sender

    config = settings()
    # Off: no CloudWatch client, no call. On: read at most once a minute (AlarmStates).
    alarms = None
    if config.sending_guard:
        from ses_feedback.edges.alarms import AlarmStates

        alarms = AlarmStates(config.reputation_alarm_names)
    return Sender(
        store=local_store(),  # the suppression check reads this region's replica
        ses=SesGateway(config.configuration_set_name),
        settings=config,
        alarms=alarms,
        key_ring=key_ring if config.streams_secret_id else None,
        timeline=timeline(),
        # message.suppressed events are new with each send: no exactly-once check to pay for.
        events=publisher_for(config),
    )


@cached
def unsubscriber() -> Unsubscriber:
    from ses_feedback.usecases.events_out import announce_changes
    from ses_feedback.usecases.unsubscribe import Unsubscriber, not_announced

    publisher = publisher_for(settings())
    return Unsubscriber(
        writes=write_path(),
        key_ring=key_ring,
        streams=settings().streams,
        # recipient.unsubscribed / recipient.resubscribed on the stack's bus (docs/events.md).
        announce=announce_changes(publisher) if publisher is not None else not_announced,
    )


@cached
def timelines() -> Timelines:
    """Reading each message's timeline (the messages API)."""
    return timelines_for(settings())


def timelines_for(config: Settings) -> Timelines:
    from ses_feedback.usecases.timelines import Timelines

    store = timeline_for(config)
    if store is None:
        raise RuntimeError("MESSAGE_TABLE is not set")
    return Timelines(store)


@cached
def webhooks() -> Webhooks:
    return webhooks_for(settings())


def webhooks_for(config: Settings) -> Webhooks:
    from ses_feedback.edges.bus import EventBus
    from ses_feedback.edges.webhooks import WebhookRegistry
    from ses_feedback.usecases.webhooks import Webhooks

    if not config.event_bus_name or not config.webhook_role_arn:
        raise RuntimeError("EVENT_BUS_NAME and WEBHOOK_ROLE_ARN must be set")
    return Webhooks(
        registry=WebhookRegistry(config.event_bus_name, config.webhook_role_arn),
        bus=EventBus(config.event_bus_name),
        loopback_http=config.webhook_loopback_http,
    )


# ---- DMARC reports ------------------------------------------------------------------------------


def dmarc_reports_for(
    table: str, bucket: str | None = None, retention: timedelta | None = None
) -> DmarcReports:
    """The DMARC use case on a named table (and bucket)."""
    from ses_feedback.edges.dmarc_store import DmarcReportStore
    from ses_feedback.edges.report_mail import ReportMailBucket
    from ses_feedback.usecases.dmarc import DmarcReports

    return DmarcReports(
        store=DmarcReportStore(table),
        bucket=ReportMailBucket(bucket) if bucket else None,
        retention=retention or timedelta(days=Settings.default("dmarc_report_retention_days")),
    )


@cached
def dmarc_reports() -> DmarcReports:
    """The DMARC use case on the container's table and bucket (DmarcReportFunction's environment)."""
    config = settings()
    if not config.dmarc_report_table:
        raise RuntimeError("DMARC_REPORT_TABLE is not set")
    return dmarc_reports_for(
        config.dmarc_report_table,
        config.dmarc_report_bucket,
        timedelta(days=config.dmarc_report_retention_days),
    )


# ---- the operator tools' AWS (the CLI and the doctor: never a function) ------------------------
# Built per call, in the region the command names (None: the environment's); nothing cached.


def queue_url_region(queue_url: str) -> str | None:
    """The region an SQS queue URL names in its host; None for one that names none (a local endpoint)."""
    from ses_feedback.edges.queues import queue_region

    return queue_region(queue_url)


def dead_letters_for(
    queue_url: str, dlq_url: str, region: str | None = None, queue_region: str | None = None
) -> DeadLetters:
    """The dead-letter queue (in ``region``) and the feedback queue its messages go back to (in
    ``queue_region``, default the same: a replica region's go to the home's): depths,
    inspection, redrive."""
    from ses_feedback.edges.queues import Queues
    from ses_feedback.usecases.redrive import DeadLetters

    source = Queues(region)
    destination = source if queue_region in (None, region) else Queues(queue_region)
    return DeadLetters(source, dlq_url, destination, queue_url)


def reputation_metrics_for(region: str | None = None) -> ReputationMetrics:
    from ses_feedback.edges.reputation import ReputationMetrics

    return ReputationMetrics(region)


def stack_alarms_for(region: str | None = None) -> StackAlarms:
    from ses_feedback.edges.alarms import StackAlarms

    return StackAlarms(region)


def lambda_invoker_for(region: str | None = None) -> LambdaInvoker:
    from ses_feedback.edges.lambda_invoke import LambdaInvoker

    return LambdaInvoker(region)


def stacks_for(region: str | None = None) -> Stacks:
    from ses_feedback.edges.stacks import Stacks

    return Stacks(region)


def ses_setup_for(region: str | None = None) -> SesSetup:
    from ses_feedback.edges.ses_setup import SesSetup

    return SesSetup(region)


def caller_arn() -> str | None:
    """The ARN of the AWS credentials in use (an operator's actor); None without any."""
    from ses_feedback.edges.identity import caller_arn

    return caller_arn()


def rest_api_call(base_url: str, method: str, path: str, body: object = None) -> tuple[int, Any]:
    """One call to the stack's REST API, signed with the credentials in use (``ses-feedback batches``)."""
    from ses_feedback.edges.rest_api import call

    return call(base_url, method, path, body)


# ---- batches ------------------------------------------------------------------------------------


def _batch_edges() -> tuple[BatchStore, BatchQueue]:
    """The batch table (in this region, as the queue is) and the batch queue."""
    from ses_feedback.edges.batch_queue import BatchQueue
    from ses_feedback.edges.batch_store import BatchStore

    config = settings()
    if not config.batch_table or not config.batch_queue_url:
        raise RuntimeError("BATCH_TABLE and BATCH_QUEUE_URL must be set")
    return BatchStore(config.batch_table, client=local_store().client), BatchQueue(config.batch_queue_url)


@cached
def batches() -> Batches:
    """The batches API's use case: the batch table and queue, and the sender's checks."""
    from ses_feedback.usecases.batches import Batches

    store, queue = _batch_edges()
    live = sender()
    return Batches(
        store=store,
        queue=queue,
        sender=live,
        retention=settings().batch_retention,
        events=live.events,
    )


@cached
def bulk_worker() -> BulkWorker:
    """BulkSenderFunction's worker; its pacer lives as long as the container (one worker each)."""
    import time

    from ses_feedback.edges.ses_quota import SesQuota
    from ses_feedback.rules.pacing import Pacer
    from ses_feedback.usecases.batches import BulkWorker

    config = settings()
    store, queue = _batch_edges()
    live = sender()
    return BulkWorker(
        store=store,
        queue=queue,
        sender=live,
        quota=SesQuota(),
        pacer=Pacer(rate=1.0, clock=time.monotonic, sleep=time.sleep),
        share=config.bulk_rate_share,
        max_concurrency=config.bulk_max_concurrency,
        retention=config.batch_retention,
        # batch.done, by the call that ends the batch: the sender's own publisher (the same bus;
        # no timeline check: the conditional write that ends the batch is the exactly-once check).
        events=live.events,
    )
