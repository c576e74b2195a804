"""Batches (bulk sending): their states, what one recipient's send came to, and the API's answers.

A batch is accepted whole (``POST /batches``), its valid recipients queued in chunks, and a
worker sends them at the account's rate. Every recipient ends in exactly one outcome, so a
batch's counts add up: ``total = refused + sent + suppressed + failed + cancelled + pending``.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field


class BatchState(StrEnum):
    QUEUED = "queued"  # accepted; no recipient taken up yet
    SENDING = "sending"  # the worker is sending
    WAITING_QUOTA = "waiting_quota"  # the 24-hour quota would be passed: the worker waits for it
    DONE = "done"  # every recipient has its outcome
    CANCELLED = "cancelled"  # DELETE: what was not yet sent never will be

    @property
    def final(self) -> bool:
        return self in (BatchState.DONE, BatchState.CANCELLED)


class Outcome(StrEnum):
    """What became of one queued recipient; the batch's counters are named after these."""

    SENT = "sent"
    SUPPRESSED = "suppressed"  # suppressed at send time: SES not called
    FAILED = "failed"  # a permanent SES refusal, or an outcome the worker cannot know (below)
    CANCELLED = "cancelled"


# A recipient claimed (its record written) whose SES call never came back: the worker
# stopped between the two. SES may or may not have taken it, and it takes no idempotency
# token, so it is never sent again (nobody is mailed twice) and is reported as failed.
INTERRUPTED = "interrupted"
# A recipient whose chunk the batch queue kept refusing when the batch was accepted: never sent.
NOT_QUEUED = "not_queued"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RefusedRecipient(_Model):
    index: int = Field(description="the recipient's place in the request's list, from 0")
    to: str = Field(description="the address as given")
    message: str = Field(description="why it was refused, naming the field")


class BatchAccepted(_Model):
    batch_id: str
    accepted: int = Field(description="recipients queued")
    refused: list[RefusedRecipient] = Field(default_factory=list)


class RecipientFailure(_Model):
    to: str
    code: str = Field(description="the refusal's code (the error table), 'interrupted' or 'not_queued'")
    message: str


class BatchStatus(_Model):
    batch_id: str
    state: BatchState
    stream: str
    total: int = Field(description="recipients in the request, refused ones included")
    sent: int
    suppressed: int
    failed: int
    refused: int
    cancelled: int
    pending: int = Field(description="queued recipients without an outcome yet")
    failures: list[RecipientFailure] = Field(default_factory=list)
    created_at: str
    finished_at: str | None = None
    waiting_until: str | None = Field(
        default=None, description="state waiting_quota: when the worker looks at the quota again"
    )
