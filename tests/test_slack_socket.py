"""The Slack adapter in Socket Mode, end to end: the real Bolt app and slack-sdk's aiohttp Socket
Mode client connect to the fake Slack's WebSocket (after `apps.connections.open` with the app
token), receive envelopes, ack them by envelope id and answer through the fake Web API."""

from __future__ import annotations

import asyncio
import itertools
import threading
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Any
from urllib.parse import parse_qsl

import aiohttp
import pytest
from pydantic import SecretStr
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from sqlmodel import select

from bot.app import build
from bot.config import AdminsConfig, Config, SlackConfig
from bot.runtime import Runtime
from handlers.clock import FixedClock
from handlers.engine.dispatch import Engine
from handlers.values import Reply, Request
from storage.db import Database
from storage.models import Report
from tests.fakes.slack_api import (
    APP_ID,
    APP_TOKEN,
    BOT_TOKEN,
    CHANNEL_ID,
    TEAM_ID,
    USER_ID,
    Ack,
    FakeSlack,
    SignedRequests,
    socket_envelope,
)
from tests.test_slack import set_up

ALICE, BOB = "U0ALICE", "U0BOB"
# Slack acks must arrive within 3 s; leave room for a slow CI machine but stay below it.
ACK_WITHIN = 2.5


class Workspace:
    """Acts as Slack towards the app over its Socket Mode connection."""

    def __init__(self, fake: FakeSlack, engine: Engine, db: Database) -> None:
        self.fake, self.engine, self.db = fake, engine, db
        # Socket Mode is not signed; the builder only supplies Slack's payload shapes.
        self.payloads = SignedRequests("unused")
        self.names = itertools.count(1)

    async def deliver(self, request: Any) -> Ack:
        """Send `request` as a Socket Mode envelope; the app's ack for it."""
        envelope_id = await self.fake.send_envelope(*socket_envelope(request))
        return await self.fake.wait_for_ack(envelope_id, timeout=ACK_WITHIN)

    async def response(self, name: str) -> dict[str, Any]:
        return await self.fake.wait_for(
            lambda: next((r.body for r in self.fake.responses if r.name == name), None)
        )

    async def command(
        self, text: str, *, user: str = ALICE, command: str = "/tiendo"
    ) -> dict[str, Any]:
        """Run a slash command; the answer the app posted to its response_url."""
        name = f"r{next(self.names)}"
        ack = await self.deliver(
            self.payloads.slash_command(
                command=command,
                text=text,
                user_id=user,
                user_name=user.lower(),
                trigger_id=f"trigger-{name}",
                response_url=self.fake.response_url(name),
            )
        )
        assert ack.payload is None  # an empty ack: the answer follows on the response_url
        return await self.response(name)

    async def press(self, answer: dict[str, Any], index: int, *, user: str) -> dict[str, Any]:
        button = next(b for b in answer["blocks"] if b["type"] == "actions")["elements"][index]
        name = f"b{next(self.names)}"
        ack = await self.deliver(
            self.payloads.block_action(
                button["action_id"],
                button["value"],
                user_id=user,
                response_url=self.fake.response_url(name),
            )
        )
        assert ack.payload is None
        return await self.response(name)

    def reports(self) -> list[Report]:
        with self.db.session() as session:
            return list(session.exec(select(Report)).all())

    @contextmanager
    def engine_held(self) -> Iterator[threading.Event]:
        """While inside, every engine call waits until the yielded event is set: proves that
        an ack does not wait for the work."""
        release = threading.Event()
        handle = self.engine.handle

        def held(request: Request, then: Any = None) -> Reply:
            assert release.wait(timeout=10), "the engine was never released"
            return handle(request, then)

        self.engine.handle = held  # type: ignore[method-assign]
        try:
            yield release
        finally:
            release.set()
            self.engine.handle = handle  # type: ignore[method-assign]


@asynccontextmanager
async def running(
    db: Database, clock: FixedClock, *, app_token: str = APP_TOKEN
) -> AsyncIterator[tuple[Workspace, Runtime]]:
    """`tiendo run` with Slack in Socket Mode against the fake, connected."""
    async with FakeSlack() as fake:
        fake.add_user(BOB, "bob", "Trần Văn Bình")
        config = Config(
            admins=AdminsConfig(superadmins=[f"slack:{TEAM_ID}:{ALICE}"]),
            slack=SlackConfig(
                bot_token=SecretStr(BOT_TOKEN),
                app_token=SecretStr(app_token),
                mode="socket",
                api_base_url=fake.api_url,
            ),
        )
        config.server.port = 0
        app = build(config, clock=clock, db=db, adapters=True)
        engine = app.engine
        runtime = Runtime(app)
        try:
            await runtime.start()
            yield Workspace(fake, engine, db), runtime
        finally:
            await runtime.stop()


