"""The guarantees of SPEC §7 under faults, in-process and short (seconds each): a database that
fails for a while during a burst of reports, /healthz, the command line against a database that
does not answer. The process-level ones (kill -9, two instances) are in tests/test_run.py and
tests/test_instances.py; the long versions in bench/faults.py."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from typer.testing import CliRunner

from bot.app import build
from bot.cli import cli
from bot.config import Config
from bot.runtime import Runtime
from bot.tuning import Tuning
from handlers.clock import SystemClock
from storage.db import Database
from tests.fakes.telegram_api import FakeTelegram
from tests.faults import Outage, tally
from tests.scenarios import telegram_config

ADMIN = 1001
FAST = Tuning(retry_backoff=0.01, poll_timeout=1, worker_poll=0.1, record_retry=0.2)


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram() as fake:
        yield fake
        assert fake.violations == []


async def set_up_reporters(fake: FakeTelegram, count: int) -> list[tuple[Any, Any]]:
    """A campaign with one team and `count` reporters who joined it; their (chat, user)."""
    admin = fake.user(ADMIN, "Lan", "vi")
    chat = fake.private_chat(admin)
    for line in (
        '/campaign new road "Đường" start=2025-01-01',
        '/metric add households "Hộ" unit=household aliases=hộ',
        '/team add t1 "Tổ 1"',
        "/invite t1 uses=1000",
    ):
        fake.push_message(chat, admin, line)
    invite = await fake.wait_for_message(chat["id"], "start=", timeout=20)
    code = (invite["text"] or "").split("start=")[1].split()[0]
    reporters = []
    for n in range(count):
        user = fake.user(3000 + n, f"Tổ viên {n}", "vi")
        private = fake.private_chat(user)
        fake.push_message(private, user, f"/start {code}")
        reporters.append((private, user))
    for private, _ in reporters:
        await fake.wait_for_message(private["id"], "Tổ 1", timeout=20)
    return reporters


def replies(fake: FakeTelegram, chats: list[Any]) -> list[str]:
    return [m["text"] or "" for chat in chats for m in fake.messages(chat["id"])]


async def test_a_database_away_during_a_burst_loses_nothing_and_asks_nobody_again(
    fake: FakeTelegram, db: Database
) -> None:
    """The database fails at random statements for a while in the middle of a burst: no user
    gets an apology, and every report is recorded once and confirmed once when it is back."""
    outage = Outage(db, rate=0.5)
    runtime = Runtime(
        build(telegram_config(fake), clock=SystemClock(), db=db, adapters=True, tuning=FAST)
    )
    await runtime.start()
    try:
        reporters = await set_up_reporters(fake, 8)
        values = [float(100 + n) for n in range(48)]  # each report its own value
        outage.down = True
        for n, value in enumerate(values):
            private, user = reporters[n % len(reporters)]
            fake.push_message(private, user, f"/report {value:g} hộ")
        await asyncio.sleep(1.5)
        outage.down = False
        chats = [private for private, _ in reporters]

        def all_confirmed() -> bool:
            return tally(db, values, replies(fake, chats)).confirmed == len(values)

        await fake.wait_for(all_confirmed, timeout=60)
        await asyncio.sleep(0.5)  # a doubled confirmation would arrive now
        result = tally(db, values, replies(fake, chats))
    finally:
        outage.remove()
        await runtime.stop()
    assert outage.failed > 0  # the outage did hit
    assert result.ok, result
    assert result.confirmed_twice == 0, result


async def test_healthz_says_whether_the_database_answers(db: Database) -> None:
    config = Config()
    config.server.port = 0
    for database, status in ((db, 200), (Database("postgresql+psycopg://u:pw@127.0.0.1:9/x"), 503)):
        runtime = Runtime(build(config, db=database))
        await runtime.start()
        try:
            url = f"http://127.0.0.1:{runtime.port}/healthz"
            async with aiohttp.ClientSession() as session, session.get(url) as response:
                body = await response.json()
        finally:
            await runtime.stop()
        assert response.status == status
        assert body["database"] is (status == 200) and body["ok"] is (status == 200)


@pytest.mark.parametrize(
    "command",
    [["run"], ["db", "upgrade"], ["shell"], ["export", "--campaign", "road"], ["demo"]],
)
def test_a_database_that_does_not_answer_is_one_line_and_an_error_exit(
    command: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # no config.toml here: the environment alone
    env = {
        "TIENDO_DATABASE_URL": "postgresql+psycopg://tiendo:s3cret@127.0.0.1:9/tiendo",
        "TIENDO_TELEGRAM_TOKEN": "123:abc",
        "TIENDO_FILES_DIR": str(tmp_path),
    }
    result = CliRunner().invoke(cli, command, env=env)
    assert result.exit_code == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    # In the default language, Vietnamese, naming the database without its password.
    assert lines[0].startswith(
        "Cơ sở dữ liệu: không kết nối được postgresql+psycopg://tiendo:***@127.0.0.1:9"
    )
    assert "s3cret" not in result.output + result.stderr and "Traceback" not in result.stderr
