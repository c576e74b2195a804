"""The local REST API: latency of ``POST /messages`` over loopback against a bare SES v2 send.

``local up``'s HTTP front (``ses_feedback_emulator.api``) serves the template's RestApi: a
request becomes API Gateway's proxy event, goes to a SenderFunction instance (a process of
its own), which checks the suppression list (DynamoDB) and sends (SES), all on the same moto
server. The baseline is a bare boto3 SES v2 ``send_email`` of the same message to the same
server. Both are timed end to end by the caller (wall clock, keep-alive connections), in
interleaved rounds so machine load hits both alike; one instance, so requests are serial.
"""

from __future__ import annotations

import http.client
import json
import statistics
import time
from collections.abc import Callable
from typing import Any

import boto3
from ses_feedback_emulator import motoserver
from ses_feedback_emulator.api import LocalApi, local_verifier
from ses_feedback_emulator.bootstrap import bootstrap
from ses_feedback_stack.names import LocalStack

ROUNDS = 6
PER_ROUND = 50
WARMUP = 20
RECIPIENT = "success@simulator.amazonses.com"


def _percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def run(endpoint: str) -> list[str]:
    motoserver.reset(endpoint)
    stack = LocalStack(prefix="bench-api")
    bootstrap(stack)
    api = LocalApi(stack, local_verifier(endpoint), port=0, concurrency=1, quiet=True)
    api.start()
    try:
        return _measure(api, stack)
    finally:
        api.stop()


def _measure(api: LocalApi, stack: LocalStack) -> list[str]:
    connection = http.client.HTTPConnection("127.0.0.1", api.port, timeout=60)
    statuses: list[str] = []

    def post(i: int) -> None:
        body = json.dumps(
            {
                "from": "noreply@example.com",
                "to": [RECIPIENT],
                "subject": f"Invoice {i}",
                "text": "Your invoice is ready.",
                "tags": {"campaign": "bench"},
            }
        )
        connection.request("POST", "/messages", body=body, headers={"Content-Type": "application/json"})
        response = connection.getresponse()
        statuses.append(json.loads(response.read())["status"])

    ses = boto3.client("sesv2")

    def bare(i: int) -> None:
        ses.send_email(
            FromEmailAddress="noreply@example.com",
            Destination={"ToAddresses": [RECIPIENT]},
            Content={
                "Simple": {
                    "Subject": {"Data": f"Invoice {i}"},
                    "Body": {"Text": {"Data": "Your invoice is ready."}},
                }
            },
            EmailTags=[{"Name": "campaign", "Value": "bench"}],
            ConfigurationSetName=stack.name("ConfigurationSet"),
        )

    # The floor: the two calls the sender makes (the suppression lookup, then the send), bare.
    dynamodb = boto3.client("dynamodb")
    lookup = {
        stack.name("SuppressionTable"): {
            "Keys": [{"pk": {"S": f"ADDR#{RECIPIENT}"}, "sk": {"S": "STATE"}}],
            "ConsistentRead": True,
        }
    }

    def both(i: int) -> None:
        dynamodb.batch_get_item(RequestItems=lookup)
        bare(i)

    calls: dict[str, Callable[[int], Any]] = {"api": post, "bare": bare, "both": both}
    for call in calls.values():  # the instance's cold start and both connections, out of the figures
        for i in range(WARMUP):
            call(i)
    samples: dict[str, list[float]] = {name: [] for name in calls}
    for round_ in range(ROUNDS):
        for name, call in calls.items():
            for i in range(round_ * PER_ROUND, (round_ + 1) * PER_ROUND):
                started = time.perf_counter()
                call(i)
                samples[name].append((time.perf_counter() - started) * 1000)
    connection.close()
    assert set(statuses) == {"sent"}, statuses[-1]
    p50 = {name: statistics.median(values) for name, values in samples.items()}
    p99 = {name: _percentile(values, 0.99) for name, values in samples.items()}
    return [
        f"Local REST API — {ROUNDS} x {PER_ROUND} requests each, interleaved; one SenderFunction instance; "
        "wall clock at the caller, keep-alive connections, moto server on loopback",
        "",
        f"POST /messages (HTTP → proxy event → SenderFunction: suppression check + SES send): "
        f"p50 {p50['api']:.2f} ms, p99 {p99['api']:.2f} ms",
        f"bare boto3 sesv2 send_email of the same message:                                  "
        f"p50 {p50['bare']:.2f} ms, p99 {p99['bare']:.2f} ms",
        f"ratio: p50 {p50['api'] / p50['bare']:.2f}x, p99 {p99['api'] / p99['bare']:.2f}x",
        f"  the floor: the sender's two calls bare (batch_get_item + send_email) p50 {p50['both']:.2f} ms, "
        f"p99 {p99['both']:.2f} ms; the HTTP front, proxy event, instance hop and handler's own work: "
        f"{p50['api'] - p50['both']:+.2f} ms at p50 (within noise when near 0)",
        "",
    ]
