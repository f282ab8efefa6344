"""The fake Slack checked against the real slack-sdk client and a real Bolt app over HTTP, so
that adapter tests built on it exercise the same wire format as production."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import parse_qs

import aiohttp
import pytest
from aiohttp import web
from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond, AsyncSay
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.signature import Clock, SignatureVerifier
from slack_sdk.web.async_client import AsyncWebClient

from tests.fakes.slack_api import (
    BOT_TOKEN,
    BOT_USER_ID,
    CHANNEL_ID,
    TEAM_ID,
    USER_ID,
    FakeSlack,
    SignedRequests,
)

SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
NOW = 1_700_000_000.0
BLOCKS = [{"type": "section", "text": {"type": "mrkdwn", "text": "*12* hộ"}}]
MODAL = {
    "type": "modal",
    "callback_id": "report_form",
    "title": {"type": "plain_text", "text": "Báo cáo"},
    "blocks": [],
}


@pytest.fixture
async def fake() -> AsyncIterator[FakeSlack]:
    async with FakeSlack() as fake:
        yield fake


@pytest.fixture
def client(fake: FakeSlack) -> AsyncWebClient:
    return AsyncWebClient(token=BOT_TOKEN, base_url=fake.api_url)


@pytest.fixture
async def app_url(fake: FakeSlack) -> AsyncIterator[str]:
    """A Bolt app served on 127.0.0.1; its events URL."""
    # The token comes from the client: passing token= as well only makes Bolt warn.
    app = AsyncApp(
        signing_secret=SECRET, client=AsyncWebClient(token=BOT_TOKEN, base_url=fake.api_url)
    )

    @app.command("/report")
    async def report(ack: AsyncAck, respond: AsyncRespond, command: dict[str, Any]) -> None:
        await ack()
        await respond(f"Đã ghi: {command['text']}")

    @app.action("confirm")
    async def confirm(ack: AsyncAck, respond: AsyncRespond, action: dict[str, Any]) -> None:
        await ack()
        await respond(text=f"confirmed {action['value']}", replace_original=True)

    @app.view("report_form")
    async def submit(ack: AsyncAck, view: dict[str, Any]) -> None:
        value = view["state"]["values"]["count"]["input"]["value"]
        if not value.isdigit():
            await ack(response_action="errors", errors={"count": "not a number"})
            return
        await ack()

    @app.event("app_mention")
    async def mention(say: AsyncSay, event: dict[str, Any]) -> None:
        await say(f"chào <@{event['user']}>")

    # AsyncApp.web_app() is an aiohttp Application that POSTs `path` to the app; run it on
    # an ephemeral port instead of app.start(), which blocks in web.run_app.
    runner = web.AppRunner(app.web_app(path="/slack/events"))
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    yield f"http://127.0.0.1:{runner.addresses[0][1]}/slack/events"
    await runner.cleanup()


# --- AsyncWebClient against the fake


async def test_auth_test_describes_the_workspace(client: AsyncWebClient) -> None:
    response = await client.auth_test()
    assert (response["team_id"], response["user_id"]) == (TEAM_ID, BOT_USER_ID)


async def test_a_wrong_token_is_invalid_auth(fake: FakeSlack) -> None:
    with pytest.raises(SlackApiError) as raised:
        await AsyncWebClient(token="xoxb-wrong", base_url=fake.api_url).auth_test()
    assert raised.value.response["error"] == "invalid_auth"


async def test_wait_for_gives_up_with_what_was_called(
    fake: FakeSlack, client: AsyncWebClient
) -> None:
    await client.auth_test()
    with pytest.raises(AssertionError, match=r"calls: \['auth.test'\]"):
        await fake.wait_for(lambda: fake.responses, timeout=0.05)


async def test_messages_are_posted_updated_and_recorded(
    fake: FakeSlack, client: AsyncWebClient
) -> None:
    posted = await client.chat_postMessage(channel=CHANNEL_ID, text="12 hộ", blocks=BLOCKS)
    assert posted["message"]["blocks"] == BLOCKS
    await client.chat_update(channel=CHANNEL_ID, ts=posted["ts"], text="13 hộ")
    await client.chat_postEphemeral(channel=CHANNEL_ID, user=USER_ID, text="only you")

    updated, ephemeral = fake.messages(CHANNEL_ID)
    assert (updated.ts, updated.text, updated.blocks, updated.edited) == (
        posted["ts"],
        "13 hộ",
        BLOCKS,
        True,
    )
    assert ephemeral.ephemeral_to == USER_ID
    assert await fake.wait_for_message(CHANNEL_ID, contains="*12*") is updated
    assert fake.calls[0].params == {"channel": CHANNEL_ID, "text": "12 hộ", "blocks": BLOCKS}


async def test_a_user_id_posts_to_the_dm(fake: FakeSlack, client: AsyncWebClient) -> None:
    posted = await client.chat_postMessage(channel=USER_ID, text="digest")
    assert posted["channel"].startswith("D")
    assert fake.messages(USER_ID)[0].text == "digest"


async def test_api_errors_reach_the_client(fake: FakeSlack, client: AsyncWebClient) -> None:
    with pytest.raises(SlackApiError) as raised:
        await client.chat_postMessage(channel="C0NOWHERE", text="x")
    assert raised.value.response["error"] == "channel_not_found"

    fake.fail_next("chat.postMessage", error="is_archived")
    with pytest.raises(SlackApiError) as raised:
        await client.chat_postMessage(channel=CHANNEL_ID, text="x")
    assert raised.value.response["error"] == "is_archived"
    assert fake.messages(CHANNEL_ID) == []


async def test_conversations_and_users_info(client: AsyncWebClient) -> None:
    channel = await client.conversations_info(channel=CHANNEL_ID)
    assert channel["channel"]["name"] == "general"
    user = await client.users_info(user=USER_ID, include_locale=True)
    assert (user["user"]["locale"], user["user"]["tz"]) == ("vi-VN", "Asia/Ho_Chi_Minh")
    with pytest.raises(SlackApiError):
        await client.users_info(user="U0NOBODY")


async def test_files_upload_v2_delivers_the_bytes(fake: FakeSlack, client: AsyncWebClient) -> None:
    content = b"\x89PNG\r\n\x1a\n" + bytes(range(256))
    response = await client.files_upload_v2(
        content=content,
        filename="digest.png",
        title="Tiến độ",
        channel=CHANNEL_ID,
        initial_comment="Báo cáo ngày",
    )
    (upload,) = fake.uploads
    assert upload.content == content
    assert (upload.filename, upload.title, upload.channel, upload.initial_comment) == (
        "digest.png",
        "Tiến độ",
        CHANNEL_ID,
        "Báo cáo ngày",
    )
    assert response["file"]["id"] == upload.file_id
    # The bytes go to the upload URL between the two API calls, outside the Web API.
    assert [c.method for c in fake.calls] == [
        "files.getUploadURLExternal",
        "files.completeUploadExternal",
    ]


async def test_a_multipart_upload_is_accepted_too(fake: FakeSlack, client: AsyncWebClient) -> None:
    target = await client.files_getUploadURLExternal(filename="a.csv", length=3)
    form = aiohttp.FormData()
    form.add_field("file", b"a,b", filename="a.csv")
    async with (
        aiohttp.ClientSession() as session,
        session.post(target["upload_url"], data=form) as r,
    ):
        assert r.status == 200
    await client.files_completeUploadExternal(files=[{"id": target["file_id"]}])
    assert [(u.filename, u.content, u.channel) for u in fake.uploads] == [("a.csv", b"a,b", None)]


async def test_views_open_and_update(fake: FakeSlack, client: AsyncWebClient) -> None:
    opened = await client.views_open(trigger_id="1.2.abc", view=MODAL)
    view_id = opened["view"]["id"]
    await client.views_update(view_id=view_id, view={**MODAL, "blocks": BLOCKS})
    (view,) = fake.views
    assert (view["id"], view["callback_id"], view["blocks"]) == (view_id, "report_form", BLOCKS)


async def test_rate_limit_raises_without_a_retry_handler(
    fake: FakeSlack, client: AsyncWebClient
) -> None:
    client.retry_handlers = []
    fake.fail_next("chat.postMessage", retry_after=7)
    with pytest.raises(SlackApiError) as raised:
        await client.chat_postMessage(channel=CHANNEL_ID, text="x")
    assert raised.value.response.status_code == 429
    assert raised.value.response.headers["Retry-After"] == "7"
    assert raised.value.response["error"] == "ratelimited"


async def test_rate_limit_is_retried_after_retry_after(
    fake: FakeSlack, client: AsyncWebClient
) -> None:
    client.retry_handlers.append(AsyncRateLimitErrorRetryHandler())
    fake.fail_next("chat.postMessage", retry_after=1)
    started = time.monotonic()
    await client.chat_postMessage(channel=CHANNEL_ID, text="after the wait")
    assert time.monotonic() - started >= 1
    assert [c.method for c in fake.calls] == ["chat.postMessage"] * 2
    assert [m.text for m in fake.messages(CHANNEL_ID)] == ["after the wait"]


# --- signed requests


class _Frozen(Clock):
    def now(self) -> float:
        return NOW


def test_requests_are_signed_as_slack_signs_them() -> None:
    requests = SignedRequests(SECRET, now=lambda: NOW)
    verifier = SignatureVerifier(SECRET, clock=_Frozen())
    action = requests.block_action("confirm", "12", retry_num=1, retry_reason="http_timeout")
    assert verifier.is_valid_request(action.body, action.headers)
    payload = json.loads(parse_qs(action.body.decode())["payload"][0])
    assert (payload["type"], payload["actions"][0]["value"]) == ("block_actions", "12")
    assert (action.headers["X-Slack-Retry-Num"], action.headers["X-Slack-Retry-Reason"]) == (
        "1",
        "http_timeout",
    )
    forged = requests.event({"type": "app_mention"}, secret="wrong")
    stale = requests.view_submission("report_form", timestamp=NOW - 6 * 60)
    assert not verifier.is_valid_request(forged.body, forged.headers)
    assert not verifier.is_valid_request(stale.body, stale.headers)


# --- a Bolt app driven over HTTP


async def test_bolt_slash_command_acks_and_responds(fake: FakeSlack, app_url: str) -> None:
    requests = SignedRequests(SECRET)
    command = requests.slash_command(text="12 hộ", response_url=fake.response_url("report"))
    assert await requests.send(app_url, command) == (200, "")
    (response,) = await fake.wait_for(lambda: fake.responses)
    assert (response.name, response.body["text"]) == ("report", "Đã ghi: 12 hộ")
    # Bolt authorizes its first request with auth.test, which must have reached the fake.
    assert [c.method for c in fake.calls] == ["auth.test"]


async def test_bolt_rejects_forged_and_stale_requests(fake: FakeSlack, app_url: str) -> None:
    requests = SignedRequests(SECRET)
    forged = requests.slash_command(secret="wrong")
    stale = requests.slash_command(timestamp=requests.now() - 6 * 60)
    assert (await requests.send(app_url, forged))[0] == 401
    assert (await requests.send(app_url, stale))[0] == 401
    assert fake.calls == []


async def test_bolt_answers_url_verification(app_url: str) -> None:
    requests = SignedRequests(SECRET)
    status, body = await requests.send(app_url, requests.url_verification("c-123"))
    assert (status, body) == (200, {"challenge": "c-123"})


async def test_bolt_handles_actions_views_and_events(fake: FakeSlack, app_url: str) -> None:
    requests = SignedRequests(SECRET)
    click = requests.block_action("confirm", "12", response_url=fake.response_url("click"))
    assert (await requests.send(app_url, click))[0] == 200
    (response,) = await fake.wait_for(lambda: fake.responses)
    assert response.body == {"text": "confirmed 12", "replace_original": True}

    bad = {"count": {"input": {"type": "plain_text_input", "value": "mười"}}}
    status, body = await requests.send(app_url, requests.view_submission("report_form", bad))
    assert (status, body) == (
        200,
        {"response_action": "errors", "errors": {"count": "not a number"}},
    )

    mention = {"type": "app_mention", "user": USER_ID, "channel": CHANNEL_ID, "text": "<@UBOT>"}
    assert (await requests.send(app_url, requests.event(mention)))[0] == 200
    await fake.wait_for_message(CHANNEL_ID, contains=f"chào <@{USER_ID}>")
