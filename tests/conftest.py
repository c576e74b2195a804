"""Test-wide setup: fake AWS credentials, the template's Powertools settings, and a guard
that fails any test whose logs carry an email address in clear."""

from __future__ import annotations

import logging
import os
import re
import socket
from collections.abc import Iterator

import pytest

from tests.support.dns_server import DnsServer

# Tests never reach AWS: fake credentials, a fixed region, and no endpoint unless a test
# (e2e) points boto3 at its own moto server.
os.environ.update(
    {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REGION": "us-east-1",
        "POWERTOOLS_SERVICE_NAME": "ses-feedback",
        "POWERTOOLS_METRICS_NAMESPACE": "SesFeedback",
        "POWERTOOLS_TRACE_DISABLED": "true",
    }
)
os.environ.pop("AWS_ENDPOINT_URL", None)
os.environ.pop("AWS_PROFILE", None)

EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+")


class _Recorder(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The `long` tests first (order otherwise kept): `make test` runs the suite on xdist
    workers, and each long test then starts at once on a worker of its own while the other
    workers share the rest, instead of one of them starting last and running alone."""
    items.sort(key=lambda item: item.get_closest_marker("long") is None)


@pytest.fixture(autouse=True)
def no_address_in_logs() -> Iterator[_Recorder]:
    """Every log line the service writes, formatted as Powertools writes it, holds no address."""
    from ses_feedback.observability import logger

    recorder = _Recorder()
    recorder.setFormatter(logger.registered_formatter)
    service_logger = logging.getLogger(logger.service)
    service_logger.addHandler(recorder)
    previous_level = service_logger.level
    service_logger.setLevel(logging.DEBUG)
    try:
        yield recorder
    finally:
        service_logger.removeHandler(recorder)
        service_logger.setLevel(previous_level)
    leaked = [line for line in recorder.lines if EMAIL.search(line)]
    assert not leaked, f"log lines carry an email address in clear: {leaked[:3]}"


@pytest.fixture(autouse=True)
def fresh_caches() -> Iterator[None]:
    """Settings and clients are cached per container; each test is a new container."""
    from ses_feedback import wiring
    from ses_feedback.observability import metrics

    wiring.reset()
    yield
    wiring.reset()
    # Metrics added outside a handler (domain calls in tests) are never flushed: drop them,
    # so that no test counts another's.
    metrics.clear_metrics()


@pytest.fixture
def closed_port() -> Iterator[int]:
    """A loopback port that refuses connections for the whole test: bound here, never listening,
    so no other process (xdist workers start servers on free ports) can listen on it meanwhile."""
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        yield holder.getsockname()[1]


@pytest.fixture(scope="session")
def dns_server() -> Iterator[DnsServer]:
    """A real authoritative DNS server on loopback (UDP and TCP); tests set its zones."""
    server = DnsServer().start()
    try:
        yield server
    finally:
        server.stop()
