"""SenderFunction called in-process, as Lambda calls it, against the template's resources in moto.

moto plays DynamoDB and SES v2 ``SendEmail``; what reached SES is read from moto's SES
backend. moto cannot produce SES's refusals (MessageRejected for content, MAIL FROM not
verified, a paused account, throttling), so those tests put ``botocore.stub.Stubber`` on the
sender's real SES client; the retry test answers SendEmail with HTTP 429 itself.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from botocore.stub import Stubber
from moto.ses.models import ses_backends
from ses_feedback import wiring
from ses_feedback.edges.store import SuppressionStore
from ses_feedback.model.reasons import Reason
from ses_feedback.model.state import Action, AddressState, Decision
from ses_feedback_cli.openapi import DOCUMENT_PATH, api_functions, generate
from ses_feedback_emulator.lambdas import LocalContext, load_handler
from ses_feedback_stack.names import LOCAL_ACCOUNT_ID, region
from ses_feedback_stack.template import REPO_ROOT, load_template

from tests.integration.conftest import Stack
from tests.support.sender_calls import record_sender_calls
from tests.unit.test_send_request import REFUSALS

Handler = Callable[[dict[str, Any], Any], Any]
NOW = datetime.now(UTC)


@dataclass
class ClientContext:
    custom: dict[str, str] = field(default_factory=dict)


@dataclass
class InvokeContext(LocalContext):
    client_context: ClientContext = field(default_factory=ClientContext)


@dataclass
class Sender:
    """The handler, and what SES was asked to do."""

    handler: Handler
    store: SuppressionStore
    send_email_calls: list[dict[str, Any]]
    batch_gets: list[dict[str, Any]]

    def invoke(self, request: dict[str, Any], app: str | None = None) -> dict[str, Any]:
        context = InvokeContext(function_name="SenderFunction")
        if app:
            context.client_context.custom["app"] = app
        answer: dict[str, Any] = self.handler(request, context)
        return answer

    def post(self, request: dict[str, Any] | str, role: str = "billing-app") -> tuple[int, dict[str, Any]]:
        body = request if isinstance(request, str) else json.dumps(request)
        response = self.handler(api_event("POST", "/messages", body, role), LocalContext("SenderFunction"))
        return response["statusCode"], json.loads(response["body"])

    def delivered(self) -> list[list[str]]:
        """The recipients of every message moto's SES accepted, in order."""
        backend = ses_backends[LOCAL_ACCOUNT_ID][region()]
        return [
            [a for addresses in m.destinations.values() for a in addresses] for m in backend.sent_messages
        ]


def api_event(method: str, path: str, body: str | None, role: str = "billing-app") -> dict[str, Any]:
    event = json.loads((REPO_ROOT / "events" / "sender" / "api_post_messages.json").read_text())
    event.update(httpMethod=method, path=path, resource=path, body=body)
    event["requestContext"].update(httpMethod=method, resourcePath=path)
    event["requestContext"]["identity"]["userArn"] = f"arn:aws:sts::123456789012:assumed-role/{role}/session"
    return dict(event)


@pytest.fixture
def sender(stack: Stack, monkeypatch: pytest.MonkeyPatch) -> Iterator[Sender]:
    for name, value in stack.local.function_environment("SenderFunction").items():
        monkeypatch.setenv(name, value)
    handler = load_handler(stack.local, "SenderFunction")
    calls, gets = record_sender_calls()
    yield Sender(handler=handler, store=stack.store, send_email_calls=calls, batch_gets=gets)


def suppress(
    store: SuppressionStore, address: str, reason: Reason, expires_at: datetime | None = None
) -> None:
    since = NOW - timedelta(days=3)
    state = AddressState(address=address, reason=reason, since=since, expires_at=expires_at)
    decision = Decision(
        address=address,
        action=Action.SUPPRESS,
        event_type="Bounce",
        detail="test",
        dedupe_key=f"test-{address}",
        occurred_at=since,
        new_state=state,
        reason=reason,
    )
    store.apply(decision, AddressState(address=address), since, NOW + timedelta(days=1))


def message(**changes: Any) -> dict[str, Any]:
    request: dict[str, Any] = {
        "from": "noreply@example.com",
        "to": ["b@example.org", "c@example.org"],
        "subject": "Hello",
        "text": "Hi",
    }
    request.update(changes)
    return request


# ---- the suppression check -----------------------------------------------------------------


