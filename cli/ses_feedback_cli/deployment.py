"""Which regions a deployment sends from (doctor, stats, erase): read from its deployed stacks, or
from what a running `local up --regions` recorded of the local stack.

The regions of a deployment are the home stack's (``HomeRegion`` empty) own region and its
``ReplicaRegions`` (docs/deploy.md). Asked in a replica region, the stack names its home, and
the home's stack (of the same name) lists the others.
"""

from __future__ import annotations

import argparse
import contextlib
import os
from collections.abc import Callable, Iterator, Mapping

from ses_feedback import wiring
from ses_feedback_emulator.state import recorded_stack
from ses_feedback_stack.names import region

from ses_feedback_cli.arguments import region_names

# A stack's parameters in a region, None when there is no stack there.
Parameters = Callable[[str], Mapping[str, str] | None]


class NoSuchStack(LookupError):
    """The stack is not deployed in the region asked; the message names both."""


def split_regions(text: str) -> tuple[str, ...]:
    """``ReplicaRegions`` as the template takes it: names separated by commas, empty allowed."""
    return tuple(name.strip() for name in text.split(",") if name.strip())


def _regions(parameters_in: Parameters, here: str, missing: Callable[[str], str]) -> tuple[str, ...]:
    """The home region first, then each replica region, from the stacks' parameters."""
    parameters = parameters_in(here)
    if parameters is None:
        raise NoSuchStack(missing(here))
    home = parameters.get("HomeRegion") or here
    if home != here:
        # A replica-region stack: the home's parameters are the list's source of truth.
        parameters = parameters_in(home)
        if parameters is None:
            raise NoSuchStack(missing(home))
    replicas = split_regions(parameters.get("ReplicaRegions", ""))
    return (home, *[name for name in replicas if name != home])


def deployment_regions(stack_name: str, region_name: str) -> tuple[str, ...]:
    """The home region first, then each replica region, read from the deployed stacks."""

    def parameters_in(name: str) -> Mapping[str, str] | None:
        described = wiring.stacks_for(name).describe(stack_name)
        return None if described is None else described.parameters

    def missing(name: str) -> str:
        if name == region_name:
            return f"--stack-name {stack_name}: no such stack in {name} (--region)"
        return f"--stack-name {stack_name}: its home region {name} has no stack of that name"

    return _regions(parameters_in, region_name, missing)


def local_regions(prefix: str, region_name: str) -> tuple[str, ...] | None:
    """The regions a running `local up` recorded for the local stack ``prefix`` (the home first),
    on ``AWS_ENDPOINT_URL``; None when it recorded nothing there (no `local up` serves it)."""
    endpoint = os.environ.get("AWS_ENDPOINT_URL")
    if not endpoint:
        return None

    def parameters_in(name: str) -> Mapping[str, str] | None:
        record = recorded_stack(endpoint, prefix, name)
        parameters = record.get("parameters") if record else None
        return {str(k): str(v) for k, v in parameters.items()} if isinstance(parameters, dict) else None

    def missing(name: str) -> str:
        return f"--prefix {prefix}: the local stack's home region {name} has no recorded stack"

    if parameters_in(region_name) is None:
        return None
    return _regions(parameters_in, region_name, missing)


def all_regions(args: argparse.Namespace, whose: str) -> tuple[str, ...]:
    """--all-regions: --regions, else the deployed stack's (--stack-name), else the regions the
    running `local up` of --prefix recorded; refused when none of these says."""
    if args.regions:
        return tuple(args.regions)
    if args.stack_name:
        return deployment_regions(args.stack_name, region())
    recorded = local_regions(args.prefix, region())
    if recorded is None:
        raise NoSuchStack(
            f"--all-regions: give --stack-name (the deployed stack whose regions to {whose}) or --regions "
            f"(no running `local up` recorded a stack --prefix {args.prefix} on AWS_ENDPOINT_URL)"
        )
    return recorded


@contextlib.contextmanager
def in_region(region_name: str) -> Iterator[None]:
    """What --region does, for a part of the command: the clients built inside are in ``region_name``."""
    saved = {name: os.environ.get(name) for name in ("AWS_REGION", "AWS_DEFAULT_REGION")}
    os.environ["AWS_REGION"] = os.environ["AWS_DEFAULT_REGION"] = region_name
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def in_region_arn(arn: str, region_name: str) -> str:
    """A replicated secret's ARN in ``region_name``: a replica keeps the secret's name and suffix
    (as the template's replica-region form builds STREAMS_SECRET_ID)."""
    parts = arn.split(":")
    return ":".join([*parts[:3], region_name, *parts[4:]])


def add_region_options(parser: argparse.ArgumentParser, each: str, stack_name: str) -> None:
    """--all-regions (``each``: what it does in each region), --regions and --stack-name, as
    `stats`, `doctor` and `suppressions erase` take them (``all_regions`` reads them)."""
    parser.add_argument(
        "--all-regions",
        action="store_true",
        help=f"{each}; the regions: the home stack's region and its ReplicaRegions (--stack-name), or "
        "--regions; default: those the running `local up` of --prefix serves",
    )
    parser.add_argument(
        "--regions",
        type=region_names,
        metavar="HOME,REGION…",
        help="with --all-regions: these regions, the home first",
    )
    parser.add_argument("--stack-name", help=stack_name)
