"""A batch request's recipients, validated one by one as POST /messages validates a message; the CSV
file the CLI reads them from; and the chunks they are queued in."""

from __future__ import annotations

import json

import pytest
from ses_feedback.errors import InvalidRequest
from ses_feedback.parsing.batch_csv import read_recipients
from ses_feedback.parsing.batch_request import (
    CHUNK_BYTES,
    CHUNK_RECIPIENTS,
    MAX_BATCH_RECIPIENTS,
    BatchRequest,
    ChunkRecipient,
    chunks,
    message_for,
    split,
)


def request(*to: str, **changes: object) -> BatchRequest:
    body: dict[str, object] = {
        "from": "news@example.com",
        "subject": "November",
        "text": "Hello",
        "recipients": [{"to": address} for address in to],
    }
    body.update(changes)
    return BatchRequest.model_validate(body)


def test_each_bad_recipient_is_refused_alone_with_its_index_and_the_field() -> None:
    parts = split(request("a@example.org", "a b@example.org", "Jane <jane@example.org>", "x@exa_mple.org"))
    assert [r.index for r in parts.accepted] == [0, 2]
    assert [(r.index, r.message.split(":")[0]) for r in parts.refused] == [(1, "to"), (3, "to")]


def test_a_line_break_in_an_address_is_refused_as_header_injection() -> None:
    parts = split(request("a@example.org", "b@example.org\r\nBcc: c@example.org"))
    assert (parts.refused[0].index, parts.refused[0].message.split(":")[0]) == (1, "to")
    assert "inject headers" in parts.refused[0].message


def test_a_shared_fault_refuses_the_request_naming_its_field() -> None:
    with pytest.raises(InvalidRequest) as raised:
        split(request("a@example.org", tags={"app": "mine"}))
    assert raised.value.field == "tags.app"


def test_the_batch_tag_is_the_senders() -> None:
    with pytest.raises(InvalidRequest) as raised:
        split(request("a@example.org", tags={"batch": "x"}))
    assert raised.value.field == "tags.batch"


def test_template_data_goes_to_its_own_recipient() -> None:
    body = request("a@example.org", subject=None, text=None, template={"name": "news"})
    message = message_for(body.content(), "a@example.org", {"name": "A"})
    assert message.template is not None
    assert (message.template.name, message.template.data) == ("news", {"name": "A"})


def test_more_than_ten_thousand_recipients_is_refused() -> None:
    from pydantic import ValidationError

    with pytest.raises(ValidationError):
        request(*(f"r{i}@example.org" for i in range(MAX_BATCH_RECIPIENTS + 1)))


def test_chunks_hold_at_most_fifty_recipients_and_fit_a_queue_message() -> None:
    recipients = [ChunkRecipient(index=i, to=f"r{i}@example.org") for i in range(120)]
    cut = list(chunks("b1", recipients))
    assert [len(c.recipients) for c in cut] == [CHUNK_RECIPIENTS, CHUNK_RECIPIENTS, 20]
    big = [ChunkRecipient(index=i, to=f"r{i}@example.org", data={"x": "y" * 30_000}) for i in range(10)]
    assert all(len(c.model_dump_json()) <= CHUNK_BYTES + 1024 for c in chunks("b1", big))
    assert sum(len(c.recipients) for c in chunks("b1", big)) == 10


def test_the_csv_names_each_bad_line_and_reads_the_rest() -> None:
    text = "to,name\nA@example.org,Ann\n\n,Nobody\nb@example.org\nc@example.org,Cy,extra\nd@example.org,Di\n"
    read = read_recipients(text.splitlines(keepends=True))
    assert read.recipients == [
        {"to": "A@example.org", "data": {"name": "Ann"}},
        {"to": "d@example.org", "data": {"name": "Di"}},
    ]
    assert [read.line_of(i) for i in range(2)] == [2, 7]
    assert [(b.line, b.message) for b in read.bad] == [
        (4, "'to' is empty"),
        (5, "1 cells where the header names 2"),
        (6, "3 cells where the header names 2"),
    ]
    assert read.fields == ["name"]


@pytest.mark.parametrize("text", ["email\nx@example.org\n", "", "to,to\na,b\n"])
def test_a_csv_without_one_to_column_is_refused(text: str) -> None:
    with pytest.raises(InvalidRequest):
        read_recipients(text.splitlines(keepends=True))


def test_a_recipients_data_is_json_as_the_api_takes_it() -> None:
    read = read_recipients(["to,first name\n", "a@example.org,Ann\n"])
    assert json.loads(json.dumps(read.recipients)) == [{"to": "a@example.org", "data": {"first name": "Ann"}}]
