"""bot.zalo_client end to end against the fake Zalo Bot API over loopback HTTP: every method,
the mapping of every kind of failure to its error, update parsing (wrapped, bare, odd and
unknown), the webhook round trip, split_text, and the token never leaking."""

from __future__ import annotations

import logging
import math
import traceback
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.zalo_client import (
    DEFAULT_RETRY_AFTER,
    MAX_TEXT,
    SECRET_HEADER,
    ZaloBadRequest,
    ZaloChat,
    ZaloClient,
    ZaloConflict,
    ZaloError,
    ZaloEvent,
    ZaloForbidden,
    ZaloNotFound,
    ZaloParseError,
    ZaloRetryAfter,
    ZaloServerError,
    ZaloUnauthorized,
    ZaloUpdate,
    ZaloUser,
    parse_update,
    secret_matches,
    split_text,
    text_length,
)
from tests.fakes.zalo_api import BOT_ID, FakeZalo
from tests.test_fake_zalo import PUBLIC, SECRET, png

Obj = dict[str, Any]


@pytest.fixture
async def fake() -> AsyncIterator[FakeZalo]:
    async with FakeZalo(second=0.02, webhook_attempts=3) as fake:
        yield fake
        assert fake.violations == []


@pytest.fixture
async def client(fake: FakeZalo) -> AsyncIterator[ZaloClient]:
    async with ZaloClient(fake.token, fake.base_url, timeout=2, photo_timeout=2) as client:
        yield client


@pytest.fixture
def lan(fake: FakeZalo) -> Obj:
    return fake.user("Nguyễn Thị Lan")


@pytest.fixture
def dm(fake: FakeZalo, lan: Obj) -> Obj:
    return fake.private_chat(lan)


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@pytest.fixture
async def serve() -> AsyncIterator[Callable[[str, str, Handler], Awaitable[str]]]:
    """Starts a loopback server; `await serve(http_method, path, handler)` returns its origin."""
    runners: list[web.AppRunner] = []

    async def start(method: str, path: str, handler: Handler) -> str:
        app = web.Application()
        app.router.add_route(method, path, handler)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        runners.append(runner)
        return f"http://127.0.0.1:{runner.addresses[0][1]}"

    yield start
    for runner in runners:
        await runner.cleanup()


# -- methods -------------------------------------------------------------------------------


async def test_get_me(client: ZaloClient) -> None:
    me = await client.get_me()
    assert (me.id, me.account_name, me.account_type) == (BOT_ID, "bot.TiendoTest", "BASIC")
    assert me.can_join_groups is True and me.display_name == "Tiến Độ"
    assert client.bot_id == BOT_ID


async def test_send_message(fake: FakeZalo, client: ZaloClient, dm: Obj) -> None:
    sent = await client.send_message(dm["id"], "Đã ghi: 12 hộ, 2.500.000 ₫ 👍")
    (stored,) = fake.sent(dm["id"])
    assert sent.message_id == stored.message_id and stored.text == "Đã ghi: 12 hộ, 2.500.000 ₫ 👍"
    assert sent.date is not None and sent.date.tzinfo is UTC
    assert abs((datetime.now(UTC) - sent.date).total_seconds()) < 60
    assert fake.calls_of("sendMessage")[0].params == {"chat_id": dm["id"], "text": stored.text}


@pytest.mark.parametrize("text", ["", "x" * 2001, "😀" * 1001])
async def test_texts_zalo_refuses_are_refused_before_any_call(
    fake: FakeZalo, client: ZaloClient, dm: Obj, text: str
) -> None:
    with pytest.raises(ValueError, match=r"empty|over 2000"):
        await client.send_message(dm["id"], text)
    assert fake.calls == []


