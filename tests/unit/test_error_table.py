"""The docs' refusal tables say what the one error table (``errors.REFUSALS``) says."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from ses_feedback.errors import (
    ADMIN_REFUSALS,
    REFUSALS,
    SEND_REFUSALS,
    InvalidCursor,
    InvalidRequest,
    SuppressedRecipientsRejected,
)
from ses_feedback.model.answers import ErrorAnswer, SendAnswer, SendStatus, exit_status_of

DOCS = Path(__file__).resolve().parents[2] / "docs"


def _section(page: str, title: str) -> str:
    """The ``## title`` section of ``docs/page``, up to the next heading of that level."""
    text = (DOCS / page).read_text()
    start = text.index(f"\n## {title}\n")
    end = text.find("\n## ", start + 1)
    return text[start : end if end != -1 else None]


def test_the_refusals_table_lists_every_refusal_with_its_status_and_exit() -> None:
    rows = re.findall(r"^\| `([a-z_]+)` \| (\d{3}) \| (\d) \|", (DOCS / "refusals.md").read_text(), re.M)
    documented = {code: (int(http), int(exit_status)) for code, http, exit_status in rows}
    table = {r.code: (r.http_status, r.exit_status) for r in REFUSALS.values()}
    assert documented == table


def test_the_sending_table_gives_each_error_code_its_status() -> None:
    rows = re.findall(
        r"^\| (\d{3}) \| error `([a-z_]+)`", _section("sending.md", "Sending from an app"), re.M
    )
    assert {code: int(http) for http, code in rows} == {
        REFUSALS[kind].code: REFUSALS[kind].http_status for kind in SEND_REFUSALS
    }


def test_the_suppression_api_paragraph_gives_each_code_its_status() -> None:
    paragraph = _section("operating.md", "The suppressions API").split(
        "Refusals use the sending API's shape"
    )[1]
    pairs = re.findall(r"(\d{3})\s+`([a-z_]+)`", paragraph.split("\n\n")[0])
    assert {code: int(http) for http, code in pairs} == {
        REFUSALS[kind].code: REFUSALS[kind].http_status for kind in ADMIN_REFUSALS
    }


@pytest.mark.parametrize("error", [InvalidRequest.of("to[0]", "is not valid"), InvalidCursor()])
def test_a_subclass_takes_its_parents_row(error: InvalidRequest) -> None:
    assert (error.code, error.http_status, error.exit_status) == ("invalid_request", 400, 2)


def test_a_rejected_send_answers_with_its_row_in_the_table() -> None:
    # Given: on_suppressed=reject refused a send (its answer names who is suppressed)
    rejected = SendAnswer(status=SendStatus.REJECTED)
    row = REFUSALS[SuppressedRecipientsRejected]
    # Then: the status is the row's code, and both doors' numbers are the row's
    assert rejected.status == row.code
    assert (rejected.http_status, exit_status_of(rejected.model_dump(mode="json"))) == (
        row.http_status,
        row.exit_status,
    )


@pytest.mark.parametrize("status", ["sent", "partially_suppressed", "suppressed"])
def test_a_send_that_went_through_is_no_refusal(status: str) -> None:
    answer = SendAnswer(status=SendStatus(status))
    assert (answer.refusal, answer.http_status, exit_status_of(answer.model_dump(mode="json"))) == (
        None,
        200,
        0,
    )


def test_an_error_body_takes_its_codes_exit_status_and_an_unknown_code_is_a_failure() -> None:
    assert exit_status_of(ErrorAnswer.of(InvalidRequest.of("to", "missing")).model_dump()) == 2
    assert exit_status_of({"error": {"code": "function_error", "message": "boom"}}) == 1
