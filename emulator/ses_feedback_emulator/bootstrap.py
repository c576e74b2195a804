"""Local mode's AWS: the template's resources created on a moto server.

Everything here talks to whatever ``AWS_ENDPOINT_URL`` points at (boto3 honours it), so
the same code bootstraps a moto server started by ``local up``, by the tests, or by hand.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets as secrets_module
import string
import sys
from typing import Any

import boto3
from botocore.exceptions import ClientError
from ses_feedback_stack.names import DEFAULT_REGION, LocalStack

# ---- bootstrap ---------------------------------------------------------------------------


def bootstrap(stack: LocalStack) -> dict[str, str]:
    """Create the template's tables, queues, topics and subscriptions in the stack's region (those
    whose ``Condition`` holds, as CloudFormation would); return logical ID → Ref."""
    resolver = stack.resolver()
    created: dict[str, str] = {}
    home = stack.region
    dynamodb = boto3.client("dynamodb", region_name=home)
    sqs = boto3.client("sqs", region_name=home)
    sns = boto3.client("sns", region_name=home)

    for logical_id, resource in stack.resources("AWS::DynamoDB::Table").items():
        _create_table(dynamodb, stack.name(logical_id), resolver.resolve(resource["Properties"]))
        created[logical_id] = resolver.refs[logical_id]
    for logical_id, resource in stack.resources("AWS::DynamoDB::GlobalTable").items():
        properties = resolver.resolve(resource["Properties"])
        for replica in replica_regions(properties, home):
            _create_table(boto3.client("dynamodb", region_name=replica), stack.name(logical_id), properties)
        created[logical_id] = resolver.refs[logical_id]

    queues = stack.resources("AWS::SQS::Queue")
    # Dead-letter queues first: a queue's redrive policy names its DLQ's ARN.
    for logical_id, resource in sorted(queues.items(), key=lambda kv: "RedrivePolicy" in kv[1]["Properties"]):
        properties = resolver.resolve(resource["Properties"])
        url = sqs.create_queue(QueueName=stack.name(logical_id), Attributes=_queue_attributes(properties))[
            "QueueUrl"
        ]
        resolver.refs[logical_id] = url
        created[logical_id] = url

    for logical_id in stack.resources("AWS::SNS::Topic"):
        created[logical_id] = sns.create_topic(Name=stack.name(logical_id))["TopicArn"]

    for logical_id, resource in stack.resources("AWS::SNS::Subscription").items():
        properties = resolver.resolve(resource["Properties"])
        attributes = {"RawMessageDelivery": str(properties.get("RawMessageDelivery", False)).lower()}
        # The endpoint may be a queue of another region (a replica region's topic delivers to
        # the home region's feedback queue): moto's SNS delivers to the region the ARN names.
        response = sns.subscribe(
            TopicArn=properties["TopicArn"],
            Protocol=properties["Protocol"],
            Endpoint=properties["Endpoint"],
            Attributes=attributes,
            ReturnSubscriptionArn=True,
        )
        created[logical_id] = response["SubscriptionArn"]

    sesv2 = boto3.client("sesv2", region_name=home)
    for logical_id in stack.resources("AWS::SES::ConfigurationSet"):
        try:
            sesv2.create_configuration_set(ConfigurationSetName=stack.name(logical_id))
        except ClientError as exc:
            # SES answers AlreadyExistsException; moto, ConfigurationSetAlreadyExistsException.
            if exc.response["Error"]["Code"] not in (
                "AlreadyExistsException",
                "ConfigurationSetAlreadyExistsException",
            ):
                raise
        created[logical_id] = stack.name(logical_id)

    for logical_id, resource in stack.resources("AWS::SES::ConfigurationSetEventDestination").items():
        properties = resolver.resolve(resource["Properties"])
        destination = properties["EventDestination"]
        try:
            sesv2.create_configuration_set_event_destination(
                ConfigurationSetName=properties["ConfigurationSetName"],
                EventDestinationName=destination["Name"],
                EventDestination={
                    "Enabled": bool(destination.get("Enabled", True)),
                    "MatchingEventTypes": [_v2_event_type(t) for t in destination["MatchingEventTypes"]],
                    "SnsDestination": {"TopicArn": destination["SnsDestination"]["TopicARN"]},
                },
            )
        except (ClientError, NotImplementedError) as exc:
            # Plain moto has no event destinations (in-process it raises NotImplementedError);
            # the project's moto server (LocalSes) has them.
            code = exc.response["Error"]["Code"] if isinstance(exc, ClientError) else "not implemented"
            print(f"warning: no SES event destination locally ({code})", file=sys.stderr)
            continue
        created[logical_id] = destination["Name"]
    for logical_id, resource in stack.resources("AWS::SES::EmailIdentity").items():
        created[logical_id] = _create_email_identity(resolver.resolve(resource["Properties"]), home)
    for logical_id, resource in stack.resources("AWS::S3::Bucket").items():
        created[logical_id] = _create_bucket(
            resolver.refs[logical_id], resolver.resolve(resource["Properties"]), home
        )
    events = boto3.client("events", region_name=home)
    for logical_id in stack.resources("AWS::Events::EventBus"):
        with contextlib.suppress(events.exceptions.ResourceAlreadyExistsException):
            events.create_event_bus(Name=stack.name(logical_id))
        created[logical_id] = stack.name(logical_id)
    for logical_id, resource in stack.resources("AWS::SecretsManager::Secret").items():
        created[logical_id] = _create_secret(
            stack.name(logical_id), resolver.resolve(resource["Properties"]), home
        )
    return created


def replica_regions(properties: dict[str, Any], home: str) -> list[str]:
    """A global table's regions (its ``Replicas``), the stack's own first, each once."""
    regions = [home] + [str(r["Region"]) for r in properties.get("Replicas", []) if r.get("Region")]
    return list(dict.fromkeys(regions))


def _create_bucket(name: str, properties: dict[str, Any], region_name: str) -> str:
    """A bucket with the template's encryption and public access block."""
    s3: Any = boto3.client("s3", region_name=region_name)
    # S3 wants the region named, but for us-east-1 (where naming it is refused).
    where = (
        {}
        if region_name == "us-east-1"
        else {"CreateBucketConfiguration": {"LocationConstraint": region_name}}
    )
    with contextlib.suppress(s3.exceptions.BucketAlreadyOwnedByYou):
        s3.create_bucket(Bucket=name, **where)
    if "BucketEncryption" in properties:
        # CloudFormation's ServerSideEncryptionByDefault is the API's ApplyServerSideEncryptionByDefault.
        rules = [
            {"ApplyServerSideEncryptionByDefault": rule["ServerSideEncryptionByDefault"]}
            for rule in properties["BucketEncryption"]["ServerSideEncryptionConfiguration"]
        ]
        s3.put_bucket_encryption(Bucket=name, ServerSideEncryptionConfiguration={"Rules": rules})
    if "PublicAccessBlockConfiguration" in properties:
        s3.put_public_access_block(
            Bucket=name, PublicAccessBlockConfiguration=properties["PublicAccessBlockConfiguration"]
        )
    return name


