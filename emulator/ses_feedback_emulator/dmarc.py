"""Local mode for DMARC reports: what SES email receiving does, played on the local stack.

SES stores each received message in the report bucket (the receipt rule's S3 action) and
then invokes DmarcReportFunction with the receipt event; ``ingest`` does both.
"""

from __future__ import annotations

import gzip
import uuid
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from ses_feedback import wiring
from ses_feedback.model.moments import iso_z
from ses_feedback_stack.names import LocalStack

from ses_feedback_emulator.lambdas import LocalContext, load_handler

_ATTACHMENT_TYPES = {".gz": ("application", "gzip"), ".zip": ("application", "zip")}


def report_address(stack: LocalStack) -> str:
    resolver = stack.resolver()
    return (
        f"{resolver.parameter('DmarcReportsLocalPart')}@{resolver.parameter('DmarcReportsSubdomain')}."
        f"{resolver.parameter('SendingDomain')}"
    )


def as_mail(path: Path, data: bytes, recipient: str) -> bytes:
    """A report file as a reporter mails it (a mail message, ``.eml``, is kept as it is)."""
    if path.suffix.lower() == ".eml":
        return data
    message = EmailMessage()
    message["From"] = "dmarc-reporter@reporter.example"
    message["To"] = recipient
    message["Subject"] = f"Report domain: {recipient.split('@', 1)[1]} Submitter: reporter.example"
    message.set_content("This is an aggregate DMARC report.")
    maintype, subtype = _ATTACHMENT_TYPES.get(path.suffix.lower(), ("text", "xml"))
    message.add_attachment(data, maintype=maintype, subtype=subtype, filename=path.name)
    return message.as_bytes()


def ses_receipt_event(message_id: str, recipient: str, function_arn: str, now: datetime) -> dict[str, Any]:
    """The event SES's Lambda action gives the function (the parts it reads, and a few more)."""
    stamp = iso_z(now)
    return {
        "Records": [
            {
                "eventSource": "aws:ses",
                "eventVersion": "1.0",
                "ses": {
                    "mail": {
                        "timestamp": stamp,
                        "source": "dmarc-reporter@reporter.example",
                        "messageId": message_id,
                        "destination": [recipient],
                        "headersTruncated": False,
                        "headers": [],
                        "commonHeaders": {"returnPath": "dmarc-reporter@reporter.example", "to": [recipient]},
                    },
                    "receipt": {
                        "timestamp": stamp,
                        "processingTimeMillis": 100,
                        "recipients": [recipient],
                        "spamVerdict": {"status": "PASS"},
                        "virusVerdict": {"status": "PASS"},
                        "spfVerdict": {"status": "PASS"},
                        "dkimVerdict": {"status": "PASS"},
                        "dmarcVerdict": {"status": "PASS"},
                        "action": {"type": "Lambda", "functionArn": function_arn, "invocationType": "Event"},
                    },
                },
            }
        ]
    }


def ingest(stack: LocalStack, path: Path, data: bytes) -> dict[str, Any]:
    """Store one file in the local report bucket as SES would, then run DmarcReportFunction."""
    resolver = stack.resolver()
    recipient = report_address(stack)
    message_id = uuid.uuid4().hex
    reports = wiring.dmarc_reports_for(resolver.refs["DmarcReportTable"], resolver.refs["DmarcReportBucket"])
    reports.receive(message_id, as_mail(path, data, recipient))
    handler = load_handler(stack, "DmarcReportFunction", quiet=True)
    function_arn = resolver.attributes[("DmarcReportFunction", "Arn")]
    event = ses_receipt_event(message_id, recipient, function_arn, datetime.now(UTC))
    result: dict[str, Any] = handler(event, LocalContext(function_name=stack.name("DmarcReportFunction")))
    (outcome,) = result["messages"]
    return outcome  # type: ignore[no-any-return]


# ---- the demo: one report, as a mailbox provider would send it about the demo's sending ----

_DEMO_REPORT = """<?xml version="1.0" encoding="UTF-8"?>
<feedback xmlns="urn:ietf:params:xml:ns:dmarc-2.0">
  <version>1.0</version>
  <report_metadata>
    <org_name>receiver.example</org_name>
    <email>dmarc-reports@receiver.example</email>
    <report_id>demo-{begin}</report_id>
    <date_range><begin>{begin}</begin><end>{end}</end></date_range>
  </report_metadata>
  <policy_published><domain>{domain}</domain><p>none</p><adkim>r</adkim><aspf>r</aspf></policy_published>
  <record>
    <row>
      <source_ip>54.240.8.1</source_ip><count>{sent}</count>
      <policy_evaluated><disposition>none</disposition><dkim>pass</dkim><spf>pass</spf></policy_evaluated>
    </row>
    <identifiers><header_from>{domain}</header_from><envelope_from>{mail_from}</envelope_from></identifiers>
    <auth_results>
      <dkim><domain>{domain}</domain><selector>demo</selector><result>pass</result></dkim>
      <spf><domain>{mail_from}</domain><scope>mfrom</scope><result>pass</result></spf>
    </auth_results>
  </record>
  <record>
    <row>
      <source_ip>203.0.113.66</source_ip><count>3</count>
      <policy_evaluated><disposition>none</disposition><dkim>fail</dkim><spf>fail</spf></policy_evaluated>
    </row>
    <identifiers><header_from>{domain}</header_from><envelope_from>forger.example</envelope_from></identifiers>
    <auth_results><spf><domain>forger.example</domain><scope>mfrom</scope><result>fail</result></spf></auth_results>
  </record>
</feedback>
"""


def demo_report(stack: LocalStack, sent: int, now: datetime) -> tuple[str, bytes]:
    """A gzipped report of yesterday: the demo's mail passing, and a forger failing."""
    resolver = stack.resolver()
    domain = resolver.parameter("SendingDomain")
    mail_from = f"{resolver.parameter('MailFromSubdomain')}.{domain}"
    end = int(now.timestamp()) // 86400 * 86400 - 1
    begin = end - 86399
    xml = _DEMO_REPORT.format(begin=begin, end=end, domain=domain, mail_from=mail_from, sent=sent)
    return f"receiver.example!{domain}!{begin}!{end}.xml.gz", gzip.compress(xml.encode())


def demo(stack: LocalStack, sent: int) -> list[str]:
    """Ingest the demo's report and say what the summary makes of it."""
    from ses_feedback.rules.dmarc import OwnSending

    name, data = demo_report(stack, sent, datetime.now(UTC))
    outcome = ingest(stack, Path(name), data)
    resolver = stack.resolver()
    domain = resolver.parameter("SendingDomain")
    own = OwnSending(domain=domain, mail_from_domain=f"{resolver.parameter('MailFromSubdomain')}.{domain}")
    summary = wiring.dmarc_reports_for(resolver.refs["DmarcReportTable"]).summary(domain, own)
    rate = f"{summary.pass_rate:.1%}" if summary.pass_rate is not None else "-"
    lines = [
        f"    report {name}: {outcome['stored']} stored",
        f"    {domain}: {summary.messages} message(s), {summary.passed} passed DMARC ({rate})",
        f"    verdict: p={summary.verdict.policy}: {summary.verdict.reason}",
    ]
    lines += [
        f"    {source.source_ip}: {source.messages} message(s), {source.passed} passed, "
        f"{'this stack' if source.own else 'not this stack'}"
        for source in summary.sources
    ]
    return lines
