"""Storms on the way out (issue #11): the platform hangs (takes a call and does not answer for
longer than the client waits), or answers 429 or 500, for a while. During a burst of reports
every report is stored once and every confirmation arrives once the storm is over (only a call
that hung after it took effect can show twice, so at most the ones that hung do), nobody gets an
apology, and the bot answers at once afterwards; a digest due during the storm is delivered once
when it ends, however long it lasted."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from collections.abc import AsyncIterator, Callable, Iterator
from concurrent.futures import Executor, Future
from datetime import timedelta
from typing import Any

import pytest
from pydantic import SecretStr
from sqlmodel import select

from bot.app import App, build
from bot.config import AdminsConfig, Config, SlackConfig
from bot.runtime import Runtime
from bot.tuning import Tuning
from handlers.clock import Clock, FixedClock, SystemClock
from handlers.values import Ref, Request
from storage.db import Database
from storage.models import DigestDelivery
from tests.fakes.slack_api import BOT_TOKEN, CHANNEL_ID, TEAM_ID, FakeSlack
from tests.fakes.telegram_api import FakeTelegram
from tests.faults import APOLOGIES, CONFIRMED, tally
from tests.scenarios import ADMIN as TELEGRAM_ADMIN
from tests.scenarios import join_reporters as join_telegram
from tests.scenarios import telegram_config
from tests.test_digest import at
from tests.test_slack_run import ADMIN as SLACK_ADMIN
from tests.test_slack_run import SECRET, Slack
from tests.test_slack_run import join_reporters as join_slack

# Platform calls give up after half a second here (30 s in production), a failed reply is
# tried again within a second.
FAST = Tuning(
    retry_backoff=0.01,
    poll_timeout=1,
    worker_poll=0.05,
    platform_timeout=0.5,
    reply_retry=(timedelta(seconds=0.2), timedelta(seconds=0.5), timedelta(seconds=1)),
)
# A digest's attempt is one call here (not five) and waits out one 429's Retry-After (not
# five): seven attempts of five hung calls took 20 s of time-outs. A call may take a second,
# so a loaded machine does not time out the answer that ends the storm (and show it twice).
DIGEST = dataclasses.replace(FAST, platform_timeout=1.0, send_retries=0, rate_limit_retries=1)
SLACK_REPORTERS = [f"U0STORM{n}" for n in range(4)]
CAMPAIGN = "Đường Bình Sơn Đông"  # a digest's title names its campaign


class InlineExecutor(Executor):
    """Renders digests in the caller: the render pool's code path without worker processes."""

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        future: Future[Any] = Future()
        future.set_result(fn(*args, **kwargs))
        return future


def slack_config(fake: FakeSlack) -> Config:
    config = Config(
        admins=AdminsConfig(superadmins=[f"slack:{TEAM_ID}:{SLACK_ADMIN}"]),
        slack=SlackConfig(
            bot_token=SecretStr(BOT_TOKEN),
            signing_secret=SecretStr(SECRET),
            api_base_url=fake.api_url,
        ),
    )
    config.server.port = 0
    return config


@contextlib.asynccontextmanager
async def running(config: Config, db: Database, clock: Clock) -> AsyncIterator[Runtime]:
    app = build(
        config, clock=clock, db=db, adapters=True, tuning=FAST, render_pool=InlineExecutor()
    )
    runtime = Runtime(app)
    await runtime.start()
    try:
        yield runtime
    finally:
        await runtime.stop()


def apologies(texts: list[str]) -> list[str]:
    return [t for t in texts if any(a in t.lower() for a in APOLOGIES)]


# --- a burst of reports during a storm ----------------------------------------------------------

STORMS = ["hang", "hang-delivered", "500", "429"]


def brew(
    fake: FakeSlack | FakeTelegram, storm: str, method: str, errors: int = 6
) -> Callable[[], bool]:
    """Starts `storm` on `method` (`errors` 500s); returns whether it has bitten enough to be
    called off."""
    if storm.startswith("hang"):
        fake.hang(method, share=0.5, delivered=storm == "hang-delivered", seed=4)
        return lambda: len(fake.hung) >= 4
    status, times = (500, errors) if storm == "500" else (429, 4)
    for _ in range(times):  # a 500 carries no retry_after, or PTB takes it for a 429
        fake.fail_next(method, status=status, **({"retry_after": 1} if status == 429 else {}))
    return lambda: fake.failing == 0


