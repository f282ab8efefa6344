"""The Zalo adapter end to end: the real adapter and client, in the runtime `tiendo run` uses,
against the project's strict fake Zalo Bot API, which fetches chart URLs back from tiendo's own
server. What the user sees is read from the fake; what is stored, from the database."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
import pytest
from pydantic import SecretStr
from sqlmodel import col, select

from bot.app import build
from bot.config import AdminsConfig, Config, ConfigError, ZaloConfig, load_config
from bot.delivery import ChatUnavailable
from bot.runtime import Runtime
from bot.tuning import Tuning
from bot.zalo import ZaloAdapter
from handlers.clock import FixedClock
from handlers.values import Image, Ref, Reply
from storage import inbox
from storage.db import Database
from storage.models import Chat, Delivery, DigestSubscription, Media, Outgoing, Prompt, Report
from tests.fakes.zalo_api import PNG_MAGIC, FakeZalo, Sent

Obj = dict[str, Any]
PUBLIC = "https://bot.example.org"
SECRET = "zalo-hook-secret_1"
PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"
    b"\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00"
    b"\x00\x00IEND\xaeB`\x82"
)


class Bot:
    """Plays Zalo's users against the running adapter and reads what it stored and sent."""

    def __init__(self, fake: FakeZalo, db: Database, runtime: Runtime) -> None:
        self.fake, self.db, self.runtime = fake, db, runtime
        self.admin = fake.user("Lan", id="a0000000000000000001")
        self.reporter = fake.user("Minh", id="b0000000000000000002")
        self.admin_chat = fake.private_chat(self.admin)
        self.reporter_chat = fake.private_chat(self.reporter)
        fake.route(PUBLIC, f"http://127.0.0.1:{runtime.port}")

    @property
    def adapter(self) -> ZaloAdapter:
        adapter = self.runtime.adapters[0]
        assert isinstance(adapter, ZaloAdapter)
        return adapter

    async def processed(self, update: Obj) -> None:
        """Until the adapter has stored, handled and marked `update` done, and the outbox has
        sent what it answered."""
        key = update["message"]["message_id"]

        def done() -> bool:
            with self.db.session() as session:
                row = session.exec(select(Delivery).where(Delivery.key == key)).first()
                waiting = session.exec(
                    select(Outgoing.id).where(col(Outgoing.sent_at).is_(None))
                ).first()
                return row is not None and row.done_at is not None and waiting is None

        await self.fake.wait_for(done, timeout=10)

    async def sent_after(self, chat: Obj, push: Any) -> list[Sent]:
        before = len(self.fake.sent(chat["id"]))
        await self.processed(push())
        return self.fake.sent(chat["id"])[before:]

    async def say(self, chat: Obj, user: Obj, text: str) -> str:
        """The text (or caption) of the bot's last answer to a message."""
        sent = await self.sent_after(chat, lambda: self.fake.push_text(chat, user, text))
        assert sent, f"no answer to {text!r}"
        return sent[-1].text or sent[-1].caption or ""

    def reports(self) -> list[Report]:
        with self.db.session() as session:
            return list(session.exec(select(Report).order_by(col(Report.id))).all())


def zalo_config(fake: FakeZalo, *, public_url: str | None = PUBLIC, **options: Any) -> Config:
    config = Config(
        admins=AdminsConfig(superadmins=["zalo:a0000000000000000001"]),
        zalo=ZaloConfig(token=SecretStr(fake.token), api_base_url=fake.base_url, **options),
    )
    config.server.port = 0
    config.server.public_url = public_url
    return config


async def started(config: Config, db: Database, clock: FixedClock, **options: Any) -> Runtime:
    tuning = Tuning(retry_backoff=0.01, poll_timeout=1, worker_poll=0.1, **options)
    runtime = Runtime(build(config, clock=clock, db=db, adapters=True, tuning=tuning))
    await runtime.start()
    return runtime


@pytest.fixture
async def fake() -> AsyncIterator[FakeZalo]:
    async with FakeZalo(second=0.05) as fake:
        yield fake
        assert fake.violations == []  # every call the bot made was a valid Bot API call


