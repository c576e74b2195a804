"""Local mode in two regions, on in-process moto: the home and replica-region stacks that
`local up --regions` creates, from template.yaml's two forms. The replication itself is in
tests/e2e/test_replication.py, on the moto server (in-process moto has no DescribeStream)."""

from __future__ import annotations

import json

import boto3
import pytest
from ses_feedback_cli.main import main
from ses_feedback_stack.names import LOCAL_ACCOUNT_ID, LocalStack, regional_stacks

from tests.support.regions import HOME, REPLICA, bootstrapped

PREFIX = "rg"
TABLE = f"{PREFIX}-SuppressionTable"


@pytest.fixture
def stacks(empty_aws: None) -> list[LocalStack]:
    return bootstrapped(PREFIX)


def test_the_home_lists_the_replicas_and_the_replica_names_the_home_and_its_resources() -> None:
    home, replica = regional_stacks(PREFIX, (HOME, REPLICA))
    assert (home.region, home.parameters["ReplicaRegions"], home.is_home) == (HOME, REPLICA, True)
    assert replica.region == REPLICA and not replica.is_home
    assert {k: v for k, v in replica.parameters.items() if k.startswith(("Home", "Replica"))} == {
        "HomeRegion": HOME,
        "ReplicaRegions": REPLICA,
        "HomeSuppressionTableName": TABLE,
        "HomeFeedbackQueueArn": f"arn:aws:sqs:{HOME}:{LOCAL_ACCOUNT_ID}:{PREFIX}-FeedbackQueue",
        "HomeStreamsSecretArn": (
            f"arn:aws:secretsmanager:{HOME}:{LOCAL_ACCOUNT_ID}:secret:{PREFIX}-StreamsSecret"
        ),
    }


def test_the_replica_form_has_no_table_queue_or_feedback_function_of_its_own() -> None:
    home, replica = regional_stacks(PREFIX, (HOME, REPLICA))
    home_only = {
        "SuppressionTable",
        "FeedbackQueue",
        "FeedbackFunction",
        "SuppressionSyncFunction",
        "StreamsSecret",
    }
    assert all(home.present(logical_id) for logical_id in home_only)
    assert not any(replica.present(logical_id) for logical_id in home_only)
    # ... and its functions use the home's table name and its region's copy of the home's secret
    environment = replica.function_environment("SenderFunction")
    assert environment["SUPPRESSION_TABLE"] == TABLE
    assert environment["HOME_REGION"] == HOME
    assert environment["STREAMS_SECRET_ID"] == (
        f"arn:aws:secretsmanager:{REPLICA}:{LOCAL_ACCOUNT_ID}:secret:{PREFIX}-StreamsSecret"
    )


def test_bootstrap_makes_the_global_table_in_each_region_and_the_feedback_queue_at_home(
    stacks: list[LocalStack],
) -> None:
    for region in (HOME, REPLICA):
        assert TABLE in boto3.client("dynamodb", region_name=region).list_tables()["TableNames"]
    home_queues = boto3.client("sqs", region_name=HOME).list_queues().get("QueueUrls", [])
    replica_queues = boto3.client("sqs", region_name=REPLICA).list_queues().get("QueueUrls", [])
    assert any(url.endswith(f"/{PREFIX}-FeedbackQueue") for url in home_queues)
    assert not any(url.endswith(f"/{PREFIX}-FeedbackQueue") for url in replica_queues)
    # The replica region has the home's secret, under its name, with its value
    values = {
        region: boto3.client("secretsmanager", region_name=region).get_secret_value(
            SecretId=f"{PREFIX}-StreamsSecret"
        )["SecretString"]
        for region in (HOME, REPLICA)
    }
    assert values[HOME] == values[REPLICA]


def test_the_replica_regions_topic_delivers_to_the_home_queue(stacks: list[LocalStack]) -> None:
    # When: eu-west-1's SES publishes to eu-west-1's feedback topic
    boto3.client("sns", region_name=REPLICA).publish(
        TopicArn=f"arn:aws:sns:{REPLICA}:{LOCAL_ACCOUNT_ID}:{PREFIX}-FeedbackTopic", Message="feedback"
    )
    # Then: it waits in the home region's feedback queue, in its SNS envelope
    sqs = boto3.client("sqs", region_name=HOME)
    url = sqs.get_queue_url(QueueName=f"{PREFIX}-FeedbackQueue")["QueueUrl"]
    (message,) = sqs.receive_message(QueueUrl=url)["Messages"]
    envelope = json.loads(message["Body"])
    assert (envelope["Message"], envelope["TopicArn"].split(":")[3]) == ("feedback", REPLICA)


def test_region_before_or_after_the_command_picks_that_regions_stack(
    empty_aws: None, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given: a local stack in eu-west-1 only
    assert main(["--region", REPLICA, "--prefix", "it", "local", "bootstrap"]) == 0
    capsys.readouterr()
    # When / Then: found there, with --region before or after the command
    assert main(["--prefix", "it", "suppressions", "list", "--region", REPLICA, "--json"]) == 0
    assert main(["--region", REPLICA, "--prefix", "it", "suppressions", "list", "--json"]) == 0
    capsys.readouterr()
    # and not in us-east-1, where nothing was created
    assert main(["--prefix", "it", "suppressions", "list", "--region", HOME]) == 1
    assert "(ResourceNotFoundException)" in capsys.readouterr().err
