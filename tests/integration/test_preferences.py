"""The preference page over HTTP, in-process: the page's forms, the one-click POST beside them,
forged links, GETs that change nothing, refusals in the page's words, English and Japanese.

The handlers run as Lambda runs them, on the template's resources in moto (the ``streams``
fixture of test_streams.py); the catalogue is the one shipped with UnsubscribeFunction
(``functions/unsubscribe/streams.json``: newsletter, product-updates).
"""

from __future__ import annotations

import json
import re
import urllib.parse
from typing import Any

import pytest
from ses_feedback_emulator.lambdas import LocalContext
from ses_feedback_stack.template import REPO_ROOT

from tests.integration.test_streams import Streams, call_api, feed, streams, tagged, token_of
from tests.support import ses_events

__all__ = ["streams"]  # the fixture, shared with test_streams.py

FORM = "application/x-www-form-urlencoded"
ADDRESS = "jane@example.org"


def call(
    streams: Streams, method: str, token: str, form: dict[str, str] | None = None, **headers: str
) -> tuple[int, dict[str, str], str]:
    name = "get_page.json" if method == "GET" else "post_one_click.json"
    event = json.loads((REPO_ROOT / "events" / "unsubscribe" / name).read_text())
    event["path"] = f"/unsubscribe/{token}"
    event["pathParameters"] = {"token": token}
    event["body"] = urllib.parse.urlencode(form) if form is not None else None
    for header, value in {"Content-Type": FORM, **headers}.items():
        event["headers"][header.replace("_", "-")] = value
        event["multiValueHeaders"][header.replace("_", "-")] = [value]
    response = streams.unsubscribe(event, LocalContext("UnsubscribeFunction"))
    answer_headers = {**(response.get("headers") or {})}
    answer_headers.update({k: v[0] for k, v in (response.get("multiValueHeaders") or {}).items()})
    return response["statusCode"], answer_headers, response["body"]


def link(streams: Streams, stream: str = "newsletter") -> str:
    streams.send_bulk(stream=stream)
    return token_of(streams.send_email_calls[-1])


def history(streams: Streams) -> list[dict[str, Any]]:
    _, answer = call_api(streams, "GET", f"/suppressions/{ADDRESS}")
    items: list[dict[str, Any]] = answer["history"]
    return items


def text_of(html: str) -> str:
    return re.sub(r"<[^>]+>", " ", html)


# ---- the page ------------------------------------------------------------------------------------


def test_the_page_lists_the_catalogue_and_the_links_own_stream_and_changes_nothing(streams: Streams) -> None:
    # Given a link from a bulk stream the catalogue does not name
    token = link(streams, "promo")
    items = streams.items()
    # When a link scanner, then a browser asking for Japanese, fetch it
    for headers in ({}, {"Accept_Language": "ja"}, {"Accept": "application/json"}):
        status, answer_headers, body = call(streams, "GET", token, **headers)
        # Then each gets the page with every stream, the address masked, and nothing changed
        assert status == 200 and answer_headers["Content-Type"].startswith("text/html")
        for stream in ("newsletter", "product-updates", "promo"):
            assert f'name="stream" value="{stream}"' in body
        assert "j***@example.org" in body and ADDRESS not in body
    assert streams.items() == items
    _, _, english = call(streams, "GET", token)
    assert "Newsletter" in english and "News of the month, once a month." in english


def test_leaving_one_stream_stops_it_alone_and_says_so_with_source_recipient(streams: Streams) -> None:
    token = link(streams)
    # When the recipient leaves product updates from the newsletter's page
    status, _, body = call(streams, "POST", token, {"action": "unsubscribe", "stream": "product-updates"})
    # Then the page answers, saying so, and offers the way back
    assert status == 200
    assert "You left Product updates." in text_of(body)
    assert 'id="rejoin-product-updates"' in body and 'id="leave-newsletter"' in body
    # And product updates are suppressed, the newsletter and transactional mail are not
    assert streams.send_bulk(stream="product-updates")["suppressed"][0]["reason"] == "unsubscribed"
    assert streams.send_bulk()["status"] == "sent"
    assert streams.send(text="Your code")["status"] == "sent"
    (entry,) = history(streams)
    assert (entry["event_type"], entry["source"]) == ("Unsubscribe", "recipient")
    assert "product-updates" in entry["detail"]


