"""The command line loads what a command needs when it runs: `--help`, `shell` and `import-teams`
start without the chart library, the platform SDKs or the spreadsheet library (each costs start-up
time and memory that a command which never draws, chats or writes XLSX should not pay)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

HEAVY = ("matplotlib", "telegram", "slack_bolt", "slack_sdk", "openpyxl")
# Runs the CLI as `tiendo` does and prints, as it exits, which heavy packages were imported.
PROBE = """
import atexit, json, sys
atexit.register(lambda: print(json.dumps(sorted({m.split(".")[0] for m in sys.modules} & HEAVY))))
from bot.cli import main
main()
"""


def loaded(
    tmp_path: Path, *args: str, stdin: str = "", heavy: tuple[str, ...] = HEAVY
) -> list[str]:
    env = os.environ | {"TIENDO_DATABASE_URL": f"sqlite:///{tmp_path / 'tiendo.db'}"}
    result = subprocess.run(
        [sys.executable, "-c", f"HEAVY = set({heavy!r})\n{PROBE}", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=60,
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_importing_the_cli_loads_no_heavy_library(tmp_path: Path) -> None:
    assert loaded(tmp_path, "--help") == []


@pytest.mark.parametrize(
    ("args", "stdin"),
    [
        (("shell",), "/help\n"),
        (("import-teams", "teams.csv", "--campaign", "road"), ""),
    ],
)
def test_shell_and_import_teams_load_no_heavy_library(
    tmp_path: Path, args: tuple[str, ...], stdin: str
) -> None:
    (tmp_path / "teams.csv").write_text("code,name\nt1,Tổ 1\n", "utf-8")
    assert loaded(tmp_path, *args, stdin=stdin) == []


def test_a_database_already_migrated_starts_without_alembic(tmp_path: Path) -> None:
    # The first start creates and migrates the database; the next ones find it at the head.
    assert loaded(tmp_path, "shell", stdin="/help\n", heavy=("alembic",)) == ["alembic"]
    assert loaded(tmp_path, "shell", stdin="/help\n", heavy=("alembic",)) == []
