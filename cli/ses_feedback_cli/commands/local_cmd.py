"""`ses-feedback local …`: the stack on a moto server (AWS_ENDPOINT_URL)."""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import signal
import sys
import threading
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ses_feedback_emulator import invoke as local_invoke
from ses_feedback_emulator import mailbox as local_mailbox
from ses_feedback_emulator import motoserver
from ses_feedback_emulator import state as local_state
from ses_feedback_emulator.api import DEFAULT_API_PORT, LOCAL_CALLER, LocalApi, local_verifier
from ses_feedback_emulator.bootstrap import bootstrap, sam_env_vars, use_embedded_aws
from ses_feedback_emulator.eventbridge import EVENTS_PATH
from ses_feedback_emulator.instances import DEFAULT_CONCURRENCY
from ses_feedback_emulator.lambdas import drain, load_handler
from ses_feedback_emulator.pollers import QueuePoller
from ses_feedback_emulator.replication import DEFAULT_LAG_SECONDS, Replicator, replicate_global_tables
from ses_feedback_stack.names import LocalStack, region, regional_stacks

from ses_feedback_cli.arguments import (
    email_address,
    port_number,
    positive_rate,
    region_names,
    seconds,
    seconds_above_zero,
    whole_number,
)
from ses_feedback_cli.output import answer_stream, error, print_json, say

# Docker Desktop's name for the host; on Linux add `--add-host host.docker.internal:host-gateway`.
CONTAINER_HOST = "host.docker.internal"


def cmd_bootstrap(args: argparse.Namespace) -> int:
    print_json(bootstrap(local_state.served_stack(args.prefix)))
    return 0


def cmd_drain(args: argparse.Namespace) -> int:
    stack = local_state.served_stack(args.prefix)
    if not stack.present("FeedbackFunction"):
        home = stack.parameters["HomeRegion"]
        error(f"{stack.region} drains no feedback: its topic delivers to the home region's queue ({home})")
        return 1
    summary = drain(stack, batch_size=args.batch_size)
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
    regions: tuple[str, ...] = args.regions or (region(),)
    # The home region's REST API on --api-port, each other region's on the next ports, in order.
    api_ports = [args.api_port + index for index in range(len(regions))]
    refused = _refuse_options(args, regions, api_ports)
    if refused is not None:
        return refused
    lag = DEFAULT_LAG_SECONDS if args.replication_lag is None else args.replication_lag
    server = motoserver.start(port=args.port, host=args.host, max_send_rate=args.max_send_rate)
    endpoint = f"http://127.0.0.1:{server.port}"
    use_embedded_aws(endpoint)
    # This process works in the home region (the drain, the handlers it loads).
    os.environ["AWS_REGION"] = os.environ["AWS_DEFAULT_REGION"] = regions[0]
    apis: list[LocalApi] = []
    pollers: list[QueuePoller] = []
    replicators: list[Replicator] = []
    stacks = regional_stacks(args.prefix, regions)
    home = stacks[0]
    try:
        # The home first: its global table has a replica in each other region.
        resources = {stack.region: bootstrap(stack) for stack in stacks}
        for stack, port in zip(stacks, api_ports, strict=True):
            api = LocalApi(
                stack,
                local_verifier(endpoint, stack.region),
                host=args.host,
                port=port,
                concurrency=args.concurrency,
            )
            api.start()
            apis.append(api)
            # Batches are sent as Lambda would send them: BulkSenderFunction's event source, with
            # its maximum concurrency, each instance pacing itself at its share of the local rate.
            if stack.present("BulkSenderFunction"):
                pollers.append(QueuePoller(stack, "BulkSenderFunction", interval=args.interval).start())
        replicators = replicate_global_tables(home, lag)
        served = _Served(stacks, apis, endpoint, server.port, lag)
        env_files = _record(args, served)
        stop = threading.Event()
        # Only the home region drains feedback: every region's topic delivers to its queue.
        worker = threading.Thread(target=_drain_forever, args=(home, stop, args.interval), daemon=True)
        # Ctrl-C, and SIGTERM from a process manager, stop the server with us rather than
        # orphaning it; Python leaves SIGINT ignored when started as a background job. Set
        # before the banner says "Ctrl-C stops": a signal right after it must stop us cleanly.
        signal.signal(signal.SIGINT, signal.default_int_handler)
        signal.signal(signal.SIGTERM, signal.default_int_handler)
        try:
            _print_banner(served, resources, env_files, args.max_send_rate)
            worker.start()
            while worker.is_alive():
                worker.join(timeout=0.5)
        except KeyboardInterrupt:
            say("stopping")
        stop.set()
        if worker.ident is not None:  # started
            worker.join(timeout=10)
    finally:
        for replicator in replicators:
            replicator.stop()
        for poller in pollers:
            poller.stop()
        local_state.remove_state(args.prefix)
        for api in apis:
            api.stop()
        server.stop()
    return 0


