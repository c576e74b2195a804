"""Streams end to end in-process: bulk sends, one-click unsubscribe, scoped feedback, erasure, old tables.

Every handler runs as Lambda runs it (``load_handler`` with the template's environment) on
the template's own resources in moto (DynamoDB, SES v2, Secrets Manager). What SES was
asked to send is read from the SendEmail parameters the sender's real client built
(moto's SES keeps no custom headers).
"""

from __future__ import annotations

import json
import urllib.parse
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from ses_feedback import wiring
from ses_feedback_emulator.lambdas import LocalContext, load_handler
from ses_feedback_stack.names import region
from ses_feedback_stack.template import REPO_ROOT

from tests.integration.conftest import Stack
from tests.support import ses_events
from tests.support.legacy_items import put_pre_streams_state
from tests.support.sender_calls import record_sender_calls

Handler = Callable[[dict[str, Any], Any], Any]
BASE_URL = "https://abc123.execute-api.us-east-1.amazonaws.com/v1"
TEXT = "News of the month. Unsubscribe: {{unsubscribe_url}}"
HTML = '<p>News of the month.</p><a href="{{unsubscribe_url}}">Unsubscribe</a>'


@dataclass
class Streams:
    stack: Stack
    sender: Handler
    unsubscribe: Handler
    feedback: Handler
    api: Handler
    send_email_calls: list[dict[str, Any]]
    batch_gets: list[dict[str, Any]]

    def send(self, **changes: Any) -> dict[str, Any]:
        request: dict[str, Any] = {"from": "news@example.com", "to": ["jane@example.org"], "subject": "News"}
        request.update(changes)
        answer: dict[str, Any] = self.sender(request, LocalContext("SenderFunction"))
        return answer

    def send_bulk(self, **changes: Any) -> dict[str, Any]:
        return self.send(**{"stream": "newsletter", "text": TEXT, "html": HTML, **changes})

    def call_unsubscribe(
        self, method: str, token: str, body: str | None = None, content_type: str | None = None
    ) -> tuple[int, dict[str, str], str]:
        name = "get_page.json" if method == "GET" else "post_one_click.json"
        event = json.loads((REPO_ROOT / "events" / "unsubscribe" / name).read_text())
        event["path"] = f"/unsubscribe/{token}"
        event["pathParameters"] = {"token": urllib.parse.unquote(token)}
        event["body"] = body
        if content_type is not None:
            event["headers"]["Content-Type"] = content_type
            event["multiValueHeaders"]["Content-Type"] = [content_type]
        response = self.unsubscribe(event, LocalContext("UnsubscribeFunction"))
        headers = {**(response.get("headers") or {})}
        headers.update({k: v[0] for k, v in (response.get("multiValueHeaders") or {}).items()})
        return response["statusCode"], headers, response["body"]

    def items(self) -> list[dict[str, Any]]:
        """Every item of every table of the stack, as DynamoDB returns them."""
        dynamodb = boto3.client("dynamodb", region_name=region())
        found: list[dict[str, Any]] = []
        for table in dynamodb.list_tables()["TableNames"]:
            found += dynamodb.scan(TableName=table)["Items"]
        return found


def token_of(call: dict[str, Any]) -> str:
    headers = {h["Name"]: h["Value"] for h in call["Content"]["Simple"]["Headers"]}
    url = headers["List-Unsubscribe"].strip("<>")
    assert url.startswith(f"{BASE_URL}/unsubscribe/")
    return url.rsplit("/", 1)[1]


@pytest.fixture
def streams(stack: Stack, monkeypatch: pytest.MonkeyPatch) -> Iterator[Streams]:
    stack.local.parameters["UnsubscribeBaseUrl"] = BASE_URL
    functions = ("UnsubscribeFunction", "FeedbackFunction", "SuppressionsApiFunction", "SenderFunction")
    for function in functions:
        for name, value in stack.local.function_environment(function).items():
            monkeypatch.setenv(name, value)  # restored after the test
    handlers = {name: load_handler(stack.local, name) for name in functions}
    calls, gets = record_sender_calls()
    yield Streams(
        stack,
        handlers["SenderFunction"],
        handlers["UnsubscribeFunction"],
        handlers["FeedbackFunction"],
        handlers["SuppressionsApiFunction"],
        calls,
        gets,
    )


# ---- sending on a bulk stream ------------------------------------------------------------------


