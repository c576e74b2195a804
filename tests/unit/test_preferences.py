"""The preference page's pure parts: who may lift what, the catalogue, the form, the language, the words."""

from __future__ import annotations

import base64
import hashlib
import json
import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from ses_feedback.errors import InvalidRequest, RejoinRefused
from ses_feedback.model.preferences import Standing
from ses_feedback.model.reasons import Reason
from ses_feedback.model.state import AddressState, Source
from ses_feedback.model.streams import ALL_BULK, ALL_BULK_UNSUBSCRIBED, ScopedSuppression, Streams
from ses_feedback.pages import preferences as pages
from ses_feedback.parsing.catalogue import read_catalogue
from ses_feedback.parsing.languages import negotiate
from ses_feedback.parsing.preference_form import FormAction, read_preference_form
from ses_feedback.rules import preferences
from ses_feedback.rules.manual import lift_decision
from ses_feedback_cli.main import main
from ses_feedback_stack.template import STREAM_CATALOGUE_PATH, load_template

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
JANE = AddressState(address="jane@example.org")


def left(*scopes: str, reason: Reason = Reason.UNSUBSCRIBED) -> tuple[ScopedSuppression, ...]:
    return tuple(ScopedSuppression(scope, reason, NOW - timedelta(days=1)) for scope in scopes)


# ---- rules ---------------------------------------------------------------------------------------


def test_leaving_every_bulk_stream_covers_streams_that_do_not_exist_yet() -> None:
    decision = preferences.leave(JANE, ALL_BULK_UNSUBSCRIBED, NOW, "k")
    assert decision is not None and decision.source is Source.RECIPIENT
    assert decision.new_state is not None
    assert decision.new_state.suppression_on("launched-next-year", True, NOW) == (Reason.UNSUBSCRIBED, NOW)
    assert decision.new_state.suppression_on("transactional", False, NOW) is None


def test_leaving_twice_decides_nothing_the_second_time() -> None:
    state = replace(JANE, scoped=left("newsletter"))
    assert preferences.leave(state, "newsletter", NOW, "k") is None


def test_rejoining_lifts_only_the_recipients_own_entry() -> None:
    state = replace(JANE, scoped=left("newsletter", "promo"))
    decision = preferences.rejoin(state, "newsletter", NOW, "k")
    assert decision is not None and decision.new_state is not None
    assert decision.new_state.scoped == left("promo")
    assert (decision.event_type, decision.source) == ("Resubscribe", Source.RECIPIENT)


def test_rejoining_what_was_never_left_decides_nothing() -> None:
    assert preferences.rejoin(JANE, "newsletter", NOW, "k") is None


@pytest.mark.parametrize(
    "state",
    [
        replace(JANE, scoped=left("newsletter") + left(ALL_BULK, reason=Reason.COMPLAINT)),
        replace(JANE, reason=Reason.HARD_BOUNCE, since=NOW, scoped=left("newsletter")),
        replace(JANE, reason=Reason.MANUAL, since=NOW, scoped=left("newsletter")),
        replace(JANE, reason=Reason.COMPLAINT, since=NOW),
        replace(JANE, erased=True, reason=Reason.ERASED),
    ],
    ids=["bulk-complaint", "hard-bounce", "manual", "complaint-everywhere", "erased"],
)
def test_a_rejoin_is_refused_while_something_the_recipient_cannot_lift_holds(state: AddressState) -> None:
    for scope in ("newsletter", ALL_BULK_UNSUBSCRIBED):
        with pytest.raises(RejoinRefused) as refused:
            preferences.rejoin(state, scope, NOW, "k")
        assert refused.value.reason == preferences.held_by(state, None, NOW).value  # type: ignore[union-attr]


def test_an_expired_soft_bounce_no_longer_holds_a_rejoin_back() -> None:
    state = replace(
        JANE, reason=Reason.SOFT_BOUNCE, since=NOW - timedelta(days=8), expires_at=NOW - timedelta(days=1)
    )
    state = replace(state, scoped=left("newsletter"))
    assert preferences.rejoin(state, "newsletter", NOW, "k") is not None


def test_an_operators_lift_of_a_bulk_complaint_keeps_the_recipients_leave_all() -> None:
    state = replace(JANE, scoped=left(ALL_BULK, reason=Reason.COMPLAINT) + left(ALL_BULK_UNSUBSCRIBED))
    decision = lift_decision(state, "ticket 1", "ops", NOW, force=True, key="k")
    assert decision.new_state is not None and decision.new_state.scoped == left(ALL_BULK_UNSUBSCRIBED)


def test_the_view_shows_each_streams_standing_and_the_streams_the_recipient_left() -> None:
    state = replace(JANE, scoped=left("retired-list"))
    view = preferences.view(state, "newsletter", "j***@example.org", ["newsletter", "promo"], NOW)
    assert [(c.stream, c.standing) for c in view.choices] == [
        ("newsletter", Standing.RECEIVING),
        ("promo", Standing.RECEIVING),
        ("retired-list", Standing.LEFT),
    ]
    complained = replace(JANE, scoped=left(ALL_BULK, reason=Reason.COMPLAINT))
    view = preferences.view(complained, "newsletter", "j***@example.org", ["newsletter"], NOW)
    assert view.held_by is Reason.COMPLAINT and view.choices[0].standing is Standing.HELD


