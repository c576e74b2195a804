"""Function instances for the local REST API, as Lambda runs them: one process each, one request at a time.

Each function's ``FunctionPool`` holds its instances. An instance is a fresh interpreter
(``python -m ses_feedback_emulator.instances``), like a Lambda execution environment: its
own environment (the template's for that function), module globals and caches. It imports
the handler once (the cold start), then serves invocations one at a time over a socket pair
it inherits. An instance starts on the first request that finds no idle one and stays warm;
at most ``concurrency`` per function, and a request that finds them all busy waits for one
(where Lambda would scale further or throttle). A function error is reported and the
instance lives on; an instance that times out or dies is discarded, as Lambda discards it.
"""

from __future__ import annotations

import contextlib
import json
import multiprocessing
import os
import subprocess
import sys
import threading
import traceback
from collections.abc import Iterator
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from typing import Any

from ses_feedback_stack.names import LocalStack
from ses_feedback_stack.template import environment_variable_names, function_limits, functions

from ses_feedback_emulator.lambdas import LocalContext, load_handler
from ses_feedback_emulator.motoserver import terminate

DEFAULT_CONCURRENCY = 4
# How long a new instance may take to import its handler (a cold start on a loaded machine).
INSTANCE_START_TIMEOUT_SECONDS = 120.0
# Lambda's longest timeout; the local API passes its own (API Gateway's 29 s).
DEFAULT_TIMEOUT_SECONDS = 900.0


def _instance_main(connection: Connection, stack: LocalStack, logical_id: str, quiet: bool) -> None:
    """A function instance: load the handler once (the cold start), then serve invocations
    one at a time until the pool closes its end."""
    # Only this function's environment: not what other functions' handlers set in the parent.
    own = environment_variable_names(stack.template, logical_id)
    for other in functions(stack.template):
        for name in environment_variable_names(stack.template, other) - own:
            os.environ.pop(name, None)
    handler = load_handler(stack, logical_id, quiet=quiet)
    resolver = stack.resolver()
    timeout, memory = function_limits(stack.template, logical_id)
    connection.send(("ready", None))
    while True:
        try:
            event, request_id = connection.recv()
        except EOFError:
            return
        context = LocalContext(
            function_name=stack.name(logical_id),
            aws_request_id=request_id,
            timeout_seconds=timeout,
            memory_limit_in_mb=memory,
            invoked_function_arn=resolver.attributes[(logical_id, "Arn")],
        )
        try:
            connection.send(("result", json.dumps(handler(event, context))))
        except Exception as exc:  # a function error: Lambda reports it, the instance lives on
            traceback.print_exc(file=sys.stderr)
            connection.send(
                ("error", json.dumps({"errorMessage": str(exc), "errorType": type(exc).__name__}))
            )


@dataclass
class _Instance:
    process: subprocess.Popen[bytes]
    connection: Connection

    def stop(self) -> None:
        self.connection.close()
        terminate(self.process, timeout=5)


class FunctionError(Exception):
    pass


@dataclass
class FunctionPool:
    """The instances of one function: at most ``concurrency``, each serving one request at a time."""

    stack: LocalStack
    logical_id: str
    concurrency: int = DEFAULT_CONCURRENCY
    quiet: bool = False
    timeout: float = DEFAULT_TIMEOUT_SECONDS  # seconds an invocation may take
    _idle: list[_Instance] = field(default_factory=list)
    _running: list[_Instance] = field(default_factory=list)  # idle and busy
    _started: int = 0
    _condition: threading.Condition = field(default_factory=threading.Condition)
    _closed: bool = False

    @property
    def instances(self) -> int:
        """How many instances are running (idle or busy)."""
        with self._condition:
            return len(self._running)

    def invoke(self, event: dict[str, Any], request_id: str) -> Any:
        with self._instance() as instance:
            try:
                instance.connection.send((event, request_id))
                if not instance.connection.poll(self.timeout):
                    raise TimeoutError(f"{self.logical_id} did not answer within {self.timeout:.0f}s")
                kind, payload = instance.connection.recv()
            except (EOFError, OSError) as exc:  # the instance died mid-request (Lambda: Runtime.ExitError)
                raise FunctionError(f"the instance exited ({type(exc).__name__})") from None
        if kind == "error":
            raise FunctionError(payload)
        return json.loads(payload)

    @contextlib.contextmanager
    def _instance(self) -> Iterator[_Instance]:
        with self._condition:
            while not self._idle and self._started >= self.concurrency and not self._closed:
                self._condition.wait()
            if self._closed:
                raise FunctionError("the local API is stopping")
            instance = self._idle.pop() if self._idle else None
            if instance is None:
                self._started += 1
        healthy = False
        try:
            if instance is None:
                instance = self._start()
            yield instance
            healthy = True
        finally:
            discarded = None
            with self._condition:
                if healthy and instance is not None and not self._closed:
                    self._idle.append(instance)
                else:
                    # A timed-out or broken instance is discarded, as Lambda discards it.
                    self._started -= 1
                    if instance is not None:
                        self._running = [i for i in self._running if i is not instance]
                        discarded = instance
                self._condition.notify()
            if discarded is not None:
                discarded.stop()

    def _start(self) -> _Instance:
        parent, child = multiprocessing.Pipe()
        settings = {
            "prefix": self.stack.prefix,
            "parameters": self.stack.parameters,
            "region": self.stack.region,
            "quiet": self.quiet,
        }
        process = subprocess.Popen(
            [sys.executable, "-m", __name__, str(child.fileno()), self.logical_id, json.dumps(settings)],
            pass_fds=(child.fileno(),),
        )
        child.close()
        instance = _Instance(process, parent)
        if not parent.poll(INSTANCE_START_TIMEOUT_SECONDS):
            instance.stop()
            raise FunctionError(f"{self.logical_id} did not start")
        try:
            parent.recv()
        except EOFError:
            instance.stop()
            raise FunctionError(f"{self.logical_id} failed to start (see its error above)") from None
        with self._condition:
            self._running.append(instance)
        return instance

    def close(self) -> None:
        with self._condition:
            self._closed = True
            running, self._running, self._idle = self._running, [], []
            self._condition.notify_all()
        for instance in running:
            instance.stop()


def main() -> None:
    """``python -m ses_feedback_emulator.instances FD FUNCTION SETTINGS``: one function instance."""
    fd, logical_id, settings = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
    connection = Connection(int(fd))
    with contextlib.suppress(KeyboardInterrupt):  # Ctrl-C reaches the whole group: local up stops us
        stack = LocalStack(
            prefix=settings["prefix"], parameters=settings["parameters"], region=settings["region"]
        )
        _instance_main(connection, stack, logical_id, settings["quiet"])


if __name__ == "__main__":
    main()
