"""Which regions a deployment sends from, read from its deployed stacks (doctor, stats).

The regions of a deployment are the home stack's (``HomeRegion`` empty) own region and its
``ReplicaRegions`` (docs/deploy.md). Asked in a replica region, the stack names its home, and
the home's stack (of the same name) lists the others.
"""

from __future__ import annotations

from ses_feedback import wiring


class NoSuchStack(LookupError):
    """The stack is not deployed in the region asked; the message names both."""


def split_regions(text: str) -> tuple[str, ...]:
    """``ReplicaRegions`` as the template takes it: names separated by commas, empty allowed."""
    return tuple(name.strip() for name in text.split(",") if name.strip())


def deployment_regions(stack_name: str, region: str) -> tuple[str, ...]:
    """The home region first, then each replica region, read from the deployed stacks."""
    described = wiring.stacks_for(region).describe(stack_name)
    if described is None:
        raise NoSuchStack(f"--stack-name {stack_name}: no such stack in {region} (--region)")
    home = described.parameters.get("HomeRegion") or region
    replicas = split_regions(described.parameters.get("ReplicaRegions", ""))
    if home != region:
        # A replica-region stack: the home's parameters are the list's source of truth.
        home_stack = wiring.stacks_for(home).describe(stack_name)
        if home_stack is None:
            raise NoSuchStack(f"--stack-name {stack_name}: its home region {home} has no stack of that name")
        replicas = split_regions(home_stack.parameters.get("ReplicaRegions", ""))
    return (home, *[name for name in replicas if name != home])