async def test_send_photo(
    fake: FakeZalo, client: ZaloClient, dm: Obj, serve: Callable[..., Awaitable[str]]
) -> None:
    image = png(5, 5)

    async def chart(request: web.Request) -> web.Response:
        return web.Response(body=image, content_type="image/png")

    fake.route(PUBLIC, await serve("GET", "/charts/{name}", chart))
    url = f"{PUBLIC}/charts/trend-4f9c.png"
    sent = await client.send_photo(dm["id"], url, "Tiến độ hôm nay")
    await client.send_photo(dm["id"], url)
    await client.send_photo(dm["id"], url, "")  # an empty caption is no caption
    first, second, third = fake.sent(dm["id"])
    assert (first.message_id, first.photo, first.caption) == (
        sent.message_id,
        image,
        "Tiến độ hôm nay",
    )
    assert second.caption is None and third.caption is None
    assert [set(c.params) for c in fake.calls_of("sendPhoto")] == [
        {"chat_id", "photo", "caption"},
        {"chat_id", "photo"},
        {"chat_id", "photo"},
    ]
    with pytest.raises(ValueError, match="https"):
        await client.send_photo(dm["id"], "http://bot.example.org/x.png")
    with pytest.raises(ValueError, match="caption"):
        await client.send_photo(dm["id"], url, "x" * 2001)
    with pytest.raises(ZaloBadRequest, match="photo could not be fetched"):
        await client.send_photo(dm["id"], "https://127.0.0.1:9/gone.png")


async def test_send_chat_action(fake: FakeZalo, client: ZaloClient, dm: Obj) -> None:
    assert await client.send_chat_action(dm["id"]) is None
    await client.send_chat_action(dm["id"], "upload_photo")
    assert fake.actions(dm["id"]) == ["typing", "upload_photo"]
    with pytest.raises(ValueError):
        await client.send_chat_action(dm["id"], "record_voice")


async def test_get_updates_one_at_a_time(
    fake: FakeZalo, client: ZaloClient, lan: Obj, dm: Obj
) -> None:
    group = fake.group()
    fake.push_text(dm, lan, "/report 12 hộ 2tr5")
    fake.push_image(group, lan, "https://photo.zalo.me/bb.jpg", caption="Biên bản")
    fake.push_sticker(dm, lan)
    fake.push_unsupported(group, lan)
    text, image, sticker, unsupported = [await client.get_updates(timeout=5) for _ in range(4)]
    assert fake.pending == []
    assert isinstance(text, ZaloUpdate) and text.event is ZaloEvent.TEXT
    assert text.message is not None and text.message.text == "/report 12 hộ 2tr5"
    assert text.message.sender == ZaloUser(lan["id"], "Nguyễn Thị Lan", False)
    assert text.message.chat == ZaloChat(lan["id"], "PRIVATE") and not text.message.chat.is_group
    assert text.key == text.message.message_id == text.raw["message"]["message_id"]
    assert text.message.date is not None and text.message.date.year >= 2025
    assert image is not None and image.event is ZaloEvent.IMAGE and image.message is not None
    assert (image.message.photo_url, image.message.caption) == (
        "https://photo.zalo.me/bb.jpg",
        "Biên bản",
    )
    assert image.message.chat.is_group and image.message.chat.id == group["id"]
    assert sticker is not None and sticker.event is ZaloEvent.STICKER
    assert sticker.message is not None and sticker.message.sticker == "d063f44dc80821567819"
    assert unsupported is not None and unsupported.event is ZaloEvent.UNSUPPORTED
    assert unsupported.message is not None and unsupported.message.text is None
    assert [c.params for c in fake.calls_of("getUpdates")] == [{"timeout": "5"}] * 4


async def test_get_updates_time_out_is_none(fake: FakeZalo, client: ZaloClient) -> None:
    assert await client.get_updates(timeout=2) is None
    assert fake.calls_of("getUpdates")[0].status == 408
    with pytest.raises(ValueError):
        await client.get_updates(timeout=-1)


async def test_webhook_methods(fake: FakeZalo, client: ZaloClient) -> None:
    assert (await client.get_webhook_info()).url == ""
    info = await client.set_webhook(f"{PUBLIC}/zalo", SECRET)
    assert info.url == f"{PUBLIC}/zalo" and info.updated_at is not None
    assert fake.webhook is not None and fake.webhook["secret_token"] == SECRET
    assert (await client.get_webhook_info()).url == f"{PUBLIC}/zalo"
    with pytest.raises(ZaloConflict) as raised:
        await client.get_updates(timeout=1)
    assert raised.value.error_code == 409 and not raised.value.retryable
    assert (await client.delete_webhook()).url == ""
    assert fake.webhook is None
    with pytest.raises(ValueError, match="8-256"):
        await client.set_webhook(f"{PUBLIC}/zalo", "short")
    with pytest.raises(ZaloBadRequest, match="HTTPS"):
        await client.set_webhook("http://bot.example.org/zalo", SECRET)


