"""The send request's rules: SES's limits, header injection, addresses; each names its field."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError
from ses_feedback.edges.ses import send_email_request
from ses_feedback.errors import InvalidRequest
from ses_feedback.model.message import OutgoingMessage
from ses_feedback.parsing.addresses import address_hash
from ses_feedback.parsing.problems import field_name, invalid_request
from ses_feedback.parsing.send_request import MAX_MESSAGE_BYTES, SendRequest, app_name


def valid(**changes: Any) -> dict[str, Any]:
    request: dict[str, Any] = {
        "from": "noreply@example.com",
        "to": ["jane@example.org"],
        "subject": "Hello",
        "text": "Hi Jane",
    }
    request.update(changes)
    return {k: v for k, v in request.items() if v is not None}


def refusal(payload: dict[str, Any]) -> InvalidRequest:
    with pytest.raises(ValidationError) as caught:
        SendRequest.model_validate(payload)
    return invalid_request(caught.value.errors())


def recipients(count: int, domain: str = "example.org") -> list[str]:
    return [f"user{i}@{domain}" for i in range(count)]


# (request, the field its refusal must name): every SES limit and header-injection case. The
# integration tests send the same list through both of SenderFunction's doors.
REFUSALS: list[tuple[dict[str, Any], str]] = [
    # header injection: CR or LF in any header value
    (valid(subject="Hi\r\nBcc: everyone@example.org"), "subject"),
    (valid(subject="Hi\nthere"), "subject"),
    (valid(**{"from": "noreply@example.com\r\nBcc: x@example.org"}), "from"),
    (valid(to=["jane@example.org", "bob@example.org\nCc: x@example.org"]), "to[1]"),
    (valid(cc=["a@example.org\r"]), "cc[0]"),
    (valid(bcc=["\nb@example.org"]), "bcc[0]"),
    (valid(reply_to=["help@example.com\r\nX-Evil: 1"]), "reply_to[0]"),
    # malformed addresses
    (valid(to=["not-an-address"]), "to[0]"),
    (valid(cc=["jane@"]), "cc[0]"),
    (valid(bcc=["two words@example.org"]), "bcc[0]"),
    (valid(reply_to=["@example.org"]), "reply_to[0]"),
    (valid(**{"from": "nobody"}), "from"),
    (valid(to=["jane@nodot"]), "to[0]"),
    # SES's recipient limit: 50 in all, named where it is crossed
    (valid(to=recipients(51)), "to"),
    (valid(to=recipients(30), cc=recipients(21, "example.net")), "cc"),
    (
        valid(to=recipients(20), cc=recipients(20, "example.net"), bcc=recipients(11, "example.edu")),
        "bcc",
    ),
    (valid(to=[]), "to"),
    # SES tag syntax, and the tag the sender sets itself
    (valid(tags={"bad name": "x"}), "tags.bad name"),
    (valid(tags={"campaign": "spring sale"}), "tags.campaign"),
    (valid(tags={"campaign": "a" * 257}), "tags.campaign"),
    (valid(tags={"n" * 257: "x"}), "tags." + "n" * 257),
    (valid(tags={"campaign": ""}), "tags.campaign"),
    (valid(tags={"café": "x"}), "tags.café"),
    (valid(tags={"app": "someone-else"}), "tags.app"),
    (valid(tags={f"t{i}": "v" for i in range(51)}), "tags"),
    # content: a subject with text and/or html, or a template, not both
    (valid(subject=None), "subject"),
    (valid(text=None), "text"),
    (valid(template={"name": "welcome", "data": {}}), "template"),
    (valid(subject=None, text=None, template={"name": "no spaces allowed"}), "template.name"),
    # anything else is a typo, not silently ignored
    (valid(bbc=["x@example.org"]), "bbc"),
    (valid(on_suppressed="ignore"), "on_suppressed"),
    (valid(idempotency_key=""), "idempotency_key"),
]


@pytest.mark.parametrize(("payload", "field"), REFUSALS)
def test_every_limit_and_header_injection_names_its_field(payload: dict[str, Any], field: str) -> None:
    # When
    error = refusal(payload)
    # Then
    assert error.field == field
    assert error.http_status == 400
    assert error.code == "invalid_request"
    assert error.message.startswith(f"{field}: ")


def test_a_message_over_ses_size_limit_is_refused_naming_its_largest_part() -> None:
    # Given: base64 grows text by 4/3, so 3/4 of the limit plus a little is over it
    text = "x" * (MAX_MESSAGE_BYTES * 3 // 4 + 1024)
    # When
    error = refusal(valid(text=text, html="<p>small</p>"))
    # Then
    assert error.field == "text"
    assert "SES takes at most" in error.message


def test_a_message_just_under_the_size_limit_is_accepted() -> None:
    text = "x" * (MAX_MESSAGE_BYTES * 3 // 4 - 4096)
    request = SendRequest.model_validate(valid(text=text))
    assert request.encoded_size() <= MAX_MESSAGE_BYTES


def test_fifty_recipients_across_to_cc_and_bcc_are_accepted() -> None:
    request = SendRequest.model_validate(
        valid(to=recipients(20), cc=recipients(20, "example.net"), bcc=recipients(10, "example.edu"))
    )
    assert len(request.recipients()) == 50


def test_an_error_never_echoes_the_address_it_refuses() -> None:
    error = refusal(valid(to=["secret.person@example.org\r\nBcc: x@example.org"]))
    assert all("secret.person" not in message for _, message in error.problems)
    assert "secret.person" not in error.message


def test_every_wrong_field_is_reported_not_only_the_first() -> None:
    error = refusal(valid(subject="a\nb", to=["nobody"], tags={"x y": "1"}))
    assert {field for field, _ in error.problems} == {"subject", "to[0]", "tags.x y"}


def test_recipients_are_normalised_and_each_appears_once_to_before_cc_before_bcc() -> None:
    # Given
    request = SendRequest.model_validate(
        valid(
            to=["Jane Doe <Jane@Example.ORG>"],
            cc=["jane@example.org", "bob@bücher.example"],
            bcc=["BOB@xn--bcher-kva.example", "carol@example.org"],
        )
    )
    # When
    found = request.recipients()
    # Then
    assert [(r.field, r.address) for r in found] == [
        ("to", "jane@example.org"),
        ("cc", "bob@xn--bcher-kva.example"),
        ("bcc", "carol@example.org"),
    ]
    assert found[0].display == "Jane Doe <jane@example.org>"


def test_a_non_ascii_display_name_is_encoded_for_ses() -> None:
    request = SendRequest.model_validate(valid(**{"from": "Jürgen <j@example.com>"}))
    assert request.sender.for_ses == "=?utf-8?q?J=C3=BCrgen?= <j@example.com>"


def test_a_request_reads_and_serialises_as_the_callers_text() -> None:
    # The answer and the idempotency payload compare what was sent, not the parsed form.
    payload = valid(to=["Jane <Jane@Example.org>"], reply_to=["help@example.com"])
    request = SendRequest.model_validate(payload)
    assert request.model_dump(mode="json", by_alias=True, exclude_defaults=True) == payload
    assert request.model_dump()["to"] == ["Jane <Jane@Example.org>"]
    assert SendRequest.model_validate(request.model_dump(by_alias=True)) == request


def test_a_template_request_needs_no_subject() -> None:
    request = SendRequest.model_validate(
        valid(subject=None, text=None, template={"name": "welcome", "data": {"name": "Jane"}})
    )
    assert request.template is not None and request.template.data == {"name": "Jane"}


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("arn:aws:sts::123456789012:assumed-role/billing-app/session-1", "billing-app"),
        ("arn:aws:iam::123456789012:user/alice", "alice"),
        ("arn:aws:iam::123456789012:role/teams/mailer", "mailer"),
        ("AROAEXAMPLE:session", "AROAEXAMPLE-session"),
        ("ses-feedback-cli", "ses-feedback-cli"),
        (None, "unknown"),
        ("???", "unknown"),
    ],
)
def test_the_calling_app_becomes_a_valid_ses_tag_value(raw: str | None, expected: str) -> None:
    assert app_name(raw) == expected


@pytest.mark.parametrize(
    "raw", ["arn:aws:iam::123456789012:user/Jane.Doe@example.com", "jane.doe@example.com"]
)
def test_an_app_named_by_an_email_address_is_tagged_and_logged_by_its_hash(raw: str) -> None:
    # IAM user names may be addresses, as may a direct invoke's ClientContext app
    assert app_name(raw) == address_hash("jane.doe@example.com")


@pytest.mark.parametrize(
    ("loc", "expected"),
    [
        (("to", 3), "to[3]"),
        (("tags", "x", "[key]"), "tags.x"),
        (("template", "name"), "template.name"),
        ((), None),
    ],
)
def test_field_names_read_like_the_request(loc: tuple[str | int, ...], expected: str | None) -> None:
    assert field_name(loc) == expected


def test_the_send_email_request_carries_configuration_set_tags_and_every_destination() -> None:
    # Given
    message = OutgoingMessage(
        sender="Billing <billing@example.com>",
        to=["a@example.org"],
        bcc=["b@example.org"],
        reply_to=["help@example.com"],
        subject="Hi",
        text="plain",
        html="<p>rich</p>",
        tags={"campaign": "c1", "app": "billing"},
    )
    # When
    request = send_email_request(message, "ses-feedback-ConfigurationSet")
    # Then
    assert request == {
        "FromEmailAddress": "Billing <billing@example.com>",
        "Destination": {"ToAddresses": ["a@example.org"], "BccAddresses": ["b@example.org"]},
        "Content": {
            "Simple": {
                "Subject": {"Data": "Hi", "Charset": "UTF-8"},
                "Body": {
                    "Text": {"Data": "plain", "Charset": "UTF-8"},
                    "Html": {"Data": "<p>rich</p>", "Charset": "UTF-8"},
                },
            }
        },
        "EmailTags": [{"Name": "campaign", "Value": "c1"}, {"Name": "app", "Value": "billing"}],
        "ReplyToAddresses": ["help@example.com"],
        "ConfigurationSetName": "ses-feedback-ConfigurationSet",
    }


def test_a_templated_message_goes_to_ses_as_template_content() -> None:
    message = OutgoingMessage(
        sender="noreply@example.com", to=["a@example.org"], template_name="welcome", template_data='{"n": 1}'
    )
    request = send_email_request(message, None)
    assert request["Content"] == {"Template": {"TemplateName": "welcome", "TemplateData": '{"n": 1}'}}
    assert "ConfigurationSetName" not in request


@pytest.mark.parametrize("stream", ["News Letter", "Newsletter", "x" * 33, ""])
def test_a_bad_stream_name_is_said_in_words_not_as_a_regular_expression(stream: str) -> None:
    error = refusal(valid(stream=stream))
    assert (error.field, str(error)) == (
        "stream",
        "stream: a stream name is 1-32 lower-case letters, digits or '-'",
    )
