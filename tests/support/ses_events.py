"""Small builders of SES notifications and their envelopes, shaped as AWS documents them.

Each builder returns the plain JSON-able dict SES would publish. ``shape="event"`` gives
configuration-set event publishing (``eventType``); ``shape="notification"`` gives an
identity notification (``notificationType``, no tags).
"""

from __future__ import annotations

import hashlib
import json
import uuid
from datetime import UTC, datetime
from typing import Any

from ses_feedback.model.moments import iso_z

SENDER = "noreply@example.com"
ACCOUNT = "123456789012"
TOPIC_ARN = f"arn:aws:sns:us-east-1:{ACCOUNT}:ses-feedback"


def _ts(moment: datetime | None = None) -> str:
    return iso_z(moment or datetime.now(UTC), "milliseconds")


def _message_id() -> str:
    return f"0100{uuid.uuid4().hex[:12]}-{uuid.uuid4()}-000000"


def feedback_id(seed: str) -> str:
    """A feedback id that is the same for the same seed (so a test can repeat one event)."""
    return f"0100{hashlib.sha1(seed.encode()).hexdigest()[:12]}-{uuid.uuid5(uuid.NAMESPACE_URL, seed)}-000000"


def mail(recipients: list[str], message_id: str | None = None, shape: str = "event") -> dict[str, Any]:
    body: dict[str, Any] = {
        "timestamp": _ts(),
        "source": f"Example Sender <{SENDER}>",
        "sourceArn": f"arn:aws:ses:us-east-1:{ACCOUNT}:identity/example.com",
        "sendingAccountId": ACCOUNT,
        "messageId": message_id or _message_id(),
        "destination": recipients,
        "headersTruncated": False,
        "commonHeaders": {"from": [SENDER], "to": recipients, "subject": "Hello"},
    }
    if shape == "event":
        body["tags"] = {"ses:configuration-set": ["ses-feedback"], "app": ["tests"]}
    return body


def _wrap(
    kind: str, key: str, details: dict[str, Any], recipients: list[str], shape: str, message_id: str | None
) -> dict[str, Any]:
    type_key = "eventType" if shape == "event" else "notificationType"
    return {type_key: kind, key: details, "mail": mail(recipients, message_id, shape)}


def bounce(
    recipients: list[str],
    bounce_type: str = "Permanent",
    sub_type: str = "General",
    *,
    shape: str = "event",
    feedback: str | None = None,
    message_id: str | None = None,
) -> dict[str, Any]:
    details = {
        "bounceType": bounce_type,
        "bounceSubType": sub_type,
        "bouncedRecipients": [
            {
                "emailAddress": r,
                "action": "failed",
                "status": "5.1.1",
                "diagnosticCode": "smtp; 550 5.1.1 user unknown",
            }
            for r in recipients
        ],
        "timestamp": _ts(),
        "feedbackId": feedback or feedback_id(str(uuid.uuid4())),
        "reportingMTA": "dsn; a8-70.smtp-out.amazonses.com",
    }
    return _wrap("Bounce", "bounce", details, recipients, shape, message_id)


def complaint(
    recipients: list[str],
    feedback_type: str | None = "abuse",
    *,
    shape: str = "event",
    feedback: str | None = None,
    message_id: str | None = None,
) -> dict[str, Any]:
    details: dict[str, Any] = {
        "complainedRecipients": [{"emailAddress": r} for r in recipients],
        "timestamp": _ts(),
        "feedbackId": feedback or feedback_id(str(uuid.uuid4())),
        "complaintSubType": None,
    }
    if feedback_type is not None:
        details.update(
            {"complaintFeedbackType": feedback_type, "userAgent": "ExampleISP-FBL", "arrivalDate": _ts()}
        )
    return _wrap("Complaint", "complaint", details, recipients, shape, message_id)


def delivery(recipients: list[str], *, shape: str = "event", message_id: str | None = None) -> dict[str, Any]:
    details = {
        "timestamp": _ts(),
        "processingTimeMillis": 546,
        "recipients": recipients,
        "smtpResponse": "250 ok: Message 64111812 accepted",
        "reportingMTA": "a8-70.smtp-out.amazonses.com",
        "remoteMtaIp": "192.0.2.10",
    }
    return _wrap("Delivery", "delivery", details, recipients, shape, message_id)