@pytest.fixture
async def bot(fake: FakeZalo, db: Database, clock: FixedClock) -> AsyncIterator[Bot]:
    runtime = await started(zalo_config(fake), db, clock)
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
    assert "t.me" not in invite  # no Telegram link when only Zalo runs
    return invite.split()[2].rstrip(":")


async def join(bot: Bot) -> None:
    code = await set_up(bot)
    assert "Tổ 1" in await bot.say(bot.reporter_chat, bot.reporter, f"/join {code}")


async def test_a_campaign_is_run_from_zalo_and_undone_by_number(bot: Bot) -> None:
    await join(bot)
    chat, user = bot.reporter_chat, bot.reporter
    confirmation = await bot.say(chat, user, "/report 12 hộ 2tr5")
    assert "✅ Đã ghi báo cáo #1." in confirmation
    assert "12 / 500 hộ (2,4%)" in confirmation
    assert confirmation.endswith("Trả lời bằng số:\n1. ↩️ Hoàn tác")
    (saved,) = bot.reports()
    assert saved.source == "zalo" and saved.source_chat == f"zalo:{user['id']}"
    with bot.db.session() as session:
        reporter_chat = session.exec(select(Chat).where(Chat.key == f"zalo:{chat['id']}")).one()
    assert not reporter_chat.is_group

    ask = await bot.say(chat, user, "1")
    assert "Rút lại báo cáo #1" in ask and "1. " in ask and "2. " in ask
    assert "Không có lựa chọn 5" in await bot.say(chat, user, "5")  # no such choice: the list again
    done = await bot.say(chat, user, "1")
    assert "Đã rút lại báo cáo #1" in done
    assert [r.status for r in bot.reports()] == ["retracted"]
    # The answer asked nothing: a number now is stale, and told so.
    assert "không còn" in await bot.say(chat, user, "1")


async def test_choices_survive_a_restart_and_expire(
    fake: FakeZalo, db: Database, clock: FixedClock
) -> None:
    bot = Bot(fake, db, await started(zalo_config(fake), db, clock))
    await join(bot)
    chat, user = bot.reporter_chat, bot.reporter
    assert "1. ↩️ Hoàn tác" in await bot.say(chat, user, "/report 3 hộ")
    await bot.runtime.stop()
    other = zalo_config(fake)
    other.server.instance = "another-host"  # the choices are in the database, not in memory
    bot = Bot(fake, db, await started(other, db, clock))
    try:
        assert "Rút lại báo cáo #1" in await bot.say(chat, user, "1")
        clock.advance(timedelta(hours=25))
        stale = await bot.say(chat, user, "1")
        assert "hết hạn" in stale and bot.reports()[0].status == "active"
        with db.session() as session:
            assert session.exec(select(Prompt)).one().kind == "choices"
        # A user with nothing open is told what a number is for.
        assert "/help" in await bot.say(bot.admin_chat, bot.admin, "2")
    finally:
        await bot.runtime.stop()


async def test_the_guided_report_by_text(bot: Bot, clock: FixedClock) -> None:
    await join(bot)
    chat, user = bot.reporter_chat, bot.reporter
    first = await bot.say(chat, user, "/report")
    assert "1/4 · Hộ đã vận động" in first and "bỏ qua" in first and "huỷ" in first
    assert "2/4 · Tiền đóng góp" in await bot.say(chat, user, "5")
    assert "3/4 · Ngày" in await bot.say(chat, user, "-3")
    assert "4/4 · Ghi chú" in await bot.say(chat, user, "bỏ qua")
    # The engine rejects the money: that question comes again with the reason; nothing stored.
    again = await bot.say(chat, user, "họp tổ")
    assert "-3" in again and "2/4 · Tiền đóng góp" in again
    assert bot.reports() == []
    confirmation = await bot.say(chat, user, "2tr")  # straight back to sending
    assert "✅ Đã ghi báo cáo #1." in confirmation and "1. ↩️ Hoàn tác" in confirmation
    (saved,) = bot.reports()
    assert saved.note == "họp tổ"

    # Cancelled half-way, the form records nothing; a form left open times out.
    await bot.say(chat, user, "/report")
    assert "Đã huỷ" in await bot.say(chat, user, "hủy")
    await bot.say(chat, user, "/report")
    clock.advance(timedelta(minutes=11))
    assert "hết thời gian" in await bot.say(chat, user, "7")
    assert len(bot.reports()) == 1


