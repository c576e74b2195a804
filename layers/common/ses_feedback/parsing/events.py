"""What SES sends: both notification shapes, inside every envelope they arrive in.

SES publishes feedback in two shapes: configuration-set event publishing (``eventType``)
and identity notifications (``notificationType``). Either can arrive as the body of an
SQS message that holds an SNS envelope (``Message`` is a JSON *string*), as a raw SQS
body (raw message delivery), or inside a direct SNS Lambda event. Models ignore unknown
fields, because SES says it will add fields; unknown bounce subtypes and event types are
kept as strings so that the policy, not the parser, decides what they mean.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Any

from aws_lambda_powertools.utilities.parser.models import SnsNotificationModel
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, model_validator

from ses_feedback.errors import InvalidNotification
from ses_feedback.model.streams import STREAM_TAG, is_stream_name

# SES's documented mail example carries "2018-10-08T14:05:45 +0000": a space before a
# colon-less offset. Everything else is ISO 8601 (Z, .000Z or a numeric offset).
_SPACED_OFFSET = re.compile(r"\s+([+-]\d{2}):?(\d{2})$")


def _parse_timestamp(value: Any) -> Any:
    if isinstance(value, str):
        text = _SPACED_OFFSET.sub(r"\1:\2", value.strip())
        try:
            parsed = datetime.fromisoformat(text)
        except ValueError:
            # fromisoformat's message quotes the value, and the refusal is logged: name the rule only.
            raise ValueError("not an ISO 8601 timestamp") from None
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    return value


SesTimestamp = Annotated[datetime, BeforeValidator(_parse_timestamp)]


class EventType(StrEnum):
    """Every feedback type SES publishes; the values are SES's own spelling."""

    SEND = "Send"
    REJECT = "Reject"
    BOUNCE = "Bounce"
    COMPLAINT = "Complaint"
    DELIVERY = "Delivery"
    DELIVERY_DELAY = "DeliveryDelay"
    OPEN = "Open"
    CLICK = "Click"
    RENDERING_FAILURE = "Rendering Failure"
    SUBSCRIPTION = "Subscription"


