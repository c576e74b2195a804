"""What the container's sender asks of AWS: every SendEmail and BatchGetItem request, as sent."""

from __future__ import annotations

from typing import Any

from ses_feedback import wiring


def record_sender_calls() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(SendEmail parameters, BatchGetItem parameters), appended to as the sender makes them."""
    sends: list[dict[str, Any]] = []
    gets: list[dict[str, Any]] = []
    live = wiring.sender()
    live.ses.client.meta.events.register(
        "before-parameter-build.sesv2.SendEmail", lambda params, **_: sends.append(params)
    )
    live.store.client.meta.events.register(
        "before-parameter-build.dynamodb.BatchGetItem", lambda params, **_: gets.append(params)
    )
    return sends, gets
