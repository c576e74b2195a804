"""What the webhooks API answers (and the CLI prints)."""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict, Field

# Every app's events, for an operator's webhook.
EVERY_APP = "*"
# The header every delivery carries the webhook's secret in.
SECRET_HEADER = "X-Ses-Feedback-Secret"


@dataclass(frozen=True)
class Webhook:
    """One webhook, as its EventBridge rule records it."""

    id: str
    url: str
    app: str  # whose events; EVERY_APP: every app's
    events: list[str]


class WebhookModel(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str
    url: str
    app: str = Field(description="whose events it receives; '*': every app's")
    events: list[str]

    @classmethod
    def of(cls, webhook: Webhook) -> WebhookModel:
        return cls(id=webhook.id, url=webhook.url, app=webhook.app, events=list(webhook.events))


class NewWebhook(WebhookModel):
    secret: str = Field(
        description="sent in the X-Ses-Feedback-Secret header of every delivery; shown this once"
    )


class WebhookList(BaseModel):
    webhooks: list[WebhookModel]