def test_a_bulk_send_is_one_message_per_recipient_each_with_its_own_link(streams: Streams) -> None:
    # When
    answer = streams.send_bulk(to=["jane@example.org", "John <john@example.org>"])
    # Then: two SendEmail calls, one recipient each
    assert answer["status"] == "sent"
    assert [m["to"] for m in answer["messages"]] == ["jane@example.org", "john@example.org"]
    assert [c["Destination"] for c in streams.send_email_calls] == [
        {"ToAddresses": ["jane@example.org"]},
        {"ToAddresses": ["John <john@example.org>"]},
    ]
    tokens = [token_of(c) for c in streams.send_email_calls]
    assert tokens[0] != tokens[1]
    for call, token in zip(streams.send_email_calls, tokens, strict=True):
        simple = call["Content"]["Simple"]
        headers = {h["Name"]: h["Value"] for h in simple["Headers"]}
        url = f"{BASE_URL}/unsubscribe/{token}"
        assert headers["List-Unsubscribe"] == f"<{url}>"
        assert headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        # No Feedback-ID of our own: SES writes its own from these two tags (stream, app)
        assert "Feedback-ID" not in headers
        assert {"Name": "ses:feedback-id-a", "Value": "newsletter"} in call["EmailTags"]
        assert {"Name": "ses:feedback-id-b", "Value": "direct-invoke"} in call["EmailTags"]
        # The visible link, in both bodies
        assert simple["Body"]["Text"]["Data"] == f"News of the month. Unsubscribe: {url}"
        assert f'href="{url}"' in simple["Body"]["Html"]["Data"]
        assert {"Name": "stream", "Value": "newsletter"} in call["EmailTags"]
    # And the check was still one BatchGetItem
    assert len(streams.batch_gets) == 1


def test_transactional_mail_carries_no_unsubscribe_headers(streams: Streams) -> None:
    streams.send(text="Your code is 123456", to=["jane@example.org", "john@example.org"])
    (call,) = streams.send_email_calls
    assert "Headers" not in call["Content"]["Simple"]
    assert {"Name": "stream", "Value": "transactional"} in call["EmailTags"]


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"cc": ["copy@example.org"]}, "cc"),
        ({"bcc": ["copy@example.org"]}, "bcc"),
        ({"text": "no link here"}, "text"),
        ({"html": "<p>no link here</p>"}, "html"),
    ],
)
def test_a_bulk_message_without_its_link_or_with_copies_is_refused(
    streams: Streams, changes: dict[str, Any], field: str
) -> None:
    request = {"stream": "newsletter", "text": TEXT, "html": HTML, **changes}
    answer = streams.send(**request)
    assert answer["error"]["code"] == "invalid_request"
    assert answer["error"]["field"] == field
    assert streams.send_email_calls == []


@pytest.mark.parametrize("stream", ["News", "a" * 33, "news_letter", ""])
def test_a_stream_name_must_be_lower_case_letters_digits_or_dashes(streams: Streams, stream: str) -> None:
    answer = streams.send(stream=stream, text="x")
    assert (answer["error"]["code"], answer["error"]["field"]) == ("invalid_request", "stream")


# ---- one-click unsubscribe -------------------------------------------------------------------------


def test_one_click_unsubscribe_stops_that_stream_only(streams: Streams) -> None:
    # Given a newsletter that reached jane
    streams.send_bulk()
    token = token_of(streams.send_email_calls[0])
    # When her mail client POSTs RFC 8058's body
    status, headers, body = streams.call_unsubscribe(
        "POST", token, "List-Unsubscribe=One-Click", "application/x-www-form-urlencoded"
    )
    # Then 200, no redirect, and the next newsletter is suppressed
    assert status == 200 and "Location" not in headers
    assert "You are unsubscribed" in body
    assert streams.send_bulk()["suppressed"][0]["reason"] == "unsubscribed"
    # but transactional mail and other bulk streams still go
    assert streams.send(text="Your code is 123456")["status"] == "sent"
    assert streams.send(stream="promo", text=TEXT)["status"] == "sent"
    # And the history says so, with the stream
    status, answer = call_api(streams, "GET", "/suppressions/jane@example.org")
    assert answer["scoped"][0]["scope"] == "newsletter"
    assert answer["scoped"][0]["reason"] == "unsubscribed"
    (entry,) = answer["history"]
    assert entry["event_type"] == "Unsubscribe" and "newsletter" in entry["detail"]


