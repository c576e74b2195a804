"""The send use case: request → sending guard → suppression check → SES → answer. Both doors call ``send``.

1. The ``from`` address must be at the sending domain the stack allows (no team can send as
   another domain).
   With the sending guard on (``SENDING_GUARD``), a message not tagged ``transactional=true``
   is refused (``ReputationGuard``) while a reputation alarm is in ALARM (``rules.guard``),
   before the suppression list or SES is asked.
2. Every recipient is normalised and all of them are looked up in one ``BatchGetItem``
   (at most 50 recipients, BatchGetItem takes 100 keys). An expired suppression counts as
   lifted even before DynamoDB's TTL deletes it.
3. Suppressed recipients are dropped, or with ``on_suppressed: "reject"`` the whole message
   is refused. If nobody is left, SES is not called.
4. The rest go to SES in one ``SendEmail`` with the stack's configuration set, the request's
   tags and an ``app`` tag naming the caller.

With an ``idempotency_key``, SenderFunction's handler wraps ``Sender.send`` in Powertools'
idempotency (the Lambda plumbing lives there); this use case takes plain values.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.metrics import MetricUnit

from ses_feedback.errors import InvalidRequest
from ses_feedback.model.answers import SendAnswer, SendStatus, SuppressedRecipient
from ses_feedback.model.message import OutgoingMessage
from ses_feedback.model.moments import utc_now
from ses_feedback.observability import logger, metrics
from ses_feedback.parsing.addresses import address_hash
from ses_feedback.parsing.send_request import APP_TAG, Recipient, SendRequest, for_ses
from ses_feedback.rules.guard import check
from ses_feedback.settings import Settings

if TYPE_CHECKING:
    from ses_feedback.edges.alarms import AlarmStates
    from ses_feedback.edges.ses import SesGateway
    from ses_feedback.edges.store import SuppressionStore


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
