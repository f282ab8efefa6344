"""The Slack adapter end to end: signed requests into the real Bolt app over HTTP (through the
runtime's shared aiohttp server), answers out to the fake Slack Web API."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from typing import Any, Protocol

import aiohttp
import pytest
from pydantic import SecretStr
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient
from sqlmodel import select

from bot.app import build
from bot.config import AdminsConfig, Config, SlackConfig
from bot.delivery import ChatUnavailable
from bot.runtime import Runtime
from bot.slack import SlackSender
from handlers.clock import FixedClock
from handlers.values import Image, Ref, Reply
from storage.db import Database
from storage.models import Report
from tests.fakes.slack_api import BOT_TOKEN, CHANNEL_ID, TEAM_ID, FakeSlack, SignedRequests

SECRET = "s3cret"
ALICE, BOB = "U0ALICE", "U0BOB"


class Workspace:
    """Acts as Slack towards the app: sends signed requests, reads what the app answered."""

    def __init__(self, fake: FakeSlack, url: str, db: Database) -> None:
        self.fake, self.url, self.db = fake, url, db
        self.signed = SignedRequests(SECRET)
        self.triggers = itertools.count(1)

    async def post(self, request: Any) -> tuple[int, Any]:
        return await SignedRequests.send(self.url, request)

    async def command(
        self,
        text: str,
        *,
        user: str = ALICE,
        command: str = "/tiendo",
        trigger: str | None = None,
        **options: Any,
    ) -> dict[str, Any]:
        """Run a slash command; the answer Bolt's respond() posted to the response URL."""
        name = f"r{next(self.triggers)}"
        status, _ = await self.post(
            self.signed.slash_command(
                command=command,
                text=text,
                user_id=user,
                user_name=user.lower(),
                channel_id=CHANNEL_ID,
                channel_name="general",
                trigger_id=trigger or name,
                response_url=self.fake.response_url(name),
                **options,
            )
        )
        assert status == 200
        return await self.fake.wait_for(
            lambda: next((r.body for r in self.fake.responses if r.name == name), None)
        )

    async def press(
        self, answer: dict[str, Any], index: int, *, user: str = ALICE
    ) -> dict[str, Any]:
        button = next(b for b in answer["blocks"] if b["type"] == "actions")["elements"][index]
        name = f"b{next(self.triggers)}"
        status, _ = await self.post(
            self.signed.block_action(
                button["action_id"],
                button["value"],
                user_id=user,
                channel_id=CHANNEL_ID,
                message_ts="1700000000.000001",
                response_url=self.fake.response_url(name),
            )
        )
        assert status == 200
        return await self.fake.wait_for(
            lambda: next((r.body for r in self.fake.responses if r.name == name), None)
        )

    def reports(self) -> list[Report]:
        with self.db.session() as session:
            return list(session.exec(select(Report)).all())


@pytest.fixture
async def slack(db: Database, clock: FixedClock) -> AsyncIterator[Workspace]:
    async with FakeSlack() as fake:
        fake.add_user(BOB, "bob", "Trần Văn Bình")
        config = Config(
            admins=AdminsConfig(superadmins=[f"slack:{TEAM_ID}:{ALICE}"]),
            slack=SlackConfig(
                bot_token=SecretStr(BOT_TOKEN),
                signing_secret=SecretStr(SECRET),
                api_base_url=fake.api_url,
            ),
        )
        config.server.port = 0
        app = build(config, clock=clock, db=db, adapters=True)
        runtime = Runtime(app)
        await runtime.start()
        try:
            yield Workspace(fake, f"http://127.0.0.1:{runtime.port}/slack/events", db)
        finally:
            await runtime.stop()


class SlashCommands(Protocol):
    """Either way of reaching the app: signed HTTP requests or Socket Mode envelopes."""

    async def command(self, text: str, *, user: str = ..., command: str = ...) -> Any: ...


