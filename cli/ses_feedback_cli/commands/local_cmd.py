"""`ses-feedback local …`: the stack on a moto server (AWS_ENDPOINT_URL)."""

from __future__ import annotations

import argparse
import json
import os
import signal
import threading
import time
from pathlib import Path
from typing import Any

from ses_feedback_cli import motoserver
from ses_feedback_cli.local import (
    LocalStack,
    bootstrap,
    drain,
    load_handler,
    sam_env_vars,
    use_embedded_aws,
)
from ses_feedback_cli.output import print_json, say
from ses_feedback_cli.template import REPO_ROOT

# Docker Desktop's name for the host; on Linux add `--add-host host.docker.internal:host-gateway`.
CONTAINER_HOST = "host.docker.internal"


def cmd_bootstrap(args: argparse.Namespace) -> int:
    print_json(bootstrap(LocalStack(prefix=args.prefix)))
    return 0


def cmd_drain(args: argparse.Namespace) -> int:
    summary = drain(LocalStack(prefix=args.prefix), batch_size=args.batch_size)
    print_json(
        {
            "processed": summary.processed,
            "failed": summary.failed,
            "batches": summary.batches,
            "invocation_errors": summary.invocation_errors,
        }
    )
    return 0


def cmd_env_vars(args: argparse.Namespace) -> int:
    print_json(sam_env_vars(LocalStack(prefix=args.prefix), f"http://{CONTAINER_HOST}:{args.port}"))
    return 0


def cmd_up(args: argparse.Namespace) -> int:
    server = motoserver.start(port=args.port, host=args.host)
    endpoint = f"http://127.0.0.1:{server.port}"
    use_embedded_aws(endpoint)
    try:
        stack = LocalStack(prefix=args.prefix)
        resources = bootstrap(stack)
        env_file = REPO_ROOT / ".local" / "env.json"
        env_file.parent.mkdir(exist_ok=True)
        env_file.write_text(
            json.dumps(sam_env_vars(stack, f"http://{CONTAINER_HOST}:{server.port}"), indent=2) + "\n"
        )
        stop = threading.Event()
        worker = threading.Thread(target=_drain_forever, args=(stack, stop, args.interval), daemon=True)
        # Ctrl-C, and SIGTERM from a process manager, stop the server with us rather than
        # orphaning it; Python leaves SIGINT ignored when started as a background job. Set
        # before the banner says "Ctrl-C stops": a signal right after it must stop us cleanly.
        signal.signal(signal.SIGINT, signal.default_int_handler)
        signal.signal(signal.SIGTERM, signal.default_int_handler)
        try:
            _print_banner(endpoint, resources, env_file)
            worker.start()
            while worker.is_alive():
                worker.join(timeout=0.5)
        except KeyboardInterrupt:
            say("stopping")
        stop.set()
        if worker.ident is not None:  # started
            worker.join(timeout=10)
    finally:
        server.stop()
    return 0


def _print_banner(endpoint: str, resources: dict[str, str], env_file: Path) -> None:
    say(f"ses-feedback local stack on {endpoint} (an embedded AWS: moto, with SES event publishing)")
    say()
    for logical_id, value in resources.items():
        say(f"  {logical_id:<38} {value}")
    say()
    say("In another shell:")
    say(f"  export AWS_ENDPOINT_URL={endpoint} AWS_REGION=us-east-1")
    say("  export AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing")
    say("  ses-feedback send --from noreply@example.com --to bounce@simulator.amazonses.com \\")
    say("      --subject Hi --text Hello")
    say("  ses-feedback suppressions get bounce@simulator.amazonses.com")
    say()
    say("With Docker (the server must listen where a container reaches it: `local up --host 0.0.0.0`):")
    say(
        "  sam build && sam local invoke FeedbackFunction "
        f"--event events/feedback/sqs_bounce_permanent.json --env-vars {os.path.relpath(env_file)}"
    )
    say()
    say("Feedback is drained continuously, as Lambda's event source mapping would. Ctrl-C stops.")


def _drain_forever(stack: LocalStack, stop: threading.Event, interval: float) -> None:
    handler = load_handler(stack, "FeedbackFunction")
    while not stop.is_set():
        summary = drain(stack, handler=handler)
        if summary.processed or summary.failed:
            say(
                f"{time.strftime('%H:%M:%S')} feedback applied: {summary.processed}, failed: {summary.failed}"
            )
        stop.wait(interval)


def register(commands: Any) -> None:
    local = commands.add_parser("local", help="local mode on a moto server (AWS_ENDPOINT_URL)")
    local_commands = local.add_subparsers(dest="local_command", required=True)
    local_commands.add_parser(
        "bootstrap", help="create the template's resources; print logical ID → name/ARN/URL as JSON"
    ).set_defaults(func=cmd_bootstrap)
    drain_parser = local_commands.add_parser(
        "drain", help="run FeedbackFunction over the feedback queue until empty"
    )
    drain_parser.add_argument("--batch-size", type=int, default=None, help="default: the template's")
    drain_parser.set_defaults(func=cmd_drain)
    up = local_commands.add_parser(
        "up", help="start a moto server, bootstrap, drain continuously; Ctrl-C stops"
    )
    up.add_argument(
        "--port", type=int, default=5000, help="default: %(default)s (events/env.json expects it)"
    )
    up.add_argument("--host", default=motoserver.LOOPBACK, help="listen address (default: %(default)s)")
    up.add_argument(
        "--interval", type=float, default=0.5, help="seconds between drains (default: %(default)s)"
    )
    up.set_defaults(func=cmd_up)
    env_vars = local_commands.add_parser("env-vars", help="print the --env-vars file for sam local invoke")
    env_vars.add_argument("--port", type=int, default=5000)
    env_vars.set_defaults(func=cmd_env_vars)
