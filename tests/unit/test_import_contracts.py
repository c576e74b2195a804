"""The import contracts bite: ``lint-imports`` run on a copy of the code fails once boto3 (or
botocore) is imported where only the edges may import it: in the CLI, the doctor or wiring.

Each case copies the packages and pyproject.toml to a temporary directory, adds one import,
and runs import-linter there with the copy first on the path (the editable install's finder
comes after it). The untouched copy passes, so a failure is the added line's doing.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
# Where each root package lives (pyproject.toml's package-dir); functions/ is at the root.
SOURCE_DIRS = ["layers/common", "cli", "stack", "emulator", "doctor"]
AWS_CONTRACT = "The CLI, the doctor, the stack's names and wiring talk to AWS through the edges only"


def _copy(root: Path) -> None:
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    shutil.copy(REPO / "pyproject.toml", root / "pyproject.toml")
    shutil.copytree(REPO / "functions", root / "functions", ignore=ignore)
    for folder in SOURCE_DIRS:
        shutil.copytree(REPO / folder, root / folder, ignore=ignore)


def _lint_imports(root: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([*(str(root / f) for f in SOURCE_DIRS), str(root)])}
    return subprocess.run(
        [str(Path(sys.executable).parent / "lint-imports"), "--no-cache"],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


def _add_line(path: Path, line: str) -> None:
    text = path.read_text()
    marker = "from __future__ import annotations\n"
    assert marker in text
    path.write_text(text.replace(marker, f"{marker}\n{line}  # noqa\n", 1))


def test_the_untouched_copy_keeps_every_contract(tmp_path: Path) -> None:
    _copy(tmp_path)
    linted = _lint_imports(tmp_path)
    assert linted.returncode == 0, linted.stdout + linted.stderr
    assert "0 broken" in linted.stdout


@pytest.mark.parametrize(
    ("module", "line", "importer", "imported"),
    [
        (
            "cli/ses_feedback_cli/commands/stats_cmd.py",
            "import boto3",
            "ses_feedback_cli.commands.stats_cmd",
            "boto3",
        ),
        (
            "cli/ses_feedback_cli/output.py",
            "import botocore.exceptions",
            "ses_feedback_cli.output",
            "botocore",
        ),
        ("layers/common/ses_feedback/wiring.py", "import boto3", "ses_feedback.wiring", "boto3"),
        ("doctor/ses_feedback_doctor/diagnose.py", "import boto3", "ses_feedback_doctor.diagnose", "boto3"),
    ],
)
def test_boto3_outside_the_edges_breaks_the_contract(
    tmp_path: Path, module: str, line: str, importer: str, imported: str
) -> None:
    # Given: a copy of the code with one import of the AWS SDK where the contracts forbid it
    _copy(tmp_path)
    _add_line(tmp_path / module, line)
    # When
    linted = _lint_imports(tmp_path)
    # Then: lint-imports fails and names the contract and the import
    assert linted.returncode != 0
    said = " ".join(linted.stdout.split())  # import-linter wraps long lines
    assert f"{AWS_CONTRACT} BROKEN" in said
    assert f"{importer} -> {imported}" in said
