"""Every error this package raises on purpose, and the one table that turns a refusal into answers.

A *refusal* is an error the caller can act on: each has a stable code (the answer body's
``error.code``), the HTTP status both API functions answer with, and the CLI's exit status.
``REFUSALS`` is that table; the sender's and the suppressions API's handlers and the CLI all
read it, and a test holds docs/refusals.md's tables against it. Errors that are not refusals
(``InvalidNotification``, ``VersionConflict``) never reach a caller as an answer.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


class SesFeedbackError(Exception):
    """Base of every error this package raises on purpose; ``field`` names the input at fault."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        # The answer body's ``problems``: (field, message) pairs, one per input at fault.
        self.problems: list[tuple[str | None, str]] = []

    @property
    def code(self) -> str:
        return refusal_of(self).code

    @property
    def http_status(self) -> int:
        return refusal_of(self).http_status

    @property
    def exit_status(self) -> int:
        return refusal_of(self).exit_status


class InvalidNotification(SesFeedbackError):
    """A feedback message that is not an SES notification we can process (permanent: goes to the DLQ)."""


class FeedbackBatchFailed(SesFeedbackError):
    """Some records of a direct SNS invocation failed; Lambda retries the event, then its DLQ."""


class InvalidAddress(SesFeedbackError, ValueError):
    """An email address SES could not deliver to; the message says why, never the address."""


class VersionConflict(SesFeedbackError):
    """The address changed between our read and our write; re-read and decide again."""


class AddressErased(SesFeedbackError):
    """A write found the address's erasure tombstone: nothing was written (the address stays forgotten)."""


class InvalidRequest(SesFeedbackError, ValueError):
    """A field of a request is wrong (an SES limit, header injection, an address, a note, a cursor)."""

    def __init__(
        self, message: str, field: str | None = None, problems: list[tuple[str | None, str]] | None = None
    ) -> None:
        super().__init__(message, field)
        # Each problem names its field once, beside its message: "from: from: ..." never.
        self.problems = problems or [(field, message.removeprefix(f"{field}: ") if field else message)]

    @classmethod
    def of(cls, field: str, message: str) -> InvalidRequest:
        """``field: message``, the form every door shows."""
        return cls(f"{field}: {message}", field)


class InvalidCursor(InvalidRequest):
    """A pagination cursor that this service did not hand out (or for another query)."""

    def __init__(self, message: str = "not a cursor this query handed out") -> None:
        super().__init__(f"cursor: {message}", "cursor")


class NotSuppressed(SesFeedbackError):
    """A lift was asked for an address that is not suppressed."""


class ComplaintLiftNeedsForce(SesFeedbackError):
    """Lifting a complaint needs an explicit force: mailing a complainer again costs the most."""

    def __init__(self, message: str) -> None:
        super().__init__(message, "force")


class ErasureLiftNeedsForce(SesFeedbackError):
    """Lifting an erasure needs an explicit force: the person asked to be forgotten and not mailed."""

    def __init__(self, message: str) -> None:
        super().__init__(message, "force")


class InvalidToken(SesFeedbackError):
    """An unsubscribe token this stack did not sign: forged, truncated, altered or of an unknown key."""

    def __init__(self, message: str = "not an unsubscribe link this service handed out") -> None:
        super().__init__(message, "token")


class RejoinRefused(SesFeedbackError):
    """A recipient's rejoin that a complaint, bounce, manual suppression or erasure still holds back."""

    def __init__(self, what: str, reason: str) -> None:
        super().__init__(
            f"{what} cannot be rejoined from this page: the address is suppressed ({reason})", "stream"
        )
        self.reason = reason  # the reason's value: which sentence the page says


class StreamsNotConfigured(SesFeedbackError):
    """Bulk streams, unsubscribe links or erasure need the stack's secret, which this deployment lacks."""


class ConcurrentUpdate(SesFeedbackError):
    """An address kept changing under us; retrying later is safe."""


class StoreBusy(ConcurrentUpdate):
    """DynamoDB kept leaving keys or items unprocessed (throttling) past the retry budget;
    retrying later is safe (answered as ``concurrent_update``: 503, try again)."""


class IdempotencyConflict(SesFeedbackError):
    """The idempotency key was used for another request, or its first request is still running."""


class MessageRejected(SesFeedbackError):
    """SES refused the message itself (MessageRejected, e.g. it contains a virus)."""


class MailFromNotVerified(SesFeedbackError):
    """SES refused: the custom MAIL FROM domain is not verified (an operator must fix it)."""


class SendingThrottled(SesFeedbackError):
    """SES kept throttling after botocore's standard retries; retry later."""


class SendingPaused(SesFeedbackError):
    """SES sending is paused or the account suspended (SendingPaused / AccountSuspended)."""


class SuppressedRecipientsRejected(SesFeedbackError):
    """on_suppressed=reject and a recipient is suppressed: nothing sent.

    Not raised: the send answers with its ``SendAnswer`` (status ``rejected``, naming the
    suppressed recipients), which idempotency remembers like any answer; this class is its row
    in ``REFUSALS``, which gives that answer its HTTP and exit status.
    """


class ReputationGuard(SesFeedbackError):
    """The sending guard refuses non-transactional mail while a reputation alarm fires."""


class SesFailure(SesFeedbackError):
    """Any other SES error; the message names the SES error code."""


class BatchNotFound(SesFeedbackError):
    """No batch with this id belongs to the calling app (another app's batch is not found either)."""

    def __init__(self, message: str = "no batch with this id for this app") -> None:
        super().__init__(message, "batch_id")


