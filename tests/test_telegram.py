"""The Telegram adapter end to end: the real python-telegram-bot, in the runtime that `tiendo run`
uses, against the project's fake Bot API server, which checks every call against the spec."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
import pytest
from pydantic import SecretStr
from sqlmodel import col, select
from telegram import Message

from bot.app import build
from bot.config import Config
from bot.delivery import ChatUnavailable
from bot.runtime import Runtime
from bot.telegram import TelegramAdapter, command_text
from bot.tuning import Tuning
from handlers.clock import FixedClock
from handlers.values import Image, Ref, Reply
from storage import inbox
from storage.db import Database
from storage.models import (
    Chat,
    Delivery,
    DigestSubscription,
    Metric,
    Outgoing,
    Report,
    ReportValue,
    Team,
)
from tests.fakes.telegram_api import FakeTelegram, SentMessage, button, labels
from tests.scenarios import telegram_config

Obj = dict[str, Any]
ADMIN_ID, REPORTER_ID = 1001, 2002
SECRET = "hook-secret_1"
PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"
    b"\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00"
    b"\x00\x00IEND\xaeB`\x82"
)


class Bot:
    """Plays Telegram's users against the running adapter and reads what it stored and sent."""

    def __init__(self, fake: FakeTelegram, db: Database, runtime: Runtime) -> None:
        self.fake, self.db, self.runtime = fake, db, runtime
        self.admin = fake.user(ADMIN_ID, "Lan", "vi", username="lan")
        self.reporter = fake.user(REPORTER_ID, "Minh", "vi")
        self.admin_chat = fake.private_chat(self.admin)
        self.reporter_chat = fake.private_chat(self.reporter)

    @property
    def adapter(self) -> TelegramAdapter:
        adapter = self.runtime.adapters[0]
        assert isinstance(adapter, TelegramAdapter)
        return adapter

    async def processed(self, update: Obj) -> None:
        """Until the adapter has stored, handled and marked `update` done, and the outbox has
        sent what it answered."""

        def done() -> bool:
            with self.db.session() as session:
                row = session.exec(
                    select(Delivery).where(Delivery.key == str(update["update_id"]))
                ).first()
                waiting = session.exec(
                    select(Outgoing.id).where(col(Outgoing.sent_at).is_(None))
                ).first()
                return row is not None and row.done_at is not None and waiting is None

        await self.fake.wait_for(done, timeout=10)

    async def sent_after(self, chat: Obj, push: Any) -> list[SentMessage]:
        """Push an update (a zero-argument callable returning it); what the bot sent back."""
        before = len(self.fake.messages(chat["id"]))
        await self.processed(push())
        return self.fake.messages(chat["id"])[before:]

    async def say(self, chat: Obj, user: Obj, text: str | None = None, **kw: Any) -> str:
        """The text (or caption) of the bot's last answer to a message."""
        sent = await self.sent_after(chat, lambda: self.fake.push_message(chat, user, text, **kw))
        assert sent, f"no answer to {text!r}"
        return sent[-1]["text"] or sent[-1]["caption"] or ""

    async def press(self, message: SentMessage, user: Obj, data: str) -> list[SentMessage]:
        chat = message["chat"]
        return await self.sent_after(chat, lambda: self.fake.push_callback(message, user, data))

    async def tap(self, message: SentMessage, user: Obj, label: str) -> list[SentMessage]:
        """Press the button labelled `label` under `message`."""
        return await self.press(message, user, button(message, label))

    def shown(self, message: SentMessage) -> SentMessage:
        """`message` as the chat shows it now (its buttons may have been removed since)."""
        chat_id = message["chat"]["id"]
        return next(
            m for m in self.fake.messages(chat_id) if m["message_id"] == message["message_id"]
        )

    def reports(self) -> list[Report]:
        with self.db.session() as session:
            return list(session.exec(select(Report).order_by(col(Report.id))).all())


async def started(config: Config, db: Database, clock: FixedClock, **options: Any) -> Runtime:
    options = {"form_sweep": 0.05, **options}
    tuning = Tuning(retry_backoff=0.01, poll_timeout=1, worker_poll=0.05, **options)
    app = build(config, clock=clock, db=db, adapters=True, tuning=tuning)
    runtime = Runtime(app)
    await runtime.start()
    return runtime


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram() as fake:
        yield fake
        assert fake.violations == []  # every call the bot made was a valid Bot API call


