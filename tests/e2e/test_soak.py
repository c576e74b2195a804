"""Soak: 20,000 notifications through SNS → SQS → drain on a moto server, with DynamoDB failing.

Proves that nothing is lost and nothing is applied twice:

- 20,000 notifications of every type and both shapes, 1% of them published twice (SNS/SES
  repeats) and 0.5% garbage, go to the feedback topic in ``publish_batch`` calls;
- the real FeedbackFunction handler drains the queue (``ses_feedback_emulator.bootstrap.drain``)
  while a seeded 5% of its DynamoDB calls fail;
- every good notification ends applied exactly once (each address's history and state
  match what was published for it), every garbage one ends in the DLQ, ``ses-feedback
  redrive`` brings back what failed for a transient reason, and ``ses-feedback stats``
  prints the counts that were published.

How the failures are injected, and why that is honest: a botocore ``before-call`` hook on
the store's own DynamoDB client raises the ``ClientError`` that DynamoDB's throttling
produces (``ProvisionedThroughputExceededException``, HTTP 400), and an ``after-call``
hook raises DynamoDB's ``InternalServerError`` *after* the request was applied (the answer
lost on the way back: DynamoDB documents that such a request may have succeeded). The
code under test sees exactly the exception type, error code and timing that real DynamoDB
would give it after the SDK's retries gave up; nothing in the code under test is patched
or told it is being tested. The moto server cannot be asked to fail, and failing it from
outside (killing it) would test the network stack, not DynamoDB semantics.

Why the queue's redrive policy is given maxReceiveCount=1 here: with the template's 5
receives, a message reaches the DLQ only after five failures in a row, which 5%
independent failures make about one in 10^5 (none of 20,000); redrive would go untested.
With 1 receive, every transient failure is a dead letter, so ``redrive`` has about a
tenth of the traffic to bring back, round after round, with the failures still on.
"""

from __future__ import annotations

import json
import random
import sys
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from ses_feedback import wiring
from ses_feedback.edges.queues import Queues
from ses_feedback.edges.store import SuppressionStore
from ses_feedback_emulator.bootstrap import bootstrap
from ses_feedback_emulator.lambdas import drain, load_handler
from ses_feedback_stack.names import LocalStack

from tests.e2e.conftest import Cli
from tests.support import ses_events as b

SEED = 20261128
TOTAL = 20_000
GARBAGE = TOTAL // 200  # 0.5%
DUPLICATES = TOTAL // 100  # 1%
FAILURE_RATE = 0.05
MAX_REDRIVE_ROUNDS = 12
# Published and drained in waves, as traffic arrives: moto's SQS looks at every message in
# the queue on each send, so a single 20,000-message backlog would be quadratic in moto.
WAVE = 1_000


# ---- what is published, and what each address must end up as ------------------------------


@dataclass
class Expected:
    """What one address must look like after the soak, by the policy table in docs/feedback.md."""

    history: Counter[tuple[str, str]] = field(default_factory=Counter)  # (event type, action) → n
    reason: str | None = None
    soft_bounce_count: int = 0


@dataclass
class Plan:
    messages: list[str] = field(default_factory=list)  # every SNS message, in publishing order
    garbage: set[str] = field(default_factory=set)
    addresses: dict[str, Expected] = field(default_factory=dict)
    good: int = 0