class BatchNotQueued(SesFeedbackError):
    """The batch queue kept refusing part of a new batch. The batch is kept: what was queued is sent,
    and each recipient that was not is counted failed (``not_queued``); the message says which, and
    ``problems`` names each one by its index in the request (``recipients[i]``), so that the caller
    sends those again and not the whole request (which would mail the others twice).
    """

    def __init__(self, message: str, indexes: Sequence[int], why: str) -> None:
        super().__init__(message)
        self.problems = [(f"recipients[{index}]", why) for index in indexes]


class AwsCallFailed(SesFeedbackError):
    """An AWS call made for an operator tool failed (``edges.failures.translated``); not a refusal.

    ``aws_code`` is AWS's error code when AWS answered, None when it did not (no credentials, no
    network); ``operation`` the API call's name and ``reason`` AWS's own message, when known.
    """

    def __init__(
        self, message: str, aws_code: str | None = None, operation: str | None = None, reason: str = ""
    ) -> None:
        super().__init__(message)
        self.aws_code = aws_code
        self.operation = operation
        self.reason = reason

    @property
    def answered(self) -> bool:
        """Whether AWS answered (and refused); False: it could not be reached at all."""
        return self.aws_code is not None


# ---- events out to app teams ---------------------------------------------------------------


class MessageNotFound(SesFeedbackError):
    """No timeline of that message for this caller: unknown, expired, or another app's (the same answer)."""


class WebhookNotFound(SesFeedbackError):
    """No webhook of that id for this caller: unknown, or another app's (the same answer)."""


class EventsNotPublished(SesFeedbackError):
    """The bus kept failing some entries after every retry (``ids``: the events left).

    Not a refusal: FeedbackFunction fails the records that caused them, so SQS brings them
    back and the events are published then.
    """

    def __init__(self, message: str, ids: list[str]) -> None:
        super().__init__(message)
        self.ids = ids


# ---- DMARC reports ----------------------------------------------------------------------


class UnreadableReport(SesFeedbackError, ValueError):
    """A file or message that holds no DMARC aggregate report we can read; the message says why.

    Permanent: the same bytes fail the same way, so it is set aside, never retried.
    """


# ---- the one error table ----------------------------------------------------------------------


@dataclass(frozen=True)
class Refusal:
    code: str
    http_status: int
    exit_status: int  # the CLI's: 2 for input the caller must fix, 1 for a refusal


REFUSALS: dict[type[SesFeedbackError], Refusal] = {
    InvalidRequest: Refusal("invalid_request", 400, 2),
    InvalidToken: Refusal("invalid_token", 400, 2),
    NotSuppressed: Refusal("not_suppressed", 404, 1),
    ComplaintLiftNeedsForce: Refusal("complaint_needs_force", 409, 1),
    ErasureLiftNeedsForce: Refusal("erasure_needs_force", 409, 1),
    RejoinRefused: Refusal("rejoin_refused", 409, 1),
    IdempotencyConflict: Refusal("idempotency_conflict", 409, 1),
    SuppressedRecipientsRejected: Refusal("rejected", 409, 1),
    MessageRejected: Refusal("message_rejected", 422, 1),
    MailFromNotVerified: Refusal("mail_from_domain_not_verified", 424, 1),
    SendingThrottled: Refusal("throttled", 429, 1),
    SesFailure: Refusal("ses_error", 502, 1),
    SendingPaused: Refusal("sending_paused", 503, 1),
    ReputationGuard: Refusal("reputation_guard", 503, 1),
    ConcurrentUpdate: Refusal("concurrent_update", 503, 1),
    StreamsNotConfigured: Refusal("streams_not_configured", 501, 1),
    BatchNotFound: Refusal("batch_not_found", 404, 1),
    BatchNotQueued: Refusal("queue_unavailable", 503, 1),
    MessageNotFound: Refusal("message_not_found", 404, 1),
    WebhookNotFound: Refusal("webhook_not_found", 404, 1),
}

# The refusals each door can give (the OpenAPI responses list them by status).
SEND_REFUSALS = (
    InvalidRequest,
    IdempotencyConflict,
    MessageRejected,
    MailFromNotVerified,
    SendingThrottled,
    SendingPaused,
    ReputationGuard,
    SesFailure,
    StreamsNotConfigured,
)
ADMIN_REFUSALS = (
    InvalidRequest,
    NotSuppressed,
    ComplaintLiftNeedsForce,
    ErasureLiftNeedsForce,
    ConcurrentUpdate,
)
UNSUBSCRIBE_REFUSALS = (InvalidRequest, InvalidToken, RejoinRefused, ConcurrentUpdate, StreamsNotConfigured)
MESSAGES_REFUSALS = (InvalidRequest, MessageNotFound)
WEBHOOKS_REFUSALS = (InvalidRequest, WebhookNotFound)


class NotARefusal(LookupError):
    """An error with no row in ``REFUSALS``: a bug to report, not an answer to give."""


def refusal_of(error: SesFeedbackError) -> Refusal:
    for kind in type(error).__mro__:
        if kind in REFUSALS:
            return REFUSALS[kind]
    raise NotARefusal(type(error).__name__)


def refusal_of_code(code: str) -> Refusal | None:
    """The row of an answer's ``error.code`` (or of a send's ``rejected`` status); None for no row."""
    return next((r for r in REFUSALS.values() if r.code == code), None)


def is_refusal(error: BaseException) -> bool:
    return isinstance(error, SesFeedbackError) and any(k in REFUSALS for k in type(error).__mro__)
