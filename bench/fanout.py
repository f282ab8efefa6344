"""Fan-out: many campaigns whose digests fall in the same minute, rendered in the worker pool
the composition root builds and handed to the Telegram adapter, whose rate limiter keeps
Telegram's limits (30 messages/s overall, 20 a minute per group) against the fake Bot API.

The floor is the pool's ideal: the cores times the rate of one digest rendered alone in this
process. Telegram's limits are checked on what reached the fake."""

from __future__ import annotations

import asyncio
import os
import time
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from datetime import time as clock_time

from pydantic import SecretStr

from bench import seed
from bench.common import Figure, median_time, scratch_database
from bot.app import build
from bot.config import Config, DatabaseConfig, TelegramConfig
from bot.runtime import Runtime
from bot.tuning import Tuning
from handlers.clock import FixedClock
from handlers.language.i18n import Catalogs
from handlers.read import digest
from storage import queries
from storage.db import Database
from storage.models import Chat, DigestSubscription
from tests.fakes.telegram_api import Call, FakeTelegram

SENDS = {"sendMessage", "sendPhoto", "sendMediaGroup", "sendDocument"}
DUE = datetime(2025, 12, 31, 11, 0, tzinfo=UTC)  # 18:00 in Hà Nội


class CountingTelegram(FakeTelegram):
    """The fake, noting when each send arrives and for which chat."""

    def __init__(self) -> None:
        super().__init__()
        self.sends: list[tuple[float, int]] = []

    async def _handle(self, call: Call, method: object, problems: list[str]) -> object:
        if call.method in SENDS:
            self.sends.append((time.perf_counter(), int(call.params.get("chat_id", 0))))
        return await super()._handle(call, method, problems)  # type: ignore[arg-type]


def seed_campaigns(db: Database, count: int) -> list[int]:
    """`count` small campaigns (12 teams, 60 days), each with a group subscribed at 18:00."""
    chats = []
    for n in range(count):
        seeded = seed.create(db, f"f{n}", seed.Shape(teams=12, days=60, communes=3, villages=6))
        seed.bulk_load(db, seeded, seed.history(seeded, 60))
        chat_id = -(10_000 + n)
        with db.session() as session:
            chat = Chat(
                key=f"telegram:{chat_id}",
                title=f"Ban chỉ đạo {n}",
                is_group=True,
                created_at=seed.NOW,
            )
            session.add(chat)
            session.flush()
            session.add(
                DigestSubscription(
                    chat_id=chat.id,
                    campaign_id=seeded.campaign_id,
                    at=clock_time(18),
                    created_at=seed.NOW,
                )  # type: ignore[arg-type]
            )
        chats.append(chat_id)
    return chats


def _max_in_window(times: list[float], window: float) -> int:
    times = sorted(times)
    best, first = 0, 0
    for last, moment in enumerate(times):
        while moment - times[first] > window:
            first += 1
        best = max(best, last - first + 1)
    return best


async def fan_out(url: str, chats: list[int]) -> tuple[float, int, int, int]:
    """Digests per second from the tick to the last hand-off; the most sends in any second and
    to one chat in any minute; how many digests reached the fake."""
    clock = FixedClock(DUE - timedelta(minutes=10))
    async with CountingTelegram() as fake:
        for n, chat_id in enumerate(chats):
            fake.group(chat_id, f"Ban chỉ đạo {n}")
        config = Config(
            database=DatabaseConfig(url=url),
            telegram=TelegramConfig(
                token=SecretStr(fake.token),
                username=fake.username,
                api_base_url=fake.base_url.removesuffix("/bot"),
            ),
        )
        config.server.port = 0
        app = build(config, clock=clock, adapters=True, tuning=Tuning(poll_timeout=1))
        runtime = Runtime(app)
        await runtime.start()
        try:
            assert app.render_pool is not None
            loop = asyncio.get_running_loop()
            # Start the workers first: their one-time start (~2 s) is not a digest's cost.
            await asyncio.gather(
                *(
                    loop.run_in_executor(app.render_pool, time.sleep, 0.5)
                    for _ in range(os.cpu_count() or 1)
                )
            )
            fake.sends.clear()
            clock.current = DUE
            start = time.perf_counter()
            claims = await app.digests.tick()
            elapsed = time.perf_counter() - start
        finally:
            await runtime.stop()
        per_chat: defaultdict[int, list[float]] = defaultdict(list)
        for moment, chat_id in fake.sends:
            per_chat[chat_id].append(moment)
        assert fake.violations == [], fake.violations[:3]
        return (
            len(claims) / elapsed,
            _max_in_window([t for t, _ in fake.sends], 1.0),
            max((_max_in_window(times, 60.0) for times in per_chat.values()), default=0),
            len(per_chat),
        )


def measure(kind: str, *, campaigns: int, repeat: int) -> list[Figure]:
    with scratch_database(kind) as url:
        db = Database(url)
        db.upgrade()
        chats = seed_campaigns(db, campaigns)
        tr = Catalogs().translator("vi")

        def one() -> None:
            with db.session() as session:
                campaign = queries.campaign_by_code(session, "f0")
                assert campaign is not None
                digest.build(session, tr, campaign, DUE.date())

        one()
        single = median_time(one, repeat=repeat)
        ideal = (os.cpu_count() or 1) / single
        rate, per_second, per_chat, reached = asyncio.run(fan_out(url, chats))
        db.dispose()
    return [
        Figure(
            f"one small digest rendered (3 charts), in process, {kind}",
            single,
            "s",
            None,
            "",
            "—",
            None,
        ),
        Figure(
            f"fan-out: {campaigns:,} digests due in one minute → adapter, {kind} "
            f"(reached {reached:,} chats; ≤{per_second} sends/s, ≤{per_chat}/chat/min)",
            rate,
            "digests/s",
            ideal,
            "cores ÷ one digest",
            "≥ 10/s, ≤ 30 sends/s, ≤ 20/chat/min",
            rate >= 10 and per_second <= 30 and per_chat <= 20,
        ),
    ]
