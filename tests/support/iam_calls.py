"""Every AWS call a function's code makes, checked against that function's IAM policy.

moto ignores IAM, so a test passes whatever the template grants. This module hooks every
botocore session (``botocore.handlers.BUILTIN_HANDLERS``, the list each new session registers,
where moto hooks itself too) on ``provide-client-params``: when the call is made under a
handler of the template (a frame of ``functions/<name>/``, however the handler was loaded),
it turns the call into the authorisation requests AWS makes for it — the item-level actions
of a transaction (``ConditionCheck`` → ``dynamodb:ConditionCheckItem`` …), each table or index
a batch names, SES's identity, configuration set and template, with ``ses:FromAddress`` — and
checks each against the function's role as ``samtranslator`` (what ``sam build`` runs) expands
the template, with moto's IAM policy engine (``moto.iam.access_control.IAMPolicy``).

Local resource names are ``<prefix>-<LogicalId>`` (local mode's convention): a recorded name is
brought to one canonical prefix, and the policy is resolved with it, so tests with different
stacks record the same requests. The template's parameters are read back from the function's
environment (the variables the template sets to ``!Ref <Parameter>``), so a policy that depends
on a condition (``SyncSesAccountList``) is the one the function ran under.
"""

from __future__ import annotations

import contextvars
import fnmatch
import functools
import json
import logging
import os
import sys
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from email.utils import parseaddr
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import botocore.handlers
from moto.iam import policy_conditions
from moto.iam.access_control import IAMPolicy, PermissionResult
from ses_feedback_stack.names import LOCAL_ACCOUNT_ID, LocalStack
from ses_feedback_stack.template import REPO_ROOT, functions, load_template

CANONICAL_PREFIX = "iam"
# Beside the template's parameters, the region a function ran in (``AWS::Region`` in its policy).
REGION_PARAMETER = "AWS::Region"
Parameters = tuple[tuple[str, str], ...]
# The statements SAM adds for Lambda itself, not for the code: the asynchronous-invocation DLQ.
_LAMBDA_SERVICE_POLICIES = {"DeadLetterQueuePolicy"}
# botocore's service name → IAM's action prefix, where they differ.
_IAM_PREFIX = {"sesv2": "ses", "monitoring": "cloudwatch"}
_TRANSACT_ACTIONS = {
    "ConditionCheck": "ConditionCheckItem",
    "Put": "PutItem",
    "Update": "UpdateItem",
    "Delete": "DeleteItem",
    "Get": "GetItem",
}


def _string_like(expected: list[str] | str, actual: str) -> bool:
    """IAM's StringLike (``*`` and ``?``), which moto's engine does not evaluate by itself."""
    patterns = [expected] if isinstance(expected, str) else expected
    return any(fnmatch.fnmatchcase(actual, pattern) for pattern in patterns)


# moto's condition table knows StringEquals only, and passes any operator it does not know:
# teach it StringLike, the operator the SES statement uses, so that condition is really checked.
policy_conditions.CONDITION_OPERATIONS.setdefault("StringLike", _string_like)


@dataclass(frozen=True)
class Request:
    """One authorisation request: what IAM checks for (part of) one API call."""

    function: str
    action: str
    resource: str
    context: tuple[tuple[str, str], ...] = ()
    call: str = ""  # the API operation it came from, for messages
    parameters: tuple[tuple[str, str], ...] = ()  # the template parameters the function ran with

    def describe(self) -> str:
        where = f" with {dict(self.context)}" if self.context else ""
        via = f" (in {self.call})" if self.call and self.call != self.action else ""
        return f"{self.function}: {self.action} on {self.resource}{where}{via}"


@dataclass
class Recorder:
    """This test's requests and refusals; ``seen``: every distinct request of the session."""

    requests: list[Request] = field(default_factory=list)
    refused: list[Request] = field(default_factory=list)
    seen: set[Request] = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def clear(self) -> None:
        with self.lock:
            self.requests.clear()
            self.refused.clear()

    def add(self, request: Request, refused: bool) -> None:
        with self.lock:
            self.requests.append(request)
            self.seen.add(request)
            if refused:
                self.refused.append(request)


