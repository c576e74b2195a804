"""`stats` per region and together: one suppression list (read at home), and each region's own
reputation rates and alarms (each region's SES account and stack keep their own), on a moto
server that plays CloudWatch in two regions."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import boto3
import pytest

from tests.e2e.conftest import Cli
from tests.support import ses_events as b

HOME, REPLICA = "us-east-1", "eu-west-1"
REGIONS = f"{HOME},{REPLICA}"


def put_bounce_rate(region: str, rate: float) -> None:
    # Five minutes old: SES publishes a rate after the period it describes.
    when = datetime.now(UTC) - timedelta(minutes=5)
    boto3.client("cloudwatch", region_name=region).put_metric_data(
        Namespace="AWS/SES",
        MetricData=[{"MetricName": "Reputation.BounceRate", "Value": rate, "Timestamp": when}],
    )


def alarm(region: str, name: str, state: str) -> None:
    cloudwatch = boto3.client("cloudwatch", region_name=region)
    cloudwatch.put_metric_alarm(
        AlarmName=name,
        Namespace="AWS/SES",
        MetricName="Reputation.BounceRate",
        Statistic="Maximum",
        Period=900,
        EvaluationPeriods=1,
        Threshold=0.025,
        ComparisonOperator="GreaterThanOrEqualToThreshold",
    )
    cloudwatch.set_alarm_state(AlarmName=name, StateValue=state, StateReason="test")


@pytest.fixture
def two_regions(cli: Cli) -> None:
    """The local stack at home (its list has one hard bounce) and in eu-west-1 (its list empty:
    were it read there, the count would be 0)."""
    refs = cli.json("--region", HOME, "local", "bootstrap")
    cli.json("--region", REPLICA, "local", "bootstrap")
    boto3.client("sns", region_name=HOME).publish(
        TopicArn=refs["FeedbackTopic"], Message=json.dumps(b.bounce(["h1@example.com"]))
    )
    cli.json("--region", HOME, "local", "drain")


def test_all_regions_reads_the_list_at_home_and_each_regions_reputation_and_alarms(
    cli: Cli, two_regions: None
) -> None:
    # Given: a bounce rate above the warning in eu-west-1 only, and its alarm firing there
    put_bounce_rate(HOME, 0.001)
    put_bounce_rate(REPLICA, 0.06)
    alarm(HOME, "ses-feedback-local-BounceRateAlarm", "OK")
    alarm(REPLICA, "ses-feedback-local-BounceRateAlarm", "ALARM")
    alarm(REPLICA, "another-stack-BounceRateAlarm", "ALARM")
    # When: asked from the replica region
    stats = cli.json("--region", REPLICA, "stats", "--all-regions", "--regions", REGIONS, "--json")
    # Then: the list once, read at home
    assert stats["suppressed_now"]["hard_bounce"] == 1
    # each region's own rates and alarms (the stack's only)
    home, replica = stats["regions"][HOME], stats["regions"][REPLICA]
    assert home["reputation"]["bounce_rate"]["standing"] == "healthy"
    assert replica["reputation"]["bounce_rate"]["standing"] == "review"
    assert home["alarms"] == {"ses-feedback-local-BounceRateAlarm": "OK"}
    assert replica["alarms"] == {"ses-feedback-local-BounceRateAlarm": "ALARM"}
    # and together: the worst standing, every alarm that fires, by region
    assert stats["together"] == {
        "worst_standing": "review",
        "in_alarm": [f"{REPLICA}:ses-feedback-local-BounceRateAlarm"],
    }


def test_one_region_reads_that_regions_reputation_and_alarms(cli: Cli, two_regions: None) -> None:
    # Given
    put_bounce_rate(REPLICA, 0.06)
    alarm(REPLICA, "ses-feedback-local-BounceRateAlarm", "ALARM")
    # When
    home = cli.json("--region", HOME, "stats", "--json")
    replica_text = cli.run("stats", "--region", REPLICA).stdout
    # Then
    assert home["reputation"]["bounce_rate"]["latest"] is None
    assert home["alarms"] == {}
    assert "bounce rate: 6.0000% (review)" in replica_text
    assert "alarms: 1, in ALARM: ses-feedback-local-BounceRateAlarm" in replica_text


def test_the_text_of_all_regions_names_each_region_and_the_whole(cli: Cli, two_regions: None) -> None:
    put_bounce_rate(REPLICA, 0.06)
    text = cli.run("stats", "--all-regions", "--regions", REGIONS).stdout
    assert f"{HOME} bounce rate: no data" in text
    assert f"{REPLICA} bounce rate: 6.0000% (review)" in text
    assert "together: worst standing review; alarms in ALARM none" in text
    assert "hard_bounce 1" in next(line for line in text.splitlines() if line.startswith("suppressed now:"))


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--regions", REGIONS], "--regions: only with --all-regions"),
        (["--all-regions"], "--all-regions: give --stack-name"),
    ],
)
def test_what_stats_cannot_work_with_is_refused(cli: Cli, arguments: list[str], message: str) -> None:
    result = cli.run("stats", *arguments, check=False)
    assert result.returncode == 2
    assert message in result.stderr