@pytest.mark.parametrize("wrapped", [False, True])
async def test_webhook_round_trip(
    fake: FakeZalo,
    client: ZaloClient,
    lan: Obj,
    dm: Obj,
    serve: Callable[..., Awaitable[str]],
    wrapped: bool,
) -> None:
    """What the adapter's webhook will do: check the secret, parse either body form."""
    got: list[ZaloUpdate] = []

    async def webhook(request: web.Request) -> web.Response:
        if not secret_matches(request.headers.get(SECRET_HEADER), SECRET):
            return web.Response(status=403)
        try:
            got.append(parse_update(await request.json()))
        except ZaloParseError:
            return web.Response(status=400)
        return web.Response(text="ok")

    fake.wrap_webhook = wrapped
    fake.route(PUBLIC, await serve("POST", "/zalo", webhook))
    await client.set_webhook(f"{PUBLIC}/zalo", SECRET)
    text = fake.push_text(dm, lan, "12 hộ")
    image = fake.push_image(dm, lan, "https://photo.zalo.me/a.jpg", caption="Ảnh")
    await fake.wait_for(lambda: len(got) == 2)
    assert [u.event for u in got] == [ZaloEvent.TEXT, ZaloEvent.IMAGE]
    assert [u.raw for u in got] == [text, image]  # always the bare update
    assert [u.key for u in got] == [text["message"]["message_id"], image["message"]["message_id"]]


# -- errors --------------------------------------------------------------------------------


@pytest.mark.parametrize("http_200", [False, True], ids=["mirrored-status", "http-200"])
@pytest.mark.parametrize(
    ("status", "error"),
    [
        (400, ZaloBadRequest),
        (401, ZaloUnauthorized),
        (403, ZaloForbidden),
        (404, ZaloNotFound),
        (408, ZaloServerError),  # outside getUpdates
        (409, ZaloConflict),
        (429, ZaloRetryAfter),
        (500, ZaloServerError),
        (502, ZaloServerError),
        (503, ZaloServerError),
        (418, ZaloBadRequest),
    ],
)
async def test_error_codes_map_to_errors_whatever_the_http_status(
    fake: FakeZalo,
    client: ZaloClient,
    dm: Obj,
    status: int,
    error: type[ZaloError],
    http_200: bool,
) -> None:
    fake.errors_with_http_200 = http_200
    fake.fail_next("sendMessage", status=status, description=f"scripted {status}")
    with pytest.raises(error) as raised:
        await client.send_message(dm["id"], "hi")
    assert type(raised.value) is error
    assert (raised.value.error_code, raised.value.description) == (status, f"scripted {status}")
    assert raised.value.method == "sendMessage"
    assert str(raised.value) == f"sendMessage: scripted {status} (error {status})"
    assert raised.value.retryable == (error in (ZaloRetryAfter, ZaloServerError))


async def test_real_refusals(fake: FakeZalo, client: ZaloClient, dm: Obj) -> None:
    fake.refuse(dm["id"])
    with pytest.raises(ZaloForbidden):
        await client.send_message(dm["id"], "hi")
    with pytest.raises(ZaloBadRequest, match="chat not found"):
        await client.send_message("0" * 20, "hi")
    with pytest.raises(ZaloNotFound):
        await client.call("sendDocument", {"chat_id": dm["id"]})
    assert fake.violations == ["sendDocument: Not Found"]
    fake.violations.clear()
    async with ZaloClient(f"{BOT_ID}:revoked", fake.base_url) as wrong:
        with pytest.raises(ZaloUnauthorized) as raised:
            await wrong.get_me()
    assert raised.value.error_code == 401


