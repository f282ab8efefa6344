"""Whole-process fault scenarios against the fake Telegram server: a real `tiendo run` (one
process per instance) killed with SIGKILL in the middle of a burst. tests/test_run.py runs them
short; bench/faults.py runs them long and prints the figures docs/reliability.md quotes."""

from __future__ import annotations

import asyncio
import os
import random
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from storage.db import Database
from tests.fakes.telegram_api import FakeTelegram
from tests.faults import Tally, tally

ADMIN = 1001
Obj = dict[str, Any]


def environment(fake: FakeTelegram, database: str, **extra: str) -> dict[str, str]:
    return os.environ | {
        "TIENDO_DATABASE_URL": database,
        "TIENDO_TELEGRAM_TOKEN": fake.token,
        "TIENDO_TELEGRAM_USERNAME": fake.username,
        "TIENDO_TELEGRAM_API_BASE_URL": fake.base_url.removesuffix("/bot"),
        "TIENDO_ADMINS_SUPERADMINS": f"telegram:{ADMIN}",
        "TIENDO_SERVER_PORT": "0",
        **extra,
    }


async def start(env: dict[str, str], folder: Path) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        "from bot.cli import main; main()",
        "run",
        env=env,
        cwd=folder,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=(folder / "tiendo.log").open("ab"),
    )


async def stop(process: asyncio.subprocess.Process) -> None:
    if process.returncode is None:
        process.kill()
        await process.wait()


async def join_reporters(fake: FakeTelegram, count: int, timeout: float) -> list[tuple[Obj, Obj]]:
    """The admin sets up a campaign with one team; `count` reporters join it."""
    admin = fake.user(ADMIN, "Lan", "vi")
    chat = fake.private_chat(admin)
    for line in (
        '/campaign new road "Đường" start=2025-01-01',
        '/metric add households "Hộ" unit=household aliases=hộ',
        '/team add t1 "Tổ 1"',
        "/invite t1 uses=1000 days=90",
    ):
        fake.push_message(chat, admin, line)
    invite = await fake.wait_for_message(chat["id"], "start=", timeout=timeout)
    code = (invite["text"] or "").split("start=")[1].split()[0]
    reporters = []
    for n in range(count):
        user = fake.user(3000 + n, f"Tổ viên {n}", "vi")
        private = fake.private_chat(user)
        fake.push_message(private, user, f"/start {code}")
        reporters.append((private, user))
    for private, _ in reporters:
        await fake.wait_for_message(private["id"], "Tổ 1", timeout=timeout)
    return reporters


@dataclass(frozen=True)
class KillRun:
    tally: Tally
    kills: int  # SIGKILLs the run survived


async def kill_burst(
    url: str, folder: Path, *, reports: int, reporters: int, kills: int, seed: int = 7
) -> KillRun:
    """`reporters` reporters send `reports` reports at once, each with its own value; `tiendo
    run` is killed with SIGKILL `kills` times at random moments of the burst and started again.
    Returns what was stored and confirmed, report by report."""
    rng = random.Random(seed)
    timeout = 60 + reports / 10
    async with FakeTelegram() as fake:
        env = environment(fake, url)
        process = await start(env, folder)
        try:
            people = await join_reporters(fake, reporters, timeout)
            chats = [chat for chat, _ in people]
            values = [float(100 + n) for n in range(reports)]
            for n, value in enumerate(values):
                chat, user = people[n % reporters]
                fake.push_message(chat, user, f"/report {value:g} hộ")

            def confirmed() -> int:
                return tally(db, values, replies(fake, chats)).confirmed

            db = Database(url)
            # Kill when a random share of the burst is confirmed, each later than the one before.
            moments = sorted(rng.uniform(0.05, 0.9) for _ in range(kills))
            survived = 0
            for share in moments:
                await fake.wait_for(lambda s=share: confirmed() >= s * reports, timeout=timeout)
                await asyncio.sleep(rng.uniform(0, 0.2))  # at any moment, not just after a send
                process.kill()
                await process.wait()
                survived += 1
                process = await start(env, folder)
            await fake.wait_for(lambda: confirmed() >= reports, timeout=timeout)
            await asyncio.sleep(1)  # a confirmation sent twice would arrive now
            result = tally(db, values, replies(fake, chats))
            db.dispose()
        finally:
            await stop(process)
        assert fake.violations == []
    return KillRun(result, survived)


def replies(fake: FakeTelegram, chats: list[Obj]) -> list[str]:
    return [m["text"] or "" for chat in chats for m in fake.messages(chat["id"])]
