"""What app teams send: the sender's request, validated.

Both doors (``POST /messages`` and a direct ``lambda:Invoke``) take a ``SendRequest`` (and
answer with ``model.answers.SendAnswer`` or ``ErrorAnswer``); the OpenAPI document is
generated from these models. Every rule here is SES's own (recipient count, tag syntax, message size) or
protects the headers SES builds from the request (no CR/LF: header injection). A broken rule
names its field, never echoes its value (it may be an address).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from email.utils import formataddr
from typing import Annotated, Any, Literal, Self

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    PlainSerializer,
    PlainValidator,
    StringConstraints,
    WithJsonSchema,
    model_validator,
)
from pydantic_core import PydanticCustomError

from ses_feedback.errors import InvalidAddress
from ses_feedback.model.streams import DEFAULT_STREAM, STREAM_PATTERN, STREAM_TAG
from ses_feedback.parsing.addresses import ParsedAddress, loggable, parse_address

# SES quotas: at most 50 recipients per message, where a recipient is any To, Cc or Bcc
# address; at most 40 MB per message after base64 encoding (SES API v2). In practice Lambda's
# 6 MB request limit is reached first, but the rule is SES's and stays here.
MAX_RECIPIENTS = 50
MAX_MESSAGE_BYTES = 40 * 1024 * 1024
# SES message tags: name and value are 1-256 ASCII letters, digits, ``_`` or ``-``. SES does
# not document a count; 50 keeps a message's tags well inside what event publishing carries.
MAX_TAGS = 50
# The tag that names the calling app; the sender sets it, so a request may not.
APP_TAG = "app"
# Tags the sender sets itself: the calling app, and the stream (feedback reads it back).
RESERVED_TAGS = (APP_TAG, STREAM_TAG)
# SES writes these two message tags into the Feedback-ID header it adds itself (Gmail's
# feedback loop groups spam complaints by it): a bulk message carries its stream and app
# there, never a Feedback-ID header of our own (it would be a second one). A request cannot
# set them: ":" is not a tag character here.
FEEDBACK_ID_TAGS = ("ses:feedback-id-a", "ses:feedback-id-b")
# In a bulk message's text and html: replaced by each recipient's own unsubscribe link.
UNSUBSCRIBE_PLACEHOLDER = "{{unsubscribe_url}}"
# SES template names: letters, digits, ``_`` and ``-``, at most 64 characters.
_TEMPLATE_NAME = r"^[A-Za-z0-9_-]{1,64}$"
_TAG_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-")


UNKNOWN_APP = "unknown"
_NOT_TAG_CHARS = re.compile(r"[^A-Za-z0-9_-]+")


def app_name(raw: str | None) -> str:
    """A caller's name as an SES tag value: ``arn:…:assumed-role/billing-app/s`` → ``billing-app``."""
    if not raw:
        return UNKNOWN_APP
    name = raw
    if raw.startswith("arn:"):
        resource = raw.split(":", 5)[-1]  # assumed-role/NAME/session, user/NAME, role/path/NAME
        parts = resource.split("/")
        name = parts[1] if parts[0] == "assumed-role" and len(parts) > 1 else parts[-1]
    # An IAM user may be named by an email address; the tag is logged, so it gets the hash.
    name = loggable(name) or ""
    return _NOT_TAG_CHARS.sub("-", name).strip("-")[:256] or UNKNOWN_APP


# ---- field rules ---------------------------------------------------------------------------


def _no_line_breaks(value: str) -> str:
    if "\r" in value or "\n" in value:
        raise PydanticCustomError("header_injection", "must not contain CR or LF (header injection)")
    return value


@dataclass(frozen=True)
class GivenAddress:
    """An address field of a request: the text the caller gave, and that text parsed, once.

    The request is validated once at the door; everything after it (the domain check, the
    suppression lookup, the SES destination) reads ``parsed`` instead of validating again.
    The request still reads and serialises as the caller's text (the answer and the
    idempotency payload compare what was sent).
    """

    text: str
    parsed: ParsedAddress

    @property
    def address(self) -> str:
        """The canonical form (looked up, reported)."""
        return self.parsed.address

    @property
    def for_ses(self) -> str:
        """The canonical address with the caller's display name, as SES takes it."""
        return _display(self.parsed)


def _email_address(value: Any) -> GivenAddress:
    if isinstance(value, GivenAddress):
        return value  # already validated (a copy of a request)
    if not isinstance(value, str):
        raise PydanticCustomError("string_type", "Input should be a valid string")
    _no_line_breaks(value)
    try:
        return GivenAddress(value, parse_address(value))
    except InvalidAddress as exc:
        raise PydanticCustomError(
            "invalid_address", "is not a valid email address: {reason}", {"reason": str(exc)}
        ) from None


def _tag_text(value: str) -> str:
    if not 1 <= len(value) <= 256 or not set(value) <= _TAG_CHARS:
        raise PydanticCustomError(
            "tag_syntax", "SES tag names and values are 1-256 ASCII letters, digits, '_' or '-'"
        )
    return value


EmailAddress = Annotated[
    GivenAddress,
    PlainValidator(_email_address),
    PlainSerializer(lambda given: given.text, return_type=str),
    WithJsonSchema({"type": "string"}),
]
HeaderText = Annotated[str, AfterValidator(_no_line_breaks)]
TagText = Annotated[str, AfterValidator(_tag_text)]


