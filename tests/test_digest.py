"""Digests and reminders on a stepped clock, no sleeping: on time, at most once across restarts
and instances, late the same day when missed, retried on failure, switched off when a chat
refuses the bot; reminders skip rest days; scheduler jobs follow the database."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import Executor, Future
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlmodel import select

from bot.app import App, build
from bot.config import Config, DefaultsConfig, ServerConfig
from bot.delivery import ChatUnavailable
from bot.digests import Digests
from handlers.clock import FixedClock
from handlers.values import Ref, Reply
from storage.db import Database
from storage.models import DigestDelivery, DigestSubscription
from tests.conftest import Chat


class FakeSender:
    """Collects what would be posted; can be told to fail."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, Reply]] = []
        self.private: list[tuple[str, Reply]] = []
        self.failures: list[Exception] = []

    async def send(self, chat: Ref, reply: Reply) -> None:
        if self.failures:
            raise self.failures.pop(0)
        self.sent.append((chat.key, reply))

    async def send_private(self, user: Ref, reply: Reply) -> None:
        self.private.append((user.key, reply))


@pytest.fixture
def sender() -> FakeSender:
    return FakeSender()


def at(hour: int, minute: int = 0, day: int = 10) -> datetime:
    """A local time in Hà Nội (UTC+7) in March 2025, as UTC."""
    return datetime(2025, 3, day, hour, minute, tzinfo=UTC) - timedelta(hours=7)


def services(db: Database, clock: FixedClock, sender: FakeSender, instance: str = "a") -> App:
    """One bot instance as the composition root builds it, sending through `sender`."""
    config = Config(defaults=DefaultsConfig(language="en"), server=ServerConfig(instance=instance))
    return build(config, clock=clock, db=db, senders={"shell": sender})


def digests(db: Database, clock: FixedClock, sender: FakeSender, instance: str = "a") -> Digests:
    return services(db, clock, sender, instance).digests


@pytest.fixture
def subscribed(campaign: Chat) -> Chat:
    campaign.ok("root", "/campaign use road", chat="#leaders")
    campaign.ok("root", "/digest here at=18:00", chat="#leaders")
    campaign.ok("lan", "/report 12 hộ 2tr5")
    return campaign


async def test_the_digest_goes_out_at_its_local_time_once(
    subscribed: Chat, db: Database, clock: FixedClock, sender: FakeSender
) -> None:
    service = digests(db, clock, sender)
    clock.current = at(17, 59)
    assert await service.tick() == []
    clock.current = at(18, 0)
    (claim,) = await service.tick()
    assert not claim.late
    ((chat, reply),) = sender.sent
    assert chat == "shell:#leaders"
    assert "Daily digest 10 Mar 2025 — Đường Bình Sơn Đông" in reply.text
    assert "Households reached: today 12 households · total 12 / 500 households" in reply.text
    assert "sent late" not in reply.text
    clock.current = at(18, 5)
    assert await service.tick() == []
    # A restart: a new process with the same database sends nothing more today…
    assert await digests(db, clock, sender).tick() == []
    # …and the next day's goes out again.
    clock.current = at(18, 0, day=11)
    assert len(await service.tick()) == 1 and len(sender.sent) == 2


async def test_a_digest_missed_while_down_goes_out_late_the_same_day(
    subscribed: Chat, db: Database, clock: FixedClock, sender: FakeSender
) -> None:
    clock.current = at(21, 30)  # the bot came back at 21:30
    (claim,) = await digests(db, clock, sender).tick()
    assert claim.late and "sent late" in sender.sent[0][1].text
    with db.session() as session:
        (delivery,) = session.exec(select(DigestDelivery)).all()
    assert delivery.late and delivery.status == "sent" and delivery.attempts == 1
    # Down for the whole of 11 March: nothing for that day is sent on the 12th before 18:00.
    clock.current = at(9, 0, day=12)
    assert await digests(db, clock, sender).tick() == []


async def test_two_instances_at_the_same_moment_send_one_digest(
    subscribed: Chat, db: Database, clock: FixedClock, sender: FakeSender
) -> None:
    clock.current = at(18, 0)
    one, two = digests(db, clock, sender, "one"), digests(db, clock, sender, "two")
    results = await asyncio.gather(*(service.tick() for service in (one, two, one, two)))
    assert sum(len(r) for r in results) == 1 and len(sender.sent) == 1


async def test_a_failed_send_is_retried_after_a_pause_by_any_instance(
    subscribed: Chat, db: Database, clock: FixedClock, sender: FakeSender
) -> None:
    sender.failures = [RuntimeError("502 Bad Gateway"), RuntimeError("502 Bad Gateway")]
    clock.current = at(18, 0)
    await digests(db, clock, sender).tick()
    assert sender.sent == []
    clock.current += timedelta(seconds=29)  # the first pause is 30 s
    assert await digests(db, clock, sender).tick() == []
    clock.current += timedelta(seconds=2)
    await digests(db, clock, sender, "b").tick()  # another instance: fails again
    clock.current += timedelta(minutes=2, seconds=1)
    (claim,) = await digests(db, clock, sender).tick()
    assert len(sender.sent) == 1 and not claim.late
    with db.session() as session:
        (delivery,) = session.exec(select(DigestDelivery)).all()
    assert delivery.status == "sent" and delivery.attempts == 3


