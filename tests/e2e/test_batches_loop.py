"""Batches end to end on `local up --max-send-rate 20`: the REST API, BatchQueue, BulkSenderFunction's
instances (processes, as Lambda runs them) and the local SES that throttles above the rate.

What the mailbox holds is what the local SES accepted, with the time it accepted each message.
"""

from __future__ import annotations

import collections
import json
import os
import signal
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from ses_feedback_emulator.motoserver import free_port

from tests.e2e.conftest import Cli
from tests.e2e.test_local_mode import start_local_up, user_env

RATE = 20
pytestmark = pytest.mark.long


@dataclass
class Stack:
    up: subprocess.Popen[bytes]
    api: str
    aws: str
    log: Path

    def call(self, method: str, url: str, body: Any = None) -> tuple[int, Any]:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(
            url, data=data, method=method, headers={"Content-Type": "application/json"}
        )
        try:
            with urllib.request.urlopen(request, timeout=120) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as refused:
            return refused.code, json.loads(refused.read())

    def batch(self, batch_id: str) -> dict[str, Any]:
        status, shown = self.call("GET", f"{self.api}/batches/{batch_id}")
        assert status == 200, shown
        return dict(shown)

    def wait_for(self, batch_id: str, done: Any, timeout: float = 240) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            shown = self.batch(batch_id)
            if done(shown):
                return shown
            assert time.monotonic() < deadline, f"batch stuck: {shown}\n{self.log.read_text()[-3000:]}"
            time.sleep(0.5)

    def mailbox(self) -> list[dict[str, Any]]:
        with urllib.request.urlopen(f"{self.aws}/_local/messages", timeout=30) as answer:
            messages: list[dict[str, Any]] = json.load(answer)
        return messages

    def send_quota(self, **changes: Any) -> dict[str, Any]:
        _, quota = self.call("POST", f"{self.aws}/_local/send-quota", changes)
        return dict(quota)

    def bulk_instances(self) -> list[int]:
        """The pids of BulkSenderFunction's instances (children of this `local up`)."""
        found = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                command = (entry / "cmdline").read_bytes().split(b"\0")
                parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue
            if parent == self.up.pid and b"BulkSenderFunction" in command:
                found.append(int(entry.name))
        return found


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    log = tmp_path_factory.mktemp("batches") / "up.log"
    port, api_port = free_port(), free_port()
    up = start_local_up(log, port, api_port, extra=("--max-send-rate", str(RATE)))
    try:
        yield Stack(up=up, api=f"http://127.0.0.1:{api_port}", aws=f"http://127.0.0.1:{port}", log=log)
    finally:
        up.send_signal(signal.SIGINT)
        try:
            assert up.wait(timeout=30) == 0, log.read_text()[-3000:]
        finally:
            up.kill()


def accepted_per_second(messages: list[dict[str, Any]]) -> int:
    per_second = collections.Counter(m["accepted_at"][:19] for m in messages)
    return max(per_second.values())


def test_a_400_recipient_batch_ends_done_with_exact_counts_at_the_rate_through_a_worker_killed_mid_batch(
    stack: Stack,
) -> None:
    # Given: 400 recipients, 8 of them invalid, 5 suppressed before the batch and 5 after it
    to = [f"reader{i}@example.org" for i in range(400)]
    invalid = {13: "reader13@", 77: "reader 77@example.org", 150: "reader150@exa_mple.org"}
    invalid |= {i: f"reader{i}@@example.org" for i in (200, 201, 250, 320, 321)}
    for index, address in invalid.items():
        to[index] = address
    suppressed_before = [to[i] for i in (3, 40, 99, 180, 260)]
    suppressed_after = [to[i] for i in (391, 393, 395, 397, 399)]
    for address in suppressed_before:
        status, _ = stack.call("PUT", f"{stack.api}/suppressions/{quote(address)}", {"note": "test"})
        assert status == 200
    # When
    status, accepted = stack.call(
        "POST",
        f"{stack.api}/batches",
        {
            "from": "News <news@example.com>",
            "subject": "November",
            "text": "Hello",
            "recipients": [{"to": address} for address in to],
        },
    )
    assert status == 202, accepted
    assert (accepted["accepted"], sorted(r["index"] for r in accepted["refused"])) == (392, sorted(invalid))
    for address in suppressed_after:  # accepted, then suppressed: checked at send time
        assert stack.call("PUT", f"{stack.api}/suppressions/{quote(address)}", {"note": "test"})[0] == 200
    # ... and a worker is killed mid-batch (SIGKILL, as Lambda ends a timed-out instance)
    stack.wait_for(accepted["batch_id"], lambda b: b["sent"] >= 100)
    instances = stack.bulk_instances()
    assert instances
    os.kill(instances[0], signal.SIGKILL)
    shown = stack.wait_for(accepted["batch_id"], lambda b: b["state"] == "done")
    # Then: every recipient has exactly one outcome
    interrupted = [f["to"] for f in shown["failures"] if f["code"] == "interrupted"]
    assert shown["failed"] == len(interrupted) <= 1  # only a recipient SES had when the worker died
    assert (shown["total"], shown["refused"], shown["suppressed"], shown["pending"]) == (400, 8, 10, 0)
    assert shown["sent"] + shown["failed"] == 382
    # ... the mailbox holds each once: every sent recipient, nobody suppressed or refused
    mailed = collections.Counter(
        address for m in stack.mailbox() for address in m["to"] if address.startswith("reader")
    )
    assert max(mailed.values()) == 1
    expected = set(to) - set(invalid.values()) - set(suppressed_before) - set(suppressed_after)
    assert set(mailed) - set(interrupted) == expected - set(interrupted)
    # ... and no second of the run passed the rate
    assert accepted_per_second(stack.mailbox()) <= RATE


