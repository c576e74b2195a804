"""The local REST API's pure parts: routes from the template, the proxy event, SigV4, the answer."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from ses_feedback_emulator.api import (
    LOCAL_CALLER,
    Caller,
    IncomingRequest,
    Refusal,
    Route,
    SigV4Verifier,
    http_answer,
    match_route,
    proxy_event,
    routes,
)
from ses_feedback_stack.names import LocalStack

SIGNER = Caller(
    user_arn="arn:aws:iam::123456789012:user/billing-app", user_id="AIDABILLING", access_key="AKIDLOCAL"
)
VERIFIER = SigV4Verifier(access_key="AKIDLOCAL", secret_key="s3cret", signer=SIGNER, region="us-east-1")
HOST = "127.0.0.1:3000"
NOW = datetime(2026, 11, 29, 9, 0, 0, tzinfo=UTC)


def request(method: str = "GET", target: str = "/", body: bytes = b"", **headers: str) -> IncomingRequest:
    path, _, query = target.partition("?")
    return IncomingRequest(
        method=method,
        raw_path=path,
        raw_query=query,
        headers=[(k.replace("_", "-"), v) for k, v in headers.items()],
        body=body,
    )


def signed(
    method: str, target: str, body: bytes = b"", secret: str = "s3cret", key: str = "AKIDLOCAL"
) -> IncomingRequest:
    """A request signed by botocore's own signer, as a client would send it (the wire's headers)."""
    aws_request = AWSRequest(
        method=method, url=f"http://{HOST}{target}", data=body, headers={"Content-Type": "application/json"}
    )
    SigV4Auth(Credentials(key, secret, "session-token"), "execute-api", "us-east-1").add_auth(aws_request)
    prepared = aws_request.prepare()
    url = urlsplit(prepared.url)
    return IncomingRequest(
        method=method,
        raw_path=url.path,
        raw_query=url.query,
        headers=[("Host", HOST), *prepared.headers.items()],
        body=body,
    )


def event_for(incoming: IncomingRequest, route: Route, caller: Caller = LOCAL_CALLER) -> dict[str, Any]:
    return proxy_event(
        incoming,
        route=route,
        path_parameters={},
        caller=caller,
        request_id="r",
        now=NOW,
        host=HOST,
        port=3000,
    )


# ---- routes --------------------------------------------------------------------------------


def test_routes_are_the_templates_api_events_with_their_stage() -> None:
    table = {(r.method, r.resource): (r.function, r.stage) for r in routes(LocalStack())}
    assert table[("POST", "/messages")] == ("SenderFunction", "v1")
    assert table[("GET", "/openapi.json")] == ("SenderFunction", "v1")
    assert table[("DELETE", "/suppressions/{address}")] == ("SuppressionsApiFunction", "v1")
    assert table[("GET", "/suppressions/{address}/events")] == ("SuppressionsApiFunction", "v1")


def test_a_literal_segment_wins_over_a_parameter_and_a_method_over_any() -> None:
    table = [
        Route("GET", "/items/{id}", "ById", "v1"),
        Route("GET", "/items/latest", "Latest", "v1"),
        Route("ANY", "/items/latest", "Anything", "v1"),
        Route("GET", "/files/{path+}", "Files", "v1"),
    ]
    assert match_route(table, "GET", "/items/latest")[0].function == "Latest"
    assert match_route(table, "POST", "/items/latest")[0].function == "Anything"
    assert match_route(table, "GET", "/items/42") == (table[0], {"id": "42"})
    assert match_route(table, "GET", "/files/a/b%20c.txt") == (table[3], {"path": "a/b c.txt"})


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/nope"), ("DELETE", "/messages"), ("GET", "/messages/one/two"), ("POST", "/")],
)
def test_an_unknown_route_or_method_is_api_gateways_missing_token(method: str, path: str) -> None:
    with pytest.raises(Refusal) as refused:
        match_route(routes(LocalStack()), method, path)
    assert (refused.value.status, refused.value.message) == (403, "Missing Authentication Token")


# ---- the proxy event --------------------------------------------------------------------------


def test_the_event_carries_multi_value_headers_and_query_and_decoded_path_parameters() -> None:
    # Given: a repeated header and a repeated, encoded query parameter
    incoming = IncomingRequest(
        method="DELETE",
        raw_path="/suppressions/jane%2Bnews@example.com",
        raw_query="note=mailbox%20fixed&force=false&force=true",
        headers=[("Accept", "text/plain"), ("Accept", "application/json"), ("User-Agent", "curl/8")],
        body=b"",
        source_ip="127.0.0.9",
    )
    route, parameters = match_route(routes(LocalStack()), "DELETE", incoming.raw_path)
    # When
    event = proxy_event(
        incoming,
        route=route,
        path_parameters=parameters,
        caller=LOCAL_CALLER,
        request_id="req-1",
        now=NOW,
        host=HOST,
        port=3000,
    )
    # Then
    assert event["resource"] == "/suppressions/{address}"
    assert event["path"] == "/suppressions/jane%2Bnews@example.com"  # as sent, like API Gateway's
    assert event["pathParameters"] == {"address": "jane+news@example.com"}
    assert event["queryStringParameters"] == {"note": "mailbox fixed", "force": "true"}
    assert event["multiValueQueryStringParameters"] == {"note": ["mailbox fixed"], "force": ["false", "true"]}
    assert event["headers"]["Accept"] == "application/json"
    assert event["multiValueHeaders"]["Accept"] == ["text/plain", "application/json"]
    assert event["headers"]["X-Forwarded-For"] == "127.0.0.9"
    assert (event["body"], event["isBase64Encoded"]) == (None, False)
    context = event["requestContext"]
    assert (context["stage"], context["path"], context["resourcePath"], context["requestId"]) == (
        "v1",
        "/v1/suppressions/jane%2Bnews@example.com",
        "/suppressions/{address}",
        "req-1",
    )
    assert context["requestTimeEpoch"] == int(NOW.timestamp() * 1000)
    assert context["identity"]["userArn"] == LOCAL_CALLER.user_arn
    assert context["identity"]["sourceIp"] == "127.0.0.9"
    assert context["identity"]["userAgent"] == "curl/8"


def test_a_request_without_query_or_path_parameters_has_nulls_as_api_gateway_sends_them() -> None:
    route = Route("POST", "/messages", "SenderFunction", "v1")
    event = event_for(
        request("POST", "/messages", b'{"a": 1}', Content_Type="application/json"), route, SIGNER
    )
    assert event["queryStringParameters"] is None
    assert event["multiValueQueryStringParameters"] is None
    assert event["pathParameters"] is None
    assert (event["body"], event["isBase64Encoded"]) == ('{"a": 1}', False)
    assert event["requestContext"]["identity"]["accessKey"] == "AKIDLOCAL"


@pytest.mark.parametrize(
    ("content_type", "body", "binary_types", "expected_base64"),
    [
        ("image/png", b"\x89PNG\r\n", ("image/png",), True),
        ("image/png", b"text anyway", ("image/*",), True),
        ("application/json", b'{"x": 1}', ("image/png",), False),
        ("application/octet-stream", b"\xff\xfe\x00", (), True),  # not UTF-8: passed intact
    ],
)
def test_binary_bodies_are_base64_encoded(
    content_type: str, body: bytes, binary_types: tuple[str, ...], expected_base64: bool
) -> None:
    route = Route("POST", "/upload", "F", "v1", binary_media_types=binary_types)
    event = event_for(request("POST", "/upload", body, Content_Type=content_type), route)
    assert event["isBase64Encoded"] is expected_base64
    decoded = base64.b64decode(event["body"]) if expected_base64 else event["body"].encode()
    assert decoded == body


# ---- SigV4 ----------------------------------------------------------------------------------------


def test_an_unsigned_request_is_the_local_caller() -> None:
    assert VERIFIER.caller(request("GET", "/suppressions"), HOST) is LOCAL_CALLER


def test_a_request_signed_by_botocore_is_served_as_its_signer() -> None:
    incoming = signed("PUT", "/suppressions/jane@example.com?x=1&a=b%20c", b'{"note": "by phone"}')
    assert VERIFIER.caller(incoming, HOST) == SIGNER


def _refusal(incoming: IncomingRequest, now: datetime | None = None) -> tuple[int, str]:
    with pytest.raises(Refusal) as refused:
        VERIFIER.caller(incoming, HOST, now=now)
    return refused.value.status, refused.value.error_type


def test_a_tampered_body_a_wrong_secret_or_an_unknown_key_is_refused_with_403() -> None:
    good = signed("POST", "/messages", b'{"to": ["a@example.org"]}')
    tampered = IncomingRequest(
        good.method, good.raw_path, good.raw_query, good.headers, b'{"to": ["b@example.org"]}'
    )
    assert _refusal(tampered) == (403, "InvalidSignatureException")
    assert _refusal(signed("POST", "/messages", b"{}", secret="guess")) == (403, "InvalidSignatureException")
    assert _refusal(signed("POST", "/messages", b"{}", key="AKIDOTHER")) == (
        403,
        "UnrecognizedClientException",
    )
    garbled = request("GET", "/suppressions", Authorization="AWS4-HMAC-SHA256 nonsense")
    assert _refusal(garbled) == (403, "IncompleteSignatureException")


def test_a_signature_older_than_five_minutes_is_refused() -> None:
    incoming = signed("GET", "/suppressions")
    assert _refusal(incoming, now=datetime.now(UTC) + timedelta(minutes=6)) == (
        403,
        "InvalidSignatureException",
    )


# ---- the answer -----------------------------------------------------------------------------------


def test_the_functions_status_headers_and_body_go_back_unchanged() -> None:
    answer = http_answer(
        {
            "statusCode": 409,
            "headers": {"Content-Type": "application/json", "X-One": "1"},
            "multiValueHeaders": {"Set-Cookie": ["a=1", "b=2"]},
            "body": json.dumps({"status": "rejected"}),
            "isBase64Encoded": False,
        }
    )
    assert answer.status == 409
    assert answer.headers == [
        ("Content-Type", "application/json"),
        ("X-One", "1"),
        ("Set-Cookie", "a=1"),
        ("Set-Cookie", "b=2"),
    ]
    assert answer.body == b'{"status": "rejected"}'
    binary = http_answer(
        {"statusCode": 200, "body": base64.b64encode(b"\x00\x01").decode(), "isBase64Encoded": True}
    )
    assert binary.body == b"\x00\x01"


@pytest.mark.parametrize(
    "result", [None, "text", {"body": "no status"}, {"statusCode": 200, "body": {"a": 1}}]
)
def test_a_malformed_proxy_answer_is_api_gateways_502(result: object) -> None:
    with pytest.raises(Refusal) as refused:
        http_answer(result)
    assert (refused.value.status, refused.value.message) == (502, "Internal server error")


def test_the_request_log_carries_no_address_token_or_query() -> None:
    from ses_feedback_emulator.api import loggable_request

    # Given: request lines as http.server logs them (a token is base64 of its address)
    line = loggable_request('"GET /suppressions/jane%40example.com/events?cursor=abc HTTP/1.1" 200 -')
    token = loggable_request(
        '"POST /unsubscribe/azEKbmV3c2xldHRlcgphZGFAZXhhbXBsZS5vcmc.c2ln HTTP/1.1" 200 -'
    )
    # Then: the routes' words stay, the values do not
    assert line == '"GET /suppressions/…/events HTTP/1.1" 200 -'
    assert token == '"POST /unsubscribe/… HTTP/1.1" 200 -'
