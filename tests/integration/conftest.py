"""In-process moto with the template's own resources, and FeedbackFunction's environment set.

One moto mock serves the whole package and is reset before every test, which gives each
test the empty AWS a new ``mock_aws()`` gives, without starting one per test (starting one
drops boto3's default session, so every test paid for loading the service models again).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from moto import mock_aws
from moto.moto_api._internal.models import moto_api_backend
from ses_feedback.edges.store import SuppressionStore
from ses_feedback_emulator.bootstrap import bootstrap
from ses_feedback_stack.names import LocalStack


@dataclass
class Stack:
    local: LocalStack
    refs: dict[str, str]
    store: SuppressionStore


@pytest.fixture(scope="package", autouse=True)
def in_process_aws() -> Iterator[None]:
    """moto for every test of this package, and only while this package's tests run."""
    with mock_aws():
        yield


@pytest.fixture(autouse=True)
def empty_aws(in_process_aws: None) -> None:
    """Every backend back to empty before each test: what ``mock_aws()`` does when it starts."""
    moto_api_backend.reset()


@pytest.fixture
def stack(empty_aws: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[Stack]:
    local = LocalStack(prefix="it")
    refs = bootstrap(local)
    for name, value in local.function_environment("FeedbackFunction").items():
        monkeypatch.setenv(name, value)
    yield Stack(local=local, refs=refs, store=SuppressionStore(refs["SuppressionTable"]))
