"""The stream catalogue and what the preference page shows of one address: types only.

The catalogue names each bulk stream for people (a display name and a one-line description
per language); ``parsing.catalogue`` reads it, ``rules.preferences`` decides each stream's
standing for an address, and ``pages.preferences`` renders it.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from ses_feedback.model.reasons import Reason

DEFAULT_LANGUAGE = "en"  # every catalogue entry and every page text has it; the fallback


@dataclass(frozen=True)
class CatalogueEntry:
    """One bulk stream as people see it: ``title`` and ``description`` by language tag."""

    stream: str
    title: dict[str, str]
    description: dict[str, str]

    def title_in(self, language: str) -> str:
        return self.title.get(language) or self.title[DEFAULT_LANGUAGE]

    def description_in(self, language: str) -> str:
        return self.description.get(language) or self.description[DEFAULT_LANGUAGE]


@dataclass(frozen=True)
class Catalogue:
    entries: tuple[CatalogueEntry, ...] = ()

    def entry(self, stream: str) -> CatalogueEntry | None:
        return next((entry for entry in self.entries if entry.stream == stream), None)


class Standing(StrEnum):
    """How one bulk stream stands for an address, as the page says it."""

    RECEIVING = "receiving"
    LEFT = "left"  # the recipient left this stream (one click, or the page)
    LEFT_ALL = "left_all"  # the recipient left every bulk stream
    HELD = "held"  # a suppression the recipient cannot lift: complaint, bounce, manual, erased


@dataclass(frozen=True)
class StreamChoice:
    """One row of the page: a bulk stream, and what the address may do about it."""

    stream: str
    left: bool  # the recipient's own unsubscribe from this stream holds
    left_all: bool  # their own "leave every bulk stream" holds
    held_by: Reason | None  # what else keeps this stream's mail from the address, if anything

    @property
    def standing(self) -> Standing:
        if self.held_by is not None:
            return Standing.HELD
        if self.left_all:
            return Standing.LEFT_ALL
        return Standing.LEFT if self.left else Standing.RECEIVING


@dataclass(frozen=True)
class PreferenceView:
    """What the page may show: the link's stream, the address masked, and each bulk stream."""

    link_stream: str
    masked_address: str
    left_all: bool
    held_by: Reason | None  # a suppression the recipient cannot lift that holds every bulk stream
    choices: tuple[StreamChoice, ...]