def engagement(kind: str, recipients: list[str], message_id: str | None = None) -> dict[str, Any]:
    """The event-publishing-only types, each with the payload key SES uses for it."""
    now = _ts()
    payloads: dict[str, tuple[str, dict[str, Any]]] = {
        "Send": ("send", {}),
        "Reject": ("reject", {"reason": "Bad content"}),
        "Open": ("open", {"ipAddress": "192.0.2.1", "timestamp": now, "userAgent": "Mozilla/5.0"}),
        "Click": (
            "click",
            {
                "ipAddress": "192.0.2.1",
                "link": "https://example.com/a",
                "linkTags": None,
                "timestamp": now,
                "userAgent": "Mozilla/5.0",
            },
        ),
        "DeliveryDelay": (
            "deliveryDelay",
            {
                "timestamp": now,
                "delayType": "MailboxFull",
                "expirationTime": now,
                "delayedRecipients": [
                    {"emailAddress": r, "status": "4.2.2", "diagnosticCode": "smtp; 452 4.2.2 full"}
                    for r in recipients
                ],
            },
        ),
        "Rendering Failure": (
            "failure",
            {"errorMessage": "Attribute 'name' is not present", "templateName": "welcome"},
        ),
        "Subscription": (
            "subscription",
            {
                "contactList": "news",
                "timestamp": now,
                "source": "UnsubscribeHeader",
                "newTopicPreferences": {"unsubscribeAll": True, "topicSubscriptionStatus": []},
                "oldTopicPreferences": {"unsubscribeAll": False, "topicSubscriptionStatus": []},
            },
        ),
    }
    key, details = payloads[kind]
    return _wrap(kind, key, details, recipients, "event", message_id)


# ---- envelopes ---------------------------------------------------------------------------


def sns_envelope(message: dict[str, Any] | str, *, lambda_casing: bool = False) -> dict[str, Any]:
    """The SNS JSON that SQS receives (or, with ``lambda_casing``, a Lambda ``Records[].Sns``)."""
    text = message if isinstance(message, str) else json.dumps(message) + "\n"
    envelope: dict[str, Any] = {
        "Type": "Notification",
        "MessageId": str(uuid.uuid4()),
        "TopicArn": TOPIC_ARN,
        "Subject": "Amazon SES Email Event Notification",
        "Message": text,
        "Timestamp": _ts(),
        "SignatureVersion": "1",
        "Signature": "EXAMPLE",
    }
    cert = "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-example.pem"
    unsubscribe = f"https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe&SubscriptionArn={TOPIC_ARN}:1"
    if lambda_casing:
        envelope.update({"SigningCertUrl": cert, "UnsubscribeUrl": unsubscribe, "MessageAttributes": {}})
    else:
        envelope.update({"SigningCertURL": cert, "UnsubscribeURL": unsubscribe})
    return envelope


def sqs_record(body: str, message_id: str | None = None) -> dict[str, Any]:
    return {
        "messageId": message_id or str(uuid.uuid4()),
        "receiptHandle": "AQEB" + uuid.uuid4().hex,
        "body": body,
        "attributes": {
            "ApproximateReceiveCount": "1",
            "SentTimestamp": "1700000000000",
            "SenderId": "AIDAEXAMPLE",
            "ApproximateFirstReceiveTimestamp": "1700000000001",
        },
        "messageAttributes": {},
        "md5OfBody": hashlib.md5(body.encode()).hexdigest(),
        "eventSource": "aws:sqs",
        "eventSourceARN": f"arn:aws:sqs:us-east-1:{ACCOUNT}:feedback",
        "awsRegion": "us-east-1",
    }


def sqs_event(*notifications: dict[str, Any] | str, raw: bool = False) -> dict[str, Any]:
    """An SQS event with one record per notification: SNS-enveloped, or raw (raw delivery)."""
    bodies = [
        n if isinstance(n, str) else (json.dumps(n) if raw else json.dumps(sns_envelope(n)))
        for n in notifications
    ]
    return {"Records": [sqs_record(body) for body in bodies]}


def sns_event(*notifications: dict[str, Any]) -> dict[str, Any]:
    return {
        "Records": [
            {
                "EventVersion": "1.0",
                "EventSource": "aws:sns",
                "EventSubscriptionArn": f"{TOPIC_ARN}:1",
                "Sns": sns_envelope(n, lambda_casing=True),
            }
            for n in notifications
        ]
    }
