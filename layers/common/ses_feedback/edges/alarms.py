"""The sending guard's one read: the reputation alarms' states (CloudWatch ``DescribeAlarms``).

Remembered for a minute per container, so a send does not pay a CloudWatch call each time.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from functools import cached_property
from typing import TYPE_CHECKING

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from ses_feedback.edges.failures import translated
from ses_feedback.model.state import AlarmState
from ses_feedback.observability import logger

if TYPE_CHECKING:
    from mypy_boto3_cloudwatch import CloudWatchClient

# A send must not pay a DescribeAlarms call each time: the states are read at most once a
# minute per container. Reputation alarms evaluate every 15 minutes, so a minute late is
# nothing; it also keeps a busy sender far below CloudWatch's DescribeAlarms rate limit.
ALARM_STATES_TTL_SECONDS = 60.0

# Short timeouts and one retry: an unreadable alarm lets mail through (see guard.check), so
# a slow CloudWatch must not hold a send for long either.
_CLOUDWATCH_CONFIG = Config(
    connect_timeout=2, read_timeout=2, retries={"mode": "standard", "total_max_attempts": 2}
)


def cloudwatch_client(region: str | None = None) -> CloudWatchClient:
    return boto3.client("cloudwatch", region_name=region, config=_CLOUDWATCH_CONFIG)


class StackAlarms:
    """Every alarm of a stack in one region (``stats``): its names start with the stack's name,
    as CloudFormation names them (``<stack>-<LogicalId>-<suffix>``; locally ``<prefix>-<LogicalId>``).
    ``AwsCallFailed`` when CloudWatch cannot be read."""

    def __init__(self, region: str | None = None, client: CloudWatchClient | None = None) -> None:
        self.region = region
        self._client = client

    @cached_property
    def client(self) -> CloudWatchClient:
        return self._client or cloudwatch_client(self.region)

    def states(self, stack_name: str) -> dict[str, AlarmState]:
        """Alarm name → state, every alarm whose name starts with ``<stack_name>-``."""
        found: dict[str, AlarmState] = {}
        with translated():
            for page in self.client.get_paginator("describe_alarms").paginate(
                AlarmNamePrefix=f"{stack_name}-", AlarmTypes=["MetricAlarm"]
            ):
                for alarm in page.get("MetricAlarms", []):
                    found[alarm["AlarmName"]] = AlarmState(alarm["StateValue"])
        return dict(sorted(found.items()))


def read_alarm_states(client: CloudWatchClient, names: Sequence[str]) -> dict[str, AlarmState | None]:
    """Each alarm's state; ``None`` for one CloudWatch did not return or could not be asked."""
    if not names:
        return {}
    try:
        response = client.describe_alarms(AlarmNames=list(names), AlarmTypes=["MetricAlarm"])
    except (ClientError, BotoCoreError) as exc:
        code = (
            exc.response.get("Error", {}).get("Code", "Unknown")
            if isinstance(exc, ClientError)
            else type(exc).__name__
        )
        logger.warning(
            "reputation alarms unreadable; the sending guard lets mail through", extra={"code": code}
        )
        return dict.fromkeys(names)
    found = {
        alarm["AlarmName"]: AlarmState(alarm["StateValue"]) for alarm in response.get("MetricAlarms", [])
    }
    return {name: found.get(name) for name in names}


class AlarmStates:
    """The reputation alarms' states, read at most once per ``ttl`` seconds (client built on first read).

    An unreadable answer is remembered for the same time: a failing CloudWatch is not asked
    again on every send.
    """

    def __init__(
        self,
        names: Sequence[str],
        ttl: float = ALARM_STATES_TTL_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.names = tuple(names)
        self.ttl = ttl
        self.clock = clock
        self._states: dict[str, AlarmState | None] = {}
        self._read_at: float | None = None

    @cached_property
    def client(self) -> CloudWatchClient:
        return cloudwatch_client()

    def current(self) -> Mapping[str, AlarmState | None]:
        now = self.clock()
        if self._read_at is None or now - self._read_at >= self.ttl:
            self._states = read_alarm_states(self.client, self.names)
            self._read_at = now
        return self._states
