"""The fake Zalo Bot API checked with plain aiohttp requests: the wire format it speaks (what
the public documentation shows), the strictness it claims, long polling that hands out one
update per call, webhook delivery with retries, photos fetched back over HTTP, and the test
controls adapter tests will rely on."""

from __future__ import annotations

import asyncio
import math
import re
import struct
import zlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from tests.fakes.zalo_api import BOT_ID, EVENTS, PNG_MAGIC, SECRET_HEADER, FakeZalo

Obj = dict[str, Any]
SECRET = "tiendo-webhook-secret_42"
PUBLIC = "https://bot.example.org"
ZALO_ID = re.compile(r"[0-9a-f]{20}")


def png(width: int = 4, height: int = 3) -> bytes:
    """A real (tiny) PNG."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data)
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    rows = b"".join(b"\x00" + b"\x20\x80\xc0" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return PNG_MAGIC + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows))


def take_violations(fake: FakeZalo) -> list[str]:
    """The violations so far, cleared: the fixture fails any test that leaves some behind."""
    found, fake.violations[:] = list(fake.violations), []
    return found


@pytest.fixture
async def fake() -> AsyncIterator[FakeZalo]:
    # One API second lasts 20 ms: a 30 s long poll takes 0.6 s, webhook back-off 20, 40 … ms.
    async with FakeZalo(second=0.02, webhook_attempts=3) as fake:
        yield fake
        assert fake.violations == []


@dataclass
class Local:
    """tiendo's side on loopback: chart images under /charts/, the webhook at /zalo."""

    url: str = ""
    files: dict[str, tuple[bytes, str]] = field(default_factory=dict)
    statuses: list[int] = field(default_factory=list)  # next webhook answers, then 200
    received: list[tuple[Obj, dict[str, str]]] = field(default_factory=list)


@pytest.fixture
async def local(fake: FakeZalo) -> AsyncIterator[Local]:
    state = Local()

    async def chart(request: web.Request) -> web.Response:
        found = state.files.get(request.match_info["name"])
        if found is None:
            return web.Response(status=404)
        return web.Response(body=found[0], content_type=found[1])

    async def webhook(request: web.Request) -> web.Response:
        state.received.append((await request.json(), dict(request.headers)))
        return web.Response(status=state.statuses.pop(0) if state.statuses else 200)

    app = web.Application()
    app.router.add_get("/charts/{name}", chart)
    app.router.add_post("/zalo", webhook)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    state.url = f"http://127.0.0.1:{runner.addresses[0][1]}"
    fake.route(PUBLIC, state.url)
    yield state
    await runner.cleanup()


async def raw(
    fake: FakeZalo,
    method: str,
    body: Any = None,
    *,
    token: str | None = None,
    http: str = "POST",
    data: Any = None,
    timeout: float = 5,
) -> tuple[int, Obj]:
    """One Bot API call over plain HTTP: the HTTP status and the decoded JSON answer."""
    url = f"{fake.base_url}/bot{token or fake.token}/{method}"
    async with (
        aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=timeout)) as session,
        session.request(http, url, json=body, data=data) as response,
    ):
        return response.status, await response.json(content_type=None)


@pytest.fixture
def lan(fake: FakeZalo) -> Obj:
    return fake.user("Nguyễn Thị Lan")


@pytest.fixture
def dm(fake: FakeZalo, lan: Obj) -> Obj:
    return fake.private_chat(lan)


# -- wire format and strictness ------------------------------------------------------------


async def test_get_me(fake: FakeZalo) -> None:
    status, body = await raw(fake, "getMe")
    assert status == 200
    assert body == {
        "ok": True,
        "result": {
            "id": BOT_ID,
            "account_name": "bot.TiendoTest",
            "account_type": "BASIC",
            "can_join_groups": True,
            "display_name": "Tiến Độ",
        },
    }
    assert fake.token.split(":")[0] == BOT_ID
    assert [(c.method, c.params, c.status) for c in fake.calls] == [("getMe", {}, 200)]


async def test_wrong_token_is_401_and_not_a_violation(fake: FakeZalo) -> None:
    status, body = await raw(fake, "getMe", token=f"{BOT_ID}:wrong")
    assert (status, body) == (401, {"ok": False, "error_code": 401, "description": "Unauthorized"})
    assert fake.calls == []