def test_get_account_reports_the_local_rate_as_max_send_rate(stack: Stack) -> None:
    import boto3

    ses = boto3.client("sesv2", endpoint_url=stack.aws, region_name="us-east-1")
    assert ses.get_account()["SendQuota"]["MaxSendRate"] == RATE


def test_a_throttling_ses_delays_the_batch_and_fails_nobody(stack: Stack) -> None:
    # Given: SES holds sends to 3 a second, below the 20 GetAccount reports (the worker paces for 16)
    before = stack.send_quota(enforced_rate=3)
    try:
        # When
        status, accepted = stack.call(
            "POST",
            f"{stack.api}/batches",
            {
                "from": "news@example.com",
                "subject": "Slow",
                "text": "Hello",
                "recipients": [{"to": f"slow{i}@example.org"} for i in range(45)],
            },
        )
        assert status == 202
        shown = stack.wait_for(accepted["batch_id"], lambda b: b["state"] == "done")
        quota = stack.send_quota()
    finally:
        stack.send_quota(enforced_rate=RATE)
    # Then: SES did throttle, and nobody failed or was mailed twice
    assert quota["throttled"] > before["throttled"]
    assert (shown["sent"], shown["failed"]) == (45, 0)
    slow = [m for m in stack.mailbox() if m["to"][0].startswith("slow")]
    assert sorted(m["to"][0] for m in slow) == sorted(f"slow{i}@example.org" for i in range(45))
    assert accepted_per_second(slow) <= 3


def test_the_cli_sends_a_csv_reports_bad_lines_by_number_and_follows_the_batch_to_its_end(
    stack: Stack, tmp_path: Path
) -> None:
    # Given: a file with a line of too many cells and an address SES could not deliver to
    recipients = tmp_path / "readers.csv"
    recipients.write_text(
        "to\ncli1@example.org\ncli2@example.org,extra\n\nnot-an-address\ncli3@example.org\n"
    )
    shell = Cli(env={**user_env(), "AWS_ENDPOINT_URL": stack.aws})
    # When
    sent = shell.run(
        "batches", "send", "--from", "news@example.com", "--subject", "Hi", "--text", "Hello",
        "--recipients", str(recipients), "--api", stack.api, "--json",
    )  # fmt: skip
    # Then
    assert f"{recipients} line 3: 2 cells where the header names 1" in sent.stderr
    assert f"{recipients} line 5: to: is not a valid email address" in sent.stderr
    done = json.loads(sent.stdout)
    assert (done["state"], done["sent"], done["refused"], done["total"]) == ("done", 2, 1, 3)
    shown = shell.run("batches", "show", done["batch_id"], "--api", stack.api, "--json")
    assert json.loads(shown.stdout) == done


def test_the_cli_sees_only_its_own_apps_batches(stack: Stack) -> None:
    # Given: a batch posted unsigned (local up serves it as the local developer)
    _, accepted = stack.call(
        "POST",
        f"{stack.api}/batches",
        {"from": "news@example.com", "subject": "Hi", "text": "x", "recipients": [{"to": "own@example.org"}]},
    )
    # When: the CLI, signed with its own credentials, asks for it
    shell = Cli(env={**user_env(), "AWS_ENDPOINT_URL": stack.aws})
    shown = shell.run("batches", "show", accepted["batch_id"], "--api", stack.api, check=False)
    cancelled = shell.run("batches", "cancel", accepted["batch_id"], "--api", stack.api, check=False)
    # Then
    assert shown.returncode == 1
    assert "batch_not_found" in shown.stderr
    assert cancelled.returncode == 1


def test_a_templated_batch_is_sent_rendered_and_its_end_is_one_batch_done_on_the_bus(stack: Stack) -> None:
    import boto3

    # Given: an SES template on the local SES (it keeps them, as SES does)
    ses = boto3.client("sesv2", endpoint_url=stack.aws, region_name="us-east-1")
    ses.create_email_template(
        TemplateName="november",
        TemplateContent={"Subject": "November for {{name}}", "Text": "Hello {{name}}"},
    )
    # When: a batch names it, each recipient with their own data
    status, accepted = stack.call(
        "POST",
        f"{stack.api}/batches",
        {
            "from": "news@example.com",
            "template": {"name": "november"},
            "tags": {"campaign": "2026-11"},
            "recipients": [{"to": f"tpl{i}@example.org", "data": {"name": f"Reader {i}"}} for i in range(3)],
        },
    )
    assert status == 202, accepted
    shown = stack.wait_for(accepted["batch_id"], lambda b: b["state"] == "done")
    # Then: each recipient got the template rendered with their data
    assert (shown["sent"], shown["failed"]) == (3, 0), shown
    mailed = {m["to"][0]: m for m in stack.mailbox() if m["to"][0].startswith("tpl")}
    assert {to: (m["subject"], m["text"]) for to, m in mailed.items()} == {
        f"tpl{i}@example.org": (f"November for Reader {i}", f"Hello Reader {i}") for i in range(3)
    }
    # ... and the bus holds one batch.done with the batch's counts, and no address
    with urllib.request.urlopen(f"{stack.aws}/_local/events", timeout=30) as answer:
        published = json.load(answer)
    (done,) = [
        e["detail"]
        for e in published
        if e["detail-type"] == "batch.done" and e["detail"]["batch_id"] == accepted["batch_id"]
    ]
    assert (done["state"], done["total"], done["sent"], done["tags"]) == (
        "done",
        3,
        3,
        {"campaign": "2026-11"},
    )
    assert "@" not in json.dumps(done)
