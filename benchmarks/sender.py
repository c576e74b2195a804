"""SenderFunction: DynamoDB requests per send, and the handler's CPU time against a bare SES call.

The real handler (loaded from the template's CodeUri/Handler with the template's
environment) sends through its direct-invoke door to a moto server: five recipients per
message, one of them suppressed. DynamoDB requests are counted as HTTP requests leaving the
sender's own boto3 clients. CPU time is ``time.process_time()`` in this process only (the
moto server's work is not counted), against a bare boto3 SES v2 ``send_email`` of the same
message to the same endpoint, and a bare ``batch_get_item`` of the same keys: the two
AWS calls a send must make. Both bare calls replay the very requests the handler made for
one send, captured as they left its clients: every key it looks up (each recipient's
state and, with the streams secret configured, its erasure tombstone) and the whole
SendEmail (content with its charsets, the app and stream tags, the configuration set).
The handler's own work is what it costs beyond them (target: the whole send at most 1.2x
the two bare calls). The handler runs as in Lambda: its log line formatted and its metrics
published (EMF), both into /dev/null; the requests it is given are built before the clock
starts, as the bare calls' are. Each send goes to four addresses the handler has not seen
(the worst case: nothing cached); the same send to recipients it has seen before shows what
validating new addresses costs. Then the handler's own work alone, with its two AWS calls
answered at once: whole, and with one part taken away at a time (new addresses, its log
line, its metrics, Powertools' decorators), which shows where it goes and what taking a part
away would buy towards the target (nothing is taken away in Lambda). Two more measures say
why the same work costs more between real calls: the handler with its two calls timed inside
it (its own work measured directly, and its calls against the bare ones), and its own work
alone after a sweep through memory that leaves the CPU's caches cold. With an idempotency key,
what is added is set beside the two requests Powertools makes for it (a conditional PutItem
that claims the key, an UpdateItem that stores the answer), made bare on the same table.
"""

from __future__ import annotations

import contextlib
import copy
import inspect
import json
import statistics
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
from ses_feedback.model.reasons import Reason
from ses_feedback.model.state import Action, AddressState, Decision
from ses_feedback_emulator import motoserver
from ses_feedback_emulator.bootstrap import bootstrap
from ses_feedback_emulator.lambdas import LocalContext, load_handler
from ses_feedback_stack.names import LocalStack

from benchmarks import into_devnull, metrics_on

ROUNDS = 7
PER_ROUND = 60
WARMUP = 20
RECIPIENTS = [f"user{i}@example.org" for i in range(4)] + ["gone@example.org"]


def _recipients(i: int, batch: str = "") -> list[str]:
    """Four new addresses per send (no cache helps), and the one that bounced."""
    return [f"user{batch}{i}-{k}@example.org" for k in range(4)] + ["gone@example.org"]


TARGET_RATIO = 1.2


def _request(i: int, idempotent: bool, batch: str = "") -> dict[str, Any]:
    """``batch`` names a set of new addresses of its own (each variant of the send gets one)."""
    request: dict[str, Any] = {
        "from": "noreply@example.com",
        "to": _recipients(i, batch),
        "subject": f"Invoice {i}",
        "text": "Your invoice is ready.",
        "tags": {"campaign": "bench"},
    }
    if idempotent:
        request["idempotency_key"] = f"bench-{i}"
    return request


def _cpu_ms(call: Callable[[int], Any], first: int, count: int) -> float:
    """CPU milliseconds per call of ``call(i)`` for ``count`` consecutive values of i."""
    started = time.process_time()
    for i in range(first, first + count):
        call(i)
    return (time.process_time() - started) / count * 1000


FIRST_WARMUP = 10_000_000


def _indices() -> list[int]:
    """Every i that ``_interleaved`` passes to a call: the warm-up's, then the rounds'."""
    return [*range(FIRST_WARMUP, FIRST_WARMUP + WARMUP), *range(ROUNDS * PER_ROUND)]