async def test_unknown_method_is_404_and_a_violation(fake: FakeZalo) -> None:
    status, body = await raw(fake, "sendDocument", {"chat_id": "x"})
    assert (status, body) == (
        404,
        {"ok": False, "error_code": 404, "description": "fake: Not Found"},
    )
    status, _ = await raw(fake, "getme")  # method names are case-sensitive
    assert status == 404
    assert take_violations(fake) == ["sendDocument: Not Found", "getme: Not Found"]


@pytest.mark.parametrize(
    ("method", "body", "problem"),
    [
        ("sendMessage", {"chat_id": "1"}, "missing required parameter 'text'"),
        ("sendMessage", {"chat_id": 1, "text": "hi"}, "chat_id: expected a String, got 1"),
        ("sendMessage", {"chat_id": "1", "text": "hi", "parse_mode": "HTML"}, "unknown parameter"),
        ("sendPhoto", {"chat_id": "1", "photo": "u", "caption": None}, "caption: expected a"),
        ("sendChatAction", {"chat_id": "1"}, "missing required parameter 'action'"),
        ("setWebhook", {"url": "https://x.org/z"}, "missing required parameter 'secret_token'"),
        ("getUpdates", {"timeout": "soon"}, "timeout: expected whole seconds"),
        ("getUpdates", {"timeout": -1}, "timeout: expected whole seconds"),
        ("getUpdates", {"offset": 3}, "unknown parameter 'offset'"),  # there is no offset
    ],
)
async def test_parameters_are_checked(fake: FakeZalo, method: str, body: Obj, problem: str) -> None:
    status, answer = await raw(fake, method, body)
    assert status == 400 and answer["ok"] is False and answer["error_code"] == 400
    assert answer["description"].startswith("fake: ") and problem in answer["description"]
    (violation,) = take_violations(fake)
    assert violation.startswith(f"{method}: ") and problem in violation
    assert fake.calls[-1].status == 400


async def test_only_json_posts_are_understood(fake: FakeZalo) -> None:
    assert (await raw(fake, "getMe", http="GET"))[0] == 400
    assert (await raw(fake, "sendMessage", data={"chat_id": "1", "text": "hi"}))[0] == 400
    assert (await raw(fake, "getMe", [1, 2]))[0] == 400
    problems = take_violations(fake)
    assert [p.split(": ", 1)[1] for p in problems] == [
        "GET: Zalo documents POST for every method",
        "unsupported content type 'application/x-www-form-urlencoded': send JSON",
        "the JSON body is not an object",
    ]


async def test_errors_can_come_under_http_200(fake: FakeZalo) -> None:
    """Some implementers report error bodies under HTTP 200: clients must read `ok`."""
    fake.errors_with_http_200 = True
    status, body = await raw(fake, "sendMessage", {"chat_id": "nobody", "text": "hi"})
    assert (status, body["ok"], body["error_code"]) == (200, False, 400)
    status, body = await raw(fake, "getMe", token="1:bad")
    assert (status, body["error_code"]) == (200, 401)


# -- sendMessage, limits, chats ----------------------------------------------------------


async def test_send_message_is_recorded_per_chat_in_order(
    fake: FakeZalo, lan: Obj, dm: Obj
) -> None:
    group = fake.group()
    for chat_id, text in [(dm["id"], "Chào Lan"), (group["id"], "Tổ 1"), (dm["id"], "12 hộ")]:
        status, body = await raw(fake, "sendMessage", {"chat_id": chat_id, "text": text})
        assert status == 200 and set(body["result"]) == {"message_id", "date"}
        assert ZALO_ID.fullmatch(body["result"]["message_id"])
        assert body["result"]["date"] > 1_700_000_000_000  # milliseconds
    assert [(m.kind, m.text) for m in fake.sent(dm["id"])] == [
        ("text", "Chào Lan"),
        ("text", "12 hộ"),
    ]
    assert [m.text for m in fake.sent(group["id"])] == ["Tổ 1"]
    assert dm["id"] == lan["id"] and dm["chat_type"] == "PRIVATE"
    assert group["chat_type"] == "GROUP" and group["id"] != dm["id"]


async def test_unknown_chat_is_400(fake: FakeZalo) -> None:
    status, body = await raw(fake, "sendMessage", {"chat_id": "0" * 20, "text": "hi"})
    assert (status, body["description"]) == (400, "Bad Request: chat not found")


