"""An SQS event source mapping played locally with its maximum concurrency: BulkSenderFunction's.

Lambda polls the queue and runs at most ``ScalingConfig.MaximumConcurrency`` instances of the
function at once, each a container of its own. Here each of that many pollers takes a batch
(the mapping's ``BatchSize``) and invokes an instance from a ``FunctionPool`` (a process
each, with its own caches: a bulk worker's pacer is per instance, as in Lambda). What the
function reports as failed, and every message of an invocation that failed or whose
instance died, is made visible again at once (Lambda waits for the visibility timeout; a
local run would wait minutes for nothing); the rest is deleted.
"""

from __future__ import annotations

import sys
import threading
import uuid
from dataclasses import dataclass, field
from typing import Any

import boto3
from ses_feedback_stack.names import LocalStack
from ses_feedback_stack.template import function_limits

from ses_feedback_emulator.instances import FunctionError, FunctionPool
from ses_feedback_emulator.lambdas import receive_batch, settle, sqs_record


@dataclass(frozen=True)
class EventSource:
    queue: str  # the queue's logical id
    batch_size: int
    max_concurrency: int


def sqs_event_source(stack: LocalStack, function: str) -> EventSource:
    """The function's SQS event source, as the template defines it."""
    resolver = stack.resolver()
    events = stack.template["Resources"][function]["Properties"].get("Events", {})
    for event in events.values():
        if event.get("Type") == "SQS":
            properties = event["Properties"]
            queue = properties["Queue"]["Fn::GetAtt"]
            queue_id = queue[0] if isinstance(queue, list) else queue.split(".")[0]
            scaling = resolver.resolve(properties.get("ScalingConfig", {}))
            return EventSource(
                queue=queue_id,
                batch_size=int(resolver.resolve(properties.get("BatchSize", 10))),
                max_concurrency=int(scaling.get("MaximumConcurrency", 2)),
            )
    raise ValueError(f"{function} has no SQS event source")


@dataclass
class QueuePoller:
    stack: LocalStack
    function: str
    interval: float = 0.5
    quiet: bool = True
    _stop: threading.Event = field(default_factory=threading.Event)
    _threads: list[threading.Thread] = field(default_factory=list)
    _pool: FunctionPool | None = None

    def start(self) -> QueuePoller:
        source = sqs_event_source(self.stack, self.function)
        timeout, _ = function_limits(self.stack.template, self.function)
        self._pool = FunctionPool(
            self.stack, self.function, concurrency=source.max_concurrency, quiet=self.quiet, timeout=timeout
        )
        sqs = boto3.client("sqs", region_name=self.stack.region)
        queue_url = sqs.get_queue_url(QueueName=self.stack.name(source.queue))["QueueUrl"]
        queue_arn = self.stack.resolver().attributes[(source.queue, "Arn")]
        for _ in range(source.max_concurrency):
            thread = threading.Thread(
                target=self._poll,
                args=(queue_url, queue_arn, source.batch_size, int(timeout) + 30),
                daemon=True,
            )
            thread.start()
            self._threads.append(thread)
        return self

    def _poll(self, queue_url: str, queue_arn: str, batch_size: int, visibility: int) -> None:
        assert self._pool is not None
        sqs: Any = boto3.client("sqs", region_name=self.stack.region)
        while not self._stop.is_set():
            messages = receive_batch(sqs, queue_url, batch_size, visibility)
            if not messages:
                self._stop.wait(self.interval)
                continue
            event = {"Records": [sqs_record(m, queue_arn, self.stack.region) for m in messages]}
            try:
                response = self._pool.invoke(event, str(uuid.uuid4()))
                failed = {f["itemIdentifier"] for f in (response or {}).get("batchItemFailures", [])}
            except (FunctionError, TimeoutError) as exc:
                print(
                    f"{self.function}: invocation failed ({type(exc).__name__}), batch returns",
                    file=sys.stderr,
                )
                failed = {m["MessageId"] for m in messages}
            if self._stop.is_set() and failed:
                return  # stopping: what failed stays invisible until its timeout, as in Lambda
            settle(sqs, queue_url, messages, failed)

    def stop(self) -> None:
        self._stop.set()
        if self._pool is not None:
            self._pool.close()
        for thread in self._threads:
            thread.join(timeout=10)
