"""A moto server process on loopback: the AWS that local mode and the end-to-end tests use.

moto's own ``moto_server`` serves requests on many threads, and moto's backends are not
thread-safe: two concurrent conditional writes to one DynamoDB item can both pass their
condition. Real DynamoDB applies each item write atomically, so this server handles one
request at a time, which gives the same guarantee to the code under test.

moto's SES accepts mail but publishes no realistic feedback and has no configuration-set
event destinations. ``LocalSes`` wraps moto to add both, as SES itself behaves: it keeps
the event destinations that ``CreateConfigurationSetEventDestination`` (SES v2) creates,
and after every SES v2 ``SendEmail`` that moto accepts it publishes the mailbox
simulator's notifications (``ses_feedback_emulator.simulator``) to the destinations' SNS
topics, for the event types they match. Out-of-office auto-replies land in a mailbox that
``GET /_local/mailbox`` lists; every accepted message is kept whole at ``GET /_local/messages``
(``ses-feedback local mailbox``). It also keeps SES's account-level suppression list.

Costs of moto that grow with the data, not with the request, are cut here (what the
server answers does not change, but for the serial number and dates of SNS's signing
certificate; ``speed_up_moto``): TransactWriteItems deep-copies every
table it touches to be able to roll back; SQS checks each message's visibility through a
slow clock conversion on every send and receive, and reads a queue's retention period by
building all of its attributes, message counts included (three passes over the queue),
three times for every message it hands out; SNS issues a new certificate for every message
it signs; and the server lists moto's package folder on disk for every request. Without
this a soak of 20,000 notifications (tests/e2e/test_soak.py) would take hours instead of
minutes.
"""

from __future__ import annotations

import argparse
import contextlib
import errno
import json
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


def speed_up_moto() -> None:
    """Make moto's O(data) steps cheap without changing what moto answers."""
    import copy
    import functools
    from typing import Any

    import moto.backends
    import moto.dynamodb.models as dynamodb_models
    import moto.sqs.models as sqs_models
    from moto.core.utils import camelcase_to_underscores, unix_time
    from moto.dynamodb.models.table import Table
    from moto.sqs.models import Message, SQSBackend

    backend_class = dynamodb_models.DynamoDBBackend
    transact_write_items = backend_class.transact_write_items

    class _NoTableCopies:
        """moto's module-level ``copy`` for the transaction: tables are not copied (we roll back)."""

        def deepcopy(self, value: Any, memo: Any = None) -> Any:
            return value if isinstance(value, Table) else copy.deepcopy(value, memo)

        def __getattr__(self, name: str) -> Any:
            return getattr(copy, name)

    def transact_write_items_touching_only_its_items(self: Any, transact_items: list[dict[str, Any]]) -> None:
        # Snapshot just the items this transaction may change, and put them back if it fails:
        # the same all-or-nothing outcome as moto's whole-table copy, at the cost of the items.
        snapshot: list[tuple[str, dict[str, Any], dict[str, Any] | None]] = []
        for entry in transact_items:
            try:
                (operation,) = entry.values()
                table = self.tables[operation["TableName"]]
                key_names = [table.hash_key_attr] + ([table.range_key_attr] if table.range_key_attr else [])
                key = operation.get("Key") or {name: operation["Item"][name] for name in key_names}
                current = self.get_item(operation["TableName"], key)
            except (KeyError, ValueError, TypeError):
                continue  # moto itself reports what is wrong with this entry
            snapshot.append(
                (operation["TableName"], key, current.to_json()["Attributes"] if current else None)
            )
        module_copy = getattr(dynamodb_models, "copy")  # noqa: B009 - moto's own import of copy
        setattr(dynamodb_models, "copy", _NoTableCopies())  # noqa: B010
        try:
            transact_write_items(self, transact_items)
        except Exception:
            for table_name, key, attributes in reversed(snapshot):
                if attributes is None:
                    if self.get_item(table_name, key) is not None:
                        self.delete_item(table_name, key)
                else:
                    self.put_item(table_name, attributes)
            raise
        finally:
            setattr(dynamodb_models, "copy", module_copy)  # noqa: B010

    backend_class.transact_write_items = transact_write_items_touching_only_its_items  # type: ignore[method-assign]

    # moto's clock (unix_time_millis) goes through datetime conversions on every message of
    # a queue for every send and receive; time.time() gives the same epoch milliseconds.
    def visible(message: Any) -> bool:
        return bool(time.time() * 1000 > message.visible_at)

    def delayed(message: Any) -> bool:
        return bool(time.time() * 1000 < message.delayed_until)

    Message.visible = property(visible)  # type: ignore[method-assign,assignment]
    Message.delayed = property(delayed)  # type: ignore[method-assign,assignment]

    # ReceiveMessage asks, for every message it hands out, whether the message is past the
    # queue's retention period, and moto answers through GetQueueAttributes, which builds
    # every attribute of the queue, the message counts included, once per name it checks.
    # The retention period is a plain attribute of the queue: read it, with moto's clock.
    def within_retention_period(self: Any, queue_name: str, message: Any) -> bool:
        retention_period = int(self.get_queue(queue_name).message_retention_period)
        return bool(retention_period + message.sent_timestamp / 1000 > unix_time())

    SQSBackend.is_message_valid_based_on_retention_period = within_retention_period  # type: ignore[method-assign]
    # Building a queue's attributes (every SendMessage does) converts the same 27 attribute
    # names from CamelCase each time: a pure function, so remember its answers.
    setattr(sqs_models, "camelcase_to_underscores", functools.cache(camelcase_to_underscores))  # noqa: B010
    # The server asks, for every request, whether the Host header names one of moto's
    # packages, by listing moto's folder on disk: the packages do not change while it runs.
    moto_modules = tuple(moto.backends.list_of_moto_modules())
    setattr(moto.backends, "list_of_moto_modules", lambda: moto_modules)  # noqa: B010
    _one_sns_certificate_per_key()


