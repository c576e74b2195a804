"""The functions run as Lambda would: a handler loaded with the template's environment, a
context object, and the SQS event source mapping played over the feedback queue (drain)."""

from __future__ import annotations

import contextlib
import importlib.util
import io
import os
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

import boto3
from ses_feedback_stack.names import LocalStack
from ses_feedback_stack.template import function_source

# ---- running a function as Lambda would -------------------------------------------------


@dataclass
class LocalContext:
    """The parts of a Lambda context object that Powertools reads."""

    function_name: str
    memory_limit_in_mb: int = 512
    timeout_seconds: float = 30.0
    function_version: str = "$LATEST"
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    invoked_function_arn: str = ""
    started: float = field(default_factory=time.monotonic)

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self.timeout_seconds - (time.monotonic() - self.started)) * 1000))


# For commands whose printed answer is the point (demo, send): a function's INFO logs and EMF
# metrics are what it writes to CloudWatch in Lambda; at a terminal they would drown the answer.
_QUIET = {"POWERTOOLS_LOG_LEVEL": "WARNING", "POWERTOOLS_METRICS_DISABLED": "true"}


@contextlib.contextmanager
def quiet_stdout() -> Iterator[None]:
    """Handlers log and emit metrics on stdout; keep the CLI's stdout for its JSON answer."""
    with contextlib.redirect_stdout(sys.stderr):
        yield


def load_handler(
    stack: LocalStack, logical_id: str, quiet: bool = False, overrides: dict[str, str] | None = None
) -> Callable[[dict[str, Any], Any], Any]:
    """Import a function's handler from CodeUri/Handler, with the template's environment set
    (``overrides`` on top: an ``--env-vars`` file's values).

    ``quiet``: the function logs at WARNING, and what it prints on stdout is dropped (only
    EMF documents, its logs go to the logger's stream; Powertools prints the cold-start
    metric even with metrics disabled).
    """
    # The stack's region, as Lambda sets both (boto3 reads only AWS_DEFAULT_REGION, and clients
    # are built without a region); an --env-vars file may still name another.
    os.environ.update(
        {
            "AWS_REGION": stack.region,
            "AWS_DEFAULT_REGION": stack.region,
            **stack.function_environment(logical_id),
            **(overrides or {}),
            **(_QUIET if quiet else {}),
        }
    )
    os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "true")
    from ses_feedback import wiring
    from ses_feedback.observability import reread_environment

    reread_environment()
    wiring.reset()
    code_dir, module_name, function = function_source(stack.template, logical_id)
    spec = importlib.util.spec_from_file_location(
        f"ses_feedback_fn_{logical_id}", code_dir / f"{module_name}.py"
    )
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {logical_id} from {code_dir}")
    module: ModuleType = importlib.util.module_from_spec(spec)
    with quiet_stdout():
        spec.loader.exec_module(module)
    handler: Callable[[dict[str, Any], Any], Any] = getattr(module, function)
    if not quiet:
        return handler

    def quiet_handler(event: dict[str, Any], context: Any) -> Any:
        with contextlib.redirect_stdout(io.StringIO()):
            return handler(event, context)

    return quiet_handler


# ---- drain: the SQS event source mapping, played locally ---------------------------------


@dataclass
class DrainSummary:
    processed: int = 0
    failed: int = 0
    batches: int = 0
    invocation_errors: int = 0  # invocations that raised: their whole batch failed


def drain(
    stack: LocalStack,
    batch_size: int | None = None,
    max_batches: int | None = None,
    handler: Callable[[dict[str, Any], Any], Any] | None = None,
    observer: Callable[[str], None] | None = None,
) -> DrainSummary:
    """Run FeedbackFunction over the feedback queue until it is empty.

    As Lambda's event source mapping does: receive up to the template's batch size, invoke,
    delete what succeeded and make the reported failures visible again (they are received
    again, and after the redrive policy's receive count they move to the DLQ). An
    invocation that raises fails its whole batch, as a function error does in Lambda.
    ``handler``: one already loaded with ``load_handler`` (default: load it now).
    ``observer`` sees the body of every message that was processed successfully.
    """
    handler = handler or load_handler(stack, "FeedbackFunction")
    resolver = stack.resolver()
    sqs = boto3.client("sqs", region_name=stack.region)
    queue_url = sqs.get_queue_url(QueueName=stack.name("FeedbackQueue"))["QueueUrl"]
    queue_arn = resolver.attributes[("FeedbackQueue", "Arn")]
    size = batch_size or int(resolver.parameter("FeedbackBatchSize"))
    summary = DrainSummary()
    while max_batches is None or summary.batches < max_batches:
        messages = receive_batch(sqs, queue_url, size)
        if not messages:
            return summary
        event = {"Records": [sqs_record(m, queue_arn, stack.region) for m in messages]}
        try:
            with quiet_stdout():
                response = handler(event, LocalContext(function_name=stack.name("FeedbackFunction")))
            failed_ids = {f["itemIdentifier"] for f in (response or {}).get("batchItemFailures", [])}
        except Exception as exc:  # a function error: Lambda returns the whole batch to the queue
            # The type and error code only: an exception's text may quote an address.
            code = getattr(exc, "response", {}).get("Error", {}).get("Code", "")
            print(f"drain: invocation failed ({type(exc).__name__} {code}), batch returns", file=sys.stderr)
            summary.invocation_errors += 1
            failed_ids = {m["MessageId"] for m in messages}
        summary.batches += 1
        summary.processed += len(messages) - len(failed_ids)
        summary.failed += len(failed_ids)
        settle(sqs, queue_url, messages, failed_ids)
        if observer is not None:
            for message in messages:
                if message["MessageId"] not in failed_ids:
                    observer(message["Body"])
    return summary


def receive_batch(sqs: Any, queue_url: str, size: int, visibility_timeout: int = 60) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = []
    while len(messages) < size:
        response = sqs.receive_message(
            QueueUrl=queue_url,
            MaxNumberOfMessages=min(10, size - len(messages)),
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
            VisibilityTimeout=visibility_timeout,
        )
        received = response.get("Messages", [])
        if not received:
            break
        messages.extend(received)
    return messages


def sqs_record(message: dict[str, Any], queue_arn: str, region: str) -> dict[str, Any]:
    return {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"],
        "attributes": message.get("Attributes", {}),
        "messageAttributes": message.get("MessageAttributes", {}),
        "md5OfBody": message.get("MD5OfBody", ""),
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": region,
    }


def settle(sqs: Any, queue_url: str, messages: list[dict[str, Any]], failed_ids: set[str]) -> None:
    done = [m for m in messages if m["MessageId"] not in failed_ids]
    for start in range(0, len(done), 10):
        entries = [
            {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]}
            for i, m in enumerate(done[start : start + 10])
        ]
        sqs.delete_message_batch(QueueUrl=queue_url, Entries=entries)
    for message in messages:
        if message["MessageId"] in failed_ids:
            sqs.change_message_visibility(
                QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0
            )