def test_one_click_is_idempotent(streams: Streams) -> None:
    streams.send_bulk()
    token = token_of(streams.send_email_calls[0])
    first = streams.call_unsubscribe(
        "POST", token, "List-Unsubscribe=One-Click", "application/x-www-form-urlencoded"
    )
    items = streams.items()
    second = streams.call_unsubscribe(
        "POST", token, "List-Unsubscribe=One-Click", "application/x-www-form-urlencoded"
    )
    assert first[0] == second[0] == 200
    assert streams.items() == items  # nothing written the second time


def test_multipart_one_click_is_accepted(streams: Streams) -> None:
    streams.send_bulk()
    token = token_of(streams.send_email_calls[0])
    body = '--XyZ\r\nContent-Disposition: form-data; name="List-Unsubscribe"\r\n\r\nOne-Click\r\n--XyZ--\r\n'
    status, _, _ = streams.call_unsubscribe("POST", token, body, "multipart/form-data; boundary=XyZ")
    assert status == 200
    assert streams.send_bulk()["status"] == "suppressed"


def test_the_page_never_unsubscribes(streams: Streams) -> None:
    streams.send_bulk()
    token = token_of(streams.send_email_calls[0])
    items = streams.items()
    # When a link scanner fetches the URL
    status, headers, body = streams.call_unsubscribe("GET", token)
    # Then it gets the preference page, whose forms POST, and nothing changed
    assert status == 200 and headers["Content-Type"].startswith("text/html")
    assert '<form method="post">' in body and 'name="stream" value="newsletter"' in body
    assert "newsletter" in body and "j***@example.org" in body and "jane@" not in body
    assert headers["Referrer-Policy"] == "no-referrer"
    assert streams.items() == items


@pytest.mark.parametrize("damage", ["forged", "truncated", "unknown-key", "garbage"])
def test_a_bad_token_is_refused_and_changes_nothing(streams: Streams, damage: str) -> None:
    streams.send_bulk()
    token = token_of(streams.send_email_calls[0])
    key_id, stream, sealed = token.split(".")
    bad = {
        "forged": f"{key_id}.{stream}.{'A' * len(sealed)}",
        "truncated": token[:-5],
        "unknown-key": f"k9.{stream}.{sealed}",
        "garbage": "not-a-token",
    }[damage]
    items = streams.items()
    for method in ("POST", "GET"):
        status, _, body = streams.call_unsubscribe(
            method, bad, "List-Unsubscribe=One-Click", "application/x-www-form-urlencoded"
        )
        assert status == 400 and "Nothing was changed" in body
    assert streams.items() == items


def test_a_post_without_the_one_click_body_is_refused(streams: Streams) -> None:
    streams.send_bulk()
    token = token_of(streams.send_email_calls[0])
    status, _, _ = streams.call_unsubscribe(
        "POST", token, "unsubscribe=yes", "application/x-www-form-urlencoded"
    )
    assert status == 400
    assert streams.send_bulk()["status"] == "sent"


# ---- feedback scoped by the stream tag ----------------------------------------------------------


def feed(streams: Streams, message: dict[str, Any]) -> None:
    response = streams.feedback(ses_events.sqs_event(message), LocalContext("FeedbackFunction"))
    assert response == {"batchItemFailures": []}


def tagged(message: dict[str, Any], stream: str) -> dict[str, Any]:
    message["mail"]["tags"]["stream"] = [stream]
    return message


def test_a_complaint_about_a_newsletter_blocks_bulk_mail_not_password_resets(streams: Streams) -> None:
    feed(streams, tagged(ses_events.complaint(["jane@example.org"]), "newsletter"))
    assert streams.send_bulk()["suppressed"][0]["reason"] == "complaint"
    assert streams.send_bulk(stream="promo")["status"] == "suppressed"
    assert streams.send(text="Reset your password")["status"] == "sent"


def test_a_complaint_about_transactional_mail_blocks_everything(streams: Streams) -> None:
    feed(streams, tagged(ses_events.complaint(["jane@example.org"]), "transactional"))
    assert streams.send(text="Reset your password")["status"] == "suppressed"
    assert streams.send_bulk()["status"] == "suppressed"


