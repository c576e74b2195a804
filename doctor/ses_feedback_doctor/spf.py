"""SPF (RFC 7208) as far as the doctor needs it: parse a record, follow its includes through
already-fetched TXT answers, count DNS look-ups, and say what a receiver would object to."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from ses_feedback_doctor.model import Lookup

SES_SPF_DOMAIN = "amazonses.com"
LOOKUP_LIMIT = 10  # RFC 7208 §4.6.4: more and the receiver returns permerror
MAX_DEPTH = 10  # include chains deeper than this are a loop or a mistake

_MECHANISMS = {"all", "include", "a", "mx", "ptr", "ip4", "ip6", "exists"}
_LOOKUP_MECHANISMS = {"include", "a", "mx", "ptr", "exists"}
_QUALIFIERS = "+-~?"


class SpfSyntaxError(ValueError):
    """A record a receiver would answer with permerror."""


@dataclass(frozen=True)
class Term:
    qualifier: str  # "+", "-", "~", "?"; "" for a modifier
    name: str  # mechanism or modifier name, lower case
    value: str | None  # domain-spec, address, or modifier value
    modifier: bool = False


@dataclass(frozen=True)
class SpfRecord:
    text: str
    terms: tuple[Term, ...]

    @property
    def all_qualifier(self) -> str | None:
        return next((t.qualifier for t in self.terms if t.name == "all" and not t.modifier), None)

    def targets(self) -> list[tuple[str, str]]:
        """(term, domain) for every include, and for redirect when no ``all`` overrides it."""
        found = [("include", t.value) for t in self.terms if t.name == "include" and t.value]
        if self.all_qualifier is None:
            found += [
                ("redirect", t.value) for t in self.terms if t.modifier and t.name == "redirect" and t.value
            ]
        return [(kind, domain.lower().rstrip(".")) for kind, domain in found]

    def own_lookups(self) -> int:
        count = sum(1 for t in self.terms if not t.modifier and t.name in _LOOKUP_MECHANISMS)
        if self.all_qualifier is None:
            count += sum(1 for t in self.terms if t.modifier and t.name == "redirect")
        return count


def is_spf(text: str) -> bool:
    lowered = text.strip().lower()
    return lowered == "v=spf1" or lowered.startswith("v=spf1 ")


def spf_records(lookup: Lookup) -> list[str]:
    return [text for text in lookup.records if is_spf(text)]


def parse(text: str) -> SpfRecord:
    words = text.split()
    if not words or words[0].lower() != "v=spf1":
        raise SpfSyntaxError(f"{text!r} does not start with v=spf1")
    terms = [_parse_term(word) for word in words[1:]]
    return SpfRecord(text=text, terms=tuple(terms))


def _parse_term(word: str) -> Term:
    name_end = next((i for i, char in enumerate(word) if char in ":/="), len(word))
    head = word[:name_end]
    if name_end < len(word) and word[name_end] == "=":
        name = head.lower()
        if not name or not name.replace("-", "").replace("_", "").replace(".", "").isalnum():
            raise SpfSyntaxError(f"bad modifier {word!r}")
        return Term(qualifier="", name=name, value=word[name_end + 1 :], modifier=True)
    qualifier = "+"
    if head[:1] in _QUALIFIERS:
        qualifier, head = head[0], head[1:]
    name = head.lower()
    if name not in _MECHANISMS:
        raise SpfSyntaxError(f"unknown mechanism {word!r}")
    rest = word[name_end:]
    value = rest[1:].split("/", 1)[0] if rest.startswith(":") else None
    if name in {"include", "exists", "ip4", "ip6"} and not value:
        raise SpfSyntaxError(f"{name} needs a value in {word!r}")
    return Term(qualifier=qualifier, name=name, value=value)


def has_macro(domain: str) -> bool:
    return "%{" in domain


@dataclass
class SpfEvaluation:
    """What following one SPF record (and everything it includes) found."""

    lookups: int = 0
    includes_amazonses: bool = False
    problems: list[str] = field(default_factory=list)


def evaluate(record: SpfRecord, targets: Mapping[str, Lookup]) -> SpfEvaluation:
    """Count look-ups and find amazonses.com through every include/redirect, depth first.

    ``targets`` holds the TXT answers for each domain reached (fetched by the DNS edge).
    """
    result = SpfEvaluation()
    _walk(record, targets, result, chain=())
    return result


def _walk(
    record: SpfRecord, targets: Mapping[str, Lookup], result: SpfEvaluation, chain: tuple[str, ...]
) -> None:
    result.lookups += record.own_lookups()
    for kind, domain in record.targets():
        if domain == SES_SPF_DOMAIN:
            result.includes_amazonses = True
        if has_macro(domain):
            continue  # expanded per message; its look-ups cannot be counted ahead
        if domain in chain or len(chain) >= MAX_DEPTH:
            result.problems.append(f"{kind}:{domain} loops back on itself")
            continue
        answer = targets.get(domain)
        if answer is None or answer.error:
            reason = answer.error if answer else "not fetched"
            result.problems.append(f"{kind}:{domain} could not be read ({reason})")
            continue
        found = spf_records(answer)
        if len(found) != 1:
            what = "has no SPF record" if not found else f"has {len(found)} SPF records"
            result.problems.append(f"{kind}:{domain} {what} (receivers return permerror)")
            continue
        try:
            nested = parse(found[0])
        except SpfSyntaxError as exc:
            result.problems.append(f"{kind}:{domain}: {exc}")
            continue
        _walk(nested, targets, result, (*chain, domain))