@pytest.mark.parametrize(
    ("text", "units"),
    [
        ("x" * 2000, 2000),
        ("😀" * 1000, 2000),  # outside the BMP: 2 units each
        ("Hộ đã vận động " * 133 + "12345", 2000),  # precomposed (NFC) Vietnamese: 1 each
        ("😀" * 1000 + "x", 2001),
        ("e\u0323\u0302" * 667, 2001),  # "ệ" decomposed (NFD): 3 units
        ("x" * 2001, 2001),
    ],
)
async def test_text_is_limited_to_2000_utf16_units(
    fake: FakeZalo, dm: Obj, text: str, units: int
) -> None:
    status, body = await raw(fake, "sendMessage", {"chat_id": dm["id"], "text": text})
    if units <= 2000:
        assert status == 200 and fake.sent(dm["id"])[-1].text == text
    else:
        assert status == 400
        assert body["description"] == (
            f"fake: Bad Request: text is too long ({units} > 2000 UTF-16 units)"
        )
        assert len(take_violations(fake)) == 1


async def test_empty_text_is_a_violation(fake: FakeZalo, dm: Obj) -> None:
    status, body = await raw(fake, "sendMessage", {"chat_id": dm["id"], "text": ""})
    assert status == 400 and "text is empty" in body["description"]
    assert len(take_violations(fake)) == 1


async def test_refusing_chat_answers_403_until_lifted(
    fake: FakeZalo, dm: Obj, local: Local
) -> None:
    local.files["c.png"] = (png(), "image/png")
    fake.refuse(dm["id"])
    for method, extra in [
        ("sendMessage", {"text": "hi"}),
        ("sendPhoto", {"photo": f"{PUBLIC}/charts/c.png"}),
        ("sendChatAction", {"action": "typing"}),
    ]:
        status, body = await raw(fake, method, {"chat_id": dm["id"], **extra})
        assert (status, body["ok"], body["error_code"]) == (403, False, 403)
    fake.refuse(dm["id"], False)
    assert (await raw(fake, "sendMessage", {"chat_id": dm["id"], "text": "hi"}))[0] == 200
    assert [m.text for m in fake.sent(dm["id"])] == ["hi"]


async def test_chat_action(fake: FakeZalo, dm: Obj) -> None:
    status, body = await raw(fake, "sendChatAction", {"chat_id": dm["id"], "action": "typing"})
    assert (status, body) == (200, {"ok": True})  # no result, as the docs show
    status, body = await raw(fake, "sendChatAction", {"chat_id": dm["id"], "action": "dancing"})
    assert status == 400 and "action must be one of" in body["description"]
    assert fake.actions(dm["id"]) == ["typing"]
    assert len(take_violations(fake)) == 1


# -- sendPhoto -----------------------------------------------------------------------------


async def test_send_photo_fetches_the_png_back(fake: FakeZalo, dm: Obj, local: Local) -> None:
    image = png(8, 6)
    local.files["t-1.png"] = (image, "image/png")
    url = f"{PUBLIC}/charts/t-1.png"
    status, body = await raw(
        fake, "sendPhoto", {"chat_id": dm["id"], "photo": url, "caption": "Tiến độ 😀"}
    )
    assert status == 200 and ZALO_ID.fullmatch(body["result"]["message_id"])
    (sent,) = fake.sent(dm["id"])
    assert (sent.kind, sent.photo_url, sent.caption, sent.photo) == (
        "photo",
        url,
        "Tiến độ 😀",
        image,
    )
    status, _ = await raw(fake, "sendPhoto", {"chat_id": dm["id"], "photo": url})
    assert status == 200 and fake.sent(dm["id"])[-1].caption is None


@pytest.mark.parametrize(
    ("photo", "error"),
    [
        (f"{PUBLIC}/charts/missing.png", "photo could not be fetched (HTTP 404)"),
        (f"{PUBLIC}/charts/page.html", "photo is not a PNG image"),
        (f"{PUBLIC}/charts/photo.jpg", "photo is not a PNG image"),
        ("https://127.0.0.1:9/nothing.png", "photo could not be fetched (ClientConnector"),
        ("http://bot.example.org/charts/t.png", "photo must be an HTTPS URL"),
        ("charts/t.png", "photo must be an HTTPS URL"),
    ],
)
async def test_photo_that_is_not_a_reachable_png_is_refused(
    fake: FakeZalo, dm: Obj, local: Local, photo: str, error: str
) -> None:
    local.files["page.html"] = (b"<html>PNG</html>", "image/png")  # the type does not count
    local.files["photo.jpg"] = (b"\xff\xd8\xff\xe0" + bytes(40), "image/jpeg")
    status, body = await raw(fake, "sendPhoto", {"chat_id": dm["id"], "photo": photo})
    assert status == 400 and body["description"].startswith(f"Bad Request: {error}")
    assert fake.sent(dm["id"]) == []


