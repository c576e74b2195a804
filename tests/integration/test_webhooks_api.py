"""WebhooksFunction on moto's EventBridge: each webhook a rule, an API destination and a connection."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3
import pytest
from ses_feedback import wiring
from ses_feedback_emulator.lambdas import LocalContext, load_handler
from ses_feedback_stack.template import REPO_ROOT

from tests.integration.conftest import Stack
from tests.support.api_events import rest_event

Call = Callable[..., tuple[int, Any]]


@pytest.fixture
def call(stack: Stack, monkeypatch: pytest.MonkeyPatch) -> Call:
    handler = load_handler(stack.local, "WebhooksFunction")

    def run(method: str, path: str, body: Any = None, app: str = "billing") -> tuple[int, Any]:
        arn = f"arn:aws:sts::123456789012:assumed-role/{app}/session"
        response = handler(
            rest_event(method, path, body=body, user_arn=arn), LocalContext("WebhooksFunction")
        )
        return response["statusCode"], json.loads(response["body"]) if response.get("body") else None

    return run


def test_a_webhook_is_a_rule_of_its_apps_events_with_an_api_destination_and_its_secret(
    stack: Stack, call: Call
) -> None:
    # When
    status, added = call(
        "POST", "/webhooks", {"url": "https://hooks.example.com/ses", "events": ["message.bounced"]}
    )
    # Then
    assert status == 201
    assert (added["url"], added["app"], added["events"]) == (
        "https://hooks.example.com/ses",
        "billing",
        ["message.bounced"],
    )
    assert len(added["secret"]) >= 32
    events = boto3.client("events")
    rule = events.describe_rule(Name=f"webhook-{added['id']}", EventBusName=stack.refs["EventBus"])
    pattern = json.loads(rule["EventPattern"])
    assert pattern["$or"][0] == {"detail-type": ["message.bounced"], "detail": {"app": ["billing"]}}
    (target,) = events.list_targets_by_rule(
        Rule=f"webhook-{added['id']}", EventBusName=stack.refs["EventBus"]
    )["Targets"]
    assert target["InputPath"] == "$.detail"
    destination = events.describe_api_destination(Name=f"ses-feedback-{added['id']}")
    assert (destination["InvocationEndpoint"], destination["HttpMethod"]) == (
        "https://hooks.example.com/ses",
        "POST",
    )
    connection = events.describe_connection(Name=f"ses-feedback-{added['id']}")
    assert connection["AuthParameters"]["ApiKeyAuthParameters"]["ApiKeyName"] == "X-Ses-Feedback-Secret"
    # And the secret is answered once: the listing does not hold it
    assert call("GET", "/webhooks") == (
        200,
        {"webhooks": [{k: v for k, v in added.items() if k != "secret"}]},
    )


def test_an_app_sees_and_removes_only_its_own_webhooks(call: Call) -> None:
    # Given
    _, ours = call("POST", "/webhooks", {"url": "https://hooks.example.com/a"}, app="billing")
    # When
    listed = call("GET", "/webhooks", app="marketing")
    removed = call("DELETE", f"/webhooks/{ours['id']}", app="marketing")
    tested = call("POST", f"/webhooks/{ours['id']}/test", app="marketing")
    # Then
    assert listed == (200, {"webhooks": []})
    assert removed[0] == tested[0] == 404 and removed[1]["error"]["code"] == "webhook_not_found"
    status, test = call("POST", f"/webhooks/{ours['id']}/test", app="billing")
    assert (status, test["type"], test["webhook_id"], test["app"]) == (
        200,
        "webhook.test",
        ours["id"],
        "billing",
    )
    assert call("DELETE", f"/webhooks/{ours['id']}", app="billing") == (204, None)
    assert call("GET", "/webhooks", app="billing") == (200, {"webhooks": []})


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"url": "ftp://hooks.example.com/a"}, "url"),
        ({"url": "https://hooks.example.com/a", "events": ["message.exploded"]}, "events"),
        ({"url": "https://hooks.example.com/a", "events": []}, "events"),
        ({"url": "https://hooks.example.com/a", "app": "marketing"}, "app"),
        ({"url": "https://hooks.example.com/a", "app": "*"}, "app"),
    ],
)
def test_a_bad_webhook_is_refused_naming_its_field(call: Call, body: dict[str, Any], field: str) -> None:
    status, refused = call("POST", "/webhooks", body)
    assert (status, refused["error"]["code"], refused["error"]["field"]) == (400, "invalid_request", field)
    assert call("GET", "/webhooks") == (200, {"webhooks": []})


def test_deployed_only_https_urls_are_taken(stack: Stack, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given: the function with a deployed stack's environment (WEBHOOK_LOOPBACK_HTTP is local mode's)
    handler = load_handler(stack.local, "WebhooksFunction")
    monkeypatch.delenv("WEBHOOK_LOOPBACK_HTTP", raising=False)
    wiring.reset()
    # When
    response = handler(
        rest_event("POST", "/webhooks", body={"url": "http://127.0.0.1:8080/hook"}),
        LocalContext("WebhooksFunction"),
    )
    # Then
    refused = json.loads(response["body"])["error"]
    assert (response["statusCode"], refused["field"], refused["message"]) == (
        400,
        "url",
        "url: must be an https:// URL",
    )


@pytest.mark.parametrize(
    "path", sorted((REPO_ROOT / "events" / "webhooks").glob("*.json")), ids=lambda p: p.name
)
def test_every_webhooks_event_file_gets_an_answer(stack: Stack, path: Path) -> None:
    handler = load_handler(stack.local, "WebhooksFunction")
    response = handler(json.loads(path.read_text()), LocalContext("WebhooksFunction"))
    assert response["statusCode"] in (200, 201), response["body"]