# ---- the catalogue --------------------------------------------------------------------------------


def test_the_shipped_catalogue_is_valid_and_names_no_transactional_stream() -> None:
    catalogue = read_catalogue(STREAM_CATALOGUE_PATH.read_text(encoding="utf-8"))
    default = load_template()["Parameters"]["TransactionalStreams"]["Default"]
    assert catalogue.entries and all(Streams.parse(default).is_bulk(e.stream) for e in catalogue.entries)
    assert all(set(e.title) == set(e.description) == set(pages.LANGUAGES) for e in catalogue.entries)


@pytest.mark.parametrize(
    ("document", "field"),
    [
        (
            {"streams": [{"stream": "News", "title": {"en": "N"}, "description": {"en": "d"}}]},
            "streams[0].stream",
        ),
        ({"streams": [{"stream": "news", "title": {"ja": "N"}, "description": {"en": "d"}}]}, "streams[0]"),
        (
            {"streams": [{"stream": "news", "title": {"en": "a\nb"}, "description": {"en": "d"}}]},
            "streams[0].title.en",
        ),
        (
            {"streams": [{"stream": "news", "title": {"en": "N"}, "description": {"en": "d"}, "x": 1}]},
            "streams[0].x",
        ),
    ],
)
def test_a_bad_catalogue_is_refused_naming_the_field(document: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidRequest) as refused:
        read_catalogue(json.dumps(document))
    assert refused.value.field == field


def test_a_stream_named_twice_is_refused() -> None:
    entry = {"stream": "news", "title": {"en": "N"}, "description": {"en": "d"}}
    with pytest.raises(InvalidRequest, match="news appears more than once"):
        read_catalogue(json.dumps({"streams": [entry, entry]}))


def test_streams_list_prints_the_catalogue(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["streams", "list", "--json"]) == 0
    answer = json.loads(capsys.readouterr().out)
    assert [s["stream"] for s in answer["streams"]] == ["newsletter", "product-updates"]
    assert answer["streams"][0]["title"]["ja"] == "ニュースレター"
    assert main(["streams", "list", "--transactional", "transactional,newsletter"]) == 0
    out = capsys.readouterr().out
    assert "Newsletter: News of the month" in out and "(transactional: not on the page)" in out


def test_streams_list_refuses_a_bad_file_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "streams.json"
    bad.write_text('{"streams": [{"stream": "News"}]}')
    assert main(["streams", "list", "--file", str(bad)]) == 2
    assert "streams[0].stream: a stream name is" in capsys.readouterr().err


# ---- the form, the language, the words ------------------------------------------------------------------


def test_the_form_takes_each_field_once() -> None:
    assert read_preference_form([("action", "resubscribe_all")]).action is FormAction.RESUBSCRIBE_ALL
    with pytest.raises(InvalidRequest) as refused:
        read_preference_form([("action", "unsubscribe"), ("stream", "a"), ("stream", "b")])
    assert refused.value.field == "stream"


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("ja", "ja"),
        ("ja-JP", "ja"),
        ("en-US,en;q=0.9,ja;q=0.8", "en"),
        ("fr;q=1, ja;q=0.5, en;q=0.1", "ja"),
        ("ja;q=0", "en"),
        ("ja;q=banana, en", "en"),
        ("*", "en"),
        ("", "en"),
        (None, "en"),
        ("x" * 5000, "en"),
    ],
)
def test_the_language_is_the_best_one_asked_for_among_those_shipped(
    header: str | None, expected: str
) -> None:
    assert negotiate(header, ("en", "ja"), "en") == expected


def test_every_language_has_every_sentence_and_words_for_every_reason() -> None:
    english = set(pages.words("en"))
    for language in pages.LANGUAGES:
        assert set(pages.words(language)) == english, language
    assert {f"held_{reason.value}" for reason in Reason} <= english
    assert {f"done_{action.value}" for action in FormAction} <= english


def test_the_page_escapes_the_catalogues_text() -> None:
    catalogue = read_catalogue(
        json.dumps(
            {"streams": [{"stream": "news", "title": {"en": "<b>x</b>"}, "description": {"en": "a&b"}}]}
        )
    )
    view = preferences.view(JANE, "news", "j***@example.org", ["news"], NOW)
    page = pages.preference_page(view, catalogue, "en")
    assert "<b>x</b>" not in page and "&lt;b&gt;x&lt;/b&gt;" in page and "a&amp;b" in page


def test_the_csp_allows_exactly_the_pages_own_style() -> None:
    page = pages.refusal_page("invalid_token", "en")
    style = re.search(r"<style>(.*?)</style>", page)
    assert style is not None
    digest = base64.b64encode(hashlib.sha256(style.group(1).encode()).digest()).decode()
    assert f"style-src 'sha256-{digest}'" in pages.CONTENT_SECURITY_POLICY
