"""In-process moto with the template's own resources, and FeedbackFunction's environment set."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from moto import mock_aws
from ses_feedback.edges.store import SuppressionStore
from ses_feedback_cli.local import LocalStack, bootstrap


@dataclass
class Stack:
    local: LocalStack
    refs: dict[str, str]
    store: SuppressionStore


@pytest.fixture
def stack(monkeypatch: pytest.MonkeyPatch) -> Iterator[Stack]:
    with mock_aws():
        local = LocalStack(prefix="it")
        refs = bootstrap(local)
        for name, value in local.function_environment("FeedbackFunction").items():
            monkeypatch.setenv(name, value)
        yield Stack(local=local, refs=refs, store=SuppressionStore(refs["SuppressionTable"]))
