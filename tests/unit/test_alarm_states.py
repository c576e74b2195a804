"""Reading the reputation alarms for the sending guard: unreadable means unknown, read once a minute.

moto's CloudWatch cannot refuse DescribeAlarms, so these tests put ``botocore.stub.Stubber``
on a real CloudWatch client (the happy path against moto is in
tests/integration/test_sending_guard.py, with an alarm CloudWatch does not return).
"""

from __future__ import annotations

import logging

import boto3
import pytest
from botocore.stub import Stubber
from ses_feedback.edges.alarms import ALARM_STATES_TTL_SECONDS, AlarmStates, read_alarm_states
from ses_feedback.model.state import AlarmState
from ses_feedback.rules.guard import check

NAMES = ("stack-BounceRateAlarm", "stack-ComplaintRateAlarm")
REQUEST = {"AlarmNames": list(NAMES), "AlarmTypes": ["MetricAlarm"]}


def alarm(name: str, state: str) -> dict[str, object]:
    return {"AlarmName": name, "StateValue": state}


def test_an_access_denied_read_leaves_every_state_unknown_and_mail_goes_out(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # Given: CloudWatch refuses (e.g. the role lost cloudwatch:DescribeAlarms)
    client = boto3.client("cloudwatch", region_name="us-east-1")
    with Stubber(client) as stub:
        stub.add_client_error("describe_alarms", service_error_code="AccessDenied", http_status_code=403)
        with caplog.at_level(logging.WARNING):
            # When
            states = read_alarm_states(client, NAMES)
    # Then
    assert states == {NAMES[0]: None, NAMES[1]: None}
    assert check(True, states, {}).allowed
    (warning,) = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert "unreadable" in warning.getMessage()
    assert getattr(warning, "code", None) == "AccessDenied"


def test_an_unreadable_answer_is_remembered_for_the_cache_period_too() -> None:
    # Given: the first read fails, the next one (after the period) finds the alarm firing
    now = [0.0]
    states = AlarmStates(NAMES, clock=lambda: now[0])
    with Stubber(states.client) as stub:
        stub.add_client_error("describe_alarms", service_error_code="Throttling", http_status_code=400)
        stub.add_response("describe_alarms", {"MetricAlarms": [alarm(NAMES[0], "ALARM")]}, REQUEST)
        # When
        first = dict(states.current())
        now[0] = ALARM_STATES_TTL_SECONDS - 0.1
        cached = dict(states.current())
        now[0] = ALARM_STATES_TTL_SECONDS
        fresh = dict(states.current())
        # Then: exactly the two stubbed calls were made
        stub.assert_no_pending_responses()
    assert first == cached == {NAMES[0]: None, NAMES[1]: None}
    assert fresh == {NAMES[0]: AlarmState.ALARM, NAMES[1]: None}


def test_no_alarm_names_means_no_call() -> None:
    client = boto3.client("cloudwatch", region_name="us-east-1")
    with Stubber(client):  # any call would fail: nothing is stubbed
        assert read_alarm_states(client, ()) == {}