async def test_retry_after(fake: FakeZalo, client: ZaloClient, dm: Obj) -> None:
    fake.fail_next("sendMessage")
    fake.fail_next("sendMessage", retry_after=12)
    with pytest.raises(ZaloRetryAfter) as unsaid:
        await client.send_message(dm["id"], "hi")
    with pytest.raises(ZaloRetryAfter) as said:
        await client.send_message(dm["id"], "hi")
    assert (unsaid.value.retry_after, unsaid.value.retry_after_given) == (
        DEFAULT_RETRY_AFTER,
        False,
    )
    assert (said.value.retry_after, said.value.retry_after_given) == (12, True)
    await client.send_message(dm["id"], "hi")
    assert [m.text for m in fake.sent(dm["id"])] == ["hi"]


@pytest.mark.parametrize(
    ("status", "body", "headers", "expected"),
    [
        (429, '{"ok": false, "error_code": 429, "description": "quota"}', {"Retry-After": "3"}, 3),
        (429, '{"ok": false, "error_code": 429, "description": "Retry after 9 s"}', {}, 9),
        (429, "<html>slow down</html>", {"Retry-After": "4"}, 4),
        (200, '{"ok": false, "error_code": 429}', {}, DEFAULT_RETRY_AFTER),
    ],
)
async def test_retry_after_from_header_or_description(
    serve: Callable[..., Awaitable[str]],
    status: int,
    body: str,
    headers: dict[str, str],
    expected: float,
) -> None:
    async def answer(request: web.Request) -> web.Response:
        return web.Response(status=status, text=body, headers=headers)

    origin = await serve("POST", "/bot{token}/{method}", answer)
    async with ZaloClient(f"{BOT_ID}:s3cret", origin) as client:
        with pytest.raises(ZaloRetryAfter) as raised:
            await client.get_me()
    assert raised.value.retry_after == expected


@pytest.mark.parametrize(
    ("status", "body", "error", "code", "description"),
    [
        (502, "<html>Bad Gateway</html>", ZaloServerError, 502, "HTTP 502 Bad Gateway, not a"),
        (200, "", ZaloServerError, 200, "unreadable answer (HTTP 200)"),
        (200, "[1]", ZaloServerError, 200, "unreadable answer (HTTP 200)"),
        (403, "", ZaloForbidden, 403, "HTTP 403 Forbidden, not a Zalo answer"),
        (400, '{"ok": false}', ZaloBadRequest, 400, "Bad Request"),  # code from the status
        (200, '{"ok": false, "error_code": "x"}', ZaloServerError, 0, "Error"),
    ],
)
async def test_answers_that_are_not_quite_zalo(
    serve: Callable[..., Awaitable[str]],
    status: int,
    body: str,
    error: type[ZaloError],
    code: int,
    description: str,
) -> None:
    async def answer(request: web.Request) -> web.Response:
        return web.Response(status=status, text=body)

    origin = await serve("POST", "/bot{token}/{method}", answer)
    async with ZaloClient(f"{BOT_ID}:s3cret", origin) as client:
        with pytest.raises(error) as raised:
            await client.get_me()
    assert raised.value.error_code == code
    assert raised.value.description.startswith(description)


async def test_ok_decides_even_under_an_error_status(serve: Callable[..., Awaitable[str]]) -> None:
    async def answer(request: web.Request) -> web.Response:
        return web.json_response({"ok": True, "result": {"url": "", "updated_at": 1}}, status=500)

    origin = await serve("POST", "/bot{token}/{method}", answer)
    async with ZaloClient(f"{BOT_ID}:s3cret", origin) as client:
        assert (await client.delete_webhook()).url == ""


async def test_time_outs_and_network_failures_are_server_errors(fake: FakeZalo, dm: Obj) -> None:
    fake.fail_next("sendMessage", hang=math.inf)
    async with ZaloClient(fake.token, fake.base_url, timeout=0.2) as client:
        with pytest.raises(ZaloServerError) as hung:
            await client.send_message(dm["id"], "hi")
    assert (hung.value.error_code, hung.value.description) == (0, "no answer within 0.2 s")
    fake.fail_next("sendMessage", html=True, status=504)
    async with ZaloClient(fake.token, fake.base_url) as client:
        with pytest.raises(ZaloServerError, match="504"):
            await client.send_message(dm["id"], "hi")
    async with ZaloClient(fake.token, "http://127.0.0.1:9") as client:  # nothing listens
        with pytest.raises(ZaloServerError) as refused:
            await client.get_me()
    assert refused.value.error_code == 0
    assert refused.value.description.startswith("network error: ClientConnectorError")


