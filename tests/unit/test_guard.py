"""The sending guard's rule: while a reputation alarm fires, only transactional mail goes out."""

from __future__ import annotations

import inspect

import pytest
from ses_feedback.errors import ReputationGuard
from ses_feedback.model.state import AlarmState
from ses_feedback.rules.guard import check
from ses_feedback.settings import Settings

FIRING = {"BounceRateAlarm": AlarmState.ALARM, "ComplaintRateAlarm": AlarmState.OK}
CALM = {"BounceRateAlarm": AlarmState.OK, "ComplaintRateAlarm": AlarmState.INSUFFICIENT_DATA}


def test_a_firing_alarm_refuses_bulk_mail_with_a_clear_error() -> None:
    verdict = check(True, FIRING, transactional=False)
    assert (verdict.allowed, verdict.firing) == (False, ("BounceRateAlarm",))
    with pytest.raises(
        ReputationGuard,
        match=r"stream 'news' is paused .* BounceRateAlarm is in ALARM; mail on a transactional",
    ):
        verdict.raise_if_refused("news")


def test_transactional_mail_goes_out_while_the_alarm_fires() -> None:
    assert check(True, FIRING, transactional=True).allowed


def test_transactional_is_the_streams_one_definition_not_a_tag() -> None:
    # Given: the stack's transactional streams, the same ones that carry no unsubscribe link
    streams = Settings.from_env({"SUPPRESSION_TABLE": "table", "TRANSACTIONAL_STREAMS": "receipts"}).streams
    # Then: the guard asks the streams, and a send's tags have no say
    assert check(True, FIRING, streams.is_transactional("receipts")).allowed
    assert not check(True, FIRING, streams.is_transactional("transactional")).allowed
    assert "tags" not in inspect.signature(check).parameters


def test_the_guard_is_off_by_default_and_then_refuses_nothing() -> None:
    settings = Settings.from_env({"SUPPRESSION_TABLE": "table"})
    assert settings.sending_guard is False
    assert check(settings.sending_guard, FIRING, transactional=False).allowed


def test_ok_insufficient_data_and_unknown_states_let_mail_through() -> None:
    assert check(True, CALM, transactional=False).allowed
    assert check(True, {"BounceRateAlarm": None}, transactional=False).allowed  # the sender could not read it


def test_both_alarms_firing_are_both_named() -> None:
    verdict = check(
        True, {"ComplaintRateAlarm": AlarmState.ALARM, "BounceRateAlarm": AlarmState.ALARM}, False
    )
    assert verdict.firing == ("BounceRateAlarm", "ComplaintRateAlarm")
    with pytest.raises(ReputationGuard, match="alarms BounceRateAlarm, ComplaintRateAlarm are in ALARM"):
        verdict.raise_if_refused("news")


def test_settings_read_the_guard_flag_and_alarm_names_from_the_environment() -> None:
    settings = Settings.from_env(
        {
            "SUPPRESSION_TABLE": "table",
            "SENDING_GUARD": "true",
            "REPUTATION_ALARM_NAMES": "stack-BounceRateAlarm-1, stack-ComplaintRateAlarm-2",
        }
    )
    assert settings.sending_guard is True
    assert settings.reputation_alarm_names == ("stack-BounceRateAlarm-1", "stack-ComplaintRateAlarm-2")
