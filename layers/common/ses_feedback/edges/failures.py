"""AWS's failures as the domain's: botocore's exceptions stop at the edges that say so.

``translated`` turns a failed call into ``AwsCallFailed``: AWS's error code when AWS answered
(``ClientError``), none when it did not (``BotoCoreError``: no credentials, no network, no
region). The original exception stays the ``__cause__``, so the CLI's one-line explanation
of AWS failures still reads what AWS said.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from botocore.exceptions import BotoCoreError, ClientError

from ses_feedback.errors import AwsCallFailed


def error_code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


@contextmanager
def translated() -> Iterator[None]:
    """Run AWS calls; a botocore failure leaves as ``AwsCallFailed`` (same message, its cause kept)."""
    try:
        yield
    except ClientError as exc:
        raise AwsCallFailed(
            str(exc),
            aws_code=error_code(exc) or None,
            operation=exc.operation_name,
            reason=str(exc.response.get("Error", {}).get("Message", "")),
        ) from exc
    except BotoCoreError as exc:
        raise AwsCallFailed(str(exc)) from exc