async def test_a_digest_claimed_by_an_instance_that_died_is_sent_by_another_marked_late(
    subscribed: Chat, db: Database, clock: FixedClock, sender: FakeSender
) -> None:
    clock.current = at(18, 0)
    (claim,) = digests(db, clock, sender, "dead").claim_due()  # claimed, then the process died
    clock.current = at(18, 4)
    assert await digests(db, clock, sender, "alive").tick() == []  # its lease still holds
    clock.current = at(18, 40)
    (taken,) = await digests(db, clock, sender, "alive").tick()
    assert taken.delivery_id == claim.delivery_id and taken.late
    assert len(sender.sent) == 1 and "sent late" in sender.sent[0][1].text
    with db.session() as session:
        (delivery,) = session.exec(select(DigestDelivery)).all()
    assert delivery.status == "sent" and delivery.late


async def test_an_instance_started_again_takes_back_its_claims_at_once(
    subscribed: Chat, db: Database, clock: FixedClock, sender: FakeSender
) -> None:
    clock.current = at(18, 0)
    digests(db, clock, sender, "vps-1").claim_due()  # killed right after claiming
    clock.current = at(18, 1)
    restarted = services(db, clock, sender, "vps-1")  # the same name: its successor
    await restarted.schedule.tick()
    assert [key for key, _ in sender.sent] == ["shell:#leaders"]


async def test_a_claim_left_over_from_yesterday_is_not_sent_today(
    subscribed: Chat, db: Database, clock: FixedClock, sender: FakeSender
) -> None:
    clock.current = at(18, 0)
    digests(db, clock, sender).claim_due()  # died with it
    clock.current = at(9, 0, day=11)
    assert await digests(db, clock, sender).tick() == [] and sender.sent == []
    with db.session() as session:
        (delivery,) = session.exec(select(DigestDelivery)).all()
    assert delivery.status == "failed" and delivery.error == "the day ended"


async def test_a_chat_that_refuses_the_bot_is_switched_off_and_admins_told(
    subscribed: Chat, db: Database, clock: FixedClock, sender: FakeSender
) -> None:
    sender.failures = [ChatUnavailable("Forbidden: bot was kicked from the group chat")]
    clock.current = at(18, 0)
    await digests(db, clock, sender).tick()
    with db.session() as session:
        (subscription,) = session.exec(select(DigestSubscription)).all()
    assert not subscription.enabled and "kicked" in (subscription.disabled_reason or "")
    told = {key for key, _ in sender.private}
    assert told == {"shell:root", "shell:an"}
    assert all("switched off" in reply.text or "tắt" in reply.text for _, reply in sender.private)
    clock.current = at(18, 0, day=11)
    assert await digests(db, clock, sender).tick() == []


async def test_reminders_nudge_silent_teams_but_not_on_rest_days(
    campaign: Chat, db: Database, clock: FixedClock, sender: FakeSender
) -> None:
    campaign.ok("an", "/remind at=17:00")
    campaign.ok("root", "/campaign use road", chat="#t2")
    campaign.ok("root", "/team bind t2", chat="#t2")
    campaign.ok("an", "/campaign set restdays=sun")
    reminders = services(db, clock, sender).reminders
    clock.current = at(16, 59)
    assert await reminders.tick() == []
    campaign.ok("lan", "/report 1 hộ")  # t1 reported; t2 has not
    clock.current = at(17, 0)
    due = await reminders.tick()
    assert [nudge.team_code for nudge in due] == ["t2"]
    assert [(key, "Tổ 2" in r.text) for key, r in sender.sent] == [("shell:#t2", True)]
    assert await reminders.tick() == []  # once a day
    campaign.ok("root", "/team unbind", chat="#t2")
    clock.current = at(17, 0, day=11)  # Tuesday: t1 and t2 both silent; t2 no longer bound
    await reminders.tick()
    assert {key for key, _ in sender.private} == {"shell:lan", "shell:minh"}
    clock.current = at(17, 0, day=16)  # a Sunday: rest day
    assert await reminders.tick() == []


async def test_one_tick_a_minute_follows_the_database(
    subscribed: Chat, db: Database, clock: FixedClock, sender: FakeSender
) -> None:
    """No job per subscription: the minute tick reads the times from the database, so a time
    changed by an admin (on any instance) counts at the next minute."""
    app = services(db, clock, sender)
    app.schedule.start()
    try:
        (job,) = app.schedule.scheduler.get_jobs()
        assert job.id == "tick" and "second='0'" in str(job.trigger)
        subscribed.ok("root", "/digest time 19:30", chat="#leaders")
        clock.current = at(19, 0)
        await app.schedule.tick()
        assert sender.sent == []
        clock.current = at(19, 30)
        await app.schedule.tick()
        assert [key for key, _ in sender.sent] == ["shell:#leaders"]
    finally:
        app.schedule.stop()


class InlineExecutor(Executor):
    """Runs each job at once in the caller: the pool's code path without worker processes."""

    def __init__(self) -> None:
        self.jobs = 0

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        self.jobs += 1
        future: Future[Any] = Future()
        future.set_result(fn(*args, **kwargs))
        return future


async def test_digests_due_together_render_in_the_pool_and_all_go_out(
    subscribed: Chat, db: Database, clock: FixedClock, sender: FakeSender
) -> None:
    for n in range(5):
        subscribed.ok("root", "/campaign use road", chat=f"#board{n}")
        subscribed.ok("root", "/digest here at=18:00", chat=f"#board{n}")
    pool = InlineExecutor()
    config = Config(defaults=DefaultsConfig(language="en"))
    app = build(config, clock=clock, db=db, senders={"shell": sender}, render_pool=pool)
    clock.current = at(18, 0)
    assert len(await app.digests.tick()) == 6 and pool.jobs == 6
    assert sorted(chat for chat, _ in sender.sent) == sorted(
        ["shell:#leaders"] + [f"shell:#board{n}" for n in range(5)]
    )
    texts = {reply.text for _, reply in sender.sent}
    assert len(texts) == 1 and "Households reached: today 12 households" in texts.pop()
    assert all(len(reply.images) == 3 for _, reply in sender.sent)
