"""`local up`'s state is per stack, and every local send links to the REST API it serves.

Two `local up` processes with two prefixes: each writes its own `.local/<prefix>/` (absolute
paths, nothing of the other's overwritten); a bulk send from a second shell (`send`, and
`local invoke`) carries unsubscribe links to the `--api-port` that stack really serves on,
not the default 3000.
"""

from __future__ import annotations

import json
import shutil
import signal
import uuid
from pathlib import Path

from ses_feedback_emulator.motoserver import free_port
from ses_feedback_emulator.state import state_dir

from tests.e2e.conftest import Cli
from tests.e2e.test_local_mode import start_local_up, user_env


def _newsletter_links(cli: Cli, to: str) -> list[str]:
    messages = json.loads(cli.run("local", "mailbox", "--to", to, "--json").stdout)
    return [message["headers"]["List-Unsubscribe"] for message in messages]


def test_two_stacks_keep_their_own_state_and_link_to_their_own_api(tmp_path: Path) -> None:
    # Given: two stacks, each on its own ports
    prefixes = [f"st{uuid.uuid4().hex[:8]}", f"st{uuid.uuid4().hex[:8]}"]
    ports = [(free_port(), free_port()) for _ in prefixes]
    ups = [
        start_local_up(tmp_path / f"{prefix}.log", port, api_port, prefix=prefix)
        for prefix, (port, api_port) in zip(prefixes, ports, strict=True)
    ]
    try:
        # Then: each has its own state, with absolute paths
        for prefix, (port, api_port), up in zip(prefixes, ports, ups, strict=True):
            state = json.loads((state_dir(prefix) / "state.json").read_text())
            assert (state["pid"], state["port"], state["api_port"]) == (up.pid, port, api_port)
            assert state["api_url"] == f"http://127.0.0.1:{api_port}"
            env_file = Path(state["env_file"])
            assert env_file.is_absolute() and env_file == state_dir(prefix) / "env.json"
            sender_env = json.loads(env_file.read_text())["SenderFunction"]
            assert sender_env["UNSUBSCRIBE_BASE_URL"] == f"http://host.docker.internal:{api_port}"
            assert str(env_file) in (tmp_path / f"{prefix}.log").read_text()
        # When: a second shell sends bulk mail to the first stack, with `send` and `local invoke`
        prefix, (port, api_port) = prefixes[0], ports[0]
        shell = Cli(env={**user_env(), "AWS_ENDPOINT_URL": f"http://127.0.0.1:{port}"})
        shell.run(
            "--prefix",
            prefix,
            "send",
            "--from",
            "news@example.com",
            "--to",
            "success@simulator.amazonses.com",
            "--subject",
            "News",
            "--text",
            "Leave: {{unsubscribe_url}}",
            "--stream",
            "newsletter",
        )
        event = tmp_path / "send.json"
        event.write_text(
            json.dumps(
                {
                    "from": "news@example.com",
                    "to": ["ooto@simulator.amazonses.com"],
                    "subject": "News",
                    "text": "Leave: {{unsubscribe_url}}",
                    "stream": "newsletter",
                }
            )
        )
        shell.run("--prefix", prefix, "local", "invoke", "SenderFunction", "--event", str(event))
        # Then: the links name the REST API this stack serves
        for to in ("success@simulator.amazonses.com", "ooto@simulator.amazonses.com"):
            (link,) = _newsletter_links(shell, to)
            assert link.startswith(f"<http://127.0.0.1:{api_port}/unsubscribe/"), link
    finally:
        for up in ups:
            up.send_signal(signal.SIGINT)
        for up in ups:
            try:
                assert up.wait(timeout=30) == 0
            finally:
                up.kill()
    # And: a stopped stack leaves no state saying it runs
    for prefix in prefixes:
        assert not (state_dir(prefix) / "state.json").exists()
        shutil.rmtree(state_dir(prefix))