async def test_long_poll_gets_its_own_http_time_out() -> None:
    """A poll of N seconds must not be cut by the ordinary time-out of a call."""
    slow = FakeZalo(second=0.3)
    async with slow, ZaloClient(slow.token, slow.base_url, timeout=0.2) as client:
        assert await client.get_updates(timeout=1) is None  # 0.3 s, over the 0.2 s time-out


async def test_a_shared_session_is_used_and_left_open(fake: FakeZalo) -> None:
    async with aiohttp.ClientSession() as session:
        async with ZaloClient(fake.token, fake.base_url, session=session) as client:
            await client.get_me()
        assert not session.closed


# -- the token never leaks ------------------------------------------------------------------


def _everything_about(error: BaseException) -> str:
    return "".join(traceback.format_exception(error)) + repr(error) + str(error)


async def test_token_is_never_in_errors_or_logs(
    fake: FakeZalo, dm: Obj, caplog: pytest.LogCaptureFixture
) -> None:
    secret = fake.token.split(":")[1]
    caplog.set_level(logging.DEBUG)
    errors: list[BaseException] = []
    fake.fail_next("sendMessage", hang=math.inf)
    fake.fail_next("getMe", status=500, description=f"echo {fake.token} and {secret}")
    async with ZaloClient(fake.token, fake.base_url, timeout=0.2) as client:
        assert fake.token not in repr(client) and secret not in repr(client)
        for call in (
            lambda: client.send_message(dm["id"], "hi"),  # times out
            client.get_me,  # a description quoting the token
            lambda: client.send_message("nobody", "hi"),
        ):
            try:
                await call()
            except ZaloError as error:
                errors.append(error)
        await client.send_message(dm["id"], "hi")
    async with ZaloClient(fake.token, "127.0.0.1:9") as broken:  # aiohttp quotes the URL
        try:
            await broken.get_me()
        except ZaloError as error:
            errors.append(error)
    assert len(errors) == 4
    assert "<token>" in str(errors[1]) and "<token>" in str(errors[3])
    for error in errors:
        assert secret not in _everything_about(error)
        # Nothing chained: a chained aiohttp error would print the URL, token and all.
        assert error.__cause__ is None
        assert error.__context__ is None or error.__suppress_context__
    assert caplog.records and all(secret not in r.getMessage() for r in caplog.records)
    assert any("zalo sendMessage: HTTP 200" in r.getMessage() for r in caplog.records)


def test_tokens_that_would_break_the_url_are_refused() -> None:
    for token in ("", "123:a/b", "123:a b", "123:a?b"):
        with pytest.raises(ValueError) as raised:
            ZaloClient(token)
        assert "123:a" not in str(raised.value)


# -- parse_update --------------------------------------------------------------------------

TEXT_UPDATE: Obj = {
    "event_name": "message.text.received",
    "message": {
        "message_id": "2d1f0c3a4b5e6f708192",
        "from": {"id": "7a1c2e", "display_name": "Trần Văn Hùng", "is_bot": False},
        "chat": {"id": "7a1c2e", "chat_type": "PRIVATE"},
        "date": 1766619597466,
        "text": "/report 5 hộ",
    },
}


def test_wrapped_and_bare_bodies_parse_alike() -> None:
    bare, wrapped = parse_update(TEXT_UPDATE), parse_update({"ok": True, "result": TEXT_UPDATE})
    assert bare == wrapped and bare.raw == wrapped.raw == TEXT_UPDATE
    assert bare.event is ZaloEvent.TEXT and bare.key == "2d1f0c3a4b5e6f708192"
    assert bare.message is not None
    assert bare.message.date == datetime(2025, 12, 24, 23, 39, 57, 466000, tzinfo=UTC)
    assert bare.message.sender == ZaloUser("7a1c2e", "Trần Văn Hùng")


