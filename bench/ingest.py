"""Reports answered per second, and reply latency, through the real Telegram adapter.

tiendo is built by `bot.app.build(config, adapters=True)` and started by `bot.runtime.Runtime`
as `tiendo run` does, against the project's spec-checked fake Bot API on 127.0.0.1. Each report
is parsed, authorized, committed and answered. The floor is a bare python-telegram-bot bot on the
same fake in the same run: it answers every command with one message and stores nothing.

For scale, the smallest bot that stores before it answers runs on the same fake too: plain
python-telegram-bot and raw sqlite3, three commits a message (the update stored; a report, its
reply and the update done; the reply sent), each in a thread as tiendo's are, one message at a
time (the floor's way) and with 16 in flight (as a bot must against a real API, where a send
takes ~100 ms)."""

from __future__ import annotations

import asyncio
import sqlite3
import statistics
import tempfile
import threading
import time
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from bot.app import build
from bot.config import Config, DatabaseConfig, TelegramConfig
from bot.runtime import Runtime, settle_heap
from bot.tuning import Tuning
from storage.db import Database
from storage.models import Account, Campaign, Membership, Metric, Team, TeamMember
from tests.fakes.telegram_api import Call, FakeTelegram, Obj

FIRST_REPORTER = 10_000
NOW = datetime(2025, 3, 10, 3, 0, tzinfo=UTC)


class TimedTelegram(FakeTelegram):
    """The fake, noting when each message the bot sends arrives, and to which chat."""

    def __init__(self) -> None:
        super().__init__()
        self.arrivals: defaultdict[int, list[float]] = defaultdict(list)

    async def _send_message(self, call: Call) -> Obj:
        result = await super()._send_message(call)
        if (result.get("text") or "").startswith("✅"):
            self.arrivals[result["chat"]["id"]].append(time.perf_counter())
        return result

    def answered(self) -> int:
        return sum(len(times) for times in self.arrivals.values())

    def reset(self) -> None:
        self.arrivals.clear()
        self.calls.clear()  # the fake keeps every call; a long run only needs the new ones


@dataclass(frozen=True)
class Reporters:
    users: list[Obj]
    chats: list[Obj]


def reporters(fake: FakeTelegram, count: int) -> Reporters:
    users = [fake.user(FIRST_REPORTER + i, f"Tổ viên {i}", "vi") for i in range(count)]
    return Reporters(users, [fake.private_chat(user) for user in users])


def seed_reporters(db: Database, count: int) -> None:
    """A campaign with one metric and `count` reporters, each the only member of a team."""
    with db.session() as session:
        campaign = Campaign(code="road", name="Đường", start_date=date(2025, 1, 1), created_at=NOW)
        session.add(campaign)
        session.flush()
        metric = Metric(
            campaign_id=campaign.id,  # type: ignore[arg-type]
            key="households",
            label_vi="Hộ",
            label_en="Households",
            unit="household",
            aliases=["hộ"],
        )
        teams = [
            Team(campaign_id=campaign.id, code=f"t{i}", name=f"Tổ {i}")  # type: ignore[arg-type]
            for i in range(count)
        ]
        accounts = [
            Account(
                key=f"telegram:{FIRST_REPORTER + i}", display_name=f"Tổ viên {i}", created_at=NOW
            )
            for i in range(count)
        ]
        session.add_all([metric, *teams, *accounts])
        session.flush()
        for account, team in zip(accounts, teams, strict=True):
            session.add(
                Membership(account_id=account.id, campaign_id=campaign.id, role="reporter")  # type: ignore[arg-type]
            )
            session.add(TeamMember(account_id=account.id, team_id=team.id))  # type: ignore[arg-type]


def tiendo_config(fake: FakeTelegram, url: str, rate: int) -> Config:
    config = Config(
        database=DatabaseConfig(url=url),
        telegram=TelegramConfig(
            token=SecretStr(fake.token),
            username=fake.username,
            api_base_url=fake.base_url.removesuffix("/bot"),
            max_messages_per_second=rate,
        ),
    )
    config.server.port = 0
    return config


async def started_tiendo(fake: FakeTelegram, db: Database, rate: int) -> Runtime:
    app = build(
        tiendo_config(fake, db.url, rate),
        db=db,
        adapters=True,
        tuning=Tuning(poll_timeout=1),  # the workers poll as `tiendo run` does
    )
    runtime = Runtime(app)
    await runtime.start()
    settle_heap()  # as `tiendo run` does once it has started
    return runtime


