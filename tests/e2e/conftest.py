"""A real moto server process on loopback, shared by the session and reset before each test."""

from __future__ import annotations

import contextlib
import io
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from ses_feedback import wiring
from ses_feedback_cli.main import main
from ses_feedback_emulator import motoserver

CLI = str(Path(sys.executable).with_name("ses-feedback"))


@pytest.fixture(scope="session")
def moto_server() -> Iterator[motoserver.MotoServer]:
    server = motoserver.start()
    try:
        yield server
    finally:
        server.stop()


@dataclass
class Cli:
    """Runs the installed `ses-feedback` console script against the moto server."""

    env: dict[str, str]

    def run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            [CLI, *args], env=self.env, capture_output=True, text=True, timeout=300, check=False
        )
        if check and result.returncode != 0:
            raise AssertionError(
                f"ses-feedback {' '.join(args)} exited {result.returncode}:\n{result.stderr[-3000:]}"
            )
        return result

    def json(self, *args: str) -> Any:
        return json.loads(self.run(*args).stdout)

    def read_json(self, *args: str) -> Any:
        """The same command and environment, run in this process: for reading state back where
        the CLI process is not what the test is about (starting one costs about a second).

        It starts as a new process would (fresh settings and clients) and leaves none of its
        own behind, so it is not for a test that holds the service's cached objects.
        """
        answer, errors = io.StringIO(), io.StringIO()
        with mock.patch.dict(os.environ, self.env, clear=True):
            wiring.reset()
            try:
                with contextlib.redirect_stdout(answer), contextlib.redirect_stderr(errors):
                    code = main(list(args))
            finally:
                wiring.reset()
        if code != 0:
            raise AssertionError(f"ses-feedback {' '.join(args)} exited {code}:\n{errors.getvalue()[-3000:]}")
        return json.loads(answer.getvalue())


@pytest.fixture
def aws(moto_server: motoserver.MotoServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Point boto3 at a freshly reset moto server; yields the endpoint."""
    motoserver.reset(moto_server.endpoint)
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_server.endpoint)
    yield moto_server.endpoint


@pytest.fixture
def cli(aws: str) -> Cli:
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("SUPPRESSION_", "SOFT_BOUNCE_", "HISTORY_"))
    }
    return Cli(env={**env, "AWS_ENDPOINT_URL": aws})
