"""`suppressions erase --all-regions`: one erasure in every region of a deployment, on in-process
moto over two regions (tests/support/regions.py).

The tombstone and the list's items are the home's (the global table replicates their deletion);
each region keeps its own message timelines (docs/deploy.md, "What stays per region"), so the
CLI runs the one erasure in each region, the home first, and says what each deleted.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from ses_feedback.edges.timeline import TimelineStore
from ses_feedback_cli.main import main
from ses_feedback_stack.names import LOCAL_ACCOUNT_ID

from tests.support.regions import HOME, REPLICA, bootstrapped

PREFIX = "er"
ADDRESS = "jane@example.org"
MESSAGE_TABLE = f"{PREFIX}-MessageTable"
ELSEWHERE = "ap-southeast-2"  # a region with no stack of this deployment


@pytest.fixture
def jane(empty_aws: None, capsys: pytest.CaptureFixture[str]) -> dict[str, int]:
    """Both regions' stacks; jane suppressed (at home), and a message to her sent from each
    region, kept in that region's timeline. Returns how many timeline items hold her, by region."""
    bootstrapped(PREFIX)
    assert cli("--region", HOME, "suppressions", "add", ADDRESS, "--note", "asked", "--actor", "ops") == 0
    for region in (HOME, REPLICA):
        timeline = TimelineStore(MESSAGE_TABLE, timedelta(days=30), client=dynamodb(region))
        timeline.record_send(
            f"message-{region}",
            app="it-app",
            stream="transactional",
            tags={},
            sent_at=datetime.now(UTC),
            idempotency_key=None,
            recipients={ADDRESS: "sent", "other@example.org": "sent"},
        )
    capsys.readouterr()
    return {region: len(holding_jane(region)) for region in (HOME, REPLICA)}


def cli(*args: str) -> int:
    return main(["--prefix", PREFIX, *args])


def dynamodb(region: str) -> Any:
    return boto3.client("dynamodb", region_name=region)


def holding_jane(region: str, table: str = MESSAGE_TABLE) -> list[dict[str, Any]]:
    items = dynamodb(region).scan(TableName=table)["Items"]
    return [item for item in items if ADDRESS in json.dumps(item)]


def erase(capsys: pytest.CaptureFixture[str], *options: str) -> tuple[int, dict[str, Any], str]:
    status = main(
        ["--prefix", PREFIX, "--region", REPLICA, "suppressions", "erase", ADDRESS,
         "--note", "GDPR-7", "--actor", "ops", "--all-regions", *options, "--json"]
    )  # fmt: skip
    out, err = capsys.readouterr()
    return status, json.loads(out), err


def test_an_erasure_in_every_region_erases_each_regions_timeline_and_keeps_one_tombstone_at_home(
    jane: dict[str, int], capsys: pytest.CaptureFixture[str]
) -> None:
    # Given: jane's timelines in both regions (the fixture), a message each
    assert jane[HOME] > 0 and jane[REPLICA] > 0
    # When: erased in every region, asked in the replica region
    status, answer, err = erase(capsys, "--regions", f"{HOME},{REPLICA}")
    # Then: the home first, then the replica region, each saying what it deleted there
    assert status == 0, err
    assert list(answer["regions"]) == [HOME, REPLICA]
    home, replica = answer["regions"][HOME], answer["regions"][REPLICA]
    assert home["erased"] is True and home["deleted_items"] > jane[HOME]  # her list items too
    assert (replica["erased"], replica["deleted_items"]) == (True, jane[REPLICA])
    # no timeline holds her in clear any more, in either region
    assert holding_jane(HOME) == [] and holding_jane(REPLICA) == []
    # and the home's list has her tombstone: suppressed on every stream, reason erased
    assert cli("--region", HOME, "suppressions", "get", ADDRESS, "--json") == 0
    assert json.loads(capsys.readouterr().out)["reason"] == "erased"


def test_a_region_that_fails_is_named_and_the_others_are_erased_all_the_same(
    jane: dict[str, int], capsys: pytest.CaptureFixture[str]
) -> None:
    # Given: a region listed that has no stack of this deployment, before the replica region
    # When
    status, answer, _ = erase(capsys, "--regions", f"{HOME},{ELSEWHERE},{REPLICA}")
    # Then: exit 1, that region named with why, and the regions after it erased
    assert status == 1
    assert set(answer["regions"][ELSEWHERE]) == {"error"}
    assert answer["regions"][ELSEWHERE]["error"]["message"]
    assert answer["regions"][REPLICA]["deleted_items"] == jane[REPLICA]
    assert holding_jane(REPLICA) == []
    # and without --json, a line says which region to erase in again
    regions = f"{HOME},{ELSEWHERE},{REPLICA}"
    assert (
        cli("suppressions", "erase", ADDRESS, "--note", "GDPR-7", "--all-regions", "--regions", regions) == 1
    )
    out, err = capsys.readouterr()
    assert (
        out.splitlines()[0] == f"{HOME}: erased: 0 items deleted; suppressed on every stream (reason erased)"
    )
    assert out.splitlines()[1].startswith(f"{ELSEWHERE}: failed: ")
    assert err == f"error: not erased in {ELSEWHERE}: run it again (an erasure may be repeated)\n"


def test_a_deployed_stack_gives_each_regions_message_table_and_the_homes_list(
    jane: dict[str, int], capsys: pytest.CaptureFixture[str]
) -> None:
    # Given: the deployment's stacks as DescribeStacks reads them back (named "mail"), their
    # outputs naming the resources: each region's own message table, the home's list and secret
    # (a replica stack's StreamsSecretArn is the home's ARN)
    secret = f"arn:aws:secretsmanager:{HOME}:{LOCAL_ACCOUNT_ID}:secret:{PREFIX}-StreamsSecret"
    for region, parameters in ((HOME, {"ReplicaRegions": REPLICA}), (REPLICA, {"HomeRegion": HOME})):
        deploy(
            region,
            parameters,
            SuppressionTableName=f"{PREFIX}-SuppressionTable",
            MessageTableName=MESSAGE_TABLE,
            EventBusName=f"{PREFIX}-EventBus",
            StreamsSecretArn=secret,
        )
    # When: erased in every region of the stack, without --regions
    status, answer, err = erase(capsys, "--stack-name", "mail")
    # Then
    assert status == 0, err
    assert list(answer["regions"]) == [HOME, REPLICA]
    assert answer["regions"][REPLICA]["deleted_items"] == jane[REPLICA]
    assert holding_jane(HOME) == [] and holding_jane(REPLICA) == []


def test_a_deployed_table_without_stack_name_is_refused(
    jane: dict[str, int], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given: a deployed stack's table named, whose regions' message tables the CLI cannot know
    monkeypatch.setenv("SUPPRESSION_TABLE", f"{PREFIX}-SuppressionTable")
    # When
    status, answer, _ = erase(capsys, "--regions", f"{HOME},{REPLICA}")
    # Then: refused as bad input, nothing erased
    assert status == 2
    assert "give --stack-name" in answer["error"]["message"]
    assert holding_jane(REPLICA) != []


def deploy(region: str, parameters: dict[str, str], **outputs: str) -> None:
    template = {
        "Parameters": {name: {"Type": "String", "Default": ""} for name in ("HomeRegion", "ReplicaRegions")},
        "Resources": {"Topic": {"Type": "AWS::SNS::Topic"}},
        "Outputs": {name: {"Value": value} for name, value in outputs.items()},
    }
    boto3.client("cloudformation", region_name=region).create_stack(
        StackName="mail",
        TemplateBody=json.dumps(template),
        Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in parameters.items()],
    )
