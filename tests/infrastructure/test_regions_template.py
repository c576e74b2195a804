"""Several regions in template.yaml (docs/deploy.md, "Several regions"): the home form's global
table and what it admits, the replica form that has no table, queue or feedback function and
sends its feedback home, and the IAM each form's functions need (writers at home, readers here)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from ses_feedback.settings import Settings
from ses_feedback_stack.template import REPO_ROOT, Resolver, functions, load_template

from tests.infrastructure.test_deploy_traps import refusals
from tests.support import iam_calls
from tests.support.template_forms import HOME, REPLICA, choose, home_with_replicas, resources

TEMPLATE = load_template()
CFN_LINT = str(Path(sys.executable).with_name("cfn-lint"))  # moto's dependency, same pin as .venv-tools
ACCOUNT = "123456789012"
TABLE = "prod-SuppressionTable-1A2B3C"
HOME_QUEUE = f"arn:aws:sqs:us-east-1:{ACCOUNT}:prod-FeedbackQueue-4D5E6F"
HOME_SECRET = f"arn:aws:secretsmanager:us-east-1:{ACCOUNT}:secret:StreamsSecret-AbC-xYz123"
REPLICA_PARAMETERS = {
    "HomeRegion": "us-east-1",
    "ReplicaRegions": "eu-west-1,ap-southeast-2",
    "HomeSuppressionTableName": TABLE,
    "HomeFeedbackQueueArn": HOME_QUEUE,
    "HomeStreamsSecretArn": HOME_SECRET,
}
# The home-form resources a replica stack must not have: the home's table, queue, secret and the
# functions that only the home runs, with what hangs off them.
HOME_ONLY = {
    "SuppressionTable",
    "FeedbackQueue",
    "FeedbackFunction",
    "FeedbackFunctionLogGroup",
    "FeedbackFunctionErrorsAlarm",
    "FeedbackFunctionThrottlesAlarm",
    "FeedbackQueueAgeAlarm",
    "SuppressionSyncFunction",
    "SuppressionSyncFunctionLogGroup",
    "SuppressionSyncFunctionErrorsAlarm",
    "SuppressionSyncFunctionThrottlesAlarm",
    "StreamsSecret",
}


def home_resolver(replicas: str) -> Resolver:
    resolve = Resolver(TEMPLATE, parameters={"ReplicaRegions": replicas}, account_id=ACCOUNT)
    resolve.refs["SuppressionTable"] = TABLE
    resolve.refs["FeedbackTopic"] = f"arn:aws:sns:us-east-1:{ACCOUNT}:prod-FeedbackTopic-7G8H9I"
    resolve.attributes[("FeedbackQueue", "Arn")] = HOME_QUEUE
    return resolve


def replica_resolver(region: str = "eu-west-1") -> Resolver:
    return Resolver(TEMPLATE, parameters=REPLICA_PARAMETERS, account_id=ACCOUNT, region=region)


# ---- the home form: one global table, a replica in each of ReplicaRegions ----------------------


def test_the_home_table_is_a_global_table_with_a_replica_per_region_each_recoverable() -> None:
    table = resources(TEMPLATE, home_with_replicas(2))["SuppressionTable"]
    assert table["Type"] == "AWS::DynamoDB::GlobalTable"
    assert (table["DeletionPolicy"], table["UpdateReplacePolicy"]) == ("Retain", "Retain")
    properties = table["Properties"]
    # replication runs on the stream: required with two replicas, changeable only with one
    assert properties["StreamSpecification"] == {"StreamViewType": "NEW_AND_OLD_IMAGES"}
    for stage, protected in (("prod", True), ("dev", False)):
        resolve = home_resolver("eu-west-1,ap-southeast-2")
        resolve.parameters["Stage"] = stage
        replicas = resolve.resolve(properties["Replicas"])
        assert [r["Region"] for r in replicas] == ["us-east-1", "eu-west-1", "ap-southeast-2"]
        for replica in replicas:
            assert replica["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
            assert replica["DeletionProtectionEnabled"] is protected


@pytest.mark.parametrize("count", [0, 1, 4])
def test_each_region_of_replica_regions_fills_one_slot_in_order(count: int) -> None:
    regions = ["eu-west-1", "ap-southeast-2", "eu-central-1", "us-west-2"][:count]
    resolve = home_resolver(",".join(regions))
    conditions = {f"HasReplicaRegion{n}": resolve.condition(f"HasReplicaRegion{n}") for n in range(1, 5)}
    assert conditions == {f"HasReplicaRegion{n}": n <= count for n in range(1, 5)}
    table = choose(TEMPLATE["Resources"]["SuppressionTable"]["Properties"], {**HOME, **conditions})
    assert [r["Region"] for r in resolve.resolve(table["Replicas"])] == ["us-east-1", *regions]
    secret = choose(TEMPLATE["Resources"]["StreamsSecret"]["Properties"], {**HOME, **conditions})
    assert resolve.resolve(secret["ReplicaRegions"]) == [{"Region": r} for r in regions]


def accepts(name: str, value: str) -> bool:
    return re.fullmatch(TEMPLATE["Parameters"][name]["AllowedPattern"], value) is not None


def test_replica_regions_takes_four_regions_and_refuses_a_fifth_or_a_space() -> None:
    assert accepts("ReplicaRegions", "")
    assert accepts("ReplicaRegions", "eu-west-1,ap-southeast-2,eu-central-1,us-west-2")
    assert not accepts("ReplicaRegions", "eu-west-1,ap-southeast-2,eu-central-1,us-west-2,sa-east-1")
    assert not accepts("ReplicaRegions", "eu-west-1, ap-southeast-2")
    assert not accepts("ReplicaRegions", "Ireland")
    # four slots, four conditions: the pattern and the slots agree
    assert sorted(c for c in TEMPLATE["Conditions"] if c.startswith("HasReplicaRegion")) == [
        f"HasReplicaRegion{n}" for n in range(1, 5)
    ]
    # and the functions read the list the template lets through, and refuse what it would not
    four = "eu-west-1,ap-southeast-2,eu-central-1,us-west-2"
    assert Settings.from_env({"SUPPRESSION_TABLE": TABLE, "REPLICA_REGIONS": four}).replica_regions == tuple(
        four.split(",")
    )
    with pytest.raises(ValueError, match="'eu west' is not a region name"):
        Settings.from_env({"SUPPRESSION_TABLE": TABLE, "REPLICA_REGIONS": "eu-west-1,eu west"})


def test_the_home_queue_admits_the_feedback_topic_of_each_replica_region_and_no_other() -> None:
    policy = choose(TEMPLATE["Resources"]["FeedbackQueuePolicy"]["Properties"], home_with_replicas(2))
    statement, _dead_letters = policy["PolicyDocument"]["Statement"]
    sources = home_resolver("eu-west-1,ap-southeast-2").resolve(statement["Condition"]["ArnEquals"])
    assert sources == {
        "aws:SourceArn": [
            f"arn:aws:sns:us-east-1:{ACCOUNT}:prod-FeedbackTopic-7G8H9I",
            f"arn:aws:sns:eu-west-1:{ACCOUNT}:{TABLE}-feedback",
            f"arn:aws:sns:ap-southeast-2:{ACCOUNT}:{TABLE}-feedback",
        ]
    }
    # ... which is the topic a replica stack in eu-west-1 creates, given the home's outputs
    topic = choose(TEMPLATE["Resources"]["FeedbackTopic"]["Properties"], REPLICA)
    assert replica_resolver().resolve(topic["TopicName"]) == f"{TABLE}-feedback"
    # the home's own topic keeps the name CloudFormation gave it (no replacement on update)
    assert "TopicName" not in choose(TEMPLATE["Resources"]["FeedbackTopic"]["Properties"], HOME)


def test_the_home_form_outputs_what_a_replica_stack_takes_as_parameters() -> None:
    outputs = {name: o for name, o in TEMPLATE["Outputs"].items() if HOME.get(o.get("Condition", ""), True)}
    resolve = home_resolver("eu-west-1")
    resolve.refs["StreamsSecret"] = HOME_SECRET
    given = {
        name: resolve.resolve(choose(outputs[name]["Value"], HOME))
        for name in outputs
        if name in ("SuppressionTableName", "FeedbackQueueArn", "StreamsSecretArn")
    }
    assert given == {
        "SuppressionTableName": TABLE,
        "FeedbackQueueArn": HOME_QUEUE,
        "StreamsSecretArn": HOME_SECRET,
    }


# ---- the replica form: no table, no queue, feedback sent home -----------------------------------


def references(value: Any) -> set[str]:
    """Every logical id a value names (Ref, GetAtt, and ${…} in a Sub)."""
    found: set[str] = set()
    if isinstance(value, list):
        for item in value:
            found |= references(item)
    elif isinstance(value, dict):
        for key, item in value.items():
            if key == "Ref" and isinstance(item, str):
                found.add(item)
            elif key == "Fn::GetAtt":
                found.add(item[0])
            elif key == "Fn::Sub":
                text, variables = (item, {}) if isinstance(item, str) else (item[0], item[1])
                found |= {name.split(".")[0] for name in re.findall(r"\$\{([^!}][^}]*)\}", text)} - set(
                    variables
                )
                found |= references(variables)
            else:
                found |= references(item)
    return found


def test_the_replica_form_has_no_table_queue_secret_or_feedback_function_and_names_none() -> None:
    replica = resources(TEMPLATE, REPLICA)
    assert not HOME_ONLY & set(replica)
    assert set(resources(TEMPLATE, HOME)) >= HOME_ONLY
    # nothing it keeps (resources, globals, outputs) refers to a resource it does not create
    kept = {
        *replica,
        *TEMPLATE["Parameters"],
        "AWS::Region",
        "AWS::AccountId",
        "AWS::Partition",
        "AWS::StackName",
        "AWS::URLSuffix",
        "AWS::NoValue",
    }
    outputs = [o for o in TEMPLATE["Outputs"].values() if REPLICA.get(o.get("Condition", ""), True)]
    named = references([replica, choose(TEMPLATE["Globals"], REPLICA), choose(outputs, REPLICA)])
    assert named - kept == set()


def test_the_replica_topic_delivers_to_the_home_queue_and_keeps_an_alarmed_dead_letter_queue_here() -> None:
    replica = resources(TEMPLATE, REPLICA)
    subscription = replica["FeedbackSubscription"]["Properties"]
    assert subscription["Endpoint"] == {"Ref": "HomeFeedbackQueueArn"}
    assert subscription["TopicArn"] == {"Ref": "FeedbackTopic"}
    # SNS puts what it cannot deliver in a DLQ of the subscription's own region: this stack's
    assert subscription["RedrivePolicy"] == {
        "deadLetterTargetArn": {"Fn::GetAtt": ["FeedbackDeadLetterQueue", "Arn"]}
    }
    assert replica["DeadLetterQueueAlarm"]["Properties"]["Dimensions"][0]["Value"] == {
        "Fn::GetAtt": ["FeedbackDeadLetterQueue", "QueueName"]
    }
    policy = replica["FeedbackQueuePolicy"]["Properties"]
    assert policy["Queues"] == [{"Ref": "FeedbackDeadLetterQueue"}]
    (statement,) = policy["PolicyDocument"]["Statement"]
    assert statement["Condition"] == {"ArnEquals": {"aws:SourceArn": {"Ref": "FeedbackTopic"}}}
    # SES here still publishes to this region's topic
    destination = replica["ConfigurationSetFeedbackDestination"]["Properties"]["EventDestination"]
    assert destination["SnsDestination"] == {"TopicARN": {"Ref": "FeedbackTopic"}}


def test_every_replica_function_reads_the_home_table_name_and_the_secret_replica_of_its_region() -> None:
    variables = choose(TEMPLATE["Globals"]["Function"]["Environment"]["Variables"], REPLICA)
    resolve = replica_resolver()
    assert resolve.resolve(variables["SUPPRESSION_TABLE"]) == TABLE
    assert resolve.resolve(variables["HOME_REGION"]) == "us-east-1"
    assert resolve.resolve(variables["REPLICA_REGIONS"]) == "eu-west-1,ap-southeast-2"
    assert resolve.resolve(variables["STREAMS_SECRET_ID"]) == HOME_SECRET.replace("us-east-1", "eu-west-1")
    regions = {
        name: str(resolve.resolve(variables[name]))
        for name in ("SUPPRESSION_TABLE", "HOME_REGION", "REPLICA_REGIONS")
    }
    settings = Settings.from_env({**regions, "AWS_REGION": "eu-west-1"})
    assert (settings.writes_region, settings.ses_regions) == (
        "us-east-1",
        ("us-east-1", "eu-west-1", "ap-southeast-2"),
    )


def test_a_replica_stack_without_the_home_outputs_or_in_the_home_region_is_refused() -> None:
    assert refusals(region="eu-west-1", **REPLICA_PARAMETERS) == []
    (missing,) = refusals(region="eu-west-1", HomeRegion="us-east-1")
    assert "HomeSuppressionTableName, HomeFeedbackQueueArn and HomeStreamsSecretArn" in missing
    (own,) = refusals(region="us-east-1", **REPLICA_PARAMETERS)
    assert "HomeRegion names this stack's own region" in own


# ---- IAM: writers write home, readers read here ------------------------------------------------

# The replica form's parameters as iam_calls reads them back from a function's environment.
IAM_REPLICA = (
    ("AWS::Region", "eu-west-1"),
    ("HomeRegion", "us-east-1"),
    ("HomeStreamsSecretArn", f"arn:aws:secretsmanager:us-east-1:{ACCOUNT}:secret:iam-StreamsSecret"),
    ("HomeSuppressionTableName", "iam-SuppressionTable"),
    ("ReplicaRegions", "eu-west-1"),
)


def table(region: str, index: str = "") -> str:
    return f"arn:aws:dynamodb:{region}:{ACCOUNT}:table/iam-SuppressionTable" + (
        f"/index/{index}" if index else ""
    )


def may(function: str, action: str, resource: str) -> bool:
    role = iam_calls.role_statements(function, IAM_REPLICA)
    return iam_calls.allowed(iam_calls.Request(function, action, resource), role)


@pytest.mark.parametrize("function", ["SenderFunction", "BulkSenderFunction"])
def test_a_replica_regions_senders_read_the_local_replica_and_write_nothing_to_it(function: str) -> None:
    assert may(function, "dynamodb:BatchGetItem", table("eu-west-1"))
    assert not may(function, "dynamodb:BatchGetItem", table("us-east-1"))
    assert not may(function, "dynamodb:PutItem", table("eu-west-1"))
    assert may(function, "secretsmanager:GetSecretValue", IAM_REPLICA[2][1].replace("us-east-1", "eu-west-1"))


@pytest.mark.parametrize(
    ("function", "actions"),
    [
        (
            "SuppressionsApiFunction",
            ["dynamodb:PutItem", "dynamodb:GetItem", "dynamodb:DeleteItem", "dynamodb:BatchWriteItem"],
        ),
        ("UnsubscribeFunction", ["dynamodb:PutItem", "dynamodb:BatchGetItem", "dynamodb:ConditionCheckItem"]),
    ],
)
def test_a_replica_regions_writers_write_the_home_table_only(function: str, actions: list[str]) -> None:
    for action in actions:
        assert may(function, action, table("us-east-1")), action
        assert not may(function, action, table("eu-west-1")), action
    if function == "SuppressionsApiFunction":
        assert may(function, "dynamodb:Query", table("us-east-1", "gsi2"))
        assert not may(function, "dynamodb:Query", table("eu-west-1", "gsi2"))


def test_no_replica_function_may_read_the_home_secret_itself_only_its_replica() -> None:
    home_secret = IAM_REPLICA[2][1]
    for function in (
        "SenderFunction",
        "BulkSenderFunction",
        "SuppressionsApiFunction",
        "UnsubscribeFunction",
    ):
        assert not may(function, "secretsmanager:GetSecretValue", home_secret), function


def test_the_home_only_functions_have_no_role_in_the_replica_form() -> None:
    expanded = iam_calls._expanded_template()
    for function in ("FeedbackFunction", "SuppressionSyncFunction"):
        assert expanded["Resources"][f"{function}Role"]["Condition"] == "IsHome"
    assert set(functions(TEMPLATE)) - {"FeedbackFunction", "SuppressionSyncFunction"} <= set(
        resources(TEMPLATE, REPLICA)
    )


# ---- cfn-lint on both forms ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "parameters",
    [
        {"ReplicaRegions": "eu-west-1,ap-southeast-2,eu-central-1,us-west-2"},
        REPLICA_PARAMETERS,
    ],
    ids=["home-with-four-replicas", "replica-form"],
)
def test_cfn_lint_passes_for_both_forms(parameters: dict[str, str]) -> None:
    region = "eu-west-1" if "HomeRegion" in parameters else "us-east-1"
    result = subprocess.run(
        [
            CFN_LINT,
            str(REPO_ROOT / "template.yaml"),
            "--regions",
            region,
            "--parameters",
            *(f"{k}={v}" for k, v in parameters.items()),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
