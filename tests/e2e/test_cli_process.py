"""The installed `ses-feedback` as a process, where only a process shows it: a reader that closes
the pipe early (`… | head`) and Ctrl-C. No traceback either way."""

from __future__ import annotations

import signal
import socket
import subprocess
import threading

import pytest

from tests.e2e.conftest import CLI, Cli


@pytest.fixture
def stocked(cli: Cli) -> Cli:
    """A local stack with an address on the list, a message in the mailbox."""
    cli.run("local", "bootstrap")
    cli.run("suppressions", "add", "closed@example.com", "--note", "pipe", "--actor", "test")
    cli.run(
        "send",
        "--from",
        "noreply@example.com",
        "--to",
        "success@simulator.amazonses.com",
        "--subject",
        "Hi",
        "--text",
        "Hi",
    )
    return cli


@pytest.mark.parametrize(
    "command",
    [
        ["suppressions", "export"],
        ["suppressions", "list"],
        ["suppressions", "get", "closed@example.com"],
        ["local", "mailbox"],
        ["openapi"],
        ["dmarc", "summary", "example.com"],
    ],
    ids=lambda command: " ".join(command[:2]),
)
def test_a_reader_that_closes_the_pipe_ends_the_command_quietly(stocked: Cli, command: list[str]) -> None:
    # Given: a reader that has closed its end before the command writes (as `| head -0` would)
    process = subprocess.Popen(
        [CLI, *command], env=stocked.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    assert process.stdout is not None and process.stderr is not None
    process.stdout.close()
    # When
    err = process.stderr.read()
    status = process.wait(timeout=120)
    # Then: nothing said, and the shell's status for a write to a closed pipe
    assert err == ""
    assert status == 141


def test_ctrl_c_exits_130_with_one_line(cli: Cli) -> None:
    # Given: an endpoint that accepts the connection and never answers, so the command waits there
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        connected = threading.Event()
        held: list[socket.socket] = []

        def accept() -> None:
            held.append(silent.accept()[0])
            connected.set()

        threading.Thread(target=accept, daemon=True).start()
        env = {**cli.env, "AWS_ENDPOINT_URL": f"http://127.0.0.1:{silent.getsockname()[1]}"}
        process = subprocess.Popen(
            [CLI, "suppressions", "list"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        assert connected.wait(timeout=60), "the command never reached AWS"
        # When
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=60)
        for connection in held:
            connection.close()
    # Then
    assert process.returncode == 130
    assert (out, err) == ("", "interrupted\n")
