"""The local stack's names: every resource's name, ARN and URL from its logical ID and a prefix.

Nothing is called: local resource names are derived from the logical IDs and a prefix, so
every command (and the emulator that creates them) finds them again without a state file,
and the operator commands need no emulator to know them.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

from ses_feedback_stack.template import Resolver, function_environment, load_template

DEFAULT_PREFIX = "ses-feedback-local"
DEFAULT_REGION = "us-east-1"
LOCAL_ACCOUNT_ID = "123456789012"  # moto's default account


def region() -> str:
    return os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or DEFAULT_REGION


# Local mode publishes Send/Open/Click too, so the whole life of a message can be watched.
# Unsubscribe links point at the REST API that `local up` serves on loopback (paths without
# the stage): port 3000 by default; `local up` and the demo set the address they really serve on.
LOCAL_PARAMETERS = {"PublishEngagementEvents": "true", "UnsubscribeBaseUrl": "http://127.0.0.1:3000"}


@dataclass
class LocalStack:
    """The local names of the template's resources, as CloudFormation's ``!Ref`` would give them."""

    prefix: str = DEFAULT_PREFIX
    parameters: dict[str, str] = field(default_factory=lambda: dict(LOCAL_PARAMETERS))
    template: dict[str, Any] = field(default_factory=load_template)

    def name(self, logical_id: str) -> str:
        return f"{self.prefix}-{logical_id}"

    def resolver(self) -> Resolver:
        """Refs and attributes of every resource, computed from names alone (nothing is called)."""
        reg = region()
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
                # S3 bucket names are lower case.
                resolver.refs[logical_id] = name.lower()
                resolver.attributes[(logical_id, "Arn")] = f"arn:aws:s3:::{name.lower()}"
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
