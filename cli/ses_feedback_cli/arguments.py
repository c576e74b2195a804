"""argparse types: the refusal names the rule (a range, an address's fault), never a function name.

Every number a command takes is read by one of these, so a negative, a non-number, nan or
infinity is refused on the command line, before anything runs.
"""

from __future__ import annotations

import argparse
import math
import re
from collections.abc import Callable

from ses_feedback.errors import InvalidAddress
from ses_feedback.model.regions import is_region_name
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


def seconds(high: float, zero: bool = False) -> Callable[[str], float]:
    """A number of seconds above 0 (from 0 with ``zero``) and at most ``high`` (nan and infinity refused)."""

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            value = math.nan
        if not (math.isfinite(value) and (value >= 0 if zero else value > 0) and value <= high):
            low = "from 0" if zero else "above 0"
            raise argparse.ArgumentTypeError(f"must be a number of seconds {low}, at most {high:g}")
        return value

    return parse


def fraction(text: str) -> float:
    """A rate from 0 to 1 (0.025 is 2.5%), as the template's rate parameters are."""
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not 0 <= value <= 1:  # also refuses nan
        raise argparse.ArgumentTypeError("must be a rate from 0 to 1 (0.025 is 2.5%)")
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


seconds_above_zero = seconds(3600)
port_number = whole_number(1, 65535)


def email_address(text: str) -> str:
    """An address as every door reads it (email-validator, lower-cased); refused with the reason."""
    try:
        return normalize_address(text)
    except InvalidAddress as exc:
        raise argparse.ArgumentTypeError(f"not an email address: {exc}") from None


_PREFIX = re.compile(r"[A-Za-z][A-Za-z0-9-]{0,23}")


def stack_prefix(text: str) -> str:
    """A local stack's prefix: it starts every resource's name (a Lambda function's is at most
    64 characters, an S3 bucket's lower case) and names the stack's folder under .local/."""
    if not _PREFIX.fullmatch(text):
        raise argparse.ArgumentTypeError(
            "must be a letter, then letters, digits or '-', at most 24 characters in all"
        )
    return text


def region_name(text: str) -> str:
    """An AWS region's name (``eu-west-1``): refused here, not by the first AWS call it would reach."""
    if not is_region_name(text):
        raise argparse.ArgumentTypeError("must be an AWS region's name, such as us-east-1 or eu-west-1")
    return text


def region_names(text: str) -> tuple[str, ...]:
    """A comma-separated list of regions, each once (``us-east-1,eu-west-1``); order kept."""
    names = tuple(name.strip() for name in text.split(","))
    for name in names:
        region_name(name)
    if len(set(names)) != len(names):
        raise argparse.ArgumentTypeError("names a region twice")
    return names
