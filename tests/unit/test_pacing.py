"""How fast and how much bulk mail may send: a share of SES's rate and quota, evenly spaced."""

from __future__ import annotations

import pytest
from ses_feedback.rules.pacing import Pacer, quota_left, worker_rate


def test_each_worker_gets_its_part_of_the_bulk_share_of_the_rate() -> None:
    assert worker_rate(max_send_rate=20, share=0.8, max_concurrency=2) == 8.0


def test_bulk_mail_leaves_the_rest_of_the_24_hour_quota_to_transactional_mail() -> None:
    assert quota_left(max_24_hour_send=1000, sent_last_24_hours=700, share=0.8) == 100
    assert quota_left(max_24_hour_send=1000, sent_last_24_hours=900, share=0.8) == 0


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def test_sends_are_spaced_evenly_and_never_burst() -> None:
    clock = FakeClock()
    pacer = Pacer(rate=4, clock=clock, sleep=clock.sleep)
    for _ in range(5):
        pacer.wait()
    assert clock.slept == [0.25, 0.25, 0.25, 0.25]


def test_time_spent_elsewhere_counts_towards_the_next_slot() -> None:
    clock = FakeClock()
    pacer = Pacer(rate=2, clock=clock, sleep=clock.sleep)
    pacer.wait()
    clock.now += 0.3
    pacer.wait()
    assert clock.slept == pytest.approx([0.2])


def test_a_throttle_holds_the_next_send_back() -> None:
    clock = FakeClock()
    pacer = Pacer(rate=100, clock=clock, sleep=clock.sleep)
    pacer.wait()
    pacer.slow_down(5)
    pacer.wait()
    assert clock.slept == [5.0]