class TemplateContent(BaseModel):
    """An SES template (created beforehand with SES ``CreateEmailTemplate``) and its data."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: Annotated[str, StringConstraints(pattern=_TEMPLATE_NAME)] = Field(
        description="SES template name", examples=["welcome"]
    )
    data: dict[str, Any] = Field(default_factory=dict, description="replacement values for the template")


@dataclass(frozen=True)
class Recipient:
    field: str  # to, cc or bcc
    address: str  # normalised: what is looked up and reported
    display: str  # what SES is given: the normalised address with the caller's display name


class SendRequest(BaseModel):
    """One message to send. Give ``subject`` with ``text`` and/or ``html``, or a ``template``."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    sender: EmailAddress = Field(
        alias="from",
        description="an address at the sending domain the stack allows; a display name may be given",
        examples=["Billing <billing@example.com>"],
    )
    to: list[EmailAddress] = Field(default_factory=list, examples=[["jane@example.org"]])
    cc: list[EmailAddress] = Field(default_factory=list)
    bcc: list[EmailAddress] = Field(default_factory=list)
    reply_to: list[EmailAddress] = Field(default_factory=list)
    subject: HeaderText | None = Field(default=None, examples=["Your invoice"])
    text: str | None = Field(default=None, description="plain-text body")
    html: str | None = Field(default=None, description="HTML body")
    template: TemplateContent | None = Field(default=None, description="instead of subject/text/html")
    tags: dict[TagText, TagText] = Field(
        default_factory=dict,
        description="SES message tags, name → value; the sender adds 'app' (the calling app) itself",
        examples=[{"campaign": "invoice-2026-11"}],
    )
    idempotency_key: Annotated[str, StringConstraints(min_length=1, max_length=256)] | None = Field(
        default=None,
        description="the same key from the same app within the idempotency window returns the first "
        "answer and sends nothing",
    )
    stream: Annotated[str, StringConstraints(pattern=STREAM_PATTERN)] = Field(
        default=DEFAULT_STREAM,
        description="the message stream ([a-z0-9-], at most 32). Streams the stack lists as transactional "
        "(TransactionalStreams) send as before; any other is bulk: one message per recipient with one-click "
        "unsubscribe, no cc/bcc, and text/html must contain {{unsubscribe_url}}",
        examples=["newsletter"],
    )
    on_suppressed: Literal["drop", "reject"] = Field(
        default="drop",
        description="drop: send to the others; reject: refuse the whole message if anyone is suppressed",
    )

    @model_validator(mode="after")
    def _within_ses_limits(self) -> Self:
        _check_content(self)
        _check_recipient_count(self)
        for reserved in RESERVED_TAGS:
            if reserved in self.tags:
                raise _model_error(
                    "reserved_tag",
                    f"tags.{reserved}",
                    "is set by the sender: it names the calling app or stream",
                )
        if len(self.tags) > MAX_TAGS:
            raise _model_error("too_many_tags", "tags", f"at most {MAX_TAGS} tags")
        size = self.encoded_size()
        if size > MAX_MESSAGE_BYTES:
            raise _model_error(
                "message_too_large",
                self._largest_part(),
                f"the message would be {size} bytes after base64 encoding; SES takes at most "
                f"{MAX_MESSAGE_BYTES}",
            )
        return self

    # ---- what the sender needs from a valid request ----------------------------------------

    def recipients(self) -> list[Recipient]:
        """Every recipient once, normalised, in to → cc → bcc order (the first occurrence wins)."""
        seen: dict[str, Recipient] = {}
        for field_name, addresses in (("to", self.to), ("cc", self.cc), ("bcc", self.bcc)):
            for given in addresses:
                if given.address not in seen:
                    seen[given.address] = Recipient(field_name, given.address, given.for_ses)
        return list(seen.values())

    def sender_domain(self) -> str:
        return self.sender.address.rpartition("@")[2]

    def encoded_size(self) -> int:
        """The message's size as SES counts it, estimated: every part base64-encoded."""
        parts: list[str] = [self.subject or "", self.text or "", self.html or "", self.sender.text]
        parts += [given.text for given in (*self.to, *self.cc, *self.bcc, *self.reply_to)]
        if self.template is not None:
            parts.append(json.dumps(self.template.data))
        raw = sum(len(part.encode()) for part in parts)
        return 4 * -(-raw // 3)

    def _largest_part(self) -> str:
        if self.template is not None:
            return "template.data"
        return "html" if len(self.html or "") >= len(self.text or "") else "text"


def _display(parsed: ParsedAddress) -> str:
    # formataddr RFC 2047-encodes a non-ASCII display name, as SES requires.
    return formataddr((parsed.display_name, parsed.address)) if parsed.display_name else parsed.address


def _model_error(kind: str, field: str, message: str) -> PydanticCustomError:
    # A rule across fields has no location of its own in pydantic; ``field`` carries it.
    return PydanticCustomError(kind, message, {"field": field})


def _check_content(request: SendRequest) -> None:
    simple = request.subject is not None or request.text is not None or request.html is not None
    if request.template is not None and simple:
        raise _model_error(
            "content", "template", "give either a template or subject with text/html, not both"
        )
    if request.template is None:
        if request.subject is None:
            raise _model_error("missing", "subject", "is required unless a template is given")
        if request.text is None and request.html is None:
            raise _model_error("missing", "text", "give text, html or both")


def _check_recipient_count(request: SendRequest) -> None:
    total = 0
    for field_name, addresses in (("to", request.to), ("cc", request.cc), ("bcc", request.bcc)):
        total += len(addresses)
        if total > MAX_RECIPIENTS:
            raise _model_error(
                "too_many_recipients",
                field_name,
                f"SES takes at most {MAX_RECIPIENTS} recipients in all (to + cc + bcc)",
            )
    if total == 0:
        raise _model_error("missing", "to", "give at least one recipient (to, cc or bcc)")


class SendJob(BaseModel):
    """What idempotency keys on: the calling app and its request (so two apps never share a key)."""

    app: str
    request: SendRequest
    unsubscribe_base_url: str | None = None  # where the request came in (bulk links), if known