class _SesModel(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class Mail(_SesModel):
    timestamp: SesTimestamp
    message_id: str = Field(alias="messageId", min_length=1)
    source: str | None = None
    destination: list[str] = Field(default_factory=list)
    tags: dict[str, list[str]] | None = None


class BouncedRecipient(_SesModel):
    email_address: str = Field(alias="emailAddress")
    action: str | None = None
    status: str | None = None
    diagnostic_code: str | None = Field(default=None, alias="diagnosticCode")


class Bounce(_SesModel):
    bounce_type: str = Field(alias="bounceType")
    bounce_sub_type: str = Field(alias="bounceSubType")
    bounced_recipients: list[BouncedRecipient] = Field(alias="bouncedRecipients", min_length=1)
    timestamp: SesTimestamp
    feedback_id: str = Field(alias="feedbackId")
    reporting_mta: str | None = Field(default=None, alias="reportingMTA")


class ComplainedRecipient(_SesModel):
    email_address: str = Field(alias="emailAddress")


class Complaint(_SesModel):
    complained_recipients: list[ComplainedRecipient] = Field(alias="complainedRecipients", min_length=1)
    timestamp: SesTimestamp
    feedback_id: str = Field(alias="feedbackId")
    complaint_sub_type: str | None = Field(default=None, alias="complaintSubType")
    complaint_feedback_type: str | None = Field(default=None, alias="complaintFeedbackType")
    arrival_date: SesTimestamp | None = Field(default=None, alias="arrivalDate")


class Delivery(_SesModel):
    timestamp: SesTimestamp
    recipients: list[str] = Field(min_length=1)
    processing_time_millis: int | None = Field(default=None, alias="processingTimeMillis")
    smtp_response: str | None = Field(default=None, alias="smtpResponse")


class DelayedRecipient(_SesModel):
    email_address: str = Field(alias="emailAddress")
    status: str | None = None
    diagnostic_code: str | None = Field(default=None, alias="diagnosticCode")


class DeliveryDelay(_SesModel):
    delay_type: str | None = Field(default=None, alias="delayType")
    delayed_recipients: list[DelayedRecipient] = Field(default_factory=list, alias="delayedRecipients")
    expiration_time: SesTimestamp | None = Field(default=None, alias="expirationTime")
    timestamp: SesTimestamp | None = None


class Reject(_SesModel):
    reason: str | None = None


class Open(_SesModel):
    timestamp: SesTimestamp | None = None


class Click(_SesModel):
    timestamp: SesTimestamp | None = None
    link: str | None = None
    link_tags: dict[str, list[str]] | None = Field(default=None, alias="linkTags")


class RenderingFailure(_SesModel):
    error_message: str | None = Field(default=None, alias="errorMessage")
    template_name: str | None = Field(default=None, alias="templateName")


class Subscription(_SesModel):
    contact_list: str | None = Field(default=None, alias="contactList")
    timestamp: SesTimestamp | None = None


# The payload key that carries each type's details; "Rendering Failure" uses "failure".
_PAYLOAD_KEY: dict[EventType, str] = {
    EventType.SEND: "send",
    EventType.REJECT: "reject",
    EventType.BOUNCE: "bounce",
    EventType.COMPLAINT: "complaint",
    EventType.DELIVERY: "delivery",
    EventType.DELIVERY_DELAY: "deliveryDelay",
    EventType.OPEN: "open",
    EventType.CLICK: "click",
    EventType.RENDERING_FAILURE: "failure",
    EventType.SUBSCRIPTION: "subscription",
}
# Only these carry the recipients that the suppression policy acts on; they must be present.
_REQUIRED_PAYLOAD = {EventType.BOUNCE, EventType.COMPLAINT, EventType.DELIVERY}


class FeedbackEvent(_SesModel):
    """One SES notification of either shape.

    ``type`` is None for a type this code does not know (acknowledged and counted, never
    failed); ``raw_type`` keeps SES's word for it either way.
    """

    raw_type: str
    type: EventType | None
    shape: str  # "event" (configuration-set event publishing) or "notification" (identity)
    mail: Mail
    bounce: Bounce | None = None
    complaint: Complaint | None = None
    delivery: Delivery | None = None
    delivery_delay: DeliveryDelay | None = Field(default=None, alias="deliveryDelay")
    reject: Reject | None = None
    open: Open | None = None
    click: Click | None = None
    failure: RenderingFailure | None = None
    subscription: Subscription | None = None

    model_config = ConfigDict(extra="ignore", frozen=True, populate_by_name=True)

    @model_validator(mode="before")
    @classmethod
    def _read_type(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            raise ValueError("an SES notification is a JSON object")
        if isinstance(data.get("eventType"), str):
            raw_type, shape = data["eventType"], "event"
        elif isinstance(data.get("notificationType"), str):
            raw_type, shape = data["notificationType"], "notification"
        else:
            raise ValueError("neither eventType nor notificationType is present")
        known = raw_type if raw_type in EventType._value2member_map_ else None
        if known in _REQUIRED_PAYLOAD and not isinstance(data.get(_PAYLOAD_KEY[EventType(known)]), dict):
            raise ValueError(f"a {known} notification needs its '{_PAYLOAD_KEY[EventType(known)]}' object")
        return {**data, "raw_type": raw_type, "type": known, "shape": shape}

    @property
    def timestamp(self) -> datetime:
        """When the event happened, by SES's account of it; the mail's timestamp if no other."""
        details = self.bounce or self.complaint or self.delivery
        return details.timestamp if details else self.mail.timestamp

    @property
    def feedback_id(self) -> str | None:
        details = self.bounce or self.complaint
        return details.feedback_id if details else None

    @property
    def stream(self) -> str | None:
        """The stream the message was sent on (its ``stream`` tag); None when unknown.

        Identity notifications carry no tags; a tag that is not a stream name counts as unknown.
        """
        values = (self.mail.tags or {}).get(STREAM_TAG) or []
        return values[0] if len(values) == 1 and is_stream_name(values[0]) else None

    @property
    def recipients(self) -> list[str]:
        """The addresses this event is about, as SES wrote them."""
        if self.bounce:
            return [r.email_address for r in self.bounce.bounced_recipients]
        if self.complaint:
            return [r.email_address for r in self.complaint.complained_recipients]
        if self.delivery:
            return list(self.delivery.recipients)
        if self.delivery_delay:
            return [r.email_address for r in self.delivery_delay.delayed_recipients]
        return list(self.mail.destination)


def describe_validation_error(error: ValidationError) -> str:
    """Say which fields were wrong without echoing their values (they may be addresses)."""
    parts = []
    for item in error.errors(include_input=False, include_url=False):
        where = ".".join(str(p) for p in item["loc"]) or "message"
        parts.append(f"{where}: {item['msg']}")
    return "; ".join(parts)


def _loads(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidNotification(f"not JSON: {exc.msg} at position {exc.pos}") from None
    except ValueError:
        # json raises a plain ValueError for an integer of more than 4300 digits.
        raise InvalidNotification("not JSON that can be read: a number is too long") from None
    except RecursionError:
        # Arrays or objects nested past Python's recursion limit: fail this record, not the batch.
        raise InvalidNotification("not JSON that can be read: nested too deep") from None


def parse_ses_message(message: str | dict[str, Any]) -> FeedbackEvent:
    """Parse one SES notification, given as JSON text or an already decoded object."""
    data = _loads(message) if isinstance(message, str) else message
    try:
        return FeedbackEvent.model_validate(data)
    except ValidationError as exc:
        raise InvalidNotification(describe_validation_error(exc)) from None


def parse_sqs_body(body: str) -> FeedbackEvent:
    """An SQS body is an SNS envelope around the SES JSON, or (raw delivery) the SES JSON itself."""
    data = _loads(body)
    if isinstance(data, dict) and "Message" in data and "TopicArn" in data:
        return parse_sns_notification(data)
    return parse_ses_message(data)


def parse_sns_notification(envelope: dict[str, Any]) -> FeedbackEvent:
    """Unwrap an SNS notification (HTTP/SQS body or a Lambda ``Records[].Sns``) and parse its Message."""
    try:
        notification = SnsNotificationModel.model_validate(envelope)
    except ValidationError as exc:
        raise InvalidNotification("SNS envelope: " + describe_validation_error(exc)) from None
    if not isinstance(notification.Message, str):
        raise InvalidNotification("SNS envelope: Message is not a string")
    return parse_ses_message(notification.Message)