def test_a_suppressed_recipient_is_never_passed_to_ses(sender: Sender) -> None:
    # Given
    suppress(sender.store, "b@example.org", Reason.HARD_BOUNCE)
    # When
    answer = sender.invoke(message(cc=["B@Example.org"], bcc=["Bee <b@example.org>", "d@example.org"]))
    # Then
    assert answer["status"] == "partially_suppressed"
    assert answer["sent_to"] == ["c@example.org", "d@example.org"]
    assert [s["address"] for s in answer["suppressed"]] == ["b@example.org"]
    assert answer["suppressed"][0]["reason"] == "hard_bounce"
    assert sender.delivered() == [["c@example.org", "d@example.org"]]
    assert "b@example.org" not in json.dumps(sender.send_email_calls)


def test_every_reason_is_reported_with_its_date(sender: Sender) -> None:
    # Given
    suppress(sender.store, "b@example.org", Reason.COMPLAINT)
    suppress(sender.store, "c@example.org", Reason.MANUAL)
    # When
    answer = sender.invoke(message(to=["b@example.org", "c@example.org", "d@example.org"]))
    # Then
    reasons = {s["address"]: s["reason"] for s in answer["suppressed"]}
    assert reasons == {"b@example.org": "complaint", "c@example.org": "manual"}
    since = datetime.fromisoformat(answer["suppressed"][0]["since"])
    assert abs(since - (NOW - timedelta(days=3))) < timedelta(seconds=1)


def test_an_expired_suppression_is_not_applied(sender: Sender) -> None:
    # Given: a soft-bounce suppression that expired an hour ago (TTL has not deleted it yet)
    suppress(sender.store, "b@example.org", Reason.SOFT_BOUNCE, expires_at=NOW - timedelta(hours=1))
    suppress(sender.store, "c@example.org", Reason.SOFT_BOUNCE, expires_at=NOW + timedelta(days=2))
    # When
    answer = sender.invoke(message())
    # Then
    assert answer["sent_to"] == ["b@example.org"]
    assert [(s["address"], s["reason"]) for s in answer["suppressed"]] == [("c@example.org", "soft_bounce")]
    assert sender.delivered() == [["b@example.org"]]


def test_reject_mode_refuses_the_whole_message(sender: Sender) -> None:
    # Given
    suppress(sender.store, "b@example.org", Reason.HARD_BOUNCE)
    # When
    answer = sender.invoke(message(on_suppressed="reject"))
    status, body = sender.post(message(on_suppressed="reject"))
    # Then
    assert answer == {
        "status": "rejected",
        "message_id": None,
        "sent_to": [],
        "suppressed": [answer["suppressed"][0]],
        "messages": [],
    }
    assert answer["suppressed"][0]["address"] == "b@example.org"
    assert (status, body) == (409, answer)
    assert sender.delivered() == []


def test_reject_mode_sends_when_nobody_is_suppressed(sender: Sender) -> None:
    answer = sender.invoke(message(on_suppressed="reject"))
    assert answer["status"] == "sent"
    assert sender.delivered() == [["b@example.org", "c@example.org"]]


def test_when_everyone_is_suppressed_ses_is_not_called(sender: Sender) -> None:
    # Given
    suppress(sender.store, "b@example.org", Reason.HARD_BOUNCE)
    suppress(sender.store, "c@example.org", Reason.COMPLAINT)
    # When
    answer = sender.invoke(message())
    # Then
    assert answer["status"] == "suppressed"
    assert answer["message_id"] is None and answer["sent_to"] == []
    assert sender.send_email_calls == []
    assert sender.delivered() == []


def test_fifty_recipients_are_checked_in_exactly_one_batch_get(sender: Sender) -> None:
    # Given
    to = [f"user{i}@example.org" for i in range(50)]
    suppress(sender.store, "user7@example.org", Reason.HARD_BOUNCE)
    # When
    answer = sender.invoke(message(to=to))
    # Then
    assert len(sender.batch_gets) == 1
    (keys,) = [table["Keys"] for table in sender.batch_gets[0]["RequestItems"].values()]
    # Each address's state, and its erasure tombstone's key, in the same request.
    assert len(keys) == 100
    assert sum(k["pk"]["S"].startswith("ADDR#") for k in keys) == 50
    assert len(answer["sent_to"]) == 49


# ---- what SES is given ---------------------------------------------------------------------