RECORDER = Recorder()


# ---- the template: which code is which function, and each function's policy -------------------


@functools.cache
def _code_dirs() -> dict[Path, str]:
    template = load_template()
    return {
        (REPO_ROOT / properties["Properties"]["CodeUri"]).resolve(): logical_id
        for logical_id, properties in functions(template).items()
    }


@functools.cache
def _logical_ids() -> dict[str, str]:
    """Suffix of a local resource name → its logical id (buckets' names are lower case)."""
    ids = sorted(load_template()["Resources"], key=len, reverse=True)  # the longest suffix first
    return {**{lid: lid for lid in ids}, **{lid.lower(): lid for lid in ids}}


def running_function() -> str | None:
    """The template function whose handler code is on this thread's stack, if any."""
    dirs = _code_dirs()
    frame = sys._getframe(1)
    while frame is not None:
        folder = Path(frame.f_code.co_filename).parent
        if folder in dirs:
            return dirs[folder]
        frame = frame.f_back  # type: ignore[assignment]
    return None


def canonical(name: str) -> str:
    """``it-SuppressionTable`` → ``iam-SuppressionTable``: names from any local stack compare equal."""
    for suffix, logical_id in _logical_ids().items():
        if name.endswith(f"-{suffix}") and len(name) > len(suffix) + 1:
            return (
                f"{CANONICAL_PREFIX}-{logical_id}" if suffix == logical_id else f"{CANONICAL_PREFIX}-{suffix}"
            )
    return name


@functools.cache
def _expanded_template() -> dict[str, Any]:
    """The template as ``sam build`` / ``sam deploy`` hand it to CloudFormation (SAM transform applied)."""
    from samtranslator.translator.transform import transform

    # Its feature toggles warn that they have no configuration outside SAM CLI: nothing to act on.
    logging.getLogger("samtranslator").setLevel(logging.ERROR)
    template = load_template()
    for resource in template["Resources"].values():
        for key in ("CodeUri", "ContentUri"):
            if key in resource.get("Properties", {}):
                resource["Properties"][key] = "s3://artifacts/code.zip"  # what `sam package` writes

    class NoManagedPolicies:
        def load(self) -> dict[str, str]:
            return {}

    previous = os.environ.get("AWS_DEFAULT_REGION")
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    try:
        expanded: dict[str, Any] = transform(template, {}, NoManagedPolicies())
    finally:
        if previous is None:
            os.environ.pop("AWS_DEFAULT_REGION", None)
    return expanded


def role_statements(function: str, parameters: tuple[tuple[str, str], ...] = ()) -> list[dict[str, Any]]:
    """The statements the code of ``function`` runs with: its role's inline policies, resolved."""
    return _role_statements(function, parameters)


@functools.cache
def _role_statements(function: str, parameters: tuple[tuple[str, str], ...]) -> list[dict[str, Any]]:
    expanded = _expanded_template()
    given = dict(parameters)
    # The region the function ran in (its policy names it: a replica region's resources).
    region = given.pop(REGION_PARAMETER, None)
    stack = LocalStack(prefix=CANONICAL_PREFIX, parameters=given, template=expanded)
    if region:
        stack.region = region  # a local stack has its region (local mode's several regions)
    resolver = stack.resolver()
    for logical_id, resource in expanded["Resources"].items():
        if resource["Type"] == "AWS::SecretsManager::Secret":
            # !Ref of a secret is its ARN (local mode's resolver gives the name).
            resolver.refs[logical_id] = _arn("secretsmanager", f"secret:{stack.name(logical_id)}", region)
    role = expanded["Resources"][f"{function}Role"]["Properties"]
    statements: list[dict[str, Any]] = []
    for policy in resolver.resolve(_without_no_value(role.get("Policies", []))):
        if not isinstance(policy, dict) or "PolicyDocument" not in policy:
            continue  # a policy left out by its condition (Fn::If … AWS::NoValue)
        if policy["PolicyName"] in _LAMBDA_SERVICE_POLICIES:
            continue
        document = policy["PolicyDocument"]
        found = document["Statement"]
        statements.extend(found if isinstance(found, list) else [found])
    return statements


