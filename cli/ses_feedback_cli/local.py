"""Local mode: the template's resources on a moto server, and the functions run as Lambda would.

Everything here talks to whatever ``AWS_ENDPOINT_URL`` points at (boto3 honours it), so
the same code bootstraps a moto server started by ``local up``, by the tests, or by hand.
Local resource names are derived from the logical IDs and a prefix, so every command can
find them again without a state file.
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import json
import os
import re
import secrets as secrets_module
import string
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

import boto3
from botocore.exceptions import ClientError

from ses_feedback_cli.template import (
    Resolver,
    function_environment,
    function_source,
    functions,
    load_template,
    resources_of_type,
)

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
            if kind == "AWS::DynamoDB::Table":
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
            elif kind in ("AWS::Serverless::Function", "AWS::Lambda::Function"):
                resolver.refs[logical_id] = name
                resolver.attributes[(logical_id, "Arn")] = arn.format(
                    service="lambda", name=f"function:{name}"
                )
            else:
                resolver.refs[logical_id] = name
        return resolver

    def function_environment(self, logical_id: str) -> dict[str, str]:
        return function_environment(self.resolver(), logical_id)


# ---- bootstrap ---------------------------------------------------------------------------


def bootstrap(stack: LocalStack) -> dict[str, str]:
    """Create the template's tables, queues, topics and subscriptions; return logical ID → Ref."""
    resolver = stack.resolver()
    created: dict[str, str] = {}
    dynamodb = boto3.client("dynamodb", region_name=region())
    sqs = boto3.client("sqs", region_name=region())
    sns = boto3.client("sns", region_name=region())

    for logical_id, resource in resources_of_type(stack.template, "AWS::DynamoDB::Table").items():
        _create_table(dynamodb, stack.name(logical_id), resolver.resolve(resource["Properties"]))
        created[logical_id] = resolver.refs[logical_id]

    queues = resources_of_type(stack.template, "AWS::SQS::Queue")
    # Dead-letter queues first: a queue's redrive policy names its DLQ's ARN.
    for logical_id, resource in sorted(queues.items(), key=lambda kv: "RedrivePolicy" in kv[1]["Properties"]):
        properties = resolver.resolve(resource["Properties"])
        url = sqs.create_queue(QueueName=stack.name(logical_id), Attributes=_queue_attributes(properties))[
            "QueueUrl"
        ]
        resolver.refs[logical_id] = url
        created[logical_id] = url

    for logical_id in resources_of_type(stack.template, "AWS::SNS::Topic"):
        created[logical_id] = sns.create_topic(Name=stack.name(logical_id))["TopicArn"]

    for logical_id, resource in resources_of_type(stack.template, "AWS::SNS::Subscription").items():
        properties = resolver.resolve(resource["Properties"])
        attributes = {"RawMessageDelivery": str(properties.get("RawMessageDelivery", False)).lower()}
        response = sns.subscribe(
            TopicArn=properties["TopicArn"],
            Protocol=properties["Protocol"],
            Endpoint=properties["Endpoint"],
            Attributes=attributes,
            ReturnSubscriptionArn=True,
        )
        created[logical_id] = response["SubscriptionArn"]

    sesv2 = boto3.client("sesv2", region_name=region())
    for logical_id in resources_of_type(stack.template, "AWS::SES::ConfigurationSet"):
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

    for logical_id, resource in resources_of_type(
        stack.template, "AWS::SES::ConfigurationSetEventDestination"
    ).items():
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
    for logical_id, resource in resources_of_type(stack.template, "AWS::SES::EmailIdentity").items():
        created[logical_id] = _create_email_identity(resolver.resolve(resource["Properties"]))
    for logical_id, resource in resources_of_type(stack.template, "AWS::S3::Bucket").items():
        created[logical_id] = _create_bucket(
            resolver.refs[logical_id], resolver.resolve(resource["Properties"])
        )
    for logical_id, resource in resources_of_type(stack.template, "AWS::SecretsManager::Secret").items():
        created[logical_id] = _create_secret(stack.name(logical_id), resource["Properties"])
    return created


def _create_bucket(name: str, properties: dict[str, Any]) -> str:
    """A bucket with the template's encryption and public access block."""
    s3: Any = boto3.client("s3", region_name=region())
    with contextlib.suppress(s3.exceptions.BucketAlreadyOwnedByYou):
        s3.create_bucket(Bucket=name)
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


