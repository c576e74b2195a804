"""Webhooks, self-service per app (docs/events.md): add, list, remove, test.

``app`` is the caller's app (the API's IAM principal); None is an operator (the CLI), who may
add a webhook for any app or for every app (``*``) and sees and removes every webhook. An app
sees and removes only its own; another app's webhook id is ``WebhookNotFound``, as an unknown one.
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from ses_feedback.errors import InvalidRequest, WebhookNotFound
from ses_feedback.model.moments import utc_now
from ses_feedback.model.outbound import WebhookTest
from ses_feedback.model.webhooks import EVERY_APP, NewWebhook, Webhook, WebhookList, WebhookModel
from ses_feedback.observability import logger
from ses_feedback.parsing.webhooks import WebhookRequest, check_events, check_url
from ses_feedback.rules.announcements import event_id

if TYPE_CHECKING:
    from ses_feedback.edges.bus import EventBus
    from ses_feedback.edges.webhooks import WebhookRegistry


@dataclass
class Webhooks:
    registry: WebhookRegistry
    bus: EventBus
    loopback_http: bool = False  # local mode: http:// to a loopback address is accepted too
    clock: Callable[[], datetime] = utc_now

    def add(self, request: WebhookRequest, app: str | None) -> NewWebhook:
        url = check_url(request.url, self.loopback_http)
        events = check_events(request.events)
        owner = request.app or app
        if owner is None:
            raise InvalidRequest.of(
                "app", f"name the app whose events it receives, or '{EVERY_APP}' for every app's"
            )
        if app is not None and owner != app:
            raise InvalidRequest.of("app", "an app adds webhooks for its own events only")
        webhook = Webhook(id=uuid.uuid4().hex[:16], url=url, app=owner, events=events)
        secret = secrets.token_urlsafe(32)
        self.registry.create(webhook, secret)
        logger.info("webhook added", extra={"webhook_id": webhook.id, "app": owner, "events": events})
        return NewWebhook(**WebhookModel.of(webhook).model_dump(), secret=secret)

    def list(self, app: str | None) -> WebhookList:
        return WebhookList(
            webhooks=[WebhookModel.of(w) for w in self.registry.list() if app is None or w.app == app]
        )

    def remove(self, webhook_id: str, app: str | None) -> None:
        self._own(webhook_id, app)
        self.registry.delete(webhook_id)
        logger.info("webhook removed", extra={"webhook_id": webhook_id})

    def test(self, webhook_id: str, app: str | None) -> WebhookTest:
        """Publish a ``webhook.test`` that only this webhook's rule matches."""
        webhook = self._own(webhook_id, app)
        now = self.clock()
        event = WebhookTest(
            id=event_id("webhook.test", webhook_id, now.isoformat()),
            occurred_at=now,
            app=None if webhook.app == EVERY_APP else webhook.app,
            address=None,
            webhook_id=webhook_id,
        )
        self.bus.publish([event])
        return event

    def _own(self, webhook_id: str, app: str | None) -> WebhookModel:
        found = self.registry.get(webhook_id)
        if found is None or (app is not None and found.app != app):
            raise WebhookNotFound(f"no webhook {webhook_id} of yours", "webhook_id")
        return WebhookModel.of(found)
