"""Resident memory of whole processes: `tiendo run` idle with Telegram, Slack and the scheduler
(against the fake Bot API and the fake Slack Web API on 127.0.0.1), against a bare
`import sqlalchemy, sqlmodel`."""

from __future__ import annotations

import asyncio
import os
import socket
import sys
import tempfile
import time
from pathlib import Path

import aiohttp

from bench.common import Figure, rss_mb
from bench.processes import BARE_IMPORT, TIENDO, median_run
from tests.fakes.slack_api import BOT_TOKEN, FakeSlack
from tests.fakes.telegram_api import FakeTelegram


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


async def idle_run_rss(settle: float) -> float:
    """RSS of `tiendo run` `settle` seconds after /healthz first answers."""
    port = _free_port()
    async with FakeTelegram() as telegram, FakeSlack() as slack:
        with tempfile.TemporaryDirectory(prefix="tiendo-bench-") as folder:
            env = os.environ | {
                "TIENDO_DATABASE_URL": f"sqlite:///{Path(folder) / 'tiendo.db'}",
                "TIENDO_SERVER_PORT": str(port),
                "TIENDO_TELEGRAM_TOKEN": telegram.token,
                "TIENDO_TELEGRAM_USERNAME": telegram.username,
                "TIENDO_TELEGRAM_API_BASE_URL": telegram.base_url.removesuffix("/bot"),
                "TIENDO_SLACK_BOT_TOKEN": BOT_TOKEN,
                "TIENDO_SLACK_SIGNING_SECRET": "bench-signing-secret",
                "TIENDO_SLACK_API_BASE_URL": slack.api_url,
            }
            process = await asyncio.create_subprocess_exec(
                TIENDO,
                "run",
                env=env,
                cwd=folder,
                stdout=asyncio.subprocess.DEVNULL,
                stderr=asyncio.subprocess.DEVNULL,
            )
            try:
                deadline = time.perf_counter() + 60
                async with aiohttp.ClientSession() as client:
                    while True:
                        try:
                            async with client.get(f"http://127.0.0.1:{port}/healthz") as answer:
                                if answer.status == 200:
                                    break
                        except aiohttp.ClientError:
                            pass
                        if time.perf_counter() > deadline or process.returncode is not None:
                            raise RuntimeError("tiendo run did not start")
                        await asyncio.sleep(0.1)
                await asyncio.sleep(settle)
                return rss_mb(process.pid)
            finally:
                process.terminate()
                await asyncio.wait_for(process.wait(), 30)


def measure(*, settle: float, repeat: int) -> list[Figure]:
    _, floor_mb = median_run(BARE_IMPORT, repeat)
    idle = asyncio.run(idle_run_rss(settle))
    return [
        Figure(
            "`tiendo run` idle RSS (Telegram + Slack + scheduler, SQLite)",
            idle,
            "MB",
            floor_mb,
            "import sqlalchemy, sqlmodel",
            "≤ 120 MB",
            idle <= 120,
        ),
    ]


if __name__ == "__main__":
    print(asyncio.run(idle_run_rss(float(sys.argv[1]) if len(sys.argv) > 1 else 3)))
