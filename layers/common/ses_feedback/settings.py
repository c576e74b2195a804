"""Environment → one typed settings object (``wiring.settings()`` reads it once per container).

The template sets these variables on each function; local mode, the CLI and the tests set
the same ones, so nothing here knows whether it runs in Lambda. Every default lives here
once (the policy's numbers in ``PolicySettings``, which these fields read).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from functools import cached_property
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from ses_feedback.model.policy import PolicySettings
from ses_feedback.model.regions import is_region_name
from ses_feedback.model.streams import Streams

_POLICY = PolicySettings()
_DAY = timedelta(days=1)


class Settings(BaseModel):
    model_config = ConfigDict(frozen=True, populate_by_name=True)

    table_name: str = Field(alias="SUPPRESSION_TABLE", min_length=3)
    soft_bounce_threshold: int = Field(
        default=_POLICY.soft_bounce_threshold, alias="SOFT_BOUNCE_THRESHOLD", ge=1
    )
    soft_bounce_window_days: float = Field(
        default=_POLICY.soft_bounce_window / _DAY, alias="SOFT_BOUNCE_WINDOW_DAYS", gt=0
    )
    soft_bounce_suppression_days: float = Field(
        default=_POLICY.soft_bounce_suppression / _DAY, alias="SOFT_BOUNCE_SUPPRESSION_DAYS", gt=0
    )
    history_retention_days: int = Field(default=365, alias="HISTORY_RETENTION_DAYS", ge=1)
    # Sending (SenderFunction): the one domain app teams may send from, the configuration set
    # that routes feedback back to us, and where Powertools keeps idempotency records.
    sending_domain: str = Field(default="example.com", alias="SENDING_DOMAIN", min_length=3)
    configuration_set_name: str | None = Field(default=None, alias="CONFIGURATION_SET_NAME")
    idempotency_table: str | None = Field(default=None, alias="IDEMPOTENCY_TABLE")
    idempotency_window_hours: float = Field(default=24, alias="IDEMPOTENCY_WINDOW_HOURS", gt=0)
    # Lifting here also lifts SES's account-level suppression list (and a scheduled function
    # imports that list): template parameter SyncSesAccountSuppressionList.
    sync_ses_account_suppression_list: bool = Field(default=False, alias="SYNC_SES_ACCOUNT_SUPPRESSION_LIST")

    # The sending guard (rules/guard.py): off unless the template's SendingGuard says so.
    sending_guard: bool = Field(default=False, alias="SENDING_GUARD")
    reputation_alarm_names_text: str = Field(default="", alias="REPUTATION_ALARM_NAMES")

    # DMARC aggregate reports (DmarcReportFunction): where SES stores each message, where the
    # reports are kept and for how long.
    dmarc_report_table: str | None = Field(default=None, alias="DMARC_REPORT_TABLE")
    dmarc_report_bucket: str | None = Field(default=None, alias="DMARC_REPORT_BUCKET")
    dmarc_report_retention_days: int = Field(default=400, alias="DMARC_REPORT_RETENTION_DAYS", ge=1)

    # Streams (docs/sending.md, "Streams and one-click unsubscribe"): which are transactional, the
    # secret whose keys sign unsubscribe links and name erasure tombstones, and the public
    # base URL of the unsubscribe routes (the REST API's stage URL, or a custom domain).
    transactional_streams_text: str = Field(default="transactional", alias="TRANSACTIONAL_STREAMS")
    streams_secret_id: str | None = Field(default=None, alias="STREAMS_SECRET_ID")
    unsubscribe_base_url: str | None = Field(default=None, alias="UNSUBSCRIBE_BASE_URL")

    # Batches (docs/batches.md): where they are kept and queued, the share of SES's rate and
    # 24-hour quota that bulk mail may use, how many workers may run at once (the event
    # source's maximum concurrency: each paces itself at its part of the share), and how long
    # a batch's records are kept.
    batch_table: str | None = Field(default=None, alias="BATCH_TABLE")
    batch_queue_url: str | None = Field(default=None, alias="BATCH_QUEUE_URL")
    bulk_rate_share: float = Field(default=0.8, alias="BULK_RATE_SHARE", gt=0, le=1)
    bulk_max_concurrency: int = Field(default=2, alias="BULK_MAX_CONCURRENCY", ge=2, le=1000)
    batch_retention_days: int = Field(default=30, alias="BATCH_RETENTION_DAYS", ge=1)
    # Events out to app teams (docs/events.md): the stack's bus (unset: nothing is published),
    # the message table that keeps each message's timeline, and for how long.
    event_bus_name: str | None = Field(default=None, alias="EVENT_BUS_NAME")
    message_table: str | None = Field(default=None, alias="MESSAGE_TABLE")
    message_retention_days: int = Field(default=30, alias="MESSAGE_RETENTION_DAYS", ge=1)
    # Webhooks: the role EventBridge assumes to call API destinations, and (local mode only)
    # whether http:// to a loopback address is accepted as well as https://.
    webhook_role_arn: str | None = Field(default=None, alias="WEBHOOK_ROLE_ARN")
    webhook_loopback_http: bool = Field(default=False, alias="WEBHOOK_LOOPBACK_HTTP")
    # Several regions (docs/deploy.md, "Several regions"): the home region when this one is a
    # replica region (empty: this region is home, it owns the table and the feedback queue),
    # the deployment's replica regions, and this region (Lambda sets AWS_REGION).
    home_region: str | None = Field(default=None, alias="HOME_REGION")
    replica_regions_text: str = Field(default="", alias="REPLICA_REGIONS")
    region: str | None = Field(default=None, alias="AWS_REGION")

    @field_validator("transactional_streams_text")
    @classmethod
    def _stream_names(cls, text: str) -> str:
        Streams.parse(text)  # a name that is not a stream name fails at start, not at the first send
        return text

    @field_validator(
        "streams_secret_id",
        "unsubscribe_base_url",
        "batch_table",
        "batch_queue_url",
        "event_bus_name",
        "message_table",
        "webhook_role_arn",
        "home_region",
        "region",
    )
    @classmethod
    def _empty_is_none(cls, text: str | None) -> str | None:
        # The template passes an unset parameter as "".
        return text or None

    @field_validator("replica_regions_text")
    @classmethod
    def _region_names(cls, text: str) -> str:
        for name in text.split(",") if text else ():
            if not is_region_name(name):
                raise ValueError(
                    f"{name!r} is not a region name: give region names separated by commas, "
                    "without spaces (e.g. eu-west-1,ap-southeast-2)"
                )
        return text

    @field_validator("home_region")
    @classmethod
    def _home_region_name(cls, name: str | None) -> str | None:
        if name is not None and not is_region_name(name):
            raise ValueError(f"{name!r} is not a region name (e.g. us-east-1)")
        return name

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> Settings:
        return cls.model_validate({name: value for name, value in environ.items() if name.isupper()})

    @classmethod
    def default(cls, name: str) -> Any:
        """A field's default, for a builder that has no settings object (the CLI on a named table)."""
        return cls.model_fields[name].default

    @property
    def policy(self) -> PolicySettings:
        return PolicySettings(
            soft_bounce_threshold=self.soft_bounce_threshold,
            soft_bounce_window=timedelta(days=self.soft_bounce_window_days),
            soft_bounce_suppression=timedelta(days=self.soft_bounce_suppression_days),
            streams=self.streams,
        )

    @cached_property
    def streams(self) -> Streams:
        # Parsed once per Settings (frozen): every send asks whether its stream is bulk.
        return Streams.parse(self.transactional_streams_text)

    @property
    def history_retention(self) -> timedelta:
        return timedelta(days=self.history_retention_days)

    @property
    def batch_retention(self) -> timedelta:
        return timedelta(days=self.batch_retention_days)

    @property
    def message_retention(self) -> timedelta:
        return timedelta(days=self.message_retention_days)

    @property
    def idempotency_window(self) -> timedelta:
        return timedelta(hours=self.idempotency_window_hours)

    @property
    def reputation_alarm_names(self) -> tuple[str, ...]:
        """The alarms the sending guard watches (comma-separated in the environment)."""
        return tuple(name.strip() for name in self.reputation_alarm_names_text.split(",") if name.strip())

    @property
    def replica_regions(self) -> tuple[str, ...]:
        """The regions that hold a replica of the home region's table (the home's ReplicaRegions)."""
        return tuple(name for name in self.replica_regions_text.split(",") if name)

    @property
    def writes_region(self) -> str | None:
        """Where the suppression list is written: the home region (None: here, this is home)."""
        return self.home_region

    @property
    def ses_regions(self) -> tuple[str | None, ...]:
        """Every region whose SES keeps an account-level list to sync and lift: home, the replica
        regions, and this one (None: the region boto3 picks, when nothing names one)."""
        return tuple(dict.fromkeys((self.home_region or self.region, *self.replica_regions, self.region)))
