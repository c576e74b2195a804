"""The feedback policy's numbers, as a type (the rules that use them are in ``rules/policy.py``).

A type of its own, beside the other types: settings read its defaults without importing
the policy's rules and SES's event models, which only FeedbackFunction needs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from ses_feedback.model.streams import Streams


@dataclass(frozen=True)
class PolicySettings:
    """The policy's numbers. These defaults are the only ones: settings read them from here."""

    soft_bounce_threshold: int = 3
    soft_bounce_window: timedelta = timedelta(days=14)
    soft_bounce_suppression: timedelta = timedelta(days=7)
    # Which streams are transactional: a complaint about bulk mail blocks bulk streams only.
    streams: Streams = field(default_factory=Streams)