class PlanBuilder:
    """Draws addresses from profiles (one per row of the policy table) until TOTAL is reached.

    Each profile publishes the notifications of one new address and records what they must
    leave behind: its history entries by (event type, action), its reason, its soft count.
    """

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.plan = Plan()
        self.unique: list[str] = []

    def build(self) -> Plan:
        profiles = [
            (self.hard, 20),
            (self.hard_twice, 3),
            (lambda a: self.soft(a, 1), 8),
            (lambda a: self.soft(a, 2), 4),
            (lambda a: self.soft(a, 3), 3),
            (lambda a: self.soft(a, 4), 1),
            (self.content_rejected, 2),
            (self.complaint, 4),
            (self.not_spam, 2),
            (self.bounce_and_complaint, 2),
            (self.two_recipients, 2),
            (self.delivered, 30),
            (self.engagement, 19),
        ]
        functions, weights = zip(*profiles, strict=True)
        good_unique = TOTAL - GARBAGE - DUPLICATES
        while len(self.unique) < good_unique:
            before, known = len(self.unique), len(self.plan.addresses)
            self.rng.choices(functions, weights)[0](f"soak{known}@example.com")
            if len(self.unique) > good_unique:
                # The profile overshot: undo it, and fill up with single deliveries instead.
                del self.unique[before:]
                self.plan.addresses = dict(list(self.plan.addresses.items())[:known])
                while len(self.unique) < good_unique:
                    self.delivered(f"soak{len(self.plan.addresses)}@example.com")
        self.plan.good = len(self.unique)
        garbage = [self.garbage(i) for i in range(GARBAGE)]
        self.plan.garbage = set(garbage)
        self.plan.messages = self.unique + self.rng.sample(self.unique, DUPLICATES) + garbage
        self.rng.shuffle(self.plan.messages)
        return self.plan

    def shape(self) -> str:
        return self.rng.choice(["event", "notification"])

    def add(self, address: str, *notifications: dict[str, Any]) -> Expected:
        self.unique.extend(json.dumps(n) for n in notifications)
        return self.plan.addresses.setdefault(address, Expected())

    def hard(self, a: str) -> None:
        subtype = self.rng.choice(["General", "NoEmail", "Suppressed"])
        e = self.add(a, b.bounce([a], "Permanent", subtype, shape=self.shape()))
        e.history[("Bounce", "suppress")] += 1
        e.reason = "hard_bounce"

    def hard_twice(self, a: str) -> None:
        e = self.add(a, b.bounce([a], "Permanent", "General", shape=self.shape()), b.bounce([a], "Permanent"))
        e.history[("Bounce", "suppress")] += 2
        e.reason = "hard_bounce"

    def soft(self, a: str, n: int) -> None:
        e = self.add(a, *(b.bounce([a], "Transient", "MailboxFull", shape=self.shape()) for _ in range(n)))
        # Threshold 3: the third counted bounce suppresses and restarts the count.
        e.history[("Bounce", "count_soft_bounce")] += min(n, 2) + max(0, n - 3)
        if n >= 3:
            e.history[("Bounce", "suppress")] += 1
            e.reason = "soft_bounce"
        e.soft_bounce_count = n if n < 3 else n - 3

    def content_rejected(self, a: str) -> None:
        self.add(a, b.bounce([a], "Transient", "ContentRejected")).history[("Bounce", "record")] += 1

    def complaint(self, a: str) -> None:
        e = self.add(a, b.complaint([a], self.rng.choice(["abuse", None, "fraud"]), shape=self.shape()))
        e.history[("Complaint", "suppress")] += 1
        e.reason = "complaint"

    def not_spam(self, a: str) -> None:
        self.add(a, b.complaint([a], "not-spam")).history[("Complaint", "record")] += 1

    def bounce_and_complaint(self, a: str) -> None:
        e = self.add(a, b.bounce([a], "Permanent", "General"), b.complaint([a], "abuse", shape=self.shape()))
        e.history.update({("Bounce", "suppress"): 1, ("Complaint", "suppress"): 1})
        e.reason = "complaint"  # the stronger reason, whichever arrives first

    def two_recipients(self, a: str) -> None:
        other = a.replace("@", "+2@")
        self.add(a, b.bounce([a, other], "Permanent", "General", shape=self.shape()))
        for address in (a, other):
            e = self.plan.addresses.setdefault(address, Expected())
            e.history[("Bounce", "suppress")] += 1
            e.reason = "hard_bounce"

    def delivered(self, a: str) -> None:
        self.add(a, b.delivery([a], shape=self.shape()))  # no soft bounces to reset: no history

    def engagement(self, a: str) -> None:
        kind = self.rng.choice(["Send", "Open", "Click", "DeliveryDelay", "Reject", "Rendering Failure"])
        self.add(a, b.engagement(kind, [a]))  # counted in metrics only

    @staticmethod
    def garbage(i: int) -> str:
        shapes = [
            f"not SES feedback #{i}",
            json.dumps({"hello": "world", "n": i}),
            json.dumps({"eventType": "Bounce", "mail": b.mail([f"g{i}@example.com"])}),
            json.dumps(
                {"eventType": "Complaint", "mail": {"n": i}, "complaint": {"complainedRecipients": []}}
            ),
            json.dumps([i, "eventType", None]),
        ]
        return shapes[i % len(shapes)]