async def test_a_form_survives_a_restart(fake: FakeZalo, db: Database, clock: FixedClock) -> None:
    bot = Bot(fake, db, await started(zalo_config(fake), db, clock))
    await join(bot)
    chat, user = bot.reporter_chat, bot.reporter
    await bot.say(chat, user, "/report")
    await bot.say(chat, user, "4")
    await bot.runtime.stop()
    bot = Bot(fake, db, await started(zalo_config(fake), db, clock))
    try:
        assert "3/4" in await bot.say(chat, user, "bỏ qua")
        await bot.say(chat, user, "hôm qua")
        assert "✅" in await bot.say(chat, user, "skip")
        (saved,) = bot.reports()
        assert saved.report_date == datetime(2025, 3, 9).date()
    finally:
        await bot.runtime.stop()


async def test_a_photo_report_and_a_chart_by_url(bot: Bot, clock: FixedClock) -> None:
    await join(bot)
    chat, user = bot.reporter_chat, bot.reporter
    photo_url = "https://photo-stal.zadn.vn/abc/evidence.jpg"
    update = bot.fake.push_image(chat, user, photo_url, caption="/report 3 hộ")
    await bot.processed(update)
    assert "📷" in (bot.fake.sent(chat["id"])[-1].text or "")
    (report,) = bot.reports()
    assert report.photo_ref == f"zalo:{photo_url}"
    # A photo without a command is nobody's business.
    await bot.processed(bot.fake.push_image(chat, user, photo_url))
    assert len(bot.reports()) == 1

    sent = await bot.sent_after(chat, lambda: bot.fake.push_text(chat, user, "/progress"))
    photos = [m for m in sent if m.kind == "photo"]
    assert photos and all((m.photo or b"").startswith(PNG_MAGIC) for m in photos)
    assert all((m.photo_url or "").startswith(f"{PUBLIC}/media/") for m in photos)
    shown = "".join((m.text or "") + (m.caption or "") for m in sent)
    assert "3 / 500 hộ" in shown
    # The address is unguessable, served from the database, and stops working after a day.
    token = (photos[0].photo_url or "").rsplit("/", 1)[1]
    assert len(token) >= 22  # 128 bits or more, base64
    local = f"http://127.0.0.1:{bot.runtime.port}/media/"
    async with aiohttp.ClientSession() as session:
        async with session.get(local + token) as served:
            assert served.status == 200 and served.content_type == "image/png"
        async with session.get(local + "x" * 32) as unknown:
            assert unknown.status == 404
        async with session.get(f"http://127.0.0.1:{bot.runtime.port}/media/") as listing:
            assert listing.status == 404
        clock.advance(timedelta(days=1, seconds=1))
        async with session.get(local + token) as expired:
            assert expired.status == 404


async def test_an_export_is_a_link_that_downloads(bot: Bot) -> None:
    await join(bot)
    await bot.say(bot.reporter_chat, bot.reporter, "/report 2 hộ")
    answer = await bot.say(bot.admin_chat, bot.admin, "/export")
    link = next(word for word in answer.split() if word.startswith(f"{PUBLIC}/media/"))
    assert "24" in answer
    local = link.replace(PUBLIC, f"http://127.0.0.1:{bot.runtime.port}")
    async with aiohttp.ClientSession() as session, session.get(local) as download:
        assert download.status == 200
        assert "tiendo-road-2025-03-10.csv" in download.headers["Content-Disposition"]
        body = (await download.read()).decode("utf-8-sig")
    assert body.startswith("id,date,team,") and "2" in body