def _refuse_options(args: argparse.Namespace, regions: tuple[str, ...], api_ports: list[int]) -> int | None:
    """Checked first, so that the refusal names the option before anything starts (the moto
    server would only fail to bind, and the API server after the stack was bootstrapped)."""
    if args.replication_lag is not None and len(regions) < 2:
        error("--replication-lag: only with --regions naming two regions or more", code="invalid_request")
        return 2
    if api_ports[-1] > 65535:
        error(f"--api-port {args.api_port}: {len(regions)} regions need the ports up to {api_ports[-1]}")
        return 2
    if args.port == args.api_port:
        error(
            f"--port and --api-port are both {args.port}: the AWS endpoint and the REST API need a port each",
            code="invalid_request",
        )
        return 2
    if args.port in api_ports:
        error(
            f"--port {args.port} is also a REST API's port ({_api_ports_text(regions, api_ports)}: "
            "--api-port and the next ports, one per region): the AWS endpoint needs a port of its own",
            code="invalid_request",
        )
        return 2
    options = [("--port", args.port)] + [
        (_api_port_option(i, regions), port) for i, port in enumerate(api_ports)
    ]
    for option, port in options:
        problem = motoserver.bind_problem(args.host, port)
        if problem == motoserver.IN_USE:
            error(
                f"{option} {port}: {args.host}:{port} is already in use (another `ses-feedback local up`?): "
                f"stop it, or choose another {option.split(' ')[0]}"
            )
            return 1
        if problem:
            error(f"--host {args.host}: {problem}", code="invalid_request")
            return 2
    return None


def _api_port_option(index: int, regions: tuple[str, ...]) -> str:
    return "--api-port" if index == 0 else f"--api-port (+{index}, {regions[index]}'s REST API)"


def _api_ports_text(regions: tuple[str, ...], ports: list[int]) -> str:
    return ", ".join(f"{name} {port}" for name, port in zip(regions, ports, strict=True))


@dataclass(frozen=True)
class _Served:
    """What a `local up` serves: a stack and its REST API per region (the home first), on one AWS."""

    stacks: list[LocalStack]
    apis: list[LocalApi]
    endpoint: str
    port: int
    lag: float  # seconds until a replica has a write made at home


def _record(args: argparse.Namespace, served: _Served) -> dict[str, Path]:
    """What this `local up` serves, for the other commands (state.py): each region's REST API
    address and parameters in the local stack; the env-vars files and state.json under
    .local/<prefix>/. Returns each region's env-vars file."""
    stacks, apis, endpoint, port = served.stacks, served.apis, served.endpoint, served.port
    env_files: dict[str, Path] = {}
    for index, (stack, api) in enumerate(zip(stacks, apis, strict=True)):
        local_state.record_stack(endpoint, stack, api.url)
        name = "env.json" if index == 0 else f"env.{stack.region}.json"
        env_file = local_state.state_dir(stack.prefix) / name
        env_file.parent.mkdir(parents=True, exist_ok=True)
        # In a container, this machine is CONTAINER_HOST: for AWS and for the unsubscribe links.
        in_container = dataclasses.replace(
            stack,
            parameters={**stack.parameters, "UnsubscribeBaseUrl": f"http://{CONTAINER_HOST}:{api.port}"},
        )
        env_file.write_text(
            json.dumps(sam_env_vars(in_container, f"http://{CONTAINER_HOST}:{port}"), indent=2) + "\n"
        )
        env_files[stack.region] = env_file
    home, api = stacks[0], apis[0]
    local_state.write_state(
        local_state.LocalState(
            prefix=home.prefix,
            pid=os.getpid(),
            endpoint=endpoint,
            port=port,
            api_url=api.url,
            api_port=api.port,
            host=args.host,
            env_file=str(env_files[home.region]),
            home_region=home.region,
            regions={
                stack.region: local_state.RegionState(
                    api_url=each.url, api_port=each.port, env_file=str(env_files[stack.region])
                )
                for stack, each in zip(stacks, apis, strict=True)
            },
            replication_lag_seconds=served.lag if len(stacks) > 1 else 0.0,
        )
    )
    return env_files