def test_documentation_sample_without_event_name() -> None:
    """The shape one public copy of the docs shows for getUpdates: no event name, a user
    with first_name."""
    update = parse_update(
        {
            "message": {
                "chat": {"id": "e4ea2cd5189df1c3a88c", "chat_type": "PRIVATE"},
                "text": "Xin chào",
                "message_id": "16f6366b3f02645a3d15",
                "date": 1766619597466,
                "from": {"id": "e4ea2cd5189df1c3a88c", "first_name": "Nguyen Van A"},
            }
        }
    )
    assert (update.event, update.event_name) == (ZaloEvent.TEXT, "")
    assert update.message is not None and update.message.sender is not None
    assert update.message.sender.display_name == "Nguyen Van A"


@pytest.mark.parametrize(
    ("body", "event", "has_message"),
    [
        (
            {"event_name": "message.reaction.received", "message": TEXT_UPDATE["message"]},
            ZaloEvent.UNSUPPORTED,
            True,
        ),
        ({"event_name": "user.follow", "follower": {"id": "1"}}, ZaloEvent.UNSUPPORTED, False),
        (
            {"event_name": "message.text.received", "message": {"text": "no id"}},
            ZaloEvent.UNSUPPORTED,
            False,
        ),
        ({"event_name": "message.text.received", "message": "junk"}, ZaloEvent.UNSUPPORTED, False),
        (
            {"event_name": 7, "message": {"message_id": 1, "chat": {"id": 2}, "photo_url": "u"}},
            ZaloEvent.IMAGE,
            True,
        ),
        (
            {"message": {"message_id": "m", "chat": {"id": "c"}, "sticker": "s"}},
            ZaloEvent.STICKER,
            True,
        ),
        ({"message": {"message_id": "m", "chat": {"id": "c"}}}, ZaloEvent.UNSUPPORTED, True),
    ],
)
def test_odd_updates_are_typed_not_crashes(body: Obj, event: ZaloEvent, has_message: bool) -> None:
    update = parse_update(body)
    assert update.event is event and (update.message is not None) == has_message
    assert update.raw == body


def test_fields_are_read_leniently() -> None:
    update = parse_update(
        {
            "event_name": "message.image.received",
            "message": {
                "message_id": 123,
                "from": {"id": 456, "name": "Lan", "is_bot": "yes"},
                "chat": {"id": 789, "chat_type": "group"},
                "date": 1766619597,  # seconds
                "photo": "https://photo.zalo.me/p.jpg",
                "caption": None,
            },
        }
    )
    message = update.message
    assert message is not None
    assert (message.message_id, message.chat, message.sender) == (
        "123",
        ZaloChat("789", "GROUP"),
        ZaloUser("456", "Lan", False),
    )
    assert message.date == datetime(2025, 12, 24, 23, 39, 57, tzinfo=UTC)
    assert (message.photo_url, message.caption) == ("https://photo.zalo.me/p.jpg", None)
    undated = parse_update({"message": {"message_id": "m", "chat": {"id": "c"}, "date": "x"}})
    assert undated.message is not None and undated.message.date is None


@pytest.mark.parametrize(
    "body", [None, [TEXT_UPDATE], "text", {}, {"ok": True, "result": None}, {"foo": 1}]
)
def test_bodies_without_an_update_are_parse_errors(body: Any) -> None:
    with pytest.raises(ZaloParseError):
        parse_update(body)


def test_secret_matches() -> None:
    assert secret_matches(SECRET, SECRET)
    assert not secret_matches(None, SECRET)
    assert not secret_matches(SECRET + "x", SECRET)
    assert not secret_matches("", SECRET)


# -- split_text ----------------------------------------------------------------------------

NFD_E = "e\u0323\u0302"  # "ệ" decomposed: 3 code points, 3 UTF-16 units
FAMILY = "👨\u200d👩\u200d👧"  # one emoji on screen, 8 UTF-16 units
FLAG = "🇻🇳"  # two regional indicators, 4 UTF-16 units


