"""DMARC aggregate reports (RFC 7489 appendix C, RFC 9990): what one report says.

Values are kept as the reporter wrote them, lower-cased (reporters write ``Pass`` and
``pass`` alike); an element the report left out is ``None``, never a guessed default.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from ses_feedback.model.moments import iso_z

# Where SES receiving puts a report message in the bucket (the receipt rule's prefix), and
# where an unreadable one is moved: never retried, counted.
INCOMING_PREFIX = "incoming/"
REJECTED_PREFIX = "rejected/"


class DkimResult(BaseModel):
    model_config = ConfigDict(frozen=True)

    domain: str
    selector: str | None = None
    result: str | None = None


class SpfResult(BaseModel):
    model_config = ConfigDict(frozen=True)

    domain: str
    scope: str | None = None
    result: str | None = None


class AuthResults(BaseModel):
    """Why a record passed or failed: the raw DKIM and SPF results the receiver saw."""

    model_config = ConfigDict(frozen=True)

    dkim: tuple[DkimResult, ...] = ()
    spf: tuple[SpfResult, ...] = ()


class DmarcRecord(BaseModel):
    """One row: messages from one source IP with one outcome."""

    model_config = ConfigDict(frozen=True)

    source_ip: str
    count: int = Field(ge=0)
    disposition: str
    dkim: str | None  # policy_evaluated: the aligned DKIM verdict
    spf: str | None  # policy_evaluated: the aligned SPF verdict
    header_from: str
    envelope_from: str | None = None
    auth_results: AuthResults = AuthResults()

    @property
    def passed(self) -> bool:
        """DMARC passes when the aligned DKIM or the aligned SPF result is pass."""
        return self.dkim == "pass" or self.spf == "pass"


class PublishedPolicy(BaseModel):
    """The DMARC record the receiver found (``policy_published``)."""

    model_config = ConfigDict(frozen=True)

    p: str
    sp: str | None = None
    np: str | None = None
    adkim: str | None = None
    aspf: str | None = None
    pct: int | None = None
    testing: str | None = None


class DmarcReport(BaseModel):
    model_config = ConfigDict(frozen=True)

    org_name: str
    email: str | None = None
    report_id: str = Field(min_length=1)
    domain: str = Field(min_length=1)
    begin: datetime
    end: datetime
    policy: PublishedPolicy
    records: tuple[DmarcRecord, ...]

    @property
    def reporter(self) -> str:
        """Who sent it: the organisation, else (an empty ``org_name``) its contact address."""
        return self.org_name or self.email or ""

    @property
    def messages(self) -> int:
        return sum(record.count for record in self.records)

    @property
    def dmarc_pass(self) -> int:
        return sum(record.count for record in self.records if record.passed)

    def as_json(self) -> dict[str, Any]:
        """The one-line JSON shape that ``dmarc parse --json`` prints (docs/dmarc.md documents it)."""
        return {
            "org_name": self.org_name,
            "report_id": self.report_id,
            "domain": self.domain,
            "begin": iso_z(self.begin),
            "end": iso_z(self.end),
            "policy": self.policy.model_dump(),
            "messages": self.messages,
            "dmarc_pass": self.dmarc_pass,
            "records": [record.model_dump(mode="json") for record in self.records],
        }
