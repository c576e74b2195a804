"""The DNS records SES wants for a domain, written the way the fixes print them."""

from __future__ import annotations

from ses_feedback_doctor.model import Target, record

SPF_FOR_SES = '"v=spf1 include:amazonses.com ~all"'


def feedback_endpoint(region: str) -> str:
    return f"feedback-smtp.{region}.amazonses.com"


def dkim_record(token: str, domain: str) -> str:
    return record(f"{token}._domainkey.{domain}", "CNAME", f"{token}.dkim.amazonses.com")


def mail_from_mx_record(target: Target) -> str:
    return record(target.mail_from_domain, "MX", f"10 {feedback_endpoint(target.region)}")


def suggested_dmarc_record(domain: str) -> str:
    return record(f"_dmarc.{domain}", "TXT", f'"v=DMARC1; p=none; rua=mailto:dmarc-reports@{domain}"')
