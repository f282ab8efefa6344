"""Two instances behind a load balancer (SPEC §7): two runtimes in webhook mode, with their own
`server.instance` names and ports, on one PostgreSQL database. Each webhook POST goes to one of
them at random, and some are repeated, to the same one or the other, at once: every command runs
once and is answered once (no doubled invites, no doubled confirmations); storms of 429 and 500
from the Telegram API on the way out change nothing but the timing."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pydantic import SecretStr
from sqlmodel import col, select

from bot.app import build
from bot.runtime import Runtime
from bot.tuning import Tuning
from handlers.clock import Clock, FixedClock, SystemClock
from storage.db import Database
from storage.models import Delivery, Invite, Metric, Report, ReportValue
from tests.fakes.telegram_api import FakeTelegram, SentMessage, button
from tests.faults import tally
from tests.scenarios import telegram_config

pytestmark = pytest.mark.postgres
ADMIN, SECRET = 1001, "hook-secret_1"
FAST = Tuning(retry_backoff=0.01, poll_timeout=1, worker_poll=0.1, record_retry=0.2, form_sweep=0.1)
Obj = dict[str, Any]


@pytest.fixture
def database(db: Database) -> Database:
    if db.is_sqlite:
        pytest.skip("several instances share a PostgreSQL database")
    return db


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram() as fake:
        yield fake
        assert fake.violations == []


async def instance(
    fake: FakeTelegram, db: Database, name: str, clock: Clock | None = None
) -> Runtime:
    config = telegram_config(
        fake,
        mode="webhook",
        webhook_url="https://bot.example.org/telegram/hook",
        webhook_secret=SecretStr(SECRET),
    )
    config.server.instance = name
    clock = clock or SystemClock()
    runtime = Runtime(build(config, clock=clock, db=db, adapters=True, tuning=FAST))
    await runtime.start()
    return runtime


class Balancer:
    """Sends each update to a random instance; one in three again at once, to either."""

    def __init__(self, fake: FakeTelegram, runtimes: list[Runtime], seed: int = 5) -> None:
        self.fake = fake
        self.urls = [f"http://127.0.0.1:{r.port}/telegram/hook" for r in runtimes]
        self.random = random.Random(seed)
        self.posts = 0

    async def deliver(self, update: Obj) -> None:
        targets = [self.random.choice(self.urls)]
        while self.random.random() < 0.35 and len(targets) < 3:
            targets.append(self.random.choice(self.urls))
        self.posts += len(targets)
        statuses = await asyncio.gather(
            *(self.fake.post_webhook(url, update, SECRET) for url in targets)
        )
        assert set(statuses) == {200}

    async def say(self, chat: Obj, user: Obj, text: str) -> None:
        await self.deliver(self.fake.push_message(chat, user, text))


def texts(fake: FakeTelegram, chat: Obj) -> list[str]:
    return [m["text"] or "" for m in fake.messages(chat["id"])]


async def test_two_instances_run_every_command_once_and_answer_it_once(
    fake: FakeTelegram, database: Database
) -> None:
    runtimes = [
        await instance(fake, database, "tiendo-a"),
        await instance(fake, database, "tiendo-b"),
    ]
    try:
        lb = Balancer(fake, runtimes)
        admin = fake.user(ADMIN, "Lan", "vi")
        hq = fake.private_chat(admin)
        setup = [
            '/campaign new road "Đường" start=2025-01-01',
            '/metric add households "Hộ" unit=household aliases=hộ',
            '/team add t1 "Tổ 1"',
        ]
        for count, line in enumerate(setup, 1):  # one after the other: each needs the last
            await lb.say(hq, admin, line)
            await fake.wait_for(lambda n=count: len(texts(fake, hq)) >= n, 20)
        invites = 4
        await asyncio.gather(*(lb.say(hq, admin, "/invite t1 uses=100") for _ in range(invites)))
        await fake.wait_for(lambda: len(texts(fake, hq)) >= len(setup) + invites, 20)
        code = next(t for t in texts(fake, hq) if "start=" in t).split("start=")[1].split()[0]

        people = [fake.user(4000 + n, f"Tổ viên {n}", "vi") for n in range(8)]
        chats = [fake.private_chat(user) for user in people]
        await asyncio.gather(
            *(lb.say(c, u, f"/start {code}") for c, u in zip(chats, people, strict=True))
        )
        for chat in chats:
            await fake.wait_for_message(chat["id"], "Tổ 1", timeout=20)
        # A storm of 429s and 500s from Telegram while the reports are answered.
        fake.fail_next("sendMessage", status=429, retry_after=1, times=3)
        fake.fail_next("sendMessage", status=500, times=5)
        values = [float(200 + n) for n in range(48)]
        await asyncio.gather(
            *(
                lb.say(chats[n % len(chats)], people[n % len(people)], f"/report {v:g} hộ")
                for n, v in enumerate(values)
            )
        )

        def confirmed() -> int:
            return tally(database, values, [t for c in chats for t in texts(fake, c)]).confirmed

        await fake.wait_for(lambda: confirmed() >= len(values), timeout=60)
        await asyncio.sleep(1)  # anything sent twice would be here now
        result = tally(database, values, [t for c in chats for t in texts(fake, c)])
    finally:
        for runtime in runtimes:
            await runtime.stop()
    assert lb.posts > len(values) + len(people) + invites + len(setup)  # some were repeated
    assert result.ok and result.confirmed_twice == 0, result
    assert len(texts(fake, hq)) == len(setup) + invites  # each admin command answered once
    for chat in chats:  # one welcome, one confirmation per report
        assert len(texts(fake, chat)) == 1 + len(values) // len(chats)
    with database.session() as session:
        assert len(session.exec(select(Invite)).all()) == invites
        owners = set(session.exec(select(Delivery.lease_owner)).all())
    assert owners == {"tiendo-a", "tiendo-b"}  # the load was shared


async def test_a_guided_report_moves_between_instances(
    fake: FakeTelegram, database: Database
) -> None:
    """The guided form's answers and button presses reach the two instances by turns (some
    twice, to both): each is taken as the answer to the question asked, whichever instance
    asked it, and the report is recorded once with every value. A form left alone is closed
    with one notice, though both instances look for it."""
    clock = FixedClock(datetime(2025, 3, 10, 3, 0, tzinfo=UTC))  # 10:00 in Hà Nội
    runtimes = [
        await instance(fake, database, "tiendo-a", clock),
        await instance(fake, database, "tiendo-b", clock),
    ]
    urls = [f"http://127.0.0.1:{r.port}/telegram/hook" for r in runtimes]
    form_updates: list[Obj] = []

    async def post(update: Obj, *to: int) -> None:
        form_updates.append(update)
        statuses = await asyncio.gather(*(fake.post_webhook(urls[n], update, SECRET) for n in to))
        assert set(statuses) == {200}

    admin, reporter = fake.user(ADMIN, "Lan", "vi"), fake.user(4001, "Minh", "vi")
    hq, chat = fake.private_chat(admin), fake.private_chat(reporter)

    async def next_message(contains: str) -> SentMessage:
        return await fake.wait_for_message(chat["id"], contains, timeout=20)

    try:
        for count, line in enumerate(
            [
                '/campaign new road "Đường" start=2025-01-01',
                '/metric add households "Hộ" unit=household aliases=hộ',
                '/metric add vnd "Tiền" unit=VND aliases=tiền',
                '/team add t1 "Tổ 1"',
                "/invite t1",
            ],
            1,
        ):
            await post(fake.push_message(hq, admin, line), count % 2)
            await fake.wait_for(lambda n=count: len(texts(fake, hq)) >= n, 20)
        code = texts(fake, hq)[-1].split("start=")[1].split()[0]
        await post(fake.push_message(chat, reporter, f"/start {code}"), 0)
        await next_message("Tổ 1")
        form_updates.clear()

        await post(fake.push_message(chat, reporter, "/report"), 0)
        households = await next_message("1/4")
        await post(fake.push_callback(households, reporter, button(households, "5")), 1)
        money = await next_message("2/4")
        await post(fake.push_message(chat, reporter, "2tr5"), 0, 1)  # repeated, to both
        day = await next_message("3/4")
        await post(fake.push_callback(day, reporter, button(day, "hôm qua")), 1, 1)
        note = await next_message("4/4")
        await post(fake.push_message(chat, reporter, "nhà ông Ba"), 1)
        summary = await next_message("• Ghi chú")
        # A double tap: two presses of Send, one to each instance, at once.
        send = button(summary, "Gửi")
        first, second = (fake.push_callback(summary, reporter, send) for _ in range(2))
        await asyncio.gather(post(first, 0), post(second, 1))
        confirmation = await next_message("✅")
        await asyncio.sleep(1)  # anything doubled would be here now

        shown = texts(fake, chat)
        for question in ("1/4", "2/4", "3/4", "4/4", "• Ghi chú", "✅"):
            assert sum(question in t for t in shown) == 1, (question, shown)
        assert [summary["message_id"], confirmation["message_id"]] == [
            m["message_id"] for m in fake.messages(chat["id"])[-2:]
        ]
        with database.session() as session:
            (report,) = session.exec(select(Report)).all()
            values = dict(
                session.exec(
                    select(Metric.key, ReportValue.value).join(
                        Metric, col(Metric.id) == ReportValue.metric_id
                    )
                ).all()
            )
            keys = [str(u["update_id"]) for u in form_updates]
            owners = set(
                session.exec(select(Delivery.lease_owner).where(col(Delivery.key).in_(keys))).all()
            )
        assert values == {"households": 5, "vnd": 2_500_000}
        assert str(report.report_date) == "2025-03-09" and report.note == "nhà ông Ba"
        assert owners == {"tiendo-a", "tiendo-b"}  # the form went from one to the other
        for message in (households, money, day, note, summary):  # no button left to press
            assert (
                next(
                    m for m in fake.messages(chat["id"]) if m["message_id"] == message["message_id"]
                )["reply_markup"]
                is None
            )

        await post(fake.push_message(chat, reporter, "/report"), 1)
        await fake.wait_for(lambda: sum("1/4" in t for t in texts(fake, chat)) == 2, 20)
        clock.advance(timedelta(minutes=11))  # past the 10 minutes' time-out
        await next_message("hết thời gian")
        await asyncio.sleep(1)  # both instances have looked several times
        assert sum("hết thời gian" in t for t in texts(fake, chat)) == 1
    finally:
        for runtime in runtimes:
            await runtime.stop()