def test_leaving_every_stream_covers_streams_added_later_and_rejoining_undoes_it(streams: Streams) -> None:
    token = link(streams)
    status, _, body = call(streams, "POST", token, {"action": "unsubscribe_all"})
    assert status == 200 and 'id="rejoin-all"' in body
    # Then every bulk stream is suppressed, one nobody had sent on yet too; transactional mail goes
    for stream in ("newsletter", "product-updates", "launched-next-year"):
        assert streams.send_bulk(stream=stream)["status"] == "suppressed"
    assert streams.send(text="Your receipt")["status"] == "sent"
    # When they rejoin
    status, _, body = call(streams, "POST", token, {"action": "resubscribe_all"})
    # Then bulk mail goes again
    assert status == 200 and 'id="leave-all"' in body
    assert streams.send_bulk()["status"] == "sent"
    kinds = [(e["event_type"], e["action"], e["source"]) for e in history(streams)]
    assert kinds[:2] == [("Resubscribe", "lift", "recipient"), ("Unsubscribe", "suppress", "recipient")]


def test_rejoining_lifts_the_one_click_unsubscribe(streams: Streams) -> None:
    token = link(streams)
    status, _, _ = streams.call_unsubscribe("POST", token, "List-Unsubscribe=One-Click", FORM)
    assert status == 200 and streams.send_bulk()["status"] == "suppressed"
    status, _, body = call(streams, "POST", token, {"action": "resubscribe", "stream": "newsletter"})
    assert status == 200 and "You rejoined Newsletter." in text_of(body)
    assert streams.send_bulk()["status"] == "sent"


def test_the_same_form_twice_writes_nothing_the_second_time(streams: Streams) -> None:
    token = link(streams)
    form = {"action": "unsubscribe", "stream": "newsletter"}
    assert call(streams, "POST", token, form)[0] == 200
    items = streams.items()
    assert call(streams, "POST", token, form)[0] == 200
    assert streams.items() == items


# ---- what the recipient cannot lift ----------------------------------------------------------------


def test_rejoining_after_a_complaint_is_refused_in_the_pages_words_and_changes_nothing(
    streams: Streams,
) -> None:
    # Given jane left the newsletter, then reported a message as spam
    token = link(streams)
    call(streams, "POST", token, {"action": "unsubscribe", "stream": "newsletter"})
    feed(streams, tagged(ses_events.complaint([ADDRESS]), "newsletter"))
    items = streams.items()
    # When she tries to rejoin
    status, _, body = call(streams, "POST", token, {"action": "resubscribe", "stream": "newsletter"})
    # Then it is refused, the page says why in plain words, and nothing changed
    assert status == 409
    assert "Newsletter cannot be rejoined." in text_of(body) and "reported as spam" in body
    assert 'role="alert"' in body
    assert streams.items() == items
    assert streams.send_bulk()["suppressed"][0]["reason"] == "complaint"
    # And the JSON door names the refusal
    status, _, body = call(
        streams, "POST", token, {"action": "resubscribe", "stream": "newsletter"}, Accept="application/json"
    )
    assert (status, json.loads(body)["error"]["code"]) == (409, "rejoin_refused")


@pytest.mark.parametrize(
    ("how", "words"),
    [
        ("hard_bounce", "could not be delivered"),
        ("manual", "The sender stopped mail to this address"),
        ("erased", "deleted from our records"),
    ],
)
def test_what_the_recipient_cannot_lift_is_explained_and_stays(
    streams: Streams, how: str, words: str
) -> None:
    token = link(streams)
    call(streams, "POST", token, {"action": "unsubscribe", "stream": "newsletter"})
    if how == "hard_bounce":
        feed(streams, ses_events.bounce([ADDRESS], "Permanent", "General"))
    elif how == "manual":
        call_api(streams, "PUT", f"/suppressions/{ADDRESS}", body={"note": "asked by phone; ticket 4411"})
    else:
        call_api(streams, "POST", f"/suppressions/{ADDRESS}/erasure", body={"note": "GDPR-118"})
    # The page says why, without the operator's note or any date
    _, _, page = call(streams, "GET", token)
    assert words in page and "ticket" not in page and "4411" not in page and "GDPR" not in page
    items = streams.items()
    status, _, body = call(streams, "POST", token, {"action": "resubscribe", "stream": "newsletter"})
    assert status == 409 and words in body
    assert streams.items() == items


# ---- bad forms and bad links --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("form", "field"),
    [
        ({"action": "subscribe_everything"}, "action"),
        ({"action": "unsubscribe"}, "stream"),
        ({"action": "unsubscribe_all", "stream": "newsletter"}, "stream"),
        ({"action": "unsubscribe", "stream": "transactional"}, "stream"),
        ({"action": "unsubscribe", "stream": "someone-elses-list"}, "stream"),
        ({"action": "unsubscribe", "stream": "x" * 2000}, "stream"),
    ],
)
def test_a_bad_form_is_refused_in_the_pages_words_and_changes_nothing(
    streams: Streams, form: dict[str, str], field: str
) -> None:
    token = link(streams)
    items = streams.items()
    status, _, body = call(streams, "POST", token, form)
    assert status == 400 and "Nothing was changed" in body
    assert "should" not in body and "Input" not in body  # no validator's sentence on the page
    status, _, answer = call(streams, "POST", token, form, Accept="application/json")
    assert (status, json.loads(answer)["error"]["field"]) == (400, field)
    assert streams.items() == items