@pytest.fixture
async def slack(db: Database, clock: FixedClock) -> AsyncIterator[Workspace]:
    async with running(db, clock) as (workspace, _):
        yield workspace


async def test_the_fake_speaks_socket_mode_as_documented() -> None:
    async with FakeSlack() as fake, aiohttp.ClientSession() as session:
        bot = AsyncWebClient(token=BOT_TOKEN, base_url=fake.api_url)
        with pytest.raises(SlackApiError, match="not_allowed_token_type"):
            await bot.apps_connections_open(app_token=BOT_TOKEN)
        with pytest.raises(SlackApiError, match="not_allowed_token_type"):
            await AsyncWebClient(token=APP_TOKEN, base_url=fake.api_url).auth_test()
        # Slack takes the app-level token only from the Authorization header.
        async with session.post(
            f"{fake.api_url}apps.connections.open", data={"token": APP_TOKEN}
        ) as r:
            assert (await r.json())["error"] == "not_authed"
        url = (await bot.apps_connections_open(app_token=APP_TOKEN))["url"]
        assert url.startswith(fake.base_url.replace("http", "ws") + "/link/?ticket=")
        async with session.ws_connect(url) as socket:
            hello = await socket.receive_json()
            assert hello["type"] == "hello" and hello["num_connections"] == 1
            assert hello["connection_info"] == {"app_id": APP_ID}
            request = SignedRequests("unused").slash_command(text="12 hộ")
            envelope_id = await fake.send_envelope(*socket_envelope(request))
            envelope = await socket.receive_json()
            assert envelope == {
                "envelope_id": envelope_id,
                "type": "slash_commands",
                "payload": dict(parse_qsl(request.body.decode())),
                "accepts_response_payload": True,
            }
            await socket.send_json({"envelope_id": envelope_id})
            assert await fake.wait_for_ack(envelope_id) == Ack(envelope_id, None)
            # Only events say which delivery attempt they are.
            mention = {"type": "app_mention", "user": USER_ID, "text": "<@UBOT>"}
            await fake.send_envelope(*socket_envelope(SignedRequests("unused").event(mention)))
            event = await socket.receive_json()
            assert event["type"] == "events_api" and event["payload"]["event"] == mention
            assert (event["retry_attempt"], event["retry_reason"]) == (0, "")
            assert event["accepts_response_payload"] is False
        # Each URL works once.
        with pytest.raises(aiohttp.WSServerHandshakeError):
            await session.ws_connect(url)


async def test_only_acks_travel_back_over_the_socket(slack: Workspace) -> None:
    assert [c.method for c in slack.fake.calls].count("apps.connections.open") == 1
    assert slack.fake.connections == 1 and slack.fake.open_sockets == 1
    await slack.command("help")
    assert all(set(m) <= {"envelope_id", "payload"} for m in slack.fake.socket_messages)


async def test_a_report_is_acked_at_once_then_answered_and_stored(slack: Workspace) -> None:
    await set_up(slack)
    name = "report"
    with slack.engine_held() as release:
        envelope_id = await slack.fake.send_envelope(
            *socket_envelope(
                slack.payloads.slash_command(
                    command="/report",
                    text="12 hộ 2tr5",
                    user_id=BOB,
                    user_name="bob",
                    trigger_id="trigger-report",
                    response_url=slack.fake.response_url(name),
                )
            )
        )
        # The ack comes back with the envelope's id while the engine is still busy.
        ack = await slack.fake.wait_for_ack(envelope_id, timeout=ACK_WITHIN)
        assert ack == Ack(envelope_id, None)
        assert all(r.name != name for r in slack.fake.responses)
        release.set()
        answer = await slack.response(name)
    assert answer["response_type"] == "in_channel"
    assert "✅ Đã ghi báo cáo #1." in answer["text"]
    (saved,) = slack.reports()
    assert saved.source == "slack" and saved.source_chat == f"slack:{TEAM_ID}:{CHANNEL_ID}"


