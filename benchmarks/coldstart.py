"""Cold start: each handler module's import against a bare ``import boto3``, and the first request.

Each figure is the median of 7 fresh interpreters, and the contenders are interleaved
round by round (boto3, then every function, then boto3 again …) so that the load of a
shared machine hits them alike: read the ratios, not the milliseconds. The ratio is of CPU
time (the interpreter's own, which waiting for a busy core does not inflate); wall time is
shown beside it. Each interpreter
imports its handler as Lambda's runtime does: ``python -S`` (nothing preloaded by site),
the function's CodeUri and the layer on ``sys.path``, the template's environment plus
the variables Lambda itself sets (X-Ray's too when the template's Tracing is Active), no
AWS credentials, no endpoint, and sockets that refuse to connect.

What an import leaves out, the first request loads (boto3 and its clients, email-validator,
X-Ray when tracing is on): so the second table times the whole cold start against the moto
server, import + first request, and a warm request after it in the same interpreter, with
the peak memory that container reached (what MemorySize must hold).
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import sysconfig
from collections import defaultdict
from collections.abc import Callable
from typing import Any

from ses_feedback_stack.names import LocalStack
from ses_feedback_stack.template import REPO_ROOT, function_source, functions

from tests.support.no_network import PRELUDE

RUNS = 7
TARGET_RATIO = 1.5
BOTO3 = "bare import boto3"

# Sockets refuse (PRELUDE), then the import is timed.
_CHILD = """
import time
started, started_cpu = time.perf_counter(), time.process_time()
import {module}
print(time.process_time() - started_cpu, time.perf_counter() - started)
"""


def lambda_environment(logical_id: str | None) -> dict[str, str]:
    """What a Lambda container of this function has in its environment before the import.

    ``None``: the same container with no function (the bare boto3 contender).
    """
    stack = LocalStack(prefix="coldstart")
    template = stack.template
    settings: dict[str, Any] = template.get("Globals", {}).get("Function", {})
    environment = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "LANG": "C.UTF-8",
        "TZ": ":UTC",
        "AWS_REGION": "us-east-1",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_EXECUTION_ENV": "AWS_Lambda_python3.13",
        "LAMBDA_RUNTIME_DIR": "/var/runtime",
        "PYTHONDONTWRITEBYTECODE": "",
    }
    if logical_id is None:
        return environment
    properties = {**settings, **template["Resources"][logical_id]["Properties"]}
    code_dir, module, function = function_source(template, logical_id)
    environment.update(
        {
            "AWS_LAMBDA_FUNCTION_NAME": logical_id,
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(properties.get("MemorySize", 128)),
            "LAMBDA_TASK_ROOT": str(code_dir),
            "_HANDLER": f"{module}.{function}",
            **stack.function_environment(logical_id),
        }
    )
    if properties.get("Tracing") == "Active":
        # Lambda's X-Ray daemon address and context mode (the trace header comes per request).
        environment.update(
            {
                "AWS_XRAY_DAEMON_ADDRESS": "169.254.79.129:2000",
                "AWS_XRAY_CONTEXT_MISSING": "LOG_ERROR",
                "_AWS_XRAY_DAEMON_ADDRESS": "169.254.79.129",
                "_AWS_XRAY_DAEMON_PORT": "2000",
            }
        )
    return environment


def _command(logical_id: str | None, importtime: bool = False) -> tuple[list[str], dict[str, str], str]:
    site_packages = sysconfig.get_paths()["purelib"]
    layer = str(REPO_ROOT / "layers" / "common")
    if logical_id is None:
        paths, module = [layer, site_packages], "boto3"
    else:
        code_dir, module, _ = function_source(LocalStack(prefix="coldstart").template, logical_id)
        paths = [str(code_dir), layer, site_packages]
    environment = {**lambda_environment(logical_id), "PYTHONPATH": os.pathsep.join(paths)}
    flags = ["-S", "-B", *(["-X", "importtime"] if importtime else [])]
    return [sys.executable, *flags, "-c", PRELUDE + _CHILD.format(module=module)], environment, module


def cold_import_seconds(logical_id: str | None) -> tuple[float, float]:
    """One fresh interpreter's import of the function's handler module (or of boto3): CPU, wall."""
    command, environment, _ = _command(logical_id)
    done = subprocess.run(command, env=environment, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{logical_id or 'boto3'} did not import:\n{done.stderr[-2000:]}")
    cpu, wall = done.stdout.strip().splitlines()[-1].split()
    return float(cpu), float(wall)


def heaviest_packages(logical_id: str, top: int = 5) -> list[tuple[str, float]]:
    """`python -X importtime` of one fresh import, self time summed per top-level package (ms)."""
    command, environment, _ = _command(logical_id, importtime=True)
    done = subprocess.run(command, env=environment, capture_output=True, text=True, check=True)
    totals: dict[str, float] = defaultdict(float)
    for line in done.stderr.splitlines():
        if not line.startswith("import time:") or "self [us]" in line:
            continue
        self_us, _, name = line.removeprefix("import time:").split("|")
        totals[name.strip().split(".")[0]] += int(self_us) / 1000
    return sorted(totals.items(), key=lambda kv: -kv[1])[:top]


# The first request of a new container, then a warm one; stdout's last line is the figures.
_FIRST_REQUEST = """
import json, sys, time
events = json.loads(sys.stdin.read())

