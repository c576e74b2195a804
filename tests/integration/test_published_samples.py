"""The models against every published SES notification in the shared reference set.

The samples (AWS documentation examples and other projects' captures) are copied, with their
sources and licences, into ``tests/fixtures/ses-samples`` (override: $SES_SAMPLES_DIR).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from ses_feedback.errors import InvalidNotification
from ses_feedback.parsing.events import FeedbackEvent, parse_sns_notification, parse_sqs_body
from ses_feedback_stack.template import REPO_ROOT

SAMPLES = Path(os.environ.get("SES_SAMPLES_DIR", REPO_ROOT / "tests" / "fixtures" / "ses-samples"))
SES_FILES = sorted(SAMPLES.glob("*.json"))
ENVELOPES = sorted((SAMPLES / "envelopes").glob("*.json"))


def parse_any(document: dict[str, Any]) -> list[FeedbackEvent]:
    if "Records" in document:
        return [
            parse_sns_notification(r["Sns"]) if "Sns" in r else parse_sqs_body(r["body"])
            for r in document["Records"]
        ]
    return [parse_sqs_body(json.dumps(document))]


def test_the_reference_set_is_there() -> None:
    # The 36 payloads and 9 envelopes copied here (SOURCES.md says why two are not): none may go missing.
    assert len(SES_FILES) >= 36, f"expected the published samples in {SAMPLES}"
    assert len(ENVELOPES) >= 9, f"expected the published envelopes in {SAMPLES / 'envelopes'}"


@pytest.mark.parametrize("path", SES_FILES, ids=[p.stem for p in SES_FILES])
def test_every_published_ses_notification_parses(path: Path) -> None:
    # When
    (event,) = parse_any(json.loads(path.read_text()))
    # Then
    assert event.type is not None
    assert event.raw_type in path.read_text()
    assert event.mail.message_id
    assert event.recipients
    if event.bounce or event.complaint:
        assert event.feedback_id


@pytest.mark.parametrize("path", ENVELOPES, ids=[p.stem for p in ENVELOPES])
def test_envelopes_around_non_ses_messages_are_refused(path: Path) -> None:
    try:
        document = json.loads(path.read_text())
    except json.JSONDecodeError:
        document = None
    with pytest.raises(InvalidNotification):
        if document is None:
            parse_sqs_body(path.read_text())
        else:
            parse_any(document)
