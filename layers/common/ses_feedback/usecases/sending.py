"""The send use case: request → sending guard → suppression check → SES → answer. Both doors call ``send``.

1. The ``from`` address must be at the sending domain the stack allows (no team can send as
   another domain).
   With the sending guard on (``SENDING_GUARD``), a message on a bulk stream is refused
   (``ReputationGuard``) while a reputation alarm is in ALARM (``rules.guard``), before the
   suppression list or SES is asked; transactional streams still go out.
2. Every recipient is normalised and all of them are looked up in one ``BatchGetItem``
   (at most 50 recipients, BatchGetItem takes 100 keys). An expired suppression counts as
   lifted even before DynamoDB's TTL deletes it.
3. Suppressed recipients are dropped, or with ``on_suppressed: "reject"`` the whole message
   is refused. If nobody is left, SES is not called.
4. The rest go to SES in one ``SendEmail`` with the stack's configuration set, the request's
   tags, an ``app`` tag naming the caller and a ``stream`` tag naming the stream (feedback
   reads it back to scope a complaint).

On a bulk stream (any stream the stack does not list as transactional) the check asks
whether the address is suppressed *on that stream* (``AddressState.suppression_on``), and
every recipient gets a message of their own: their unsubscribe link (a token signed with
the stack's key) in place of ``{{unsubscribe_url}}`` in text and html, RFC 8058's
``List-Unsubscribe`` and ``List-Unsubscribe-Post`` headers, and SES's ``ses:feedback-id-a``
/ ``-b`` tags naming stream and app, which SES writes into its own ``Feedback-ID`` header
(Gmail's feedback loop). cc and bcc are refused there: a copy would carry
someone else's link.

With an ``idempotency_key``, SenderFunction's handler wraps ``Sender.send`` in Powertools'
idempotency (the Lambda plumbing lives there); this use case takes plain values.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from html import escape as html_escape
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.metrics import MetricUnit

from ses_feedback.errors import InvalidRequest, StreamsNotConfigured
from ses_feedback.model.answers import SendAnswer, SendStatus, SentMessage, SuppressedRecipient
from ses_feedback.model.message import OutgoingMessage
from ses_feedback.model.moments import utc_now
from ses_feedback.model.reasons import Reason
from ses_feedback.model.streams import STREAM_TAG
from ses_feedback.model.timeline import SENT, SUPPRESSED
from ses_feedback.observability import logger, metrics
from ses_feedback.parsing.addresses import address_hash
from ses_feedback.parsing.send_request import (
    APP_TAG,
    FEEDBACK_ID_TAGS,
    UNSUBSCRIBE_PLACEHOLDER,
    Recipient,
    SendRequest,
)
from ses_feedback.rules.announcements import send_suppressions
from ses_feedback.rules.guard import check
from ses_feedback.settings import Settings

if TYPE_CHECKING:
    from ses_feedback.edges.alarms import AlarmStates
    from ses_feedback.edges.ses import SesGateway
    from ses_feedback.edges.store import SuppressionStore
    from ses_feedback.edges.timeline import TimelineStore
    from ses_feedback.rules.tokens import KeyRing
    from ses_feedback.usecases.events_out import EventPublisher


@dataclass
class Sender:
    store: SuppressionStore
    ses: SesGateway
    settings: Settings
    clock: Callable[[], datetime] = utc_now
    alarms: AlarmStates | None = None  # the reputation alarms, when the sending guard is on
    key_ring: Callable[[], KeyRing] | None = None  # signs unsubscribe links (bulk streams)
    # Events out (docs/events.md): each accepted message's timeline, and message.suppressed.
    timeline: TimelineStore | None = None
    events: EventPublisher | None = None

    def send(self, request: SendRequest, app: str, unsubscribe_base_url: str | None = None) -> SendAnswer:
        """``unsubscribe_base_url``: where this request came in, when settings name no base URL."""
        bulk = self.check(request)
        self._guard(request, app, transactional=not bulk)
        recipients = request.recipients()
        states = self.store.get_states(r.address for r in recipients)
        now = self.clock()
        blocked = {
            r.address: verdict
            for r in recipients
            if (verdict := states[r.address].suppression_on(request.stream, bulk, now)) is not None
        }
        suppressed = [r for r in recipients if r.address in blocked]
        kept = [r for r in recipients if r.address not in blocked]
        answer_suppressed = [
            SuppressedRecipient(address=r.address, reason=blocked[r.address][0], since=blocked[r.address][1])
            for r in suppressed
        ]
        if suppressed:
            metrics.add_metric(name="SuppressedSendsAvoided", unit=MetricUnit.Count, value=len(suppressed))
        if suppressed and request.on_suppressed == "reject":
            self._log("send rejected", app, suppressed=suppressed)
            metrics.add_metric(name="SendRejected", unit=MetricUnit.Count, value=1)
            self._tell(request, app, answer_suppressed, now, None)
            return SendAnswer(status=SendStatus.REJECTED, suppressed=answer_suppressed)
        if not kept:
            self._log("send fully suppressed", app, suppressed=suppressed)
            self._tell(request, app, answer_suppressed, now, None)
            return SendAnswer(status=SendStatus.SUPPRESSED, suppressed=answer_suppressed)

        sent: list[SentMessage] = []
        if bulk:
            sent = self._send_bulk(request, kept, app, unsubscribe_base_url)
            message_id = sent[0].message_id
        else:
            message_id = self.ses.send(_outgoing(request, kept, app))
        metrics.add_metric(name="MessagesSent", unit=MetricUnit.Count, value=len(sent) or 1)
        metrics.add_metric(name="RecipientsSent", unit=MetricUnit.Count, value=len(kept))
        self._log(
            "message sent",
            app,
            message_id=message_id,
            sent=len(kept),
            suppressed=suppressed,
            stream=request.stream,
        )
        # A bulk message went to one recipient; a transactional one to all of them.
        each = [(m.message_id, [r for r in kept if r.address == m.to]) for m in sent] or [(message_id, kept)]
        # An erased address is written nowhere in clear: not on the timeline, not on the bus.
        told = [r for r in suppressed if blocked[r.address][0] is not Reason.ERASED]
        self._record(request, app, now, each, told)
        self._tell(request, app, answer_suppressed, now, message_id)
        return SendAnswer(
            status=SendStatus.PARTIALLY_SUPPRESSED if suppressed else SendStatus.SENT,
            message_id=message_id,
            sent_to=[r.address for r in kept],
            suppressed=answer_suppressed,
            messages=sent,
        )

    def check(self, request: SendRequest) -> bool:
        """What this stack refuses in any request before it looks at recipients; True on a bulk stream.

        Batches ask it once when they are accepted, so a batch that could never be sent is refused.
        """
        if request.sender_domain() != self.settings.sending_domain.lower():
            raise InvalidRequest(
                f"from: must be an address at {self.settings.sending_domain} (this stack's sending domain)",
                "from",
            )
        bulk = self.settings.streams.is_bulk(request.stream)
        if bulk:
            _check_bulk(request)
        return bulk

    def unsubscribe_base(self, fallback_base_url: str | None) -> str:
        """The base of bulk mail's unsubscribe links; refused when bulk streams are not configured."""
        base = (self.settings.unsubscribe_base_url or fallback_base_url or "").rstrip("/")
        if self.key_ring is None or not base:
            raise StreamsNotConfigured(
                "bulk streams need the stack's streams secret and UnsubscribeBaseUrl; send on a "
                "transactional stream or configure them",
                "stream",
            )
        return base

    def _record(
        self,
        request: SendRequest,
        app: str,
        now: datetime,
        messages: list[tuple[str, list[Recipient]]],
        suppressed: list[Recipient],
    ) -> None:
        """Each accepted message's timeline: one BatchWriteItem (a bulk send: one per message).

        The mail is gone by now: a failure to record is logged and counted, never the answer."""
        if self.timeline is None:
            return
        try:
            for position, (message_id, to) in enumerate(messages):
                statuses = {r.address: SENT for r in to}
                if position == 0:  # the dropped recipients are on the first message's timeline
                    statuses.update({r.address: SUPPRESSED for r in suppressed})
                self.timeline.record_send(
                    message_id,
                    app=app,
                    stream=request.stream,
                    tags=dict(request.tags),
                    sent_at=now,
                    idempotency_key=request.idempotency_key,
                    recipients=statuses,
                )
        except Exception:
            logger.exception("message timeline not recorded", extra={"app": app})
            metrics.add_metric(name="TimelineNotRecorded", unit=MetricUnit.Count, value=1)

    def _tell(
        self,
        request: SendRequest,
        app: str,
        suppressed: list[SuppressedRecipient],
        now: datetime,
        message_id: str | None,
    ) -> None:
        """``message.suppressed`` for each recipient the send dropped or refused (one PutEvents
        per 10). The send's answer stands whatever the bus says; a failure is logged and counted."""
        suppressed = [r for r in suppressed if r.reason is not Reason.ERASED]  # never in clear again
        if self.events is None or not suppressed:
            return
        key = message_id or request.idempotency_key or uuid.uuid4().hex
        events = send_suppressions(
            message_key=key,
            app=app,
            stream=request.stream,
            tags=request.tags,
            dropped=[(r.address, r.reason, r.since) for r in suppressed],
            now=now,
            message_id=message_id,
        )
        self.events.announce(events)

    def _send_bulk(
        self, request: SendRequest, kept: list[Recipient], app: str, fallback_base_url: str | None
    ) -> list[SentMessage]:
        """One message per recipient, each with its own unsubscribe link.

        A refusal from SES half-way stops the fan-out and is the answer: the recipients
        before it were sent to (their message ids are in the log), so a retry may repeat
        them; an idempotency key makes the retry safe only once the whole send succeeded.
        """
        base = self.unsubscribe_base(fallback_base_url)
        assert self.key_ring is not None  # unsubscribe_base refuses without it
        ring = self.key_ring()
        feedback_id = dict(zip(FEEDBACK_ID_TAGS, (request.stream, app), strict=True))
        sent: list[SentMessage] = []
        for recipient in kept:
            url = f"{base}/unsubscribe/{ring.issue(recipient.address, request.stream)}"
            message = _outgoing(request, [recipient], app, unsubscribe_url=url)
            message = replace(
                message,
                headers={
                    "List-Unsubscribe": f"<{url}>",
                    "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
                },
                tags={**message.tags, **feedback_id},
            )
            try:
                message_id = self.ses.send(message)
            except Exception:
                logger.warning(
                    "bulk send stopped by a refusal",
                    extra={"sent_message_ids": [m.message_id for m in sent], "stream": request.stream},
                )
                raise
            sent.append(SentMessage(to=recipient.address, message_id=message_id))
        return sent

    def _guard(self, request: SendRequest, app: str, transactional: bool) -> None:
        """Refuse bulk mail while a reputation alarm fires (only with the guard on).

        Transactional mail always goes out: it does not wait for CloudWatch.
        """
        if self.alarms is None or not self.settings.sending_guard or transactional:
            return
        verdict = check(True, self.alarms.current(), transactional)
        if not verdict.allowed:
            logger.info(
                "send refused by the sending guard", extra={"app": app, "firing": list(verdict.firing)}
            )
        verdict.raise_if_refused(request.stream)

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