class Context:
    function_name = {function!r}
    function_version = "$LATEST"
    memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:" + function_name
    aws_request_id = "cold-start-benchmark"
    log_group_name = log_stream_name = "cold-start-benchmark"
    client_context = identity = None

    def get_remaining_time_in_millis(self):
        return 30000

started = time.perf_counter()
import {module}
imported = time.perf_counter()
{before_first}
{module}.{handler}(events[0], Context())
first = time.perf_counter()
{module}.{handler}(events[1], Context())
second = time.perf_counter()
# This image's peak RSS (kB). Not ru_maxrss: Linux keeps it across exec, so it would report the
# benchmark process that started this interpreter when that one is larger.
with open("/proc/self/status") as status:
    peak_mb = next(int(line.split()[1]) for line in status if line.startswith("VmHWM:")) / 1024
print(json.dumps([imported - started, first - imported, second - first, peak_mb]))
"""


def _events(logical_id: str, n: int) -> list[dict[str, Any]]:
    """Two requests for the function (new addresses each time, so no cache answers them)."""
    from benchmarks.sender import _request  # noqa: PLC0415
    from tests.support import ses_events  # noqa: PLC0415
    from tests.support.api_events import rest_event  # noqa: PLC0415

    builders: dict[str, Callable[[int], dict[str, Any]]] = {
        "FeedbackFunction": lambda k: ses_events.sqs_event(ses_events.bounce([f"cold{n}-{k}@example.com"])),
        "SenderFunction": lambda k: _request(n * 10 + k, idempotent=False),
        "SuppressionsApiFunction": lambda k: rest_event("GET", f"/suppressions/cold{n}-{k}@example.com"),
        # EventBridge's scheduled event: the function reads nothing from it.
        "SuppressionSyncFunction": lambda k: {"source": "aws.events", "detail-type": "Scheduled Event"},
    }
    return [builders[logical_id](0), builders[logical_id](1)]


FIRST_REQUEST_FUNCTIONS = [
    "FeedbackFunction",
    "SenderFunction",
    "SuppressionsApiFunction",
    "SuppressionSyncFunction",
]

# SuppressionSyncFunction reads SES's account-level list, and moto has no
# ListSuppressedDestinations: botocore's Stubber answers that one call on the real sesv2
# client the function builds (its DynamoDB writes still go to the moto server). The stub is
# installed inside the timed first request, on the client as the function builds it, so
# client creation stays in the figure; importing botocore.stub and queueing the canned pages
# are counted too (the figure errs high, not low). Each request reads two pages of
# SYNC_ENTRIES / 2 new addresses, bounces and complaints.
SYNC_ENTRIES = 40
_STUB_SES_ACCOUNT_LIST = """
from datetime import datetime, timezone
from botocore.stub import Stubber
from ses_feedback.edges import ses_account

def _page(request, page, last):
    half = {entries} // 2
    summaries = [
        {{
            "EmailAddress": f"sync{run}-{{request}}-{{page * half + k}}@example.com",
            "Reason": "BOUNCE" if k % 2 else "COMPLAINT",
            "LastUpdateTime": datetime(2026, 11, 1, tzinfo=timezone.utc),
        }}
        for k in range(half)
    ]
    answer = {{"SuppressedDestinationSummaries": summaries}}
    if not last:
        answer["NextToken"] = f"{{request}}-{{page}}"
    return answer

_build = ses_account.SesAccountSuppressionList.client.fget

def _stubbed(self):
    if self._client is None:
        client = _build(self)
        stubber = Stubber(client)
        for request in (0, 1):
            stubber.add_response("list_suppressed_destinations", _page(request, 0, last=False))
            stubber.add_response("list_suppressed_destinations", _page(request, 1, last=True))
        stubber.activate()
    return self._client