def _interleaved(calls: dict[str, Callable[[int], Any]]) -> dict[str, float]:
    """Median CPU per call of each, measured in interleaved rounds so machine load hits all alike."""
    for call in calls.values():
        _cpu_ms(call, FIRST_WARMUP, WARMUP)
    samples: dict[str, list[float]] = {name: [] for name in calls}
    for round_ in range(ROUNDS):
        for name, call in calls.items():
            samples[name].append(_cpu_ms(call, round_ * PER_ROUND, PER_ROUND))
    return {name: statistics.median(values) for name, values in samples.items()}


def ready(endpoint: str) -> tuple[LocalStack, Callable[[dict[str, Any], Any], Any], LocalContext, Any]:
    """A fresh stack, the real handler, its context and its Sender; one recipient bounced hard."""
    motoserver.reset(endpoint)
    stack = LocalStack(prefix="bench")
    bootstrap(stack)
    handler = load_handler(stack, "SenderFunction")
    # After load_handler: the shared Metrics object must see the template's namespace first.
    from ses_feedback import wiring  # noqa: PLC0415

    context = LocalContext(function_name="SenderFunction")
    sender = wiring.sender()
    moment = datetime.now(UTC)
    gone = AddressState(address="gone@example.org", reason=Reason.HARD_BOUNCE, since=moment)
    sender.store.apply(
        Decision(
            "gone@example.org", Action.SUPPRESS, "Bounce", "bench", "bench", moment, gone, Reason.HARD_BOUNCE
        ),
        AddressState(address="gone@example.org"),
        moment,
        moment + timedelta(days=1),
    )
    return stack, handler, context, sender


def _nothing(*_: Any, **__: Any) -> None:
    return None


def _taken_away(parts: frozenset[str], call: Callable[[], Any]) -> Any:
    """For the breakdown only: ``call()`` with the sender's log line and/or its metrics taken away.

    Swapped in and out around each call (an attribute each): the loggers' level would do
    for the log line, but setting it clears every logger's cache, which costs more than the line.
    """
    from ses_feedback.observability import metrics  # noqa: PLC0415  # after load_handler
    from ses_feedback.usecases.sending import Sender  # noqa: PLC0415

    log_line = Sender.__dict__["_log"]
    if "log line" in parts:
        Sender._log = staticmethod(_nothing)  # type: ignore[method-assign]
    if "metrics" in parts:
        metrics.add_metric = _nothing  # type: ignore[method-assign]  # shadows the method
    try:
        return call()
    finally:
        Sender._log = log_line  # type: ignore[method-assign]
        metrics.__dict__.pop("add_metric", None)


@contextlib.contextmanager
def _calls_replaced(
    sender: Any, replace: Callable[[str, Callable[..., Any]], Callable[..., Any]]
) -> Iterator[None]:
    """The sender's two AWS calls replaced by ``replace(operation, the client's method)``."""
    store, ses = sender.store.client, sender.ses.client
    store.batch_get_item = replace("BatchGetItem", store.batch_get_item)
    ses.send_email = replace("SendEmail", ses.send_email)
    try:
        yield
    finally:  # the clients' own methods again (the instance attributes shadowed them)
        del store.batch_get_item, ses.send_email


def _answered_at_once(
    sender: Any, responses: dict[str, dict[str, Any]]
) -> contextlib.AbstractContextManager[None]:
    """The sender's two AWS calls answered at once with what they answered before: its own work alone."""
    return _calls_replaced(sender, lambda operation, _: lambda **__: responses[operation])


def _calls_timed_inside(
    handler: Callable[[dict[str, Any], Any], Any], context: LocalContext, sender: Any
) -> tuple[float, float]:
    """CPU ms per send inside the sender's two AWS calls, and the rest (its own work), measured
    directly in the same sends: medians of rounds. Between real calls, as in Lambda."""
    inside = [0.0]

    def timed(_: str, method: Callable[..., Any]) -> Callable[..., Any]:
        def call(**params: Any) -> Any:
            started = time.process_time()
            try:
                return method(**params)
            finally:
                inside[0] += time.process_time() - started

        return call

    requests = {i: _request(i, idempotent=False, batch="t") for i in _indices()}
    rounds: list[tuple[float, float]] = []
    with _calls_replaced(sender, timed):
        _cpu_ms(lambda i: handler(requests[i], context), FIRST_WARMUP, WARMUP)
        for round_ in range(ROUNDS):
            inside[0] = 0.0
            whole = _cpu_ms(lambda i: handler(requests[i], context), round_ * PER_ROUND, PER_ROUND)
            calls = inside[0] / PER_ROUND * 1000
            rounds.append((calls, whole - calls))
    return statistics.median(c for c, _ in rounds), statistics.median(o for _, o in rounds)


