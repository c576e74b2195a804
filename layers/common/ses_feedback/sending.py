"""The send use case: request → sending guard → suppression check → SES → answer. Both doors call ``send``.

1. The ``from`` address must be at the sending domain the stack allows (no team can send as
   another domain).
   With the sending guard on (``SENDING_GUARD``), a message not tagged ``transactional=true``
   is refused (``ReputationGuard``) while a reputation alarm is in ALARM (``ses_feedback.guard``),
   before the suppression list or SES is asked.
2. Every recipient is normalised and all of them are looked up in one ``BatchGetItem``
   (at most 50 recipients, BatchGetItem takes 100 keys). An expired suppression counts as
   lifted even before DynamoDB's TTL deletes it.
3. Suppressed recipients are dropped, or with ``on_suppressed: "reject"`` the whole message
   is refused. If nobody is left, SES is not called.
4. The rest go to SES in one ``SendEmail`` with the stack's configuration set, the request's
   tags and an ``app`` tag naming the caller.

With an ``idempotency_key``, Powertools' idempotency (DynamoDB persistence) makes the same
key from the same app within the window return the first answer without sending again;
refusals (exceptions) are not remembered, so a retry after a throttle does send.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)
from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyAlreadyInProgressError,
    IdempotencyValidationError,
)
from aws_lambda_powertools.utilities.idempotency.persistence.datarecord import DataRecord
from aws_lambda_powertools.utilities.idempotency.serialization.pydantic import PydanticSerializer
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel

from ses_feedback.addresses import address_hash
from ses_feedback.errors import IdempotencyConflict, InvalidRequest
from ses_feedback.guard import check
from ses_feedback.observability import logger, metrics
from ses_feedback.send_models import (
    APP_TAG,
    Recipient,
    SendAnswer,
    SendRequest,
    SendStatus,
    SuppressedRecipient,
    for_ses,
)
from ses_feedback.ses_gateway import AlarmStates, OutgoingMessage, SesGateway
from ses_feedback.settings import Settings, get_settings
from ses_feedback.store import SuppressionStore

UNKNOWN_APP = "unknown"
_NOT_TAG_CHARS = re.compile(r"[^A-Za-z0-9_-]+")


def utc_now() -> datetime:
    return datetime.now(UTC)


def app_name(raw: str | None) -> str:
    """A caller's name as an SES tag value: ``arn:…:assumed-role/billing-app/s`` → ``billing-app``."""
    if not raw:
        return UNKNOWN_APP
    name = raw
    if raw.startswith("arn:"):
        resource = raw.split(":", 5)[-1]  # assumed-role/NAME/session, user/NAME, role/path/NAME
        parts = resource.split("/")
        name = parts[1] if parts[0] == "assumed-role" and len(parts) > 1 else parts[-1]
    return _NOT_TAG_CHARS.sub("-", name).strip("-")[:256] or UNKNOWN_APP


@dataclass
class Sender:
    store: SuppressionStore
    ses: SesGateway
    settings: Settings
    clock: Callable[[], datetime] = utc_now
    alarms: AlarmStates | None = None  # the reputation alarms, when the sending guard is on

    def send(self, request: SendRequest, app: str) -> SendAnswer:
        if request.sender_domain() != self.settings.sending_domain.lower():
            raise InvalidRequest(
                f"from: must be an address at {self.settings.sending_domain} (this stack's sending domain)",
                "from",
            )
        self._guard(request, app)
        recipients = request.recipients()
        states = self.store.get_states(r.address for r in recipients)
        now = self.clock()
        suppressed = [r for r in recipients if states[r.address].is_suppressed(now)]
        kept = [r for r in recipients if not states[r.address].is_suppressed(now)]
        answer_suppressed = [
            SuppressedRecipient(
                address=r.address,
                reason=states[r.address].reason,
                since=states[r.address].since,
            )
            for r in suppressed
        ]
        if suppressed:
            metrics.add_metric(name="SuppressedSendsAvoided", unit=MetricUnit.Count, value=len(suppressed))
        if suppressed and request.on_suppressed == "reject":
            self._log("send rejected", app, suppressed=suppressed)
            metrics.add_metric(name="SendRejected", unit=MetricUnit.Count, value=1)
            return SendAnswer(status=SendStatus.REJECTED, suppressed=answer_suppressed)
        if not kept:
            self._log("send fully suppressed", app, suppressed=suppressed)
            return SendAnswer(status=SendStatus.SUPPRESSED, suppressed=answer_suppressed)

        message_id = self.ses.send(_outgoing(request, kept, app))
        metrics.add_metric(name="MessagesSent", unit=MetricUnit.Count, value=1)
        metrics.add_metric(name="RecipientsSent", unit=MetricUnit.Count, value=len(kept))
        self._log("message sent", app, message_id=message_id, sent=len(kept), suppressed=suppressed)
        return SendAnswer(
            status=SendStatus.PARTIALLY_SUPPRESSED if suppressed else SendStatus.SENT,
            message_id=message_id,
            sent_to=[r.address for r in kept],
            suppressed=answer_suppressed,
        )

    def _guard(self, request: SendRequest, app: str) -> None:
        """Refuse non-transactional mail while a reputation alarm fires (only with the guard on)."""
        if self.alarms is None or not self.settings.sending_guard:
            return
        verdict = check(True, self.alarms.current(), request.tags)
        if not verdict.allowed:
            logger.info(
                "send refused by the sending guard", extra={"app": app, "firing": list(verdict.firing)}
            )
        verdict.raise_if_refused()

    @staticmethod
    def _log(message: str, app: str, suppressed: list[Recipient], **extra: Any) -> None:
        logger.info(
            message,
            extra={
                "app": app,
                "suppressed_hashes": [address_hash(r.address) for r in suppressed],
                **extra,
            },
        )


