"""A fake Zalo Bot API server for tests, spoken to over real HTTP on 127.0.0.1.

`FakeZalo` serves `POST /bot<token>/<method>` with JSON bodies, as the Zalo Bot Platform
documents it (see docs/zalo.md for the sources and for every choice made where they are
silent). It is strict: a wrong token is a 401, an unknown method a 404, and a call the real
server would refuse or that tiendo should never make (missing or mistyped parameters, an
unknown parameter, a text over 2,000 UTF-16 units, an empty text, a GET) is answered with a
400 whose description starts with "fake:" and is appended to `violations`, so that a test
fails even when the bot swallows the error.

Behaviour that matters to an adapter:
- `getUpdates` long-polls (its `timeout`, in seconds, lasts `second` real seconds each) and
  hands out ONE update per call, which is then gone: there is no offset. With nothing to
  hand out it answers 408. While a webhook is set it answers 409, as Telegram does.
- `setWebhook` switches to webhook mode: each update is POSTed, in order, to the webhook with
  `X-Bot-Api-Secret-Token`, bare or wrapped in `{"ok": true, "result": …}` (`wrap_webhook`),
  and retried with back-off until the webhook answers 200 (or `webhook_attempts` run out).
- `sendPhoto` fetches the photo URL over HTTP (an https URL, which `route` maps to a local
  server) and insists on a PNG; an unreachable URL or anything else is a 400.
- Test controls script failures (`fail_next`: 429, 5xx, an HTML error page, a hang), chats
  that refuse the bot (`refuse`: 403), and read back what the bot sent (`sent`), photo bytes
  included.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from http import HTTPStatus
from types import TracebackType
from typing import Any, TypeVar
from urllib.parse import urlsplit

from aiohttp import ClientSession, ClientTimeout, web

Obj = dict[str, Any]
T = TypeVar("T")

BOT_ID = "1459232241454765289"
TOKEN = f"{BOT_ID}:ZaloFakeTiendoSecret_0123456789abcdef"
SECRET_HEADER = "X-Bot-Api-Secret-Token"
MAX_TEXT = 2000  # in UTF-16 code units, the stricter of the two readings (docs/zalo.md)
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
CHAT_ACTIONS = frozenset({"typing", "upload_photo"})
EVENTS = (
    "message.text.received",
    "message.image.received",
    "message.sticker.received",
    "message.unsupported.received",
)

# Parameters of each method: name → required. Every value is a JSON string, except
# getUpdates' timeout, which the docs type as a string and some clients send as a number.
_METHODS: dict[str, dict[str, bool]] = {
    "getMe": {},
    "getUpdates": {"timeout": False},
    "setWebhook": {"url": True, "secret_token": True},
    "deleteWebhook": {},
    "getWebhookInfo": {},
    "sendMessage": {"chat_id": True, "text": True},
    "sendPhoto": {"chat_id": True, "photo": True, "caption": False},
    "sendSticker": {"chat_id": True, "sticker": True},
    "sendChatAction": {"chat_id": True, "action": True},
}


def utf16_len(text: str) -> int:
    """Length in UTF-16 code units: an emoji outside the BMP counts 2."""
    return len(text.encode("utf-16-le")) // 2


def now_ms() -> int:
    return int(time.time() * 1000)


@dataclass
class Call:
    """One request as the fake received it, and how it was answered (200 or the error code)."""

    method: str
    params: Obj
    status: int = 200


@dataclass
class Sent:
    """A message the bot sent to a chat."""

    chat_id: str
    message_id: str
    date: int
    kind: str  # "text", "photo" or "sticker"
    text: str | None = None
    caption: str | None = None
    photo_url: str | None = None
    photo: bytes | None = None  # the PNG the fake fetched from photo_url
    sticker: str | None = None


@dataclass
class WebhookAttempt:
    """One POST of an update to the webhook: its status, or why there was none."""

    url: str
    update: Obj
    body: Obj
    headers: dict[str, str]
    status: int | None
    error: str | None = None


@dataclass
class _Failure:
    method: str
    status: int | None
    description: str | None
    times: int
    chat_id: str | None
    retry_after: int | None
    hang: float | None
    html: bool


class _ApiError(Exception):
    def __init__(
        self,
        status: int,
        description: str,
        *,
        violation: bool = False,
        parameters: Obj | None = None,
    ) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.violation = violation
        self.parameters = parameters


def _violation(description: str) -> _ApiError:
    return _ApiError(400, description, violation=True)


def error_body(status: int, description: str, parameters: Obj | None = None) -> Obj:
    body: Obj = {"ok": False, "error_code": status, "description": description}
    if parameters:
        body["parameters"] = parameters
    return body


class FakeZalo:
    """The Zalo Bot API on 127.0.0.1: give `base_url` (no trailing slash) and `token` to the
    client, which appends `/bot<token>/<method>`.

    `second` is how many real seconds one API second lasts (getUpdates' `timeout`, webhook
    back-off), so tests can long-poll "30 seconds" in a fraction of one."""

    def __init__(
        self,
        *,
        token: str = TOKEN,
        second: float = 1.0,
        can_join_groups: bool = True,
        wrap_webhook: bool = False,
        errors_with_http_200: bool = False,
        webhook_attempts: int = 5,
        webhook_timeout: float = 5.0,
        fetch_timeout: float = 5.0,
    ) -> None:
        self.token = token
        self.second = second
        self.can_join_groups = can_join_groups
        self.wrap_webhook = wrap_webhook  # both forms are reported in the wild
        self.errors_with_http_200 = errors_with_http_200  # error bodies under HTTP 200
        self.webhook_attempts = webhook_attempts
        self.webhook_timeout = webhook_timeout  # real seconds the fake waits for the webhook
        self.fetch_timeout = fetch_timeout  # real seconds it waits for a photo
        self.base_url = ""
        self.calls: list[Call] = []
        self.violations: list[str] = []
        self.webhook: Obj | None = None  # {"url", "secret_token", "updated_at"} while set
        self.webhook_attempts_made: list[WebhookAttempt] = []
        self.webhook_dropped: list[Obj] = []  # updates given up after webhook_attempts
        self.bot_info: Obj = {
            "id": BOT_ID,
            "account_name": "bot.TiendoTest",
            "account_type": "BASIC",
            "can_join_groups": can_join_groups,
            "display_name": "Tiến Độ",
        }
        self._pending: list[Obj] = []  # not yet handed out (getUpdates) or delivered (webhook)
        self._users: dict[str, Obj] = {}
        self._chats: dict[str, Obj] = {}
        self._refusing: set[str] = set()
        self._sent: dict[str, list[Sent]] = {}
        self._actions: dict[str, list[str]] = {}
        self._failures: list[_Failure] = []
        self._routes: dict[str, str] = {}
        self._ids = itertools.count(0x5A10_0000_0000)
        self._webhook_updated_at = 0
        self._changed = asyncio.Event()
        self._closed = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self._session: ClientSession | None = None
        self._delivery: asyncio.Task[None] | None = None

    # -- server ---------------------------------------------------------------------------

    async def __aenter__(self) -> FakeZalo:
        app = web.Application()
        app.router.add_route("*", "/bot{token}/{method}", self._api)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        port = self._runner.addresses[0][1]
        self.base_url = f"http://127.0.0.1:{port}"
        self._session = ClientSession()
        self._delivery = asyncio.create_task(self._deliver_loop())
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._closed.set()  # ends long polls and hangs, so cleanup does not wait for them
        self._notify()
        if self._delivery is not None:
            self._delivery.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._delivery
        if self._runner is not None:
            await self._runner.cleanup()
        if self._session is not None:
            await self._session.close()

    async def _api(self, request: web.Request) -> web.StreamResponse:
        if request.match_info["token"] != self.token:
            return self._error(_ApiError(401, "Unauthorized"))
        name = request.match_info["method"]
        call = Call(name, {})
        self.calls.append(call)
        try:
            call.params = await self._read(request)
            spec = _METHODS.get(name)
            if spec is None:
                raise _ApiError(404, "Not Found", violation=True)
            self._check_params(spec, call.params)
            scripted = await self._scripted_failure(call)
            if scripted is not None:
                call.status = scripted.status
                return scripted
            handler: Callable[[Obj], Any] = getattr(self, f"_m_{name}")
            result = await handler(call.params)
        except _ApiError as error:
            call.status = error.status
            if error.violation:
                self.violations.append(f"{name}: {error.description}")
                error.description = f"fake: {error.description}"
            return self._error(error)
        except Exception as error:  # a bug in the fake must not pass for a server hiccup
            call.status = 500
            self.violations.append(f"{name}: the fake crashed: {error!r}")
            return self._error(_ApiError(500, f"fake crashed: {error!r}"))
        finally:
            self._notify()
        # sendChatAction answers a bare {"ok": true}, as the docs show.
        return web.json_response({"ok": True} if result is None else {"ok": True, "result": result})

    def _error(self, error: _ApiError) -> web.Response:
        body = error_body(error.status, error.description, error.parameters)
        return web.json_response(body, status=200 if self.errors_with_http_200 else error.status)

    async def _read(self, request: web.Request) -> Obj:
        if request.method != "POST":
            raise _violation(f"{request.method}: Zalo documents POST for every method")
        if not request.body_exists:
            return {}
        if request.content_type != "application/json":
            raise _violation(f"unsupported content type {request.content_type!r}: send JSON")
        try:
            body = await request.json()
        except ValueError:
            raise _violation("the body is not JSON") from None
        if not isinstance(body, dict):
            raise _violation("the JSON body is not an object")
        return body

    def _check_params(self, spec: dict[str, bool], params: Obj) -> None:
        problems = [f"unknown parameter {key!r}" for key in params if key not in spec]
        problems += [
            f"missing required parameter {k!r}"
            for k, req in spec.items()
            if req and k not in params
        ]
        for key, value in params.items():
            if key == "timeout" and key in spec:
                if not _seconds(value):
                    problems.append(f"timeout: expected whole seconds, got {value!r:.80}")
            elif key in spec and not isinstance(value, str):
                problems.append(f"{key}: expected a String, got {value!r:.80}")
        if problems:
            raise _violation("; ".join(problems))

    async def _scripted_failure(self, call: Call) -> web.Response | None:
        for failure in self._failures:
            if failure.method != call.method or failure.chat_id not in (
                None,
                call.params.get("chat_id"),
            ):
                continue
            failure.times -= 1
            if failure.times == 0:
                self._failures.remove(failure)
            if failure.hang is not None:
                # Holds the request (the client's time-out should fire first), then fails it.
                with contextlib.suppress(TimeoutError):
                    timeout = None if math.isinf(failure.hang) else failure.hang
                    await asyncio.wait_for(self._closed.wait(), timeout)
            if failure.status is None:  # only slow: answered normally after the hang
                return None
            status = failure.status
            if failure.html:  # what a proxy in front of the API answers
                page = f"<html><body><h1>{status} {HTTPStatus(status).phrase}</h1></body></html>"
                return web.Response(status=status, text=page, content_type="text/html")
            parameters = {"retry_after": failure.retry_after} if failure.retry_after else None
            description = failure.description or _DEFAULT_DESCRIPTIONS.get(
                status, HTTPStatus(status).phrase
            )
            return self._error(_ApiError(status, description, parameters=parameters))
        return None

    def _notify(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()

    async def _changes(self, timeout: float) -> None:
        """Returns on the next change (update pushed, call handled) or after `timeout`."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._changed.wait(), max(timeout, 0))

    def _new_id(self) -> str:
        return f"{next(self._ids):020x}"  # Zalo ids are 20 hex digits

    # -- test controls: users, chats, updates ---------------------------------------------

    def route(self, public_origin: str, local_origin: str) -> None:
        """Makes the fake reach `public_origin` (e.g. "https://bot.example.org", as in
        `server.public_url`) at `local_origin` (e.g. "http://127.0.0.1:8123"), for webhook
        posts and photo fetches, as DNS and a TLS proxy would in production."""
        self._routes[public_origin.rstrip("/")] = local_origin.rstrip("/")

    def user(self, display_name: str, *, id: str | None = None, is_bot: bool = False) -> Obj:
        user = {"id": id or self._new_id(), "display_name": display_name, "is_bot": is_bot}
        self._users[user["id"]] = user
        return user

    def private_chat(self, user: Obj) -> Obj:
        """The 1:1 chat with `user`: on Zalo its id is the user's id."""
        chat = {"id": user["id"], "chat_type": "PRIVATE"}
        self._chats[chat["id"]] = chat
        return chat

    def group(self, *, id: str | None = None) -> Obj:
        if not self.can_join_groups:
            raise AssertionError("getMe says this bot cannot join groups")
        chat = {"id": id or self._new_id(), "chat_type": "GROUP"}
        self._chats[chat["id"]] = chat
        return chat

    def refuse(self, chat_id: str, refusing: bool = True) -> None:
        """From now on sends to `chat_id` answer 403 (the user blocked the bot, or it was
        removed from the group); `refusing=False` lifts it."""
        (self._refusing.add if refusing else self._refusing.discard)(chat_id)

    def push_text(self, chat: Obj, user: Obj, text: str) -> Obj:
        return self._push("message.text.received", chat, user, {"text": text})

    def push_image(self, chat: Obj, user: Obj, photo_url: str, caption: str | None = None) -> Obj:
        content: Obj = {"photo_url": photo_url}
        if caption is not None:
            content["caption"] = caption
        return self._push("message.image.received", chat, user, content)

    def push_sticker(self, chat: Obj, user: Obj, sticker: str = "d063f44dc80821567819") -> Obj:
        url = f"https://zalo-api.zadn.vn/api/emoticon/sticker/webpc?eid={sticker}"
        return self._push("message.sticker.received", chat, user, {"sticker": sticker, "url": url})

    def push_unsupported(self, chat: Obj, user: Obj) -> Obj:
        """A message Zalo does not pass on to bots (voice, file, location …): no content."""
        return self._push("message.unsupported.received", chat, user, {})

    def push_raw(self, update: Obj) -> Obj:
        """Queues any update as is, e.g. one already pushed, to test a redelivery."""
        self._pending.append(update)
        self._notify()
        return update

    def _push(self, event: str, chat: Obj, user: Obj, content: Obj) -> Obj:
        if chat["chat_type"] == "GROUP" and not self.can_join_groups:
            raise AssertionError("getMe says this bot cannot join groups")
        self._chats.setdefault(chat["id"], chat)
        message = {
            "message_id": self._new_id(),
            "from": dict(user),
            "chat": dict(chat),
            "date": now_ms(),
        }
        return self.push_raw({"event_name": event, "message": message | content})

    @property
    def pending(self) -> list[Obj]:
        """Updates not yet handed out by getUpdates nor delivered to the webhook."""
        return list(self._pending)

    def fail_next(
        self,
        method: str,
        *,
        status: int | None = 429,
        times: int = 1,
        description: str | None = None,
        retry_after: int | None = None,
        hang: float | None = None,
        chat_id: str | None = None,
        html: bool = False,
    ) -> None:
        """The next `times` calls of `method` (to `chat_id` only, if given) fail: with
        `status` (its usual description, or `description`; a 429 carries
        `parameters.retry_after` only if `retry_after` is given, as Zalo is not known to),
        as an HTML page if `html`, after holding the request `hang` real seconds first
        (`math.inf`: until the fake closes) if given; `status=None` with a `hang` is a call
        that is only slow."""
        if method not in _METHODS:
            raise ValueError(f"unknown method {method!r}")
        self._failures.append(
            _Failure(method, status, description, times, chat_id, retry_after, hang, html)
        )

    # -- test controls: what the bot did --------------------------------------------------

    def sent(self, chat_id: str) -> list[Sent]:
        """What the bot sent to `chat_id`, oldest first."""
        return list(self._sent.get(chat_id, []))

    def actions(self, chat_id: str) -> list[str]:
        """The chat actions ("typing" …) the bot sent to `chat_id`, oldest first."""
        return list(self._actions.get(chat_id, []))

    def calls_of(self, method: str) -> list[Call]:
        return [call for call in self.calls if call.method == method]

    async def wait_for(self, predicate: Callable[[], T | None], timeout: float = 5.0) -> T:
        """Waits until `predicate()` is truthy and returns its value; fails after `timeout`."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not (result := predicate()):
            remaining = deadline - loop.time()
            if remaining <= 0:
                recent = [call.method for call in self.calls[-10:]]
                raise AssertionError(f"condition not met within {timeout} s; last calls: {recent}")
            # The bot may change things the fake cannot see (its database), so re-check often.
            await self._changes(min(remaining, 0.05))
        return result

    async def wait_for_message(
        self, chat_id: str, contains: str | None = None, *, timeout: float = 5.0
    ) -> Sent:
        """The newest message to `chat_id` whose text or caption contains `contains`, already
        there or arriving within `timeout`."""

        def found() -> Sent | None:
            for message in reversed(self.sent(chat_id)):
                shown = (message.text or "") + (message.caption or "")
                if contains is None or contains in shown:
                    return message
            return None

        try:
            return await self.wait_for(found, timeout)
        except AssertionError:
            shown = [m.text or m.caption for m in self.sent(chat_id)]
            raise AssertionError(
                f"no message containing {contains!r} in chat {chat_id} within {timeout} s; "
                f"the bot sent: {shown}"
            ) from None

    # -- webhook delivery -----------------------------------------------------------------

    def _local(self, url: str) -> str:
        """Where the fake actually connects for a public URL (see `route`)."""
        for public, local in self._routes.items():
            if url == public or url.startswith(public + "/"):
                return local + url[len(public) :]
        return url

    async def _deliver_loop(self) -> None:
        failures = 0
        while not self._closed.is_set():
            hook = self.webhook
            if hook is None or not self._pending:
                await self._changes(1.0)
                continue
            update = self._pending[0]
            if await self._post_update(hook, update):
                failures = 0
            else:
                failures += 1
                if failures < self.webhook_attempts:
                    await asyncio.sleep(self.second * 2 ** (failures - 1))
                    continue
                failures = 0
                self.webhook_dropped.append(update)
            if self._pending and self._pending[0] is update:
                self._pending.pop(0)
            self._notify()

    async def _post_update(self, hook: Obj, update: Obj) -> bool:
        assert self._session is not None
        body = {"ok": True, "result": update} if self.wrap_webhook else update
        headers = {SECRET_HEADER: hook["secret_token"]}
        attempt = WebhookAttempt(hook["url"], update, body, headers, None)
        self.webhook_attempts_made.append(attempt)
        try:
            async with self._session.post(
                self._local(hook["url"]),
                json=body,
                headers=headers,
                timeout=ClientTimeout(total=self.webhook_timeout),
            ) as response:
                attempt.status = response.status
        except Exception as error:  # refused, reset, timed out: all retried
            attempt.error = f"{type(error).__name__}: {error}"
        finally:
            self._notify()
        return attempt.status == 200

    # -- the Bot API methods ---------------------------------------------------------------

    async def _m_getMe(self, params: Obj) -> Obj:
        return dict(self.bot_info)

    async def _m_getUpdates(self, params: Obj) -> Obj:
        if self.webhook is not None:
            raise _ApiError(
                409,
                "Conflict: getUpdates is unavailable while a webhook is set; "
                "use deleteWebhook first",
            )
        timeout = int(params.get("timeout", 30))  # the documented default
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout * self.second
        while not self._pending and not self._closed.is_set() and loop.time() < deadline:
            await self._changes(deadline - loop.time())
            if self.webhook is not None:
                raise _ApiError(409, "Conflict: a webhook was set")
        if self._pending:
            return self._pending.pop(0)  # handed out: gone, whatever becomes of this answer
        raise _ApiError(408, "Request Timeout")

    async def _m_setWebhook(self, params: Obj) -> Obj:
        url, secret = params["url"], params["secret_token"]
        if urlsplit(url).scheme != "https" or not urlsplit(url).hostname:
            raise _ApiError(400, "Bad Request: url must be an HTTPS URL")
        if not 8 <= len(secret) <= 256 or not all("!" <= c <= "~" for c in secret):
            # The docs say 8-256 characters; it travels in a header, so printable ASCII.
            raise _violation("Bad Request: secret_token must be 8-256 printable ASCII characters")
        self._webhook_updated_at = now_ms()
        self.webhook = {"url": url, "secret_token": secret, "updated_at": self._webhook_updated_at}
        return {"url": url, "updated_at": self._webhook_updated_at}

    async def _m_deleteWebhook(self, params: Obj) -> Obj:
        self.webhook = None
        self._webhook_updated_at = now_ms()
        return {"url": "", "updated_at": self._webhook_updated_at}

    async def _m_getWebhookInfo(self, params: Obj) -> Obj:
        url = self.webhook["url"] if self.webhook else ""
        return {"url": url, "updated_at": self._webhook_updated_at}

    def _chat(self, chat_id: str) -> Obj:
        if chat_id in self._refusing:
            raise _ApiError(403, "Forbidden: the bot cannot send messages to this chat")
        chat = self._chats.get(chat_id)
        if chat is None:
            raise _ApiError(400, "Bad Request: chat not found")
        return chat

    def _check_text(self, key: str, text: str) -> None:
        if not text:
            raise _violation(f"Bad Request: {key} is empty (1-{MAX_TEXT} characters)")
        if utf16_len(text) > MAX_TEXT:
            raise _violation(
                f"Bad Request: {key} is too long ({utf16_len(text)} > {MAX_TEXT} UTF-16 units)"
            )

    def _store(self, sent: Sent) -> Obj:
        self._sent.setdefault(sent.chat_id, []).append(sent)
        return {"message_id": sent.message_id, "date": sent.date}

    async def _m_sendMessage(self, params: Obj) -> Obj:
        chat = self._chat(params["chat_id"])
        self._check_text("text", params["text"])
        return self._store(Sent(chat["id"], self._new_id(), now_ms(), "text", text=params["text"]))

    async def _m_sendPhoto(self, params: Obj) -> Obj:
        chat = self._chat(params["chat_id"])
        caption = params.get("caption")
        if caption is not None:
            self._check_text("caption", caption)
        url = params["photo"]
        data = await self._fetch_photo(url)
        sent = Sent(chat["id"], self._new_id(), now_ms(), "photo", caption=caption, photo_url=url)
        sent.photo = data
        return self._store(sent)

    async def _fetch_photo(self, url: str) -> bytes:
        """Zalo fetches the photo before it answers (docs/zalo.md); so does the fake."""
        assert self._session is not None
        parts = urlsplit(url)
        if parts.scheme != "https" or not parts.hostname:
            raise _ApiError(400, "Bad Request: photo must be an HTTPS URL")
        try:
            async with self._session.get(
                self._local(url), timeout=ClientTimeout(total=self.fetch_timeout)
            ) as response:
                data = await response.read()
                status = response.status
        except Exception as error:  # unreachable, refused, timed out
            raise _ApiError(
                400, f"Bad Request: photo could not be fetched ({type(error).__name__})"
            ) from None
        if status != 200:
            raise _ApiError(400, f"Bad Request: photo could not be fetched (HTTP {status})")
        if not data.startswith(PNG_MAGIC):
            raise _ApiError(400, "Bad Request: photo is not a PNG image")
        return data

    async def _m_sendSticker(self, params: Obj) -> Obj:
        chat = self._chat(params["chat_id"])
        sticker = params["sticker"]
        return self._store(Sent(chat["id"], self._new_id(), now_ms(), "sticker", sticker=sticker))

    async def _m_sendChatAction(self, params: Obj) -> None:
        chat = self._chat(params["chat_id"])
        if params["action"] not in CHAT_ACTIONS:
            raise _violation(
                f"Bad Request: action must be one of {sorted(CHAT_ACTIONS)}, "
                f"got {params['action']!r}"
            )
        self._actions.setdefault(chat["id"], []).append(params["action"])


_DEFAULT_DESCRIPTIONS = {
    403: "Forbidden",
    408: "Request Timeout",
    429: "Too Many Requests: quota exceeded",
    500: "Internal Server Error",
}


def _seconds(value: Any) -> bool:
    """Whether `value` is whole seconds ≥ 0, as a number or a string of digits."""
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return value >= 0
    return isinstance(value, str) and value.isascii() and value.isdigit()
