"""Small builders for DMARC reports in tests: one record, one report of a day."""

from __future__ import annotations

from datetime import datetime, timedelta

from ses_feedback.model.dmarc import (
    AuthResults,
    DkimResult,
    DmarcRecord,
    DmarcReport,
    PublishedPolicy,
    SpfResult,
)


def record(
    ip: str,
    count: int,
    *,
    dkim: str = "pass",
    spf: str = "fail",
    dkim_domain: str | None = "example.com",
    spf_domain: str = "mail.example.com",
    spf_result: str = "fail",
) -> DmarcRecord:
    """A record of ``count`` messages from ``ip``: the evaluated DKIM/SPF verdicts and the raw results."""
    return DmarcRecord(
        source_ip=ip,
        count=count,
        disposition="none",
        dkim=dkim,
        spf=spf,
        header_from="example.com",
        auth_results=AuthResults(
            dkim=(DkimResult(domain=dkim_domain, result=dkim),) if dkim_domain else (),
            spf=(SpfResult(domain=spf_domain, result=spf_result),),
        ),
    )


def passing(ip: str, count: int) -> DmarcRecord:
    """This stack's own mail: DKIM by the domain and SPF through the MAIL FROM both pass."""
    return record(ip, count, spf="pass", spf_result="pass")


def failing(ip: str, count: int, spf_domain: str = "forger.example") -> DmarcRecord:
    return record(ip, count, dkim="fail", dkim_domain=None, spf_domain=spf_domain)


def report(begin: datetime, *records: DmarcRecord, reporter: str = "google.com") -> DmarcReport:
    """One day's report about example.com, published p=none."""
    return DmarcReport(
        org_name=reporter,
        report_id=f"{reporter}-{begin:%Y%m%d}",
        domain="example.com",
        begin=begin,
        end=begin + timedelta(days=1) - timedelta(seconds=1),
        policy=PublishedPolicy(p="none"),
        records=records,
    )
