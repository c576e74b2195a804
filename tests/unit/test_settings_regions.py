"""Several regions in the settings: where writes go, which SES lists are kept, what is refused;
and SES's lists of several regions read and lifted as one."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from pydantic import ValidationError
from ses_feedback.edges.ses_account import SesAccountSuppressionLists, SesSuppressedDestination
from ses_feedback.settings import Settings

TABLE = {"SUPPRESSION_TABLE": "prod-SuppressionTable-1A2B3C"}


def settings(**variables: str) -> Settings:
    return Settings.from_env({**TABLE, **variables})


def test_a_home_stack_writes_here_and_keeps_ses_lists_here_and_in_each_replica_region() -> None:
    home = settings(AWS_REGION="us-east-1", HOME_REGION="", REPLICA_REGIONS="eu-west-1,ap-southeast-2")
    assert home.home_region is None and home.writes_region is None
    assert home.replica_regions == ("eu-west-1", "ap-southeast-2")
    assert home.ses_regions == ("us-east-1", "eu-west-1", "ap-southeast-2")


def test_a_replica_stack_writes_home_and_keeps_the_same_ses_lists_once_each() -> None:
    replica = settings(
        AWS_REGION="eu-west-1", HOME_REGION="us-east-1", REPLICA_REGIONS="eu-west-1,ap-southeast-2"
    )
    assert replica.writes_region == "us-east-1"
    assert replica.ses_regions == ("us-east-1", "eu-west-1", "ap-southeast-2")
    # given no list of the others (a replica stack deployed without ReplicaRegions): home and here
    alone = settings(AWS_REGION="eu-west-1", HOME_REGION="us-east-1")
    assert alone.ses_regions == ("us-east-1", "eu-west-1")


def test_one_region_and_no_region_named_is_the_deployment_before_regions() -> None:
    assert settings().ses_regions == (None,)  # boto3's own region
    assert settings(AWS_REGION="us-east-1").ses_regions == ("us-east-1",)
    assert settings().writes_region is None


@pytest.mark.parametrize(
    ("variable", "value", "said"),
    [
        ("REPLICA_REGIONS", "eu-west-1, ap-southeast-2", "' ap-southeast-2' is not a region name"),
        ("REPLICA_REGIONS", "eu-west-1,,us-west-2", "'' is not a region name"),
        ("HOME_REGION", "Ireland", "'Ireland' is not a region name"),
    ],
)
def test_a_region_list_that_is_not_region_names_is_refused_naming_the_value(
    variable: str, value: str, said: str
) -> None:
    with pytest.raises(ValidationError, match=said):
        settings(**{variable: value})


# ---- SES's account-level lists of several regions ------------------------------------------------


class FakeList:
    """One region's SES list in memory (the real one's calls are stubbed in tests/integration)."""

    def __init__(self, region: str, addresses: list[str]) -> None:
        self.region = region
        self.addresses = addresses
        self.removed: list[str] = []

    def entries(self) -> Iterator[SesSuppressedDestination]:
        moment = datetime(2026, 11, 1, tzinfo=UTC)
        return iter([SesSuppressedDestination(a, "BOUNCE", moment) for a in self.addresses])

    def remove(self, address: str) -> bool:
        self.removed.append(address)
        return address in self.addresses


def lists(*regions: FakeList) -> SesAccountSuppressionLists:
    return SesAccountSuppressionLists(regions)  # type: ignore[arg-type]  # duck-typed as the protocol says


def test_the_lists_are_read_one_region_after_the_other() -> None:
    both = lists(
        FakeList("us-east-1", ["a@example.org"]), FakeList("eu-west-1", ["b@example.org", "a@example.org"])
    )
    assert [e.email_address for e in both.entries()] == ["a@example.org", "b@example.org", "a@example.org"]


def test_a_lift_asks_every_region_and_says_whether_any_had_the_address() -> None:
    home, here = FakeList("us-east-1", []), FakeList("eu-west-1", ["b@example.org"])
    assert lists(home, here).remove("b@example.org") is True
    assert (home.removed, here.removed) == (["b@example.org"], ["b@example.org"])
    assert lists(home, here).remove("c@example.org") is False


def test_lists_of_no_region_are_refused() -> None:
    with pytest.raises(ValueError, match="at least one region"):
        SesAccountSuppressionLists([])


def test_each_region_gets_a_client_of_its_own_region() -> None:
    built = SesAccountSuppressionLists.of(["us-east-1", "eu-west-1"])
    assert [ses.client.meta.region_name for ses in built.lists] == ["us-east-1", "eu-west-1"]
