"""EventBridge as the webhooks' delivery: one rule, API destination and connection per webhook.

EventBridge does the delivery, its retries (with backoff, for up to 24 hours) and the rate
limit; this module only creates, lists and deletes the three resources:

- a **connection** (``API_KEY`` authorisation): every request carries the webhook's secret in
  the ``X-Ses-Feedback-Secret`` header (EventBridge keeps it in Secrets Manager);
- an **API destination**: the URL, ``POST``, at most ``RATE_PER_SECOND`` requests a second;
- a **rule** on the stack's bus, ``webhook-<id>``, whose pattern matches the chosen types of
  the webhook's app only (``*``: every app's), or a ``webhook.test`` naming this webhook; its
  target sends the event's ``detail`` (``InputPath``) through the API destination.

The rule's pattern is the webhook's record: listing reads it back, so no table is needed.
"""

from __future__ import annotations

import json
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from ses_feedback.model.outbound import SOURCE
from ses_feedback.model.webhooks import EVERY_APP, SECRET_HEADER, Webhook

RULE_PREFIX = "webhook-"
# Resources named per webhook, unique in the account and region (names: 64 characters at most).
RESOURCE_PREFIX = "ses-feedback-"
TEST_TYPE = "webhook.test"
RATE_PER_SECOND = 20


def pattern(webhook_id: str, app: str, events: list[str]) -> dict[str, Any]:
    """The rule's event pattern: the webhook's types of its app's events, or its own test."""
    chosen: dict[str, Any] = {"detail-type": list(events)}
    if app != EVERY_APP:
        chosen["detail"] = {"app": [app]}
    test = {"detail-type": [TEST_TYPE], "detail": {"webhook_id": [webhook_id]}}
    return {"source": [SOURCE], "$or": [chosen, test]}


def _read_pattern(text: str) -> tuple[str, list[str]]:
    chosen = json.loads(text)["$or"][0]
    apps = chosen.get("detail", {}).get("app", [EVERY_APP])
    return str(apps[0]), [str(kind) for kind in chosen["detail-type"]]


class WebhookRegistry:
    def __init__(self, bus_name: str, role_arn: str, client: Any = None) -> None:
        self.bus_name = bus_name
        self.role_arn = role_arn
        self.client = client or boto3.client("events", config=Config(retries={"mode": "standard"}))

    def create(self, webhook: Webhook, secret: str) -> None:
        name = RESOURCE_PREFIX + webhook.id
        connection = self.client.create_connection(
            Name=name,
            Description=f"webhook {webhook.id} of {webhook.app}",
            AuthorizationType="API_KEY",
            AuthParameters={"ApiKeyAuthParameters": {"ApiKeyName": SECRET_HEADER, "ApiKeyValue": secret}},
        )
        destination = self.client.create_api_destination(
            Name=name,
            ConnectionArn=connection["ConnectionArn"],
            InvocationEndpoint=webhook.url,
            HttpMethod="POST",
            InvocationRateLimitPerSecond=RATE_PER_SECOND,
        )
        self.client.put_rule(
            Name=RULE_PREFIX + webhook.id,
            EventBusName=self.bus_name,
            EventPattern=json.dumps(pattern(webhook.id, webhook.app, webhook.events)),
            State="ENABLED",
            Description=f"webhook {webhook.id} of {webhook.app}",
        )
        self.client.put_targets(
            Rule=RULE_PREFIX + webhook.id,
            EventBusName=self.bus_name,
            Targets=[
                {
                    "Id": "webhook",
                    "Arn": destination["ApiDestinationArn"],
                    "RoleArn": self.role_arn,
                    "InputPath": "$.detail",
                    # EventBridge's own retries: with backoff, for a day, then the event is dropped.
                    "RetryPolicy": {"MaximumRetryAttempts": 185, "MaximumEventAgeInSeconds": 86400},
                }
            ],
        )

    def list(self) -> list[Webhook]:
        found: list[Webhook] = []
        arguments: dict[str, Any] = {"EventBusName": self.bus_name, "NamePrefix": RULE_PREFIX}
        while True:
            response = self.client.list_rules(**arguments)
            for rule in response.get("Rules", []):
                webhook_id = rule["Name"].removeprefix(RULE_PREFIX)
                app, events = _read_pattern(rule["EventPattern"])
                url = self.client.describe_api_destination(Name=RESOURCE_PREFIX + webhook_id)[
                    "InvocationEndpoint"
                ]
                found.append(Webhook(id=webhook_id, url=url, app=app, events=events))
            if not response.get("NextToken"):
                return found
            arguments["NextToken"] = response["NextToken"]

    def get(self, webhook_id: str) -> Webhook | None:
        return next((w for w in self.list() if w.id == webhook_id), None)

    def delete(self, webhook_id: str) -> None:
        """Rule, then destination, then connection; each already gone is fine (a retried delete)."""
        name = RESOURCE_PREFIX + webhook_id
        rule = {"Name": RULE_PREFIX + webhook_id, "EventBusName": self.bus_name}
        steps: list[tuple[str, dict[str, Any]]] = [
            ("remove_targets", {"Rule": rule["Name"], "EventBusName": self.bus_name, "Ids": ["webhook"]}),
            ("delete_rule", rule),
            ("delete_api_destination", {"Name": name}),
            ("delete_connection", {"Name": name}),
        ]
        for operation, arguments in steps:
            try:
                getattr(self.client, operation)(**arguments)
            except ClientError as exc:
                if exc.response["Error"]["Code"] != "ResourceNotFoundException":
                    raise
