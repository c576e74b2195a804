"""FeedbackFunction: DynamoDB requests and CPU time per notification (cold start: coldstart.py).

1,000 notifications of each type go through the real handler (loaded from the template's
CodeUri/Handler with the template's environment) in SQS batches of 100, against a moto
server, its metrics published as in Lambda. Requests (and their capacity units, capacity.py)
are counted on the store's own boto3 client, so they are exactly the calls the handler
makes, and what it logs is counted as CloudWatch Logs ingests it. ``measure`` keeps the
figures for the run: the cost table (cost.py) prices them.
"""

from __future__ import annotations

import functools
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ses_feedback import wiring
from ses_feedback_emulator import motoserver
from ses_feedback_emulator.bootstrap import bootstrap
from ses_feedback_emulator.lambdas import LocalContext, load_handler
from ses_feedback_stack.names import LocalStack

from benchmarks import into_devnull, metrics_on
from benchmarks.capacity import CapacityMeter
from tests.support import ses_events as b

PER_TYPE = 1000
BATCH = 100
# Budget from the issue: these change no suppression and may cost at most 0.1 request each.
CHEAP_TYPES = {"Delivery", "Send", "Open", "Click", "DeliveryDelay"}


def _builders() -> dict[str, Callable[[int], dict[str, Any]]]:
    engagement = ["Send", "Reject", "Open", "Click", "DeliveryDelay", "Rendering Failure", "Subscription"]
    builders: dict[str, Callable[[int], dict[str, Any]]] = {
        "Bounce (Permanent)": lambda i: b.bounce([f"hard{i}@example.com"]),
        "Bounce (Transient)": lambda i: b.bounce([f"soft{i % 250}@example.com"], "Transient", "General"),
        "Complaint": lambda i: b.complaint([f"complaint{i}@example.com"]),
        "Delivery": lambda i: b.delivery([f"delivered{i}@example.com"]),
    }
    for kind in engagement:
        builders[kind] = lambda i, kind=kind: b.engagement(kind, [f"engaged{i}@example.com"])
    return builders


@dataclass(frozen=True)
class TypeFigures:
    """One notification type through the real handler: totals over all its batches."""

    notifications: int
    batches: int
    requests: int  # DynamoDB requests
    rcu: float
    wcu: float
    cpu_seconds: float  # this process's CPU inside the handler
    wall_seconds: float  # the handler's wall time, its waits on the moto server included
    log_bytes: int  # its log lines and EMF documents (Lambda's own lines are cost.py's)
    events: int = 0  # events published on the stack's bus (docs/events.md)
    put_events: int = 0  # PutEvents requests that carried them


# Local mode's settings without the bus and the timeline: the function as it was before them.
WITHOUT_EVENTS = {"EVENT_BUS_NAME": "", "MESSAGE_TABLE": ""}


class PutEventsCounter:
    """PutEvents requests and the entries they carried, on one boto3 client."""

    def __init__(self, client: Any) -> None:
        self.requests = self.entries = 0
        client.meta.events.register("before-parameter-build.events.PutEvents", self._count)

    def _count(self, params: dict[str, Any], **_: Any) -> None:
        self.requests += 1
        self.entries += len(params.get("Entries", []))


@functools.cache
def measure(endpoint: str, with_events: bool = True) -> dict[str, TypeFigures]:
    """Every type's figures, measured once per run (the report and the cost table share them);
    ``with_events=False``: without the bus and the timeline, as the function was before them."""
    figures = {}
    for kind, build in _builders().items():
        motoserver.reset(endpoint)
        stack = LocalStack(prefix="bench")
        bootstrap(stack)
        handler = load_handler(stack, "FeedbackFunction", overrides=None if with_events else WITHOUT_EVENTS)
        meter = CapacityMeter().attach(wiring.store().client)
        publisher = wiring.publisher()
        published = PutEventsCounter(publisher.bus.client) if publisher is not None else None
        if publisher is not None and publisher.timeline is not None:
            meter.attach(publisher.timeline.client)
        events = [
            b.sqs_event(*(build(i) for i in range(start, start + BATCH)))
            for start in range(0, PER_TYPE, BATCH)
        ]
        cpu = wall = 0.0
        # The handler logs at the template's level and publishes its metrics, as in Lambda:
        # part of the cost, not of the report.
        with metrics_on(), into_devnull() as written:
            for event in events:
                started, started_wall = time.process_time(), time.perf_counter()
                response = handler(event, LocalContext(function_name="FeedbackFunction"))
                cpu += time.process_time() - started
                wall += time.perf_counter() - started_wall
                assert response == {"batchItemFailures": []}, json.dumps(response)[:200]
        figures[kind] = TypeFigures(
            PER_TYPE,
            len(events),
            sum(meter.requests.values()),
            meter.rcu,
            meter.wcu,
            cpu,
            wall,
            written.bytes,
            published.entries if published else 0,
            published.requests if published else 0,
        )
    return figures


def run(endpoint: str) -> list[str]:
    lines = ["FeedbackFunction — 1,000 notifications per type, SQS batches of 100, moto server", ""]
    lines.append(f"{'type':<22}{'DynamoDB req/notif':>20}{'CPU ms/notif':>14}  budget")
    for kind, figures in measure(endpoint).items():
        per_notification = figures.requests / figures.notifications
        name = kind.split(" ")[0]
        if name in CHEAP_TYPES:
            verdict = "ok (≤ 0.1)" if per_notification <= 0.1 else "OVER (> 0.1)"
        elif name in {"Bounce", "Complaint"}:
            verdict = (
                "ok (≤ 1 write/recipient + batched reads)" if per_notification <= 1 + 1 / BATCH else "OVER"
            )
        else:
            verdict = ""
        cpu_ms = figures.cpu_seconds / figures.notifications * 1000
        lines.append(f"{kind:<22}{per_notification:>20.3f}{cpu_ms:>14.3f}  {verdict}")
    lines.append("")
    return lines