def test_a_hard_bounce_on_a_newsletter_blocks_everything(streams: Streams) -> None:
    feed(streams, tagged(ses_events.bounce(["jane@example.org"], "Permanent", "General"), "newsletter"))
    assert streams.send(text="Reset your password")["suppressed"][0]["reason"] == "hard_bounce"


# ---- a table written before streams existed -----------------------------------------------------


def test_a_table_written_by_the_previous_release_answers_right_on_every_stream(streams: Streams) -> None:
    # Given the state item exactly as the release before streams wrote it
    put_pre_streams_state(streams.stack.refs["SuppressionTable"], "jane@example.org", "complaint")
    # Then that complaint applies on every stream
    for answer in (streams.send(text="Reset"), streams.send_bulk(), streams.send_bulk(stream="promo")):
        assert answer["status"] == "suppressed"
        assert answer["suppressed"][0]["reason"] == "complaint"
        assert answer["suppressed"][0]["since"] == "2026-10-01T09:00:00Z"
    status, answer = call_api(streams, "GET", "/suppressions/jane@example.org", {"stream": "newsletter"})
    assert (status, answer["suppressed"], answer["reason"]) == (200, True, "complaint")


# ---- operators: per stream, and erasure -----------------------------------------------------------


def call_api(
    streams: Streams, method: str, path: str, query: dict[str, str] | None = None, body: Any = None
) -> tuple[int, dict[str, Any]]:
    from tests.support.api_events import rest_event

    response = streams.api(rest_event(method, path, query, body), LocalContext("SuppressionsApiFunction"))
    return response["statusCode"], json.loads(response["body"])


def test_get_with_a_stream_answers_for_that_stream(streams: Streams) -> None:
    streams.send_bulk()
    token = token_of(streams.send_email_calls[0])
    streams.call_unsubscribe("POST", token, "List-Unsubscribe=One-Click", "application/x-www-form-urlencoded")
    _, newsletter = call_api(streams, "GET", "/suppressions/jane@example.org", {"stream": "newsletter"})
    _, transactional = call_api(streams, "GET", "/suppressions/jane@example.org", {"stream": "transactional"})
    assert newsletter["suppressed"] is True and newsletter["reason"] == "unsubscribed"
    assert newsletter["since"] is not None
    assert transactional == {
        "address": "jane@example.org",
        "stream": "transactional",
        "suppressed": False,
        "reason": None,
        "since": None,
    }
    status, refused = call_api(streams, "GET", "/suppressions/jane@example.org", {"stream": "News!"})
    assert status == 400 and refused["error"]["field"] == "stream"


def test_erasure_leaves_the_address_nowhere_in_clear_and_suppressed_everywhere(streams: Streams) -> None:
    # Given an address with state, history and a stream entry
    streams.send_bulk()
    token = token_of(streams.send_email_calls[0])
    streams.call_unsubscribe("POST", token, "List-Unsubscribe=One-Click", "application/x-www-form-urlencoded")
    feed(streams, ses_events.delivery(["jane@example.org"]))
    feed(streams, tagged(ses_events.bounce(["jane@example.org"], "Transient", "General"), "newsletter"))
    assert any("jane@example.org" in json.dumps(item) for item in streams.items())
    # When an operator erases it
    status, answer = call_api(
        streams, "POST", "/suppressions/jane@example.org/erasure", body={"note": "ticket GDPR-118"}
    )
    # Then
    assert status == 200 and answer["erased"] is True and answer["deleted_items"] >= 3
    assert not any("jane@example.org" in json.dumps(item) for item in streams.items())
    for sent in (streams.send(text="Reset"), streams.send_bulk(), streams.send_bulk(stream="promo")):
        assert sent["status"] == "suppressed" and sent["suppressed"][0]["reason"] == "erased"
    # And later feedback, manual changes and a second erasure write nothing in clear
    feed(streams, ses_events.bounce(["jane@example.org"], "Permanent", "General"))
    call_api(streams, "PUT", "/suppressions/jane@example.org", body={"note": "again"})
    status, again = call_api(
        streams, "POST", "/suppressions/jane@example.org/erasure", body={"note": "twice"}
    )
    assert (status, again["deleted_items"], again["since"]) == (200, 0, answer["since"])
    assert not any("jane@example.org" in json.dumps(item) for item in streams.items())
    _, detail = call_api(streams, "GET", "/suppressions/jane@example.org")
    assert detail["suppression"]["reason"] == "erased" and detail["history"] == []
    # The audit entries are kept beside the tombstone, without the address
    audits = [i for i in streams.items() if i.get("event_type", {}).get("S") == "Erasure"]
    assert [a["note"]["S"] for a in sorted(audits, key=lambda a: a["sk"]["S"])] == [
        "ticket GDPR-118",
        "twice",
    ]
    assert all(a["pk"]["S"].startswith("ERASED#") for a in audits)