async def test_photo_caption_is_limited_too(fake: FakeZalo, dm: Obj, local: Local) -> None:
    local.files["c.png"] = (png(), "image/png")
    photo = f"{PUBLIC}/charts/c.png"
    for caption in ("", "😀" * 1001):
        status, _ = await raw(
            fake, "sendPhoto", {"chat_id": dm["id"], "photo": photo, "caption": caption}
        )
        assert status == 400
    assert [v.split(": ", 2)[2][:20] for v in take_violations(fake)] == [
        "caption is empty (1-",
        "caption is too long ",
    ]


# -- getUpdates ----------------------------------------------------------------------------


async def test_updates_wire_format(fake: FakeZalo, lan: Obj, dm: Obj) -> None:
    group = fake.group()
    pushed = [
        fake.push_text(dm, lan, "/report 12 hộ 2tr5"),
        fake.push_image(group, lan, "https://photo.zalo.me/x.jpg", caption="Ảnh biên bản"),
        fake.push_image(dm, lan, "https://photo.zalo.me/y.jpg"),
        fake.push_sticker(group, lan),
        fake.push_unsupported(dm, lan),
    ]
    got = [(await raw(fake, "getUpdates", {"timeout": "1"}))[1] for _ in pushed]
    assert [g["result"] for g in got] == pushed
    text, image, bare_image, sticker, unsupported = pushed
    assert [u["event_name"] for u in pushed] == [EVENTS[0], EVENTS[1], EVENTS[1], *EVENTS[2:]]
    message = text["message"]
    assert set(message) == {"message_id", "from", "chat", "date", "text"}
    assert message["from"] == {"id": lan["id"], "display_name": "Nguyễn Thị Lan", "is_bot": False}
    assert message["chat"] == {"id": lan["id"], "chat_type": "PRIVATE"}
    assert message["text"] == "/report 12 hộ 2tr5" and message["date"] > 1_700_000_000_000
    assert image["message"]["chat"] == {"id": group["id"], "chat_type": "GROUP"}
    assert (image["message"]["photo_url"], image["message"]["caption"]) == (
        "https://photo.zalo.me/x.jpg",
        "Ảnh biên bản",
    )
    assert "caption" not in bare_image["message"]
    assert sticker["message"]["sticker"] == "d063f44dc80821567819"
    assert set(unsupported["message"]) == {"message_id", "from", "chat", "date"}
    ids = [u["message"]["message_id"] for u in pushed]
    assert len(set(ids)) == len(ids) and all(ZALO_ID.fullmatch(i) for i in ids)


async def test_one_update_per_call_then_gone(fake: FakeZalo, lan: Obj, dm: Obj) -> None:
    first, second = fake.push_text(dm, lan, "một"), fake.push_text(dm, lan, "hai")
    assert fake.pending == [first, second]
    assert (await raw(fake, "getUpdates", {"timeout": "30"}))[1]["result"] == first
    assert fake.pending == [second]
    assert (await raw(fake, "getUpdates", {"timeout": 30}))[1]["result"] == second  # a number
    assert fake.pending == []
    status, body = await raw(fake, "getUpdates", {"timeout": "1"})
    assert (status, body) == (
        408,
        {"ok": False, "error_code": 408, "description": "Request Timeout"},
    )


async def test_long_poll_waits_for_news_and_for_its_timeout(
    fake: FakeZalo, lan: Obj, dm: Obj
) -> None:
    loop = asyncio.get_running_loop()
    start = loop.time()
    assert (await raw(fake, "getUpdates", {"timeout": "10"}))[0] == 408
    assert 0.18 <= loop.time() - start < 1.0  # 10 API seconds of 20 ms

    poll = asyncio.create_task(raw(fake, "getUpdates", {"timeout": "30"}))
    await asyncio.sleep(0.1)
    assert not poll.done()
    update = fake.push_text(dm, lan, "đây")
    assert (await poll)[1]["result"] == update
    assert loop.time() - start < 1.0  # it answered on the push, not at its timeout

    start = loop.time()
    assert (await raw(fake, "getUpdates"))[0] == 408  # default: 30 seconds
    assert 0.55 <= loop.time() - start < 1.5


async def test_redelivery_is_the_same_message_id(fake: FakeZalo, lan: Obj, dm: Obj) -> None:
    update = fake.push_text(dm, lan, "12 hộ")
    fake.push_raw(update)
    got = [(await raw(fake, "getUpdates", {"timeout": "1"}))[1]["result"] for _ in range(2)]
    assert got == [update, update]