def test_ses_gets_the_configuration_set_the_request_tags_and_the_calling_app(
    sender: Sender, stack: Stack
) -> None:
    # When
    sender.invoke(message(tags={"campaign": "spring"}), app="billing")
    sender.post(message(tags={"campaign": "spring"}), role="invoices-service")
    # Then
    configuration_set = stack.local.name("ConfigurationSet")
    assert [c["ConfigurationSetName"] for c in sender.send_email_calls] == [configuration_set] * 2
    assert [c["EmailTags"] for c in sender.send_email_calls] == [
        [
            {"Name": "campaign", "Value": "spring"},
            {"Name": "app", "Value": "billing"},
            {"Name": "stream", "Value": "transactional"},
        ],
        [
            {"Name": "campaign", "Value": "spring"},
            {"Name": "app", "Value": "invoices-service"},
            {"Name": "stream", "Value": "transactional"},
        ],
    ]


def test_a_sender_outside_the_allowed_domain_is_refused(sender: Sender) -> None:
    # When
    answer = sender.invoke(message(**{"from": "ceo@example.net"}))
    status, body = sender.post(message(**{"from": "ceo@sub.example.com"}))
    # Then
    assert answer["error"]["code"] == "invalid_request"
    assert answer["error"]["field"] == "from"
    assert (status, body["error"]["field"]) == (400, "from")
    assert sender.send_email_calls == []


@pytest.mark.parametrize(
    ("request_", "field"), [*REFUSALS, (message(text="x" * (30 * 1024 * 1024 + 10)), "text")]
)
def test_every_limit_and_header_injection_answers_400_naming_the_field(
    sender: Sender, request_: dict[str, Any], field: str
) -> None:
    # When
    status, body = sender.post(request_)
    invoked = sender.invoke(request_)
    # Then
    assert status == 400
    assert body["error"]["code"] == "invalid_request"
    assert body["error"]["field"] == field
    assert invoked == body
    assert sender.send_email_calls == []


def test_a_body_that_is_not_json_answers_400(sender: Sender) -> None:
    status, body = sender.post("{not json")
    assert status == 400
    assert body["error"]["code"] == "invalid_request"


@pytest.mark.parametrize("content_type", ["application/x-www-form-urlencoded", "text/plain"])
def test_a_json_body_sent_as_another_content_type_is_refused_naming_the_header(
    sender: Sender, content_type: str
) -> None:
    # Given: the request as `curl -d '{…}'` sends it without -H 'Content-Type: application/json'
    event = api_event("POST", "/messages", json.dumps(message()))
    event["headers"]["Content-Type"] = content_type
    event["multiValueHeaders"]["Content-Type"] = [content_type]
    # When
    response = sender.handler(event, LocalContext("SenderFunction"))
    # Then: the header is what is wrong, in the API's error shape; the body is not echoed back
    error = json.loads(response["body"])["error"]
    assert response["statusCode"] == 400
    assert (error["code"], error["field"]) == ("invalid_request", "Content-Type")
    assert error["message"] == (
        f"Content-Type: the body must be JSON, sent with Content-Type: application/json (not {content_type})"
    )
    assert "example.org" not in response["body"]
    assert sender.send_email_calls == []


def test_a_query_parameter_is_refused_naming_it_and_nothing_is_sent(sender: Sender) -> None:
    # Given: the stream put in the URL, where the API takes none, instead of the body
    event = api_event("POST", "/messages", json.dumps(message()))
    event["queryStringParameters"] = {"stream": "newsletter"}
    event["multiValueQueryStringParameters"] = {"stream": ["newsletter"]}
    # When
    response = sender.handler(event, LocalContext("SenderFunction"))
    # Then: refused, not sent on the default stream as if the parameter were not there
    error = json.loads(response["body"])["error"]
    assert (response["statusCode"], error["code"], error["field"]) == (400, "invalid_request", "stream")
    assert error["message"] == "stream: not a query parameter of this route (it takes no query parameters)"
    assert sender.send_email_calls == []


# ---- SES's refusals, each to its documented answer ------------------------------------------

SES_ERRORS = [
    ("MessageRejected", 400, 422, "message_rejected"),
    ("MailFromDomainNotVerifiedException", 400, 424, "mail_from_domain_not_verified"),
    ("AccountSuspendedException", 400, 503, "sending_paused"),
    ("SendingPausedException", 400, 503, "sending_paused"),
    ("TooManyRequestsException", 429, 429, "throttled"),
    ("NotFoundException", 404, 502, "ses_error"),
]


