"""The local stack's names: every resource's name, ARN and URL from its logical ID and a prefix.

Nothing is called: local resource names are derived from the logical IDs and a prefix, so
every command (and the emulator that creates them) finds them again without a state file,
and the operator commands need no emulator to know them.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

from ses_feedback_stack.template import Resolver, function_environment, load_template, resources_of_type

DEFAULT_PREFIX = "ses-feedback-local"
DEFAULT_REGION = "us-east-1"
LOCAL_ACCOUNT_ID = "123456789012"  # moto's default account


def region() -> str:
    """The region a command works in: as the AWS CLI and Lambda read it (the CLI's ``--region``
    sets both variables before anything runs)."""
    return os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or DEFAULT_REGION


# Local mode publishes Send/Open/Click too, so the whole life of a message can be watched.
# Unsubscribe links point at the REST API that `local up` serves on loopback (paths without
# the stage): port 3000 by default; `local up` and the demo set the address they really serve on.
LOCAL_PARAMETERS = {"PublishEngagementEvents": "true", "UnsubscribeBaseUrl": "http://127.0.0.1:3000"}


@dataclass
class LocalStack:
    """The local names of the template's resources, as CloudFormation's ``!Ref`` would give them.

    A stack lives in one region (default: the environment's, ``region()``); with several regions
    (`local up --regions`) each region has its stack, of the same prefix, as each region of a
    deployment has its own CloudFormation stack of the same name.
    """

    prefix: str = DEFAULT_PREFIX
    parameters: dict[str, str] = field(default_factory=lambda: dict(LOCAL_PARAMETERS))
    template: dict[str, Any] = field(default_factory=load_template)
    region: str = field(default_factory=region)

    def name(self, logical_id: str) -> str:
        return f"{self.prefix}-{logical_id}"

    @property
    def is_home(self) -> bool:
        """The home form (HomeRegion empty) owns the suppression table and the feedback queue."""
        return not self.parameters.get("HomeRegion")

    def present(self, logical_id: str) -> bool:
        """Whether CloudFormation would create the resource: its ``Condition`` holds (or it has none)."""
        condition = self.template["Resources"][logical_id].get("Condition")
        return condition is None or self.resolver().condition(condition)

    def resources(self, resource_type: str) -> dict[str, dict[str, Any]]:
        """The resources of a type that this stack creates (their conditions hold), in template order."""
        resolver = self.resolver()
        return {
            logical_id: resource
            for logical_id, resource in resources_of_type(self.template, resource_type).items()
            if "Condition" not in resource or resolver.condition(resource["Condition"])
        }

    def resolver(self) -> Resolver:
        """Refs and attributes of every resource, computed from names alone (nothing is called)."""
        reg = self.region
        resolver = Resolver(
            self.template, parameters=dict(self.parameters), region=reg, stack_name=self.prefix
        )
        arn = f"arn:aws:{{service}}:{reg}:{LOCAL_ACCOUNT_ID}:{{name}}"
        endpoint = os.environ.get("AWS_ENDPOINT_URL", "http://127.0.0.1:5000").rstrip("/")
        for logical_id, resource in self.template.get("Resources", {}).items():
            name = self.name(logical_id)
            kind = resource["Type"]
            if kind in ("AWS::DynamoDB::Table", "AWS::DynamoDB::GlobalTable"):
                resolver.refs[logical_id] = name
                resolver.attributes[(logical_id, "Arn")] = arn.format(
                    service="dynamodb", name=f"table/{name}"
                )
            elif kind == "AWS::SNS::Topic":
                resolver.refs[logical_id] = arn.format(service="sns", name=name)
                resolver.attributes[(logical_id, "TopicName")] = name
            elif kind == "AWS::SQS::Queue":
                resolver.refs[logical_id] = f"{endpoint}/{LOCAL_ACCOUNT_ID}/{name}"
                resolver.attributes[(logical_id, "Arn")] = arn.format(service="sqs", name=name)
                resolver.attributes[(logical_id, "QueueName")] = name
            elif kind == "AWS::SES::EmailIdentity":
                resolver.refs[logical_id] = str(resolver.resolve(resource["Properties"]["EmailIdentity"]))
            elif kind == "AWS::CloudWatch::Alarm":
                resolver.refs[logical_id] = name
                resolver.attributes[(logical_id, "Arn")] = arn.format(
                    service="cloudwatch", name=f"alarm:{name}"
                )
            elif kind == "AWS::S3::Bucket":
                # S3 bucket names are lower case, and one namespace for every region: a
                # replica-region stack's bucket carries its region (CloudFormation would give
                # each a unique name).
                bucket = (name if self.is_home else f"{name}-{reg}").lower()
                resolver.refs[logical_id] = bucket
                resolver.attributes[(logical_id, "Arn")] = f"arn:aws:s3:::{bucket}"
            elif kind == "AWS::Events::EventBus":
                resolver.refs[logical_id] = name
                resolver.attributes[(logical_id, "Arn")] = arn.format(
                    service="events", name=f"event-bus/{name}"
                )
            elif kind == "AWS::IAM::Role":
                resolver.refs[logical_id] = name
                resolver.attributes[(logical_id, "Arn")] = f"arn:aws:iam::{LOCAL_ACCOUNT_ID}:role/{name}"
            elif kind in ("AWS::Serverless::Function", "AWS::Lambda::Function"):
                resolver.refs[logical_id] = name
                resolver.attributes[(logical_id, "Arn")] = arn.format(
                    service="lambda", name=f"function:{name}"
                )
            else:
                resolver.refs[logical_id] = name
        return resolver

    def function_environment(self, logical_id: str) -> dict[str, str]:
        environment = function_environment(self.resolver(), logical_id)
        if "WEBHOOK_ROLE_ARN" in environment:
            # Locally, webhooks may also go to http:// on loopback (a developer's receiver).
            environment["WEBHOOK_LOOPBACK_HTTP"] = "true"
        return environment


def regional_stacks(prefix: str, regions: tuple[str, ...]) -> list[LocalStack]:
    """One stack per region, as a multi-region deployment has them (docs/deploy.md): the first
    region is the home (``ReplicaRegions`` = the others), each other region a replica-region
    stack (``HomeRegion``, the same ``ReplicaRegions``, and the home's names: its table, feedback
    queue and streams secret)."""
    home_region, *others = regions
    home = LocalStack(prefix=prefix, region=home_region)
    if not others:
        return [home]
    home.parameters["ReplicaRegions"] = ",".join(others)
    resolver = home.resolver()
    of_home = {
        "HomeRegion": home_region,
        # The same list as the home's: a lift in a replica region lifts SES's list in every region.
        "ReplicaRegions": home.parameters["ReplicaRegions"],
        "HomeSuppressionTableName": resolver.refs["SuppressionTable"],
        "HomeFeedbackQueueArn": resolver.attributes[("FeedbackQueue", "Arn")],
        # The home's secret has a copy of its name in each region; moto finds a secret by the
        # ARN without the random suffix that AWS adds (a "partial ARN").
        "HomeStreamsSecretArn": (
            f"arn:aws:secretsmanager:{home_region}:{LOCAL_ACCOUNT_ID}:secret:{resolver.refs['StreamsSecret']}"
        ),
    }
    return [home] + [
        LocalStack(prefix=prefix, region=other, parameters={**LOCAL_PARAMETERS, **of_home})
        for other in others
    ]
