"""The stream catalogue's JSON document → ``Catalogue``, refused whole with the field at fault.

The document (``functions/unsubscribe/streams.json``; docs/sending.md says why a file and not
a template parameter) names each bulk stream for people::

    {"streams": [{"stream": "newsletter",
                  "title": {"en": "Newsletter", "ja": "ニュースレター"},
                  "description": {"en": "News of the month.", "ja": "毎月のお知らせ。"}}]}

Every entry has English (the fallback); other languages are optional. The page renders the
text as text (escaped), so it may hold any character but a control character.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError, model_validator

from ses_feedback.model.preferences import DEFAULT_LANGUAGE, Catalogue, CatalogueEntry
from ses_feedback.model.streams import STREAM_PATTERN
from ses_feedback.parsing.problems import invalid_request

MAX_STREAMS = 50  # a page a person reads, not a database
# A language tag as Accept-Language names it (RFC 5646's common shapes: "en", "ja", "pt-BR").
Language = Annotated[str, StringConstraints(pattern=r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$")]
Title = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=80, pattern=r"^[^\x00-\x1f\x7f]+$")
]
Description = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=300, pattern=r"^[^\x00-\x1f\x7f]+$"),
]


class _Entry(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    stream: str = Field(pattern=STREAM_PATTERN)
    title: dict[Language, Title]
    description: dict[Language, Description]

    @model_validator(mode="after")
    def _has_the_fallback(self) -> _Entry:
        for name, texts in (("title", self.title), ("description", self.description)):
            if DEFAULT_LANGUAGE not in texts:
                raise ValueError(f"{name} needs its '{DEFAULT_LANGUAGE}' text (the fallback language)")
        return self


class _Document(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    streams: list[_Entry] = Field(max_length=MAX_STREAMS)

    @model_validator(mode="after")
    def _each_stream_once(self) -> _Document:
        names = [entry.stream for entry in self.streams]
        twice = sorted({name for name in names if names.count(name) > 1})
        if twice:
            raise ValueError(f"each stream once: {', '.join(twice)} appears more than once")
        return self


def read_catalogue(text: str) -> Catalogue:
    """The catalogue in ``text``; ``InvalidRequest`` naming the field at fault."""
    try:
        document = _Document.model_validate_json(text)
    except ValidationError as exc:
        raise invalid_request(exc.errors()) from None
    return Catalogue(
        tuple(
            CatalogueEntry(stream=e.stream, title=dict(e.title), description=dict(e.description))
            for e in document.streams
        )
    )
