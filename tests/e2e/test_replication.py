"""The global table's replication, as local mode plays it: the home table's DynamoDB stream
applied to each replica after the lag (on the moto server: in-process moto answers DynamoDB
Streams' DescribeStream with "Not yet implemented")."""

from __future__ import annotations

import time
from collections.abc import Callable

import boto3
import pytest
from ses_feedback_emulator.replication import Replicator, replicate_global_tables
from ses_feedback_stack.names import LocalStack

from tests.support.regions import HOME, REPLICA, bootstrapped

PREFIX = "rp"
TABLE = f"{PREFIX}-SuppressionTable"


def until(what: str, holds: Callable[[], bool], seconds: float = 30.0) -> None:
    deadline = time.monotonic() + seconds
    while not holds():
        assert time.monotonic() < deadline, f"never: {what}"
        time.sleep(0.05)


@pytest.fixture
def stacks(aws: str) -> list[LocalStack]:
    return bootstrapped(PREFIX)


def test_the_replicator_applies_puts_updates_and_deletes_to_the_replica(stacks: list[LocalStack]) -> None:
    # Given: the replication of the home stack's global table, without a lag
    (replicator,) = replicate_global_tables(stacks[0], lag=0.0)
    home, replica = (boto3.client("dynamodb", region_name=region) for region in (HOME, REPLICA))
    key = {"pk": {"S": "a#x"}, "sk": {"S": "state"}}

    def replica_item() -> dict[str, dict[str, str]] | None:
        item: dict[str, dict[str, str]] | None = replica.get_item(TableName=TABLE, Key=key).get("Item")
        return item

    try:
        # When / Then: a put, an update in a transaction, a delete at home reach the replica
        home.put_item(TableName=TABLE, Item={**key, "reason": {"S": "hard_bounce"}})
        until("the put", lambda: (replica_item() or {}).get("reason") == {"S": "hard_bounce"})
        home.transact_write_items(
            TransactItems=[
                {
                    "Update": {
                        "TableName": TABLE,
                        "Key": key,
                        "UpdateExpression": "SET reason = :r",
                        "ExpressionAttributeValues": {":r": {"S": "manual"}},
                    }
                }
            ]
        )
        until("the update", lambda: (replica_item() or {}).get("reason") == {"S": "manual"})
        home.delete_item(TableName=TABLE, Key=key)
        until("the delete", lambda: replica_item() is None)
        assert replicator.applied == 3
    finally:
        replicator.stop()


def test_a_record_waits_for_the_lag_before_it_reaches_the_replica(stacks: list[LocalStack]) -> None:
    # Given: a lag no test run reaches
    replicator = Replicator(TABLE, HOME, (REPLICA,), lag=3600.0).start()
    try:
        boto3.client("dynamodb", region_name=HOME).put_item(
            TableName=TABLE, Item={"pk": {"S": "a#y"}, "sk": {"S": "state"}}
        )
        # When: the replicator has read the stream a few times
        time.sleep(1.0)
        # Then: the replica still has the state it had
        replica = boto3.client("dynamodb", region_name=REPLICA)
        assert "Item" not in replica.get_item(TableName=TABLE, Key={"pk": {"S": "a#y"}, "sk": {"S": "state"}})
        assert replicator.applied == 0
    finally:
        replicator.stop()
