"""The shared logger, metrics and tracer. Service name and namespace come from the
POWERTOOLS_* variables that the template's Globals set. The tracer builds Powertools'
Tracer (and imports the X-Ray SDK) on the first traced request, not at import (tracing.py)."""

from __future__ import annotations

import os
import warnings

from aws_lambda_powertools import Logger, Metrics

from ses_feedback.tracing import LazyTracer

logger = Logger()
metrics = Metrics()
tracer = LazyTracer()
# A request that adds no metric (a read through the suppressions API) is normal here; Powertools
# warns about it on stderr, a stray line in CloudWatch and in `local up` and `local invoke` output.
warnings.filterwarnings("ignore", message="No application metrics to publish", category=UserWarning)


def reread_environment() -> None:
    """Apply POWERTOOLS_SERVICE_NAME, _LOG_LEVEL and _METRICS_NAMESPACE again.

    Lambda sets a function's environment before this module is imported. Local mode cannot:
    the CLI imports the package first and sets each function's environment when it loads
    that function, so it calls this afterwards.
    """
    service = os.environ.get("POWERTOOLS_SERVICE_NAME", "service_undefined")
    logger.service = service
    logger.append_keys(service=service)
    logger.setLevel(os.environ.get("POWERTOOLS_LOG_LEVEL", "INFO"))
    metrics.namespace = os.environ.get("POWERTOOLS_METRICS_NAMESPACE")
    metrics.service = service
