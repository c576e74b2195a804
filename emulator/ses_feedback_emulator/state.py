"""What a running `local up` leaves for the other commands: per stack (per ``--prefix``).

Two records, each in the one place its readers look:

- **in the local stack**: the REST API's address, kept by the moto server it serves
  (``/_local/stacks/<prefix>``, emptied by moto's reset), so that every local send (``send``,
  ``local invoke``, the local API) builds unsubscribe links to where the API really listens,
  whichever shell it runs in, as ``UnsubscribeBaseUrl`` does when deployed;
- **on disk**, under ``.local/<prefix>/`` with absolute paths: the ``--env-vars`` file for
  ``sam local invoke`` and ``state.json`` (pid, endpoint, ports, REST API, env file), so that a
  second stack (another ``--prefix``) writes beside the first instead of over it.
"""

from __future__ import annotations

import dataclasses
import json
import os
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ses_feedback_stack.names import LocalStack
from ses_feedback_stack.template import REPO_ROOT

STACKS_PATH = "/_local/stacks/"
STATE_ROOT = REPO_ROOT / ".local"
_TIMEOUT = 5.0


@dataclass(frozen=True)
class LocalState:
    prefix: str
    pid: int
    endpoint: str  # the AWS endpoint (the moto server)
    port: int
    api_url: str  # the REST API, as the unsubscribe links name it
    api_port: int
    host: str
    env_file: str  # absolute


def state_dir(prefix: str) -> Path:
    return (STATE_ROOT / prefix).resolve()


def write_state(state: LocalState) -> Path:
    path = state_dir(state.prefix) / "state.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(dataclasses.asdict(state), indent=2) + "\n")
    return path


def remove_state(prefix: str) -> None:
    (state_dir(prefix) / "state.json").unlink(missing_ok=True)


def _stack_url(endpoint: str, prefix: str) -> str:
    return f"{endpoint.rstrip('/')}{STACKS_PATH}{urllib.parse.quote(prefix, safe='')}"


def record_api(endpoint: str, prefix: str, api_url: str) -> None:
    """Keep the REST API's address in the local stack (the moto server at ``endpoint``)."""
    request = urllib.request.Request(
        _stack_url(endpoint, prefix),
        data=json.dumps({"api_url": api_url}).encode(),
        method="PUT",
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=_TIMEOUT):
        pass


def recorded_api(endpoint: str, prefix: str) -> str | None:
    """The REST API address `local up` recorded for ``prefix`` at ``endpoint``; None when none is
    (no `local up` serves this stack: `local bootstrap`, or a moto server of a test)."""
    try:
        with urllib.request.urlopen(_stack_url(endpoint, prefix), timeout=_TIMEOUT) as response:
            answer: Any = json.loads(response.read())
    except (OSError, ValueError):  # not found, no server there, not this emulator
        return None
    url = answer.get("api_url") if isinstance(answer, dict) else None
    return url if isinstance(url, str) and url else None


def served_stack(prefix: str) -> LocalStack:
    """The local stack ``prefix`` on ``AWS_ENDPOINT_URL``, with the REST API address its
    `local up` recorded as ``UnsubscribeBaseUrl`` (else the template's local default)."""
    stack = LocalStack(prefix=prefix)
    endpoint = os.environ.get("AWS_ENDPOINT_URL")
    api_url = recorded_api(endpoint, prefix) if endpoint else None
    if api_url:
        stack.parameters["UnsubscribeBaseUrl"] = api_url
    return stack
