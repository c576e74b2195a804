"""A send validates each address once: the door parses the request, and everything after it
(the domain check, the suppression lookup, SES's destination and reply-to) reads the parsed
addresses. email-validator's ``validate_email`` is counted around one whole send."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Any

import email_validator
import pytest

from tests.integration.test_sender_function import Sender, message, sender  # noqa: F401  # the fixture

ADDRESSES = {
    "from": "Billing <noreply@example.com>",
    "to": ["b@example.org", "Cee <c@example.org>"],
    "cc": ["d@example.org"],
    "bcc": ["e@example.org"],
    "reply_to": ["help@example.com"],
}


@pytest.fixture
def validated(monkeypatch: pytest.MonkeyPatch) -> Iterator[Counter[str]]:
    counted: Counter[str] = Counter()
    real = email_validator.validate_email

    def counting(text: str, **options: Any) -> Any:
        counted[text] += 1
        return real(text, **options)

    monkeypatch.setattr(email_validator, "validate_email", counting)
    yield counted


def _each_once() -> Counter[str]:
    given = [ADDRESSES["from"], *ADDRESSES["to"], *ADDRESSES["cc"], *ADDRESSES["bcc"], *ADDRESSES["reply_to"]]
    # validate_email sees the address without its display name
    return Counter(text.rpartition("<")[2].rstrip(">") for text in given)


def test_the_invoke_door_validates_each_address_once(sender: Sender, validated: Counter[str]) -> None:  # noqa: F811
    # When
    answer = sender.invoke(message(**ADDRESSES))
    # Then: sent, and every address was validated exactly once
    assert answer["status"] == "sent"
    assert validated == _each_once()


def test_the_api_door_validates_each_address_once(sender: Sender, validated: Counter[str]) -> None:  # noqa: F811
    # When
    status, body = sender.post(message(**ADDRESSES))
    # Then
    assert (status, body["status"]) == (200, "sent")
    assert validated == _each_once()


def test_a_send_with_an_idempotency_key_validates_each_address_once(
    sender: Sender,  # noqa: F811
    validated: Counter[str],
) -> None:
    # When: Powertools' idempotency wraps the use case
    answer = sender.invoke(message(**ADDRESSES, idempotency_key="once-1"))
    # Then
    assert answer["status"] == "sent"
    assert validated == _each_once()
