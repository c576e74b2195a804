"""Assertions on template.yaml itself: the promises the docs make about the infrastructure
(docs/architecture.md, docs/deploy.md)."""

from __future__ import annotations

import json
import re
from importlib.metadata import version
from pathlib import Path
from typing import Any

import pytest
from ses_feedback_stack.template import (
    REPO_ROOT,
    Resolver,
    environment_variable_names,
    function_source,
    functions,
    load_template,
    resources_of_type,
)

from tests.support.template_forms import HOME, choose

TEMPLATE = load_template()
RESOURCES: dict[str, Any] = TEMPLATE["Resources"]


def props(logical_id: str) -> dict[str, Any]:
    """A resource's properties in the home form with no replica region (test_regions_template.py
    holds the other forms)."""
    properties: dict[str, Any] = choose(RESOURCES[logical_id]["Properties"], HOME)
    return properties


def test_topic_policy_admits_only_ses_of_this_account_for_this_configuration_set_or_identity() -> None:
    (statement,) = props("FeedbackTopicPolicy")["PolicyDocument"]["Statement"]
    assert statement["Principal"] == {"Service": "ses.amazonaws.com"}
    assert statement["Action"] == "sns:Publish"
    resolve = Resolver(TEMPLATE, parameters={"SendingDomain": "example.org"}, account_id="111122223333")
    resolve.refs["ConfigurationSet"] = "feedback-set"
    assert resolve.resolve(statement["Condition"]) == {
        "StringEquals": {"aws:SourceAccount": "111122223333"},
        "ArnLike": {
            "aws:SourceArn": [
                "arn:aws:ses:us-east-1:111122223333:configuration-set/feedback-set",
                "arn:aws:ses:us-east-1:111122223333:identity/example.org",
            ]
        },
    }


def test_the_dead_letter_queue_keeps_a_message_longer_than_the_queue() -> None:
    # SQS keeps a message's first enqueue time when it moves to the DLQ: with the same
    # retention, a message that failed late would expire there almost at once.
    queue, dead = props("FeedbackQueue"), props("FeedbackDeadLetterQueue")
    assert dead["MessageRetentionPeriod"] == 14 * 24 * 3600  # the SQS maximum
    assert dead["MessageRetentionPeriod"] - queue["MessageRetentionPeriod"] >= 7 * 24 * 3600


def test_queue_is_encrypted_and_dead_letters_after_5_receives() -> None:
    queue = props("FeedbackQueue")
    assert queue["SqsManagedSseEnabled"] is True
    assert queue["RedrivePolicy"]["deadLetterTargetArn"] == {"Fn::GetAtt": ["FeedbackDeadLetterQueue", "Arn"]}
    assert Resolver(TEMPLATE).resolve(queue["RedrivePolicy"]["maxReceiveCount"]) == "5"
    # Lambda's advice for SQS sources: visibility timeout at least six times the function timeout.
    assert queue["VisibilityTimeout"] >= 6 * TEMPLATE["Globals"]["Function"]["Timeout"]


def test_queue_policy_admits_only_the_feedback_topic_one_statement_per_queue() -> None:
    # (with replica regions, also theirs: test_regions_template.py)
    statements = props("FeedbackQueuePolicy")["PolicyDocument"]["Statement"]
    assert [s["Resource"] for s in statements] == [
        {"Fn::GetAtt": ["FeedbackQueue", "Arn"]},
        {"Fn::GetAtt": ["FeedbackDeadLetterQueue", "Arn"]},
    ]
    for statement in statements:
        assert statement["Principal"] == {"Service": "sns.amazonaws.com"}
        assert statement["Action"] == "sqs:SendMessage"
        assert statement["Condition"]["ArnEquals"]["aws:SourceArn"] in (
            {"Ref": "FeedbackTopic"},
            [{"Ref": "FeedbackTopic"}],
        )


def test_feedback_sns_cannot_deliver_to_the_queue_lands_in_the_dead_letter_queue() -> None:
    # SNS drops a message it cannot deliver (a queue policy or key that refuses it) unless the
    # subscription has a dead-letter queue: the feedback DLQ, which an alarm already watches.
    subscription = props("FeedbackSubscription")
    assert subscription["RedrivePolicy"] == {
        "deadLetterTargetArn": {"Fn::GetAtt": ["FeedbackDeadLetterQueue", "Arn"]}
    }
    policy = props("FeedbackQueuePolicy")
    assert {"Ref": "FeedbackDeadLetterQueue"} in policy["Queues"]
    (statement,) = [
        s
        for s in policy["PolicyDocument"]["Statement"]
        if s["Resource"] == {"Fn::GetAtt": ["FeedbackDeadLetterQueue", "Arn"]}
    ]
    assert statement["Condition"] == {"ArnEquals": {"aws:SourceArn": {"Ref": "FeedbackTopic"}}}