def _check_bulk(request: SendRequest) -> None:
    """What a bulk message needs beyond any message: one recipient per copy, a visible link."""
    for name in ("cc", "bcc"):
        if getattr(request, name):
            raise InvalidRequest.of(
                name, f"bulk stream '{request.stream}': one message per recipient, give every address in 'to'"
            )
    for name in ("text", "html"):
        body = getattr(request, name)
        if body is not None and UNSUBSCRIBE_PLACEHOLDER not in body:
            raise InvalidRequest.of(
                name,
                f"bulk stream '{request.stream}': must contain {UNSUBSCRIBE_PLACEHOLDER} "
                "(each recipient's unsubscribe link goes there)",
            )


def _outgoing(
    request: SendRequest, kept: list[Recipient], app: str, unsubscribe_url: str | None = None
) -> OutgoingMessage:
    by_field = {name: [r.display for r in kept if r.field == name] for name in ("to", "cc", "bcc")}
    template = request.template
    text, html, data = request.text, request.html, template.data if template else None
    if unsubscribe_url is not None:
        text = text.replace(UNSUBSCRIBE_PLACEHOLDER, unsubscribe_url) if text is not None else None
        html = (
            html.replace(UNSUBSCRIBE_PLACEHOLDER, html_escape(unsubscribe_url)) if html is not None else None
        )
        # An SES template shows it with {{unsubscribe_url}} in its own parts.
        data = {**data, "unsubscribe_url": unsubscribe_url} if data is not None else None
    return OutgoingMessage(
        sender=request.sender.for_ses,
        to=by_field["to"],
        cc=by_field["cc"],
        bcc=by_field["bcc"],
        reply_to=[given.for_ses for given in request.reply_to],
        subject=request.subject,
        text=text,
        html=html,
        template_name=template.name if template else None,
        template_data=json.dumps(data) if data is not None else None,
        tags={**request.tags, APP_TAG: app, STREAM_TAG: request.stream},
    )
