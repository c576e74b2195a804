"""Run every benchmark against one moto server process on loopback and print the figures.

``python -m benchmarks sender coldstart`` runs only those (module names, in that order).
"""

from __future__ import annotations

import importlib
import os
import sys

from ses_feedback_emulator import motoserver

# Modules are optional so that each area can add its own; the order is the report's order.
MODULES = [
    "benchmarks.coldstart",
    "benchmarks.feedback",
    "benchmarks.sender",
    "benchmarks.cost",
    "benchmarks.streams",
    "benchmarks.admin",
    "benchmarks.local_api",
    "benchmarks.dmarc",
    "benchmarks.batches",
]


def main(names: list[str]) -> int:
    chosen = [f"benchmarks.{name}" for name in names] or MODULES
    unknown = sorted(name.removeprefix("benchmarks.") for name in set(chosen) - set(MODULES))
    if unknown:
        known = ", ".join(name.removeprefix("benchmarks.") for name in MODULES)
        print(f"no such benchmark: {', '.join(unknown)}; known: {known}", file=sys.stderr)
        return 2
    os.environ.update(
        {
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_REGION": "us-east-1",
            "AWS_DEFAULT_REGION": "us-east-1",
            "POWERTOOLS_LOG_LEVEL": "WARNING",
            "POWERTOOLS_METRICS_DISABLED": "true",
            # Metrics() reads its namespace once, when a module first imports it; without one,
            # the 100th value of a metric in one invocation raises SchemaValidationError.
            "POWERTOOLS_METRICS_NAMESPACE": "SesFeedback",
            "POWERTOOLS_TRACE_DISABLED": "true",
        }
    )
    with motoserver.running() as server:
        os.environ["AWS_ENDPOINT_URL"] = server.endpoint
        for name in chosen:
            try:
                module = importlib.import_module(name)
            except ModuleNotFoundError:
                continue
            for line in module.run(server.endpoint):
                print(line, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
