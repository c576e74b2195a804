"""Alarms, the alarm topic and the operations dashboard in template.yaml (issue: operations)."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from ses_feedback.model.reasons import Reason
from ses_feedback.model.state import Action
from ses_feedback.parsing.events import EventType
from ses_feedback.usecases.feedback import BOUNCE_TYPES, _metric_name
from ses_feedback_stack.names import LocalStack
from ses_feedback_stack.template import REPO_ROOT, TEMPLATE_PATH, Resolver, load_template, resources_of_type

TEMPLATE = load_template()
RESOURCES: dict[str, Any] = TEMPLATE["Resources"]
ALARMS = resources_of_type(TEMPLATE, "AWS::CloudWatch::Alarm")

# AWS's own lines (SES developer guide, "Reputation metrics"): review, then possible pause.
AWS_BOUNCE_REVIEW, AWS_BOUNCE_PAUSE = 0.05, 0.10
AWS_COMPLAINT_REVIEW, AWS_COMPLAINT_PAUSE = 0.001, 0.005
# Every `metrics.add_metric(name="…")` in the layer and the handlers: what the service emits
# besides FeedbackFunction's enum-named metrics.
_SOURCES = [
    *(REPO_ROOT / "layers" / "common" / "ses_feedback").rglob("*.py"),
    *(REPO_ROOT / "functions").glob("*/app.py"),
]
METRICS_FROM_ELSEWHERE = {
    name for path in _SOURCES for name in re.findall(r'add_metric\(\s*name="(\w+)"', path.read_text())
}


def props(logical_id: str) -> dict[str, Any]:
    properties: dict[str, Any] = RESOURCES[logical_id]["Properties"]
    return properties


def dashboard_body(**parameters: str) -> dict[str, Any]:
    resolver = LocalStack(prefix="dash", parameters=parameters).resolver()
    body: dict[str, Any] = json.loads(resolver.resolve(props("OperationsDashboard")["DashboardBody"]))
    return body


def feedback_function_metric_names() -> set[str]:
    """Every metric name FeedbackFunction can emit, from the enums that name them."""
    names = {"DuplicateFeedback", "InvalidNotification", "FeedbackUnknown"}
    names |= {_metric_name("Feedback", t.value) for t in EventType}
    names |= {_metric_name("Decision", a.value) for a in Action}
    names |= {_metric_name("Suppressed", r.value) for r in Reason}
    names |= {f"Bounce{t}" for t in BOUNCE_TYPES} | {"BounceOther"}
    return names


@pytest.mark.parametrize(
    ("alarm", "metric", "parameter", "default", "aws_review"),
    [
        ("BounceRateAlarm", "Reputation.BounceRate", "BounceRateWarning", 0.025, AWS_BOUNCE_REVIEW),
        (
            "ComplaintRateAlarm",
            "Reputation.ComplaintRate",
            "ComplaintRateWarning",
            0.0005,
            AWS_COMPLAINT_REVIEW,
        ),
    ],
)
def test_reputation_alarms_warn_below_the_rate_at_which_aws_reviews_the_account(
    alarm: str, metric: str, parameter: str, default: float, aws_review: float
) -> None:
    alarm_props = props(alarm)
    assert (alarm_props["Namespace"], alarm_props["MetricName"]) == ("AWS/SES", metric)
    assert "Dimensions" not in alarm_props  # the account-level rate is the one AWS acts on
    assert alarm_props["Threshold"] == {"Ref": parameter}
    assert alarm_props["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"
    declared = TEMPLATE["Parameters"][parameter]
    assert float(declared["Default"]) == default < aws_review
    assert (declared["MinValue"], declared["MaxValue"]) == (0, 1)  # SES's rates are decimals
    # Reputation metrics arrive sparsely: a gap must not clear a raised alarm.
    assert alarm_props["TreatMissingData"] == "ignore"


@pytest.mark.parametrize(
    ("alarm", "namespace", "metric", "dimension"),
    [
        ("DeadLetterQueueAlarm", "AWS/SQS", "ApproximateNumberOfMessagesVisible", "FeedbackDeadLetterQueue"),
        ("FeedbackQueueAgeAlarm", "AWS/SQS", "ApproximateAgeOfOldestMessage", "FeedbackQueue"),
        ("FeedbackFunctionErrorsAlarm", "AWS/Lambda", "Errors", "FeedbackFunction"),
        ("FeedbackFunctionThrottlesAlarm", "AWS/Lambda", "Throttles", "FeedbackFunction"),
        ("SenderFunctionErrorsAlarm", "AWS/Lambda", "Errors", "SenderFunction"),
        ("SenderFunctionThrottlesAlarm", "AWS/Lambda", "Throttles", "SenderFunction"),
    ],
)
def test_pipeline_alarms_watch_the_right_resource(
    alarm: str, namespace: str, metric: str, dimension: str
) -> None:
    alarm_props = props(alarm)
    assert (alarm_props["Namespace"], alarm_props["MetricName"]) == (namespace, metric)
    ((only_dimension),) = alarm_props["Dimensions"]
    assert dimension in json.dumps(only_dimension["Value"])


def test_every_function_has_an_errors_and_a_throttles_alarm() -> None:
    watched = {
        (p["MetricName"], p["Dimensions"][0]["Value"]["Ref"])
        for p in (props(a) for a in ALARMS)
        if p["Namespace"] == "AWS/Lambda"
    }
    functions = resources_of_type(TEMPLATE, "AWS::Serverless::Function")
    assert functions
    for function in functions:
        assert {("Errors", function), ("Throttles", function)} <= watched, function


def test_the_api_5xx_alarm_watches_the_sending_apis_stage_by_the_name_it_is_given() -> None:
    # Given: the API's name and stage as the template sets them
    api = props("RestApi")
    assert api["Name"] == {"Ref": "AWS::StackName"}  # SAM's default, explicit
    alarm_props = props("ApiGateway5XXErrorAlarm")
    # Then: API Gateway publishes 5XXError per ApiName and Stage
    assert (alarm_props["Namespace"], alarm_props["MetricName"]) == ("AWS/ApiGateway", "5XXError")
    dimensions = {d["Name"]: d["Value"] for d in alarm_props["Dimensions"]}
    assert dimensions == {"ApiName": api["Name"], "Stage": api["StageName"]}
    assert (alarm_props["Statistic"], alarm_props["Threshold"]) == ("Sum", 0)
    assert alarm_props["ComparisonOperator"] == "GreaterThanThreshold"
    assert alarm_props["TreatMissingData"] == "notBreaching"


def test_dashboard_draws_what_the_error_alarms_watch() -> None:
    # Given
    resolver = LocalStack(prefix="dash").resolver()
    body = dashboard_body()
    drawn = {tuple(m[:-1]) for w in body["widgets"] for m in w["properties"]["metrics"]}
    # Then: every function and API alarm's metric is on the dashboard with its dimensions
    for alarm in ALARMS:
        alarm_props = resolver.resolve(props(alarm))
        if alarm_props["Namespace"] not in ("AWS/Lambda", "AWS/ApiGateway"):
            continue
        dimensions = [part for d in alarm_props["Dimensions"] for part in (d["Name"], d["Value"])]
        assert (alarm_props["Namespace"], alarm_props["MetricName"], *dimensions) in drawn, alarm


def test_one_message_in_the_dlq_raises_the_alarm() -> None:
    alarm_props = props("DeadLetterQueueAlarm")
    assert (alarm_props["Threshold"], alarm_props["ComparisonOperator"]) == (0, "GreaterThanThreshold")
    assert alarm_props["Dimensions"][0]["Value"] == {"Fn::GetAtt": ["FeedbackDeadLetterQueue", "QueueName"]}


def test_queue_age_threshold_is_a_parameter() -> None:
    assert props("FeedbackQueueAgeAlarm")["Threshold"] == {"Ref": "FeedbackQueueMaxAgeSeconds"}


@pytest.mark.parametrize("alarm", sorted(ALARMS))
def test_every_alarm_notifies_the_alarm_topic_when_raised_and_cleared(alarm: str) -> None:
    assert props(alarm)["AlarmActions"] == [{"Ref": "AlarmTopic"}]
    assert props(alarm)["OKActions"] == [{"Ref": "AlarmTopic"}]
    assert props(alarm)["AlarmDescription"].strip()


@pytest.mark.parametrize(("email", "subscribed"), [("", False), ("ops@example.com", True)])
def test_the_alarm_email_subscription_exists_only_when_an_address_is_given(
    email: str, subscribed: bool
) -> None:
    resolver = Resolver(TEMPLATE, parameters={"AlarmEmail": email})
    subscription = props("AlarmTopic")["Subscription"]["Fn::If"]
    assert subscription[0] == "HasAlarmEmail"
    assert resolver.condition("HasAlarmEmail") is subscribed
    assert subscription[1] == [{"Protocol": "email", "Endpoint": {"Ref": "AlarmEmail"}}]
    assert subscription[2] == {"Ref": "AWS::NoValue"}


def test_dashboard_draws_the_reputation_rates_against_the_aws_lines() -> None:
    # Given
    body = dashboard_body(BounceRateWarning="0.03", ComplaintRateWarning="0.0007")
    by_metric = {
        metric[1]: widget["properties"]
        for widget in body["widgets"]
        for metric in widget["properties"]["metrics"]
    }
    # Then
    for metric, lines in {
        "Reputation.BounceRate": {0.03, AWS_BOUNCE_REVIEW, AWS_BOUNCE_PAUSE},
        "Reputation.ComplaintRate": {0.0007, AWS_COMPLAINT_REVIEW, AWS_COMPLAINT_PAUSE},
    }.items():
        annotations = by_metric[metric]["annotations"]["horizontal"]
        assert {a["value"] for a in annotations} == lines


def test_dashboard_shows_what_the_issue_lists() -> None:
    body = dashboard_body()
    shown = {tuple(m[:2]) for w in body["widgets"] for m in w["properties"]["metrics"]}
    assert {
        ("AWS/SES", "Send"),
        ("AWS/SES", "Delivery"),
        ("SesFeedback", "BouncePermanent"),
        ("SesFeedback", "BounceTransient"),
        ("SesFeedback", "FeedbackComplaint"),
        ("SesFeedback", "SuppressedHardBounce"),
        ("SesFeedback", "SuppressedComplaint"),
        ("SesFeedback", "SuppressionsLifted"),
        ("SesFeedback", "SuppressedSendsAvoided"),
        ("AWS/SQS", "ApproximateNumberOfMessagesVisible"),
    } <= shown
    dlq = next(
        m
        for w in body["widgets"]
        for m in w["properties"]["metrics"]
        if m[1] == "ApproximateNumberOfMessagesVisible"
    )
    assert dlq[3] == LocalStack(prefix="dash").name("FeedbackDeadLetterQueue")


def test_every_service_metric_on_the_dashboard_is_one_the_code_emits_with_its_dimension() -> None:
    body = dashboard_body()
    service = TEMPLATE["Globals"]["Function"]["Environment"]["Variables"]["POWERTOOLS_SERVICE_NAME"]
    namespace = TEMPLATE["Globals"]["Function"]["Environment"]["Variables"]["POWERTOOLS_METRICS_NAMESPACE"]
    ours = [m for w in body["widgets"] for m in w["properties"]["metrics"] if m[0] == namespace]
    assert ours
    for metric in ours:
        assert metric[1] in feedback_function_metric_names() | METRICS_FROM_ELSEWHERE, metric
        # Powertools adds the service dimension to every metric; without it the widget is empty.
        assert metric[2:4] == ["service", service], metric


def test_every_checkov_skip_in_the_template_gives_its_reason() -> None:
    skips = re.findall(r"#\s*checkov:skip=(CKV_[A-Z0-9_]+):(.*)", TEMPLATE_PATH.read_text())
    assert skips
    for check, reason in skips:
        assert len(reason.strip()) > 30, f"{check} is skipped without a reason"