async def test_groups_need_a_bot_that_can_join_them() -> None:
    async with FakeZalo(can_join_groups=False) as fake:
        assert (await raw(fake, "getMe"))[1]["result"]["can_join_groups"] is False
        with pytest.raises(AssertionError, match="cannot join groups"):
            fake.group()
        with pytest.raises(AssertionError, match="cannot join groups"):
            fake.push_text({"id": "g", "chat_type": "GROUP"}, fake.user("Lan"), "hi")


# -- scripted failures ---------------------------------------------------------------------


async def test_scripted_429_then_success(fake: FakeZalo, dm: Obj) -> None:
    fake.fail_next("sendMessage", times=2)
    fake.fail_next("sendMessage", retry_after=7)
    body = {"chat_id": dm["id"], "text": "hi"}
    answers = [await raw(fake, "sendMessage", body) for _ in range(4)]
    assert [status for status, _ in answers] == [429, 429, 429, 200]
    assert answers[0][1] == {
        "ok": False,
        "error_code": 429,
        "description": "Too Many Requests: quota exceeded",
    }
    assert answers[2][1]["parameters"] == {"retry_after": 7}
    assert [m.text for m in fake.sent(dm["id"])] == ["hi"]
    assert [c.status for c in fake.calls_of("sendMessage")] == [429, 429, 429, 200]


async def test_scripted_failure_for_one_chat_only(fake: FakeZalo, lan: Obj, dm: Obj) -> None:
    other = fake.private_chat(fake.user("Hùng"))
    fake.fail_next("sendMessage", status=500, chat_id=other["id"])
    assert (await raw(fake, "sendMessage", {"chat_id": dm["id"], "text": "a"}))[0] == 200
    status, body = await raw(fake, "sendMessage", {"chat_id": other["id"], "text": "b"})
    assert (status, body["description"]) == (500, "Internal Server Error")
    assert (await raw(fake, "sendMessage", {"chat_id": other["id"], "text": "b"}))[0] == 200


async def test_scripted_html_error_page(fake: FakeZalo) -> None:
    fake.fail_next("getMe", status=502, html=True)
    async with (
        aiohttp.ClientSession() as session,
        session.post(f"{fake.base_url}/bot{fake.token}/getMe") as response,
    ):
        assert response.status == 502 and response.content_type == "text/html"
        assert "502 Bad Gateway" in await response.text()


async def test_scripted_hang_outlasts_a_client_timeout(fake: FakeZalo, dm: Obj) -> None:
    fake.fail_next("sendMessage", hang=math.inf)
    with pytest.raises(TimeoutError):
        await raw(fake, "sendMessage", {"chat_id": dm["id"], "text": "hi"}, timeout=0.2)
    fake.fail_next("getMe", status=None, hang=0.1)  # only slow
    assert (await raw(fake, "getMe"))[0] == 200


async def test_scripted_failures_are_for_known_methods() -> None:
    with pytest.raises(ValueError, match="unknown method"):
        FakeZalo().fail_next("sendDocument")


# -- webhook -------------------------------------------------------------------------------


async def test_set_webhook_checks_url_and_secret(fake: FakeZalo) -> None:
    status, body = await raw(fake, "setWebhook", {"url": "http://x.org/z", "secret_token": SECRET})
    assert (status, body["description"]) == (400, "Bad Request: url must be an HTTPS URL")
    for secret in ("short", "x" * 257, "with space!"):
        status, _ = await raw(fake, "setWebhook", {"url": f"{PUBLIC}/zalo", "secret_token": secret})
        assert status == 400
    assert len(take_violations(fake)) == 3
    assert fake.webhook is None


async def test_webhook_info_and_delete(fake: FakeZalo) -> None:
    assert (await raw(fake, "getWebhookInfo"))[1]["result"]["url"] == ""
    _, body = await raw(fake, "setWebhook", {"url": f"{PUBLIC}/zalo", "secret_token": SECRET})
    assert body["result"]["url"] == f"{PUBLIC}/zalo" and body["result"]["updated_at"] > 0
    _, body = await raw(fake, "getWebhookInfo")
    assert body == {
        "ok": True,
        "result": {"url": f"{PUBLIC}/zalo", "updated_at": fake.webhook["updated_at"]},
    }
    _, body = await raw(fake, "deleteWebhook")
    assert body["result"]["url"] == "" and fake.webhook is None
    assert (await raw(fake, "getWebhookInfo"))[1]["result"]["url"] == ""