@pytest.fixture
async def bot(fake: FakeTelegram, db: Database, clock: FixedClock) -> AsyncIterator[Bot]:
    runtime = await started(telegram_config(fake), db, clock, form_timeout=30)
    try:
        yield Bot(fake, db, runtime)
    finally:
        await runtime.stop()


async def set_up(bot: Bot) -> str:
    """An administrator sets up a campaign; returns an invite code for team t1."""
    for line in (
        '/campaign new road "Đường Bình Sơn Đông" start=2025-02-01',
        '/metric add households "Hộ đã vận động" unit=household target=500 aliases=hộ',
        '/metric add vnd "Tiền đóng góp" unit=VND target=2tỷ aliases=tiền',
        '/team add t1 "Tổ 1"',
    ):
        answer = await bot.say(bot.admin_chat, bot.admin, line)
        assert not answer.startswith(("⚠️", "⛔")), answer
    invite = await bot.say(bot.admin_chat, bot.admin, "/invite t1")
    link = next(word for word in invite.split() if word.startswith("https://t.me/"))
    assert link.startswith(f"https://t.me/{bot.fake.username}?start=")
    return link.split("start=")[1]


async def join(bot: Bot) -> None:
    code = await set_up(bot)
    welcome = await bot.say(bot.reporter_chat, bot.reporter, f"/start {code}")
    assert "Tổ 1" in welcome


async def test_commands_are_published_in_both_languages(bot: Bot) -> None:
    menus = {language: cmds for (_scope, language), cmds in bot.fake.commands.items()}
    assert set(menus) == {"", "vi", "en"}
    vi = {c["command"]: c["description"] for c in menus["vi"]}
    en = {c["command"]: c["description"] for c in menus["en"]}
    assert set(vi) == set(en) and {"report", "progress", "undo", "digest"} <= set(vi)
    assert vi["report"] != en["report"] and menus[""] == menus["vi"]


async def test_a_campaign_is_run_from_telegram(bot: Bot) -> None:
    await join(bot)
    chat, user = bot.reporter_chat, bot.reporter
    sent = await bot.sent_after(
        chat, lambda: bot.fake.push_message(chat, user, "/report 12 hộ 2tr5")
    )
    (confirmation,) = sent
    assert "✅ Đã ghi báo cáo #1." in (confirmation["text"] or "")
    assert "12 / 500 hộ (2,4%)" in (confirmation["text"] or "")
    (saved,) = bot.reports()
    assert saved.source == "telegram" and saved.source_chat == f"telegram:{REPORTER_ID}"

    # The Undo button asks first; the second press retracts, and that question's buttons go.
    (undo,) = confirmation["reply_markup"]["inline_keyboard"][0]
    (ask,) = await bot.press(confirmation, user, undo["callback_data"])
    assert "Rút lại báo cáo #1" in (ask["text"] or "")
    (done,) = await bot.press(
        ask, user, ask["reply_markup"]["inline_keyboard"][0][0]["callback_data"]
    )
    assert "Đã rút lại báo cáo #1" in (done["text"] or "")
    assert [r.status for r in bot.reports()] == ["retracted"]
    assert bot.fake.messages(chat["id"])[-2]["reply_markup"] is None
    assert not bot.fake.violations


async def test_a_photo_report_keeps_the_photo_and_an_edit_corrects(bot: Bot) -> None:
    await join(bot)
    chat, user = bot.reporter_chat, bot.reporter
    answer = await bot.say(chat, user, caption="/report 3 hộ", photo=PNG)
    assert "✅" in answer
    (photo_report,) = bot.reports()
    assert photo_report.photo_ref is not None and photo_report.photo_ref.startswith("telegram:")

    update = bot.fake.push_message(chat, user, "/report 5 hộ")
    await bot.processed(update)
    edit = bot.fake.push_edit(update["message"], "/report 7 hộ")
    await bot.processed(edit)
    statuses = [(r.status, r.corrects_id) for r in bot.reports()]
    assert statuses[1][0] == "retracted" and statuses[2] == ("active", statuses[1][0] and 2)
    progress = await bot.say(chat, user, "/progress")
    assert "10 / 500 hộ" in progress
    # Editing a message that was not a report runs nothing again.
    help_update = bot.fake.push_message(chat, user, "/help")
    await bot.processed(help_update)
    before = len(bot.fake.messages(chat["id"]))
    await bot.processed(bot.fake.push_edit(help_update["message"], "/help report"))
    assert len(bot.fake.messages(chat["id"])) == before


