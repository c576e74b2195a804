"""The sending guard in SenderFunction, in-process: the template's SendingGuard parameter, the
reputation alarms in moto's CloudWatch (real ``DescribeAlarms``), both doors.

moto plays CloudWatch: ``put_metric_alarm`` creates the template's two reputation alarms under
their local names and ``set_alarm_state`` moves them; the sender reads them with DescribeAlarms
as it would in Lambda. Each DescribeAlarms call is counted with a botocore event hook.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from ses_feedback import wiring
from ses_feedback.edges.alarms import ALARM_STATES_TTL_SECONDS, read_alarm_states
from ses_feedback.model.state import AlarmState
from ses_feedback_emulator.lambdas import load_handler
from ses_feedback_stack.names import region

from tests.integration.conftest import Stack
from tests.integration.test_sender_function import Sender, message

REPUTATION_ALARMS = ("BounceRateAlarm", "ComplaintRateAlarm")
# A valid message on a bulk stream (the stack lists only `transactional` as transactional).
BULK = message(stream="newsletter", text="Hi. Unsubscribe: {{unsubscribe_url}}")


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@dataclass
class Guarded(Sender):
    """SenderFunction with the template's environment for a SendingGuard value, and CloudWatch."""

    stack: Stack
    cloudwatch: Any
    describe_alarms_calls: list[dict[str, Any]]
    clock: FakeClock

    def set_alarm(self, logical_id: str, state: str) -> None:
        self.cloudwatch.set_alarm_state(
            AlarmName=self.stack.local.name(logical_id), StateValue=state, StateReason="test"
        )


def start_sender(stack: Stack, monkeypatch: pytest.MonkeyPatch, sending_guard: str) -> Guarded:
    # Given: the template's environment for SenderFunction with SendingGuard set
    stack.local.parameters["SendingGuard"] = sending_guard
    stack.local.parameters["UnsubscribeBaseUrl"] = "https://mail.example.com/unsubscribe-api"
    for name, value in stack.local.function_environment("SenderFunction").items():
        monkeypatch.setenv(name, value)
    cloudwatch = boto3.client("cloudwatch", region_name=region())
    for logical_id in REPUTATION_ALARMS:
        cloudwatch.put_metric_alarm(
            AlarmName=stack.local.name(logical_id),
            Namespace="AWS/SES",
            MetricName=f"Reputation.{logical_id.removesuffix('Alarm')}",
            Statistic="Maximum",
            Period=900,
            EvaluationPeriods=1,
            Threshold=0.01,
            ComparisonOperator="GreaterThanOrEqualToThreshold",
        )
    handler = load_handler(stack.local, "SenderFunction")
    live = wiring.sender()
    sends: list[dict[str, Any]] = []
    live.ses.client.meta.events.register(
        "before-parameter-build.sesv2.SendEmail", lambda params, **_: sends.append(params)
    )
    gets: list[dict[str, Any]] = []
    live.store.client.meta.events.register(
        "before-parameter-build.dynamodb.BatchGetItem", lambda params, **_: gets.append(params)
    )
    describes: list[dict[str, Any]] = []
    clock = FakeClock()
    if live.alarms is not None:
        live.alarms.clock = clock
        live.alarms.client.meta.events.register(
            "before-parameter-build.cloudwatch.DescribeAlarms", lambda params, **_: describes.append(params)
        )
    return Guarded(
        handler=handler,
        store=stack.store,
        send_email_calls=sends,
        batch_gets=gets,
        stack=stack,
        cloudwatch=cloudwatch,
        describe_alarms_calls=describes,
        clock=clock,
    )


@pytest.fixture
def guarded(stack: Stack, monkeypatch: pytest.MonkeyPatch) -> Iterator[Guarded]:
    yield start_sender(stack, monkeypatch, sending_guard="true")