def test_table_is_on_demand_with_pitr_ttl_and_prod_deletion_protection() -> None:
    table = props("SuppressionTable")
    assert table["BillingMode"] == "PAY_PER_REQUEST"
    assert table["TimeToLiveSpecification"] == {"AttributeName": "ttl", "Enabled": True}
    # a global table: recovery and deletion protection are each replica's, here the only one
    (replica,) = table["Replicas"]
    assert replica["Region"] == {"Ref": "AWS::Region"}
    assert replica["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    prod = Resolver(TEMPLATE, parameters={"Stage": "prod"}).resolve(replica["DeletionProtectionEnabled"])
    dev = Resolver(TEMPLATE, parameters={"Stage": "dev"}).resolve(replica["DeletionProtectionEnabled"])
    assert (prod, dev) == (True, False)


@pytest.mark.parametrize(("engagement", "extra"), [("false", set()), ("true", {"send", "open", "click"})])
def test_configuration_set_publishes_the_feedback_types(engagement: str, extra: set[str]) -> None:
    destination = props("ConfigurationSetFeedbackDestination")["EventDestination"]
    resolver = Resolver(TEMPLATE, parameters={"PublishEngagementEvents": engagement})
    base = {"bounce", "complaint", "delivery", "reject", "renderingFailure", "deliveryDelay"}
    assert set(resolver.resolve(destination["MatchingEventTypes"])) == base | extra
    assert destination["SnsDestination"] == {"TopicARN": {"Ref": "FeedbackTopic"}}
    assert props("ConfigurationSet")["ReputationOptions"] == {"ReputationMetricsEnabled": True}


def test_feedback_function_reports_partial_batch_failures_with_bounded_concurrency() -> None:
    (source,) = props("FeedbackFunction")["Events"].values()
    assert source["Type"] == "SQS"
    assert source["Properties"]["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert {"BatchSize", "MaximumBatchingWindowInSeconds", "ScalingConfig"} <= set(source["Properties"])


@pytest.mark.parametrize("logical_id", sorted(functions(TEMPLATE)))
def test_every_function_has_a_log_group_with_retention(logical_id: str) -> None:
    log_group = props(logical_id)["LoggingConfig"]["LogGroup"]["Ref"]
    assert RESOURCES[log_group]["Type"] == "AWS::Logs::LogGroup"
    assert "RetentionInDays" in props(log_group)


# Actions that AWS documents with no resource type: IAM grants them only on Resource "*".
# Nothing else may name "*".
# ListRules is account-wide too (WebhooksFunction lists its webhook-* rules on the stack's bus).
NO_RESOURCE_TYPE_ACTIONS = {
    "ses:ListSuppressedDestinations",
    "ses:DeleteSuppressedDestination",
    "ses:GetAccount",
    "events:ListRules",
}


def policy_statements(policies: list[Any]) -> list[dict[str, Any]]:
    """Every statement of a function's inline policies, both branches of an Fn::If included."""
    statements: list[dict[str, Any]] = []
    for policy in policies:
        if not isinstance(policy, dict):
            continue  # a SAM policy template name
        if "Fn::If" in policy:
            statements += policy_statements([b for b in policy["Fn::If"][1:] if isinstance(b, dict)])
        statements += policy.get("Statement", [])
    return statements


def actions_of(statement: dict[str, Any]) -> list[str]:
    action = statement["Action"]
    return action if isinstance(action, list) else [action]


@pytest.mark.parametrize("logical_id", sorted(functions(TEMPLATE)))
def test_no_function_policy_grants_wildcard_actions(logical_id: str) -> None:
    text = json.dumps(props(logical_id).get("Policies", []))
    assert not re.search(r'"[a-z0-9-]+:\*"', text), text
    for statement in policy_statements(props(logical_id).get("Policies", [])):
        if statement.get("Resource") == "*":
            assert set(actions_of(statement)) <= NO_RESOURCE_TYPE_ACTIONS, statement
        else:
            assert '"*"' not in json.dumps(statement), statement


@pytest.mark.parametrize("logical_id", sorted(functions(TEMPLATE)))
def test_every_environment_variable_has_an_entry_in_the_env_vars_file(logical_id: str) -> None:
    env_file = json.loads((REPO_ROOT / "events" / "env.json").read_text())
    assert environment_variable_names(TEMPLATE, logical_id) <= set(env_file[logical_id])
    assert "AWS_ENDPOINT_URL" in env_file[logical_id]


@pytest.mark.parametrize("logical_id", sorted(functions(TEMPLATE)))
def test_every_function_has_an_event_and_a_handler(logical_id: str) -> None:
    code_dir, module, function = function_source(TEMPLATE, logical_id)
    assert (code_dir / f"{module}.py").is_file()
    assert f"def {function}(" in (code_dir / f"{module}.py").read_text()
    assert list((REPO_ROOT / "events" / code_dir.name).glob("*.json")), f"no events/{code_dir.name}/*.json"


def test_every_policy_number_is_a_parameter_passed_to_the_function() -> None:
    env = props("FeedbackFunction")["Environment"]["Variables"]
    parameters = TEMPLATE["Parameters"]
    for variable, parameter in {
        "SOFT_BOUNCE_THRESHOLD": "SoftBounceThreshold",
        "SOFT_BOUNCE_WINDOW_DAYS": "SoftBounceWindowDays",
        "SOFT_BOUNCE_SUPPRESSION_DAYS": "SoftBounceSuppressionDays",
        "HISTORY_RETENTION_DAYS": "HistoryRetentionDays",
    }.items():
        assert env[variable] == {"Ref": parameter}
        assert parameter in parameters


def test_layer_requirements_pin_exactly_what_the_tests_run() -> None:
    lines = (REPO_ROOT / "layers" / "common" / "requirements.txt").read_text().splitlines()
    pins = [line for line in lines if line and not line.startswith("#")]
    assert pins
    for pin in pins:
        name, _, pinned = pin.partition("==")
        assert pinned, f"{pin} is not pinned exactly"
        assert version(re.sub(r"\[.*\]", "", name)) == pinned


def test_every_sqs_queue_and_table_is_created_locally_from_these_definitions() -> None:
    # Local mode reads these properties; a resource type it cannot create would be missed.
    known = {
        "AWS::DynamoDB::Table",
        "AWS::DynamoDB::GlobalTable",
        "AWS::SQS::Queue",
        "AWS::SNS::Topic",
        "AWS::SNS::Subscription",
        "AWS::SES::ConfigurationSet",
    }
    local_kinds = {
        r["Type"] for r in RESOURCES.values() if r["Type"].split("::")[1] in {"DynamoDB", "SQS", "SNS"}
    }
    assert local_kinds - {"AWS::SQS::QueuePolicy", "AWS::SNS::TopicPolicy"} <= known
    assert resources_of_type(TEMPLATE, "AWS::DynamoDB::Table")
    assert resources_of_type(TEMPLATE, "AWS::DynamoDB::GlobalTable")


def test_events_folder_is_json(tmp_path: Path) -> None:
    for path in (REPO_ROOT / "events").rglob("*.json"):
        json.loads(path.read_text())


def test_ses_account_list_sync_is_a_parameter_off_by_default_and_least_privilege() -> None:
    assert TEMPLATE["Parameters"]["SyncSesAccountSuppressionList"]["Default"] == "false"
    sync = RESOURCES["SuppressionSyncFunction"]
    (schedule,) = sync["Properties"]["Events"].values()
    assert schedule["Type"] == "Schedule"
    assert schedule["Properties"]["Schedule"] == {"Ref": "SesSuppressionSyncSchedule"}
    for sync_on, state in (("true", "ENABLED"), ("false", "DISABLED")):
        resolver = Resolver(TEMPLATE, parameters={"SyncSesAccountSuppressionList": sync_on})
        assert resolver.resolve(schedule["Properties"]["State"]) == state
    actions = {
        a for statement in policy_statements(sync["Properties"]["Policies"]) for a in actions_of(statement)
    }
    assert actions == {
        "dynamodb:BatchGetItem",
        "dynamodb:BatchWriteItem",
        "dynamodb:PutItem",
        "dynamodb:ConditionCheckItem",
        "ses:ListSuppressedDestinations",
    }
    assert sync["Properties"]["Environment"]["Variables"]["SYNC_SES_ACCOUNT_SUPPRESSION_LIST"] == {
        "Ref": "SyncSesAccountSuppressionList"
    }


def test_env_vars_file_is_what_local_env_vars_generates() -> None:
    # `ses-feedback local env-vars > events/env.json` regenerates it after a template change.
    from ses_feedback_emulator.bootstrap import sam_env_vars
    from ses_feedback_stack.names import LocalStack

    committed = json.loads((REPO_ROOT / "events" / "env.json").read_text())
    assert committed == sam_env_vars(LocalStack(), "http://host.docker.internal:5000")


def test_suppressions_api_is_iam_authenticated_and_may_lift_on_ses_only_with_the_sync_on() -> None:
    assert props("RestApi")["Auth"]["DefaultAuthorizer"] == "AWS_IAM"
    api = props("SuppressionsApiFunction")
    routes = {(e["Properties"]["Method"], e["Properties"]["Path"]) for e in api["Events"].values()}
    assert routes == {
        ("GET", "/suppressions"),
        ("GET", "/suppressions/{address}"),
        ("GET", "/suppressions/{address}/events"),
        ("PUT", "/suppressions/{address}"),
        ("DELETE", "/suppressions/{address}"),
        ("POST", "/suppressions/{address}/erasure"),
    }
    assert all(e["Properties"]["RestApiId"] == {"Ref": "RestApi"} for e in api["Events"].values())
    assert not any("Auth" in e["Properties"] for e in api["Events"].values()), "no route opts out of IAM"
    (always, secret, conditional) = api["Policies"]
    assert {a for s in always["Statement"] for a in actions_of(s)} == {
        "dynamodb:GetItem",
        "dynamodb:BatchGetItem",
        "dynamodb:Query",
        "dynamodb:PutItem",
        "dynamodb:DeleteItem",
        "dynamodb:BatchWriteItem",
        "dynamodb:ConditionCheckItem",
        "events:PutEvents",  # recipient.lifted and recipient.erased
    }
    assert choose(secret, HOME) == {
        "AWSSecretsManagerGetSecretValuePolicy": {"SecretArn": {"Ref": "StreamsSecret"}}
    }
    condition, when_on, when_off = conditional["Fn::If"]
    assert (condition, when_off) == ("SyncSesAccountList", {"Ref": "AWS::NoValue"})
    assert [a for s in when_on["Statement"] for a in actions_of(s)] == ["ses:DeleteSuppressedDestination"]


# Event sources that invoke a function asynchronously: Lambda retries a failed event twice,
# then drops it unless the function has a dead-letter queue.
ASYNC_EVENT_TYPES = frozenset({"Schedule", "ScheduleV2", "S3", "SNS", "EventBridgeRule", "CloudWatchEvent"})


def asynchronously_invoked() -> set[str]:
    invoked = {
        logical_id
        for logical_id, resource in resources_of_type(TEMPLATE, "AWS::Serverless::Function").items()
        if any(e["Type"] in ASYNC_EVENT_TYPES for e in resource["Properties"].get("Events", {}).values())
    }
    for rule in resources_of_type(TEMPLATE, "AWS::SES::ReceiptRule").values():
        for action in rule["Properties"]["Rule"]["Actions"]:
            lambda_action = action.get("LambdaAction")
            if lambda_action and lambda_action.get("InvocationType", "Event") == "Event":
                invoked.add(lambda_action["FunctionArn"]["Fn::GetAtt"][0])
    return invoked


def test_the_asynchronously_invoked_functions_are_known() -> None:
    assert asynchronously_invoked() == {"DmarcReportFunction", "SuppressionSyncFunction"}


@pytest.mark.parametrize("logical_id", sorted(asynchronously_invoked()))
def test_every_asynchronous_invocation_that_fails_lands_in_an_alarmed_dead_letter_queue(
    logical_id: str,
) -> None:
    # Then: after Lambda's retries the event goes to an SQS queue, not nowhere ...
    dead_letters = props(logical_id)["DeadLetterQueue"]
    assert dead_letters["Type"] == "SQS"
    queue, attribute = dead_letters["TargetArn"]["Fn::GetAtt"]
    assert (RESOURCES[queue]["Type"], attribute) == ("AWS::SQS::Queue", "Arn")
    # ... encrypted, kept as long as SQS keeps anything ...
    assert props(queue)["SqsManagedSseEnabled"] is True
    assert props(queue)["MessageRetentionPeriod"] == 1209600
    # ... and one message in it raises an alarm
    watching = [
        alarm
        for alarm in resources_of_type(TEMPLATE, "AWS::CloudWatch::Alarm").values()
        if alarm["Properties"].get("MetricName") == "ApproximateNumberOfMessagesVisible"
        and alarm["Properties"]["Dimensions"][0]["Value"] == {"Fn::GetAtt": [queue, "QueueName"]}
    ]
    assert [(a["Properties"]["Threshold"], a["Properties"]["ComparisonOperator"]) for a in watching] == [
        (0, "GreaterThanThreshold")
    ]