def _outgoing(request: SendRequest, kept: list[Recipient], app: str) -> OutgoingMessage:
    by_field = {name: [r.display for r in kept if r.field == name] for name in ("to", "cc", "bcc")}
    template = request.template
    return OutgoingMessage(
        sender=for_ses(request.sender),
        to=by_field["to"],
        cc=by_field["cc"],
        bcc=by_field["bcc"],
        reply_to=[for_ses(a) for a in request.reply_to],
        subject=request.subject,
        text=request.text,
        html=request.html,
        template_name=template.name if template else None,
        template_data=json.dumps(template.data) if template else None,
        tags={**request.tags, APP_TAG: app},
    )


# ---- the container's sender, built on first use ----------------------------------------------


@cache
def get_sender() -> Sender:
    settings = get_settings()
    return Sender(
        store=SuppressionStore(settings.table_name),
        ses=SesGateway(settings.configuration_set_name),
        settings=settings,
        # Off: no CloudWatch client, no call. On: read at most once a minute (AlarmStates).
        alarms=AlarmStates(settings.reputation_alarm_names) if settings.sending_guard else None,
    )


class SendJob(BaseModel):
    """What idempotency keys on: the calling app and its key (so two apps never share a key)."""

    app: str
    request: SendRequest


@cache
def _idempotency_config() -> IdempotencyConfig:
    return IdempotencyConfig(
        event_key_jmespath="[app, request.idempotency_key]",
        # The same key with a different request is a caller's bug: refuse it, don't guess.
        payload_validation_jmespath="request",
        expires_after_seconds=int(get_settings().idempotency_window.total_seconds()),
        response_hook=_replayed,
    )


def _replayed(response: Any, idempotent_data: DataRecord) -> Any:
    """Powertools calls this when it returns a remembered answer instead of sending."""
    metrics.add_metric(name="SendReplayed", unit=MetricUnit.Count, value=1)
    logger.info("idempotent send replayed", extra={"status": getattr(response, "status", None)})
    return response


@cache
def _idempotent_send() -> Callable[..., SendAnswer]:
    settings = get_settings()
    if not settings.idempotency_table:
        raise InvalidRequest("idempotency_key: this deployment has no idempotency table", "idempotency_key")
    # One DynamoDB client for both tables: one fewer client to build at cold start.
    persistence = DynamoDBPersistenceLayer(
        table_name=settings.idempotency_table, boto3_client=get_sender().store.client
    )

    def send_once(job: SendJob) -> SendAnswer:
        return get_sender().send(job.request, job.app)

    idempotent: Callable[..., SendAnswer] = idempotent_function(
        send_once,
        data_keyword_argument="job",
        persistence_store=persistence,
        config=_idempotency_config(),
        output_serializer=PydanticSerializer(SendAnswer),
    )
    return idempotent


def send(request: SendRequest, app: str, context: LambdaContext | None = None) -> SendAnswer:
    """The one entry both doors use. Raises a ``SendError`` when the request is refused."""
    if request.idempotency_key is None:
        return get_sender().send(request, app)
    if context is not None:
        _idempotency_config().register_lambda_context(context)
    try:
        return _idempotent_send()(job=SendJob(app=app, request=request))
    except IdempotencyValidationError:
        raise IdempotencyConflict(
            "idempotency_key: already used for a different request", "idempotency_key"
        ) from None
    except IdempotencyAlreadyInProgressError:
        raise IdempotencyConflict(
            "idempotency_key: the first request with this key is still being sent; retry shortly",
            "idempotency_key",
        ) from None


def clear_caches() -> None:
    """Forget the container's sender and idempotency setup (tests and local mode)."""
    get_sender.cache_clear()
    _idempotency_config.cache_clear()
    _idempotent_send.cache_clear()
