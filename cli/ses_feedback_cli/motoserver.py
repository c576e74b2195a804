"""A moto server process on loopback: the AWS that local mode and the end-to-end tests use.

moto's own ``moto_server`` serves requests on many threads, and moto's backends are not
thread-safe: two concurrent conditional writes to one DynamoDB item can both pass their
condition. Real DynamoDB applies each item write atomically, so this server handles one
request at a time, which gives the same guarantee to the code under test.

moto's SES accepts mail but publishes no realistic feedback and has no configuration-set
event destinations. ``LocalSes`` wraps moto to add both, as SES itself behaves: it keeps
the event destinations that ``CreateConfigurationSetEventDestination`` (SES v2) creates,
and after every SES v2 ``SendEmail`` that moto accepts it publishes the mailbox
simulator's notifications (``ses_feedback_cli.simulator``) to the destinations' SNS
topics, for the event types they match. Out-of-office auto-replies land in a mailbox that
``GET /_local/mailbox`` lists.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass

LOOPBACK = "127.0.0.1"


def serve(host: str, port: int) -> None:
    from moto.moto_server.werkzeug_app import (
        DomainDispatcherApplication,
        MotoRequestHandler,
        create_backend_app,
    )
    from werkzeug.serving import run_simple

    from ses_feedback_cli.local_ses import LocalSes

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    for name, value in (("AWS_ACCESS_KEY_ID", "testing"), ("AWS_SECRET_ACCESS_KEY", "testing")):
        os.environ.setdefault(name, value)
    app = LocalSes(DomainDispatcherApplication(create_backend_app), endpoint=f"http://{host}:{port}")
    run_simple(host, port, app, threaded=False, use_reloader=False, request_handler=MotoRequestHandler)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((LOOPBACK, 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass
class MotoServer:
    process: subprocess.Popen[bytes]
    port: int

    @property
    def endpoint(self) -> str:
        return f"http://{LOOPBACK}:{self.port}"

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def start(
    port: int | None = None, timeout: float = 30.0, log: int | None = subprocess.DEVNULL, host: str = LOOPBACK
) -> MotoServer:
    """Start ``python -m ses_feedback_cli.motoserver`` and wait until it answers."""
    chosen = port or free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "ses_feedback_cli.motoserver", "--host", host, "--port", str(chosen)],
        stdout=log,
        stderr=log,
        env={**os.environ, "MOTO_PORT": str(chosen)},
    )
    server = MotoServer(process, chosen)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"moto server exited with {process.returncode} (port {chosen} in use?)")
        try:
            with urllib.request.urlopen(f"{server.endpoint}/moto-api/", timeout=1):
                return server
        except OSError:
            time.sleep(0.1)
    server.stop()
    raise RuntimeError(f"moto server did not answer on port {chosen} within {timeout:.0f}s")


@contextlib.contextmanager
def running(port: int | None = None) -> Iterator[MotoServer]:
    server = start(port)
    try:
        yield server
    finally:
        server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description="moto server on loopback, one request at a time")
    parser.add_argument("--host", default=LOOPBACK)
    parser.add_argument("--port", type=int, default=5000)
    args = parser.parse_args()
    serve(args.host, args.port)


if __name__ == "__main__":
    main()
