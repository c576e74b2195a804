"""SES: the only module that calls it. One SES v2 ``SendEmail`` per message, errors as domain types.

Throttling is retried by botocore itself (standard retry mode: exponential backoff with
jitter, and a retry quota so a struggling SES is not hammered); what is left after the last
attempt becomes ``SendingThrottled``.

Beside it, the sending guard's one read: the reputation alarms' states (CloudWatch
``DescribeAlarms``), remembered for a minute per container.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from ses_feedback.errors import (
    MailFromNotVerified,
    MessageRejected,
    SendError,
    SendingPaused,
    SendingThrottled,
    SesFailure,
)
from ses_feedback.guard import AlarmState
from ses_feedback.observability import logger

if TYPE_CHECKING:
    from mypy_boto3_cloudwatch import CloudWatchClient
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


@dataclass(frozen=True)
class OutgoingMessage:
    """A message as SES will get it: addresses already checked against the suppression list."""

    sender: str
    to: Sequence[str] = ()
    cc: Sequence[str] = ()
    bcc: Sequence[str] = ()
    reply_to: Sequence[str] = ()
    subject: str | None = None
    text: str | None = None
    html: str | None = None
    template_name: str | None = None
    template_data: str | None = None  # JSON text, as SES takes it
    tags: Mapping[str, str] = field(default_factory=dict)


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
        """Send one message; return SES's message id or raise a ``SendError``."""
        try:
            response = self.client.send_email(**send_email_request(message, self.configuration_set))
        except ClientError as exc:
            raise ses_error(exc) from exc
        return response["MessageId"]


def ses_error(exc: ClientError) -> SendError:
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


# ---- the sending guard's read: reputation alarm states ---------------------------------------

# A send must not pay a DescribeAlarms call each time: the states are read at most once a
# minute per container. Reputation alarms evaluate every 15 minutes, so a minute late is
# nothing; it also keeps a busy sender far below CloudWatch's DescribeAlarms rate limit.
ALARM_STATES_TTL_SECONDS = 60.0

# Short timeouts and one retry: an unreadable alarm lets mail through (see guard.check), so
# a slow CloudWatch must not hold a send for long either.
_CLOUDWATCH_CONFIG = Config(
    connect_timeout=2, read_timeout=2, retries={"mode": "standard", "total_max_attempts": 2}
)


def cloudwatch_client() -> CloudWatchClient:
    return boto3.client("cloudwatch", config=_CLOUDWATCH_CONFIG)


def read_alarm_states(client: CloudWatchClient, names: Sequence[str]) -> dict[str, AlarmState | None]:
    """Each alarm's state; ``None`` for one CloudWatch did not return or could not be asked."""
    if not names:
        return {}
    try:
        response = client.describe_alarms(AlarmNames=list(names), AlarmTypes=["MetricAlarm"])
    except (ClientError, BotoCoreError) as exc:
        code = (
            exc.response.get("Error", {}).get("Code", "Unknown")
            if isinstance(exc, ClientError)
            else type(exc).__name__
        )
        logger.warning(
            "reputation alarms unreadable; the sending guard lets mail through", extra={"code": code}
        )
        return dict.fromkeys(names)
    found = {
        alarm["AlarmName"]: AlarmState(alarm["StateValue"]) for alarm in response.get("MetricAlarms", [])
    }
    return {name: found.get(name) for name in names}


class AlarmStates:
    """The reputation alarms' states, read at most once per ``ttl`` seconds (client built on first read).

    An unreadable answer is remembered for the same time: a failing CloudWatch is not asked
    again on every send.
    """

    def __init__(
        self,
        names: Sequence[str],
        ttl: float = ALARM_STATES_TTL_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.names = tuple(names)
        self.ttl = ttl
        self.clock = clock
        self._states: dict[str, AlarmState | None] = {}
        self._read_at: float | None = None

    @cached_property
    def client(self) -> CloudWatchClient:
        return cloudwatch_client()

    def current(self) -> Mapping[str, AlarmState | None]:
        now = self.clock()
        if self._read_at is None or now - self._read_at >= self.ttl:
            self._states = read_alarm_states(self.client, self.names)
            self._read_at = now
        return self._states
