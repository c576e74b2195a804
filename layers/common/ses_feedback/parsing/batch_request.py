"""What app teams send to ``POST /batches``: one message's content and up to 10,000 recipients.

Each recipient is validated exactly as ``POST /messages`` validates a message: the batch's
content with that one recipient (and its template data) is a ``SendRequest``, so every rule
of a message (addresses, SES's limits, header injection, tags, streams) is the sender's own,
written once in ``send_request.py``. A recipient whose message would be refused is refused
alone (``RefusedRecipient``, with its index); a fault of the shared content refuses the
whole request, since every recipient would fail the same way.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from ses_feedback.errors import InvalidRequest
from ses_feedback.model.batches import RefusedRecipient
from ses_feedback.model.streams import DEFAULT_STREAM, STREAM_PATTERN
from ses_feedback.parsing.problems import invalid_request
from ses_feedback.parsing.send_request import SendRequest

# One request's recipients: more is several batches (Lambda takes a 6 MB request anyway).
MAX_BATCH_RECIPIENTS = 10_000
# One recipient's template data, as JSON: its chunk of the queue must fit an SQS message (256 KB).
MAX_RECIPIENT_DATA_BYTES = 64 * 1024
# The batch's content is kept in one DynamoDB item (400 KB at most) until the last recipient is sent.
MAX_CONTENT_BYTES = 300 * 1024
# The SES tag that names the batch on each of its messages (feedback and events read it back).
BATCH_TAG = "batch"
# A queue message (a chunk) holds at most this many recipients and this much JSON: it fits an
# SQS message (256 KB), and at a worker's pace takes it a few seconds.
CHUNK_RECIPIENTS = 50
CHUNK_BYTES = 200 * 1024
# A recipient's own fields: a fault there refuses that recipient alone.
_RECIPIENT_FIELDS = ("to", "template.data")


class BatchRecipient(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    to: str = Field(description="one address, as POST /messages takes it", examples=["jane@example.org"])
    data: dict[str, Any] = Field(
        default_factory=dict, description="this recipient's template data (with a template only)"
    )


class BatchTemplate(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(
        description="SES template name; each recipient's data fills it", examples=["newsletter"]
    )


class BatchRequest(BaseModel):
    """A message for many recipients: ``subject`` with ``text`` and/or ``html``, or a ``template``."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    sender: str = Field(alias="from", examples=["News <news@example.com>"])
    stream: Annotated[str, StringConstraints(pattern=STREAM_PATTERN)] = Field(
        default=DEFAULT_STREAM, examples=["newsletter"]
    )
    subject: str | None = None
    text: str | None = None
    html: str | None = None
    template: BatchTemplate | None = None
    tags: dict[str, str] = Field(default_factory=dict)
    reply_to: list[str] = Field(default_factory=list)
    recipients: list[BatchRecipient] = Field(min_length=1, max_length=MAX_BATCH_RECIPIENTS)

    def content(self) -> dict[str, Any]:
        """The shared part of every recipient's message: what the batch keeps until it is done."""
        return self.model_dump(by_alias=True, exclude={"recipients"}, exclude_none=True)


@dataclass(frozen=True)
class QueuedRecipient:
    index: int
    to: str
    data: dict[str, Any]


@dataclass(frozen=True)
class SplitBatch:
    accepted: list[QueuedRecipient]
    refused: list[RefusedRecipient]


def message_for(content: dict[str, Any], to: str, data: dict[str, Any]) -> SendRequest:
    """One recipient's message, validated as ``POST /messages`` validates it."""
    request = {**content, "to": [to]}
    if "template" in content:
        request["template"] = {**content["template"], "data": data}
    return SendRequest.model_validate(request)


def split(request: BatchRequest) -> SplitBatch:
    """Every recipient validated; the refused ones named by index. Raises for shared faults."""
    content = request.content()
    if len(json.dumps(content).encode()) > MAX_CONTENT_BYTES:
        raise InvalidRequest.of(
            "html" if request.html else "text",
            f"a batch's content is at most {MAX_CONTENT_BYTES // 1024} KB (it is kept with the batch)",
        )
    if BATCH_TAG in request.tags:
        raise InvalidRequest.of(f"tags.{BATCH_TAG}", "is set by the sender: it names the batch")
    accepted: list[QueuedRecipient] = []
    refused: list[RefusedRecipient] = []
    for index, recipient in enumerate(request.recipients):
        problem = _recipient_problem(content, recipient, request.template is not None)
        if problem is None:
            accepted.append(QueuedRecipient(index, recipient.to, recipient.data))
        else:
            refused.append(RefusedRecipient(index=index, to=recipient.to[:320], message=problem))
    if not accepted:
        raise InvalidRequest(
            "recipients: none of them can be sent to",
            "recipients",
            [(f"recipients[{r.index}].to", r.message) for r in refused[:100]],
        )
    return SplitBatch(accepted, refused)


def _recipient_problem(content: dict[str, Any], recipient: BatchRecipient, templated: bool) -> str | None:
    """Why this recipient's message would be refused, or None; a shared fault is raised."""
    if recipient.data and not templated:
        return "data: give the batch a template to fill with data"
    if len(json.dumps(recipient.data).encode()) > MAX_RECIPIENT_DATA_BYTES:
        return f"data: at most {MAX_RECIPIENT_DATA_BYTES // 1024} KB as JSON"
    try:
        message_for(content, recipient.to, recipient.data)
    except ValidationError as exc:
        refusal = invalid_request(exc.errors())
        problems = [(field, message) for field, message in refusal.problems]
        shared = [(f, m) for f, m in problems if not _of_recipient(f)]
        if shared:
            raise InvalidRequest(refusal.message, shared[0][0], shared) from None
        return "; ".join(f"{_renamed(f)}: {m}" for f, m in problems)
    return None


def _of_recipient(field: str | None) -> bool:
    return field is not None and any(field == f or field.startswith(f + "[") for f in _RECIPIENT_FIELDS)


def _renamed(field: str | None) -> str:
    """``to[0]`` → ``to``, ``template.data`` → ``data``: the recipient's own field names."""
    return "data" if (field or "").startswith("template.data") else "to"


# ---- the batch queue's messages -------------------------------------------------------------


class ChunkRecipient(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    index: int
    to: str
    data: dict[str, Any] = {}


class Chunk(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    batch_id: str
    recipients: list[ChunkRecipient]
    # Times SES answered this chunk with a server error (5xx) and it was put back.
    server_errors: int = 0


def chunks(batch_id: str, recipients: Iterable[ChunkRecipient]) -> Iterator[Chunk]:
    """The recipients cut into chunks that each fit one queue message."""
    current: list[ChunkRecipient] = []
    size = 0
    for recipient in recipients:
        length = len(recipient.model_dump_json()) + 1
        if current and (len(current) >= CHUNK_RECIPIENTS or size + length > CHUNK_BYTES):
            yield Chunk(batch_id=batch_id, recipients=current)
            current, size = [], 0
        current.append(recipient)
        size += length
    if current:
        yield Chunk(batch_id=batch_id, recipients=current)