async def test_an_edited_fix_is_applied_again(bot: Bot) -> None:
    await join(bot)
    chat, user = bot.reporter_chat, bot.reporter
    assert "#1." in await bot.say(chat, user, "/report 5 hộ")
    fixing = bot.fake.push_message(chat, user, "/fix 1 6 hộ")
    await bot.processed(fixing)
    edited = bot.fake.push_edit(fixing["message"], "/fix 1 7 hộ")
    await bot.processed(edited)
    answer = bot.fake.messages(chat["id"])[-1]["text"] or ""
    assert "#3" in answer and "7 hộ" in answer
    bot.fake.push_raw(edited)  # Telegram delivers the edit again: it runs once
    assert "7 / 500 hộ" in await bot.say(chat, user, "/progress")
    assert [(r.id, r.status, r.corrects_id) for r in bot.reports()] == [
        (1, "retracted", None),
        (2, "retracted", 1),
        (3, "active", 2),
    ]
    # A /fix refused for a mistyped id works once the message is put right.
    typo = bot.fake.push_message(chat, user, "/fix 9 8 hộ")
    await bot.processed(typo)
    assert "#9" in (bot.fake.messages(chat["id"])[-1]["text"] or "")
    (put_right,) = await bot.sent_after(
        chat, lambda: bot.fake.push_edit(typo["message"], "/fix 1 8 hộ")
    )
    assert "#4" in (put_right["text"] or "")
    assert "8 / 500 hộ" in await bot.say(chat, user, "/progress")


async def test_the_guided_report(bot: Bot) -> None:
    await join(bot)
    chat, user = bot.reporter_chat, bot.reporter
    intro, question = await bot.sent_after(
        chat, lambda: bot.fake.push_message(chat, user, "/report")
    )
    assert "báo cáo" in (intro["text"] or "") and "1/4 · Hộ đã vận động" in (question["text"] or "")
    assert labels(question) == ["1", "2", "5", "10", "Bỏ qua", "Huỷ"]

    # Two buttons pressed before the bot takes them away: the first answers, the second is
    # a button of an answered question and does nothing.
    before = len(bot.fake.messages(chat["id"]))
    five = bot.fake.push_callback(question, user, button(question, "5"))
    await bot.processed(bot.fake.push_callback(question, user, button(question, "10")))
    await bot.processed(five)
    (vnd,) = bot.fake.messages(chat["id"])[before:]
    assert "2/4 · Tiền đóng góp" in (vnd["text"] or "")
    assert bot.shown(question)["reply_markup"] is None  # spent buttons removed
    (day,) = await bot.sent_after(chat, lambda: bot.fake.push_message(chat, user, "-3"))
    assert bot.shown(vnd)["reply_markup"] is None  # answered by text: its buttons go too
    (note,) = await bot.tap(day, user, "Bỏ qua")
    assert "4/4 · Ghi chú" in (note["text"] or "")
    (summary,) = await bot.sent_after(chat, lambda: bot.fake.push_message(chat, user, "họp tổ"))
    assert "• Hộ đã vận động: 5" in (summary["text"] or "")
    assert labels(summary) == ["Gửi", "Huỷ"]
    # The engine rejects the money: that question comes again with the reason; nothing stored.
    (again,) = await bot.tap(summary, user, "Gửi")
    assert "-3" in (again["text"] or "") and "2/4 · Tiền đóng góp" in (again["text"] or "")
    assert bot.reports() == []
    (summary,) = await bot.sent_after(chat, lambda: bot.fake.push_message(chat, user, "2tr"))
    assert "• Tiền đóng góp: 2tr" in (summary["text"] or "")  # straight back to the summary
    # A double tap: both presses arrive before the bot removes the buttons; one report.
    send = button(summary, "Gửi")
    first = bot.fake.push_callback(summary, user, send)
    await bot.processed(bot.fake.push_callback(summary, user, send))
    await bot.processed(first)
    confirmation = bot.fake.messages(chat["id"])[-1]
    assert "✅ Đã ghi báo cáo #1." in (confirmation["text"] or "")
    assert bot.shown(summary)["reply_markup"] is None
    (saved,) = bot.reports()
    assert saved.note == "họp tổ" and (saved.source_message_id or "").endswith(":form")
    assert [m for m in bot.fake.messages(chat["id"]) if "✅" in (m["text"] or "")] == [confirmation]