def _print_banner(
    served: _Served,
    resources: dict[str, dict[str, str]],
    env_files: dict[str, Path],
    max_send_rate: float | None,
) -> None:
    stacks, apis, endpoint, lag = served.stacks, served.apis, served.endpoint, served.lag
    home, api = stacks[0], apis[0]
    say(f"ses-feedback local stack on {endpoint} (an embedded AWS: moto, with SES event publishing)")
    if len(stacks) > 1:
        others = ", ".join(stack.region for stack in stacks[1:])
        say(
            f"regions: {home.region} (home: the suppression table, the feedback queue), replicas {others}; "
            f"the table replicates {lag:g}s after each write"
        )
    if max_send_rate:
        say(f"the local SES sends at most {max_send_rate:g} messages a second (above: Throttling)")
    for stack in stacks:
        say()
        if len(stacks) > 1:
            say(f"{stack.region} ({'home' if stack is home else 'replica region'}):")
        for logical_id, value in resources[stack.region].items():
            say(f"  {logical_id:<38} {value}")
    say()
    say(f"REST API (the template's RestApi) on {api.url}:")
    for route in sorted(api.routes, key=lambda r: (r.resource, r.method)):
        say(f"  {route.method:<7} {api.url}{route.resource:<40} → {route.function}")
    for stack, other in zip(stacks[1:], apis[1:], strict=True):
        say(f"  {stack.region}'s REST API on {other.url}: {len(other.routes)} routes, the same paths")
    say(f"  unsigned requests are served as {LOCAL_CALLER.user_arn}")
    say(
        f"  SigV4-signed ones (service execute-api, key {api.verifier.access_key}) as "
        f"{api.verifier.signer.user_arn}, each API in its own region"
    )
    say(f"  each function: up to {api.concurrency} instances, one request at a time each")
    say()
    say("In another shell:")
    say(f"  curl -s -X POST {api.url}/messages -H 'Content-Type: application/json' \\")
    say(
        """    -d '{"from": "noreply@example.com", "to": ["bounce@simulator.amazonses.com"], """
        """"subject": "Hi", "text": "Hello"}'"""
    )
    # Both region variables: the AWS CLI and boto3 in the reader's own code read AWS_DEFAULT_REGION.
    say(f"  export AWS_ENDPOINT_URL={endpoint} AWS_REGION={home.region} AWS_DEFAULT_REGION={home.region}")
    say("  export AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing")
    say("  ses-feedback local mailbox                                    # what the local SES accepted")
    say("  ses-feedback local events                                     # what the stack published")
    say("  ses-feedback suppressions get bounce@simulator.amazonses.com")
    if len(stacks) > 1:
        say(f"  ses-feedback --region {stacks[1].region} suppressions list             # another region's")
    say()
    say("With Docker (the server must listen where a container reaches it: `local up --host 0.0.0.0`):")
    say(
        "  sam build && sam local invoke FeedbackFunction "
        f"--event events/feedback/sqs_bounce_permanent.json --env-vars {env_files[home.region]}"
    )
    say()
    endpoints = "  ".join(
        f"REST API {other.url}" + (f" ({stack.region})" if len(stacks) > 1 else "")
        for stack, other in zip(stacks, apis, strict=True)
    )
    say(f"Endpoints: AWS {endpoint}  {endpoints}")
    say("Feedback is drained and batches are sent continuously, as Lambda's event source mappings would.")
    say("Ctrl-C stops.")


def cmd_mailbox(args: argparse.Namespace) -> int:
    endpoint = args.endpoint or os.environ.get("AWS_ENDPOINT_URL") or "http://127.0.0.1:5000"
    try:
        messages = local_mailbox.fetch(endpoint)
    except OSError as exc:
        error(f"no local SES answers at {endpoint} ({exc}); is `ses-feedback local up` running?")
        return 1
    except ValueError as exc:  # not a URL
        error(f"--endpoint {endpoint}: {exc}", code="invalid_request")
        return 2
    # Each region's SES is its own: the messages of the command's region (--region).
    messages = local_mailbox.accepted_in(messages, region())
    if args.to:
        messages = local_mailbox.addressed_to(messages, args.to)
    if args.json:
        print_json(messages)
        return 0
    if not messages:
        say("no messages" + (f" to {args.to}" if args.to else ""))
    for message in messages:
        for line in local_mailbox.describe(message):
            say(line)
        say()
    return 0


def cmd_events(args: argparse.Namespace) -> int:
    """What the stack published on its buses, oldest first (the local EventBridge keeps it)."""
    endpoint = args.endpoint or os.environ.get("AWS_ENDPOINT_URL") or "http://127.0.0.1:5000"
    try:
        with urllib.request.urlopen(f"{endpoint.rstrip('/')}{EVENTS_PATH}", timeout=10) as response:
            events: list[dict[str, Any]] = json.loads(response.read())
    except OSError as exc:
        error(f"no local EventBridge answers at {endpoint} ({exc}); is `ses-feedback local up` running?")
        return 1
    if args.json:
        print_json(events)
        return 0
    if not events:
        say("no events")
    for event in events:
        detail = event["detail"]
        about = detail.get("address") or detail.get("address_hash") or detail.get("webhook_id") or "-"
        when, app = detail.get("occurred_at", "-"), detail.get("app") or "-"
        say(f"{when}  {event['detail-type']:<24} {about}  app {app}")
    return 0


