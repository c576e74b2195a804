"""The store's one retry policy: bounded in attempts, and by the invocation's deadline."""

from __future__ import annotations

import pytest
from ses_feedback.errors import StoreBusy
from ses_feedback.retry import RetryPolicy, deadline_in, within_remaining_time


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def test_pauses_grow_and_stay_under_the_cap() -> None:
    policy = RetryPolicy(base_seconds=0.01, cap_seconds=0.05)
    for attempt in range(20):
        assert 0 <= policy.pause(attempt) <= min(0.05, 0.01 * 2**attempt)


def test_no_attempt_past_the_last_one() -> None:
    clock = Clock()
    policy = RetryPolicy(attempts=3, sleep=clock.sleep, clock=clock)
    assert [policy.wait(attempt) for attempt in range(4)] == [True, True, False, False]


def test_no_retry_that_would_end_past_the_deadline_less_the_margin() -> None:
    # Given: 2.5 s left and a margin of 2 s: half a second to retry in
    clock = Clock()
    policy = RetryPolicy(attempts=10_000, base_seconds=0.2, cap_seconds=0.2, sleep=clock.sleep, clock=clock)
    with deadline_in(2.5, clock=clock):
        # When: retrying for as long as the policy lets
        attempt = 0
        while policy.wait(attempt):
            attempt += 1
    # Then: the time spent waiting never passed the deadline less the margin
    assert clock.now <= 100.5
    assert attempt < 10_000


def test_without_a_deadline_only_the_attempts_bound() -> None:
    clock = Clock()
    policy = RetryPolicy(attempts=50, sleep=clock.sleep, clock=clock)
    assert all(policy.wait(attempt) for attempt in range(49))


def test_a_handler_sets_the_deadline_from_its_remaining_time() -> None:
    class Context:
        def get_remaining_time_in_millis(self) -> int:
            return 1500  # less than the margin: no retry may start

    @within_remaining_time
    def handler(event: object, context: object) -> bool:
        return RetryPolicy(sleep=lambda seconds: None).wait(0)

    assert handler({}, Context()) is False
    assert RetryPolicy(sleep=lambda seconds: None).wait(0) is True  # the deadline ended with the call


def test_what_dynamodb_left_unprocessed_is_sent_again_until_none_is_left() -> None:
    # Given: a BatchWriteItem that leaves one item unprocessed twice
    clock = Clock()
    sent: list[dict[str, object]] = []
    left = [{"t": ["b"]}, {"t": ["b"]}, {}]

    def batch_write_item(RequestItems: dict[str, object]) -> dict[str, object]:  # boto3's name
        sent.append(RequestItems)
        return {"UnprocessedItems": left[len(sent) - 1]}

    # When
    policy = RetryPolicy(sleep=clock.sleep, clock=clock)
    responses = list(policy.until_processed(batch_write_item, {"t": ["a", "b"]}, "UnprocessedItems"))
    # Then: the first request whole, then only what was left, each after a pause
    assert sent == [{"t": ["a", "b"]}, {"t": ["b"]}, {"t": ["b"]}]
    assert len(responses) == 3


def test_items_left_unprocessed_past_the_last_attempt_make_the_store_busy() -> None:
    clock = Clock()
    policy = RetryPolicy(attempts=3, sleep=clock.sleep, clock=clock)

    def always_throttled(RequestItems: dict[str, object]) -> dict[str, object]:
        return {"UnprocessedKeys": RequestItems}

    with pytest.raises(StoreBusy):
        list(policy.until_processed(always_throttled, {"t": {"Keys": []}}, "UnprocessedKeys"))
