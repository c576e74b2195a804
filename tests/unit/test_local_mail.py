"""What the local SES keeps of an accepted message (the `local mailbox`)."""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from email.message import EmailMessage

from ses_feedback_emulator.mail import accepted_message

ACCEPTED = datetime(2026, 11, 29, 9, 0, 0, tzinfo=UTC)


def test_a_simple_message_keeps_every_field_the_headers_ses_writes_and_each_recipients_fate() -> None:
    # Given: a SendEmail request as the sender makes it, with a header of its own
    request = {
        "FromEmailAddress": "Billing <billing@example.com>",
        "Destination": {
            "ToAddresses": ["success@simulator.amazonses.com", "bounce+x@simulator.amazonses.com"],
            "CcAddresses": ["ooto@simulator.amazonses.com"],
            "BccAddresses": ["complaint@simulator.amazonses.com", "suppressionlist@simulator.amazonses.com"],
        },
        "ReplyToAddresses": ["help@example.com"],
        "Content": {
            "Simple": {
                "Subject": {"Data": "Your invoice"},
                "Body": {"Text": {"Data": "Hello"}, "Html": {"Data": "<p>Hello</p>"}},
                "Headers": [{"Name": "List-Unsubscribe", "Value": "<mailto:unsubscribe@example.com>"}],
            }
        },
        "EmailTags": [{"Name": "campaign", "Value": "invoice"}, {"Name": "app", "Value": "billing"}],
        "ConfigurationSetName": "cs",
    }
    # When
    message = accepted_message(request, "m-1", ACCEPTED, region="eu-west-1").as_json()
    # Then
    assert list(message)[:3] == ["message_id", "accepted_at", "from"]
    assert message["from"] == "Billing <billing@example.com>"
    assert message["accepted_at"] == "2026-11-29T09:00:00.000Z"
    assert message["bcc"] == ["complaint@simulator.amazonses.com", "suppressionlist@simulator.amazonses.com"]
    assert (message["subject"], message["text"], message["html"]) == ("Your invoice", "Hello", "<p>Hello</p>")
    assert message["tags"] == {"campaign": "invoice", "app": "billing"}
    assert message["headers"] == {
        "From": "Billing <billing@example.com>",
        "To": "success@simulator.amazonses.com, bounce+x@simulator.amazonses.com",
        "Cc": "ooto@simulator.amazonses.com",
        "Reply-To": "help@example.com",
        "Subject": "Your invoice",
        "Message-ID": "<m-1@eu-west-1.amazonses.com>",
        "Date": "Sun, 29 Nov 2026 09:00:00 +0000",
        "MIME-Version": "1.0",
        "Content-Type": "multipart/alternative",
        "List-Unsubscribe": "<mailto:unsubscribe@example.com>",
    }
    assert [(r["address"], r["kind"], r["outcome"], r["detail"]) for r in message["recipients"]] == [
        ("success@simulator.amazonses.com", "to", "delivered", None),
        ("bounce+x@simulator.amazonses.com", "to", "bounced", "Permanent/General"),
        ("ooto@simulator.amazonses.com", "cc", "auto_replied", None),
        ("complaint@simulator.amazonses.com", "bcc", "complained", None),
        ("suppressionlist@simulator.amazonses.com", "bcc", "bounced", "Permanent/Suppressed"),
    ]


def test_a_raw_message_is_read_from_its_own_mime() -> None:
    mime = EmailMessage()
    mime["From"] = "noreply@example.com"
    mime["To"] = "ada@example.org"
    mime["Subject"] = "Raw"
    mime["X-Campaign"] = "spring"
    mime.set_content("plain part")
    mime.add_alternative("<b>html part</b>", subtype="html")
    request = {
        "FromEmailAddress": "noreply@example.com",
        "Destination": {"ToAddresses": ["ada@example.org"]},
        "Content": {"Raw": {"Data": base64.b64encode(mime.as_bytes()).decode()}},
    }
    message = accepted_message(request, "m-2", ACCEPTED).as_json()
    assert message["subject"] == "Raw"
    assert message["headers"]["X-Campaign"] == "spring"
    assert message["text"].strip() == "plain part"
    assert message["html"].strip() == "<b>html part</b>"
    assert message["recipients"] == [
        {"address": "ada@example.org", "kind": "to", "outcome": "delivered", "detail": None}
    ]
