"""`ses-feedback local invoke`: what ``sam local invoke`` does, in this process instead of a container.

The function is named by its logical id in ``template.yaml``; its handler is imported from
CodeUri/Handler with the environment the template gives it, and an ``--env-vars`` file
overrides it as SAM reads one: ``Parameters`` for every function, then the function's own
section, and only for variables the template declares (SAM ignores the rest; here each
ignored name is said on stderr). AWS itself is whatever ``AWS_ENDPOINT_URL`` points at.

As ``sam local invoke`` prints it: the START/END/REPORT lines and the function's logs on
stderr, the result as one line of JSON on stdout; a function error is the Lambda error
document (``errorMessage``, ``errorType``, ``requestId``, ``stackTrace``).
"""

from __future__ import annotations

import json
import math
import resource
import sys
import time
import traceback
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ses_feedback_stack.names import LocalStack
from ses_feedback_stack.template import environment_variable_names, function_limits, functions

from ses_feedback_emulator.lambdas import LocalContext, load_handler, quiet_stdout

# Bounds on the files read: an event or env-vars file is a few kilobytes; Lambda's own
# synchronous payload limit is 6 MB.
MAX_EVENT_BYTES = 6 * 1024 * 1024
MAX_ENV_VARS_BYTES = 1024 * 1024


class InvokeInputError(ValueError):
    """A function, event or env-vars file that cannot be used: said plainly, nothing is run."""


@dataclass(frozen=True)
class Invocation:
    request_id: str
    result: Any
    failed: bool
    init_ms: float
    duration_ms: float
    memory_mb: int
    max_memory_mb: int


def read_json(path: Path, limit: int, what: str) -> Any:
    try:
        if path.stat().st_size > limit:
            raise InvokeInputError(f"{what} {path} is larger than {limit // 1024} KiB")
        return json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise InvokeInputError(f"cannot read {what} {path}: {exc.strerror}") from exc
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InvokeInputError(f"{what} {path} is not JSON: {exc}") from exc


def env_var_overrides(stack: LocalStack, logical_id: str, document: Any) -> tuple[dict[str, str], list[str]]:
    """(the values to apply, the names ignored) from an ``--env-vars`` document, as SAM reads it."""
    if not isinstance(document, dict):
        raise InvokeInputError("the env-vars file must be a JSON object of sections")
    declared = environment_variable_names(stack.template, logical_id)
    merged: dict[str, str] = {}
    for section in ("Parameters", logical_id):
        values = document.get(section, {})
        if not isinstance(values, dict):
            raise InvokeInputError(f"env-vars section {section} must be an object of NAME: value")
        for name, value in values.items():
            if not isinstance(value, str):
                raise InvokeInputError(f"env-vars {section}.{name} must be a string, got {json.dumps(value)}")
            merged[name] = value
    applied = {name: value for name, value in merged.items() if name in declared}
    return applied, sorted(set(merged) - declared)


def invoke(
    stack: LocalStack, logical_id: str, event: Any, overrides: dict[str, str] | None = None
) -> Invocation:
    """Run the function once with ``event``; its logs go to stderr, its result is returned."""
    if logical_id not in functions(stack.template):
        known = ", ".join(sorted(functions(stack.template)))
        raise InvokeInputError(f"{logical_id} is not a function of template.yaml (functions: {known})")
    if not stack.present(logical_id):
        raise InvokeInputError(
            f"{logical_id} is not in the {stack.region} stack: a replica-region stack (HomeRegion "
            f"{stack.parameters.get('HomeRegion')}) has none; its region is the home region"
        )
    timeout, memory = function_limits(stack.template, logical_id)
    request_id = str(uuid.uuid4())
    started = time.perf_counter()
    handler = load_handler(stack, logical_id, overrides=overrides)
    loaded = time.perf_counter()
    context = LocalContext(
        function_name=stack.name(logical_id),
        aws_request_id=request_id,
        timeout_seconds=timeout,
        memory_limit_in_mb=memory,
        invoked_function_arn=stack.resolver().attributes[(logical_id, "Arn")],
    )
    print(f"START RequestId: {request_id} Version: $LATEST", file=sys.stderr, flush=True)
    failed = False
    with quiet_stdout():
        try:
            result: Any = handler(event, context)
        except Exception as exc:  # a function error: Lambda answers with its error document
            failed = True
            result = {
                "errorMessage": str(exc),
                "errorType": type(exc).__name__,
                "requestId": request_id,
                "stackTrace": traceback.format_tb(exc.__traceback__),
            }
            traceback.print_exc(file=sys.stderr)
    finished = time.perf_counter()
    max_memory = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024  # KiB on Linux
    return Invocation(
        request_id=request_id,
        result=result,
        failed=failed,
        init_ms=(loaded - started) * 1000,
        duration_ms=(finished - loaded) * 1000,
        memory_mb=memory,
        max_memory_mb=int(max_memory),
    )


def report_lines(invocation: Invocation) -> list[str]:
    """The END and REPORT lines Lambda writes after an invocation."""
    return [
        f"END RequestId: {invocation.request_id}",
        f"REPORT RequestId: {invocation.request_id}\tInit Duration: {invocation.init_ms:.2f} ms\t"
        f"Duration: {invocation.duration_ms:.2f} ms\t"
        f"Billed Duration: {math.ceil(invocation.duration_ms)} ms\t"
        f"Memory Size: {invocation.memory_mb} MB\tMax Memory Used: {invocation.max_memory_mb} MB",
    ]