async def test_a_guided_report_can_be_cancelled_and_times_out(bot: Bot, clock: FixedClock) -> None:
    await join(bot)
    chat, user = bot.reporter_chat, bot.reporter
    _, question = await bot.sent_after(chat, lambda: bot.fake.push_message(chat, user, "/report"))
    (cancelled,) = await bot.tap(question, user, "Huỷ")
    assert "Đã huỷ" in (cancelled["text"] or "")
    assert bot.shown(question)["reply_markup"] is None

    # Left alone past its time-out (30 s here), the form is closed with a notice.
    _, question = await bot.sent_after(chat, lambda: bot.fake.push_message(chat, user, "/report"))
    (second,) = await bot.tap(question, user, "2")
    clock.advance(timedelta(seconds=29))
    await asyncio.sleep(0.3)  # the time-out started again at the answer
    assert "hết thời gian" not in (bot.fake.messages(chat["id"])[-1]["text"] or "")
    clock.advance(timedelta(seconds=2))
    expired = await bot.fake.wait_for_message(chat["id"], "hết thời gian")
    assert "chưa ghi gì" in (expired["text"] or "")
    await bot.fake.wait_for(lambda: bot.shown(second)["reply_markup"] is None)
    welcome = await bot.say(chat, user, "12")  # no form: the welcome, not an answer
    assert "/report" in welcome
    assert bot.reports() == []
    notices = [m for m in bot.fake.messages(chat["id"]) if "hết thời gian" in (m["text"] or "")]
    assert len(notices) == 1


async def test_an_answer_after_the_time_out_gets_the_notice_first(
    fake: FakeTelegram, db: Database, clock: FixedClock
) -> None:
    """No instance looked for timed-out forms yet (a long look interval here): the next message
    finds the form timed out, says so, and is not taken as an answer."""
    bot = Bot(fake, db, await started(telegram_config(fake), db, clock, form_sweep=3600))
    try:
        await join(bot)
        chat, user = bot.reporter_chat, bot.reporter
        _, question = await bot.sent_after(chat, lambda: fake.push_message(chat, user, "/report"))
        clock.advance(timedelta(minutes=11))  # the default time-out is 10 minutes
        (notice,) = await bot.tap(question, user, "5")
        assert "hết thời gian" in (notice["text"] or "")
        assert bot.shown(question)["reply_markup"] is None
        assert "/report" in await bot.say(chat, user, "5")  # no form now: the welcome
        assert bot.reports() == []
    finally:
        await bot.runtime.stop()


async def test_a_new_command_ends_an_open_form(bot: Bot) -> None:
    await join(bot)
    chat, user = bot.reporter_chat, bot.reporter
    _, question = await bot.sent_after(chat, lambda: bot.fake.push_message(chat, user, "/report"))
    (vnd,) = await bot.tap(question, user, "5")
    assert "Tiền đóng góp" in await bot.say(chat, user, "/progress")
    assert bot.shown(vnd)["reply_markup"] is None  # the open question's buttons went
    assert "/report" in await bot.say(chat, user, "2tr")  # the welcome: no form to answer
    assert bot.reports() == []
    # A new /report starts a new form from its first question.
    _, question = await bot.sent_after(chat, lambda: bot.fake.push_message(chat, user, "/report"))
    assert "1/4" in (question["text"] or "")


