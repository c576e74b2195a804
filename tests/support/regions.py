"""Two regions of one local deployment, as `local up --regions us-east-1,eu-west-1` makes them."""

from __future__ import annotations

from ses_feedback_emulator.bootstrap import bootstrap
from ses_feedback_stack.names import LocalStack, regional_stacks

HOME, REPLICA = "us-east-1", "eu-west-1"


def bootstrapped(prefix: str, regions: tuple[str, ...] = (HOME, REPLICA)) -> list[LocalStack]:
    """The home stack and a replica-region stack per other region, each bootstrapped."""
    stacks = regional_stacks(prefix, regions)
    for stack in stacks:
        bootstrap(stack)
    return stacks
