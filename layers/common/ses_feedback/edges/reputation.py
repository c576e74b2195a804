"""CloudWatch's SES reputation metrics (``AWS/SES`` ``Reputation.*``), as ``stats`` reads them."""

from __future__ import annotations

import math
from datetime import datetime
from functools import cached_property
from typing import TYPE_CHECKING

import boto3

if TYPE_CHECKING:
    from mypy_boto3_cloudwatch import CloudWatchClient

# GetMetricStatistics returns at most 1440 datapoints per call.
_MAX_DATAPOINTS = 1440


class ReputationMetrics:
    """CloudWatch in one region (``region`` None: the environment's); pass ``client`` to use another."""

    def __init__(self, region: str | None = None, client: CloudWatchClient | None = None) -> None:
        self.region = region
        self._client = client

    @cached_property
    def client(self) -> CloudWatchClient:
        return self._client or boto3.client("cloudwatch", region_name=self.region)

    def maxima(self, metric: str, start: datetime, end: datetime) -> list[tuple[datetime, float]]:
        """The metric's maximum per period in [start, end], oldest first (one call: ≤ 1440 periods)."""
        span = max(60.0, (end - start).total_seconds())
        period = max(300, math.ceil(span / _MAX_DATAPOINTS / 60) * 60)
        response = self.client.get_metric_statistics(
            Namespace="AWS/SES",
            MetricName=metric,
            StartTime=start,
            EndTime=end,
            Period=period,
            Statistics=["Maximum"],
        )
        points = [(p["Timestamp"], p["Maximum"]) for p in response.get("Datapoints", []) if "Maximum" in p]
        return sorted(points, key=lambda point: point[0])