@pytest.mark.parametrize(
    "note", ["GDPR request from jane@example.org", "asked by her colleague, bob@example.com, ticket 7"]
)
def test_an_erasure_note_holding_an_address_is_refused_and_nothing_is_erased(
    streams: Streams, note: str
) -> None:
    # Given an address the table knows
    call_api(streams, "PUT", "/suppressions/jane@example.org", body={"note": "by phone"})
    # When the erasure's note names an address (its audit entry outlives the erased address)
    status, refused = call_api(streams, "POST", "/suppressions/jane@example.org/erasure", body={"note": note})
    # Then it is refused, naming the note, and the address is as it was
    assert status == 400
    assert refused["error"]["field"] == "note"
    assert "@" not in refused["error"]["message"]
    _, detail = call_api(streams, "GET", "/suppressions/jane@example.org")
    assert detail["suppression"]["reason"] == "manual"
    assert not [i for i in streams.items() if i.get("event_type", {}).get("S") == "Erasure"]


def unsubscribe(streams: Streams, stream: str = "newsletter") -> None:
    streams.send_bulk(stream=stream)
    token = token_of(streams.send_email_calls[-1])
    status, _, _ = streams.call_unsubscribe(
        "POST", token, "List-Unsubscribe=One-Click", "application/x-www-form-urlencoded"
    )
    assert status == 200


def test_an_operator_lifts_an_unsubscribe_only_by_naming_its_stream(streams: Streams) -> None:
    # Given jane unsubscribed from the newsletter
    unsubscribe(streams)
    assert streams.send_bulk()["status"] == "suppressed"
    # When an operator lifts without a stream, or names another stream: nothing to lift there
    status, refused = call_api(streams, "DELETE", "/suppressions/jane@example.org", {"note": "re-joined"})
    assert (status, refused["error"]["code"]) == (404, "not_suppressed")
    assert "unsubscribed from newsletter" in refused["error"]["message"]
    status, refused = call_api(
        streams, "DELETE", "/suppressions/jane@example.org", {"note": "re-joined", "stream": "promo"}
    )
    assert (status, refused["error"]["code"]) == (404, "not_suppressed")
    # When the stream is named (she subscribed again)
    status, lifted = call_api(
        streams, "DELETE", "/suppressions/jane@example.org", {"note": "form 12", "stream": "newsletter"}
    )
    # Then the newsletter reaches her again, and the history says who and why
    assert status == 200 and lifted["changed"] is True
    assert streams.send_bulk()["status"] == "sent"
    _, events = call_api(streams, "GET", "/suppressions/jane@example.org/events")
    newest = events["items"][0]
    assert (newest["action"], newest["reason"], newest["note"]) == ("lift", "unsubscribed", "form 12")
    assert newest["detail"] == "lifted unsubscribed; stream newsletter"


def test_a_lift_without_a_stream_lifts_a_bulk_complaint_and_keeps_the_unsubscribes(streams: Streams) -> None:
    # Given an unsubscribe from promo, then a complaint about the newsletter
    unsubscribe(streams, "promo")
    feed(streams, tagged(ses_events.complaint(["jane@example.org"]), "newsletter"))
    assert streams.send_bulk()["status"] == "suppressed"
    # When an operator lifts: a complaint needs force
    status, refused = call_api(streams, "DELETE", "/suppressions/jane@example.org", {"note": "ticket 9"})
    assert (status, refused["error"]["code"]) == (409, "complaint_needs_force")
    status, _ = call_api(
        streams, "DELETE", "/suppressions/jane@example.org", {"note": "ticket 9", "force": "true"}
    )
    # Then bulk mail goes again, except on the stream she left
    assert status == 200
    assert streams.send_bulk()["status"] == "sent"
    promo = streams.send_bulk(stream="promo")
    assert promo["status"] == "suppressed" and promo["suppressed"][0]["reason"] == "unsubscribed"


