"""A SQLite database file tiendo may not write (issue #11), made so by the operating system, not
by an injected error. We run as root, which chmod does not stop, so:

- at start, `tiendo run` (and `db upgrade`, `shell`) runs as `nobody` (setpriv) against a file
  owned by root that it can read but not write: one localized line, exit 1;
- while running, the file and its write-ahead log become immutable (`chattr +i`, which holds
  for root too and for files already open): reports are not acknowledged, nobody gets an
  apology, and once the files are writable again each is recorded once and confirmed once.

Either test skips, saying why, where its mechanism is missing (not root, no setpriv, a file
system without the immutable flag)."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlmodel import col, func, select

from storage.db import Database
from storage.models import Delivery
from tests.fakes.telegram_api import FakeTelegram
from tests.faults import APOLOGIES, tally
from tests.scenarios import environment, join_reporters, replies, start, stop

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="Linux file attributes")
AS_NOBODY = ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups"]
TIENDO = [sys.executable, "-c", "from bot.cli import main; main()"]


def _cannot_drop_privileges() -> str | None:
    if os.geteuid() != 0:
        return "needs root to run tiendo as another user (setpriv)"
    if shutil.which("setpriv") is None:
        return "setpriv (util-linux) is not installed"
    probe = subprocess.run([*AS_NOBODY, sys.executable, "-c", "import bot.cli"], check=False)
    if probe.returncode != 0:
        return f"user nobody cannot run {sys.executable} with tiendo importable"
    return None


@pytest.fixture
def shared_folder() -> Iterator[Path]:
    """A folder `nobody` can enter and read, owned by root (pytest's own is root-only)."""
    folder = Path(tempfile.mkdtemp(prefix="tiendo-ro-"))
    folder.chmod(0o755)
    yield folder
    shutil.rmtree(folder)


@pytest.mark.parametrize(
    ("command", "held_open"),
    [(["run"], False), (["db", "upgrade"], False), (["shell"], False), (["run"], True)],
)
def test_a_database_file_it_may_not_write_is_one_line_and_an_error_exit(
    command: list[str], held_open: bool, shared_folder: Path
) -> None:
    """`held_open`: another process (root's) has the database open, so its WAL files exist
    and SQLite lets `nobody` open and even BEGIN IMMEDIATE on it: only a write fails."""
    if reason := _cannot_drop_privileges():
        pytest.skip(reason)
    url = f"sqlite:///{shared_folder / 'tiendo.db'}"
    owner = Database(url)
    owner.upgrade()  # a real, current database, written by root
    (shared_folder / "tiendo.db").chmod(0o644)
    held = owner.engine.connect() if held_open else None
    if held is not None:
        held.exec_driver_sql("SELECT count(*) FROM alembic_version")
    else:
        owner.dispose()  # the last connection closed: SQLite removes the WAL files
    assert (shared_folder / "tiendo.db-wal").exists() is held_open
    env = os.environ | {
        "TIENDO_DATABASE_URL": url,
        "TIENDO_TELEGRAM_TOKEN": "123:abc",
        "TIENDO_SERVER_PORT": "0",
        "TIENDO_FILES_DIR": str(shared_folder / "files"),
    }
    result = subprocess.run(
        [*AS_NOBODY, *TIENDO, *command],
        env=env,
        cwd=shared_folder,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if held is not None:
        held.close()
        owner.dispose()
    assert result.returncode == 1, (result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, (result.stdout, result.stderr)
    # In the default language, Vietnamese: it cannot write, not "cannot reach".
    assert lines[0].startswith(f"Cơ sở dữ liệu: không ghi được vào {url}: "), lines[0]
    assert "readonly" in lines[0]


class Immutable:
    """`chattr +i` on files while inside: no process may write them, root included."""

    def __init__(self, *paths: Path) -> None:
        self.paths = paths

    def __enter__(self) -> Immutable:
        subprocess.run(["chattr", "+i", *map(str, self.paths)], check=True)
        return self

    def __exit__(self, *_exc: object) -> None:
        subprocess.run(["chattr", "-i", *map(str, self.paths)], check=True)


def _no_immutable_flag(folder: Path) -> str | None:
    if os.geteuid() != 0 or shutil.which("chattr") is None:
        return "chattr +i needs root and e2fsprogs"
    probe = folder / "probe"
    probe.touch()
    done = subprocess.run(["chattr", "+i", str(probe)], capture_output=True, text=True)
    if done.returncode != 0:
        return f"this file system has no immutable flag: {done.stderr.strip()}"
    subprocess.run(["chattr", "-i", str(probe)], check=True)
    probe.unlink()
    return None


async def test_a_database_file_made_read_only_while_running_loses_nothing(
    tmp_path: Path,
) -> None:
    if reason := _no_immutable_flag(tmp_path):
        pytest.skip(reason)
    path = tmp_path / "tiendo.db"
    url = f"sqlite:///{path}"
    async with FakeTelegram() as fake:
        process = await start(environment(fake, url), tmp_path)
        reader = Database(url, read_only=True)
        try:
            people = await join_reporters(fake, 8, timeout=60)
            chats = [chat for chat, _ in people]
            values = [float(100 + n) for n in range(48)]  # each report its own value
            first, second = values[:24], values[24:]
            for n, value in enumerate(first):
                fake.push_message(*people[n % len(people)], f"/report {value:g} hộ")
            await fake.wait_for(
                lambda: tally(reader, values, replies(fake, chats)).confirmed >= 1, 60
            )
            # The database and its write-ahead log, which holds what is not checkpointed yet.
            # (Not the -shm index: SQLite maps it in memory, and a write to an immutable
            # mapping kills the process with SIGBUS, which tests/test_run.py's kills cover.)
            with Immutable(path, path.with_name(path.name + "-wal")):
                polls = len(fake.calls_of("getUpdates"))
                burst = [
                    fake.push_message(*people[n % len(people)], f"/report {value:g} hộ")
                    for n, value in enumerate(second)
                ]
                ids = [u["update_id"] for u in burst]
                # Handed over, not stored, handed over again: Telegram still holds the burst.
                await fake.wait_for(
                    lambda: (
                        len(fake.calls_of("getUpdates")) >= polls + 3
                        or not set(ids) <= set(fake.unconfirmed())
                    ),  # acknowledged: fails below
                    60,
                )
                assert set(ids) <= set(fake.unconfirmed())
                offsets = [c.params.get("offset", 0) for c in fake.calls_of("getUpdates")[polls:]]
                assert max(offsets) <= min(ids)
                shown = replies(fake, chats)
                assert not any(a in t.lower() for t in shown for a in APOLOGIES), shown
                assert process.returncode is None  # still running

            def all_confirmed() -> bool:
                return tally(reader, values, replies(fake, chats)).confirmed == len(values)

            await fake.wait_for(all_confirmed, timeout=120)
            await asyncio.sleep(1)  # a doubled confirmation would arrive now
            result = tally(reader, values, replies(fake, chats))
            with reader.session() as session:
                retried = session.exec(
                    select(func.count()).select_from(Delivery).where(col(Delivery.attempts) > 1)
                ).one()
        finally:
            await stop(process)
            reader.dispose()
        assert fake.violations == []
    assert result.ok, result
    assert result.confirmed_twice == 0, result
    # Deliveries of the first burst were being handled when the files froze: released, retried.
    assert retried > 0