async def test_webhook_receives_updates_with_the_secret(
    fake: FakeZalo, local: Local, lan: Obj, dm: Obj
) -> None:
    await raw(fake, "setWebhook", {"url": f"{PUBLIC}/zalo", "secret_token": SECRET})
    status, body = await raw(fake, "getUpdates", {"timeout": "1"})
    assert status == 409 and body["description"].startswith("Conflict: ")
    first, second = fake.push_text(dm, lan, "một"), fake.push_text(dm, lan, "hai")
    await fake.wait_for(lambda: len(local.received) == 2)
    assert [body for body, _ in local.received] == [first, second]  # bare, in order
    assert all(headers[SECRET_HEADER] == SECRET for _, headers in local.received)
    assert all(h["Content-Type"] == "application/json" for _, h in local.received)
    assert fake.pending == []


async def test_webhook_bodies_can_be_wrapped(
    fake: FakeZalo, local: Local, lan: Obj, dm: Obj
) -> None:
    fake.wrap_webhook = True
    await raw(fake, "setWebhook", {"url": f"{PUBLIC}/zalo", "secret_token": SECRET})
    update = fake.push_text(dm, lan, "một")
    await fake.wait_for(lambda: local.received)
    assert local.received[0][0] == {"ok": True, "result": update}


async def test_webhook_is_retried_until_200_keeping_order(
    fake: FakeZalo, local: Local, lan: Obj, dm: Obj
) -> None:
    local.statuses = [500, 403]
    await raw(fake, "setWebhook", {"url": f"{PUBLIC}/zalo", "secret_token": SECRET})
    first, second = fake.push_text(dm, lan, "một"), fake.push_text(dm, lan, "hai")
    await fake.wait_for(lambda: len(local.received) == 4)
    assert [body for body, _ in local.received] == [first, first, first, second]
    assert [a.status for a in fake.webhook_attempts_made] == [500, 403, 200, 200]
    assert fake.webhook_dropped == []


async def test_unreachable_webhook_is_given_up_after_its_attempts(
    fake: FakeZalo, lan: Obj, dm: Obj
) -> None:
    fake.route(PUBLIC, "http://127.0.0.1:9")  # nothing listens there
    await raw(fake, "setWebhook", {"url": f"{PUBLIC}/zalo", "secret_token": SECRET})
    update = fake.push_text(dm, lan, "một")
    await fake.wait_for(lambda: fake.webhook_dropped)
    assert fake.webhook_dropped == [update]
    attempts = fake.webhook_attempts_made
    assert len(attempts) == 3 and all(a.status is None and a.error for a in attempts)
    assert attempts[0].url == f"{PUBLIC}/zalo"


async def test_delete_webhook_returns_to_polling(
    fake: FakeZalo, local: Local, lan: Obj, dm: Obj
) -> None:
    local.statuses = [500] * 10
    fake.webhook_attempts = 100
    await raw(fake, "setWebhook", {"url": f"{PUBLIC}/zalo", "secret_token": SECRET})
    update = fake.push_text(dm, lan, "một")
    await fake.wait_for(lambda: local.received)
    await raw(fake, "deleteWebhook")
    status, body = await raw(fake, "getUpdates", {"timeout": "5"})
    assert (status, body["result"]) == (200, update)  # the undelivered update is polled


async def test_setting_a_webhook_ends_a_pending_poll(fake: FakeZalo) -> None:
    poll = asyncio.create_task(raw(fake, "getUpdates", {"timeout": "30"}))
    await asyncio.sleep(0.05)
    await raw(fake, "setWebhook", {"url": f"{PUBLIC}/zalo", "secret_token": SECRET})
    status, body = await poll
    assert (status, body["error_code"]) == (409, 409)


async def test_wait_for_message(fake: FakeZalo, dm: Obj) -> None:
    async def later() -> None:
        await asyncio.sleep(0.05)
        await raw(fake, "sendMessage", {"chat_id": dm["id"], "text": "Đã ghi 12 hộ"})

    task = asyncio.create_task(later())
    assert (await fake.wait_for_message(dm["id"], "12 hộ")).text == "Đã ghi 12 hộ"
    await task
    with pytest.raises(AssertionError, match=r"the bot sent: \['Đã ghi 12 hộ'\]"):
        await fake.wait_for_message(dm["id"], "xyz", timeout=0.1)