# ---- DynamoDB failing the way DynamoDB fails ----------------------------------------------------


class DynamoDBFaults:
    """A seeded share of DynamoDB calls fails: most before the request (throttling), some after it."""

    def __init__(self, rate: float, seed: int) -> None:
        self.rate = rate
        self.random = random.Random(seed)
        self.calls: Counter[str] = Counter()
        self.before: Counter[str] = Counter()
        self.after: Counter[str] = Counter()

    def attach(self, client: Any) -> None:
        client.meta.events.register("before-call.dynamodb", self._before_call)
        client.meta.events.register("after-call.dynamodb", self._after_call)

    def _before_call(self, model: Any, **_: Any) -> None:
        self.calls[model.name] += 1
        if self.random.random() < self.rate * 0.8:
            self.before[model.name] += 1
            raise _dynamodb_error(model.name, "ProvisionedThroughputExceededException", 400)

    def _after_call(self, model: Any, http_response: Any, **_: Any) -> None:
        if http_response.status_code < 300 and self.random.random() < self.rate * 0.2:
            self.after[model.name] += 1
            raise _dynamodb_error(model.name, "InternalServerError", 500)


def _dynamodb_error(operation: str, code: str, status: int) -> ClientError:
    return ClientError(
        {
            "Error": {"Code": code, "Message": "injected by the soak test"},
            "ResponseMetadata": {"HTTPStatusCode": status, "RetryAttempts": 4, "MaxAttemptsReached": True},
        },
        operation,
    )


# ---- the soak -------------------------------------------------------------------------------------


@pytest.fixture
def soak_stack(cli: Cli, monkeypatch: pytest.MonkeyPatch) -> Iterator[LocalStack]:
    stack = LocalStack(parameters={"FeedbackMaxReceiveCount": "1"})
    bootstrap(stack)
    # load_handler sets the function's environment; let monkeypatch put it back afterwards.
    for name, value in {**stack.function_environment("FeedbackFunction"), "AWS_REGION": "us-east-1"}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("POWERTOOLS_TRACE_DISABLED", "true")
    yield stack


def publish(topic_arn: str, messages: list[str]) -> None:
    sns = boto3.client("sns")
    for start in range(0, len(messages), 10):
        entries = [{"Id": str(i), "Message": m} for i, m in enumerate(messages[start : start + 10])]
        response = sns.publish_batch(TopicArn=topic_arn, PublishBatchRequestEntries=entries)
        assert not response.get("Failed"), response["Failed"]


def dead_letters(url: str) -> list[str]:
    """Every DLQ message's SNS Message, each read once, all left visible again afterwards."""
    sqs = boto3.client("sqs")
    held: list[dict[str, Any]] = []
    while batch := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=300).get(
        "Messages", []
    ):
        held += batch
    for message in held:
        sqs.change_message_visibility(
            QueueUrl=url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0
        )
    return [json.loads(m["Body"])["Message"] for m in held]


