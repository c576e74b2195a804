"""Reading each message's timeline: by message id or idempotency key, each app only its own.

``app`` is the caller's app (the API's IAM principal); None is an operator (the CLI), who reads
any. Another app's message is ``MessageNotFound``, as an unknown one is: an id tells nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from ses_feedback.errors import InvalidRequest, MessageNotFound
from ses_feedback.model.timeline import Timeline, TimelineList

if TYPE_CHECKING:
    from ses_feedback.edges.timeline import TimelineStore

# SES message ids and idempotency keys are short; anything longer is no key of ours.
MAX_KEY = 256


@dataclass
class Timelines:
    store: TimelineStore

    def show(self, message_id: str, app: str | None) -> Timeline:
        message_id = _key("message_id", message_id)
        timeline = self.store.read(message_id)
        if timeline is None or (app is not None and timeline.app != app):
            raise MessageNotFound(
                f"no message {message_id} of yours in the last retention period", "message_id"
            )
        return timeline

    def find(self, idempotency_key: str, app: str | None) -> TimelineList:
        key = _key("idempotency_key", idempotency_key)
        found = [self.store.read(message_id) for message_id in self.store.find(key)]
        return TimelineList(messages=[t for t in found if t is not None and (app is None or t.app == app)])


def _key(field: str, text: str) -> str:
    if not text or len(text) > MAX_KEY or not text.isprintable():
        raise InvalidRequest.of(field, f"must be 1-{MAX_KEY} printable characters")
    return text
