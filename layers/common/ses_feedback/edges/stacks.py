"""A deployed stack, as production-access reads it: its parameters and outputs (CloudFormation
``DescribeStacks``) and whether its suppression table is there (DynamoDB ``DescribeTable``).

Failures leave as ``AwsCallFailed`` (``edges.failures``); a stack that does not exist is None.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any

import boto3

from ses_feedback.edges.failures import translated
from ses_feedback.errors import AwsCallFailed


@dataclass(frozen=True)
class DeployedStack:
    parameters: dict[str, str]
    outputs: dict[str, str]


class Stacks:
    """CloudFormation and DynamoDB in one region (``region`` None: the environment's)."""

    def __init__(self, region: str | None = None, cloudformation: Any = None, dynamodb: Any = None) -> None:
        self.region = region
        self._cloudformation = cloudformation
        self._dynamodb = dynamodb

    @cached_property
    def cloudformation(self) -> Any:
        return self._cloudformation or boto3.client("cloudformation", region_name=self.region)

    @cached_property
    def dynamodb(self) -> Any:
        return self._dynamodb or boto3.client("dynamodb", region_name=self.region)

    def describe(self, stack_name: str) -> DeployedStack | None:
        """The stack's parameters and outputs; None when the region has no such stack."""
        try:
            with translated():
                described = self.cloudformation.describe_stacks(StackName=stack_name)["Stacks"][0]
        except AwsCallFailed as exc:
            # CloudFormation answers a stack it does not know with a ValidationError.
            if exc.aws_code == "ValidationError":
                return None
            raise
        return DeployedStack(
            parameters={
                p["ParameterKey"]: p.get("ParameterValue", "") for p in described.get("Parameters", [])
            },
            outputs={o["OutputKey"]: o["OutputValue"] for o in described.get("Outputs", [])},
        )

    def table_status(self, table_name: str) -> str:
        """DynamoDB's TableStatus (ACTIVE, CREATING …); ``AwsCallFailed`` when it cannot be read."""
        with translated():
            return str(self.dynamodb.describe_table(TableName=table_name)["Table"]["TableStatus"])
