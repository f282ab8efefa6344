"""`tiendo run` with Zalo as a real process, configured from TIENDO_ZALO_* alone, against the fake
Zalo Bot API: a `kill -9` in the middle of a burst of reports loses none and records none twice.

Webhook mode, because that is the mode where Zalo itself keeps an update until tiendo has it:
the fake posts each update until it is answered 200, which tiendo does only once the update is
stored. (In polling mode an update in flight on the wire at the instant of a kill is gone:
getUpdates has no offset, so nothing can ask for it again — docs/zalo.md.)"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
from pathlib import Path

from sqlmodel import select

from storage.db import Database
from storage.models import Report
from tests.fakes.zalo_api import FakeZalo

PUBLIC = "https://bot.example.org"
SECRET = "kill-nine-secret_0123"
ADMIN, REPORTER = "a0000000000000000001", "b0000000000000000002"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def environment(fake: FakeZalo, database: str, port: int) -> dict[str, str]:
    return os.environ | {
        "TIENDO_DATABASE_URL": database,
        "TIENDO_ZALO_TOKEN": fake.token,
        "TIENDO_ZALO_API_BASE_URL": fake.base_url,
        "TIENDO_ZALO_MODE": "webhook",
        "TIENDO_ZALO_WEBHOOK_URL": f"{PUBLIC}/zalo",
        "TIENDO_ZALO_WEBHOOK_SECRET": SECRET,
        "TIENDO_SERVER_PORT": str(port),
        "TIENDO_SERVER_PUBLIC_URL": PUBLIC,
        "TIENDO_SERVER_INSTANCE": "zalo-run-test",
        "TIENDO_ADMINS_SUPERADMINS": f"zalo:{ADMIN}",
    }


async def start(
    fake: FakeZalo, database: str, port: int, tmp_path: Path
) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        "from bot.cli import main; main()",
        "run",
        env=environment(fake, database, port),
        cwd=tmp_path,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=(tmp_path / "tiendo.log").open("ab"),
    )


async def stop(process: asyncio.subprocess.Process) -> None:
    if process.returncode is None:
        process.kill()
        await process.wait()


async def test_tiendo_run_with_zalo_survives_kill_9(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'tiendo.db'}"
    port = free_port()
    # Webhook retries back off 0.1 s, 0.2 s … 25 s: enough to span a restart.
    async with FakeZalo(second=0.1, webhook_attempts=10) as fake:
        fake.route(PUBLIC, f"http://127.0.0.1:{port}")
        admin, reporter = fake.user("Lan", id=ADMIN), fake.user("Minh", id=REPORTER)
        chat, private = fake.private_chat(admin), fake.private_chat(reporter)
        process = await start(fake, url, port, tmp_path)
        try:
            for line in (
                '/campaign new road "Đường" start=2025-01-01',
                '/metric add households "Hộ" unit=household aliases=hộ',
                '/team add t1 "Tổ 1"',
                "/invite t1",
            ):
                fake.push_text(chat, admin, line)
            invite = await fake.wait_for_message(chat["id"], "Mã mời", timeout=30)
            code = (invite.text or "").split()[2].rstrip(":")
            fake.push_text(private, reporter, f"/join {code}")
            await fake.wait_for_message(private["id"], "Tổ 1", timeout=30)
            # A burst of reports; the process is killed as soon as the first is confirmed.
            burst = [fake.push_text(private, reporter, f"/report {n} hộ") for n in range(1, 21)]
            await fake.wait_for_message(private["id"], "✅", timeout=30)
            process.kill()
            await process.wait()
        finally:
            await stop(process)

        process = await start(fake, url, port, tmp_path)
        try:
            # A chat's messages are handled in order: once this is answered, the burst is done.
            fake.push_text(private, reporter, "/me")
            await fake.wait_for_message(private["id"], f"zalo:{REPORTER}", timeout=60)
            db = Database(url)
            with db.session() as session:
                reports = list(session.exec(select(Report)).all())
            db.dispose()
            assert sorted(r.source_message_id or "" for r in reports) == sorted(
                f"zalo:{REPORTER}:{u['message']['message_id']}" for u in burst
            )
            confirmed = {m.text for m in fake.sent(private["id"]) if "✅" in (m.text or "")}
            assert len(confirmed) == len(burst)  # each report confirmed (a resend is the same)
            assert fake.webhook_dropped == []
            process.send_signal(signal.SIGTERM)
            assert await asyncio.wait_for(process.wait(), 30) == 0
        finally:
            await stop(process)
        assert fake.violations == []