async def test_undo_buttons_work_over_the_socket(slack: Workspace) -> None:
    await set_up(slack)
    answer = await slack.command("4 hộ", command="/report", user=BOB)
    ask = await slack.press(answer, 0, user=BOB)
    assert "Rút lại báo cáo #1" in ask["text"]
    done = await slack.press(ask, 0, user=BOB)
    assert "Đã rút lại báo cáo #1" in done["text"]
    assert [r.status for r in slack.reports()] == ["retracted"]


async def test_the_guided_report_is_a_modal_with_errors_in_the_ack(slack: Workspace) -> None:
    await set_up(slack)
    ack = await slack.deliver(
        slack.payloads.slash_command(
            command="/report", text="", user_id=BOB, user_name="bob", trigger_id="T-form"
        )
    )
    assert ack.payload is None
    (view,) = await slack.fake.wait_for(lambda: slack.fake.views or None)
    (opened,) = [c for c in slack.fake.calls if c.method == "views.open"]
    assert opened.params["trigger_id"] == "T-form"
    assert [b["block_id"] for b in view["blocks"]] == ["households", "vnd", "date", "note"]

    def submission(households: str, vnd: str) -> Any:
        state = {
            "households": {"value": {"type": "plain_text_input", "value": households}},
            "vnd": {"value": {"type": "plain_text_input", "value": vnd}},
            "date": {"value": {"type": "plain_text_input", "value": None}},
            "note": {"value": {"type": "plain_text_input", "value": "họp tổ"}},
        }
        return slack.payloads.view_submission(
            "tiendo_form",
            state,
            private_metadata=view["private_metadata"],
            user_id=BOB,
            view_id=view["id"],
        )

    # Over the socket, the field error is the ack's payload.
    refused = await slack.deliver(submission("5", "-3"))
    assert refused.payload is not None and refused.payload["response_action"] == "errors"
    assert set(refused.payload["errors"]) == {"vnd"} and "-3" in refused.payload["errors"]["vnd"]
    assert slack.reports() == []
    accepted = await slack.deliver(submission("5", "3tr"))
    assert accepted.payload is None  # an empty ack closes the modal
    await slack.fake.wait_for_message(CHANNEL_ID, contains="Đã ghi báo cáo #1")
    (saved,) = slack.reports()
    assert saved.note == "họp tổ"


async def test_escaped_mentions_name_users(slack: Workspace) -> None:
    await set_up(slack)
    # With should_escape (the manifest's setting) Slack sends `@bob` as <@U0BOB|bob>.
    promoted = await slack.command(f"role <@{BOB}|bob> leader")
    assert "lãnh đạo" in promoted["text"]


async def test_a_refreshed_connection_is_replaced(slack: Workspace) -> None:
    await slack.fake.disconnect("refresh_requested")
    await slack.fake.wait_for(lambda: slack.fake.connections == 2 and slack.fake.open_sockets == 1)
    opens = [c for c in slack.fake.calls if c.method == "apps.connections.open"]
    assert len(opens) == 2
    answer = await slack.command("help")
    assert answer["response_type"] == "ephemeral"


async def test_a_wrong_app_token_fails_the_start(db: Database, clock: FixedClock) -> None:
    # Without the check, the client would retry for ever, logging only.
    with pytest.raises(SlackApiError, match="invalid_auth"):
        async with asyncio.timeout(5), running(db, clock, app_token="xapp-1-A0TEST-1-wrong"):
            pass


async def test_stop_closes_the_connection_and_leaves_nothing_running(
    db: Database, clock: FixedClock
) -> None:
    async with running(db, clock) as (slack, runtime):
        await slack.command("help")
        (adapter,) = runtime.adapters
        await adapter.stop()
        # Checked before anything else yields to the event loop: stop() itself has waited.
        leftovers = [
            task
            for task in asyncio.all_tasks()
            if "/slack_sdk/" in task.get_coro().cr_code.co_filename  # type: ignore[union-attr]
            or "/slack_bolt/" in task.get_coro().cr_code.co_filename  # type: ignore[union-attr]
        ]
        assert leftovers == []
        await slack.fake.wait_for(lambda: slack.fake.open_sockets == 0)
        # Slack gets no new connection: the client does not try to reconnect.
        assert [c.method for c in slack.fake.calls].count("apps.connections.open") == 1