def _create_secret(name: str, properties: dict[str, Any]) -> str:
    """A secret as CloudFormation's GenerateSecretString makes it (kept if it exists: its keys sign links)."""
    secrets = boto3.client("secretsmanager", region_name=region())
    generate = properties["GenerateSecretString"]
    value = json.loads(generate.get("SecretStringTemplate", "{}"))
    alphabet = string.ascii_letters + string.digits
    value[generate["GenerateStringKey"]] = "".join(
        secrets_module.choice(alphabet) for _ in range(int(generate.get("PasswordLength", 32)))
    )
    with contextlib.suppress(secrets.exceptions.ResourceExistsException):
        secrets.create_secret(Name=name, SecretString=json.dumps(value))
    return name


def _v2_event_type(cloudformation_name: str) -> Any:
    """CloudFormation's ``renderingFailure`` is SES v2's ``RENDERING_FAILURE``."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", cloudformation_name).upper()


def _create_email_identity(properties: dict[str, Any]) -> str:
    """The sending identity with its Easy DKIM key length and default configuration set."""
    sesv2 = boto3.client("sesv2", region_name=region())
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


# ---- running a function as Lambda would -------------------------------------------------


@dataclass
class LocalContext:
    """The parts of a Lambda context object that Powertools reads."""

    function_name: str
    memory_limit_in_mb: int = 512
    timeout_seconds: float = 30.0
    function_version: str = "$LATEST"
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    invoked_function_arn: str = ""
    started: float = field(default_factory=time.monotonic)

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self.timeout_seconds - (time.monotonic() - self.started)) * 1000))


def use_embedded_aws(endpoint: str) -> None:
    """Point this process's AWS clients at the local moto server, with its dummy credentials
    and region unless the shell already set them."""
    os.environ["AWS_ENDPOINT_URL"] = endpoint
    for name, value in (
        ("AWS_ACCESS_KEY_ID", "testing"),
        ("AWS_SECRET_ACCESS_KEY", "testing"),
        ("AWS_REGION", "us-east-1"),
    ):
        os.environ.setdefault(name, value)


# For commands whose printed answer is the point (demo, send): a function's INFO logs and EMF
# metrics are what it writes to CloudWatch in Lambda; at a terminal they would drown the answer.
_QUIET = {"POWERTOOLS_LOG_LEVEL": "WARNING", "POWERTOOLS_METRICS_DISABLED": "true"}


@contextlib.contextmanager
def quiet_stdout() -> Iterator[None]:
    """Handlers log and emit metrics on stdout; keep the CLI's stdout for its JSON answer."""
    with contextlib.redirect_stdout(sys.stderr):
        yield


def load_handler(
    stack: LocalStack, logical_id: str, quiet: bool = False, overrides: dict[str, str] | None = None
) -> Callable[[dict[str, Any], Any], Any]:
    """Import a function's handler from CodeUri/Handler, with the template's environment set
    (``overrides`` on top: an ``--env-vars`` file's values).

    ``quiet``: the function logs at WARNING, and what it prints on stdout is dropped (only
    EMF documents, its logs go to the logger's stream; Powertools prints the cold-start
    metric even with metrics disabled).
    """
    os.environ.update(
        {**stack.function_environment(logical_id), **(overrides or {}), **(_QUIET if quiet else {})}
    )
    os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "true")
    os.environ.setdefault("AWS_REGION", region())
    # Lambda sets both; boto3 reads only AWS_DEFAULT_REGION (clients are built without a region).
    os.environ.setdefault("AWS_DEFAULT_REGION", region())
    from ses_feedback import wiring
    from ses_feedback.observability import reread_environment

    reread_environment()
    wiring.reset()
    code_dir, module_name, function = function_source(stack.template, logical_id)
    spec = importlib.util.spec_from_file_location(
        f"ses_feedback_fn_{logical_id}", code_dir / f"{module_name}.py"
    )
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {logical_id} from {code_dir}")
    module: ModuleType = importlib.util.module_from_spec(spec)
    with quiet_stdout():
        spec.loader.exec_module(module)
    handler: Callable[[dict[str, Any], Any], Any] = getattr(module, function)
    if not quiet:
        return handler

    def quiet_handler(event: dict[str, Any], context: Any) -> Any:
        with contextlib.redirect_stdout(io.StringIO()):
            return handler(event, context)

    return quiet_handler