def _without_no_value(value: Any) -> Any:
    """``AWS::NoValue`` as None (local mode's resolver does not know it)."""
    if value == {"Ref": "AWS::NoValue"}:
        return None
    if isinstance(value, list):
        return [_without_no_value(v) for v in value]
    if isinstance(value, dict):
        return {k: _without_no_value(v) for k, v in value.items()}
    return value


def function_parameters(function: str, environment: dict[str, str]) -> tuple[tuple[str, str], ...]:
    """The template parameters a function ran with, read back from its environment.

    A replica-region stack (HomeRegion set) also takes the home's table and secret as parameters:
    its SUPPRESSION_TABLE and STREAMS_SECRET_ID carry them inside an ``!If``, read back here by name
    (canonical, as the requests are).
    """
    found = {
        parameter: environment[variable]
        for variable, parameter in _parameter_variables(function).items()
        if variable in environment
    }
    found[REGION_PARAMETER] = environment.get("AWS_REGION") or _region()
    if found.get("HomeRegion"):
        if "SUPPRESSION_TABLE" in environment:
            found["HomeSuppressionTableName"] = canonical(environment["SUPPRESSION_TABLE"])
        if environment.get("STREAMS_SECRET_ID"):
            name = canonical(environment["STREAMS_SECRET_ID"].rsplit(":", 1)[-1])
            found["HomeStreamsSecretArn"] = _arn("secretsmanager", f"secret:{name}", found["HomeRegion"])
    return tuple(sorted(found.items()))


@functools.cache
def _parameter_variables(function: str) -> dict[str, str]:
    """The function's environment variables that the template sets to ``!Ref <Parameter>``."""
    template = load_template()
    declared = template.get("Parameters", {})
    variables = {
        **template.get("Globals", {}).get("Function", {}).get("Environment", {}).get("Variables", {}),
        **template["Resources"][function]["Properties"].get("Environment", {}).get("Variables", {}),
    }
    return {
        variable: value["Ref"]
        for variable, value in variables.items()
        if isinstance(value, dict) and set(value) == {"Ref"} and value["Ref"] in declared
    }


def allowed(request: Request, statements: list[dict[str, Any]]) -> bool:
    policy = IAMPolicy(_document(statements))
    result = policy.is_action_permitted(
        request.action, request.resource, incoming_condition_values=dict(request.context)
    )
    return result is PermissionResult.PERMITTED


