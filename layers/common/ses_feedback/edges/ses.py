"""SES sending: one SES v2 ``SendEmail`` per message, SES's refusals as domain errors.

Throttling is retried by botocore itself (standard retry mode: exponential backoff with
jitter, and a retry quota so a struggling SES is not hammered); what is left after the last
attempt becomes ``SendingThrottled``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from ses_feedback.errors import (
    MailFromNotVerified,
    MessageRejected,
    SendingPaused,
    SendingThrottled,
    SesFailure,
    SesFeedbackError,
)
from ses_feedback.model.message import OutgoingMessage

if TYPE_CHECKING:
    from mypy_boto3_sesv2 import SESV2Client

# Attempts in all, first one included. With standard mode's backoff (random up to 2^n s,
# capped at 20 s) four attempts stay well inside the function's 30 s timeout.
SES_MAX_ATTEMPTS = 4

# SES v2 error codes that mean "slow down" (botocore retries these before we see them).
_THROTTLING = {"TooManyRequestsException", "LimitExceededException", "Throttling", "ThrottlingException"}
_PAUSED = {"AccountSuspendedException", "SendingPausedException"}


def sesv2_client() -> SESV2Client:
    return boto3.client(
        "sesv2", config=Config(retries={"mode": "standard", "total_max_attempts": SES_MAX_ATTEMPTS})
    )


def send_email_request(message: OutgoingMessage, configuration_set: str | None) -> dict[str, Any]:
    """The SendEmail parameters for one message (pure: the tests read it without SES)."""
    destination = {
        key: list(addresses)
        for key, addresses in (
            ("ToAddresses", message.to),
            ("CcAddresses", message.cc),
            ("BccAddresses", message.bcc),
        )
        if addresses
    }
    content: dict[str, Any]
    if message.template_name is not None:
        content = {
            "Template": {"TemplateName": message.template_name, "TemplateData": message.template_data or "{}"}
        }
    else:
        body = {
            part: {"Data": value, "Charset": "UTF-8"}
            for part, value in (("Text", message.text), ("Html", message.html))
            if value is not None
        }
        content = {"Simple": {"Subject": {"Data": message.subject or "", "Charset": "UTF-8"}, "Body": body}}
    if message.headers:
        # SES v2 adds these to the message it signs with DKIM (RFC 8058 wants both
        # List-Unsubscribe headers covered by the signature).
        part = content["Template"] if "Template" in content else content["Simple"]
        part["Headers"] = [{"Name": name, "Value": value} for name, value in message.headers.items()]
    request: dict[str, Any] = {
        "FromEmailAddress": message.sender,
        "Destination": destination,
        "Content": content,
        "EmailTags": [{"Name": name, "Value": value} for name, value in message.tags.items()],
    }
    if message.reply_to:
        request["ReplyToAddresses"] = list(message.reply_to)
    if configuration_set:
        request["ConfigurationSetName"] = configuration_set
    return request


class SesGateway:
    def __init__(self, configuration_set: str | None, client: SESV2Client | None = None) -> None:
        self.configuration_set = configuration_set
        self.client: SESV2Client = client or sesv2_client()

    def send(self, message: OutgoingMessage) -> str:
        """Send one message; return SES's message id or raise the refusal."""
        try:
            response = self.client.send_email(**send_email_request(message, self.configuration_set))
        except ClientError as exc:
            raise ses_error(exc) from exc
        return response["MessageId"]


def ses_error(exc: ClientError) -> SesFeedbackError:
    """SES's refusal → the domain error the answer is made from."""
    code = exc.response.get("Error", {}).get("Code", "Unknown")
    text = exc.response.get("Error", {}).get("Message", "")
    if code == "MessageRejected":
        return MessageRejected(f"SES rejected the message: {text}".rstrip(": "))
    if code == "MailFromDomainNotVerifiedException":
        return MailFromNotVerified("the sending domain's custom MAIL FROM domain is not verified in SES")
    if code in _PAUSED:
        return SendingPaused(f"SES sending is paused for this account ({code})")
    if code in _THROTTLING:
        return SendingThrottled(f"SES is throttling sends ({code}); retry later")
    return SesFailure(f"SES refused the request ({code})")
