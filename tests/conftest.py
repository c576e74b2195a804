"""Test-wide setup: fake AWS credentials, the template's Powertools settings, and a guard
that fails any test whose logs carry an email address in clear."""

from __future__ import annotations

import logging
import os
import re
import socket
from collections.abc import Iterator
from typing import Any

import pytest

from tests.support import iam_calls
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
# Every AWS call a function's handler makes is checked against that function's IAM policy.
iam_calls.install()

EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+")


class _Recorder(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--iam-unused-grants",
        action="store_true",
        help="fail the run when template.yaml grants a function an action on a resource that no "
        "call of that function's handler needed (meaningful on the whole suite: `make test`)",
    )


@pytest.hookimpl(optionalhook=True)  # an xdist hook: absent when xdist is not loaded
def pytest_testnodedown(node: Any, error: Any) -> None:
    """xdist: a worker's requests reach the controller, which judges the grants at the end."""
    text = getattr(node, "workeroutput", {}).get("iam_requests")
    if text:
        iam_calls.RECORDER.seen.update(iam_calls.load(text))


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    config = session.config
    if hasattr(config, "workeroutput"):  # an xdist worker: hand the requests over
        config.workeroutput["iam_requests"] = iam_calls.dump(iam_calls.RECORDER.seen)
        return
    if not config.getoption("--iam-unused-grants"):
        return
    unused = iam_calls.unused_grants(iam_calls.RECORDER.seen)
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    if unused and reporter is not None:
        reporter.write_sep("=", "IAM: granted in template.yaml, needed by no call of the suite", red=True)
        for line in unused:
            reporter.write_line(line)
    if unused:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


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
def calls_within_iam() -> Iterator[iam_calls.Recorder]:
    """No handler makes an AWS call that its role, as the template grants it, would refuse:
    moto ignores IAM, so without this a missing grant shows only after a deploy."""
    iam_calls.RECORDER.clear()
    yield iam_calls.RECORDER
    refused = [request.describe() for request in iam_calls.RECORDER.refused]
    assert not refused, "AWS would refuse these calls (template.yaml grants them not): " + "; ".join(
        dict.fromkeys(refused)
    )


@pytest.fixture(autouse=True)
def environment_restored() -> Iterator[None]:
    """Each test starts from the same environment. The CLI's --region sets AWS_REGION and
    AWS_DEFAULT_REGION for the process, and loading a handler in-process sets its function's
    variables (SUPPRESSION_TABLE, HOME_REGION, ...) as Lambda would: without this, a later test
    of the same worker would read another test's stack."""
    saved = dict(os.environ)
    os.environ.setdefault("AWS_REGION", "us-east-1")
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    yield
    os.environ.clear()
    os.environ.update(saved)


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
