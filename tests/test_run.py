"""`tiendo run` as a real process against the fake Telegram server: it starts from environment
variables alone, stops cleanly on SIGTERM, and a `kill -9` in the middle of a burst of reports
loses none and records none twice."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

from sqlmodel import select

from storage.db import Database
from storage.models import Report
from tests.fakes.telegram_api import FakeTelegram
from tests.scenarios import kill_burst

ADMIN, REPORTER = 1001, 2002


def environment(fake: FakeTelegram, database: str) -> dict[str, str]:
    return os.environ | {
        "TIENDO_DATABASE_URL": database,
        "TIENDO_TELEGRAM_TOKEN": fake.token,
        "TIENDO_TELEGRAM_USERNAME": fake.username,
        "TIENDO_TELEGRAM_API_BASE_URL": fake.base_url.removesuffix("/bot"),
        "TIENDO_ADMINS_SUPERADMINS": f"telegram:{ADMIN}",
        "TIENDO_SERVER_PORT": "0",
    }


async def start(fake: FakeTelegram, database: str, tmp_path: Path) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        "from bot.cli import main; main()",
        "run",
        env=environment(fake, database),
        cwd=tmp_path,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=(tmp_path / "tiendo.log").open("ab"),
    )


async def test_tiendo_run_survives_kill_9_without_losing_or_doubling_reports(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'tiendo.db'}"
    async with FakeTelegram() as fake:
        admin, reporter = fake.user(ADMIN, "Lan"), fake.user(REPORTER, "Minh")
        chat, private = fake.private_chat(admin), fake.private_chat(reporter)
        process = await start(fake, url, tmp_path)
        try:
            for line in (
                '/campaign new road "Đường" start=2025-01-01',
                '/metric add households "Hộ" unit=household aliases=hộ',
                '/team add t1 "Tổ 1"',
                "/invite t1",
            ):
                fake.push_message(chat, admin, line)
            invite = await fake.wait_for_message(chat["id"], "start=", timeout=30)
            code = (invite["text"] or "").split("start=")[1].split()[0]
            fake.push_message(private, reporter, f"/start {code}")
            await fake.wait_for_message(private["id"], "Tổ 1", timeout=30)
            # A burst of reports; the process is killed as soon as the first is confirmed.
            burst = [fake.push_message(private, reporter, f"/report {n} hộ") for n in range(1, 21)]
            await fake.wait_for_message(private["id"], "✅", timeout=30)
            process.kill()
            await process.wait()
        finally:
            if process.returncode is None:
                process.kill()
                await process.wait()

        process = await start(fake, url, tmp_path)
        try:
            # Updates are handled in order per chat: once this is answered, the burst is done.
            fake.push_message(private, reporter, "/me")
            await fake.wait_for_message(private["id"], f"telegram:{REPORTER}", timeout=30)
            db = Database(url)
            with db.session() as session:
                reports = list(session.exec(select(Report)).all())
            db.dispose()
            assert sorted(r.source_message_id or "" for r in reports) == sorted(
                f"telegram:{REPORTER}:{u['message']['message_id']}" for u in burst
            )
            confirmed = {
                m["text"] for m in fake.messages(private["id"]) if "✅" in (m["text"] or "")
            }
            assert len(confirmed) == len(burst)  # each report confirmed (a resend is the same)
            process.send_signal(signal.SIGTERM)
            assert await asyncio.wait_for(process.wait(), 30) == 0
        finally:
            if process.returncode is None:
                process.kill()
                await process.wait()
        assert fake.violations == []


async def test_a_burst_from_many_reporters_survives_random_kill_9s(tmp_path: Path) -> None:
    """200 reports from 20 reporters, each with its own value, and two SIGKILLs at random
    moments: every report stored once and confirmed. (bench/faults.py runs the long version.)"""
    run = await kill_burst(
        f"sqlite:///{tmp_path / 'tiendo.db'}", tmp_path, reports=200, reporters=20, kills=2
    )
    assert run.kills == 2
    assert run.tally.ok, run.tally
