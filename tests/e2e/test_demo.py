"""`ses-feedback demo` (the README's first command) as a user runs it: a fresh embedded stack."""

from __future__ import annotations

import json
import os
import subprocess

from tests.e2e.conftest import CLI

SUPPRESSED = {
    "bounce@simulator.amazonses.com": "hard_bounce",
    "bounce+campaign7@simulator.amazonses.com": "hard_bounce",
    "suppressionlist@simulator.amazonses.com": "hard_bounce",
    "complaint@simulator.amazonses.com": "complaint",
}


def run_demo(*args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "AWS_ENDPOINT_URL"}
    return subprocess.run(
        [CLI, "demo", *args], env=env, capture_output=True, text=True, timeout=120, check=False
    )


def test_demo_runs_the_loop_and_the_second_round_skips_exactly_the_suppressed() -> None:
    # When
    result = run_demo("--json")
    # Then
    assert result.returncode == 0, result.stderr[-2000:]
    rows = {row["recipient"]: row for row in json.loads(result.stdout)["rows"]}
    for address, reason in SUPPRESSED.items():
        assert (rows[address]["suppressed"], rows[address]["reason"], rows[address]["round2"]) == (
            True,
            reason,
            "skipped",
        )
    for address in ("success@simulator.amazonses.com", "ooto@simulator.amazonses.com", "ada@example.org"):
        assert rows[address]["delivered"] and not rows[address]["suppressed"]
        assert rows[address]["round2"] == "sent"
    assert rows["ooto@simulator.amazonses.com"]["auto_reply"]
    assert rows["ooto@simulator.amazonses.com"]["bounced"] is None
    assert rows["complaint@simulator.amazonses.com"]["complained"]
    assert rows["bounce+campaign7@simulator.amazonses.com"]["bounced"] == "Permanent/General"
    assert rows["suppressionlist@simulator.amazonses.com"]["bounced"] == "Permanent/Suppressed"
    assert all(row["round1"] == "sent" for row in rows.values())
    # Then the app's call over HTTP: the bounced recipient is dropped, the other is sent to
    api = json.loads(result.stdout)["api"]
    assert (api["status"], api["answer"]["status"], api["answer"]["sent_to"]) == (
        200,
        "partially_suppressed",
        ["ada@example.org"],
    )
    # and the mailbox holds every accepted message: 8, then the 4 not suppressed, the app's, the newsletter
    mailbox = json.loads(result.stdout)["mailbox"]
    assert len(mailbox) == 8 + 4 + 1 + 1
    assert mailbox[-2]["message_id"] == api["answer"]["message_id"]
    assert mailbox[-2]["to"] == ["ada@example.org"]
    # Then the newsletter carries both RFC 8058 headers, and one click unsubscribes from its stream only
    unsubscribe = json.loads(result.stdout)["unsubscribe"]
    newsletter = mailbox[-1]
    assert newsletter["to"] == ["ada@example.org"] and newsletter["tags"]["stream"] == "newsletter"
    assert newsletter["headers"]["List-Unsubscribe"] == unsubscribe["headers"]["List-Unsubscribe"]
    url = unsubscribe["headers"]["List-Unsubscribe"].removeprefix("<").removesuffix(">")
    assert url.startswith("http://127.0.0.1:") and "/unsubscribe/" in url
    assert unsubscribe["headers"]["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert url in newsletter["text"]
    assert unsubscribe["status"] == 200
    assert unsubscribe["reason_on"] == {"newsletter": "unsubscribed", "transactional": None}


def test_demo_prints_a_table_for_people() -> None:
    result = run_demo()
    assert result.returncode == 0, result.stderr[-2000:]
    lines = result.stdout.splitlines()
    assert any(line.startswith("recipient") and "round 2" in line for line in lines)
    bounce_row = next(line for line in lines if line.startswith("bounce@simulator.amazonses.com"))
    assert "yes (hard_bounce)" in bounce_row and bounce_row.rstrip().endswith("skipped")
    assert "the second round skipped 4 suppressed recipient(s)" in result.stdout
    assert "curl -s -X POST http://127.0.0.1:" in result.stdout and "/messages" in result.stdout
    assert "List-Unsubscribe-Post: List-Unsubscribe=One-Click" in result.stdout
    assert "suppressions get ada@example.org --stream newsletter`: suppressed (unsubscribed)" in result.stdout
    assert "the local SES's mailbox (`ses-feedback local mailbox`): 14 messages" in result.stdout
    # The functions run at WARNING in the demo: progress and the table, no INFO log lines.
    assert not [line for line in result.stdout.splitlines() + result.stderr.splitlines() if '"level"' in line]


def test_the_demos_webhook_receives_each_bounce_and_its_suppression() -> None:
    # When
    result = run_demo("--json")
    # Then: the three hard bounces of the campaign, each a message.bounced and a recipient.suppressed,
    # and the complaint's recipient.suppressed
    assert result.returncode == 0, result.stderr[-2000:]
    received = sorted((e["type"], e["address"]) for e in json.loads(result.stdout)["webhook"])
    bounced = ["bounce+campaign7@simulator.amazonses.com", "bounce@simulator.amazonses.com"]
    bounced.append("suppressionlist@simulator.amazonses.com")
    suppressed = [*bounced, "complaint@simulator.amazonses.com"]
    assert received == sorted(
        [*(("message.bounced", a) for a in bounced), *(("recipient.suppressed", a) for a in suppressed)]
    )