def test_with_the_guard_off_mail_goes_out_even_while_an_alarm_fires(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given: the default (SendingGuard false) and the bounce-rate alarm in ALARM
    sender = start_sender(stack, monkeypatch, sending_guard="false")
    sender.set_alarm("BounceRateAlarm", "ALARM")
    # When
    answer = sender.invoke(message())
    # Then: sent, and CloudWatch is not even asked (no client is built)
    assert answer["status"] == "sent"
    assert len(sender.send_email_calls) == 1
    assert wiring.sender().alarms is None


def test_the_function_watches_the_templates_two_reputation_alarms(guarded: Guarded) -> None:
    # When
    guarded.invoke(BULK)
    # Then
    (call,) = guarded.describe_alarms_calls
    assert call["AlarmNames"] == [guarded.stack.local.name(a) for a in REPUTATION_ALARMS]


@pytest.mark.parametrize("firing", REPUTATION_ALARMS)
def test_while_an_alarm_fires_non_transactional_mail_is_refused_through_the_invoke_door(
    guarded: Guarded, firing: str
) -> None:
    # Given
    guarded.set_alarm(firing, "ALARM")
    # When
    answer = guarded.invoke(BULK)
    # Then: refused before the suppression list and SES
    assert answer["error"]["code"] == "reputation_guard"
    assert guarded.stack.local.name(firing) in answer["error"]["message"]
    assert "transactional stream" in answer["error"]["message"]
    assert guarded.batch_gets == []
    assert guarded.send_email_calls == []
    assert guarded.delivered() == []


def test_while_an_alarm_fires_the_api_answers_503_reputation_guard(guarded: Guarded) -> None:
    # Given
    guarded.set_alarm("ComplaintRateAlarm", "ALARM")
    # When
    status, body = guarded.post(BULK)
    # Then
    assert (status, body["error"]["code"]) == (503, "reputation_guard")
    assert guarded.batch_gets == []
    assert guarded.send_email_calls == []


def test_mail_on_a_transactional_stream_goes_out_while_an_alarm_fires(guarded: Guarded) -> None:
    # Given
    guarded.set_alarm("BounceRateAlarm", "ALARM")
    guarded.set_alarm("ComplaintRateAlarm", "ALARM")
    # When: the default stream, and the stream named
    answer = guarded.invoke(message())
    status, body = guarded.post(message(stream="transactional"))
    # Then
    assert answer["status"] == "sent"
    assert (status, body["status"]) == (200, "sent")
    assert len(guarded.send_email_calls) == 2
    assert guarded.describe_alarms_calls == []  # transactional mail does not wait for CloudWatch


def test_a_transactional_tag_does_not_let_bulk_mail_out(guarded: Guarded) -> None:
    # Given: one definition of transactional, the stream: a tag saying otherwise changes nothing
    guarded.set_alarm("BounceRateAlarm", "ALARM")
    # When
    answer = guarded.invoke({**BULK, "tags": {"transactional": "true"}})
    # Then
    assert answer["error"]["code"] == "reputation_guard"
    assert guarded.send_email_calls == []


@pytest.mark.parametrize("state", ["OK", "INSUFFICIENT_DATA"])
def test_alarms_that_do_not_fire_let_mail_through(guarded: Guarded, state: str) -> None:
    # Given
    for alarm in REPUTATION_ALARMS:
        guarded.set_alarm(alarm, state)
    # When
    status, body = guarded.post(message())
    # Then
    assert (status, body["status"]) == (200, "sent")
    assert len(guarded.send_email_calls) == 1


def test_alarms_that_do_not_exist_let_mail_through(guarded: Guarded) -> None:
    # Given: CloudWatch knows neither alarm (deleted, or the names are wrong)
    guarded.cloudwatch.delete_alarms(AlarmNames=[guarded.stack.local.name(a) for a in REPUTATION_ALARMS])
    # When
    answer = guarded.invoke(message())
    # Then
    assert answer["status"] == "sent"


def test_an_alarm_cloudwatch_does_not_return_is_unknown_and_the_other_is_read(guarded: Guarded) -> None:
    # Given: CloudWatch knows only the complaint alarm, and it fires
    names = tuple(guarded.stack.local.name(a) for a in REPUTATION_ALARMS)
    guarded.cloudwatch.delete_alarms(AlarmNames=[names[0]])
    guarded.set_alarm("ComplaintRateAlarm", "ALARM")
    # When
    states = read_alarm_states(guarded.cloudwatch, names)
    # Then
    assert states == {names[0]: None, names[1]: AlarmState.ALARM}


def test_alarm_states_are_read_at_most_once_per_cache_period(guarded: Guarded) -> None:
    # Given: the alarm fires after the first read
    guarded.invoke(BULK)
    guarded.set_alarm("BounceRateAlarm", "ALARM")
    # When: more sends within the cache period
    guarded.clock.now += ALARM_STATES_TTL_SECONDS - 1
    within = [guarded.invoke(BULK)["status"] for _ in range(5)]
    # Then: one DescribeAlarms call so far, and the remembered OK state let them through
    assert len(guarded.describe_alarms_calls) == 1
    assert within == ["sent"] * 5
    # When: the period is over
    guarded.clock.now += 1
    after = guarded.invoke(BULK)
    # Then: read again, and the alarm now refuses
    assert len(guarded.describe_alarms_calls) == 2
    assert after["error"]["code"] == "reputation_guard"


def test_a_refused_send_is_not_remembered_by_idempotency(guarded: Guarded) -> None:
    # Given: refused while the alarm fires
    guarded.set_alarm("BounceRateAlarm", "ALARM")
    first = guarded.invoke({**BULK, "idempotency_key": "k-1"})
    # When: the alarm clears and the same request is retried after the cache period
    guarded.set_alarm("BounceRateAlarm", "OK")
    guarded.clock.now += ALARM_STATES_TTL_SECONDS
    retry = guarded.invoke({**BULK, "idempotency_key": "k-1"})
    # Then
    assert first["error"]["code"] == "reputation_guard"
    assert retry["status"] == "sent"
    assert len(guarded.send_email_calls) == len(BULK["to"])  # a bulk stream: one message per recipient
