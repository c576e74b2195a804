"""Local mode end to end: the SES simulator publishing to the stack's topic, and `local up`."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from ses_feedback_emulator.lambdas import drain
from ses_feedback_emulator.motoserver import free_port
from ses_feedback_stack.names import LocalStack
from ses_feedback_stack.template import environment_variable_names, functions, load_template

from tests.e2e.conftest import CLI, Cli

SIMULATOR = [
    "success@simulator.amazonses.com",
    "bounce+campaign7@simulator.amazonses.com",
    "ooto@simulator.amazonses.com",
    "complaint@simulator.amazonses.com",
    "suppressionlist@simulator.amazonses.com",
]


def send(refs: dict[str, str], recipients: list[str]) -> str:
    response = boto3.client("sesv2").send_email(
        FromEmailAddress="noreply@example.com",
        Destination={"ToAddresses": recipients},
        Content={"Simple": {"Subject": {"Data": "Hello"}, "Body": {"Text": {"Data": "Hi"}}}},
        EmailTags=[{"Name": "campaign", "Value": "spring"}],
        ConfigurationSetName=refs["ConfigurationSet"],
    )
    message_id: str = response["MessageId"]
    return message_id


def drain_until(stack: LocalStack, expected: int, timeout: float = 60.0) -> list[dict[str, Any]]:
    """Drain until ``expected`` notifications were applied; return the SES events seen."""
    seen: list[dict[str, Any]] = []

    def observe(body: str) -> None:
        seen.append(json.loads(json.loads(body)["Message"]))

    deadline = time.monotonic() + timeout
    while len(seen) < expected and time.monotonic() < deadline:
        drain(stack, observer=observe)
        time.sleep(0.1)
    return seen


def test_sending_to_the_simulator_produces_realistic_feedback_that_the_loop_applies(cli: Cli) -> None:
    # Given
    refs = cli.json("local", "bootstrap")
    boto3.client("sesv2").create_email_identity(EmailIdentity="example.com")
    # When
    message_id = send(refs, SIMULATOR)
    seen = drain_until(LocalStack(), expected=5)
    # Then: Send, Delivery (success, ooto, complaint), two bounces, one complaint
    assert [e["eventType"] for e in seen] == ["Send", "Delivery", "Bounce", "Bounce", "Complaint"]
    assert all(e["mail"]["messageId"] == message_id for e in seen)
    assert all(e["mail"]["tags"]["campaign"] == ["spring"] for e in seen)
    states = {a: cli.json("suppressions", "get", a, "--json") for a in SIMULATOR}
    assert states["bounce+campaign7@simulator.amazonses.com"]["reason"] == "hard_bounce"
    assert states["suppressionlist@simulator.amazonses.com"]["reason"] == "hard_bounce"
    assert states["complaint@simulator.amazonses.com"]["reason"] == "complaint"
    assert not states["success@simulator.amazonses.com"]["suppressed"]
    assert not states["ooto@simulator.amazonses.com"]["suppressed"]


def test_ooto_auto_reply_reaches_the_senders_mailbox(cli: Cli, aws: str) -> None:
    refs = cli.json("local", "bootstrap")
    boto3.client("sesv2").create_email_identity(EmailIdentity="example.com")
    message_id = send(refs, ["ooto@simulator.amazonses.com"])
    with urllib.request.urlopen(f"{aws}/_local/mailbox", timeout=5) as response:
        mailbox = json.loads(response.read())
    assert [(m["to"], m["in_reply_to"]) for m in mailbox] == [("noreply@example.com", message_id)]


def test_mail_without_a_configuration_set_publishes_no_events(cli: Cli) -> None:
    # Given
    refs = cli.json("local", "bootstrap")
    boto3.client("sesv2").create_email_identity(EmailIdentity="example.com")
    assert refs["ConfigurationSetFeedbackDestination"] == "feedback-to-sns"
    # When: a bounce sent without a configuration set, then a marker sent with one
    boto3.client("sesv2").send_email(
        FromEmailAddress="noreply@example.com",
        Destination={"ToAddresses": ["bounce@simulator.amazonses.com"]},
        Content={"Simple": {"Subject": {"Data": "x"}, "Body": {"Text": {"Data": "x"}}}},
    )
    marker = send(refs, ["success@simulator.amazonses.com"])
    # Then: the local SES publishes in order, so once the marker's Send and Delivery are
    # drained, any event of the first message would have been drained before them
    seen = drain_until(LocalStack(), expected=2)
    assert [(e["eventType"], e["mail"]["messageId"]) for e in seen] == [
        ("Send", marker),
        ("Delivery", marker),
    ]


def user_env() -> dict[str, str]:
    """A user's shell: not pointed at any endpoint yet, and without the variables the template
    gives the functions (an in-process handler test of this worker may have left them set: with
    EVENT_BUS_NAME a command would take the deployed stack's path)."""
    template = load_template()
    functions_own = set().union(*(environment_variable_names(template, f) for f in functions(template)))
    return {k: v for k, v in os.environ.items() if k != "AWS_ENDPOINT_URL" and k not in functions_own}


def start_local_up(
    log: Path,
    port: int,
    api_port: int | None = None,
    prefix: str | None = None,
    extra: tuple[str, ...] = (),
    **popen: Any,
) -> subprocess.Popen[bytes]:
    """`ses-feedback local up --port PORT --api-port API_PORT` as a user starts it; returns once
    it serves (the REST API on a free port unless given: tests may run side by side)."""
    with log.open("w") as sink:
        up = subprocess.Popen(
            [
                CLI,
                *(["--prefix", prefix] if prefix else []),
                "local",
                "up",
                "--port",
                str(port),
                "--api-port",
                str(api_port or free_port()),
                *extra,
            ],
            env=user_env(),
            stdout=sink,
            stderr=subprocess.STDOUT,
            **popen,
        )
    deadline = time.monotonic() + 60
    while "Ctrl-C stops" not in log.read_text():
        assert up.poll() is None, log.read_text()
        assert time.monotonic() < deadline, "local up did not come up"
        time.sleep(0.2)
    return up


@contextlib.contextmanager
def local_up_serving(log: Path, extra: tuple[str, ...] = ()) -> Iterator[tuple[str, str, Cli]]:
    """`local up` on free ports as a process, for a test module: its REST API's URL, its AWS
    endpoint and a second shell pointed at it; stopped with Ctrl-C (SIGINT), which must exit 0."""
    port, api_port = free_port(), free_port()
    up = start_local_up(log, port, api_port, extra=extra)
    aws = f"http://127.0.0.1:{port}"
    try:
        yield f"http://127.0.0.1:{api_port}", aws, Cli(env={**user_env(), "AWS_ENDPOINT_URL": aws})
    finally:
        up.send_signal(signal.SIGINT)
        try:
            assert up.wait(timeout=30) == 0, log.read_text()
        finally:
            up.kill()


def serves(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    except ConnectionRefusedError:
        return False
    return True


def test_local_up_serves_and_applies_feedback_from_a_second_shell(tmp_path: Path) -> None:
    # Given: `local up` on a free port, as a user would start it
    port = free_port()
    up = start_local_up(tmp_path / "up.log", port)
    second_shell = Cli(env={**user_env(), "AWS_ENDPOINT_URL": f"http://127.0.0.1:{port}"})
    try:
        banner = (tmp_path / "up.log").read_text()
        assert f"http://127.0.0.1:{port}" in banner
        assert "sam local invoke FeedbackFunction" in banner and "--env-vars" in banner
        # When: a second shell sends to the simulator through SenderFunction
        answer = json.loads(
            second_shell.run(
                "send",
                "--from",
                "noreply@example.com",
                "--to",
                "bounce@simulator.amazonses.com",
                "--subject",
                "Hi",
                "--text",
                "Hello",
                "--json",
            ).stdout
        )
        assert answer["status"] == "sent"
        # Then: the background drain applies the bounce (a cap, not a target: each poll starts a
        # CLI process, which takes seconds on a loaded machine)
        state: dict[str, Any] = {}
        deadline = time.monotonic() + 60
        while state.get("reason") != "hard_bounce" and time.monotonic() < deadline:
            time.sleep(0.3)
            state = second_shell.json("suppressions", "get", "bounce@simulator.amazonses.com", "--json")
        assert state["reason"] == "hard_bounce"
    finally:
        up.send_signal(signal.SIGINT)
        assert up.wait(timeout=20) == 0


@pytest.mark.parametrize("stop_signal", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_local_up_stops_with_its_server_on_ctrl_c_or_sigterm_even_as_a_background_job(
    tmp_path: Path, stop_signal: signal.Signals
) -> None:
    # Given: started the way `ses-feedback local up &` in a script starts it: SIGINT ignored
    port = free_port()
    up = start_local_up(
        tmp_path / "up.log", port, preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN)
    )
    assert serves(port)
    # When
    up.send_signal(stop_signal)
    # Then: it stops cleanly, and its moto server is gone with it
    try:
        assert up.wait(timeout=20) == 0
    finally:
        up.kill()
    assert "stopping" in (tmp_path / "up.log").read_text()
    assert not serves(port)