@pytest.mark.e2e
@pytest.mark.long
def test_twenty_thousand_notifications_with_failing_dynamodb_are_applied_exactly_once(
    cli: Cli, soak_stack: LocalStack
) -> None:
    # Given: the plan, published to the topic
    rng = random.Random(SEED)
    plan = PlanBuilder(rng).build()
    assert len(plan.messages) == TOTAL
    refs = soak_stack.resolver().refs
    queue, dlq = refs["FeedbackQueue"], refs["FeedbackDeadLetterQueue"]
    sqs = boto3.client("sqs")

    # ... and the real handler, whose store's DynamoDB client fails 5% of its calls
    handler = load_handler(soak_stack, "FeedbackFunction")
    faults = DynamoDBFaults(FAILURE_RATE, seed=SEED)
    faults.attach(wiring.store().client)

    # When: traffic arrives in waves, each drained as Lambda would drain it
    invocation_errors = 0
    for start in range(0, TOTAL, WAVE):
        publish(refs["FeedbackTopic"], plan.messages[start : start + WAVE])
        invocation_errors += drain(soak_stack, handler=handler).invocation_errors
    dead_after_traffic = Queues(client=sqs).depth(dlq)
    # ... then, while the DLQ holds more than the garbage, redrive and drain again (faults on)
    rounds = 0
    while Queues(client=sqs).depth(dlq) > GARBAGE and rounds < MAX_REDRIVE_ROUNDS:
        moved = cli.json("redrive", "--json")
        assert moved["method"] == "loop"  # moto has no message move task: the fallback ran
        assert moved["moved"] == moved["dead_letter_queue_depth_before"]
        drain(soak_stack, handler=handler)
        rounds += 1

    # Then: the failures happened and sent real work to the DLQ, and redrive brought it back
    calls, failed = sum(faults.calls.values()), sum(faults.before.values()) + sum(faults.after.values())
    assert calls > TOTAL // 2
    assert 0.04 < failed / calls < 0.06
    assert faults.before["TransactWriteItems"] > 0 and faults.after["TransactWriteItems"] > 0
    assert invocation_errors > 0  # whole batches failed (their BatchGetItem was throttled)
    assert dead_after_traffic > GARBAGE + 0.02 * TOTAL
    assert rounds >= 1
    assert Queues(client=sqs).depth(queue) == 0

    # ... every garbage message, and nothing else, is in the DLQ
    assert sorted(dead_letters(dlq)) == sorted(plan.garbage)

    # ... every good notification applied exactly once: each address's history and state
    store = SuppressionStore(refs["SuppressionTable"])  # a client without faults
    history: dict[str, Counter[tuple[str, str]]] = {}
    for address, entry in store.scan_history():
        history.setdefault(address, Counter())[(entry.event_type, entry.action)] += 1
    states = store.get_states(plan.addresses)
    wrong = [
        (address, expected, history.get(address, Counter()), states[address])
        for address, expected in plan.addresses.items()
        if history.get(address, Counter()) != expected.history
        or (states[address].reason.value if states[address].reason else None) != expected.reason
        or states[address].soft_bounce_count != expected.soft_bounce_count
    ]
    assert not wrong, f"{len(wrong)} addresses differ, e.g. {wrong[:3]}"
    assert set(history) <= set(plan.addresses)

    # ... and `ses-feedback stats` prints the published counts
    expected_by_type: dict[str, Counter[str]] = {}
    for expected in plan.addresses.values():
        for (kind, action), n in expected.history.items():
            expected_by_type.setdefault(kind, Counter())[action] += n
    stats = cli.json("stats", "--json")
    assert stats["history"]["by_event_type_and_action"] == {
        kind: dict(actions) for kind, actions in expected_by_type.items()
    }
    assert stats["history"]["total"] == sum(sum(e.history.values()) for e in plan.addresses.values())
    assert stats["history"]["addresses"] == sum(1 for e in plan.addresses.values() if e.history)
    assert stats["suppressed_now"] == {
        reason: sum(1 for e in plan.addresses.values() if e.reason == reason)
        for reason in ("hard_bounce", "soft_bounce", "complaint", "manual")
    }
    assert stats["queues"] == {"feedback": 0, "dead_letter": GARBAGE}
    print(
        f"soak: {TOTAL} published, {plan.good} distinct good, {dead_after_traffic} dead letters after"
        f" the traffic, {rounds} redrive rounds; {calls} DynamoDB calls, faults before the call"
        f" {dict(faults.before)}, after it {dict(faults.after)}",
        file=sys.stderr,
    )