async def test_a_form_goes_on_after_a_restart(
    fake: FakeTelegram, db: Database, clock: FixedClock
) -> None:
    """The runtime stops in the middle of a form (its answer arrives while it is down); a new
    runtime on the same database takes the answer and the rest of the form."""
    bot = Bot(fake, db, await started(telegram_config(fake), db, clock))
    await join(bot)
    chat, user = bot.reporter_chat, bot.reporter
    _, question = await bot.sent_after(chat, lambda: fake.push_message(chat, user, "/report"))
    (vnd,) = await bot.tap(question, user, "10")
    await bot.runtime.stop()
    answer = fake.push_message(chat, user, "350k")  # while no bot runs

    bot.runtime = await started(telegram_config(fake), db, clock)
    try:
        await bot.processed(answer)
        day = fake.messages(chat["id"])[-1]
        assert "3/4 · Ngày" in (day["text"] or "")
        assert bot.shown(vnd)["reply_markup"] is None  # noted before the restart
        (note,) = await bot.tap(day, user, "hôm nay")
        assert "4/4 · Ghi chú" in (note["text"] or "")
        (summary,) = await bot.sent_after(chat, lambda: fake.push_message(chat, user, "tổ 1"))
        (confirmation,) = await bot.tap(summary, user, "Gửi")
        assert "✅ Đã ghi báo cáo #1." in (confirmation["text"] or "")
        (saved,) = bot.reports()
        assert saved.note == "tổ 1" and str(saved.report_date) == "2025-03-10"
        assert report_values(db, saved) == {"households": 10, "vnd": 350_000}
    finally:
        await bot.runtime.stop()


async def test_a_group_bound_to_a_team_survives_its_upgrade(bot: Bot) -> None:
    await join(bot)
    group = bot.fake.group(-500, "Tổ 1 — Bình Sơn")
    assert "road" in await bot.say(group, bot.admin, "/campaign use road")
    assert "Tổ 1" in await bot.say(group, bot.admin, "/team bind t1")
    assert "18:00" in await bot.say(group, bot.admin, "/digest here")
    # A command for another bot is not ours; one addressed to us is.
    other = bot.fake.push_message(group, bot.reporter, "/report@someone_else_bot 4 hộ")
    await bot.processed(other)
    assert bot.reports() == []
    assert "✅" in await bot.say(group, bot.reporter, f"/report@{bot.fake.username} 4 hộ")

    supergroup = bot.fake.push_migration(group, -1009876543210)
    await bot.fake.wait_for(lambda: _chat_team(bot.db, "telegram:-1009876543210"))
    assert "✅" in await bot.say(supergroup, bot.reporter, "/report 2 hộ")
    with bot.db.session() as session:
        teams = {r.team_id for r in session.exec(select(Report)).all()}
        subscription = session.exec(select(DigestSubscription)).one()
        chat = session.get(Chat, subscription.chat_id)
    assert len(teams) == 1 and chat is not None and chat.key == "telegram:-1009876543210"


def report_values(db: Database, report: Report) -> dict[str, float]:
    with db.session() as session:
        rows = session.exec(
            select(Metric.key, ReportValue.value)
            .join(Metric, col(Metric.id) == ReportValue.metric_id)
            .where(ReportValue.report_id == report.id)
        ).all()
    return dict(rows)


def _chat_team(db: Database, key: str) -> str | None:
    with db.session() as session:
        row = session.exec(
            select(Team.code).join(Chat, col(Chat.team_id) == Team.id).where(Chat.key == key)
        ).first()
        return row


async def test_429_and_500_answers_are_survived(bot: Bot) -> None:
    await join(bot)
    chat, user = bot.reporter_chat, bot.reporter
    bot.fake.fail_next("sendMessage", status=429, retry_after=1)
    assert "✅ Đã ghi báo cáo #1." in await bot.say(chat, user, "/report 1 hộ")
    bot.fake.fail_next("sendMessage", status=500, times=2)
    assert "✅ Đã ghi báo cáo #2." in await bot.say(chat, user, "/report 2 hộ")
    bot.fake.fail_next("getUpdates", status=502)
    assert "✅ Đã ghi báo cáo #3." in await bot.say(chat, user, "/report 3 hộ")
    assert len(bot.reports()) == 3
    sends = bot.fake.calls_of("sendMessage")
    assert len(sends) == len({(c.params["chat_id"], c.params["text"]) for c in sends}) + 3


async def test_a_duplicate_update_is_recorded_once(bot: Bot) -> None:
    await join(bot)
    chat, user = bot.reporter_chat, bot.reporter
    update = bot.fake.push_message(chat, user, "/report 6 hộ")
    await bot.processed(update)
    bot.fake.push_raw(update)  # Telegram delivers it again
    answer = await bot.say(chat, user, "/myreports")  # handled after the duplicate
    assert "6 hộ" in answer
    assert len(bot.reports()) == 1
    confirmations = [m for m in bot.fake.messages(chat["id"]) if "✅" in (m["text"] or "")]
    assert len(confirmations) == 1


