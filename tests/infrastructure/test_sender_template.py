"""The sending half of template.yaml: least privilege, IAM-only API, idempotency table, knobs."""

from __future__ import annotations

import json
from typing import Any

from ses_feedback_stack.template import Resolver, load_template

from tests.support import iam_calls
from tests.support.template_forms import HOME, choose

TEMPLATE = load_template()
RESOURCES: dict[str, Any] = TEMPLATE["Resources"]
SENDER = RESOURCES["SenderFunction"]["Properties"]


def statements() -> list[dict[str, Any]]:
    # The home form (test_regions_template.py holds the replica form's).
    (policy, secret) = choose(SENDER["Policies"], HOME)
    # Besides its own statements, the sender may read the streams secret only (unsubscribe links).
    assert secret == {"AWSSecretsManagerGetSecretValuePolicy": {"SecretArn": {"Ref": "StreamsSecret"}}}
    found: list[dict[str, Any]] = policy["Statement"]
    return found


def actions(statement: dict[str, Any]) -> set[str]:
    action = statement["Action"]
    return {action} if isinstance(action, str) else set(action)


def test_sender_reads_the_suppression_table_only_with_batch_get_item() -> None:
    on_table = [s for s in statements() if s["Resource"] == {"Fn::GetAtt": ["SuppressionTable", "Arn"]}]
    assert [actions(s) for s in on_table] == [{"dynamodb:BatchGetItem"}]


def test_sender_keeps_idempotency_records_only_in_its_own_table() -> None:
    on_table = [s for s in statements() if s["Resource"] == {"Fn::GetAtt": ["IdempotencyTable", "Arn"]}]
    assert [actions(s) for s in on_table] == [
        {"dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"}
    ]


def sends(sender: str, to: str, configuration_set: str = "iam-ConfigurationSet") -> bool:
    """Whether SenderFunction's role, as SAM expands it, lets SES send this message (every
    authorisation SES makes for it: the identities of sender and recipient, the configuration set)."""
    params = {
        "FromEmailAddress": sender,
        "Destination": {"ToAddresses": [to]},
        "ConfigurationSetName": configuration_set,
    }
    role = iam_calls.role_statements("SenderFunction", (("SendingDomain", "example.com"),))
    return all(
        iam_calls.allowed(iam_calls.Request("SenderFunction", action, resource, tuple(context.items())), role)
        for action, resource, context in iam_calls.requests_for("sesv2", "SendEmail", params)
    )


def test_sender_may_send_only_from_the_sending_domain_through_this_configuration_set() -> None:
    # To anyone, also to a recipient that is an identity of the account (every one, in the sandbox)
    assert sends("News <news@example.com>", "jane@example.org")
    assert sends("noreply@example.com", "success@simulator.amazonses.com")
    # Never from another domain, not even a subdomain, nor through another configuration set
    assert not sends("noreply@example.org", "jane@example.org")
    assert not sends("noreply@mail.example.com", "jane@example.org")
    assert not sends("noreply@example.com", "jane@example.org", configuration_set="someone-elses")
    (identity, through) = [s for s in statements() if any(a.startswith("ses:") for a in actions(s))]
    assert actions(identity) == actions(through) == {"ses:SendEmail"}
    # Nothing else in the sender's policy may touch SES, SNS, SQS or Lambda; it may publish on the
    # stack's own bus (message.suppressed), nowhere else.
    others = [a for s in statements() if s not in (identity, through) for a in actions(s)]
    assert all(
        a.startswith("dynamodb:") or a in {"cloudwatch:DescribeAlarms", "events:PutEvents"} for a in others
    )
    (bus,) = [s for s in statements() if "events:PutEvents" in actions(s)]
    assert bus["Resource"] == {"Fn::GetAtt": ["EventBus", "Arn"]}


def test_the_rest_api_takes_only_iam_signed_requests_and_invokes_through_resource_policy() -> None:
    api = RESOURCES["RestApi"]
    assert api["Type"] == "AWS::Serverless::Api"
    assert api["Properties"]["Auth"] == {"DefaultAuthorizer": "AWS_IAM", "InvokeRole": "NONE"}
    routes = {
        (e["Properties"]["Method"], e["Properties"]["Path"]): e["Properties"]["RestApiId"]
        for e in SENDER["Events"].values()
    }
    assert routes == {("POST", "/messages"): {"Ref": "RestApi"}, ("GET", "/openapi.json"): {"Ref": "RestApi"}}
    assert not any("Auth" in e["Properties"] for e in SENDER["Events"].values()), "no route opts out of IAM"


def test_idempotency_table_expires_records_by_ttl_on_expiration() -> None:
    table = RESOURCES["IdempotencyTable"]["Properties"]
    assert table["KeySchema"] == [{"AttributeName": "id", "KeyType": "HASH"}]
    assert table["TimeToLiveSpecification"] == {"AttributeName": "expiration", "Enabled": True}
    assert table["BillingMode"] == "PAY_PER_REQUEST"


def test_every_sending_knob_is_a_parameter_passed_to_the_function() -> None:
    env = SENDER["Environment"]["Variables"]
    assert env["SENDING_DOMAIN"] == {"Ref": "SendingDomain"}
    assert env["IDEMPOTENCY_WINDOW_HOURS"] == {"Ref": "IdempotencyWindowHours"}
    assert env["CONFIGURATION_SET_NAME"] == {"Ref": "ConfigurationSet"}
    assert env["IDEMPOTENCY_TABLE"] == {"Ref": "IdempotencyTable"}
    assert TEMPLATE["Parameters"]["SendingDomain"]["Default"] == "example.com"
    assert TEMPLATE["Parameters"]["IdempotencyWindowHours"]["Default"] == 24


def test_the_outputs_tell_app_teams_where_to_send() -> None:
    outputs = TEMPLATE["Outputs"]
    assert "execute-api" in json.dumps(outputs["SendingApiUrl"]["Value"])
    assert outputs["SenderFunctionName"]["Value"] == {"Ref": "SenderFunction"}


def test_the_sending_guard_is_off_by_default_and_watches_the_two_reputation_alarms() -> None:
    # Given
    parameter = TEMPLATE["Parameters"]["SendingGuard"]
    env = SENDER["Environment"]["Variables"]
    resolver = Resolver(TEMPLATE, parameters={"SendingGuard": "true"})
    resolver.refs.update(BounceRateAlarm="stack-Bounce-1A2B", ComplaintRateAlarm="stack-Complaint-3C4D")
    # Then
    assert (parameter["Default"], sorted(parameter["AllowedValues"])) == ("false", ["false", "true"])
    assert env["SENDING_GUARD"] == {"Ref": "SendingGuard"}
    assert resolver.resolve(env["SENDING_GUARD"]) == "true"
    assert resolver.resolve(env["REPUTATION_ALARM_NAMES"]) == "stack-Bounce-1A2B,stack-Complaint-3C4D"


def test_the_sender_may_describe_only_the_two_reputation_alarms() -> None:
    on_alarms = [s for s in statements() if any(a.startswith("cloudwatch:") for a in actions(s))]
    assert [actions(s) for s in on_alarms] == [{"cloudwatch:DescribeAlarms"}]
    assert on_alarms[0]["Resource"] == [
        {"Fn::GetAtt": ["BounceRateAlarm", "Arn"]},
        {"Fn::GetAtt": ["ComplaintRateAlarm", "Arn"]},
    ]
