"""The IAM check itself (tests/support/iam_calls.py): what it derives from a call, and that it
catches a grant taken away and a grant no call needs."""

from __future__ import annotations

from typing import Any

from tests.support import iam_calls

TABLE = "it-SuppressionTable"
TABLE_ARN = "arn:aws:dynamodb:us-east-1:123456789012:table/iam-SuppressionTable"


def requests(function: str, service: str, operation: str, params: dict[str, Any]) -> list[iam_calls.Request]:
    return [
        iam_calls.Request(function, action, resource, tuple(context.items()), operation)
        for action, resource, context in iam_calls.requests_for(service, operation, params)
    ]


LIFT_ERASURE = requests(
    "SuppressionsApiFunction",
    "dynamodb",
    "TransactWriteItems",
    {
        "TransactItems": [
            {"Delete": {"TableName": TABLE, "Key": {}, "ConditionExpression": "attribute_exists(pk)"}},
            {"Put": {"TableName": TABLE, "Item": {}}},
        ]
    },
)


def without(action: str, statements: list[dict[str, Any]]) -> list[dict[str, Any]]:
    found = []
    for statement in statements:
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        found.append({**statement, "Action": [a for a in actions if a != action]})
    return found


def test_a_transaction_is_authorised_item_by_item() -> None:
    assert [(r.action, r.resource) for r in LIFT_ERASURE] == [
        ("dynamodb:DeleteItem", TABLE_ARN),
        ("dynamodb:PutItem", TABLE_ARN),
    ]


def test_a_call_is_refused_once_the_grant_it_needs_is_taken_away() -> None:
    role = iam_calls.role_statements("SuppressionsApiFunction")
    assert all(iam_calls.allowed(r, role) for r in LIFT_ERASURE)
    delete, put = LIFT_ERASURE
    assert not iam_calls.allowed(delete, without("dynamodb:DeleteItem", role))
    assert iam_calls.allowed(put, without("dynamodb:DeleteItem", role))


def test_a_grant_that_no_call_needs_is_reported() -> None:
    # Given: every grant of UnsubscribeFunction, each needed by one request
    role = iam_calls.role_statements("UnsubscribeFunction")
    needed = [
        iam_calls.Request("UnsubscribeFunction", action, resource)
        for _, action, resource in iam_calls.grants(role)
    ]
    assert iam_calls.unused_grants(needed) == []
    # When: the role gains one more action
    wider = [*role, {"Effect": "Allow", "Action": "dynamodb:Scan", "Resource": TABLE_ARN}]
    # Then
    assert iam_calls.unused_grants(needed, policy=lambda *_: wider) == [
        f"UnsubscribeFunction: dynamodb:Scan on {TABLE_ARN}"
    ]


def test_a_batch_names_each_table_and_a_query_its_index() -> None:
    batch = requests("F", "dynamodb", "BatchWriteItem", {"RequestItems": {TABLE: []}})
    query = requests("F", "dynamodb", "Query", {"TableName": TABLE, "IndexName": "gsi2"})
    assert [(r.action, r.resource) for r in batch + query] == [
        ("dynamodb:BatchWriteItem", TABLE_ARN),
        ("dynamodb:Query", f"{TABLE_ARN}/index/gsi2"),
    ]


def test_a_send_is_authorised_on_the_sender_each_recipient_and_the_configuration_set() -> None:
    found = requests(
        "SenderFunction",
        "sesv2",
        "SendEmail",
        {
            "FromEmailAddress": "News <news@example.com>",
            "Destination": {"ToAddresses": ["a@example.org"], "BccAddresses": ["b@example.net"]},
            "ConfigurationSetName": "it-ConfigurationSet",
        },
    )
    identity = "arn:aws:ses:us-east-1:123456789012:identity"
    assert [r.resource for r in found] == [
        f"{identity}/example.com",
        f"{identity}/example.net",
        f"{identity}/example.org",
        "arn:aws:ses:us-east-1:123456789012:configuration-set/iam-ConfigurationSet",
    ]
    assert {dict(r.context)["ses:FromAddress"] for r in found} == {"news@example.com"}