# More than this machine's L2 (the CPU's caches, as a real AWS call leaves them: cold).
SWEEP_BYTES = 16 * 1024 * 1024
CACHE_LINE = 64


def _sweeper() -> Callable[[], None]:
    """A sweep that touches every cache line of its own SWEEP_BYTES, evicting what the caches held."""
    area = bytearray(SWEEP_BYTES)
    zeros = bytes(SWEEP_BYTES // CACHE_LINE)

    def sweep() -> None:
        area[::CACHE_LINE] = zeros

    return sweep


def _alone(
    handler: Callable[[dict[str, Any], Any], Any], context: LocalContext, recurring: dict[str, Any]
) -> dict[str, float]:
    """CPU per send of the handler's own work, whole and with parts taken away (AWS answered at once).

    Each variant sends to new addresses of its own, or to ``recurring`` (seen before).
    Measured this way because the parts are each a few percent of a send: between real
    calls, run-to-run noise is as large as they are. The whole is also measured after a
    sweep through memory that evicts the CPU's caches (the sweep's own cost taken away).
    """
    core = inspect.unwrap(handler).__globals__["invoke"]  # the handler without Powertools' decorators
    neither = frozenset({"log line", "metrics"})

    def variant(
        parts: frozenset[str], batch: str | None, call: Callable[..., Any] = handler
    ) -> Callable[[int], Any]:
        """Every variant alike through ``_taken_away``; ``batch`` None: to the recipients seen before."""
        requests = {i: _request(i, idempotent=False, batch=batch) for i in _indices()} if batch else {}
        return lambda i: _taken_away(parts, lambda: call(requests.get(i, recurring), context))

    swept, sweep = variant(frozenset(), "s"), _sweeper()
    return _interleaved(
        {
            "whole": variant(frozenset(), "a"),
            "seen before": variant(frozenset(), None),
            "no log line": variant(frozenset({"log line"}), "q"),
            "no metrics": variant(frozenset({"metrics"}), "m"),
            "seen, neither": variant(neither, None),
            "seen, neither, undecorated": variant(neither, None, core),
            "sweep": lambda _: sweep(),
            "after a sweep": lambda i: (sweep(), swept(i)),
        }
    )


def _alone_lines(alone: dict[str, float], own_ms: float) -> list[str]:
    whole = alone["whole"]
    after_sweep = alone["after a sweep"] - alone["sweep"]
    undecorated = alone["seen, neither, undecorated"]
    parts = {
        "validating 4 new addresses": whole - alone["seen before"],
        "the log line": whole - alone["no log line"],
        "the three metrics (added, then published as EMF)": whole - alone["no metrics"],
        "Powertools' decorators": alone["seen, neither"] - undecorated,
        "the rest (the request's model, the use case, the answer)": undecorated,
    }
    return [
        f"  the handler's own work alone (the two AWS calls answered at once): {whole:.3f} ms per send; "
        f"between real calls it costs {own_ms / whole:.1f}x that; after a {SWEEP_BYTES >> 20} MB sweep "
        f"through memory (the CPU's caches cold, as a call leaves them) {after_sweep:.3f} ms, "
        f"{after_sweep / whole:.1f}x",
        "    of it: " + ", ".join(f"{name} {ms:.3f} ms ({ms / whole:.0%})" for name, ms in parts.items()),
    ]


def _requests_of_one_send(sender: Any, send: Callable[[], Any]) -> dict[str, dict[str, Any]]:
    """The parameters of the BatchGetItem and the SendEmail one send made, by operation."""
    made: dict[str, dict[str, Any]] = {}

    def capture(params: dict[str, Any], model: Any, **_: Any) -> None:
        made.setdefault(model.name, copy.deepcopy(params))

    hooks = [
        (sender.store.client.meta.events, "before-parameter-build.dynamodb.BatchGetItem"),
        (sender.ses.client.meta.events, "before-parameter-build.sesv2.SendEmail"),
    ]
    for events, name in hooks:
        events.register(name, capture)
    try:
        with into_devnull():
            send()
    finally:
        for events, name in hooks:
            events.unregister(name, capture)
    assert set(made) == {"BatchGetItem", "SendEmail"}, made
    return made


def _responses(sender: Any, made: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """What DynamoDB and SES answer to the requests of one send (``made``), asked once more."""
    return {
        "BatchGetItem": sender.store.client.batch_get_item(**made["BatchGetItem"]),
        "SendEmail": sender.ses.client.send_email(**made["SendEmail"]),
    }


def run(endpoint: str) -> list[str]:
    stack, handler, context, sender = ready(endpoint)

    # Requests are counted as they leave the sender's DynamoDB client (retries included).
    counts: dict[str, dict[str, int]] = {"plain": {}, "keyed": {}}
    mode = ["plain"]

    def count(event_name: str, **_: Any) -> None:
        operation = event_name.rsplit(".", 1)[-1]
        counts[mode[0]][operation] = counts[mode[0]].get(operation, 0) + 1

    sender.store.client.meta.events.register("before-send.dynamodb", count)
    answers: dict[str, list[dict[str, Any]]] = {"plain": [], "keyed": []}

    # Built before the clock runs: the bare calls are not timed building theirs either.
    plain_requests = {i: _request(i, idempotent=False) for i in [-1, *_indices()]}
    keyed_requests = {i: _request(i, idempotent=True) for i in _indices()}

    def send(i: int) -> None:
        mode[0] = "plain"
        answers["plain"].append(handler(plain_requests[i], context))

    def send_recurring(_: int) -> None:
        # The same five recipients every time: each address is validated once per instance.
        mode[0] = "plain"
        answers["plain"].append(handler(plain_requests[-1], context))

    def send_keyed(i: int) -> None:
        # Powertools' idempotency records go through the same DynamoDB client.
        mode[0] = "keyed"
        answers["keyed"].append(handler(keyed_requests[i], context))

    # The bare calls: the same lookup straight to DynamoDB and the same message straight to
    # SES, as the handler made them for one send (captured before boto3 serialises them).
    with metrics_on():
        made = _requests_of_one_send(sender, lambda: send(-1))
    ses = boto3.client("sesv2")
    bare = made["SendEmail"]
    dynamodb = boto3.client("dynamodb")
    lookup = made["BatchGetItem"]["RequestItems"]
    idempotency_table = stack.name("IdempotencyTable")

    def bare_idempotency(i: int) -> None:
        """Powertools' two requests for a new key, made bare: claim it, then store the answer."""
        key = {"id": {"S": f"bare-{i}-{time.monotonic_ns()}"}}
        dynamodb.put_item(
            TableName=idempotency_table,
            Item={**key, "expiration": {"N": "9999999999"}, "status": {"S": "INPROGRESS"}},
            ConditionExpression="attribute_not_exists(#id) OR #expiry < :now",
            ExpressionAttributeNames={"#id": "id", "#expiry": "expiration"},
            ExpressionAttributeValues={":now": {"N": str(int(time.time()))}},
        )
        dynamodb.update_item(
            TableName=idempotency_table,
            Key=key,
            UpdateExpression="SET #data = :data, #status = :status",
            ExpressionAttributeNames={"#data": "data", "#status": "status"},
            ExpressionAttributeValues={
                ":data": {"S": json.dumps(answers["plain"][-1])},
                ":status": {"S": "COMPLETED"},
            },
        )

    with metrics_on(), into_devnull():
        cpu = _interleaved(
            {
                "handler": send,
                "keyed": send_keyed,
                "recurring": send_recurring,
                "bare": lambda _: ses.send_email(**bare),
                "lookup": lambda _: dynamodb.batch_get_item(RequestItems=lookup),
                # Both, one after the other, as a send makes them (each alone runs on warmer caches).
                "both": lambda _: (dynamodb.batch_get_item(RequestItems=lookup), ses.send_email(**bare)),
                "idempotency": bare_idempotency,
            }
        )
        sender.store.client.meta.events.unregister("before-send.dynamodb", count)  # counted are the sends
        inside_ms, inside_own_ms = _calls_timed_inside(handler, context, sender)
        with _answered_at_once(sender, _responses(sender, made)):
            alone = _alone(handler, context, plain_requests[-1])
    assert all(a["status"] == "partially_suppressed" for a in answers["plain"]), answers["plain"][-1]
    assert all(a["status"] == "partially_suppressed" for a in answers["keyed"]), answers["keyed"][-1]
    plain, keyed = counts["plain"], counts["keyed"]
    batch_gets = plain.get("BatchGetItem", 0) / len(answers["plain"])
    other = sum(n for op, n in plain.items() if op != "BatchGetItem")
    keyed_reads = keyed.pop("BatchGetItem", 0) / len(answers["keyed"])
    persistence = sum(keyed.values()) / len(answers["keyed"])

    handler_ms, keyed_ms, bare_ms, lookup_ms = cpu["handler"], cpu["keyed"], cpu["bare"], cpu["lookup"]
    recurring_ms = cpu["recurring"]
    two_calls_ms = cpu["both"]
    ratio = handler_ms / two_calls_ms
    verdict = "ok" if ratio <= TARGET_RATIO else "OVER"
    added_ms, idempotency_ms = keyed_ms - handler_ms, cpu["idempotency"]
    return [
        f"SenderFunction — {ROUNDS} x {PER_ROUND} sends (direct invoke), 5 recipients each, 1 suppressed, "
        "moto server; CPU figures are medians of interleaved rounds",
        "",
        f"DynamoDB requests per send for the suppression check: {batch_gets:.3f} BatchGetItem "
        f"(budget: exactly 1); other requests on the suppression table: {other}",
        f"with an idempotency_key: {keyed_reads:.3f} BatchGetItem + {persistence:.3f} idempotency-table "
        f"requests per send ({', '.join(f'{k} {v}' for k, v in sorted(keyed.items()))})",
        f"CPU per send: handler {handler_ms:.3f} ms; the two AWS calls it must make, bare, one after the "
        f"other: {two_calls_ms:.3f} ms → {ratio:.2f}x (target ≤ {TARGET_RATIO}x: {verdict})",
        f"  each alone: batch_get_item {lookup_ms:.3f} ms + sesv2 send_email {bare_ms:.3f} ms "
        f"= {lookup_ms + bare_ms:.3f} ms ({handler_ms / (lookup_ms + bare_ms):.2f}x); "
        f"{handler_ms / bare_ms:.2f}x a bare send",
        f"  the handler's own work: {handler_ms - two_calls_ms:.3f} ms per send (validation, answer, "
        "log line, metrics, Powertools)",
        f"  timed inside the handler, its two calls take {inside_ms:.3f} ms (bare: {two_calls_ms:.3f} ms) "
        f"and the rest {inside_own_ms:.3f} ms: what the handler adds is its own work, not dearer calls",
        f"  to recipients seen before (addresses validated once per instance, then cached): "
        f"{recurring_ms:.3f} ms → {recurring_ms / two_calls_ms:.2f}x; so email-validator's checks of "
        f"4 new addresses cost {handler_ms - recurring_ms:.3f} ms of it",
        *_alone_lines(alone, handler_ms - two_calls_ms),
        f"with an idempotency_key: {keyed_ms:.3f} ms ({keyed_ms / two_calls_ms:.2f}x the two calls); it adds "
        f"{added_ms:.3f} ms, beside {idempotency_ms:.3f} ms for its two requests made bare "
        f"({added_ms / idempotency_ms:.2f}x; beyond 1x: Powertools' hashing, serialising, record keeping)",
        "",
    ]
