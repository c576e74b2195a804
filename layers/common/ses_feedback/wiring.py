"""Settings → edges → use cases: each built on first use, cached for the life of the container.

Lambda keeps a container warm between invocations, so clients and use cases are built once.
Tests and local mode start "a new container" with ``reset()``: the one list of caches.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import TypeVar

T = TypeVar("T")

_BUILDERS: list[Callable[[], object]] = []


def cached(builder: Callable[[], T]) -> Callable[[], T]:
    """Cache ``builder`` for the container and register it with ``reset``."""
    wrapped = cache(builder)
    _BUILDERS.append(wrapped)
    return wrapped


def reset() -> None:
    """Forget every cached setting, client and use case (a new container)."""
    for builder in _BUILDERS:
        builder.cache_clear()  # type: ignore[attr-defined]
    # Until every builder lives here: the caches that still sit beside their use cases.

    from ses_feedback.admin import get_admin, get_ses_account_list  # noqa: PLC0415
    from ses_feedback.feedback import get_store  # noqa: PLC0415
    from ses_feedback.sending import clear_caches  # noqa: PLC0415
    from ses_feedback.settings import get_settings  # noqa: PLC0415

    for legacy in (get_settings, get_store, get_admin, get_ses_account_list):
        legacy.cache_clear()
    clear_caches()