ses_account.SesAccountSuppressionList.client = property(_stubbed)
"""


def first_request(logical_id: str, endpoint: str, n: int) -> list[float]:
    """[import s, first request s, warm request s, peak MB] in one fresh interpreter."""
    stack = LocalStack(prefix="coldstart")
    command, environment, module = _command(logical_id)
    _, _, handler = function_source(stack.template, logical_id)
    before_first = ""
    if logical_id == "SuppressionSyncFunction":
        before_first = _STUB_SES_ACCOUNT_LIST.format(entries=SYNC_ENTRIES, run=n)
    code = _FIRST_REQUEST.format(
        function=logical_id, module=module, handler=handler, before_first=before_first
    )
    environment |= {
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        # No X-Ray daemon here: with tracing on, the first request would also import the SDK.
        "POWERTOOLS_TRACE_DISABLED": "true",
    }
    done = subprocess.run(
        [*command[:-2], "-c", code],
        env=environment,
        input=json.dumps(_events(logical_id, n)),
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"{logical_id}: first request failed:\n{done.stderr[-2000:]}")
    figures: list[float] = json.loads(done.stdout.strip().splitlines()[-1])
    return figures


def load_average() -> str:
    try:
        one, five, _ = os.getloadavg()
    except OSError:
        return "unknown"
    return f"{one:.2f} (1 min), {five:.2f} (5 min) on {os.cpu_count()} CPUs"


def run(endpoint: str) -> list[str]:
    return imports() + first_requests(endpoint)


def imports() -> list[str]:
    logical_ids = sorted(functions(LocalStack(prefix="coldstart").template))
    contenders: list[str | None] = [None, *logical_ids]
    samples: dict[str | None, list[tuple[float, float]]] = {c: [] for c in contenders}
    load_before = load_average()
    for _ in range(RUNS):
        for contender in contenders:
            samples[contender].append(cold_import_seconds(contender))
    medians = {c: statistics.median(cpu for cpu, _ in s) * 1000 for c, s in samples.items()}
    walls = {c: statistics.median(wall for _, wall in s) * 1000 for c, s in samples.items()}
    boto3_ms = medians[None]
    lines = [
        f"Cold start — handler module import vs {BOTO3}: median of {RUNS} fresh interpreters each, "
        "interleaved; template environment, no credentials, no network",
        f"load average before: {load_before}; after: {load_average()}",
        "",
        f"{'module':<26}{'CPU ms':>8}{'ratio':>7}  ≤ {TARGET_RATIO}x{'wall ms':>9}  "
        "heaviest packages (self ms)",
        f"{BOTO3:<26}{boto3_ms:>8.0f}{1:>7.2f}{walls[None]:>17.0f}",
    ]
    for logical_id in logical_ids:
        ratio = medians[logical_id] / boto3_ms
        verdict = "ok  " if ratio <= TARGET_RATIO else "OVER"
        heavy = ", ".join(f"{name} {ms:.0f}" for name, ms in heaviest_packages(logical_id))
        lines.append(
            f"{logical_id:<26}{medians[logical_id]:>8.0f}{ratio:>7.2f}  {verdict}"
            f"{walls[logical_id]:>11.0f}  {heavy}"
        )
    spread = {
        c or BOTO3: f"{min(t for t, _ in s) * 1000:.0f}-{max(t for t, _ in s) * 1000:.0f}"
        for c, s in samples.items()
    }
    lines += ["", f"spread of CPU ms (min-max): {json.dumps(spread)}", ""]
    return lines


def first_requests(endpoint: str) -> list[str]:
    from ses_feedback_emulator.bootstrap import bootstrap  # noqa: PLC0415

    stack = LocalStack(prefix="coldstart")
    bootstrap(stack)
    logical_ids = FIRST_REQUEST_FUNCTIONS
    samples: dict[str, list[list[float]]] = {logical_id: [] for logical_id in logical_ids}
    load_before = load_average()
    for n in range(RUNS):
        for logical_id in logical_ids:
            samples[logical_id].append(first_request(logical_id, endpoint, n))
    lines = [
        f"Cold start to the first answer — fresh interpreter against the moto server, median of {RUNS}, "
        "interleaved; tracing off",
        f"load average before: {load_before}; after: {load_average()}",
        "",
        f"{'function':<26}{'import ms':>10}{'1st request':>12}{'cold total':>11}{'warm request':>13}"
        f"{'peak MB':>9}",
    ]
    for logical_id, runs in samples.items():
        imported, first, warm, peak = (statistics.median(column) for column in zip(*runs, strict=True))
        lines.append(
            f"{logical_id:<26}{imported * 1000:>10.0f}{first * 1000:>12.0f}{(imported + first) * 1000:>11.0f}"
            f"{warm * 1000:>13.1f}{peak:>9.0f}"
        )
    return [*lines, ""]
