"""The domain's error types; each entry point maps them to its answers in one place."""

from __future__ import annotations


class SesFeedbackError(Exception):
    """Base of every error this package raises on purpose."""


class InvalidNotification(SesFeedbackError):
    """A feedback message that is not an SES notification we can process (permanent: goes to the DLQ)."""


class InvalidAddress(SesFeedbackError, ValueError):
    """An email address that cannot be normalised."""


class ConcurrentUpdate(SesFeedbackError):
    """An address kept changing under us; retrying the record later is safe."""


class InvalidInput(SesFeedbackError, ValueError):
    """An operator's input that breaks a rule; ``field`` names the input that is wrong."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field


class InvalidCursor(InvalidInput):
    """A pagination cursor that this service did not hand out (or for another query)."""

    def __init__(self, message: str = "not a cursor this query handed out") -> None:
        super().__init__("cursor", message)


class NotSuppressed(SesFeedbackError):
    """A lift was asked for an address that is not suppressed."""


class ComplaintLiftNeedsForce(SesFeedbackError):
    """Lifting a complaint needs an explicit force: mailing a complainer again costs the most."""

    field = "force"


# ---- sending: every refusal the sender can give, with its documented code -----------------
# ``code`` is the stable error code in the answer body; ``http_status`` is what the API door
# answers with (the direct-invoke door returns the same body). README's "Sending" table lists
# them; keep the two in step.


class SendError(SesFeedbackError):
    """A request the sender did not carry out; the answer says why."""

    code = "send_failed"
    http_status = 500

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class InvalidRequest(SendError):
    """A field of the request is wrong (an SES limit, header injection, a malformed address)."""

    code = "invalid_request"
    http_status = 400

    def __init__(
        self, message: str, field: str | None = None, problems: list[tuple[str | None, str]] | None = None
    ) -> None:
        super().__init__(message, field)
        self.problems = problems or [(field, message)]


class IdempotencyConflict(SendError):
    """The idempotency key was used for another request, or its first request is still running."""

    code = "idempotency_conflict"
    http_status = 409


class MessageRejected(SendError):
    """SES refused the message itself (MessageRejected, e.g. it contains a virus)."""

    code = "message_rejected"
    http_status = 422


class MailFromNotVerified(SendError):
    """SES refused: the custom MAIL FROM domain is not verified (an operator must fix it)."""

    code = "mail_from_domain_not_verified"
    http_status = 424


class SendingThrottled(SendError):
    """SES kept throttling after botocore's standard retries; retry later."""

    code = "throttled"
    http_status = 429


class SendingPaused(SendError):
    """SES sending is paused or the account suspended (SendingPaused / AccountSuspended)."""

    code = "sending_paused"
    http_status = 503


class SesFailure(SendError):
    """Any other SES error; the message names the SES error code."""

    code = "ses_error"
    http_status = 502


class ReputationGuard(SendError):
    """The sending guard refuses non-transactional mail while a reputation alarm fires."""

    code = "reputation_guard"
    http_status = 503


# ---- DMARC reports ----------------------------------------------------------------------


class UnreadableReport(SesFeedbackError, ValueError):
    """A file or message that holds no DMARC aggregate report we can read; the message says why.

    Permanent: the same bytes fail the same way, so it is set aside, never retried.
    """