@pytest.mark.parametrize("storm", STORMS)
async def test_slack_reports_during_a_storm_are_stored_once_and_all_confirmed(
    storm: str, db: Database
) -> None:
    async with FakeSlack() as fake, running(slack_config(fake), db, SystemClock()) as runtime:
        slack = Slack(fake, f"http://127.0.0.1:{runtime.port}/slack/events")
        dms = await join_slack(slack, SLACK_REPORTERS)
        # 24 500s: each of the four chats' first reply fails six times, more often than the
        # outbox once tried before giving a reply up.
        bitten = brew(fake, storm, "response_url", errors=24)
        sent: dict[str, float] = {}
        for n in range(16):
            user, value = SLACK_REPORTERS[n % 4], float(500 + n)
            sent[f"s{value:g}"] = value
            assert await slack.post(f"s{value:g}", f"report {value:g} hộ", user, dms[user]) == 200
        await fake.wait_for(bitten, 20)
        fake.calm()
        await fake.wait_for(lambda: all(slack.answers(name) for name in sent), 30)
        await asyncio.sleep(1)  # an answer sent twice would have arrived by now
        answers = {name: slack.answers(name) for name in sent}
        result = tally(db, sent.values(), [a for texts in answers.values() for a in texts])
        twice = sum(1 for texts in answers.values() if len(texts) > 1)
        print(f"\nslack {storm}: {result}, hung {len(fake.hung)}, answered twice {twice}")
        assert result.ok, result
        for name, texts in answers.items():  # each answer cites the report it confirms
            assert len({m for t in texts for m in CONFIRMED.findall(t)}) == 1, (name, texts)
        assert twice <= (len(fake.hung) if storm == "hang-delivered" else 0)
        assert not apologies([r.body.get("text", "") for r in fake.responses])
        # Over: the next command is answered straight away.
        assert "slack:" in await slack.ask("me", SLACK_REPORTERS[0], dms[SLACK_REPORTERS[0]])


@pytest.mark.parametrize("storm", STORMS)
async def test_telegram_reports_during_a_storm_are_stored_once_and_all_confirmed(
    storm: str, db: Database
) -> None:
    async with FakeTelegram() as fake, running(telegram_config(fake), db, SystemClock()):
        people = await join_telegram(fake, 4, timeout=20)
        chats = [chat for chat, _ in people]
        bitten = brew(fake, storm, "sendMessage")
        values = [float(700 + n) for n in range(16)]
        for n, value in enumerate(values):
            chat, user = people[n % 4]
            fake.push_message(chat, user, f"/report {value:g} hộ")

        def texts() -> list[str]:
            return [m["text"] or "" for c in chats for m in fake.messages(c["id"])]

        await fake.wait_for(bitten, 30)
        fake.calm()
        await fake.wait_for(lambda: tally(db, values, texts()).confirmed >= len(values), 60)
        await asyncio.sleep(1)
        result = tally(db, values, texts())
        hung = len(fake.hung)
        print(f"\ntelegram {storm}: {result}, hung {hung}")
        assert result.ok, result
        assert result.confirmed_twice <= (hung if storm == "hang-delivered" else 0)
        chat, user = people[0]
        fake.push_message(chat, user, "/me")
        await fake.wait_for_message(chat["id"], f"telegram:{user['id']}", timeout=10)
        assert fake.violations == []


# --- a digest due during a storm ----------------------------------------------------------------


def say(app: App, user: Ref, chat: Ref, line: str) -> str:
    command, _, args = line.partition(" ")
    reply = app.engine.handle(
        Request(user=user, chat=chat, command=command, args=args, user_name=user.id, language="en")
    )
    assert not reply.is_error, f"{line!r}: {reply.text}"
    return reply.text


def subscribe(app: App, admin: Ref, chat: Ref, reporter: Ref) -> None:
    """Campaign `road` with a digest at 18:00 in `chat`; `reporter` has reported today."""
    for line in (
        f'campaign new road "{CAMPAIGN}" start=2025-02-01 deadline=2025-06-30',
        'metric add households "Hộ" unit=household target=500 aliases=hộ',
        'team add t1 "Tổ 1"',
        "digest here at=18:00",
    ):
        say(app, admin, chat, line)
    code = say(app, admin, chat, "invite t1").split()[2].rstrip(":")
    say(app, reporter, Ref(reporter.platform, reporter.workspace, reporter.id), f"join {code}")
    say(app, reporter, Ref(reporter.platform, reporter.workspace, reporter.id), "report 12 hộ")


async def storm_through(
    app: App, clock: FixedClock, delivered: Callable[[], bool], calm: Callable[[], None]
) -> int:
    """Ticks the digests from 18:00, stepping the clock past each retry's pause, for seven
    failed attempts (longer than every pause digests know); then calls the storm off and goes
    on until `delivered()`. Returns the ticks that claimed the digest again."""
    clock.current = at(18, 0)
    claimed = 0
    for step in range(40):
        if step == 7:
            calm()
        claimed += len(await app.digests.tick())
        if delivered():
            return claimed
        clock.current += timedelta(minutes=11)  # past the longest pause between attempts
    raise AssertionError("the digest was never delivered")