@pytest.mark.parametrize(("ses_code", "ses_status", "status", "code"), SES_ERRORS)
def test_each_ses_error_maps_to_its_documented_answer(
    sender: Sender, ses_code: str, ses_status: int, status: int, code: str
) -> None:
    # Given: moto has no way to make SES refuse like this, so a Stubber answers SendEmail
    stubber = Stubber(wiring.sender().ses.client)
    stubber.add_client_error("send_email", service_error_code=ses_code, http_status_code=ses_status)
    stubber.add_client_error("send_email", service_error_code=ses_code, http_status_code=ses_status)
    # When
    with stubber:
        answer = sender.invoke(message())
        http_status, body = sender.post(message())
    # Then
    assert answer["error"]["code"] == code
    assert (http_status, body) == (status, answer)
    stubber.assert_no_pending_responses()


def test_throttling_is_retried_by_botocore_then_answered_429(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given: a real SES v2 client whose every HTTP answer is 429 TooManyRequests (no moto, no network)
    from botocore.awsrequest import AWSResponse
    from ses_feedback.edges.ses import SES_MAX_ATTEMPTS, SesGateway
    from ses_feedback.errors import SendingThrottled
    from ses_feedback.model.message import OutgoingMessage

    sleeps: list[float] = []
    monkeypatch.setattr("botocore.endpoint.time.sleep", sleeps.append)
    gateway = SesGateway("cs")
    attempts: list[int] = []

    class Raw:
        def stream(self, **_: Any) -> Iterator[bytes]:
            yield b""

    def answer(request: Any, **_: Any) -> AWSResponse:
        attempts.append(1)
        if len(attempts) < 3:
            body = json.dumps({"message": "Maximum sending rate exceeded."}).encode()
            headers = {"x-amzn-ErrorType": "TooManyRequestsException"}
            response = AWSResponse(request.url, 429, headers, Raw())
        else:
            body = json.dumps({"MessageId": "m-1"}).encode()
            response = AWSResponse(request.url, 200, {}, Raw())
        response._content = body
        return response

    gateway.client.meta.events.register_first("before-send.sesv2.SendEmail", answer)
    sent = OutgoingMessage(sender="noreply@example.com", to=["a@example.org"], subject="s", text="t")
    # When: two throttles, then success
    message_id = gateway.send(sent)
    # Then
    assert (message_id, len(attempts), len(sleeps)) == ("m-1", 3, 2)

    # And when SES keeps throttling, every attempt is spent, then the answer is SendingThrottled
    attempts.clear()
    gateway.client.meta.events.unregister("before-send.sesv2.SendEmail", answer)

    def always_throttled(request: Any, **_: Any) -> AWSResponse:
        attempts.append(1)
        response = AWSResponse(request.url, 429, {"x-amzn-ErrorType": "TooManyRequestsException"}, Raw())
        response._content = b'{"message": "Maximum sending rate exceeded."}'
        return response

    gateway.client.meta.events.register_first("before-send.sesv2.SendEmail", always_throttled)
    with pytest.raises(SendingThrottled):
        gateway.send(sent)
    assert len(attempts) == SES_MAX_ATTEMPTS


# ---- idempotency -----------------------------------------------------------------------------


def test_a_repeated_idempotency_key_calls_ses_once_and_returns_the_first_answer(sender: Sender) -> None:
    # Given
    request = message(idempotency_key="invoice-42")
    # When
    first = sender.invoke(request, app="billing")
    second = sender.invoke(request, app="billing")
    # Then
    assert first["status"] == "sent"
    assert second == first
    assert len(sender.send_email_calls) == 1
    assert len(sender.delivered()) == 1


def test_the_same_key_from_the_api_door_repeats_the_first_answer_too(sender: Sender) -> None:
    first = sender.post(message(idempotency_key="k-1"))
    second = sender.post(message(idempotency_key="k-1"))
    assert first == second
    assert len(sender.send_email_calls) == 1


def test_the_same_key_for_a_different_request_is_refused(sender: Sender) -> None:
    # Given
    sender.invoke(message(idempotency_key="k-2"), app="billing")
    # When
    answer = sender.invoke(message(idempotency_key="k-2", subject="Something else"), app="billing")
    # Then
    assert answer["error"]["code"] == "idempotency_conflict"
    assert answer["error"]["field"] == "idempotency_key"
    assert len(sender.send_email_calls) == 1


def test_two_apps_never_share_an_idempotency_key(sender: Sender) -> None:
    sender.invoke(message(idempotency_key="same"), app="billing")
    sender.invoke(message(idempotency_key="same"), app="shipping")
    assert len(sender.send_email_calls) == 2


def test_a_refused_send_is_not_remembered_so_a_retry_sends(sender: Sender) -> None:
    # Given: SES throttles the first attempt (after botocore's retries)
    stubber = Stubber(wiring.sender().ses.client)
    stubber.add_client_error(
        "send_email", service_error_code="TooManyRequestsException", http_status_code=429
    )
    with stubber:
        first = sender.invoke(message(idempotency_key="retry-me"))
    # When
    second = sender.invoke(message(idempotency_key="retry-me"))
    # Then
    assert first["error"]["code"] == "throttled"
    assert second["status"] == "sent"
    assert sender.delivered() == [["b@example.org", "c@example.org"]]


# ---- two doors, one answer -------------------------------------------------------------------


@pytest.mark.parametrize(
    "request_",
    [
        message(),
        message(to=["b@example.org", "suppressed@example.org"]),
        message(to=["suppressed@example.org"]),
        message(to=["suppressed@example.org", "c@example.org"], on_suppressed="reject"),
        message(subject="Hi\nBcc: x@example.org"),
        message(**{"from": "someone@example.net"}),
        message(to=[], cc=[]),
    ],
    ids=["sent", "partially_suppressed", "suppressed", "rejected", "injection", "foreign_from", "nobody"],
)
def test_the_api_and_direct_invoke_doors_give_the_same_answer(
    sender: Sender, request_: dict[str, Any]
) -> None:
    # Given
    suppress(sender.store, "suppressed@example.org", Reason.HARD_BOUNCE)
    # When
    invoked = sender.invoke(request_)
    _, posted = sender.post(request_)
    # Then: the same body (SES gives each send its own message id)
    if invoked.get("message_id"):
        assert posted["message_id"] and posted["message_id"] != invoked["message_id"]
        invoked["message_id"] = posted["message_id"] = "<id>"
    assert posted == invoked


# ---- the OpenAPI document ------------------------------------------------------------------


def test_the_committed_openapi_document_is_not_stale() -> None:
    # make openapi (ses-feedback openapi --write) regenerates it
    assert DOCUMENT_PATH.read_text() == generate(), "openapi.json is stale: run `make openapi` and commit it"


def test_get_openapi_json_serves_the_whole_rest_api(sender: Sender) -> None:
    # When
    response = sender.handler(api_event("GET", "/openapi.json", None), LocalContext("SenderFunction"))
    # Then
    assert response["statusCode"] == 200
    document = json.loads(response["body"])
    assert document == json.loads(DOCUMENT_PATH.read_text())
    assert "/messages" in document["paths"] and "post" in document["paths"]["/messages"]
    assert document["security"] == [{"sigv4": []}]


def test_every_route_on_the_rest_api_is_in_the_document() -> None:
    template = load_template()
    document = json.loads(DOCUMENT_PATH.read_text())
    assert api_functions(template) == [
        "SenderFunction",
        "MessagesFunction",
        "WebhooksFunction",
        "SuppressionsApiFunction",
        "UnsubscribeFunction",
        "BatchesApiFunction",
    ]
    for logical_id in api_functions(template):
        for event in template["Resources"][logical_id]["Properties"]["Events"].values():
            path, method = event["Properties"]["Path"], event["Properties"]["Method"].lower()
            if path != "/openapi.json":  # the document itself is not a route of the API's contract
                assert method in document["paths"][path], (path, method)


def test_local_mode_runs_the_handler_with_only_aws_region_set_as_lambda_would(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given: a shell that sets AWS_REGION only (boto3 reads AWS_DEFAULT_REGION, which Lambda also sets)
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    for name, value in stack.local.function_environment("SenderFunction").items():
        monkeypatch.setenv(name, value)
    # When
    handler = load_handler(stack.local, "SenderFunction")
    answer = handler(message(), LocalContext("SenderFunction"))
    # Then
    assert answer["status"] == "sent"


def test_a_templated_message_names_its_ses_template(sender: Sender) -> None:
    # Given: moto's SES v2 cannot send a templated message ("Template functionality not
    # ready"), so SES's answer is stubbed on the function's own client, shaped as SES answers
    with Stubber(wiring.sender().ses.client) as ses:
        ses.add_response("send_email", {"MessageId": "templated-1"})
        # When
        answer = sender.invoke(
            message(subject=None, text=None, template={"name": "welcome", "data": {"name": "B"}})
        )
    # Then: SES is asked for its template by name, with the data as JSON
    assert (answer["status"], answer["message_id"]) == ("sent", "templated-1")
    (call,) = sender.send_email_calls
    assert call["Content"] == {"Template": {"TemplateName": "welcome", "TemplateData": '{"name": "B"}'}}
