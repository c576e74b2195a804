"""Every handler bounds its store retries by its invocation's remaining time (``within_remaining_time``).

Each function is called with one of its ``events/`` files and a context with 1.5 s left, less
than the retry policy's margin: inside the call no retry may start; after it, the deadline is
gone. The use case the route reaches is replaced by one that asks the policy (and then refuses,
as a use case may), so that what is measured is the handler's own wrapping.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pytest
from ses_feedback import wiring
from ses_feedback.errors import BatchNotFound, MessageNotFound, WebhookNotFound
from ses_feedback.retry import RetryPolicy
from ses_feedback_emulator.lambdas import LocalContext, load_handler
from ses_feedback_stack.template import REPO_ROOT

from tests.integration.conftest import Stack


def may_retry() -> bool:
    return RetryPolicy(sleep=lambda seconds: None).wait(0)


@dataclass
class AsksThePolicy:
    """Any method: note whether a retry may start now, then refuse as ``refusal`` says."""

    refusal: type[Exception] | None
    answers: list[bool]

    def __getattr__(self, name: str) -> Any:
        def call(*args: Any, **kwargs: Any) -> Any:
            self.answers.append(may_retry())
            if self.refusal is not None:
                raise self.refusal("not found")
            return None

        return call


# (function, its events/ file, the wiring it reaches, the refusal its fake answers)
HANDLERS = [
    ("BatchesApiFunction", "batches_api/api_get_batch.json", "batches", BatchNotFound),
    ("BulkSenderFunction", "bulk_sender/sqs_chunk.json", "bulk_worker", None),
    ("MessagesFunction", "messages/get_message.json", "timelines", MessageNotFound),
    ("WebhooksFunction", "webhooks/list_webhooks.json", "webhooks", WebhookNotFound),
]


@pytest.mark.parametrize(
    ("function", "event_file", "use_case", "refusal"), HANDLERS, ids=[h[0] for h in HANDLERS]
)
def test_no_store_retry_starts_past_the_invocations_time(
    stack: Stack,
    monkeypatch: pytest.MonkeyPatch,
    function: str,
    event_file: str,
    use_case: str,
    refusal: type[Exception] | None,
) -> None:
    # Given: the function, 1.5 s left of its time, and a use case that asks the retry policy
    handler = load_handler(stack.local, function)
    answers: list[bool] = []
    monkeypatch.setattr(wiring, use_case, lambda: AsksThePolicy(refusal, answers))
    event = json.loads((REPO_ROOT / "events" / event_file).read_text())
    # When
    handler(event, LocalContext(function, timeout_seconds=1.5))
    # Then: inside the call, no retry may start; after it, one may again
    assert answers == [False]
    assert may_retry() is True