def test_rejoining_one_stream_while_every_stream_is_left_is_refused(streams: Streams) -> None:
    token = link(streams)
    call(streams, "POST", token, {"action": "unsubscribe", "stream": "newsletter"})
    call(streams, "POST", token, {"action": "unsubscribe_all"})
    items = streams.items()
    form = {"action": "resubscribe", "stream": "newsletter"}
    status, _, answer = call(streams, "POST", token, form, Accept="application/json")
    assert (status, json.loads(answer)["error"]["field"]) == (400, "stream")
    assert streams.items() == items


@pytest.mark.parametrize("form", [{"action": "unsubscribe_all"}, {"action": "resubscribe_all"}])
def test_a_form_with_a_forged_link_is_refused_and_changes_nothing(
    streams: Streams, form: dict[str, str]
) -> None:
    token = link(streams)
    key_id, stream, sealed = token.split(".")
    items = streams.items()
    status, _, body = call(streams, "POST", f"{key_id}.{stream}.{'A' * len(sealed)}", form)
    assert status == 400 and "This link does not work" in body
    assert streams.items() == items


# ---- language, headers ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("asked", "lang"),
    [("ja", "ja"), ("ja-JP,en;q=0.5", "ja"), ("fr, en;q=0.1", "en"), ("de", "en"), ("", "en")],
)
def test_the_page_speaks_the_language_asked_for_among_those_shipped(
    streams: Streams, asked: str, lang: str
) -> None:
    token = link(streams)
    _, headers, body = call(streams, "GET", token, Accept_Language=asked)
    assert f'<html lang="{lang}">' in body and headers["Content-Language"] == lang
    assert headers["Vary"] == "Accept-Language"
    assert ("メール配信の設定" in body) is (lang == "ja")


def test_the_japanese_refusal_is_in_japanese(streams: Streams) -> None:
    token = link(streams)
    key_id, stream, sealed = token.split(".")
    status, _, body = call(streams, "GET", f"{key_id}.{stream}.{'A' * len(sealed)}", Accept_Language="ja")
    assert status == 400 and "このリンクは使えません" in body and "Nothing" not in body


def test_the_page_allows_no_script_and_only_its_own_style(streams: Streams) -> None:
    token = link(streams)
    _, headers, body = call(streams, "GET", token)
    policy = headers["Content-Security-Policy"]
    assert "default-src 'none'" in policy and "form-action 'self'" in policy
    assert "unsafe-inline" not in policy and "script-src" not in policy
    assert "<script" not in body and "http" not in body  # nothing loaded from anywhere
    assert headers["Referrer-Policy"] == "no-referrer" and headers["Cache-Control"] == "no-store"


def test_an_operator_lifts_a_leave_all_only_by_naming_it(streams: Streams) -> None:
    token = link(streams)
    call(streams, "POST", token, {"action": "unsubscribe_all"})
    # The stream's listing shows her, with what her suppression covers
    _, listing = call_api(streams, "GET", "/suppressions", {"stream": "product-updates"})
    assert [(i["address"], i["reason"], i["scope"]) for i in listing["items"]] == [
        (ADDRESS, "unsubscribed", "*bulk-unsubscribed")
    ]
    # An operator's plain lift finds nothing to lift: the recipient's wish is not a suppression
    status, answer = call_api(streams, "DELETE", f"/suppressions/{ADDRESS}", {"note": "asked by phone"})
    assert (status, answer["error"]["code"]) == (404, "not_suppressed")
    # Naming it lifts it (the person asked again, by another way)
    query = {"note": "asked by phone", "stream": "*bulk-unsubscribed"}
    status, answer = call_api(streams, "DELETE", f"/suppressions/{ADDRESS}", query)
    assert status == 200 and answer["changed"] is True
    assert streams.send_bulk()["status"] == "sent"


def test_an_operators_lift_of_a_bulk_complaint_keeps_the_recipients_leave_all(streams: Streams) -> None:
    token = link(streams)
    call(streams, "POST", token, {"action": "unsubscribe_all"})
    feed(streams, tagged(ses_events.complaint([ADDRESS]), "newsletter"))
    query = {"note": "complained by mistake", "force": "true"}
    assert call_api(streams, "DELETE", f"/suppressions/{ADDRESS}", query)[0] == 200
    assert streams.send_bulk()["suppressed"][0]["reason"] == "unsubscribed"
