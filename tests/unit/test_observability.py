"""The shared logger and metrics take a function's environment set after they were built
(local mode imports the package before it loads each function)."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
from ses_feedback.observability import logger, metrics, reread_environment


@pytest.fixture
def restore_observability(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    yield monkeypatch
    monkeypatch.undo()
    reread_environment()


def test_reread_environment_applies_service_level_and_namespace(
    restore_observability: pytest.MonkeyPatch,
) -> None:
    # Given: the objects exist, then a function's environment arrives
    restore_observability.setenv("POWERTOOLS_SERVICE_NAME", "svc-from-template")
    restore_observability.setenv("POWERTOOLS_LOG_LEVEL", "WARNING")
    restore_observability.setenv("POWERTOOLS_METRICS_NAMESPACE", "NamespaceFromTemplate")
    # When
    reread_environment()
    # Then
    assert logger.get_current_keys()["service"] == "svc-from-template"
    assert not logger.isEnabledFor(logging.INFO) and logger.isEnabledFor(logging.WARNING)
    assert (metrics.namespace, metrics.service) == ("NamespaceFromTemplate", "svc-from-template")