# ---- drain: the SQS event source mapping, played locally ---------------------------------


@dataclass
class DrainSummary:
    processed: int = 0
    failed: int = 0
    batches: int = 0
    invocation_errors: int = 0  # invocations that raised: their whole batch failed


def drain(
    stack: LocalStack,
    batch_size: int | None = None,
    max_batches: int | None = None,
    handler: Callable[[dict[str, Any], Any], Any] | None = None,
    observer: Callable[[str], None] | None = None,
) -> DrainSummary:
    """Run FeedbackFunction over the feedback queue until it is empty.

    As Lambda's event source mapping does: receive up to the template's batch size, invoke,
    delete what succeeded and make the reported failures visible again (they are received
    again, and after the redrive policy's receive count they move to the DLQ). An
    invocation that raises fails its whole batch, as a function error does in Lambda.
    ``handler``: one already loaded with ``load_handler`` (default: load it now).
    ``observer`` sees the body of every message that was processed successfully.
    """
    handler = handler or load_handler(stack, "FeedbackFunction")
    resolver = stack.resolver()
    sqs = boto3.client("sqs", region_name=region())
    queue_url = sqs.get_queue_url(QueueName=stack.name("FeedbackQueue"))["QueueUrl"]
    queue_arn = resolver.attributes[("FeedbackQueue", "Arn")]
    size = batch_size or int(resolver.parameter("FeedbackBatchSize"))
    summary = DrainSummary()
    while max_batches is None or summary.batches < max_batches:
        messages = _receive_batch(sqs, queue_url, size)
        if not messages:
            return summary
        event = {"Records": [_sqs_record(m, queue_arn) for m in messages]}
        try:
            with quiet_stdout():
                response = handler(event, LocalContext(function_name=stack.name("FeedbackFunction")))
            failed_ids = {f["itemIdentifier"] for f in (response or {}).get("batchItemFailures", [])}
        except Exception as exc:  # a function error: Lambda returns the whole batch to the queue
            # The type and error code only: an exception's text may quote an address.
            code = getattr(exc, "response", {}).get("Error", {}).get("Code", "")
            print(f"drain: invocation failed ({type(exc).__name__} {code}), batch returns", file=sys.stderr)
            summary.invocation_errors += 1
            failed_ids = {m["MessageId"] for m in messages}
        summary.batches += 1
        summary.processed += len(messages) - len(failed_ids)
        summary.failed += len(failed_ids)
        _settle(sqs, queue_url, messages, failed_ids)
        if observer is not None:
            for message in messages:
                if message["MessageId"] not in failed_ids:
                    observer(message["Body"])
    return summary


def _receive_batch(sqs: Any, queue_url: str, size: int) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = []
    while len(messages) < size:
        response = sqs.receive_message(
            QueueUrl=queue_url,
            MaxNumberOfMessages=min(10, size - len(messages)),
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
            VisibilityTimeout=60,
        )
        received = response.get("Messages", [])
        if not received:
            break
        messages.extend(received)
    return messages


def _sqs_record(message: dict[str, Any], queue_arn: str) -> dict[str, Any]:
    return {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"],
        "attributes": message.get("Attributes", {}),
        "messageAttributes": message.get("MessageAttributes", {}),
        "md5OfBody": message.get("MD5OfBody", ""),
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": region(),
    }


def _settle(sqs: Any, queue_url: str, messages: list[dict[str, Any]], failed_ids: set[str]) -> None:
    done = [m for m in messages if m["MessageId"] not in failed_ids]
    for start in range(0, len(done), 10):
        entries = [
            {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]}
            for i, m in enumerate(done[start : start + 10])
        ]
        sqs.delete_message_batch(QueueUrl=queue_url, Entries=entries)
    for message in messages:
        if message["MessageId"] in failed_ids:
            sqs.change_message_visibility(
                QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0
            )


# ---- sam local invoke ---------------------------------------------------------------------

# What a function in a container needs besides the template's variables.
_CONTAINER_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_REGION": DEFAULT_REGION,
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
                    "AWS_ENDPOINT_URL": endpoint,
                }.items()
            )
        )
        for logical_id in sorted(functions(stack.template))
    }
