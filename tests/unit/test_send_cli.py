"""`ses-feedback send` and `ses-feedback openapi`: arguments → request, answer → what is printed."""

from __future__ import annotations

import pytest
from ses_feedback_cli.commands.send_cmd import describe, request_payload
from ses_feedback_cli.main import build_parser, main


def test_the_command_line_becomes_the_same_request_the_api_takes() -> None:
    # Given
    args = build_parser().parse_args(
        [
            "send",
            "--from",
            "noreply@example.com",
            "--to",
            "b@example.org",
            "--to",
            "c@example.org",
            "--cc",
            "d@example.org",
            "--subject",
            "Hello",
            "--text",
            "Hi",
            "--tag",
            "campaign=spring",
            "--idempotency-key",
            "k1",
            "--on-suppressed",
            "reject",
        ]
    )
    # When
    payload = request_payload(args)
    # Then
    assert payload == {
        "from": "noreply@example.com",
        "to": ["b@example.org", "c@example.org"],
        "cc": ["d@example.org"],
        "subject": "Hello",
        "text": "Hi",
        "tags": {"campaign": "spring"},
        "idempotency_key": "k1",
        "on_suppressed": "reject",
    }


def test_a_tag_without_a_value_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    args = ["send", "--from", "a@example.com", "--to", "b@example.org", "--subject", "s", "--text", "t"]
    assert main([*args, "--tag", "campaign"]) == 2
    assert "NAME=VALUE" in capsys.readouterr().err


def test_the_human_answer_names_who_was_sent_to_and_who_was_suppressed_and_why() -> None:
    text = describe(
        {
            "status": "partially_suppressed",
            "message_id": "m-1",
            "sent_to": ["c@example.org"],
            "suppressed": [
                {"address": "b@example.org", "reason": "hard_bounce", "since": "2026-11-28T09:00:00Z"}
            ],
        }
    )
    assert text.splitlines() == [
        "partially_suppressed: message id m-1",
        "  sent to: c@example.org",
        "  suppressed: b@example.org (hard_bounce since 2026-11-28T09:00:00Z)",
    ]


def test_a_refusal_reads_as_its_code_and_message() -> None:
    text = describe({"error": {"code": "invalid_request", "message": "subject: must not contain CR or LF"}})
    assert text == "refused (invalid_request): subject: must not contain CR or LF"


def test_openapi_check_passes_on_the_committed_document(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["openapi", "--check"]) == 0
    assert "up to date" in capsys.readouterr().out
