"""What a running `local up` leaves for the other commands: per stack (per ``--prefix``), and per
region within it (`local up --regions`).

Two records, each in the one place its readers look:

- **in the local stack**: each region's REST API address and its stack's parameters, kept by the
  moto server it serves (``/_local/stacks/<region>/<prefix>``, emptied by moto's reset), so
  that every local send (``send``, ``local invoke``, the local API) builds unsubscribe links to
  where that region's API really listens, whichever shell it runs in, as ``UnsubscribeBaseUrl``
  does when deployed, and a command run with ``--region`` works on that region's stack (a
  replica-region stack's HomeRegion and Home* parameters included);
- **on disk**, under ``.local/<prefix>/`` with absolute paths: the ``--env-vars`` file for
  ``sam local invoke`` (``env.json``, the home region's; ``env.<region>.json`` for the others)
  and ``state.json`` (pid, endpoint, ports, REST API, env file: the home region's, and every
  region's under ``regions``), so that a second stack (another ``--prefix``) writes beside the
  first instead of over it.
"""

from __future__ import annotations

import dataclasses
import json
import os
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ses_feedback_stack.names import LocalStack, region
from ses_feedback_stack.template import REPO_ROOT

STACKS_PATH = "/_local/stacks/"
STATE_ROOT = REPO_ROOT / ".local"
_TIMEOUT = 5.0


@dataclass(frozen=True)
class RegionState:
    """One region's stack of a `local up`."""

    api_url: str
    api_port: int
    env_file: str  # absolute


@dataclass(frozen=True)
class LocalState:
    prefix: str
    pid: int
    endpoint: str  # the AWS endpoint (the moto server)
    port: int
    api_url: str  # the home region's REST API, as the unsubscribe links name it
    api_port: int
    host: str
    env_file: str  # absolute
    home_region: str = ""
    regions: dict[str, RegionState] = field(default_factory=dict)  # home first
    replication_lag_seconds: float = 0.0


def state_dir(prefix: str) -> Path:
    return (STATE_ROOT / prefix).resolve()


def write_state(state: LocalState) -> Path:
    path = state_dir(state.prefix) / "state.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(dataclasses.asdict(state), indent=2) + "\n")
    return path


def remove_state(prefix: str) -> None:
    (state_dir(prefix) / "state.json").unlink(missing_ok=True)


def _stack_url(endpoint: str, prefix: str, region_name: str) -> str:
    quoted = "/".join(urllib.parse.quote(part, safe="") for part in (region_name, prefix))
    return f"{endpoint.rstrip('/')}{STACKS_PATH}{quoted}"


def record_stack(endpoint: str, stack: LocalStack, api_url: str) -> None:
    """Keep the stack's REST API address and parameters in the local stack (the moto server at
    ``endpoint``)."""
    request = urllib.request.Request(
        _stack_url(endpoint, stack.prefix, stack.region),
        data=json.dumps({"api_url": api_url, "parameters": stack.parameters}).encode(),
        method="PUT",
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=_TIMEOUT):
        pass


def recorded_stack(endpoint: str, prefix: str, region_name: str) -> dict[str, Any] | None:
    """What `local up` recorded for ``prefix`` in ``region_name`` at ``endpoint``; None when none is
    (no `local up` serves this stack: `local bootstrap`, or a moto server of a test)."""
    try:
        with urllib.request.urlopen(_stack_url(endpoint, prefix, region_name), timeout=_TIMEOUT) as response:
            answer: Any = json.loads(response.read())
    except (OSError, ValueError):  # not found, no server there, not this emulator
        return None
    return answer if isinstance(answer, dict) else None


def served_stack(prefix: str, region_name: str | None = None) -> LocalStack:
    """The local stack ``prefix`` in ``region_name`` (default: the environment's) on
    ``AWS_ENDPOINT_URL``, with the parameters its `local up` recorded (a replica-region stack's
    HomeRegion …) and its REST API address as ``UnsubscribeBaseUrl`` (else the template's local
    default)."""
    stack = LocalStack(prefix=prefix, region=region_name or region())
    endpoint = os.environ.get("AWS_ENDPOINT_URL")
    record = recorded_stack(endpoint, prefix, stack.region) if endpoint else None
    if record is None:
        return stack
    parameters = record.get("parameters")
    if isinstance(parameters, dict):
        stack.parameters = {str(k): str(v) for k, v in parameters.items()}
    api_url = record.get("api_url")
    if isinstance(api_url, str) and api_url:
        stack.parameters["UnsubscribeBaseUrl"] = api_url
    return stack
