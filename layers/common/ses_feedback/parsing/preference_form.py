"""The preference page's form → ``PreferenceForm``: which change the recipient asked for.

The page's forms post ``action=unsubscribe|resubscribe`` with ``stream=S``, or
``action=unsubscribe_all|resubscribe_all`` alone, to the link's own URL. Every field at most
once, no other field: a form that says something else is refused, never guessed at.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ses_feedback.errors import InvalidRequest
from ses_feedback.model.streams import STREAM_PATTERN
from ses_feedback.parsing.problems import invalid_request


class FormAction(StrEnum):
    UNSUBSCRIBE = "unsubscribe"  # leave one stream
    UNSUBSCRIBE_ALL = "unsubscribe_all"  # leave every bulk stream, later ones too
    RESUBSCRIBE = "resubscribe"  # rejoin one stream the recipient left
    RESUBSCRIBE_ALL = "resubscribe_all"  # undo "leave every bulk stream"

    @property
    def names_a_stream(self) -> bool:
        return self in (FormAction.UNSUBSCRIBE, FormAction.RESUBSCRIBE)

    @property
    def leaves(self) -> bool:
        return self in (FormAction.UNSUBSCRIBE, FormAction.UNSUBSCRIBE_ALL)


class PreferenceForm(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    action: FormAction
    stream: str | None = Field(default=None, pattern=STREAM_PATTERN)


def read_preference_form(fields: Sequence[tuple[str, str]]) -> PreferenceForm:
    """The form's fields (in order, as sent) → the change; ``InvalidRequest`` naming the field."""
    names = [name for name, _ in fields]
    twice = sorted({name for name in names if names.count(name) > 1})
    if twice:
        raise InvalidRequest.of(twice[0], "give it once")
    try:
        form = PreferenceForm.model_validate(dict(fields))
    except ValidationError as exc:
        raise invalid_request(exc.errors()) from None
    if form.action.names_a_stream and form.stream is None:
        raise InvalidRequest.of("stream", f"action {form.action.value} needs the stream")
    if not form.action.names_a_stream and form.stream is not None:
        raise InvalidRequest.of("stream", f"action {form.action.value} takes no stream")
    return form
