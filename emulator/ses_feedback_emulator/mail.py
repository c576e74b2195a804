"""What the local SES keeps of every message it accepted: the mailbox of ``local mailbox``.

Pure: one SES v2 ``SendEmail`` request and its message id in, one ``AcceptedMessage`` out,
with the headers SES puts on the wire (From, To, Cc, Reply-To, Subject, Date, Message-ID,
MIME-Version, the caller's own ``Simple.Headers``; a raw message's own headers), the text
and HTML parts, the tags, and what the mailbox simulator does with each recipient. Bcc
recipients are listed (SES knows them) but never appear in the headers.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import asdict, dataclass, field
from datetime import datetime
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import format_datetime
from typing import Any

from ses_feedback.model.moments import iso_z

from ses_feedback_emulator.simulator import Outcome, outcome_for

# SES's own limit on a message, after base64 (a raw message beyond it never reaches here,
# but the parser gets a hard bound of its own).
MAX_RAW_BYTES = 40 * 1024 * 1024
# moto builds its message ids from a random token; SES's Message-ID domain is per region.
_MESSAGE_ID_DOMAIN = "{region}.amazonses.com"

# What the mailbox shows for each simulator outcome (auto-replied: delivered, and answered).
_SHOWN = {
    Outcome.DELIVERED: "delivered",
    Outcome.BOUNCED: "bounced",
    Outcome.SUPPRESSED: "bounced",
    Outcome.COMPLAINED: "complained",
    Outcome.AUTO_REPLY: "auto_replied",
}


@dataclass(frozen=True)
class Recipient:
    address: str
    kind: str  # to, cc or bcc
    outcome: str  # delivered, bounced, complained or auto_replied
    detail: str | None = None  # the bounce's kind, for bounced recipients


@dataclass(frozen=True)
class AcceptedMessage:
    message_id: str
    accepted_at: str
    from_: str
    to: list[str]
    cc: list[str]
    bcc: list[str]
    subject: str | None
    headers: dict[str, str]
    text: str | None
    html: str | None
    tags: dict[str, str]
    configuration_set: str | None
    recipients: list[Recipient] = field(default_factory=list)
    template: dict[str, Any] | None = None
    region: str = "us-east-1"  # the SES that accepted it (each region's SES is its own)

    def as_json(self) -> dict[str, Any]:
        data = asdict(self)
        # "from" is a keyword in Python, not in the mailbox: first after the id and time.
        return {
            "message_id": data.pop("message_id"),
            "accepted_at": data.pop("accepted_at"),
            "from": data.pop("from_"),
            **data,
        }


def accepted_message(
    request: dict[str, Any], message_id: str, accepted_at: datetime, region: str = "us-east-1"
) -> AcceptedMessage:
    """The mailbox entry for one SES v2 SendEmail request that SES accepted."""
    destination = request.get("Destination", {})
    to = list(destination.get("ToAddresses", []))
    cc = list(destination.get("CcAddresses", []))
    bcc = list(destination.get("BccAddresses", []))
    sender = str(request.get("FromEmailAddress", ""))
    content = request.get("Content", {})
    tags = {t["Name"]: t["Value"] for t in request.get("EmailTags", [])}
    recipients = [
        Recipient(
            address=address,
            kind=kind,
            outcome=_SHOWN[outcome_for(address)],
            detail={Outcome.BOUNCED: "Permanent/General", Outcome.SUPPRESSED: "Permanent/Suppressed"}.get(
                outcome_for(address)
            ),
        )
        for kind, addresses in (("to", to), ("cc", cc), ("bcc", bcc))
        for address in addresses
    ]
    template = content.get("Template")
    if "Raw" in content:
        raw = _parse_raw(content["Raw"].get("Data", ""))
        sender = sender or str(raw.get("From", ""))
        subject = raw.get("Subject")
        headers = {name: str(value) for name, value in raw.items()}
        text, html = _part(raw, "plain"), _part(raw, "html")
    else:
        simple = content.get("Simple", {})
        subject = simple.get("Subject", {}).get("Data") if simple else None
        body = simple.get("Body", {})
        text, html = body.get("Text", {}).get("Data"), body.get("Html", {}).get("Data")
        headers = _simple_headers(
            request,
            message_id=message_id,
            accepted_at=accepted_at,
            region=region,
            subject=subject,
            text=text,
            html=html,
        )
    return AcceptedMessage(
        message_id=message_id,
        accepted_at=iso_z(accepted_at, "milliseconds"),
        from_=sender,
        to=to,
        cc=cc,
        bcc=bcc,
        subject=subject,
        headers=headers,
        text=text,
        html=html,
        tags=tags,
        configuration_set=request.get("ConfigurationSetName"),
        recipients=recipients,
        template={"name": template.get("TemplateName"), "data": template.get("TemplateData")}
        if template
        else None,
        region=region,
    )


def _simple_headers(
    request: dict[str, Any],
    *,
    message_id: str,
    accepted_at: datetime,
    region: str,
    subject: str | None,
    text: str | None,
    html: str | None,
) -> dict[str, str]:
    """The headers SES writes for a Simple message, then the caller's own (``Simple.Headers``)."""
    destination = request.get("Destination", {})
    headers: dict[str, str] = {"From": str(request.get("FromEmailAddress", ""))}
    for name, key in (("To", "ToAddresses"), ("Cc", "CcAddresses")):
        if destination.get(key):
            headers[name] = ", ".join(destination[key])
    if request.get("ReplyToAddresses"):
        headers["Reply-To"] = ", ".join(request["ReplyToAddresses"])
    if subject is not None:
        headers["Subject"] = subject
    headers["Message-ID"] = f"<{message_id}@{_MESSAGE_ID_DOMAIN.format(region=region)}>"
    headers["Date"] = format_datetime(accepted_at)
    headers["MIME-Version"] = "1.0"
    if text is not None and html is not None:
        headers["Content-Type"] = "multipart/alternative"
    else:
        headers["Content-Type"] = (
            "text/html; charset=UTF-8" if html is not None else "text/plain; charset=UTF-8"
        )
    simple = request.get("Content", {}).get("Simple", {})
    headers.update({h["Name"]: h["Value"] for h in simple.get("Headers", [])})
    return headers


def _parse_raw(data: str) -> EmailMessage:
    """A raw MIME message, as SES v2 takes it (base64 in the JSON request), read within SES's size."""
    if len(data) > MAX_RAW_BYTES:
        raise ValueError("raw message larger than SES accepts")
    try:
        raw = base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ValueError("raw message is not base64") from exc
    message = BytesParser(policy=policy.default).parsebytes(raw)
    assert isinstance(message, EmailMessage)  # policy.default builds EmailMessage
    return message


def _part(message: EmailMessage, subtype: str) -> str | None:
    part = message.get_body(preferencelist=(subtype,))
    if part is None or part.get_content_subtype() != subtype:
        return None
    content = part.get_content()
    return content if isinstance(content, str) else None