def test_lifting_an_erasure_needs_the_address_and_force(streams: Streams) -> None:
    # Given an erased address
    unsubscribe(streams)
    call_api(streams, "POST", "/suppressions/jane@example.org/erasure", body={"note": "GDPR-118"})
    # When an operator lifts it without force, or names a stream
    status, refused = call_api(streams, "DELETE", "/suppressions/jane@example.org", {"note": "joined again"})
    assert (status, refused["error"]["code"]) == (409, "erasure_needs_force")
    status, refused = call_api(
        streams,
        "DELETE",
        "/suppressions/jane@example.org",
        {"note": "joined again", "force": "true", "stream": "newsletter"},
    )
    assert (status, refused["error"]["field"]) == (400, "stream")
    assert streams.send_bulk()["suppressed"][0]["reason"] == "erased"
    # When with force
    status, lifted = call_api(
        streams, "DELETE", "/suppressions/jane@example.org", {"note": "joined again, #131", "force": "true"}
    )
    # Then the tombstone is gone, and the address is clean on every stream (its data went with the erasure)
    assert status == 200 and lifted["changed"] is True and lifted["suppression"]["reason"] is None
    assert not any(i["pk"]["S"].startswith("ERASED#") and i["sk"]["S"] == "STATE" for i in streams.items())
    assert streams.send_bulk()["status"] == "sent" and streams.send(text="Reset")["status"] == "sent"
    # And both audit entries stay beside where the tombstone was, without the address
    audits = sorted(
        (i for i in streams.items() if i.get("event_type", {}).get("S") == "Erasure"),
        key=lambda i: i["sk"]["S"],
    )
    assert [(a["action"]["S"], a["note"]["S"]) for a in audits] == [
        ("suppress", "GDPR-118"),
        ("lift", "joined again, #131"),
    ]
    assert not any("jane@example.org" in json.dumps(a) for a in audits)
    # And a second lift finds nothing to lift
    status, refused = call_api(
        streams, "DELETE", "/suppressions/jane@example.org", {"note": "again", "force": "true"}
    )
    assert (status, refused["error"]["code"]) == (404, "not_suppressed")


def test_the_events_folder_unsubscribe_files_are_refused_without_a_real_token(streams: Streams) -> None:
    # The files sam local invoke uses carry a token no stack signed: the refusal page.
    for name in ("get_page.json", "post_one_click.json"):
        event = json.loads((REPO_ROOT / "events" / "unsubscribe" / name).read_text())
        response = streams.unsubscribe(event, LocalContext("UnsubscribeFunction"))
        assert response["statusCode"] == 400


