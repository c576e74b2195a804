"""Local mode for DMARC reports: what SES email receiving does, played on the local stack.

SES stores each received message in the report bucket (the receipt rule's S3 action) and
then invokes DmarcReportFunction with the receipt event; ``ingest`` does both.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from ses_feedback.edges.report_mail import ReportMailBucket

from ses_feedback_cli.local import LocalContext, LocalStack, load_handler

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
    stamp = now.astimezone(UTC).isoformat().replace("+00:00", "Z")
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
    ReportMailBucket(resolver.refs["DmarcReportBucket"]).put_incoming(
        message_id, as_mail(path, data, recipient)
    )
    handler = load_handler(stack, "DmarcReportFunction", quiet=True)
    function_arn = resolver.attributes[("DmarcReportFunction", "Arn")]
    event = ses_receipt_event(message_id, recipient, function_arn, datetime.now(UTC))
    result: dict[str, Any] = handler(event, LocalContext(function_name=stack.name("DmarcReportFunction")))
    (outcome,) = result["messages"]
    return outcome  # type: ignore[no-any-return]
