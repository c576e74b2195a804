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


# ---- DMARC reports ------------------------------------------------------------------------
# Imported when first built: the other functions' containers never load the DMARC reader.

from typing import TYPE_CHECKING  # noqa: E402

if TYPE_CHECKING:
    from ses_feedback.usecases.dmarc import DmarcReports


@cached
def dmarc_reports() -> DmarcReports:
    """The DMARC use case on the container's table and bucket (DmarcReportFunction's environment)."""
    from datetime import timedelta  # noqa: PLC0415

    from ses_feedback.edges.dmarc_store import DmarcReportStore  # noqa: PLC0415
    from ses_feedback.edges.report_mail import ReportMailBucket  # noqa: PLC0415
    from ses_feedback.settings import get_settings  # noqa: PLC0415
    from ses_feedback.usecases.dmarc import DmarcReports  # noqa: PLC0415

    settings = get_settings()
    if not settings.dmarc_report_table:
        raise RuntimeError("DMARC_REPORT_TABLE is not set")
    bucket = ReportMailBucket(settings.dmarc_report_bucket) if settings.dmarc_report_bucket else None
    return DmarcReports(
        store=DmarcReportStore(settings.dmarc_report_table),
        bucket=bucket,
        retention=timedelta(days=settings.dmarc_report_retention_days),
    )
