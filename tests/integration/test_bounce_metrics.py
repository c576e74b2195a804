"""Bounces by type, as the operations dashboard draws them, come from FeedbackFunction's metrics."""

from __future__ import annotations

import pytest
from ses_feedback_emulator.lambdas import LocalContext, load_handler

from tests.integration.conftest import Stack
from tests.integration.test_feedback_function import Handler, emitted_metrics
from tests.support import ses_events as b


@pytest.fixture
def handler(stack: Stack) -> Handler:
    function = load_handler(stack.local, "FeedbackFunction")
    return lambda event, context=None: function(
        event, context or LocalContext(function_name="FeedbackFunction")
    )


def test_each_bounce_is_counted_under_its_bounce_type(
    handler: Handler, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given: two permanent, one transient, one undetermined and one type SES never documented
    event = b.sqs_event(
        b.bounce(["a@example.com"], "Permanent", "General"),
        b.bounce(["b@example.com"], "Permanent", "NoEmail"),
        b.bounce(["c@example.com"], "Transient", "MailboxFull"),
        b.bounce(["d@example.com"], "Undetermined", "Undetermined"),
        b.bounce(["e@example.com"], "Quantum", "Entangled"),
        b.complaint(["f@example.com"]),
    )
    # When
    handler(event)
    # Then
    metrics = emitted_metrics(capsys.readouterr().out)
    assert metrics["BouncePermanent"] == 2
    assert metrics["BounceTransient"] == 1
    assert metrics["BounceUndetermined"] == 1
    assert metrics["BounceOther"] == 1
    assert metrics["FeedbackBounce"] == 5
