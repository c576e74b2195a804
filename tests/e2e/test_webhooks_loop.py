"""Webhooks against `local up` as a process, with a real HTTP receiver on loopback.

A webhook added with the CLI receives what the stack publishes about a send to each SES
mailbox simulator address, once each, with its secret; a receiver that answers 500 gets the
event again; an app's webhook never sees another app's events.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from ses_feedback_emulator.motoserver import free_port

from tests.e2e.conftest import Cli
from tests.e2e.test_local_mode import local_up_serving

CLI_APP = "ses-feedback-cli"  # the app `ses-feedback send` sends as


@dataclass
class Receiver:
    """An app's webhook endpoint: records every POST by path; /flaky answers 500 to its first."""

    url: str
    received: dict[str, list[tuple[dict[str, str], dict[str, Any]]]] = field(default_factory=dict)
    failed_once: set[str] = field(default_factory=set)

    def bodies(self, path: str) -> list[dict[str, Any]]:
        return [body for _, body in self.received.get(path, [])]

    def wait_for(self, path: str, done: Any, timeout: float = 60) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        while not done(self.bodies(path)):
            assert time.monotonic() < deadline, f"{path} received only {self.bodies(path)}"
            time.sleep(0.2)
        return self.bodies(path)


@pytest.fixture(scope="module")
def receiver() -> Iterator[Receiver]:
    port = free_port()
    got = Receiver(url=f"http://127.0.0.1:{port}")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            if self.path == "/flaky" and self.path not in got.failed_once:
                got.failed_once.add(self.path)
                self.send_response(500)
            else:
                got.received.setdefault(self.path, []).append((dict(self.headers), body))
                self.send_response(200)
            self.end_headers()

        def log_message(self, *_: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield got
    server.shutdown()


@pytest.fixture(scope="module")
def shell(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cli]:
    with local_up_serving(tmp_path_factory.mktemp("webhooks") / "up.log") as (_, _, cli):
        yield cli


def _send(shell: Cli, to: str) -> str:
    answer = shell.json(
        "send", "--from", "noreply@example.com", "--to", to, "--subject", "Hi", "--text", "Hello", "--json"
    )
    return str(answer["message_id"])


def _of(bodies: list[dict[str, Any]], message_id: str) -> list[tuple[str, str]]:
    return sorted((b["type"], b["address"]) for b in bodies if b.get("message_id") == message_id)


def test_a_webhook_receives_each_outcome_once_with_its_secret_and_never_another_apps(
    shell: Cli, receiver: Receiver
) -> None:
    # Given: the CLI's app's webhook, and another app's
    added = shell.json("webhooks", "add", "--url", f"{receiver.url}/ours", "--app", CLI_APP, "--json")
    shell.json("webhooks", "add", "--url", f"{receiver.url}/theirs", "--app", "another-app", "--json")
    assert added["app"] == CLI_APP and added["secret"]
    # When: a send to each mailbox simulator address
    bounced = _send(shell, "bounce@simulator.amazonses.com")
    delivered = _send(shell, "success@simulator.amazonses.com")
    complained = _send(shell, "complaint@simulator.amazonses.com")
    # Then
    expected = {
        bounced: [
            ("message.bounced", "bounce@simulator.amazonses.com"),
            ("recipient.suppressed", "bounce@simulator.amazonses.com"),
        ],
        delivered: [("message.delivered", "success@simulator.amazonses.com")],
        complained: [
            ("message.complained", "complaint@simulator.amazonses.com"),
            ("message.delivered", "complaint@simulator.amazonses.com"),
            ("recipient.suppressed", "complaint@simulator.amazonses.com"),
        ],
    }
    receiver.wait_for("/ours", lambda bodies: all(_of(bodies, m) == e for m, e in expected.items()))
    time.sleep(2)  # a second delivery of anything would have come by now
    bodies = receiver.bodies("/ours")
    assert {m: _of(bodies, m) for m in expected} == expected
    assert len({b["id"] for b in bodies}) == len(bodies)
    assert {headers["X-Ses-Feedback-Secret"] for headers, _ in receiver.received["/ours"]} == {
        added["secret"]
    }
    bounce = next(b for b in bodies if b["type"] == "message.bounced")
    assert (bounce["app"], bounce["bounce_type"]) == (CLI_APP, "Permanent")
    assert receiver.bodies("/theirs") == []
    # And `local events` lists what was published
    published = shell.json("local", "events", "--json")
    assert {(e["detail-type"], e["detail"]["message_id"]) for e in published} >= {
        ("message.bounced", bounced),
        ("message.delivered", delivered),
    }
    # And the message's timeline says what became of it
    timeline = shell.json("messages", "show", bounced, "--json")
    assert [(r["address"], r["status"]) for r in timeline["recipients"]] == [
        ("bounce@simulator.amazonses.com", "bounced")
    ]


def test_a_receiver_that_answers_500_first_gets_the_event_again(shell: Cli, receiver: Receiver) -> None:
    # Given
    shell.json(
        "webhooks",
        "add",
        "--url",
        f"{receiver.url}/flaky",
        "--app",
        CLI_APP,
        "--event",
        "message.delivered",
        "--json",
    )
    # When
    message_id = _send(shell, "success@simulator.amazonses.com")
    # Then: the first delivery was refused with a 500, the retry arrived
    bodies = receiver.wait_for("/flaky", lambda got: _of(got, message_id))
    assert "/flaky" in receiver.failed_once
    assert _of(bodies, message_id) == [("message.delivered", "success@simulator.amazonses.com")]


def test_webhooks_are_listed_tested_and_removed(shell: Cli, receiver: Receiver, tmp_path: Path) -> None:
    # Given
    added = shell.json("webhooks", "add", "--url", f"{receiver.url}/tested", "--app", "app-x", "--json")
    # When
    shell.run("webhooks", "test", added["id"])
    # Then
    (test,) = receiver.wait_for("/tested", lambda got: got)
    assert (test["type"], test["webhook_id"], test["app"]) == ("webhook.test", added["id"], "app-x")
    listed = shell.json("webhooks", "list", "--json")["webhooks"]
    assert {
        "id": added["id"],
        "url": f"{receiver.url}/tested",
        "app": "app-x",
        "events": added["events"],
    } in listed
    shell.run("webhooks", "remove", added["id"])
    assert added["id"] not in {w["id"] for w in shell.json("webhooks", "list", "--json")["webhooks"]}
    refused = shell.run("webhooks", "test", added["id"], check=False)
    assert refused.returncode == 1 and "no webhook" in refused.stderr
