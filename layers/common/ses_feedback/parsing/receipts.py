"""The event SES email receiving sends DmarcReportFunction: which stored messages to read.

Only what the function uses is read (each record's ``ses.mail.messageId``); the rest of the
event is SES's own and left alone. A message id becomes part of an S3 key, so it must look
like one SES gives: letters, digits, '.', '_' or '-'. Anything else is refused with the field.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from ses_feedback.parsing.problems import invalid_request

MESSAGE_ID_PATTERN = r"^[A-Za-z0-9._-]{1,256}$"


class _Mail(BaseModel):
    model_config = ConfigDict(frozen=True)

    messageId: Annotated[str, StringConstraints(pattern=MESSAGE_ID_PATTERN)]  # SES's name


class _Receipt(BaseModel):
    model_config = ConfigDict(frozen=True)

    mail: _Mail


class _Record(BaseModel):
    model_config = ConfigDict(frozen=True)

    ses: _Receipt


class _ReceiptEvent(BaseModel):
    model_config = ConfigDict(frozen=True)

    Records: Annotated[list[_Record], Field(min_length=1)]  # SES's name


def received_message_ids(event: Any) -> list[str]:
    """Each record's message id, in order; ``InvalidRequest`` naming the field when it is not there."""
    try:
        parsed = _ReceiptEvent.model_validate(event)
    except ValidationError as exc:
        raise invalid_request(exc.errors()) from None
    return [record.ses.mail.messageId for record in parsed.Records]