@pytest.mark.parametrize(
    ("text", "limit", "pieces"),
    [
        ("", 10, []),
        ("  \n \n", 10, []),
        ("12 hộ 2tr5", 10, ["12 hộ 2tr5"]),  # fits exactly: untouched
        ("12 hộ\n", 10, ["12 hộ\n"]),
        ("một hai ba bốn năm", 10, ["một hai ba", "bốn năm"]),
        ("abcde fghij", 5, ["abcde", "fghij"]),  # the space just past the window
        ("Tổ 1: 12\nTổ 2: 7\nTổ 3: 9", 17, ["Tổ 1: 12\nTổ 2: 7", "Tổ 3: 9"]),
        ("ab\ncd ef gh", 8, ["ab", "cd ef gh"]),  # a line break before a later space
        ("đoạn một\n\n\nđoạn hai dài", 12, ["đoạn một", "đoạn hai dài"]),
        ("ab\r\ncd", 3, ["ab", "cd"]),
        ("  • Tổ 1\n  • Tổ 2", 10, ["  • Tổ 1", "  • Tổ 2"]),  # indentation kept
        (" " + "x" * 10, 10, ["x" * 10]),
        ("x" * 25, 10, ["x" * 10, "x" * 10, "x" * 5]),
        ("a " + "b" * 12 + " c", 10, ["a", "b" * 10, "bb c"]),
        ("Nghiêngnghiêngnghiêng", 8, ["Nghiêngn", "ghiêngng", "hiêng"]),
        ("😀" * 6, 5, ["😀😀", "😀😀", "😀😀"]),  # never half an emoji
        ("a😀b", 2, ["a", "😀", "b"]),
        (NFD_E * 4, 5, [NFD_E] * 4),  # never a letter without its marks
        (FAMILY * 2, 10, [FAMILY] * 2),  # nor a family apart
        (FLAG * 3, 6, [FLAG] * 3),  # nor a flag in halves
        (FAMILY, 4, ["👨\u200d", "👩\u200d", "👧"]),  # longer than the limit: cut anyway
    ],
)
def test_split_text(text: str, limit: int, pieces: list[str]) -> None:
    assert split_text(text, limit) == pieces
    assert all(text_length(p) <= limit for p in pieces)


def test_split_text_default_is_zalo_limit() -> None:
    line = "Tổ 3 thôn Đông: 12 hộ đã vận động, 2.500.000 ₫ đóng góp 👍"
    digest = "\n".join(f"{i}. {line}" for i in range(60))
    pieces = split_text(digest)
    assert len(pieces) > 1 and all(0 < text_length(p) <= MAX_TEXT for p in pieces)
    assert "\n".join(pieces) == digest  # cut only at line breaks, every line whole
    with pytest.raises(ValueError):
        split_text("abc", 1)


def test_text_length_counts_utf16_units() -> None:
    assert text_length("Tiến độ") == 7
    assert text_length("😀") == 2 and text_length(FAMILY) == 8 and text_length(NFD_E) == 3
    assert text_length("x" * MAX_TEXT) == 2000


VIETNAMESE = st.sampled_from(list("aăâbcdđeêghiklmnoôơpqrstuưvxyàảãáạằẳẵắặầẩẫấậèẻẽéẹềểễếệ"))
TEXTS = st.lists(
    st.one_of(
        VIETNAMESE,
        st.sampled_from(["😀", "👍🏽", FLAG, NFD_E, "1", ".", "₫"]),
        st.sampled_from([" ", " ", "\n", "\n\n", "  "]),
    ),
    max_size=120,
).map("".join)


@settings(max_examples=300, deadline=None)
@given(text=TEXTS, limit=st.integers(min_value=4, max_value=40))
def test_split_text_properties(text: str, limit: int) -> None:
    pieces = split_text(text, limit)
    assert all(p.strip() and text_length(p) <= limit for p in pieces)
    assert "".join("".join(pieces).split()) == "".join(text.split())  # nothing lost or added
    if all(text_length(word) <= limit for word in text.split()):
        assert [w for p in pieces for w in p.split()] == text.split()  # no word cut