async def test_without_public_url_the_reply_says_what_is_missing(
    fake: FakeZalo, db: Database, clock: FixedClock
) -> None:
    runtime = await started(zalo_config(fake, public_url=None), db, clock)
    bot = Bot(fake, db, runtime)
    try:
        await join(bot)
        progress = await bot.say(bot.reporter_chat, bot.reporter, "/progress")
        assert "server.public_url" in progress
        assert all(m.kind == "text" for m in fake.sent(bot.reporter_chat["id"]))
        assert "server.public_url" in await bot.say(bot.admin_chat, bot.admin, "/export")
        with db.session() as session:
            assert session.exec(select(Media)).all() == []
    finally:
        await runtime.stop()


async def test_a_group_bound_to_a_team(bot: Bot) -> None:
    await join(bot)
    group = bot.fake.group(id="c0000000000000000003")
    assert "road" in await bot.say(group, bot.admin, "/campaign use road")
    assert "Tổ 1" in await bot.say(group, bot.admin, "/team bind t1")
    assert "✅" in await bot.say(group, bot.reporter, "/report 4 hộ")
    (saved,) = bot.reports()
    assert saved.source_chat == "zalo:c0000000000000000003"
    assert saved.source_message_id is not None
    assert saved.source_message_id.startswith("zalo:c0000000000000000003:")
    with bot.db.session() as session:
        group_chat = session.exec(select(Chat).where(Chat.key == saved.source_chat)).one()
    assert group_chat.is_group and group_chat.team_id is not None
    # Another member's number in the group is not an answer to the reporter's choices.
    before = len(bot.fake.sent(group["id"]))
    await bot.processed(bot.fake.push_text(group, bot.admin, "1"))
    assert len(bot.fake.sent(group["id"])) == before
    assert "Rút lại báo cáo #1" in await bot.say(group, bot.reporter, "1")


async def test_long_replies_are_split_at_line_breaks(bot: Bot) -> None:
    await set_up(bot)
    chat = bot.admin_chat
    long_text = "\n".join(f"dòng {i}: " + "x" * 80 for i in range(60))
    before = len(bot.fake.sent(chat["id"]))
    await bot.adapter.sender.send(Ref("zalo", "", chat["id"]), Reply(long_text))
    pieces = [m.text or "" for m in bot.fake.sent(chat["id"])[before:]]
    assert len(pieces) == 3 and "\n".join(pieces) == long_text  # cut at line breaks only
    assert all(len(p) <= 2000 for p in pieces)


async def test_429_and_500_answers_are_survived(bot: Bot) -> None:
    await join(bot)
    chat, user = bot.reporter_chat, bot.reporter
    bot.fake.fail_next("sendMessage", status=429, retry_after=1)
    assert "✅ Đã ghi báo cáo #1." in await bot.say(chat, user, "/report 1 hộ")
    bot.fake.fail_next("sendMessage", status=500, times=2)
    assert "✅ Đã ghi báo cáo #2." in await bot.say(chat, user, "/report 2 hộ")
    bot.fake.fail_next("getUpdates", status=502, html=True)
    assert "✅ Đã ghi báo cáo #3." in await bot.say(chat, user, "/report 3 hộ")
    assert len(bot.reports()) == 3
    confirmations = [m for m in bot.fake.sent(chat["id"]) if "✅" in (m.text or "")]
    assert len(confirmations) == 3


async def test_a_redelivered_message_is_recorded_once(bot: Bot) -> None:
    await join(bot)
    chat, user = bot.reporter_chat, bot.reporter
    update = bot.fake.push_text(chat, user, "/report 6 hộ")
    await bot.processed(update)
    bot.fake.push_raw(update)  # Zalo delivers it again: same message id
    assert "6 hộ" in await bot.say(chat, user, "/myreports")  # handled after the duplicate
    assert len(bot.reports()) == 1
    confirmations = [m for m in bot.fake.sent(chat["id"]) if "✅" in (m.text or "")]
    assert len(confirmations) == 1