async def set_up(slack: SlashCommands) -> None:
    """A superadmin sets up campaign `road`; BOB joins team t1 with an invite code."""
    for line in (
        'campaign new road "Đường Bình Sơn Đông" start=2025-02-01',
        'metric add households "Hộ đã vận động" unit=household target=500 aliases=hộ',
        'metric add vnd "Tiền đóng góp" unit=VND target=2tỷ aliases=tiền',
        'team add t1 "Tổ 1"',
    ):
        answer = await slack.command(line)
        assert not answer["text"].startswith(("⚠️", "⛔")), answer["text"]
    invite = await slack.command("invite t1")
    code = invite["text"].split()[2].rstrip(":")
    joined = await slack.command(f"join {code}", user=BOB)
    assert "Tổ 1" in joined["text"]


async def test_a_campaign_is_run_from_slack(slack: Workspace) -> None:
    await set_up(slack)
    answer = await slack.command("12 hộ 2tr5", command="/report", user=BOB)
    assert answer["response_type"] == "in_channel"
    assert "✅ Đã ghi báo cáo #1." in answer["text"]
    assert "12 / 500 hộ (2,4%)" in answer["text"]
    (saved,) = slack.reports()
    assert saved.source == "slack" and saved.source_chat == f"slack:{TEAM_ID}:{CHANNEL_ID}"
    # The Undo button asks first; the second button press retracts.
    ask = await slack.press(answer, 0, user=BOB)
    assert "Rút lại báo cáo #1" in ask["text"]
    done = await slack.press(ask, 0, user=BOB)
    assert "Đã rút lại báo cáo #1" in done["text"]
    assert [r.status for r in slack.reports()] == ["retracted"]
    progress = await slack.command("", command="/progress", user=BOB)
    assert "luỹ kế 0 / 500 hộ" in progress["text"]
    # The chart goes up after the answer, into the same channel.
    (chart,) = await slack.fake.wait_for(lambda: slack.fake.uploads or None)
    assert chart.filename.startswith("progress-road-") and chart.content.startswith(b"\x89PNG")
    assert chart.channel == CHANNEL_ID


async def test_errors_are_ephemeral_and_mentions_name_users(slack: Workspace) -> None:
    await set_up(slack)
    wrong = await slack.command("12 gà", command="/report", user=BOB)
    assert wrong["response_type"] == "ephemeral" and "“gà”" in wrong["text"]
    refused = await slack.command('metric add x "X" unit=person', user=BOB)
    assert refused["text"].startswith("⛔")
    promoted = await slack.command(f"role <@{BOB}|bob> leader")
    assert "lãnh đạo" in promoted["text"]


async def test_the_guided_report_is_a_modal_with_field_errors(slack: Workspace) -> None:
    await set_up(slack)
    # A form answers with a modal, not a message: post the bare command and watch views.open.
    status, _ = await slack.post(
        slack.signed.slash_command(
            command="/report", text="", user_id=BOB, channel_id=CHANNEL_ID, trigger_id="T-form"
        )
    )
    assert status == 200
    (view,) = await slack.fake.wait_for(lambda: slack.fake.views or None)
    assert [b["block_id"] for b in view["blocks"]] == ["households", "vnd", "date", "note"]

    def state(households: str, vnd: str) -> dict[str, Any]:
        return {
            "households": {"value": {"type": "plain_text_input", "value": households}},
            "vnd": {"value": {"type": "plain_text_input", "value": vnd}},
            "date": {"value": {"type": "plain_text_input", "value": None}},
            "note": {"value": {"type": "plain_text_input", "value": "họp tổ"}},
        }

    status, body = await slack.post(
        slack.signed.view_submission(
            "tiendo_form",
            state("5", "-3"),
            private_metadata=view["private_metadata"],
            user_id=BOB,
            view_id=view["id"],
        )
    )
    assert status == 200 and body["response_action"] == "errors"
    assert "-3" in body["errors"]["vnd"]
    assert slack.reports() == []
    status, body = await slack.post(
        slack.signed.view_submission(
            "tiendo_form",
            state("5", "3tr"),
            private_metadata=view["private_metadata"],
            user_id=BOB,
            view_id=view["id"],
        )
    )
    assert status == 200 and not body
    message = await slack.fake.wait_for_message(CHANNEL_ID, contains="Đã ghi báo cáo #1")
    assert message.blocks and message.blocks[-1]["type"] == "actions"
    (saved,) = slack.reports()
    assert saved.note == "họp tổ"


