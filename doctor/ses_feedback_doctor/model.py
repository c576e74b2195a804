"""What the doctor knows (facts fetched from DNS and SES) and what it says (checks)."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class Status(StrEnum):
    PASS = "PASS"
    WARN = "WARN"
    FAIL = "FAIL"
    # The doctor could not check (a DNS server did not answer): not a verdict on the record,
    # and still exit 1, since nothing says the domain is ready.
    UNKNOWN = "UNKNOWN"


@dataclass(frozen=True)
class Check:
    """One verdict: ``fix`` is the exact record or action that turns it into a PASS."""

    id: str
    status: Status
    detail: str
    fix: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "status": self.status.value, "detail": self.detail, "fix": self.fix}


def failed(checks: list[Check]) -> bool:
    return any(check.status in (Status.FAIL, Status.UNKNOWN) for check in checks)


@dataclass(frozen=True)
class Target:
    """What is being checked: the From domain, its MAIL FROM domain, region and DKIM tokens."""

    domain: str
    region: str
    mail_from_domain: str
    dkim_tokens: tuple[str, ...] = ()
    topic_arn: str | None = None  # the feedback topic the event destination must reach, when known


def record(name: str, rtype: str, value: str) -> str:
    """A DNS record as the stack's Outputs and the SES console write it: ``name TYPE value``."""
    return f"{name} {rtype} {value}"


# ---- DNS facts ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Lookup:
    """The answer to one DNS query: its records, or the error that stopped the query.

    A name that does not exist (NXDOMAIN) or has no record of the type is not an error:
    it is an empty answer.
    """

    records: tuple[str, ...] = ()
    error: str | None = None


@dataclass(frozen=True)
class DnsFacts:
    dkim: dict[str, Lookup]  # token → CNAME at <token>._domainkey.<domain>
    mail_from_mx: Lookup  # "preference exchange", exchange without the final dot
    mail_from_txt: Lookup
    spf_targets: dict[str, Lookup]  # every domain an include/redirect reaches → its TXT records
    dmarc_txt: Lookup
    # Only when the domain has no DMARC record of its own: _dmarc.<parent> for each parent
    # below the TLD, nearest first, up to the first that has one (the DMARCbis tree walk).
    dmarc_parents: dict[str, Lookup] = field(default_factory=dict)


# ---- SES facts ---------------------------------------------------------------------------


@dataclass(frozen=True)
class IdentityFacts:
    verified_for_sending: bool
    verification_status: str | None = None
    dkim_signing_enabled: bool = False
    dkim_status: str | None = None
    dkim_origin: str | None = None
    dkim_next_key_length: str | None = None
    dkim_tokens: tuple[str, ...] = ()
    mail_from_domain: str | None = None
    mail_from_status: str | None = None
    mail_from_behavior_on_mx_failure: str | None = None
    configuration_set: str | None = None


@dataclass(frozen=True)
class EventDestination:
    name: str
    enabled: bool
    event_types: frozenset[str]
    sns_topic_arn: str | None = None


@dataclass(frozen=True)
class ConfigurationSetFacts:
    name: str
    exists: bool
    destinations: tuple[EventDestination, ...] = ()
    error: str | None = None  # why the event destinations could not be read


@dataclass(frozen=True)
class AccountFacts:
    production_access: bool
    sending_enabled: bool
    enforcement_status: str | None
    max_24_hour_send: float
    max_send_rate: float
    sent_last_24_hours: float


@dataclass(frozen=True)
class SesFacts:
    region: str
    identity: IdentityFacts | None  # None: SES has no such identity in this region
    configuration_set: ConfigurationSetFacts | None  # None: the identity names none, nor did the user
    account: AccountFacts | None
    errors: dict[str, str] = field(default_factory=dict)  # API operation → error that stopped it