async def test_an_update_the_database_could_not_take_is_kept(
    bot: Bot, monkeypatch: pytest.MonkeyPatch
) -> None:
    """getUpdates has no offset: what it handed out exists only in the adapter's hands until
    stored, so storing is tried again rather than the update dropped."""
    await join(bot)
    store, failures = inbox.store_and_claim, [RuntimeError("database is away")]

    def flaky(*args: Any, **kwargs: Any) -> Any:
        if failures:
            raise failures.pop()
        return store(*args, **kwargs)

    monkeypatch.setattr(inbox, "store_and_claim", flaky)
    update = bot.fake.push_text(bot.reporter_chat, bot.reporter, "/report 4 hộ")
    await bot.processed(update)
    assert failures == [] and len(bot.reports()) == 1


async def test_webhook_mode_checks_the_secret(
    fake: FakeZalo, db: Database, clock: FixedClock
) -> None:
    config = zalo_config(
        fake,
        mode="webhook",
        webhook_url=f"{PUBLIC}/zalo/hook",
        webhook_secret=SecretStr(SECRET),
    )
    runtime = await started(config, db, clock)
    bot = Bot(fake, db, runtime)
    try:
        assert fake.webhook is not None and fake.webhook["url"] == f"{PUBLIC}/zalo/hook"
        assert fake.webhook["secret_token"] == SECRET
        url = f"http://127.0.0.1:{runtime.port}/zalo/hook"
        message = {"message_id": "d" * 20, "from": bot.admin, "chat": bot.admin_chat, "text": "/a"}
        body = {"event_name": "message.text.received", "message": message}
        async with aiohttp.ClientSession() as session:
            for headers in ({"X-Bot-Api-Secret-Token": "wrong-secret"}, {}):
                async with session.post(url, json=body, headers=headers) as refused:
                    assert refused.status == 403
        with db.session() as session:
            assert session.exec(select(Delivery)).all() == []
        # Through the fake's own delivery: the right secret, stored, answered, recorded once.
        update = fake.push_text(bot.admin_chat, bot.admin, "/help")
        await bot.processed(update)
        fake.push_raw(update)
        await fake.wait_for(lambda: not fake.pending)
        answer = await fake.wait_for_message(bot.admin_chat["id"])
        assert "/campaign" in (answer.text or "")
        assert [a.status for a in fake.webhook_attempts_made] == [200, 200]
        assert len(fake.sent(bot.admin_chat["id"])) == 1
        async with (
            aiohttp.ClientSession() as session,
            session.get(f"http://127.0.0.1:{runtime.port}/healthz") as health,
        ):
            assert (await health.json())["adapters"] == ["zalo"]
    finally:
        await runtime.stop()