async def test_forged_stale_and_retried_requests(slack: Workspace) -> None:
    await set_up(slack)
    forged = slack.signed.slash_command(
        command="/report", text="1 hộ", user_id=BOB, channel_id=CHANNEL_ID, secret="wrong"
    )
    stale = slack.signed.slash_command(
        command="/report",
        text="1 hộ",
        user_id=BOB,
        channel_id=CHANNEL_ID,
        timestamp=slack.signed.now() - 6 * 60,
    )
    assert (await slack.post(forged))[0] == 401
    assert (await slack.post(stale))[0] == 401
    first = await slack.command("3 hộ", command="/report", user=BOB, trigger="T-42")
    assert "Đã ghi báo cáo #1." in first["text"]
    # Slack sends the same command again (its first try timed out on the way back): it is
    # acknowledged, and found already in the inbox: recorded once, answered once.
    retry = slack.signed.slash_command(
        command="/report",
        text="3 hộ",
        user_id=BOB,
        channel_id=CHANNEL_ID,
        trigger_id="T-42",
        response_url=slack.fake.response_url("retry"),
        retry_num=1,
        retry_reason="http_timeout",
    )
    assert (await slack.post(retry))[0] == 200
    await slack.command("/me", user=BOB)  # handled after the retry would have been
    assert len(slack.reports()) == 1
    assert [r.name for r in slack.fake.responses if r.name == "retry"] == []


async def test_exports_and_files_are_uploaded(slack: Workspace) -> None:
    await set_up(slack)
    await slack.command("4 hộ", command="/report", user=BOB)
    await slack.command("export xlsx")
    (upload,) = await slack.fake.wait_for(lambda: slack.fake.uploads or None)
    assert upload.filename.endswith(".xlsx") and upload.content.startswith(b"PK")
    assert upload.channel == CHANNEL_ID


async def test_the_sender_obeys_rate_limits_and_reports_gone_channels(slack: Workspace) -> None:
    client = AsyncWebClient(token=BOT_TOKEN, base_url=slack.fake.api_url)
    client.retry_handlers.append(AsyncRateLimitErrorRetryHandler(max_retry_count=2))
    sender = SlackSender(client)
    slack.fake.fail_next("chat.postMessage", status=429, retry_after=1)
    await sender.send(Ref("slack", TEAM_ID, CHANNEL_ID), Reply("📊 Tổng hợp"))
    assert [m.text for m in slack.fake.messages(CHANNEL_ID)] == ["📊 Tổng hợp"]
    assert [c.method for c in slack.fake.calls].count("chat.postMessage") == 2
    # A digest: the text as blocks, then each chart uploaded to the channel.
    charts = (Image("progress.png", b"\x89PNG 1", "Tiến độ"), Image("trend.png", b"\x89PNG 2"))
    await sender.send(Ref("slack", TEAM_ID, CHANNEL_ID), Reply("📊 Ngày 10/03", images=charts))
    assert slack.fake.messages(CHANNEL_ID)[-1].blocks[0]["text"]["text"] == "📊 Ngày 10/03"
    uploads = await slack.fake.wait_for(lambda: slack.fake.uploads[1:] and slack.fake.uploads)
    assert [(u.filename, u.title, u.channel) for u in uploads] == [
        ("progress.png", "Tiến độ", CHANNEL_ID),
        ("trend.png", "trend.png", CHANNEL_ID),
    ]
    with pytest.raises(ChatUnavailable):
        await sender.send(Ref("slack", TEAM_ID, "C0GONE"), Reply("x"))


async def test_health(slack: Workspace) -> None:
    async with (
        aiohttp.ClientSession() as session,
        session.get(slack.url.replace("/slack/events", "/healthz")) as response,
    ):
        assert response.status == 200 and (await response.json())["adapters"] == ["slack"]


async def test_escaped_command_text_is_read_as_typed(slack: Workspace) -> None:
    await set_up(slack)
    # With should_escape, Slack sends what the user typed as & < > as entities.
    await slack.command('2 hộ note="Ấp 1 &amp; Ấp 2 &lt;xong&gt;"', command="/report", user=BOB)
    (saved,) = slack.reports()
    assert saved.note == "Ấp 1 & Ấp 2 <xong>"
