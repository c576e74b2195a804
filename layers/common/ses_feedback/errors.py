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
