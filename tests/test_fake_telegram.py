"""The fake Telegram Bot API checked against the real python-telegram-bot over HTTP (and raw
aiohttp where the wire format itself matters), so that adapter tests built on it exercise the
same requests and responses as production, and so that the mistakes it claims to catch are
caught."""

from __future__ import annotations

import asyncio
import json
import struct
import zlib
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from telegram import (
    Bot,
    BotCommand,
    BotCommandScopeAllPrivateChats,
    ChatMemberAdministrator,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputMediaPhoto,
    MessageEntity,
    ReplyKeyboardMarkup,
    Update,
)
from telegram.constants import ParseMode
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Conflict,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
)
from telegram.request import HTTPXRequest

from tests.fakes.telegram_api import SPEC, FakeTelegram, Upload

Obj = dict[str, Any]
KEYBOARD = InlineKeyboardMarkup.from_row(
    [
        InlineKeyboardButton("Gửi", callback_data="send"),
        InlineKeyboardButton("Huỷ", callback_data="x"),
    ]
)


def png(width: int, height: int) -> bytes:
    """A real PNG, so the fake's width/height reading is tested on what charts produce."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data)
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    rows = b"".join(b"\x00" + b"\xff\x80\x00" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows))


def make_bot(fake: FakeTelegram) -> Bot:
    # Short timeouts: a fake that hangs fails the test in seconds, not PTB's default minutes.
    def request() -> HTTPXRequest:
        return HTTPXRequest(connect_timeout=2, read_timeout=2, write_timeout=2, pool_timeout=2)

    return Bot(
        token=fake.token,
        base_url=fake.base_url,
        base_file_url=fake.base_file_url,
        request=request(),
        get_updates_request=request(),
    )


def take_violations(fake: FakeTelegram) -> list[str]:
    """The violations so far, cleared: the fixture fails any test that leaves some behind."""
    found, fake.violations[:] = list(fake.violations), []
    return found


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram() as fake:
        yield fake
        # Normal use, and every update and result the fake built, must pass the spec check.
        assert fake.violations == []


@pytest.fixture
async def bot(fake: FakeTelegram) -> AsyncIterator[Bot]:
    async with make_bot(fake) as bot:  # initialize() calls getMe
        yield bot


@pytest.fixture
def user(fake: FakeTelegram) -> Obj:
    return fake.user(1001, "Lan", "vi", username="lan_hn")


@pytest.fixture
def chat(fake: FakeTelegram, user: Obj) -> Obj:
    return fake.private_chat(user)


async def raw(
    fake: FakeTelegram,
    method: str,
    *,
    data: Any = None,
    json_body: Obj | None = None,
    query: dict[str, str] | None = None,
    http: str = "POST",
) -> tuple[int, Obj]:
    """One Bot API call over plain HTTP: the status and the decoded JSON answer."""
    url = f"{fake.base_url}{fake.token}/{method}"
    async with (
        aiohttp.ClientSession() as session,
        session.request(http, url, data=data, json=json_body, params=query) as response,
    ):
        return response.status, await response.json()


# -- wire format --------------------------------------------------------------------------


async def test_form_multipart_json_and_query_bodies_are_parsed_alike(
    fake: FakeTelegram, chat: Obj
) -> None:
    markup = {"inline_keyboard": [[{"text": "Gửi", "callback_data": "send"}]]}
    fields = {
        "chat_id": str(chat["id"]),
        "text": "Báo cáo: 12 hộ",
        "reply_markup": json.dumps(markup),
        "disable_notification": "true",
    }
    multipart = aiohttp.FormData()
    for key, value in fields.items():  # a typed part arrives as bytes, a plain one as text
        typed = key == "reply_markup"
        multipart.add_field(key, value, content_type="application/json" if typed else None)
    json_body = {"chat_id": chat["id"], "text": fields["text"], "reply_markup": markup}
    json_body["disable_notification"] = True
    answers = [
        await raw(fake, "sendMessage", data=fields),
        await raw(fake, "sendMessage", data=multipart),
        await raw(fake, "sendMessage", json_body=json_body),
        await raw(fake, "sendMessage", query=fields, http="GET"),
    ]

    assert [status for status, _ in answers] == [200] * 4
    assert all(body["ok"] and body["result"]["text"] == fields["text"] for _, body in answers)
    calls = fake.calls_of("sendMessage")
    assert [c.content_type for c in calls] == [
        "application/x-www-form-urlencoded",
        "multipart/form-data",
        "application/json",
        "",
    ]
    expected = {
        "chat_id": chat["id"],  # decoded by the spec: Integer first, then String
        "text": fields["text"],
        "reply_markup": markup,
        "disable_notification": True,
    }
    assert [c.params for c in calls] == [expected] * 4
    assert [m["reply_markup"] for m in fake.messages(chat["id"])] == [markup] * 4
    ids = [body["result"]["message_id"] for _, body in answers]
    assert ids == [1, 2, 3, 4]


async def test_bodies_the_real_server_refuses_are_violations(fake: FakeTelegram) -> None:
    status, body = await raw(fake, "getMe", data=b"{}")  # application/octet-stream
    assert status == 400
    assert body["description"].startswith("fake: unsupported content type")
    async with (
        aiohttp.ClientSession() as session,
        session.post(
            f"{fake.base_url}{fake.token}/getMe",
            data=b"[1, 2]",
            headers={"Content-Type": "application/json"},
        ) as response,
    ):
        assert response.status == 400
        assert (await response.json())["description"] == "fake: the JSON body is not an object"
    assert len(take_violations(fake)) == 2


async def test_method_names_are_case_insensitive_and_tokens_checked(fake: FakeTelegram) -> None:
    status, body = await raw(fake, "GETME", http="GET")
    assert (status, body["result"]["username"]) == (200, fake.username)
    assert fake.calls[-1].method == "getMe"  # recorded under the spec's name

    wrong = Bot(token="123:wrong", base_url=fake.base_url, base_file_url=fake.base_file_url)
    with pytest.raises(InvalidToken):
        await wrong.get_me()
    await wrong.shutdown()


async def test_get_me(fake: FakeTelegram, bot: Bot) -> None:
    me = await bot.get_me()
    assert (me.id, me.username, me.is_bot) == (bot.id, fake.username, True)
    assert bot.username == fake.username  # from the getMe of `async with bot`
    assert str(me.id) == fake.token.split(":")[0]
    assert me.can_join_groups is True
    assert [c.method for c in fake.calls] == ["getMe", "getMe"]


# -- sendMessage, formatting, keyboards -----------------------------------------------------


async def test_html_message_is_shown_unformatted_with_its_entities(
    fake: FakeTelegram, bot: Bot, chat: Obj
) -> None:
    text = "  <b>Tổng</b> 12 hộ &amp; <i>3 &lt;tổ&gt;</i> 😀 <a href='https://t.me/x'>xem</a>\n"
    sent = await bot.send_message(chat["id"], text, parse_mode=ParseMode.HTML)

    shown = "Tổng 12 hộ & 3 <tổ> 😀 xem"  # trimmed, tags removed, entities unescaped
    assert sent.text == fake.messages(chat["id"])[-1]["text"] == shown
    assert [(e.type, e.offset, e.length) for e in sent.entities] == [
        (MessageEntity.BOLD, 0, 4),
        (MessageEntity.ITALIC, 13, 6),
        (MessageEntity.TEXT_LINK, 23, 3),  # the emoji counts 2 UTF-16 units
    ]
    assert sent.entities[2].url == "https://t.me/x"
    assert (
        sent.text_html
        == '<b>Tổng</b> 12 hộ &amp; <i>3 &lt;tổ&gt;</i> 😀 <a href="https://t.me/x">xem</a>'
    )
    assert fake.messages(chat["id"])[-1]["params"]["parse_mode"] == "HTML"


async def test_nested_html_and_code_blocks(fake: FakeTelegram, bot: Bot, chat: Obj) -> None:
    text = (
        '<b>a <i>b</i></b> <pre><code class="language-python">x = 1</code></pre> '
        '<span class="tg-spoiler">s</span> <blockquote expandable>q</blockquote>'
    )
    sent = await bot.send_message(chat["id"], text, parse_mode=ParseMode.HTML)
    assert sent.text == "a b x = 1 s q"
    assert [(e.type, e.offset, e.length, e.language) for e in sent.entities] == [
        (MessageEntity.BOLD, 0, 3, None),
        (MessageEntity.ITALIC, 2, 1, None),
        (MessageEntity.PRE, 4, 5, "python"),
        (MessageEntity.SPOILER, 10, 1, None),
        (MessageEntity.EXPANDABLE_BLOCKQUOTE, 12, 1, None),
    ]


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("<b>12 hộ", 'Can\'t find end tag corresponding to start tag "b"'),
        ("12 <br> hộ", 'Unsupported start tag "br" at byte offset 3'),
        ("<b>12 <i>hộ</b></i>", 'Unmatched end tag at byte offset 13, expected "</i>"'),
        ("12</b>", "Unexpected end tag at byte offset 2"),
        ("<b class", "Unclosed start tag at byte offset 0"),
        ("12 < 15 hộ", 'Unsupported start tag "" at byte offset 3'),
        ("hộ <b", "Unclosed start tag at byte offset 5"),  # offsets count UTF-8 bytes
        ("<span>x</span>", 'Tag "span" must have class "tg-spoiler"'),
        ("<b></b>", "message text is empty"),
    ],
)
async def test_bad_html_is_rejected(
    fake: FakeTelegram, bot: Bot, chat: Obj, text: str, error: str
) -> None:
    with pytest.raises(BadRequest) as raised:
        await bot.send_message(chat["id"], text, parse_mode=ParseMode.HTML)
    assert raised.value.message.startswith("fake: Bad Request: ")
    assert error in raised.value.message
    (violation,) = take_violations(fake)
    assert violation.startswith("sendMessage: Bad Request: ") and error in violation
    assert fake.messages(chat["id"]) == []


async def test_plain_text_is_not_parsed_and_unknown_parse_mode_rejected(
    fake: FakeTelegram, bot: Bot, chat: Obj
) -> None:
    sent = await bot.send_message(chat["id"], "<b>12</b> & <hộ>")
    assert sent.text == "<b>12</b> & <hộ>" and sent.entities == ()
    bold = MessageEntity(MessageEntity.BOLD, 2, 2)  # explicit entities move with the trim
    sent = await bot.send_message(chat["id"], "  12 hộ", entities=[bold])
    assert sent.text == "12 hộ" and sent.entities == (MessageEntity(MessageEntity.BOLD, 0, 2),)
    with pytest.raises(BadRequest, match="unsupported parse_mode"):
        await bot.send_message(chat["id"], "12", parse_mode="Textile")
    assert len(take_violations(fake)) == 1


async def test_text_length_is_measured_after_parsing_in_utf16_units(
    fake: FakeTelegram, bot: Bot, chat: Obj
) -> None:
    await bot.send_message(chat["id"], "x" * 4096)
    await bot.send_message(chat["id"], "<b>" + "x" * 4096 + "</b>", parse_mode=ParseMode.HTML)
    await bot.send_message(chat["id"], "😀" * 2048)
    for too_long in ("x" * 4097, "😀" * 2049):
        with pytest.raises(BadRequest, match=r"message is too long \(409[78] > 4096\)"):
            await bot.send_message(chat["id"], too_long)
    assert len(fake.messages(chat["id"])) == 3
    assert take_violations(fake) == [
        "sendMessage: Bad Request: message is too long (4097 > 4096)",
        "sendMessage: Bad Request: message is too long (4098 > 4096)",
    ]


async def test_inline_keyboard_is_stored_and_returned(
    fake: FakeTelegram, bot: Bot, chat: Obj
) -> None:
    sent = await bot.send_message(chat["id"], "Gửi báo cáo?", reply_markup=KEYBOARD)
    (message,) = fake.messages(chat["id"])
    assert message["reply_markup"] == KEYBOARD.to_dict()
    assert message["message"]["reply_markup"] == KEYBOARD.to_dict()
    assert sent.reply_markup == KEYBOARD
    assert message["message_id"] == sent.message_id and message["chat"] == chat


@pytest.mark.parametrize(
    ("button", "error"),
    [
        ({"text": "a"}, "needs exactly one action field, has []"),
        ({"text": "a", "callback_data": "x", "url": "https://t.me"}, "needs exactly one"),
        ({"text": "a", "callback_data": "x" * 65}, "BUTTON_DATA_INVALID"),
        ({"text": "a", "callback_data": "ộ" * 22}, "BUTTON_DATA_INVALID"),  # 66 bytes
    ],
)
async def test_invalid_buttons_are_rejected(
    fake: FakeTelegram, chat: Obj, button: Obj, error: str
) -> None:
    markup = {"inline_keyboard": [[button]]}
    status, body = await raw(
        fake, "sendMessage", json_body={"chat_id": chat["id"], "text": "?", "reply_markup": markup}
    )
    assert status == 400 and error in body["description"]
    assert len(take_violations(fake)) == 1


async def test_reply_keyboards_are_recorded_but_not_shown_on_the_message(
    fake: FakeTelegram, bot: Bot, chat: Obj
) -> None:
    keyboard = ReplyKeyboardMarkup([["12 hộ", "Huỷ"]], one_time_keyboard=True)
    sent = await bot.send_message(chat["id"], "Bao nhiêu?", reply_markup=keyboard)
    assert sent.reply_markup is None  # Message.reply_markup is for inline keyboards only
    assert fake.messages(chat["id"])[-1]["reply_markup"] == keyboard.to_dict()


async def test_replies_and_chat_errors(fake: FakeTelegram, bot: Bot, chat: Obj, user: Obj) -> None:
    question = fake.push_message(chat, user, "/report 12")["message"]
    answer = await bot.send_message(chat["id"], "✅", reply_to_message_id=question["message_id"])
    assert answer.reply_to_message is not None
    assert answer.reply_to_message.text == "/report 12"
    thanks = fake.push_message(chat, user, "cảm ơn", reply_to=answer.to_dict())["message"]
    assert thanks["reply_to_message"]["text"] == "✅"
    assert "reply_to_message" not in thanks["reply_to_message"]  # one level deep, as Telegram
    with pytest.raises(BadRequest, match="Message to be replied not found"):
        await bot.send_message(chat["id"], "?", reply_to_message_id=999)
    with pytest.raises(BadRequest, match="Chat not found"):
        await bot.send_message(-42, "?")
    stranger = fake.user(2002, "Minh")  # known, but never wrote to the bot
    with pytest.raises(Forbidden, match="bot can't initiate conversation"):
        await bot.send_message(stranger["id"], "?")


# -- calls the spec forbids -----------------------------------------------------------------


async def test_spec_violations_are_400_fake_errors(fake: FakeTelegram, chat: Obj) -> None:
    cases: list[tuple[str, Obj, str]] = [
        ("sendMesage", {"chat_id": chat["id"], "text": "x"}, "unknown method 'sendMesage'"),
        (
            "sendMessage",
            {"chat_id": chat["id"], "text": "x", "colour": "red"},
            "unknown parameter 'colour'",
        ),
        ("sendMessage", {"chat_id": chat["id"]}, "missing required parameter 'text'"),
        # A JSON body's arrays and objects reach a String parameter as their JSON text, as on
        # Telegram, but an Integer-only one rejects them, and floats.
        ("getUpdates", {"timeout": 1.5}, "timeout: expected Integer, got 1.5"),
        ("getUpdates", {"offset": [1]}, "offset: expected Integer, got [1]"),
        ("editMessageText", {"message_id": 1, "text": "x"}, "chat_id and message_id are required"),
        (
            "sendMessage",
            {"chat_id": chat["id"], "text": "x", "disable_notification": "maybe"},
            "disable_notification: expected Boolean",
        ),
        (
            "sendMessage",
            {"chat_id": chat["id"], "text": "x", "reply_markup": {"inline_keyboard": "no"}},
            "reply_markup",
        ),
        (
            "editMessageText",
            {"chat_id": chat["id"], "message_id": "abc", "text": "x"},
            "message_id: expected Integer",
        ),
        (
            "sendPhoto",
            {"chat_id": chat["id"], "photo": "attach://chart"},
            "attach://chart names no uploaded file part",
        ),
    ]
    for method, params, problem in cases:
        status, body = await raw(fake, method, json_body=params)
        assert status == 400, (method, params)
        assert body == {"ok": False, "error_code": 400, "description": body["description"]}
        assert body["description"].startswith("fake: ") and problem in body["description"]
    violations = take_violations(fake)
    assert len(violations) == len(cases)
    assert all(problem in v for v, (_, _, problem) in zip(violations, cases, strict=True))
    assert fake.messages(chat["id"]) == []  # nothing invalid was delivered


async def test_ptb_calls_with_spec_violations_fail(fake: FakeTelegram, bot: Bot, chat: Obj) -> None:
    with pytest.raises(BadRequest, match="fake: unknown parameter 'colour'"):
        await bot.send_message(chat["id"], "x", api_kwargs={"colour": "red"})
    with pytest.raises(BadRequest, match="fake: message_thread_id: expected Integer"):
        await bot.send_message(chat["id"], "x", api_kwargs={"message_thread_id": "topic"})
    with pytest.raises(BadRequest, match="fake: unknown method 'sendReport'"):
        await bot.do_api_request("sendReport", api_kwargs={"chat_id": chat["id"]})
    assert take_violations(fake) == [
        "sendMessage: unknown parameter 'colour'",
        "sendMessage: message_thread_id: expected Integer, got 'topic'",
        "sendReport: unknown method 'sendReport'",
    ]


async def test_methods_the_fake_does_not_implement_are_violations(
    fake: FakeTelegram, bot: Bot, chat: Obj
) -> None:
    with pytest.raises(BadRequest, match="fake: sendPoll is not implemented by the fake"):
        await bot.send_poll(chat["id"], "Q?", ["a", "b"])
    assert take_violations(fake) == ["sendPoll: sendPoll is not implemented by the fake"]


def test_spec_checker_flags_bad_objects() -> None:
    message = {"message_id": 1, "date": 0, "chat": {"id": 1, "type": "private"}}
    assert SPEC.check(["Message"], message, "m") == []
    assert SPEC.check(["Message"], {**message, "date": "today"}, "m") == [
        "m.date: expected Integer, got 'today'"
    ]
    assert SPEC.check(["Message"], {"message_id": 1, "chat": message["chat"]}, "m") == [
        "m: Message lacks required field 'date'"
    ]
    assert SPEC.check(["Message"], {**message, "colour": 1}, "m") == [
        "m: Message has no field 'colour'"
    ]
    member = {"status": "member", "user": {"id": 1, "is_bot": False, "first_name": "A"}}
    assert SPEC.check(["ChatMember"], member, "c") == []
    # The discriminator picks the subtype: an owner needs is_anonymous.
    assert SPEC.check(["ChatMember"], member | {"status": "creator"}, "c") != []
    # Discriminators may contain digits.
    gif = {"type": "gif", "id": "1", "mpeg4_url": "https://a", "thumbnail_url": "https://b"}
    assert SPEC.check(["InlineQueryResultMpeg4Gif"], gif, "r") == [
        "r.type: must be 'mpeg4_gif' in InlineQueryResultMpeg4Gif"
    ]


# -- getUpdates -----------------------------------------------------------------------------


async def test_long_poll_returns_as_soon_as_an_update_is_pushed(
    fake: FakeTelegram, bot: Bot, chat: Obj, user: Obj
) -> None:
    loop = asyncio.get_running_loop()
    poll = asyncio.create_task(bot.get_updates(timeout=10))
    await fake.wait_for(lambda: fake.calls_of("getUpdates"), timeout=2)
    assert not poll.done()  # it is really waiting
    pushed_at = loop.time()
    update = fake.push_message(chat, user, "/report 12 hộ")
    (received,) = await asyncio.wait_for(poll, 2)
    assert loop.time() - pushed_at < 1
    assert received.update_id == update["update_id"]
    assert received.message is not None and received.message.text == "/report 12 hộ"
    assert received.message.entities[0].type == MessageEntity.BOT_COMMAND


async def test_long_poll_without_updates_ends_at_its_timeout(fake: FakeTelegram, bot: Bot) -> None:
    loop = asyncio.get_running_loop()
    assert await bot.get_updates(timeout=0) == ()
    started = loop.time()
    assert await bot.get_updates(timeout=1) == ()
    assert 0.9 < loop.time() - started < 1.9


async def test_offset_confirms_updates_and_unconfirmed_ones_are_redelivered(
    fake: FakeTelegram, bot: Bot, chat: Obj, user: Obj
) -> None:
    first, second, third = (fake.push_message(chat, user, f"{n} hộ") for n in (1, 2, 3))
    ids = [u["update_id"] for u in (first, second, third)]
    assert ids == [ids[0], ids[0] + 1, ids[0] + 2]

    assert [u.update_id for u in await bot.get_updates()] == ids
    assert [u.update_id for u in await bot.get_updates()] == ids  # nothing confirmed yet
    assert [u.update_id for u in await bot.get_updates(offset=ids[1])] == ids[1:]
    assert [u.update_id for u in await bot.get_updates(limit=1)] == ids[1:2]
    assert [u.update_id for u in await bot.get_updates(offset=-1)] == ids[2:]  # newest only
    assert await bot.get_updates(offset=ids[2] + 1) == ()
    assert await bot.get_updates() == ()  # confirmed updates are gone for good

    fake.push_raw(third)  # Telegram delivers it again, with the same update_id
    assert [u.update_id for u in await bot.get_updates()] == [ids[2]]
    assert fake.push_message(chat, user, "4 hộ")["update_id"] == ids[2] + 1


async def test_closing_the_fake_ends_pending_long_polls() -> None:
    loop = asyncio.get_running_loop()
    async with FakeTelegram() as fake:
        poll = asyncio.create_task(raw(fake, "getUpdates", json_body={"timeout": 30}))
        await fake.wait_for(lambda: fake.calls_of("getUpdates"), timeout=2)
        closing = loop.time()
    assert loop.time() - closing < 1  # a test's teardown does not wait for the poll
    assert await asyncio.wait_for(poll, 1) == (200, {"ok": True, "result": []})


async def test_allowed_updates_filter_what_is_queued(
    fake: FakeTelegram, bot: Bot, chat: Obj, user: Obj
) -> None:
    await bot.get_updates(allowed_updates=["callback_query"])
    fake.push_message(chat, user, "ignored")
    assert await bot.get_updates() == ()
    await bot.get_updates(allowed_updates=[])  # back to the default kinds
    update = fake.push_message(chat, user, "seen")
    assert [u.update_id for u in await bot.get_updates()] == [update["update_id"]]


async def test_second_concurrent_poll_makes_the_first_fail_with_conflict(
    fake: FakeTelegram, bot: Bot, chat: Obj, user: Obj
) -> None:
    loop = asyncio.get_running_loop()
    first = asyncio.create_task(bot.get_updates(timeout=10))
    await fake.wait_for(lambda: len(fake.calls_of("getUpdates")) == 1, timeout=2)
    async with make_bot(fake) as other:  # a second instance of the bot, polling too
        started = loop.time()
        second = asyncio.create_task(other.get_updates(timeout=10))
        with pytest.raises(Conflict, match="terminated by other getUpdates request"):
            await asyncio.wait_for(first, 2)
        assert loop.time() - started < 1  # ended by the new poll, not by its own timeout
        assert not second.done()
        update = fake.push_message(chat, user, "hi")
        assert [u.update_id for u in await asyncio.wait_for(second, 2)] == [update["update_id"]]


# -- scripted failures ----------------------------------------------------------------------


async def test_429_raises_retry_after(fake: FakeTelegram, bot: Bot, chat: Obj) -> None:
    fake.fail_next("sendMessage", status=429, retry_after=7)
    with pytest.raises(RetryAfter) as raised:
        await bot.send_message(chat["id"], "12 hộ")
    assert raised.value.retry_after == 7
    await bot.send_message(chat["id"], "12 hộ")  # only the next call failed
    assert [m["text"] for m in fake.messages(chat["id"])] == ["12 hộ"]
    assert len(fake.calls_of("sendMessage")) == 2


async def test_403_raises_forbidden_and_500_network_error(
    fake: FakeTelegram, bot: Bot, chat: Obj
) -> None:
    fake.fail_next("sendMessage", status=403)
    with pytest.raises(Forbidden, match="bot was blocked by the user"):
        await bot.send_message(chat["id"], "a")

    fake.fail_next("sendMessage", status=500, times=2)
    for _ in range(2):
        with pytest.raises(NetworkError, match="Internal Server Error") as raised:
            await bot.send_message(chat["id"], "b")
        assert not isinstance(raised.value, BadRequest)
    await bot.send_message(chat["id"], "c")
    assert [m["text"] for m in fake.messages(chat["id"])] == ["c"]


async def test_failures_can_target_one_chat(fake: FakeTelegram, bot: Bot, chat: Obj) -> None:
    group = fake.group(-500, "Tổ 1")
    fake.fail_next("sendMessage", status=403, chat_id=group["id"])
    await bot.send_message(chat["id"], "private")  # another chat: unaffected
    with pytest.raises(Forbidden):
        await bot.send_message(group["id"], "group")
    await bot.send_message(group["id"], "group")
    assert len(fake.messages(group["id"])) == 1


async def test_migration_raises_chat_migrated_and_queues_both_service_messages(
    fake: FakeTelegram, bot: Bot, user: Obj
) -> None:
    group = fake.group(-500, "Tổ 1 — Bình Sơn")
    new_chat = fake.push_migration(group, -1009876543210, by=user)
    assert new_chat == {"id": -1009876543210, "type": "supergroup", "title": group["title"]}

    with pytest.raises(ChatMigrated) as raised:
        await bot.send_message(group["id"], "12 hộ")
    assert raised.value.new_chat_id == new_chat["id"]

    old, new = await bot.get_updates()
    assert old.message is not None and new.message is not None
    assert (old.message.chat.id, old.message.migrate_to_chat_id) == (group["id"], new_chat["id"])
    assert (new.message.chat.id, new.message.migrate_from_chat_id) == (new_chat["id"], group["id"])
    assert new.message.chat.type == "supergroup"

    await bot.send_message(new_chat["id"], "12 hộ")
    assert [m["text"] for m in fake.messages(new_chat["id"])] == ["12 hộ"]


# -- files ----------------------------------------------------------------------------------


async def test_send_photo_uploads_bytes_as_multipart(
    fake: FakeTelegram, bot: Bot, chat: Obj
) -> None:
    chart = png(3, 2)
    sent = await bot.send_photo(
        chat["id"], chart, caption="<b>Tuần 10</b>: 12 hộ", parse_mode=ParseMode.HTML
    )
    call = fake.calls_of("sendPhoto")[-1]
    assert call.content_type == "multipart/form-data"
    assert isinstance(call.params["photo"], Upload) and call.params["photo"].data == chart

    (message,) = fake.messages(chat["id"])
    assert (message["photo"], message["caption"], message["text"]) == (
        chart,
        "Tuần 10: 12 hộ",
        None,
    )
    assert (sent.photo[-1].width, sent.photo[-1].height) == (3, 2)
    assert sent.caption == "Tuần 10: 12 hộ"
    assert [(e.type, e.offset, e.length) for e in sent.caption_entities] == [("bold", 0, 7)]

    resent = await bot.send_photo(chat["id"], sent.photo[-1].file_id)  # by file_id: a form
    assert fake.calls_of("sendPhoto")[-1].content_type == "application/x-www-form-urlencoded"
    assert fake.messages(chat["id"])[-1]["photo"] == chart and resent.caption is None


async def test_send_photo_with_an_unknown_file_id_fails(
    fake: FakeTelegram, bot: Bot, chat: Obj
) -> None:
    with pytest.raises(BadRequest, match="Wrong file identifier"):
        await bot.send_photo(chat["id"], "NOSUCHFILE")


async def test_caption_length_is_limited(fake: FakeTelegram, bot: Bot, chat: Obj) -> None:
    await bot.send_photo(chat["id"], png(1, 1), caption="x" * 1024)
    with pytest.raises(BadRequest, match=r"message caption is too long \(1025 > 1024\)"):
        await bot.send_photo(chat["id"], png(1, 1), caption="x" * 1025)
    assert len(take_violations(fake)) == 1


async def test_send_media_group_with_two_photos_and_a_caption(
    fake: FakeTelegram, bot: Bot, chat: Obj
) -> None:
    charts = [png(4, 3), png(5, 3)]
    sent = await bot.send_media_group(
        chat["id"], [InputMediaPhoto(c) for c in charts], caption="Biểu đồ tuần 10"
    )
    call = fake.calls_of("sendMediaGroup")[-1]
    assert call.content_type == "multipart/form-data"
    assert sorted(u.data for u in call.files.values()) == sorted(charts)

    messages = fake.messages(chat["id"])
    assert [m["photo"] for m in messages] == charts
    assert [m["caption"] for m in messages] == ["Biểu đồ tuần 10", None]
    assert len(sent) == 2 and sent[0].media_group_id == sent[1].media_group_id is not None
    assert [m.photo[-1].width for m in sent] == [4, 5]
    file = await sent[1].photo[-1].get_file()
    assert file.file_path is not None and "/photos/" in file.file_path  # stored as a photo
    assert await file.download_as_bytearray() == bytearray(charts[1])


async def test_media_group_of_one_is_rejected(fake: FakeTelegram, bot: Bot, chat: Obj) -> None:
    with pytest.raises(BadRequest, match="media group must include 2-10 items"):
        await bot.send_media_group(chat["id"], [InputMediaPhoto(png(1, 1))])
    assert len(take_violations(fake)) == 1


async def test_send_document_and_download_it(fake: FakeTelegram, bot: Bot, chat: Obj) -> None:
    data = b"PK\x03\x04 a spreadsheet"
    sent = await bot.send_document(chat["id"], data, filename="bao_cao_tuan_10.xlsx")
    (message,) = fake.messages(chat["id"])
    assert (message["document"], message["file_name"]) == (data, "bao_cao_tuan_10.xlsx")
    assert sent.document is not None and sent.document.file_name == "bao_cao_tuan_10.xlsx"
    assert sent.document.file_size == len(data)

    file = await bot.get_file(sent.document.file_id)
    assert file.file_path is not None and file.file_path.startswith(fake.base_file_url)
    assert await file.download_as_bytearray() == bytearray(data)


async def test_get_file_and_download_user_files(
    fake: FakeTelegram, bot: Bot, chat: Obj, user: Obj
) -> None:
    file_id = fake.add_file(b"id,count\n1,12\n", "import.csv")
    file = await bot.get_file(file_id)
    assert file.file_size == 14
    assert await file.download_as_bytearray() == bytearray(b"id,count\n1,12\n")

    fake.push_message(chat, user, caption="ảnh hiện trường", photo=b"\xff\xd8 a jpeg")
    fake.push_message(chat, user, document=(b"%PDF-1.4", "bien_ban.pdf", "application/pdf"))
    photo, document = await bot.get_updates()
    assert photo.message is not None and document.message is not None
    assert photo.message.caption == "ảnh hiện trường"
    assert document.message.document is not None
    assert document.message.document.mime_type == "application/pdf"
    photo_file = await photo.message.photo[-1].get_file()
    assert await photo_file.download_as_bytearray() == bytearray(b"\xff\xd8 a jpeg")
    document_file = await document.message.document.get_file()
    assert await document_file.download_as_bytearray() == bytearray(b"%PDF-1.4")

    with pytest.raises(BadRequest, match="Invalid file_id"):
        await bot.get_file("NOSUCHFILE")
    with pytest.raises(BadRequest, match="File is too big"):  # bots download up to 20 MB
        await bot.get_file(fake.add_file(bytes(20 * 2**20 + 1), "video.mp4"))
    async with aiohttp.ClientSession() as session:
        bad_token = f"{fake.base_file_url}123:wrong/{file.file_path.rsplit('/bot', 1)[1]}"
        async with session.get(bad_token) as response:
            assert response.status == 404


# -- callbacks and edits --------------------------------------------------------------------


async def test_callback_query_can_be_answered_once(
    fake: FakeTelegram, bot: Bot, chat: Obj, user: Obj
) -> None:
    sent = await bot.send_message(chat["id"], "Gửi báo cáo?", reply_markup=KEYBOARD)
    with pytest.raises(AssertionError, match="no button with callback_data 'other'"):
        fake.push_callback(fake.messages(chat["id"])[-1], user, "other")
    fake.push_callback(fake.messages(chat["id"])[-1], user, "send")

    (update,) = await bot.get_updates()
    query = update.callback_query
    assert query is not None and query.data == "send" and query.from_user.id == user["id"]
    assert query.message is not None and query.message.message_id == sent.message_id
    assert await query.answer("Đã gửi") is True
    with pytest.raises(BadRequest, match="Query is too old"):
        await query.answer("Đã gửi")
    assert fake.calls_of("answerCallbackQuery")[0].params["text"] == "Đã gửi"


async def test_edits_change_text_and_keyboard_but_not_nothing(
    fake: FakeTelegram, bot: Bot, chat: Obj, user: Obj
) -> None:
    sent = await bot.send_message(
        chat["id"], "<b>12</b> hộ", parse_mode=ParseMode.HTML, reply_markup=KEYBOARD
    )
    with pytest.raises(BadRequest, match="Message is not modified"):
        await sent.edit_text("<b>12</b> hộ", parse_mode=ParseMode.HTML, reply_markup=KEYBOARD)

    # The same words without the keyboard: a change (the keyboard goes).
    edited = await sent.edit_text("<b>12</b> hộ", parse_mode=ParseMode.HTML)
    assert isinstance(edited, type(sent)) and edited.reply_markup is None
    assert edited.edit_date is not None
    assert fake.messages(chat["id"])[-1]["reply_markup"] is None

    # The same words without the bold: a change too, and the entities go with it.
    plain = await sent.edit_text("12 hộ")
    assert isinstance(plain, type(sent)) and plain.entities == ()
    assert "entities" not in fake.messages(chat["id"])[-1]["message"]
    with pytest.raises(BadRequest, match="Message is not modified"):
        await sent.edit_text("  12 hộ ")  # Telegram trims before comparing

    await sent.edit_reply_markup(KEYBOARD)
    assert fake.messages(chat["id"])[-1]["reply_markup"] == KEYBOARD.to_dict()
    assert fake.messages(chat["id"])[-1]["text"] == "12 hộ"

    theirs = fake.push_message(chat, user, "/report")["message"]
    with pytest.raises(BadRequest, match="Message can't be edited"):
        await bot.edit_message_text("x", chat["id"], theirs["message_id"])
    with pytest.raises(BadRequest, match="Message to edit not found"):
        await bot.edit_message_text("x", chat["id"], 999)

    assert await sent.delete() is True
    assert fake.messages(chat["id"]) == []


# -- commands and webhooks ------------------------------------------------------------------


async def test_set_my_commands_per_language(fake: FakeTelegram, bot: Bot) -> None:
    vi = [BotCommand("report", "Gửi báo cáo"), BotCommand("help", "Trợ giúp")]
    en = [BotCommand("report", "Send a report"), BotCommand("help", "Help")]
    assert await bot.set_my_commands(vi, language_code="vi")
    assert await bot.set_my_commands(en, language_code="en")
    assert await bot.set_my_commands(en[:1], scope=BotCommandScopeAllPrivateChats())

    default = json.dumps({"type": "default"})
    assert fake.commands[default, "vi"] == [c.to_dict() for c in vi]
    assert fake.commands[default, "en"] == [c.to_dict() for c in en]
    assert fake.commands[json.dumps({"type": "all_private_chats"}), ""] == [en[0].to_dict()]
    assert await bot.get_my_commands(language_code="vi") == tuple(vi)
    assert await bot.get_my_commands() == ()
    assert await bot.delete_my_commands(language_code="en")
    assert (default, "en") not in fake.commands


@pytest.mark.parametrize(
    ("command", "description", "error"),
    [
        ("Report", "x", "BOT_COMMAND_INVALID"),
        ("báo_cáo", "x", "BOT_COMMAND_INVALID"),
        ("/report", "x", "BOT_COMMAND_INVALID"),
        ("r" * 33, "x", "BOT_COMMAND_INVALID"),
        ("report", "", "command description of /report"),
    ],
)
async def test_invalid_commands_are_rejected(
    fake: FakeTelegram, bot: Bot, command: str, description: str, error: str
) -> None:
    with pytest.raises(BadRequest, match=error):
        await bot.set_my_commands([BotCommand(command, description)], language_code="vi")
    assert len(take_violations(fake)) == 1
    assert fake.commands == {}


async def test_command_language_must_be_two_letters(fake: FakeTelegram, bot: Bot) -> None:
    with pytest.raises(BadRequest, match="not ISO 639-1"):
        await bot.set_my_commands([BotCommand("help", "Help")], language_code="vie")
    assert len(take_violations(fake)) == 1


async def test_webhook_needs_https_and_blocks_get_updates(
    fake: FakeTelegram, bot: Bot, chat: Obj, user: Obj
) -> None:
    with pytest.raises(BadRequest, match=r"(?i)an https url must be provided"):
        await bot.set_webhook("http://tiendo.example/telegram")
    with pytest.raises(BadRequest, match="secret_token"):
        await bot.set_webhook("https://tiendo.example/telegram", secret_token="not secret!")
    assert len(take_violations(fake)) == 1  # the bad secret; http is a normal API error

    fake.push_message(chat, user, "dropped")
    assert await bot.set_webhook(
        "https://tiendo.example/telegram",
        secret_token="s3cret-token",
        allowed_updates=["message", "callback_query"],
        drop_pending_updates=True,
    )
    assert fake.webhook["url"] == "https://tiendo.example/telegram"
    assert fake.webhook["secret_token"] == "s3cret-token"
    info = await bot.get_webhook_info()
    assert info.url == "https://tiendo.example/telegram" and info.pending_update_count == 0
    assert info.allowed_updates == ("message", "callback_query")

    with pytest.raises(Conflict, match="can't use getUpdates method while webhook is active"):
        await bot.get_updates()
    fake.push_message(chat, user, "via webhook only")  # not queued for getUpdates

    assert await bot.delete_webhook()
    assert (await bot.get_webhook_info()).url == ""
    assert await bot.get_updates() == ()


async def test_post_webhook_delivers_json_with_the_secret_header(
    fake: FakeTelegram, bot: Bot, chat: Obj, user: Obj
) -> None:
    received: list[tuple[str | None, Obj]] = []

    async def hook(request: web.Request) -> web.Response:
        assert request.content_type == "application/json"
        received.append(
            (request.headers.get("X-Telegram-Bot-Api-Secret-Token"), await request.json())
        )
        return web.Response(status=200 if len(received) == 1 else 503)

    app = web.Application()
    app.router.add_post("/telegram", hook)
    runner = web.AppRunner(app)
    await runner.setup()
    try:
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        url = f"http://127.0.0.1:{runner.addresses[0][1]}/telegram"
        update = fake.push_message(chat, user, "/report 12 hộ")
        assert await fake.post_webhook(url, update, secret_token="s3cret-token") == 200
        assert await fake.post_webhook(url, update) == 503  # the bot's status, as given
    finally:
        await runner.cleanup()

    assert received == [("s3cret-token", update), (None, update)]
    parsed = Update.de_json(received[0][1], bot)
    assert parsed.message is not None and parsed.message.text == "/report 12 hộ"


# -- everything the fake builds ---------------------------------------------------------------


async def test_updates_and_results_of_normal_use_pass_the_spec(
    fake: FakeTelegram, bot: Bot, user: Obj
) -> None:
    other = fake.user(1002, "Minh", None)
    chat = fake.private_chat(user)
    group = fake.group(-500, "Tổ 1")
    supergroup = fake.group(-1001234567890, "Xã", supergroup=True)
    fake.set_member(supergroup, user, "administrator")

    first = fake.push_message(group, user, f"/report@{fake.username} 12 hộ cc @minh_hn")
    fake.push_message(group, other, "ok", reply_to=first["message"])
    fake.push_message(chat, user, caption="/report 3", photo=png(2, 2))
    fake.push_message(chat, user, document=(b"a,b\n", "data.csv", "text/csv"))
    fake.push_edit(first["message"], "/report 13 hộ")
    sent = await bot.send_message(chat["id"], "<b>?</b>", parse_mode="HTML", reply_markup=KEYBOARD)
    fake.push_callback(sent.to_dict(), user, "x")
    fake.push_migration(group, -1009876543210)

    updates = await bot.get_updates()
    assert [u.effective_message.chat.id for u in updates if u.effective_message] == [
        group["id"],
        group["id"],
        chat["id"],
        chat["id"],
        group["id"],
        chat["id"],
        group["id"],
        -1009876543210,
    ]
    assert updates[0].message is not None
    command, mention = updates[0].message.entities
    assert (command.type, command.offset, command.length) == ("bot_command", 0, 23)
    assert (mention.type, mention.offset) == ("mention", 33)
    assert updates[1].message and updates[1].message.reply_to_message
    assert updates[2].message and updates[2].message.caption_entities[0].type == "bot_command"
    assert updates[4].edited_message and updates[4].edited_message.text == "/report 13 hộ"

    full = await bot.get_chat(supergroup["id"])
    assert (full.id, full.type, full.title) == (supergroup["id"], "supergroup", "Xã")
    member = await bot.get_chat_member(supergroup["id"], user["id"])
    assert isinstance(member, ChatMemberAdministrator) and member.user.id == user["id"]
    assert (await bot.get_chat_member(-1009876543210, other["id"])).status == "member"
    await bot.send_chat_action(chat["id"], "typing")
    await bot.log_out()
    assert fake.violations == []


async def test_badly_built_updates_are_reported(fake: FakeTelegram, chat: Obj) -> None:
    fake.push_raw({"message": {"message_id": 1, "chat": chat}})
    fake.push_raw({"message": {"message_id": 2, "date": 0, "chat": chat}, "colour": "red"})
    assert take_violations(fake) == [
        "fake built a bad update: update.message: Message lacks required field 'date'",
        "fake built a bad update: update: Update has no field 'colour'",
    ]


async def test_wait_for_message_sees_what_the_bot_sends(
    fake: FakeTelegram, bot: Bot, chat: Obj
) -> None:
    later = asyncio.create_task(bot.send_message(chat["id"], "✅ Đã ghi báo cáo #1."))
    message = await fake.wait_for_message(chat["id"], "báo cáo #1", timeout=2)
    assert message["text"] == "✅ Đã ghi báo cáo #1."
    await later
    with pytest.raises(AssertionError, match=r"the bot sent: \['✅ Đã ghi báo cáo #1.'\]"):
        await fake.wait_for_message(chat["id"], "#2", timeout=0.1)
