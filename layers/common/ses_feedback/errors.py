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


class SendingPaused(SesFeedbackError):
    """The sending guard refuses non-transactional mail while a reputation alarm fires."""
