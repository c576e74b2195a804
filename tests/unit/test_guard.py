"""The sending guard's rule: while a reputation alarm fires, only transactional mail goes out."""

from __future__ import annotations

import pytest
from ses_feedback.errors import ReputationGuard
from ses_feedback.model.state import AlarmState
from ses_feedback.rules.guard import check
from ses_feedback.settings import Settings

FIRING = {"BounceRateAlarm": AlarmState.ALARM, "ComplaintRateAlarm": AlarmState.OK}
CALM = {"BounceRateAlarm": AlarmState.OK, "ComplaintRateAlarm": AlarmState.INSUFFICIENT_DATA}


def test_a_firing_alarm_refuses_marketing_mail_with_a_clear_error() -> None:
    verdict = check(True, FIRING, {"campaign": "spring"})
    assert (verdict.allowed, verdict.firing) == (False, ("BounceRateAlarm",))
    with pytest.raises(ReputationGuard, match=r"BounceRateAlarm is in ALARM; mail tagged transactional=true"):
        verdict.raise_if_refused()


@pytest.mark.parametrize("value", ["true", "True", " TRUE "])
def test_transactional_mail_goes_out_while_the_alarm_fires(value: str) -> None:
    assert check(True, FIRING, {"transactional": value}).allowed


@pytest.mark.parametrize("value", ["false", "yes", ""])
def test_only_transactional_true_counts_as_transactional(value: str) -> None:
    assert not check(True, FIRING, {"transactional": value}).allowed


def test_the_guard_is_off_by_default_and_then_refuses_nothing() -> None:
    settings = Settings.from_env({"SUPPRESSION_TABLE": "table"})
    assert settings.sending_guard is False
    assert check(settings.sending_guard, FIRING, {}).allowed


def test_ok_insufficient_data_and_unknown_states_let_mail_through() -> None:
    assert check(True, CALM, {}).allowed
    assert check(True, {"BounceRateAlarm": None}, {}).allowed  # the sender could not read it


def test_both_alarms_firing_are_both_named() -> None:
    verdict = check(True, {"ComplaintRateAlarm": AlarmState.ALARM, "BounceRateAlarm": AlarmState.ALARM}, {})
    assert verdict.firing == ("BounceRateAlarm", "ComplaintRateAlarm")
    with pytest.raises(ReputationGuard, match="alarms BounceRateAlarm, ComplaintRateAlarm are in ALARM"):
        verdict.raise_if_refused()


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