def _create_secret(name: str, properties: dict[str, Any], region_name: str) -> str:
    """A secret as CloudFormation's GenerateSecretString makes it (kept if it exists: its keys sign
    links), and its copy, of the same name and value, in each of its ``ReplicaRegions``."""
    secrets = boto3.client("secretsmanager", region_name=region_name)
    generate = properties["GenerateSecretString"]
    value = json.loads(generate.get("SecretStringTemplate", "{}"))
    alphabet = string.ascii_letters + string.digits
    value[generate["GenerateStringKey"]] = "".join(
        secrets_module.choice(alphabet) for _ in range(int(generate.get("PasswordLength", 32)))
    )
    with contextlib.suppress(secrets.exceptions.ResourceExistsException):
        secrets.create_secret(Name=name, SecretString=json.dumps(value))
    kept = secrets.get_secret_value(SecretId=name)["SecretString"]
    for replica in properties.get("ReplicaRegions", []):
        copies = boto3.client("secretsmanager", region_name=str(replica["Region"]))
        with contextlib.suppress(copies.exceptions.ResourceExistsException):
            copies.create_secret(Name=name, SecretString=kept)
    return name


def _v2_event_type(cloudformation_name: str) -> Any:
    """CloudFormation's ``renderingFailure`` is SES v2's ``RENDERING_FAILURE``."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", cloudformation_name).upper()


def _create_email_identity(properties: dict[str, Any], region_name: str) -> str:
    """The sending identity with its Easy DKIM key length and default configuration set."""
    sesv2 = boto3.client("sesv2", region_name=region_name)
    arguments: dict[str, Any] = {"EmailIdentity": properties["EmailIdentity"]}
    if "DkimSigningAttributes" in properties:
        arguments["DkimSigningAttributes"] = properties["DkimSigningAttributes"]
    configuration_set = properties.get("ConfigurationSetAttributes", {}).get("ConfigurationSetName")
    if configuration_set:
        arguments["ConfigurationSetName"] = configuration_set
    with contextlib.suppress(sesv2.exceptions.AlreadyExistsException):
        sesv2.create_email_identity(**arguments)
    mail_from = properties.get("MailFromAttributes")
    if mail_from:
        # Plain moto has no MAIL FROM (in-process it raises NotImplementedError); LocalSes has.
        with contextlib.suppress(ClientError, NotImplementedError):
            sesv2.put_email_identity_mail_from_attributes(
                EmailIdentity=properties["EmailIdentity"],
                MailFromDomain=mail_from["MailFromDomain"],
                BehaviorOnMxFailure=mail_from.get("BehaviorOnMxFailure", "USE_DEFAULT_VALUE"),
            )
    return str(properties["EmailIdentity"])


def _create_table(client: Any, name: str, properties: dict[str, Any]) -> None:
    arguments: dict[str, Any] = {
        "TableName": name,
        "AttributeDefinitions": properties["AttributeDefinitions"],
        "KeySchema": properties["KeySchema"],
        "BillingMode": properties.get("BillingMode", "PAY_PER_REQUEST"),
    }
    if properties.get("GlobalSecondaryIndexes"):
        arguments["GlobalSecondaryIndexes"] = properties["GlobalSecondaryIndexes"]
    if len(properties.get("Replicas", [])) > 1:
        # A global table's stream feeds its replicas (the local replicator reads it). moto keeps
        # every stream record for the life of the server, so a table without replicas has none.
        arguments["StreamSpecification"] = {"StreamEnabled": True, **properties["StreamSpecification"]}
    try:
        client.create_table(**arguments)
    except client.exceptions.ResourceInUseException:
        return  # bootstrap is safe to run twice
    ttl = properties.get("TimeToLiveSpecification")
    if ttl:
        client.update_time_to_live(TableName=name, TimeToLiveSpecification=ttl)


def _queue_attributes(properties: dict[str, Any]) -> Any:
    attributes: dict[str, str] = {
        key: str(properties[key])
        for key in ("MessageRetentionPeriod", "VisibilityTimeout", "DelaySeconds")
        if key in properties
    }
    if "RedrivePolicy" in properties:
        attributes["RedrivePolicy"] = json.dumps(properties["RedrivePolicy"])
    return attributes


# ---- sam local invoke ---------------------------------------------------------------------

# What a function in a container needs besides the template's variables.
_CONTAINER_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "POWERTOOLS_TRACE_DISABLED": "true",
}


def sam_env_vars(stack: LocalStack, endpoint: str) -> dict[str, dict[str, str]]:
    """The ``--env-vars`` file for ``sam local invoke``: every function, pointed at ``endpoint``."""
    return {
        logical_id: dict(
            sorted(
                {
                    **stack.function_environment(logical_id),
                    **_CONTAINER_ENV,
                    "AWS_REGION": stack.region,
                    "AWS_ENDPOINT_URL": endpoint,
                }.items()
            )
        )
        for logical_id in sorted(stack.resources("AWS::Serverless::Function"))
    }


def use_embedded_aws(endpoint: str) -> None:
    """Point this process's AWS clients at the local moto server, with its dummy credentials
    and region unless the shell already set them."""
    os.environ["AWS_ENDPOINT_URL"] = endpoint
    for name, value in (
        ("AWS_ACCESS_KEY_ID", "testing"),
        ("AWS_SECRET_ACCESS_KEY", "testing"),
        ("AWS_REGION", DEFAULT_REGION),
    ):
        os.environ.setdefault(name, value)