def _one_sns_certificate_per_key() -> None:
    """moto's SNS issues a new X.509 certificate (an RSA signature) for every message it
    delivers, before signing the message with the subscription's one key. Issue it once per
    key: every message is still signed, and its SigningCertURL still serves a certificate
    for that key (only its serial number and dates no longer change from one to the next).
    """
    import types
    from typing import Any

    import moto.sns.models as sns_models
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization

    issued: dict[bytes, x509.Certificate] = {}

    class CertificateBuilder:
        def __init__(self, builder: x509.CertificateBuilder | None = None) -> None:
            self._builder = builder or x509.CertificateBuilder()

        def __getattr__(self, name: str) -> Any:
            step = getattr(self._builder, name)
            return lambda *args, **kwargs: CertificateBuilder(step(*args, **kwargs))

        def sign(self, private_key: Any, algorithm: Any) -> x509.Certificate:
            public = private_key.public_key().public_bytes(
                serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
            )
            if public not in issued:
                issued[public] = self._builder.sign(private_key, algorithm)
            return issued[public]

    shim = types.SimpleNamespace(
        x509=types.SimpleNamespace(
            CertificateBuilder=CertificateBuilder, random_serial_number=x509.random_serial_number
        )
    )
    setattr(sns_models, "cryptography", shim)  # noqa: B010


def serve(host: str, port: int, max_send_rate: float | None = None) -> None:
    from moto.moto_server.werkzeug_app import (
        DomainDispatcherApplication,
        MotoRequestHandler,
        create_backend_app,
    )
    from werkzeug.serving import run_simple

    from ses_feedback_emulator.eventbridge import LocalEventBridge
    from ses_feedback_emulator.ses import LocalSes

    speed_up_moto()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    for name, value in (("AWS_ACCESS_KEY_ID", "testing"), ("AWS_SECRET_ACCESS_KEY", "testing")):
        os.environ.setdefault(name, value)
    app = LocalEventBridge(
        LocalSes(
            DomainDispatcherApplication(create_backend_app),
            endpoint=f"http://{host}:{port}",
            max_send_rate=max_send_rate,
        )
    )
    run_simple(host, port, app, threaded=False, use_reloader=False, request_handler=MotoRequestHandler)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((LOOPBACK, 0))
        port: int = probe.getsockname()[1]
        return port


def bind_problem(host: str, port: int) -> str | None:
    """Why a server could not listen on ``host:port`` (a check before starting there), or None.

    ``in use`` when something already listens there; otherwise the system's reason (an
    address that is not this machine's, a name that does not resolve)."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    except (socket.gaierror, UnicodeError) as exc:
        return f"{host!r} is not an address or host name this machine resolves ({exc})"
    with socket.socket(family, kind, proto) as probe:
        # As the servers bind: a port left in TIME_WAIT by a stopped server is free.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                return IN_USE
            return f"{host} is not an address to listen on here ({exc.strerror or exc})"
    return None


IN_USE = "in use"


def reset(endpoint: str) -> None:
    """Empty every service of the moto server at ``endpoint`` (moto's own reset route)."""
    request = urllib.request.Request(f"{endpoint}/moto-api/reset", method="POST")
    with urllib.request.urlopen(request, timeout=10):
        pass


@dataclass
class MotoServer:
    process: subprocess.Popen[bytes]
    port: int

    @property
    def endpoint(self) -> str:
        return f"http://{LOOPBACK}:{self.port}"

    def stop(self) -> None:
        terminate(self.process, timeout=10)


def terminate(process: subprocess.Popen[bytes], timeout: float) -> None:
    """SIGTERM, then SIGKILL if it has not exited within ``timeout`` seconds."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def start(
    port: int | None = None,
    timeout: float = 30.0,
    log: int | None = subprocess.DEVNULL,
    host: str = LOOPBACK,
    max_send_rate: float | None = None,
) -> MotoServer:
    """Start ``python -m ses_feedback_emulator.motoserver`` and wait until it answers.

    ``max_send_rate``: the local SES answers ``Throttling`` above it, and GetAccount reports it.
    """
    chosen = port or free_port()
    rate = ["--max-send-rate", str(max_send_rate)] if max_send_rate else []
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "ses_feedback_emulator.motoserver",
            "--host",
            host,
            "--port",
            str(chosen),
            *rate,
        ],
        stdout=log,
        stderr=log,
        env={**os.environ, "MOTO_PORT": str(chosen)},
    )
    server = MotoServer(process, chosen)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"moto server exited with {process.returncode} (port {chosen} in use?)")
        if _serves(server):
            return server
        time.sleep(0.1)
    server.stop()
    raise RuntimeError(f"moto server did not answer on port {chosen} within {timeout:.0f}s")


def _serves(server: MotoServer) -> bool:
    """Whether ``server``'s own process answers on its port: a server another process started
    there (a port taken between ``free_port`` and the bind) is not it."""
    from ses_feedback_emulator.ses import SERVER_PID  # the server's module, not the client's

    try:
        with urllib.request.urlopen(f"{server.endpoint}{SERVER_PID}", timeout=1) as answer:
            return bool(json.load(answer).get("pid") == server.process.pid)
    except (OSError, ValueError):
        return False


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
    parser.add_argument("--max-send-rate", type=float, default=None)
    args = parser.parse_args()
    serve(args.host, args.port, args.max_send_rate)


if __name__ == "__main__":
    main()
