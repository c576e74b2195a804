"""The shared logger, metrics and tracer. Service name and namespace come from the
POWERTOOLS_* variables that the template's Globals set."""

from __future__ import annotations

from aws_lambda_powertools import Logger, Metrics, Tracer

logger = Logger()
metrics = Metrics()
tracer = Tracer()