def test_the_cli_answers_per_stream_and_erases(
    streams: Streams, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from ses_feedback_cli.main import main

    monkeypatch.delenv("POWERTOOLS_LOG_LEVEL")  # the functions' INFO logs would share stdout with the JSON

    def run(*args: str) -> tuple[int, Any]:
        capsys.readouterr()  # drop what the handlers printed before (logs, EMF metrics)
        code = main(["suppressions", *args])
        out, err = capsys.readouterr()
        # Under --json an error is the answer too (one rule for every command).
        assert code == 0 or err == "", err
        return code, json.loads(out)

    # Given jane unsubscribed from the newsletter
    streams.send_bulk()
    token = token_of(streams.send_email_calls[0])
    streams.call_unsubscribe("POST", token, "List-Unsubscribe=One-Click", "application/x-www-form-urlencoded")
    # Then `get --stream` answers for each stream
    code, newsletter = run("get", "jane@example.org", "--stream", "newsletter", "--json")
    assert (code, newsletter["suppressed"], newsletter["reason"]) == (0, True, "unsubscribed")
    code, transactional = run("get", "jane@example.org", "--stream", "transactional", "--json")
    assert (code, transactional["suppressed"], transactional["reason"]) == (0, False, None)
    code, message = run("get", "jane@example.org", "--stream", "Bad Name", "--json")
    assert (
        code == 2
        and message["error"]["code"] == "invalid_request"
        and "stream" in message["error"]["message"]
    )
    # When an operator lifts the unsubscribe (she joined again), naming the stream
    code, lifted = run("remove", "jane@example.org", "--stream", "newsletter", "--note", "form 12", "--json")
    assert (code, lifted["changed"]) == (0, True)
    code, newsletter = run("get", "jane@example.org", "--stream", "newsletter", "--json")
    assert (newsletter["suppressed"], newsletter["reason"]) == (False, None)
    # When an operator erases her
    code, erased = run("erase", "jane@example.org", "--note", "GDPR-7", "--actor", "ops", "--json")
    assert code == 0 and erased["erased"] is True and erased["deleted_items"] >= 2
    code, after = run("get", "jane@example.org", "--stream", "transactional", "--json")
    assert (after["suppressed"], after["reason"]) == (True, "erased")
    assert not any("jane@example.org" in json.dumps(item) for item in streams.items())
    with pytest.raises(SystemExit) as refused:
        run("erase", "jane@example.org", "--json")
    assert refused.value.code == 2  # argparse: --note is required
    # And lifting the erasure needs --force (exit 1 without), then mail may go again
    code, message = run("remove", "jane@example.org", "--note", "joined again", "--json")
    assert code == 1 and message["error"]["code"] == "erasure_needs_force"
    code, lifted = run("remove", "jane@example.org", "--note", "joined again", "--force", "--json")
    assert (code, lifted["changed"], lifted["reason"]) == (0, True, None)
    code, after = run("get", "jane@example.org", "--stream", "newsletter", "--json")
    assert after["suppressed"] is False


def test_an_import_reads_unsubscribes_per_stream(
    streams: Streams, capsys: pytest.CaptureFixture[str], tmp_path: Any
) -> None:
    from ses_feedback_cli.main import main

    # Given another provider's export: jane left two lists, john one, ann every list
    export = tmp_path / "unsubscribes.csv"
    export.write_text(
        "email,type,stream\n"
        "jane@example.org,unsubscribed,newsletter\n"
        "jane@example.org,unsubscribed,promo\n"
        "john@example.org,opt_out,promo\n"
        "ann@example.org,global_unsubscribe,\n"
    )
    # When
    capsys.readouterr()
    assert main(["suppressions", "import", str(export), "--actor", "ops", "--no-progress", "--json"]) == 0
    capsys.readouterr()
    # Then
    jane = streams.send_bulk(to=["jane@example.org", "john@example.org", "ann@example.org"])
    assert {s["address"]: s["reason"] for s in jane["suppressed"]} == {
        "jane@example.org": "unsubscribed",
        "ann@example.org": "manual",
    }
    promo = streams.send_bulk(stream="promo", to=["jane@example.org", "john@example.org"])
    assert promo["status"] == "suppressed"
    assert streams.send(to=["jane@example.org", "john@example.org"], text="Receipt")["status"] == "sent"
    # And running it again changes nothing
    items = streams.items()
    assert main(["suppressions", "import", str(export), "--actor", "ops", "--no-progress", "--json"]) == 0
    assert streams.items() == items


def test_without_a_base_url_the_api_door_links_to_itself_and_a_direct_invoke_is_refused(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.integration.test_sender_function import api_event

    # Given a deployment whose UnsubscribeBaseUrl is empty
    stack.local.parameters["UnsubscribeBaseUrl"] = ""
    for name, value in stack.local.function_environment("SenderFunction").items():
        monkeypatch.setenv(name, value)
    handler = load_handler(stack.local, "SenderFunction")
    calls: list[dict[str, Any]] = []
    wiring.sender().ses.client.meta.events.register(
        "before-parameter-build.sesv2.SendEmail", lambda params, **_: calls.append(params)
    )
    request = {
        "from": "news@example.com",
        "to": ["jane@example.org"],
        "subject": "News",
        "stream": "newsletter",
    }
    request.update(text=TEXT)
    # When it comes through POST /messages, the link is on the API it came in on
    response = handler(api_event("POST", "/messages", json.dumps(request)), LocalContext("SenderFunction"))
    assert response["statusCode"] == 200
    headers = {h["Name"]: h["Value"] for h in calls[0]["Content"]["Simple"]["Headers"]}
    assert headers["List-Unsubscribe"].startswith(
        "<https://abc123.execute-api.us-east-1.amazonaws.com/v1/unsubscribe/"
    )
    # When it is a direct invoke, there is no URL to give: refused, nothing sent
    answer = handler(request, LocalContext("SenderFunction"))
    assert (answer["error"]["code"], answer["error"]["field"]) == ("streams_not_configured", "stream")
    assert len(calls) == 1
