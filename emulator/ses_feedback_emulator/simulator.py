"""The SES mailbox simulator, for local mode: what real SES would publish for a sent message.

AWS documents the simulator addresses (``success@``, ``bounce@``, ``ooto@``, ``complaint@``,
``suppressionlist@simulator.amazonses.com``, each also with a ``+label``). This module turns
one sent message into the configuration-set event-publishing notifications SES would
publish for it: ``Send`` first, then per recipient ``Delivery`` / ``Bounce`` /
``Complaint``, shaped like the examples in the SES developer guide. Pure: the caller
passes the time and publishes the result. Addresses outside the simulator are delivered.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from ses_feedback.model.moments import iso_z

SIMULATOR_DOMAIN = "simulator.amazonses.com"
USER_AGENT = "Amazon SES Mailbox Simulator"
REPORTING_MTA = "dsn; a8-70.smtp-out.amazonses.com"


class Outcome(StrEnum):
    DELIVERED = "delivered"
    BOUNCED = "bounced"
    AUTO_REPLY = "auto_reply"  # delivered, and the mailbox answers the Return-Path (RFC 3834)
    COMPLAINED = "complained"  # delivered, then the recipient marks it as spam
    SUPPRESSED = "suppressed"  # bounced as if on SES's suppression list


_BY_MAILBOX = {
    "success": Outcome.DELIVERED,
    "bounce": Outcome.BOUNCED,
    "ooto": Outcome.AUTO_REPLY,
    "complaint": Outcome.COMPLAINED,
    "suppressionlist": Outcome.SUPPRESSED,
}


def bare_address(recipient: str) -> str:
    """``Jane <Bounce+x@Simulator.AmazonSES.com>`` → ``Bounce+x@Simulator.AmazonSES.com``."""
    return recipient.rsplit("<", 1)[-1].rstrip(">").strip()


def outcome_for(recipient: str) -> Outcome:
    """What the simulator does with mail to this recipient (``+label`` keeps the base behaviour)."""
    local, _, domain = bare_address(recipient).rpartition("@")
    if domain.lower() != SIMULATOR_DOMAIN:
        return Outcome.DELIVERED
    return _BY_MAILBOX.get(local.split("+", 1)[0].lower(), Outcome.DELIVERED)


@dataclass(frozen=True)
class SentMessage:
    """What SES knew of a message when it accepted it."""

    message_id: str
    source: str
    to: list[str]
    cc: list[str] = field(default_factory=list)
    bcc: list[str] = field(default_factory=list)
    subject: str | None = None
    tags: dict[str, str] = field(default_factory=dict)
    configuration_set: str | None = None
    sending_account_id: str = "123456789012"
    region: str = "us-east-1"
    source_ip: str = "127.0.0.1"

    @property
    def destination(self) -> list[str]:
        return [*self.to, *self.cc, *self.bcc]


@dataclass(frozen=True)
class AutoReply:
    """An RFC 3834 auto-reply that the ``ooto@`` mailbox sends to the Return-Path."""

    to: str
    in_reply_to: str
    subject: str
    headers: dict[str, str]


def _feedback_id(moment: datetime) -> str:
    return f"0100{int(moment.timestamp() * 1000):012x}-{uuid.uuid4()}-000000"


def _mail(message: SentMessage, sent_at: datetime) -> dict[str, Any]:
    domain = bare_address(message.source).rpartition("@")[2]
    tags: dict[str, list[str]] = {
        "ses:operation": ["SendEmail"],
        "ses:source-ip": [message.source_ip],
        "ses:from-domain": [domain],
        "ses:caller-identity": ["local"],
    }
    if message.configuration_set:
        tags["ses:configuration-set"] = [message.configuration_set]
    tags.update({name: [value] for name, value in message.tags.items()})
    headers = [
        {"name": "From", "value": message.source},
        {"name": "To", "value": ", ".join(message.to)},
        {"name": "Subject", "value": message.subject or ""},
        {"name": "MIME-Version", "value": "1.0"},
    ]
    common: dict[str, Any] = {"from": [message.source], "to": message.to, "messageId": message.message_id}
    if message.subject is not None:
        common["subject"] = message.subject
    if message.cc:
        common["cc"] = message.cc
    return {
        "timestamp": iso_z(sent_at, "milliseconds"),
        "source": message.source,
        "sourceArn": f"arn:aws:ses:{message.region}:{message.sending_account_id}:identity/{domain}",
        "sourceIp": message.source_ip,
        "sendingAccountId": message.sending_account_id,
        "messageId": message.message_id,
        "destination": message.destination,
        "headersTruncated": False,
        "headers": headers,
        "commonHeaders": common,
        "tags": tags,
    }


def rendering_failure(
    message: SentMessage, sent_at: datetime, template: str, error: str
) -> list[dict[str, Any]]:
    """What SES publishes for a templated send whose data does not render: Send, then
    Rendering Failure; the mail goes to nobody."""
    mail = _mail(message, sent_at)
    return [
        {"eventType": "Send", "mail": mail, "send": {}},
        {
            "eventType": "Rendering Failure",
            "mail": mail,
            "failure": {"templateName": template, "errorMessage": error},
        },
    ]


def notifications(message: SentMessage, sent_at: datetime) -> list[dict[str, Any]]:
    """Every notification SES would publish for ``message``, in the order it publishes them."""
    mail = _mail(message, sent_at)
    events: list[dict[str, Any]] = [{"eventType": "Send", "mail": mail, "send": {}}]
    delivered = [
        r
        for r in message.destination
        if outcome_for(r) in {Outcome.DELIVERED, Outcome.AUTO_REPLY, Outcome.COMPLAINED}
    ]
    later = sent_at + timedelta(milliseconds=700)
    if delivered:
        events.append(
            {
                "eventType": "Delivery",
                "mail": mail,
                "delivery": {
                    "timestamp": iso_z(later, "milliseconds"),
                    "processingTimeMillis": 700,
                    "recipients": [bare_address(r) for r in delivered],
                    "smtpResponse": "250 2.6.0 Message received",
                    "reportingMTA": "a8-70.smtp-out.amazonses.com",
                    "remoteMtaIp": "127.0.0.1",
                },
            }
        )
    for kind, sub_type, diagnostic, status in (
        (Outcome.BOUNCED, "General", "smtp; 550 5.1.1 user unknown", "5.1.1"),
        (
            Outcome.SUPPRESSED,
            "Suppressed",
            "Amazon SES has suppressed sending to this address because it has a recent history "
            "of bouncing as an invalid address.",
            "5.1.1",
        ),
    ):
        bounced = [bare_address(r) for r in message.destination if outcome_for(r) is kind]
        if bounced:
            events.append(
                {
                    "eventType": "Bounce",
                    "mail": mail,
                    "bounce": {
                        "bounceType": "Permanent",
                        "bounceSubType": sub_type,
                        "bouncedRecipients": [
                            {
                                "emailAddress": r,
                                "action": "failed",
                                "status": status,
                                "diagnosticCode": diagnostic,
                            }
                            for r in bounced
                        ],
                        "timestamp": iso_z(later, "milliseconds"),
                        "feedbackId": _feedback_id(later),
                        "reportingMTA": REPORTING_MTA,
                    },
                }
            )
    complainers = [bare_address(r) for r in message.destination if outcome_for(r) is Outcome.COMPLAINED]
    if complainers:
        complained_at = later + timedelta(milliseconds=300)
        events.append(
            {
                "eventType": "Complaint",
                "mail": mail,
                "complaint": {
                    "complainedRecipients": [{"emailAddress": r} for r in complainers],
                    "timestamp": iso_z(complained_at, "milliseconds"),
                    "feedbackId": _feedback_id(complained_at),
                    "complaintSubType": None,
                    "userAgent": USER_AGENT,
                    "complaintFeedbackType": "abuse",
                    "arrivalDate": iso_z(complained_at, "milliseconds"),
                },
            }
        )
    return events


def auto_replies(message: SentMessage) -> list[AutoReply]:
    """The out-of-office answers for ``message``: to the Return-Path, never a bounce."""
    return [
        AutoReply(
            to=bare_address(message.source),
            in_reply_to=message.message_id,
            subject=f"Automatic reply: {message.subject or ''}".strip(),
            headers={"Auto-Submitted": "auto-replied", "From": bare_address(r)},
        )
        for r in message.destination
        if outcome_for(r) is Outcome.AUTO_REPLY
    ]