def digest_status(db: Database) -> str:
    with db.session() as session:
        (delivery,) = session.exec(select(DigestDelivery)).all()
    return delivery.status


@pytest.fixture
def stepped(clock: FixedClock) -> Iterator[FixedClock]:
    clock.current = at(9, 0)
    yield clock


# Hangs and 500s for longer than every pause between a digest's attempts; 429s for two
# attempts (slack-sdk and PTB wait out each Retry-After in real time, twice a call here).
DIGEST_STORMS = [("hang", 0), ("hang-delivered", 0), ("500", 100), ("429", 3)]


def storm_digests(fake: FakeSlack | FakeTelegram, storm: str, times: int, method: str) -> None:
    if storm.startswith("hang"):
        fake.hang(method, delivered=storm == "hang-delivered")
    for _ in range(times):  # a 500 carries no retry_after, or PTB takes it for a 429
        fake.fail_next(method, status=int(storm), **({"retry_after": 1} if storm == "429" else {}))


@pytest.mark.parametrize(("storm", "times"), DIGEST_STORMS)
async def test_a_slack_digest_due_during_a_storm_is_delivered_once_when_it_ends(
    storm: str, times: int, db: Database, stepped: FixedClock
) -> None:
    async with FakeSlack() as fake:
        app = build(
            slack_config(fake),
            clock=stepped,
            db=db,
            adapters=True,
            tuning=DIGEST,
            render_pool=InlineExecutor(),
        )
        workspace = lambda user: Ref("slack", TEAM_ID, user)  # noqa: E731
        fake.add_user("U0MINH", "minh")
        subscribe(app, workspace(SLACK_ADMIN), workspace(CHANNEL_ID), workspace("U0MINH"))

        def digests() -> list[str]:
            return [m.text for m in fake.messages(CHANNEL_ID) if CAMPAIGN in m.text]

        storm_digests(fake, storm, times, "chat.postMessage")
        await storm_through(app, stepped, lambda: digest_status(db) == "sent", fake.calm)
        await asyncio.sleep(0.5)
        hung = len(fake.hung)
        print(f"\nslack digest {storm}: digests {len(digests())}, hung {hung}")
        assert 1 <= len(digests()) <= 1 + (hung if storm == "hang-delivered" else 0)
        assert fake.uploads  # its charts too
        assert digest_status(db) == "sent"


@pytest.mark.parametrize(("storm", "times"), DIGEST_STORMS)
async def test_a_telegram_digest_due_during_a_storm_is_delivered_once_when_it_ends(
    storm: str, times: int, db: Database, stepped: FixedClock
) -> None:
    async with FakeTelegram() as fake:
        app = build(
            telegram_config(fake),
            clock=stepped,
            db=db,
            adapters=True,
            tuning=DIGEST,
            render_pool=InlineExecutor(),
        )
        (adapter,) = app.adapters
        bot = adapter.bot  # type: ignore[attr-defined]
        await bot.initialize()  # getMe, which every send needs first
        try:
            admin = fake.user(TELEGRAM_ADMIN, "Lan")
            # The admin's private chat: PTB's limiter lets a group have 20 messages a minute,
            # which a storm's retries would spend.
            group = fake.private_chat(admin)
            reporter = fake.user(3001, "Minh")
            subscribe(
                app,
                Ref("telegram", "", str(TELEGRAM_ADMIN)),
                Ref("telegram", "", str(group["id"])),
                Ref("telegram", "", "3001"),
            )
            fake.private_chat(reporter)

            def titles() -> list[str]:  # a digest is an album, its text the first caption
                return [
                    text
                    for m in fake.messages(group["id"])
                    if (text := m.get("caption") or m.get("text") or "").startswith("📊")
                ]

            storm_digests(fake, storm, times, "sendMediaGroup")
            await storm_through(app, stepped, lambda: digest_status(db) == "sent", fake.calm)
            await asyncio.sleep(0.5)
            assert len([c for c in fake.calls if c.method == "sendMediaGroup"]) > 1  # it hit
            shown = titles()  # once, or again for each album that went out but hung
            assert 1 <= len(shown) <= 1 + (len(fake.hung) if storm == "hang-delivered" else 0)
            assert all(CAMPAIGN in title for title in shown)
            assert len([m for m in fake.messages(group["id"]) if m.get("photo")]) >= 2  # charts
            assert digest_status(db) == "sent"
            assert fake.violations == []
        finally:
            await bot.shutdown()
