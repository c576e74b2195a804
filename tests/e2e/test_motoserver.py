"""The project's moto server keeps DynamoDB transactions all-or-nothing after its speed-up."""

from __future__ import annotations

import boto3
import pytest
from botocore.exceptions import ClientError

TABLE = "tx"


@pytest.fixture
def table(aws: str) -> str:
    boto3.client("dynamodb").create_table(
        TableName=TABLE,
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        BillingMode="PAY_PER_REQUEST",
    )
    return TABLE


def put(pk: str, value: str, condition: str | None = None) -> dict[str, object]:
    operation: dict[str, object] = {"TableName": TABLE, "Item": {"pk": {"S": pk}, "v": {"S": value}}}
    if condition:
        operation["ConditionExpression"] = condition
    return {"Put": operation}


def value(pk: str) -> str | None:
    item = boto3.client("dynamodb").get_item(TableName=TABLE, Key={"pk": {"S": pk}}).get("Item")
    return item["v"]["S"] if item else None


def test_a_failed_condition_on_the_first_item_leaves_the_second_unwritten(table: str) -> None:
    # Given
    client = boto3.client("dynamodb")
    client.transact_write_items(TransactItems=[put("a", "1"), put("b", "1")])
    # When: the first Put's condition fails, the second alone would succeed
    with pytest.raises(ClientError, match="TransactionCanceled"):
        client.transact_write_items(TransactItems=[put("a", "2", "attribute_not_exists(pk)"), put("b", "2")])
    # Then
    assert (value("a"), value("b")) == ("1", "1")


def test_a_failed_condition_on_the_second_item_removes_the_new_first_item(table: str) -> None:
    client = boto3.client("dynamodb")
    client.transact_write_items(TransactItems=[put("b", "1")])
    with pytest.raises(ClientError, match="TransactionCanceled"):
        client.transact_write_items(
            TransactItems=[put("new", "1"), put("b", "2", "attribute_not_exists(pk)")]
        )
    assert (value("new"), value("b")) == (None, "1")


def test_a_successful_transaction_writes_every_item(table: str) -> None:
    boto3.client("dynamodb").transact_write_items(
        TransactItems=[put("a", "1"), put("b", "1", "attribute_not_exists(pk)")]
    )
    assert (value("a"), value("b")) == ("1", "1")
