"""Cold start: each handler module's import against a bare ``import boto3``.

Each figure is the median of 7 fresh interpreters, and the contenders are interleaved
round by round (boto3, then every function, then boto3 again …) so that the load of a
shared machine hits them alike: read the ratios, not the milliseconds. Each interpreter
imports its handler as Lambda's runtime does: ``python -S`` (nothing preloaded by site),
the function's CodeUri and the layer on ``sys.path``, the template's environment plus
the variables Lambda itself sets (X-Ray's too when the template's Tracing is Active), no
AWS credentials, no endpoint, and sockets that refuse to connect.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import sysconfig
from collections import defaultdict
from typing import Any

from ses_feedback_cli.local import LocalStack
from ses_feedback_cli.template import REPO_ROOT, function_source, functions

from tests.support.no_network import PRELUDE

RUNS = 7
TARGET_RATIO = 1.5
BOTO3 = "bare import boto3"

# Sockets refuse (PRELUDE), then the import is timed.
_CHILD = """
import time
started = time.perf_counter()
import {module}
print(time.perf_counter() - started)
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


def cold_import_seconds(logical_id: str | None) -> float:
    """One fresh interpreter's import of the function's handler module (or of boto3)."""
    command, environment, _ = _command(logical_id)
    done = subprocess.run(command, env=environment, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{logical_id or 'boto3'} did not import:\n{done.stderr[-2000:]}")
    return float(done.stdout.strip().splitlines()[-1])


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


def load_average() -> str:
    try:
        one, five, _ = os.getloadavg()
    except OSError:
        return "unknown"
    return f"{one:.2f} (1 min), {five:.2f} (5 min) on {os.cpu_count()} CPUs"


def run(endpoint: str) -> list[str]:
    del endpoint  # imports never reach the moto server: that is the point
    logical_ids = sorted(functions(LocalStack(prefix="coldstart").template))
    contenders: list[str | None] = [None, *logical_ids]
    samples: dict[str | None, list[float]] = {c: [] for c in contenders}
    load_before = load_average()
    for _ in range(RUNS):
        for contender in contenders:
            samples[contender].append(cold_import_seconds(contender))
    medians = {c: statistics.median(s) * 1000 for c, s in samples.items()}
    boto3_ms = medians[None]
    lines = [
        f"Cold start — handler module import vs {BOTO3}: median of {RUNS} fresh interpreters each, "
        "interleaved; template environment, no credentials, no network",
        f"load average before: {load_before}; after: {load_average()}",
        "",
        f"{'module':<26}{'median ms':>10}{'ratio':>8}  ≤ {TARGET_RATIO}x  heaviest packages (self ms)",
        f"{BOTO3:<26}{boto3_ms:>10.0f}{1:>8.2f}",
    ]
    for logical_id in logical_ids:
        ratio = medians[logical_id] / boto3_ms
        verdict = "ok  " if ratio <= TARGET_RATIO else "OVER"
        heavy = ", ".join(f"{name} {ms:.0f}" for name, ms in heaviest_packages(logical_id))
        lines.append(f"{logical_id:<26}{medians[logical_id]:>10.0f}{ratio:>8.2f}  {verdict}   {heavy}")
    spread = {c or BOTO3: f"{min(s) * 1000:.0f}-{max(s) * 1000:.0f}" for c, s in samples.items()}
    lines += ["", f"spread (min-max ms): {json.dumps(spread)}", ""]
    return lines


if __name__ == "__main__":
    print("\n".join(run("")))
    sys.exit(0)