def cmd_invoke(args: argparse.Namespace) -> int:
    stack = local_state.served_stack(args.prefix)
    try:
        event = local_invoke.read_json(Path(args.event), local_invoke.MAX_EVENT_BYTES, "event file")
        overrides: dict[str, str] = {}
        if args.env_vars:
            document = local_invoke.read_json(
                Path(args.env_vars), local_invoke.MAX_ENV_VARS_BYTES, "env-vars file"
            )
            overrides, ignored = local_invoke.env_var_overrides(stack, args.function, document)
            if ignored:
                print(
                    f"ignored from {args.env_vars} (not in {args.function}'s environment in the template, "
                    f"as sam local invoke ignores them): {', '.join(ignored)}",
                    file=sys.stderr,
                )
        print(f"Invoking {args.function} (in this process, no container)", file=sys.stderr, flush=True)
        invocation = local_invoke.invoke(stack, args.function, event, overrides)
    except local_invoke.InvokeInputError as exc:
        error(str(exc))
        return 2
    for line in local_invoke.report_lines(invocation):
        print(line, file=sys.stderr, flush=True)
    answer_stream().write(json.dumps(invocation.result) + "\n")
    answer_stream().flush()
    return 1 if invocation.failed else 0


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
    drain_parser.add_argument(
        "--batch-size", type=whole_number(1, 10), default=None, help="default: the template's"
    )
    drain_parser.set_defaults(func=cmd_drain)
    up = local_commands.add_parser(
        "up", help="start a moto server, bootstrap, drain continuously; Ctrl-C stops"
    )
    up.add_argument(
        "--port", type=port_number, default=5000, help="default: %(default)s (events/env.json expects it)"
    )
    up.add_argument("--host", default=motoserver.LOOPBACK, help="listen address (default: %(default)s)")
    up.add_argument(
        "--interval",
        type=seconds_above_zero,
        default=0.5,
        help="seconds between drains (default: %(default)s)",
    )
    up.add_argument(
        "--api-port",
        type=port_number,
        default=DEFAULT_API_PORT,
        help="the REST API's port (default: %(default)s, as sam local start-api)",
    )
    up.add_argument(
        "--concurrency",
        type=whole_number(1, 64),
        default=DEFAULT_CONCURRENCY,
        help="instances per function serving the REST API, each one request at a time (default: %(default)s)",
    )
    up.add_argument(
        "--max-send-rate",
        type=positive_rate,
        default=None,
        help="the local SES answers Throttling above this many messages a second, and GetAccount "
        "reports it as MaxSendRate (default: no limit, MaxSendRate 14)",
    )
    up.add_argument(
        "--regions",
        type=region_names,
        metavar="HOME,REGION…",
        help="run a stack in each region, the first the home (the suppression table, the feedback "
        "queue), the others replica regions (default: one region, --region's)",
    )
    up.add_argument(
        "--replication-lag",
        type=seconds(3600, zero=True),
        metavar="SECONDS",
        help=f"with --regions: how long after a write at home each replica has it "
        f"(default: {DEFAULT_LAG_SECONDS:g}, DynamoDB's typical figure)",
    )
    up.set_defaults(func=cmd_up)
    mailbox = local_commands.add_parser(
        "mailbox", help="every message the local SES accepted, oldest first (AWS_ENDPOINT_URL)"
    )
    mailbox.add_argument(
        "--to", type=email_address, help="only messages with this address among to, cc or bcc"
    )
    mailbox.add_argument("--json", action="store_true", help="print the messages as JSON")
    mailbox.add_argument("--endpoint", help="the moto server (default: AWS_ENDPOINT_URL, else :5000)")
    mailbox.set_defaults(func=cmd_mailbox)
    events = local_commands.add_parser(
        "events", help="every event the stack published on its bus, oldest first (AWS_ENDPOINT_URL)"
    )
    events.add_argument("--json", action="store_true", help="print the EventBridge events as JSON")
    events.add_argument("--endpoint", help="the moto server (default: AWS_ENDPOINT_URL, else :5000)")
    events.set_defaults(func=cmd_events)
    invoke = local_commands.add_parser(
        "invoke", help="run one function with an event, as sam local invoke does (no Docker)"
    )
    invoke.add_argument("function", help="the function's logical id in template.yaml")
    invoke.add_argument("--event", "-e", required=True, help="the event file (see events/)")
    invoke.add_argument("--env-vars", "-n", help="a sam --env-vars file: Parameters and per-function values")
    invoke.set_defaults(func=cmd_invoke)
    env_vars = local_commands.add_parser("env-vars", help="print the --env-vars file for sam local invoke")
    env_vars.add_argument("--port", type=port_number, default=5000)
    env_vars.set_defaults(func=cmd_env_vars)