async def test_an_update_stored_before_a_crash_is_handled_after_restart(
    fake: FakeTelegram, db: Database, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    bot = Bot(fake, db, await started(telegram_config(fake), db, clock))
    await join(bot)
    await bot.runtime.stop()

    async def killed(*_args: Any) -> None:  # dies after storing and claiming, before handling
        await asyncio.Event().wait()

    monkeypatch.setattr(TelegramAdapter, "_handle", killed)
    first = await started(telegram_config(fake), db, clock)
    update = fake.push_message(bot.reporter_chat, bot.reporter, "/report 9 hộ")

    def stored_and_confirmed() -> bool:
        with db.session() as session:
            row = session.exec(
                select(Delivery).where(Delivery.key == str(update["update_id"]))
            ).first()
        confirmed = any(
            c.params.get("offset", 0) > update["update_id"] for c in fake.calls_of("getUpdates")
        )
        return row is not None and row.lease_owner is not None and confirmed

    await fake.wait_for(stored_and_confirmed)
    await first.stop()
    assert bot.reports() == []  # Telegram will not send it again: only our inbox has it
    monkeypatch.undo()
    other = telegram_config(fake)
    other.server.instance = "another-host"  # not the dead one restarted: it waits for the lease
    second = await started(other, db, clock)
    await asyncio.sleep(0.3)
    assert bot.reports() == []  # the dead instance's claim holds until its lease runs out…
    clock.advance(timedelta(minutes=3))  # …and then another instance takes it
    try:
        await fake.wait_for(lambda: bot.reports())
        await fake.wait_for_message(bot.reporter_chat["id"], "✅ Đã ghi báo cáo #1.")
    finally:
        await second.stop()


async def test_webhook_mode_checks_the_secret(
    fake: FakeTelegram, db: Database, clock: FixedClock
) -> None:
    config = telegram_config(
        fake,
        mode="webhook",
        webhook_url="https://bot.example.org/telegram/hook",
        webhook_secret=SecretStr(SECRET),
    )
    runtime = await started(config, db, clock)
    bot = Bot(fake, db, runtime)
    try:
        assert fake.webhook["url"] == "https://bot.example.org/telegram/hook"
        assert fake.webhook["secret_token"] == SECRET
        url = f"http://127.0.0.1:{runtime.port}/telegram/hook"
        update = fake.push_message(bot.admin_chat, bot.admin, "/help")
        assert await fake.post_webhook(url, update, "wrong") == 403
        assert await fake.post_webhook(url, update) == 403
        with db.session() as session:
            assert session.exec(select(Delivery)).all() == []
        assert await fake.post_webhook(url, update, SECRET) == 200
        await bot.processed(update)
        assert await fake.post_webhook(url, update, SECRET) == 200  # a retry: recorded once
        answer = await fake.wait_for_message(bot.admin_chat["id"])
        assert "/campaign" in (answer["text"] or "")
        assert len(fake.messages(bot.admin_chat["id"])) == 1
        async with (
            aiohttp.ClientSession() as session,
            session.get(f"http://127.0.0.1:{runtime.port}/healthz") as health,
        ):
            assert (await health.json())["adapters"] == ["telegram"]
    finally:
        await runtime.stop()


async def test_the_sender_shapes_digests_and_reports_refusing_chats(bot: Bot) -> None:
    sender = bot.adapter.sender
    chat = Ref("telegram", "", str(ADMIN_ID))
    images = (Image("a.png", PNG, "A"), Image("b.png", PNG, "B"))
    await sender.send(chat, Reply("Bản tin ngày 10/03", images=images))
    album = bot.fake.messages(ADMIN_ID)
    assert [m["caption"] for m in album] == ["Bản tin ngày 10/03", "B"]
    assert all(m["photo"] == PNG for m in album)
    long_text = "\n".join(f"dòng {i}: " + "x" * 80 for i in range(100))
    await sender.send(chat, Reply(long_text, images=images[:1]))
    *texts, photo = bot.fake.messages(ADMIN_ID)[2:]
    assert "\n".join(m["text"] or "" for m in texts) == long_text and photo["caption"] == "A"

    bot.fake.fail_next("sendMessage", status=403)
    with pytest.raises(ChatUnavailable):
        await sender.send(chat, Reply("x"))
    with pytest.raises(ChatUnavailable):
        await sender.send(Ref("telegram", "", "-424242"), Reply("x"))  # never seen: not found


async def test_the_digest_goes_to_a_group_and_a_kicked_group_is_switched_off(
    bot: Bot, db: Database, clock: FixedClock
) -> None:
    await join(bot)
    group = bot.fake.group(-600, "Ban chỉ đạo")
    await bot.say(group, bot.admin, "/campaign use road")
    assert "18:00" in await bot.say(group, bot.admin, "/digest here")
    await bot.say(bot.reporter_chat, bot.reporter, "/report 12 hộ")
    digests = bot.runtime.app.digests
    clock.current = datetime(2025, 3, 10, 11, 0, tzinfo=UTC)  # 18:00 in Hà Nội
    await digests.tick()
    digest = bot.fake.messages(group["id"])[-1]
    assert "Đường Bình Sơn Đông" in (digest["text"] or digest["caption"] or "")

    kicked = "Forbidden: bot was kicked from the group chat"
    for method in ("sendMessage", "sendPhoto", "sendMediaGroup"):  # however the digest is shaped
        bot.fake.fail_next(method, status=403, description=kicked, chat_id=group["id"])
    clock.current += timedelta(days=1)
    await digests.tick()
    with db.session() as session:
        subscription = session.exec(select(DigestSubscription)).one()
    assert not subscription.enabled and "kicked" in (subscription.disabled_reason or "")
    notice = await bot.fake.wait_for_message(ADMIN_ID, "Ban chỉ đạo")
    assert "tắt" in (notice["text"] or "")


async def test_teams_are_imported_from_a_document_and_exported_as_one(bot: Bot) -> None:
    await set_up(bot)
    chat, admin = bot.admin_chat, bot.admin
    csv_text = "code,name,unit,unit_name\nt2,Tổ 2,ap-2,Ấp 2\nt3,Tổ 3,ap-2,Ấp 2\n"
    document = (csv_text.encode("utf-8"), "teams.csv", "text/csv")
    answer = await bot.say(chat, admin, caption="/team import", document=document)
    assert "2" in answer and not answer.startswith("⚠️"), answer
    with bot.db.session() as session:
        assert set(session.exec(select(Team.code)).all()) == {"t1", "t2", "t3"}
    (export,) = await bot.sent_after(chat, lambda: bot.fake.push_message(chat, admin, "/export"))
    assert export["file_name"] == "tiendo-road-2025-03-10.csv"
    assert (export["document"] or b"").decode("utf-8-sig").startswith("id,date,team,")


async def test_an_update_the_database_could_not_take_is_fetched_again(
    bot: Bot, monkeypatch: pytest.MonkeyPatch
) -> None:
    await join(bot)
    store, failures = inbox.store_and_claim, [RuntimeError("database is away")]

    def flaky(*args: Any, **kwargs: Any) -> Any:
        if failures:
            raise failures.pop()
        return store(*args, **kwargs)

    monkeypatch.setattr(inbox, "store_and_claim", flaky)
    update = bot.fake.push_message(bot.reporter_chat, bot.reporter, "/report 4 hộ")
    await bot.processed(update)
    assert failures == [] and len(bot.reports()) == 1
    # The offset was not moved past the update until it was stored.
    offsets = [c.params.get("offset", 0) for c in bot.fake.calls_of("getUpdates")]
    assert offsets.count(update["update_id"]) >= 2  # asked for again after the failure


def test_a_mention_without_username_reaches_handlers_as_a_telegram_id() -> None:
    """`/role Minh leader`, where the admin picked Minh (no @username) from the mention list:
    Telegram sends a text_mention entity carrying the user, which the adapter turns into an id."""
    message = Message.de_json(
        {
            "message_id": 5,
            "date": 0,
            "chat": {"id": 1, "type": "private"},
            "text": "/role Minh Trần leader",
            "entities": [
                {"type": "bot_command", "offset": 0, "length": 5},
                {
                    "type": "text_mention",
                    "offset": 6,
                    "length": 9,
                    "user": {"id": 4242, "is_bot": False, "first_name": "Minh"},
                },
            ],
        },
        None,
    )
    assert message is not None
    assert command_text(message) == "/role telegram:4242 leader"
