"""argparse types: the refusal names the rule (a range, an address's fault), never a function name."""

from __future__ import annotations

import argparse
from collections.abc import Callable

from ses_feedback.errors import InvalidAddress
from ses_feedback.parsing.addresses import normalize_address


def whole_number(low: int, high: int) -> Callable[[str], int]:
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            value = low - 1
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"must be a whole number from {low} to {high}")
        return value

    return parse


def seconds_above_zero(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = 0.0
    if not value > 0:  # also refuses nan
        raise argparse.ArgumentTypeError("must be a number of seconds above 0")
    return value


def positive_rate(text: str) -> float:
    """Messages a second: a number above 0 (SES's MaxSendRate may be a fraction, e.g. 0.5)."""
    try:
        value = float(text)
    except ValueError:
        value = 0.0
    if not 0 < value < float("inf"):  # also refuses nan
        raise argparse.ArgumentTypeError("must be a number of messages a second above 0")
    return value


port_number = whole_number(1, 65535)


def email_address(text: str) -> str:
    """An address as every door reads it (email-validator, lower-cased); refused with the reason."""
    try:
        return normalize_address(text)
    except InvalidAddress as exc:
        raise argparse.ArgumentTypeError(f"not an email address: {exc}") from None