async def started_bare_bot(fake: FakeTelegram) -> Any:
    """python-telegram-bot as its documentation starts it: polling, one handler that answers."""
    from telegram import Update
    from telegram.ext import Application, ContextTypes, MessageHandler, filters

    async def answer(update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.message is not None
        await update.message.reply_text("✅ " + (update.message.text or ""))

    application = (
        Application.builder()
        .token(fake.token)
        .base_url(fake.base_url)
        .base_file_url(fake.base_file_url)
        .build()
    )
    application.add_handler(MessageHandler(filters.COMMAND, answer))
    await application.initialize()
    assert application.updater is not None
    await application.updater.start_polling(poll_interval=0, timeout=1)
    await application.start()
    return application


DURABLE_TABLES = """
create table delivery (id integer primary key, key text unique, payload text, done integer);
create table report (id integer primary key, account text, value real);
create table outgoing (id integer primary key, target text, payload text, sent integer);
"""
STORE = "insert into delivery (key, payload) values (?, ?)"
RECORD = "insert into report (account, value) values (?, ?)"
WRITE_REPLY = "insert into outgoing (target, payload) values (?, ?)"
DONE = "update delivery set done = 1 where id = ?"
SENT = "update outgoing set sent = 1 where id = ?"


class DurableMinimum:
    """What storing before answering costs at the least: no ORM, no leases, no engine."""

    def __init__(self, path: Path) -> None:
        self.db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self.db.execute("pragma journal_mode=wal")
        self.db.execute("pragma synchronous=normal")
        self.db.executescript(DURABLE_TABLES)
        self.lock = threading.Lock()  # one writer, as SQLite has

    def _commit(self, statements: list[tuple[str, tuple[Any, ...]]]) -> int:
        with self.lock:
            self.db.execute("begin immediate")
            row = 0
            for sql, params in statements:
                row = self.db.execute(sql, params).lastrowid or row
            self.db.execute("commit")
            return row

    async def answer(self, update: Any, _context: Any) -> None:
        message = update.message
        stored = await asyncio.to_thread(self._commit, [(STORE, (update.update_id, message.text))])
        reply = "✅ " + (message.text or "")
        value = float(message.text.split()[1])
        outgoing = await asyncio.to_thread(
            self._commit,
            [
                (RECORD, (message.from_user.id, value)),
                (WRITE_REPLY, (message.chat.id, reply)),
                (DONE, (stored,)),
            ],
        )
        await message.reply_text(reply)
        await asyncio.to_thread(self._commit, [(SENT, (outgoing,))])


async def started_durable_bot(fake: FakeTelegram, bot: DurableMinimum, in_flight: int) -> Any:
    from telegram.ext import Application, MessageHandler, filters

    application = (
        Application.builder()
        .token(fake.token)
        .base_url(fake.base_url)
        .base_file_url(fake.base_file_url)
        .concurrent_updates(in_flight if in_flight > 1 else False)
        .build()
    )
    application.add_handler(MessageHandler(filters.COMMAND, bot.answer))
    await application.initialize()
    assert application.updater is not None
    await application.updater.start_polling(poll_interval=0, timeout=1)
    await application.start()
    return application


async def stop_bare_bot(application: Any) -> None:
    await application.updater.stop()
    await application.stop()
    await application.shutdown()


async def _until(predicate: Any, timeout: float) -> None:
    deadline = time.perf_counter() + timeout
    while not predicate():
        if time.perf_counter() > deadline:
            raise TimeoutError(f"not done within {timeout} s")
        await asyncio.sleep(0.005)


async def burst(
    fake: TimedTelegram, people: Reporters, count: int, timeout: float, *, allowance: int = 0
) -> float:
    """`count` reports queued at once, spread over the reporters; answers per second from the
    moment they are queued to the last confirmation. With `allowance`, from the confirmation
    after that many: a rate limiter lets its first second's worth out at once."""
    fake.reset()
    for n in range(count):
        i = n % len(people.users)
        fake.push_message(people.chats[i], people.users[i], f"/report {n % 9 + 1} hộ")
    start = time.perf_counter()
    await _until(lambda: fake.answered() >= count, timeout)
    times = sorted(t for times in fake.arrivals.values() for t in times)
    if allowance:
        return (count - allowance) / (times[-1] - times[allowance - 1])
    return count / (times[-1] - start)


async def paced(
    fake: TimedTelegram, people: Reporters, rate: float, count: int, timeout: float
) -> float:
    """`count` reports at `rate` a second, round-robin over the reporters; the p99 seconds from
    a report reaching the fake to its confirmation reaching it."""
    fake.reset()
    pushed: defaultdict[int, list[float]] = defaultdict(list)
    start = time.perf_counter()
    for n in range(count):
        await asyncio.sleep(max(0.0, start + n / rate - time.perf_counter()))
        i = n % len(people.users)
        fake.push_message(people.chats[i], people.users[i], f"/report {n % 9 + 1} hộ")
        pushed[people.chats[i]["id"]].append(time.perf_counter())
    await _until(lambda: fake.answered() >= count, timeout)
    latencies = []
    for chat, times in pushed.items():
        # Each report's confirmation is the first to reach its chat after it was sent.
        arrivals = sorted(fake.arrivals[chat])
        for sent in times:
            answered = next((t for t in arrivals if t >= sent), None)
            if answered is not None:
                arrivals.remove(answered)
                latencies.append(answered - sent)
    return statistics.quantiles(latencies, n=100)[98]


@dataclass(frozen=True)
class Sizes:
    reporters: int = 200
    burst: int = 2_000
    default_burst: int = 300  # at 30 messages/s: 10 s
    paced_rate: float = 20.0
    paced: int = 400  # 20 s at 20 a second


async def floor(fake: TimedTelegram, people: Reporters, sizes: Sizes) -> tuple[float, float, float]:
    """The bare bot: answers per second in a burst, the CPU seconds each took (the bot's and
    the fake's, which shares the process), and p99 latency when paced."""
    application = await started_bare_bot(fake)
    try:
        cpu = time.process_time()
        rate = await burst(fake, people, sizes.burst, timeout=120)
        cpu = (time.process_time() - cpu) / sizes.burst
        p99 = await paced(fake, people, sizes.paced_rate, sizes.paced, timeout=120)
    finally:
        await stop_bare_bot(application)
    return rate, cpu, p99


def command_cpu(db: Database, reporters: int, count: int = 500) -> float:
    """CPU seconds of one `/report` alone: the engine run back to back in this thread, its reply
    written in its transaction as a delivery's is, nothing else in the process running."""
    from handlers.values import Ref, Request

    app = build(Config(database=DatabaseConfig(url=db.url)), db=db, migrate=False)

    def report(n: int) -> None:
        i = n % reporters
        user = Ref("telegram", "", str(FIRST_REPORTER + i))
        request = Request(
            user, user, "report", f"{n % 9 + 1} hộ", f"Tổ viên {i}", message_id=f"cpu:{n}"
        )
        reply = app.engine.handle(request, app.outbox.then(user, {}))
        assert reply.text.startswith("✅"), reply.text

    for n in range(reporters):  # every chat seen, caches and statements warm, as in a running bot
        report(n)
    started = time.process_time()
    for n in range(reporters, reporters + count):
        report(n)
    return (time.process_time() - started) / count


async def durable_minimum(fake: TimedTelegram, people: Reporters, sizes: Sizes) -> list[float]:
    """Answers per second in a burst of the smallest durable bot, one at a time and 16 in
    flight."""
    rates = []
    for in_flight in (1, 16):
        with tempfile.TemporaryDirectory() as scratch:
            bot = DurableMinimum(Path(scratch) / "min.db")
            application = await started_durable_bot(fake, bot, in_flight)
            try:
                rates.append(await burst(fake, people, sizes.burst, timeout=120))
            finally:
                await stop_bare_bot(application)
                bot.db.close()
    return rates


async def tiendo(
    fake: TimedTelegram, people: Reporters, db: Database, sizes: Sizes
) -> dict[str, float]:
    """Answers per second at 1,000 and at 30 messages/s, and p99 latency at the default."""
    results: dict[str, float] = {}
    runtime = await started_tiendo(fake, db, 1_000)
    try:
        results["burst"] = await burst(fake, people, sizes.burst, timeout=300)
    finally:
        await runtime.stop()
    runtime = await started_tiendo(fake, db, 30)
    try:
        results["default burst"] = await burst(
            fake, people, sizes.default_burst, timeout=300, allowance=30
        )
        results["p99"] = await paced(fake, people, sizes.paced_rate, sizes.paced, timeout=300)
    finally:
        await runtime.stop()
    return results