async def test_the_webhook_answers_503_while_the_database_is_away(
    fake: FakeZalo, db: Database, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = zalo_config(
        fake, mode="webhook", webhook_url=f"{PUBLIC}/zalo", webhook_secret=SecretStr(SECRET)
    )
    runtime = await started(config, db, clock)
    bot = Bot(fake, db, runtime)
    try:
        store, failures = inbox.store_and_claim, [RuntimeError("database is away")]

        def flaky(*args: Any, **kwargs: Any) -> Any:
            if failures:
                raise failures.pop()
            return store(*args, **kwargs)

        monkeypatch.setattr(inbox, "store_and_claim", flaky)
        update = fake.push_text(bot.admin_chat, bot.admin, "/help")
        await bot.processed(update)  # Zalo tried again after the 503
        assert [a.status for a in fake.webhook_attempts_made] == [503, 200]
    finally:
        await runtime.stop()


async def test_the_sender_sends_digests_and_reports_refusing_chats(bot: Bot) -> None:
    chat_id = bot.admin_chat["id"]
    chat = Ref("zalo", "", chat_id)
    await bot.adapter.sender.send(chat, Reply("Bản tin ngày 10/03", images=(Image("a.png", PNG),)))
    (photo,) = bot.fake.sent(chat_id)
    assert photo.kind == "photo" and photo.caption == "Bản tin ngày 10/03" and photo.photo == PNG
    long_text = "x " * 1500
    await bot.adapter.sender.send(chat, Reply(long_text, images=(Image("b.png", PNG, "B"),)))
    *texts, last = bot.fake.sent(chat_id)[1:]
    assert [m.kind for m in texts] == ["text", "text"] and last.caption == "B"

    bot.fake.refuse(chat_id)
    with pytest.raises(ChatUnavailable):
        await bot.adapter.sender.send(chat, Reply("x"))
    with pytest.raises(ChatUnavailable):
        await bot.adapter.sender.send(Ref("zalo", "", "f" * 20), Reply("x"))  # never seen


async def test_the_digest_goes_to_a_group_and_a_refusing_group_is_switched_off(
    bot: Bot, db: Database, clock: FixedClock
) -> None:
    await join(bot)
    group = bot.fake.group(id="e0000000000000000005")
    await bot.say(group, bot.admin, "/campaign use road")
    assert "18:00" in await bot.say(group, bot.admin, "/digest here")
    await bot.say(bot.reporter_chat, bot.reporter, "/report 12 hộ")
    digests = bot.runtime.app.digests
    clock.current = datetime(2025, 3, 10, 11, 0, tzinfo=UTC)  # 18:00 in Hà Nội
    await digests.tick()
    digest = bot.fake.sent(group["id"])
    assert any("Đường Bình Sơn Đông" in (m.text or m.caption or "") for m in digest)
    assert any(m.kind == "photo" for m in digest)

    bot.fake.refuse(group["id"])
    clock.current += timedelta(days=1)
    await digests.tick()
    with db.session() as session:
        subscription = session.exec(select(DigestSubscription)).one()
    assert not subscription.enabled
    notice = await bot.fake.wait_for_message(bot.admin_chat["id"], "tắt")
    assert notice.text


async def test_a_stored_update_is_handled_after_a_crash(
    fake: FakeZalo, db: Database, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    bot = Bot(fake, db, await started(zalo_config(fake), db, clock))
    await join(bot)
    await bot.runtime.stop()

    async def killed(*_args: Any) -> None:  # the process dies after storing, before handling
        await asyncio.Event().wait()

    monkeypatch.setattr(ZaloAdapter, "_handle", killed)
    first = await started(zalo_config(fake), db, clock)
    update = fake.push_text(bot.reporter_chat, bot.reporter, "/report 9 hộ")
    key = update["message"]["message_id"]

    def stored() -> bool:
        with db.session() as session:
            return session.exec(select(Delivery).where(Delivery.key == key)).first() is not None

    await fake.wait_for(stored)
    await first.stop()
    assert bot.reports() == [] and fake.pending == []  # only our inbox has it now
    monkeypatch.undo()
    second = await started(zalo_config(fake), db, clock)  # the same instance, restarted
    try:
        await fake.wait_for_message(bot.reporter_chat["id"], "✅ Đã ghi báo cáo #1.")
        assert len(bot.reports()) == 1
    finally:
        await second.stop()


def test_zalo_is_configured_from_the_environment_and_checked() -> None:
    config = load_config(
        environ={
            "TIENDO_ZALO_TOKEN": "1459232241454765289:abc",
            "TIENDO_ZALO_MODE": "webhook",
            "TIENDO_ZALO_API_BASE_URL": "http://127.0.0.1:9/zalo",
            "TIENDO_SERVER_PUBLIC_URL": "https://bot.example.org/",
        }
    )
    assert config.zalo.enabled and config.zalo.bot_id == "1459232241454765289"
    assert config.zalo.api_base_url == "http://127.0.0.1:9/zalo"
    assert config.server.public_url == "https://bot.example.org"
    assert config.zalo.problems() == [
        'zalo.webhook_url is required when zalo.mode = "webhook"',
        'zalo.webhook_secret is required when zalo.mode = "webhook"',
    ]
    assert "***" in str(config.redacted()["zalo"]["token"])
    assert Config().zalo.api_base_url == "https://bot-api.zaloplatforms.com"
    assert not Config().zalo.enabled
    short = ZaloConfig(
        token=SecretStr("1:x"), mode="webhook", webhook_url="http://x/z", webhook_secret="short"
    )
    assert short.problems() == [
        "zalo.webhook_url must start with https://",
        "zalo.webhook_secret must be 8-256 printable ASCII characters",
    ]
    with pytest.raises(ConfigError, match="public_url"):
        load_config(environ={"TIENDO_SERVER_PUBLIC_URL": "http://bot.example.org"})
