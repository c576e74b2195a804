"""The use cases on a test's own store and clock, built as ``wiring`` builds them."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from ses_feedback import wiring
from ses_feedback.edges.ses_account import (
    SesAccountSuppressionList,
    SesAccountSuppressionLists,
    SesSuppressionList,
)
from ses_feedback.edges.store import SuppressionStore
from ses_feedback.model.moments import utc_now
from ses_feedback.settings import Settings
from ses_feedback.usecases.admin import SuppressionAdmin
from ses_feedback.usecases.bulk_import import BulkImport
from ses_feedback.usecases.feedback import FeedbackProcessor


def settings_for(store: SuppressionStore) -> Settings:
    """The template's defaults, on this store's table."""
    return Settings.from_env({"SUPPRESSION_TABLE": store.table_name})


def admin(
    store: SuppressionStore,
    ses: SesSuppressionList | None = None,
    clock: Callable[[], datetime] = utc_now,
) -> SuppressionAdmin:
    return SuppressionAdmin(writes=wiring.write_path_for(settings_for(store), store, clock), ses=ses)


def bulk(store: SuppressionStore, clock: Callable[[], datetime] = utc_now) -> BulkImport:
    return wiring.bulk_import_for(settings_for(store), clock, store)


def feedback(store: SuppressionStore, config: Settings | None = None) -> FeedbackProcessor:
    config = config or settings_for(store)
    return FeedbackProcessor(writes=wiring.write_path_for(config, store), policy=config.policy)


def only_region(lists: SesAccountSuppressionLists) -> SesAccountSuppressionList:
    """The one region's list of a single-region deployment (its client, to stub)."""
    (one,) = lists.lists
    return one
