"""What a command says when AWS itself is not there for it: one line and what to check, no traceback.

Refusals of ours carry their exit status in the error table; these come from the shell the
command runs in: no AWS answering at the endpoint (local mode not started), no credentials, a
table, queue or bucket that is not where the command looks (a wrong --prefix or --table), or
credentials AWS does not accept. Any other AWS error is said as AWS said it, on one line
with its code (``Operation (Code): message``): a command never prints a traceback.
"""

from __future__ import annotations

import os

# The CLI's one botocore import (pyproject.toml's contract names it): the store and the other
# edges on the command paths let botocore's failures through, and this is where they become a
# line; the edges that translate theirs raise AwsCallFailed, whose cause is read the same way.
from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError, NoRegionError
from botocore.exceptions import ConnectionError as AwsConnectionError
from ses_feedback.errors import AwsCallFailed

FAILURES = (BotoCoreError, ClientError, AwsCallFailed)

# Error codes that mean "not there": SQS (query and JSON protocols); DynamoDB, Lambda, S3 and
# Secrets Manager.
_NO_QUEUE = frozenset({"AWS.SimpleQueueService.NonExistentQueue", "QueueDoesNotExist"})
_MISSING = _NO_QUEUE | {"ResourceNotFoundException", "NoSuchBucket"}
_NOT_ACCEPTED = frozenset(
    {
        "AccessDenied",
        "AccessDeniedException",
        "UnrecognizedClientException",
        "InvalidClientTokenId",
        "ExpiredToken",
        "ExpiredTokenException",
    }
)


def code_of(exc: Exception) -> str:
    """AWS's error code for a ClientError; botocore's class name for a failure of its own."""
    if isinstance(exc, AwsCallFailed) and isinstance(exc.__cause__, Exception):
        return code_of(exc.__cause__)
    if isinstance(exc, ClientError):
        return str(exc.response.get("Error", {}).get("Code", "")) or "ClientError"
    return type(exc).__name__


def explain(exc: Exception) -> str:
    """The one line to print for ``exc``: what to check when it is the environment's failure."""
    if isinstance(exc, AwsCallFailed):
        # An edge translated botocore's failure: explain what AWS said.
        return explain(exc.__cause__) if isinstance(exc.__cause__, Exception) else str(exc)
    endpoint = os.environ.get("AWS_ENDPOINT_URL")
    if isinstance(exc, AwsConnectionError):
        if endpoint:
            return (
                f"no AWS answers at {endpoint} (AWS_ENDPOINT_URL): is `ses-feedback local up` running there?"
            )
        return f"{exc}: check the network and AWS_REGION"
    if isinstance(exc, NoCredentialsError):
        return (
            "no AWS credentials: set AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY "
            "(local mode takes testing / testing)"
        )
    if isinstance(exc, NoRegionError):
        return "no AWS region: set AWS_REGION"
    if not isinstance(exc, ClientError):
        return " ".join(str(exc).split())  # ParamValidationError says it over several lines
    code = code_of(exc)
    message = " ".join(str(exc.response.get("Error", {}).get("Message") or code).split()).rstrip(".")
    said = f"{exc.operation_name} ({code}): {message}"
    if code in _MISSING and exc.operation_name == "Invoke":
        return f"{said}: check --function-name (the stack's SenderFunctionName output) and AWS_REGION"
    if code in _NO_QUEUE and not endpoint:
        return (
            f"{said}: check --queue-url and --dlq-url (the stack's FeedbackQueueUrl and "
            "FeedbackDeadLetterQueueUrl outputs; --prefix for a local stack) and AWS_REGION"
        )
    if code in _MISSING:
        if endpoint:
            return (
                f"{said} (at {endpoint}): is the local stack up (`ses-feedback local up`, or "
                "`local bootstrap`) and --prefix its prefix?"
            )
        return (
            f"{said}: check the name given (--table, or $SUPPRESSION_TABLE / $DMARC_REPORT_TABLE; "
            "--prefix for a local stack) and AWS_REGION"
        )
    if code in _NOT_ACCEPTED:
        return f"{said}: check the AWS credentials in use and their permissions"
    return said
