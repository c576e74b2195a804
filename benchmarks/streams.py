"""Bulk streams: a 1,000-recipient newsletter, and what the suppression check costs with scopes.

The real SenderFunction handler (template environment, direct-invoke door) sends a
newsletter to 1,000 recipients on a moto server as 20 requests of 50 (SES's recipient limit
per request): one SES message per recipient, each with its own signed unsubscribe link.
Beforehand 50 recipients unsubscribed from the newsletter (scoped entries), 20 complained
about another bulk stream (every-bulk entries) and 10 were erased (tombstones), so every
kind of scope is read. Requests are counted as they leave the sender's own boto3 clients
(DynamoDB, SES, Secrets Manager); time is wall-clock for the whole send and CPU in this
process (the moto server's work not counted).
"""

from __future__ import annotations

import time
from typing import Any

from ses_feedback_emulator import motoserver
from ses_feedback_emulator.bootstrap import bootstrap
from ses_feedback_emulator.lambdas import LocalContext, load_handler
from ses_feedback_stack.names import LocalStack

from benchmarks import into_devnull

RECIPIENTS = 1000
PER_REQUEST = 50
UNSUBSCRIBED = 50
COMPLAINED = 20
ERASED = 10


def run(endpoint: str) -> list[str]:
    motoserver.reset(endpoint)
    stack = LocalStack(prefix="bench-streams")
    stack.parameters["UnsubscribeBaseUrl"] = "https://mail.example.com"
    bootstrap(stack)
    for name in ("UnsubscribeFunction", "FeedbackFunction"):
        load_handler(stack, name)
    handler = load_handler(stack, "SenderFunction")
    from ses_feedback import wiring  # noqa: PLC0415  (after load_handler: the template's environment)
    from ses_feedback.model.reasons import Reason  # noqa: PLC0415
    from ses_feedback.model.state import (  # noqa: PLC0415
        Action,
        AddressState,
        Decision,
    )
    from ses_feedback.model.streams import ALL_BULK  # noqa: PLC0415
    from ses_feedback.rules.scopes import suppress_scoped, unsubscribe_decision  # noqa: PLC0415

    addresses = [f"reader{i}@example.org" for i in range(RECIPIENTS)]
    writes, admin = wiring.write_path(), wiring.admin()
    for i, address in enumerate(addresses[:UNSUBSCRIBED]):
        writes.write(address, lambda state, now, i=i: unsubscribe_decision(state, "newsletter", now, f"u{i}"))
    for i, address in enumerate(addresses[UNSUBSCRIBED : UNSUBSCRIBED + COMPLAINED]):

        def complained(state: AddressState, now: Any, i: int = i) -> Decision:
            scoped = suppress_scoped(state, ALL_BULK, Reason.COMPLAINT, now)
            return Decision(
                state.address, Action.SUPPRESS, "Complaint", "bench", f"c{i}", now, scoped, Reason.COMPLAINT
            )

        writes.write(address, complained)
    with into_devnull():
        for address in addresses[-ERASED:]:
            admin.erase(address, "bench", "bench")
    wiring.reset()
    handler = load_handler(stack, "SenderFunction")
    sender = wiring.sender()

    counts: dict[str, int] = {}

    def count(event_name: str, **_: Any) -> None:
        service, operation = event_name.split(".")[1:3]
        counts[f"{service}.{operation}"] = counts.get(f"{service}.{operation}", 0) + 1

    sender.store.client.meta.events.register("before-send.dynamodb", count)
    sender.ses.client.meta.events.register("before-send.sesv2", count)
    keys_per_request: list[int] = []
    sender.store.client.meta.events.register(
        "before-parameter-build.dynamodb.BatchGetItem",
        lambda params, **_: keys_per_request.extend(len(t["Keys"]) for t in params["RequestItems"].values()),
    )
    context = LocalContext(function_name="SenderFunction")
    sent = suppressed = 0
    with into_devnull():
        started, cpu_started = time.perf_counter(), time.process_time()
        for start in range(0, RECIPIENTS, PER_REQUEST):
            request = {
                "from": "news@example.com",
                "to": addresses[start : start + PER_REQUEST],
                "subject": "November",
                "text": "Our news. Unsubscribe: {{unsubscribe_url}}",
                "html": '<p>Our news.</p><a href="{{unsubscribe_url}}">Unsubscribe</a>',
                "stream": "newsletter",
            }
            answer = handler(request, context)
            sent += len(answer["messages"])
            suppressed += len(answer["suppressed"])
        wall, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    assert suppressed == UNSUBSCRIBED + COMPLAINED + ERASED, suppressed
    assert sent == RECIPIENTS - suppressed, sent
    requests = RECIPIENTS // PER_REQUEST
    batch_gets = counts.get("dynamodb.BatchGetItem", 0)
    other_dynamodb = sum(
        n for k, n in counts.items() if k.startswith("dynamodb.") and k != "dynamodb.BatchGetItem"
    )
    return [
        f"Bulk stream — one newsletter to {RECIPIENTS} recipients as {requests} requests of {PER_REQUEST} "
        f"(direct invoke, moto server); {UNSUBSCRIBED} unsubscribed, {COMPLAINED} complained about "
        f"bulk mail, {ERASED} erased",
        "",
        f"suppression check: {batch_gets / requests:.3f} BatchGetItem per request (budget: exactly 1), "
        f"{max(keys_per_request)} keys each (state + tombstone per address); other DynamoDB requests: "
        f"{other_dynamodb}",
        f"SES SendEmail: {counts.get('sesv2.SendEmail', 0)} ({sent} sent, one per recipient; "
        f"{suppressed} suppressed)",
        f"time: {wall:.2f} s wall for all {RECIPIENTS} ({wall / max(sent, 1) * 1000:.2f} ms per message "
        "sent), "
        f"{cpu / max(sent, 1) * 1000:.2f} ms CPU per message in the handler's process",
        "",
    ]