def _document(statements: list[dict[str, Any]]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": statements})


def grants(statements: list[dict[str, Any]]) -> Iterator[tuple[dict[str, Any], str, str]]:
    """Each (statement, action, resource) a policy grants, one pair at a time."""
    for statement in statements:
        if statement.get("Effect") != "Allow":
            continue
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        resources = (
            statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
        )
        for action in actions:
            for resource in resources:
                yield statement, action, resource


def unused_grants(
    requests: Iterable[Request], policy: Callable[[str, Parameters], list[dict[str, Any]]] | None = None
) -> list[str]:
    """Each grant of a function's policy that none of that function's requests needed.

    A function that made no request at all is not judged (the run did not exercise it). The
    policy is the one each request ran under (its parameters), so a grant that only a
    condition adds is judged against the runs where that condition held.
    """
    by_function: dict[str, list[Request]] = {}
    for request in requests:
        by_function.setdefault(request.function, []).append(request)
    unused: dict[str, None] = {}
    for function, mine in sorted(by_function.items()):
        used: set[tuple[str, str]] = set()
        offered: set[tuple[str, str]] = set()
        for parameters in {r.parameters for r in mine}:
            ran = [r for r in mine if r.parameters == parameters]
            for statement, action, resource in grants((policy or role_statements)(function, parameters)):
                offered.add((action, resource))
                alone = [{**statement, "Action": action, "Resource": resource}]
                if any(allowed(request, alone) for request in ran):
                    used.add((action, resource))
        for action, resource in sorted(offered - used):
            unused[f"{function}: {action} on {resource}"] = None
    return list(unused)


# ---- an API call → the requests IAM makes for it ------------------------------------------------


# The region of the client making the call being checked (a replica region's writers call the
# home region's table): botocore passes it with each call.
_CALL_REGION: contextvars.ContextVar[str | None] = contextvars.ContextVar("call_region", default=None)


def _region() -> str:
    return (
        _CALL_REGION.get()
        or os.environ.get("AWS_REGION")
        or os.environ.get("AWS_DEFAULT_REGION")
        or "us-east-1"
    )


def _arn(service: str, resource: str, region: str | None = None) -> str:
    return f"arn:aws:{service}:{_region() if region is None else region}:{LOCAL_ACCOUNT_ID}:{resource}"


def _table(name: str, index: str | None = None) -> str:
    arn = name if name.startswith("arn:") else _arn("dynamodb", f"table/{canonical(name)}")
    return f"{arn}/index/{index}" if index else arn


def requests_for(
    service: str, operation: str, params: dict[str, Any]
) -> list[tuple[str, str, dict[str, str]]]:
    """(action, resource, condition context) for each authorisation one call needs."""
    prefix = _IAM_PREFIX.get(service, service)
    action = f"{prefix}:{operation}"
    if service == "dynamodb":
        if operation in ("BatchGetItem", "BatchWriteItem"):
            return [(action, _table(table), {}) for table in params["RequestItems"]]
        if operation in ("TransactWriteItems", "TransactGetItems"):
            found = []
            for item in params["TransactItems"]:
                ((kind, body),) = item.items()
                found.append((f"dynamodb:{_TRANSACT_ACTIONS[kind]}", _table(body["TableName"]), {}))
            return found
        return [(action, _table(params["TableName"], params.get("IndexName")), {})]
    if service == "sesv2" and operation == "SendEmail":
        sender = parseaddr(params["FromEmailAddress"])[1]
        context = {"ses:FromAddress": sender, "ses:ApiVersion": "2"}
        identities = {sender.rpartition("@")[2]}
        # SES also authorises against each recipient that is a verified identity of the account:
        # in the sandbox, every recipient is one.
        destination = params.get("Destination", {})
        for key in ("ToAddresses", "CcAddresses", "BccAddresses"):
            identities.update(parseaddr(a)[1].rpartition("@")[2] for a in destination.get(key, []))
        found = [(action, _arn("ses", f"identity/{identity}"), context) for identity in sorted(identities)]
        if params.get("ConfigurationSetName"):
            configuration_set = canonical(params["ConfigurationSetName"])
            found.append((action, _arn("ses", f"configuration-set/{configuration_set}"), context))
        template = params.get("Content", {}).get("Template", {}).get("TemplateName")
        if template:
            found.append((action, _arn("ses", f"template/{template}"), context))
        return found
    if service == "secretsmanager":
        secret = params["SecretId"]
        if secret.startswith("arn:"):
            # an ARN names its region (a replica region reads the home secret's replica by ARN)
            prefix, _, name = secret.rpartition(":")
            return [(action, f"{prefix}:{canonical(name)}", {})]
        return [(action, _arn(service, f"secret:{canonical(secret)}"), {})]
    if service == "cloudwatch" and operation == "DescribeAlarms":
        names = params.get("AlarmNames") or ["*"]
        return [(action, _arn("cloudwatch", f"alarm:{canonical(name)}"), {}) for name in names]
    if service == "s3":
        bucket = canonical(params["Bucket"])
        if operation == "CopyObject":
            source = params["CopySource"]
            return [
                ("s3:GetObject", f"arn:aws:s3:::{canonical(source['Bucket'])}/{source['Key']}", {}),
                ("s3:PutObject", f"arn:aws:s3:::{bucket}/{params['Key']}", {}),
            ]
        if operation in ("ListObjectsV2", "ListObjects"):
            return [("s3:ListBucket", f"arn:aws:s3:::{bucket}", {})]
        return [(action, f"arn:aws:s3:::{bucket}/{params['Key']}", {})]
    if service == "sqs" and "QueueUrl" in params:
        name = urlparse(params["QueueUrl"]).path.rsplit("/", 1)[-1]
        # SQS authorises a batch call as its single action (SendMessageBatch as sqs:SendMessage,
        # DeleteMessageBatch as sqs:DeleteMessage, ChangeMessageVisibilityBatch likewise): IAM
        # has no sqs:*Batch actions.
        return [(action.removesuffix("Batch"), _arn("sqs", canonical(name)), {})]
    if service == "events":
        return _events_requests(action, operation, params)
    if service == "sns" and "TopicArn" in params:
        return [(action, _arn("sns", canonical(params["TopicArn"].rsplit(":", 1)[-1])), {})]
    return [(action, "*", {})]


def _events_requests(
    action: str, operation: str, params: dict[str, Any]
) -> list[tuple[str, str, dict[str, str]]]:
    """EventBridge: PutEvents on each entry's bus; rules under their bus; connections and API
    destinations by name (their ARNs end in an id IAM matches with the name's wildcard)."""
    if operation == "PutEvents":
        buses = {entry.get("EventBusName", "default") for entry in params["Entries"]}
        return [(action, _arn("events", f"event-bus/{canonical(bus)}"), {}) for bus in sorted(buses)]
    if "Rule" in params or (operation in ("PutRule", "DeleteRule", "DescribeRule") and "Name" in params):
        rule = params.get("Rule") or params["Name"]
        bus = canonical(params.get("EventBusName", "default"))
        found = [(action, _arn("events", f"rule/{bus}/{rule}"), {})]
        # A target that names a role: the caller passes that role to EventBridge.
        roles = sorted({t["RoleArn"] for t in params.get("Targets", []) if "RoleArn" in t})
        found += [
            ("iam:PassRole", f"arn:aws:iam::{LOCAL_ACCOUNT_ID}:role/{canonical(r.rsplit('/', 1)[-1])}", {})
            for r in roles
        ]
        return found
    if "Connection" in operation and "Name" in params:
        # EventBridge keeps an API key connection's secret in Secrets Manager, as the caller.
        secret = _arn("secretsmanager", f"secret:events!connection/{params['Name']}/id")
        on_secret = {
            "CreateConnection": ["CreateSecret", "PutSecretValue", "DescribeSecret"],
            "DeleteConnection": ["DeleteSecret"],
        }.get(operation, [])
        return [(action, _arn("events", f"connection/{params['Name']}/id"), {})] + [
            (f"secretsmanager:{name}", secret, {}) for name in on_secret
        ]
    if "ApiDestination" in operation and "Name" in params:
        return [(action, _arn("events", f"api-destination/{params['Name']}/id"), {})]
    return [(action, "*", {})]


def _on_call(params: dict[str, Any], model: Any, context: dict[str, Any] | None = None, **_: Any) -> None:
    """botocore's provide-client-params: record (and check) the call if a handler makes it."""
    function = running_function()
    if function is None:
        return
    service = model.service_model.service_name
    parameters = function_parameters(function, dict(os.environ))
    statements = role_statements(function, parameters)
    token = _CALL_REGION.set((context or {}).get("client_region"))
    try:
        requests = requests_for(service, model.name, params)
    finally:
        _CALL_REGION.reset(token)
    for action, resource, condition in requests:
        request = Request(
            function, action, resource, tuple(sorted(condition.items())), model.name, parameters
        )
        RECORDER.add(request, refused=not allowed(request, statements))


def install() -> None:
    """Hook every botocore session created from now on (the default session is dropped, so the
    next client comes from a new session that has the hook)."""
    entry = ("provide-client-params", _on_call)
    if entry not in botocore.handlers.BUILTIN_HANDLERS:
        botocore.handlers.BUILTIN_HANDLERS.append(entry)
    import boto3

    boto3.DEFAULT_SESSION = None


def dump(requests: Iterable[Request]) -> str:
    """Requests as JSON (xdist carries a worker's to the controller as text)."""
    return json.dumps([[r.function, r.action, r.resource, r.context, r.call, r.parameters] for r in requests])


def load(text: str) -> list[Request]:
    return [
        Request(function, action, resource, _pairs(context), call, _pairs(parameters))
        for function, action, resource, context, call, parameters in json.loads(text)
    ]


def _pairs(value: list[list[str]]) -> tuple[tuple[str, str], ...]:
    return tuple((key, item) for key, item in value)
