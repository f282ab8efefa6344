"""A fake Slack for tests, since Slack cannot be reached from here.

`FakeSlack` is a Web API server on 127.0.0.1 that the real slack-sdk clients (and so Bolt) talk
to over HTTP with Slack's wire format; it records what they sent. It also speaks Socket Mode:
`apps.connections.open` hands out a WebSocket URL on the same server, which greets with `hello`,
delivers envelopes and records the app's acknowledgements. `SignedRequests` builds the requests
Slack sends to an app, signed as Slack signs them, to drive a Bolt app over HTTP;
`socket_envelope` turns one of them into what Slack sends over a Socket Mode connection instead.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import itertools
import json
import random
import time
import uuid
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from types import TracebackType
from typing import Any, Self, TypedDict, TypeVar, Unpack
from urllib.parse import parse_qsl, urlencode
from zoneinfo import ZoneInfo

import aiohttp
from aiohttp import web

TEAM_ID = "T0TEST"
TEAM_DOMAIN = "tiendo-test"
BOT_USER_ID = "UBOT"
BOT_ID = "B0BOT"
BOT_TOKEN = "xoxb-test"
APP_TOKEN = "xapp-1-A0TEST-1-test"  # app-level token, for Socket Mode
APP_ID = "A0TEST"
CHANNEL_ID = "C0GENERAL"
USER_ID = "U0ALICE"
SCOPES = "chat:write,commands,files:write,channels:read,groups:read,im:read,users:read"

JSON = dict[str, Any]
T = TypeVar("T")

# Parameters that carry JSON inside a form field or query string.
_JSON_FIELDS = ("attachments", "blocks", "files", "view")


@dataclass(frozen=True)
class Call:
    method: str
    params: JSON


@dataclass
class Message:
    channel: str
    ts: str
    text: str
    blocks: list[JSON] | None = None
    thread_ts: str | None = None
    ephemeral_to: str | None = None  # the one user who sees an ephemeral message
    edited: bool = False


@dataclass(frozen=True)
class Upload:
    file_id: str
    filename: str
    content: bytes
    channel: str | None
    title: str | None
    initial_comment: str | None
    thread_ts: str | None


@dataclass(frozen=True)
class Response:
    """A JSON body posted to a `response_url`, as Bolt's `respond()` does."""

    name: str
    body: JSON


@dataclass(frozen=True)
class Ack:
    """What the app sent back over Socket Mode for one envelope."""

    envelope_id: str
    payload: JSON | None  # e.g. {"response_action": "errors", …} for a view submission


@dataclass(frozen=True)
class _Failure:
    status: int
    error: str
    retry_after: int


@dataclass
class _Storm:
    """Calls that hang until `calm()` (see `FakeSlack.hang`)."""

    methods: frozenset[str]
    share: float
    delivered: bool
    random: random.Random
    over: asyncio.Event = field(default_factory=asyncio.Event)


@dataclass
class _PendingFile:
    filename: str
    content: bytes | None = None  # None until the bytes reach the upload URL


class _ApiError(Exception):
    """Answers a Web API call with {"ok": false, "error": ...}."""


class FakeSlack:
    """One workspace (team T0TEST, bot UBOT, token xoxb-test, app token xapp-1-…) behind a
    local Web API.

    Use as `async with FakeSlack() as fake:` and give clients `base_url=fake.api_url`.
    """

    def __init__(self, *, token: str = BOT_TOKEN, app_token: str = APP_TOKEN) -> None:
        self.token = token
        self.app_token = app_token
        self.calls: list[Call] = []
        self.uploads: list[Upload] = []
        self.responses: list[Response] = []
        self.acks: list[Ack] = []
        self.socket_messages: list[JSON] = []  # everything apps sent over Socket Mode
        self.connections = 0  # Socket Mode connections accepted so far
        self.channels: dict[str, JSON] = {}
        self.users: dict[str, JSON] = {}
        self.base_url = ""
        self._messages: list[Message] = []
        self._views: dict[str, JSON] = {}
        self._files: dict[str, _PendingFile] = {}
        self._failures: defaultdict[str, deque[_Failure]] = defaultdict(deque)
        self._storm: _Storm | None = None
        self._storms: list[_Storm] = []  # ended, their calls still held
        self.hung: list[str] = []  # methods (or "response_url") of calls held by a storm
        self._ids = itertools.count(1)
        self._changed = asyncio.Condition()
        self._tickets: set[str] = set()
        self._sockets: list[web.WebSocketResponse] = []
        self._runner: web.AppRunner | None = None
        self._methods: dict[str, Callable[[JSON], JSON]] = {
            "auth.test": self._auth_test,
            "apps.connections.open": self._connections_open,
            "chat.postMessage": self._post_message,
            "chat.postEphemeral": self._post_ephemeral,
            "chat.update": self._update,
            "views.open": self._views_open,
            "views.update": self._views_update,
            "files.getUploadURLExternal": self._get_upload_url,
            "files.completeUploadExternal": self._complete_upload,
            "conversations.info": self._conversations_info,
            "users.info": self._users_info,
        }
        self.add_channel(CHANNEL_ID, "general")
        self.add_user(USER_ID, "alice", "Alice Nguyễn")
        self.add_user(BOT_USER_ID, "tiendo", "Tiến độ", is_bot=True)

    # --- lifecycle

    async def __aenter__(self) -> Self:
        app = web.Application()
        app.router.add_route("*", "/api/{method}", self._api)
        app.router.add_post("/upload/v1/{file_id}", self._upload)
        app.router.add_post("/response/{name}", self._response)
        app.router.add_get("/link/", self._link)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        self.base_url = f"http://127.0.0.1:{self._runner.addresses[0][1]}"
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._release()  # held calls end, so cleanup does not wait for them
        for socket in list(self._sockets):
            await socket.close()
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def api_url(self) -> str:
        return f"{self.base_url}/api/"

    def response_url(self, name: str) -> str:
        """A `response_url` whose posts land in `responses` under `name`."""
        return f"{self.base_url}/response/{name}"

    # --- workspace

    def add_channel(self, channel_id: str, name: str, *, is_private: bool = False) -> None:
        self.channels[channel_id] = {
            "id": channel_id,
            "name": name,
            "is_channel": not is_private,
            "is_group": is_private,
            "is_im": False,
            "is_private": is_private,
            "is_archived": False,
            "is_member": True,
            "created": 1_700_000_000,
        }

    def add_user(
        self,
        user_id: str,
        name: str,
        real_name: str = "",
        *,
        tz: str = "Asia/Ho_Chi_Minh",
        locale: str = "vi-VN",
        is_bot: bool = False,
    ) -> None:
        offset = datetime.now(ZoneInfo(tz)).utcoffset()
        self.users[user_id] = {
            "id": user_id,
            "team_id": TEAM_ID,
            "name": name,
            "real_name": real_name or name,
            "deleted": False,
            "is_bot": is_bot,
            "tz": tz,
            "tz_offset": int(offset.total_seconds()) if offset else 0,
            "locale": locale,
            "profile": {"real_name": real_name or name, "display_name": name},
        }

    # --- recordings and controls

    def messages(self, channel: str) -> list[Message]:
        """Messages posted (or ephemeral) in `channel` in order; updates change them in place."""
        channel = self._conversation_id(channel) or channel
        return [m for m in self._messages if m.channel == channel]

    @property
    def open_sockets(self) -> int:
        return len(self._sockets)

    @property
    def views(self) -> list[JSON]:
        """Opened views in order, as last updated."""
        return list(self._views.values())

    def fail_next(
        self,
        method: str,
        *,
        error: str | None = None,
        status: int | None = None,
        retry_after: int = 1,
    ) -> None:
        """Makes the next call of `method` fail (calls queue up): by default with HTTP 429 and a
        Retry-After header, as Slack rate-limits; given only `error`, with HTTP 200 and
        {"ok": false, "error": error}, as Slack reports API errors. `method` "response_url"
        fails the next post to a response URL with `status` and `error` as plain text."""
        if status is None:
            status = 200 if error else 429
        default = "ratelimited" if status == 429 else "fatal_error"
        self._failures[method].append(_Failure(status, error or default, retry_after))

    async def wait_for(self, predicate: Callable[[], T], timeout: float = 5) -> T:
        """Waits until `predicate()` is truthy, re-checked after each request, and returns it."""
        async with self._changed:
            try:
                async with asyncio.timeout(timeout):
                    return await self._changed.wait_for(predicate)
            except TimeoutError:
                calls = [c.method for c in self.calls]
                raise AssertionError(f"not seen within {timeout}s; calls: {calls}") from None

    async def wait_for_message(
        self, channel: str, *, contains: str = "", timeout: float = 5
    ) -> Message:
        """The first message in `channel` whose text or blocks contain `contains`."""

        def found() -> Message | None:
            for message in self.messages(channel):
                blocks = json.dumps(message.blocks or [], ensure_ascii=False)
                if contains in message.text or contains in blocks:
                    return message
            return None

        message = await self.wait_for(found, timeout)
        assert message is not None  # wait_for only returns a truthy result
        return message

    # --- HTTP

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        # slack-sdk puts some methods' arguments in the query string even when POSTing.
        params: JSON = {**request.query, **await _body_params(request)}
        for key in _JSON_FIELDS:
            if isinstance(params.get(key), str):
                params[key] = json.loads(params[key])
        # slack-sdk sends the token as a Bearer header; the legacy `token` field still works,
        # except for the app-level token, which Slack only takes from the header.
        auth = request.headers.get("Authorization", "")
        header = auth.removeprefix("Bearer ") if auth.startswith("Bearer ") else None
        field = params.pop("token", None)
        self.calls.append(Call(method, params))
        storm = self._storm_for(method)
        if storm is not None and not storm.delivered:
            await self._hold(method, storm)
            return _error("fatal_error", status=504)
        response = self._answer(method, header or field, params, from_header=bool(header))
        await self._notify()
        if storm is not None:
            await self._hold(method, storm)
        return response

    def _answer(
        self, method: str, token: str | None, params: JSON, *, from_header: bool
    ) -> web.Response:
        if token is None or (token == self.app_token and not from_header):
            return _error("not_authed")
        # apps.connections.open wants the app-level token; everything else the bot token.
        wanted = self.app_token if method == "apps.connections.open" else self.token
        if token != wanted:
            known = token in (self.token, self.app_token)
            return _error("not_allowed_token_type" if known else "invalid_auth")
        if self._failures[method]:
            failure = self._failures[method].popleft()
            headers = {"Retry-After": str(failure.retry_after)} if failure.status == 429 else {}
            return _error(failure.error, status=failure.status, headers=headers)
        handler = self._methods.get(method)
        if handler is None:
            return _error("unknown_method")
        try:
            result = handler(params)
        except _ApiError as error:
            return _error(str(error))
        # Slack lists the token's scopes on every answer; Bolt reads them from auth.test.
        return web.json_response({"ok": True, **result}, headers={"X-OAuth-Scopes": SCOPES})

    async def _upload(self, request: web.Request) -> web.Response:
        pending = self._files.get(request.match_info["file_id"])
        if pending is None:
            return web.Response(status=404, text="file not found")
        if request.content_type == "multipart/form-data":
            parts = [v for v in (await request.post()).values() if isinstance(v, web.FileField)]
            if not parts:
                return web.Response(status=400, text="no file in the form")
            pending.content = parts[0].file.read()
        else:  # slack-sdk's files_upload_v2 POSTs the raw bytes
            pending.content = await request.read()
        await self._notify()
        # files.slack.com answers in plain text; slack-sdk only reads it as text for text/plain.
        return web.Response(text=f"OK - {len(pending.content)}")

    async def _response(self, request: web.Request) -> web.Response:
        storm = self._storm_for("response_url")
        body = await request.json()
        if self._failures["response_url"]:  # hooks.slack.com answers errors in plain text
            failure = self._failures["response_url"].popleft()
            headers = {"Retry-After": str(failure.retry_after)} if failure.status == 429 else {}
            return web.Response(status=failure.status, text=failure.error, headers=headers)
        if storm is not None and not storm.delivered:
            await self._hold("response_url", storm)
            return web.Response(status=504, text="timed out")
        self.responses.append(Response(request.match_info["name"], body))
        await self._notify()
        if storm is not None:
            await self._hold("response_url", storm)
        return web.Response(text="ok")

    def hang(
        self, *methods: str, share: float = 1.0, delivered: bool = False, seed: int = 0
    ) -> None:
        """A time-out storm, until `calm()`: a `share` of the calls of `methods` (Web API
        methods, or "response_url" for posts to a response URL; picked with `seed`) are held
        without an answer, so the client's time-out is what ends them; they are listed in
        `hung`. With `delivered` the call takes effect before it hangs, so a client that tries
        again posts it twice. Held calls stay unanswered after the storm ends, as on a
        dead connection, until the fake closes (then a 504, or the result if `delivered`)."""
        self._end_storm()
        self._storm = _Storm(frozenset(methods), share, delivered, random.Random(seed))

    def calm(self) -> None:
        """Ends every storm: hung calls are let go and scripted failures not yet used are
        dropped, so calls are answered at once again."""
        self._failures.clear()
        self._end_storm()

    def _release(self) -> None:
        self._end_storm()
        for storm in self._storms:
            storm.over.set()

    def _end_storm(self) -> None:
        # Calls already held stay held, as a dead connection would, until the fake closes.
        if self._storm is not None:
            self._storms.append(self._storm)
            self._storm = None

    @property
    def failing(self) -> int:
        """Scripted failures (`fail_next`) not used yet."""
        return sum(len(queue) for queue in self._failures.values())

    def _storm_for(self, method: str) -> _Storm | None:
        storm = self._storm
        if storm is None or method not in storm.methods:
            return None
        return storm if storm.random.random() < storm.share else None

    async def _hold(self, method: str, storm: _Storm) -> None:
        self.hung.append(method)
        await self._notify()
        await storm.over.wait()

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    # --- Socket Mode

    async def send_envelope(self, envelope_type: str, payload: JSON) -> str:
        """Delivers `payload` over the newest Socket Mode connection, as Slack does; returns
        the envelope id to wait for the app's ack with."""
        if not self._sockets:
            raise AssertionError("no Socket Mode connection is open")
        envelope_id = str(uuid.uuid4())
        envelope: JSON = {
            "envelope_id": envelope_id,
            "type": envelope_type,
            "payload": payload,
            # Whether the ack may carry a payload: a slash command's message, a view's
            # response_action. Block actions are answered through their response_url instead.
            "accepts_response_payload": envelope_type == "slash_commands"
            or payload.get("type") == "view_submission",
        }
        if envelope_type == "events_api":  # only events are retried, and say so
            envelope |= {"retry_attempt": 0, "retry_reason": ""}
        await self._sockets[-1].send_json(envelope)
        return envelope_id

    async def wait_for_ack(self, envelope_id: str, timeout: float = 5) -> Ack:
        ack = await self.wait_for(
            lambda: next((a for a in self.acks if a.envelope_id == envelope_id), None), timeout
        )
        assert ack is not None  # wait_for only returns a truthy result
        return ack

    async def disconnect(self, reason: str = "refresh_requested") -> None:
        """Asks the app to reconnect, as Slack does before it recycles a connection."""
        if not self._sockets:
            raise AssertionError("no Socket Mode connection is open")
        message = {"type": "disconnect", "reason": reason, "debug_info": {"host": "fake"}}
        await self._sockets[-1].send_json(message)

    def _connections_open(self, params: JSON) -> JSON:
        ticket = str(uuid.uuid4())
        self._tickets.add(ticket)
        ws_url = self.base_url.replace("http://", "ws://", 1)
        return {"url": f"{ws_url}/link/?ticket={ticket}&app_id={APP_ID}"}

    async def _link(self, request: web.Request) -> web.StreamResponse:
        ticket = request.query.get("ticket", "")
        if ticket not in self._tickets:  # each URL from apps.connections.open works once
            return web.Response(status=401, text="invalid or used ticket")
        self._tickets.remove(ticket)
        socket = web.WebSocketResponse()
        await socket.prepare(request)
        self._sockets.append(socket)
        self.connections += 1
        hello = {
            "type": "hello",
            "num_connections": len(self._sockets),
            "debug_info": {"host": "fake", "build_number": 1, "approximate_connection_time": 18060},
            "connection_info": {"app_id": APP_ID},
        }
        await socket.send_json(hello)
        await self._notify()
        try:
            async for frame in socket:
                if frame.type != aiohttp.WSMsgType.TEXT:
                    continue
                message = json.loads(frame.data)
                self.socket_messages.append(message)
                if "envelope_id" in message:
                    self.acks.append(Ack(message["envelope_id"], message.get("payload")))
                await self._notify()
        finally:
            self._sockets.remove(socket)
            await self._notify()
        return socket

    # --- Web API methods

    def _auth_test(self, params: JSON) -> JSON:
        return {
            "url": f"https://{TEAM_DOMAIN}.slack.com/",
            "team": "Tiendo Test",
            "user": self.users[BOT_USER_ID]["name"],
            "team_id": TEAM_ID,
            "user_id": BOT_USER_ID,
            "bot_id": BOT_ID,
            "is_enterprise_install": False,
        }

    def _post_message(self, params: JSON) -> JSON:
        channel = self._channel_param(params)
        message = Message(channel, self._ts(), *_content(params), thread_ts=params.get("thread_ts"))
        self._messages.append(message)
        return {"channel": channel, "ts": message.ts, "message": _wire(message)}

    def _post_ephemeral(self, params: JSON) -> JSON:
        channel = self._channel_param(params)
        user = params.get("user")
        if user not in self.users:
            raise _ApiError("user_not_in_channel")
        text, blocks = _content(params)
        message = Message(channel, self._ts(), text, blocks, params.get("thread_ts"), user)
        self._messages.append(message)
        return {"message_ts": message.ts}

    def _update(self, params: JSON) -> JSON:
        channel = self._channel_param(params)
        message = next(
            (
                m
                for m in self._messages
                if (m.channel, m.ts) == (channel, params.get("ts")) and m.ephemeral_to is None
            ),
            None,
        )
        if message is None:
            raise _ApiError("message_not_found")
        if "text" not in params and "blocks" not in params:
            raise _ApiError("no_text")
        message.text = params.get("text", message.text)
        message.blocks = params.get("blocks", message.blocks)
        message.edited = True
        return {
            "channel": channel,
            "ts": message.ts,
            "text": message.text,
            "message": _wire(message),
        }

    def _views_open(self, params: JSON) -> JSON:
        view = params.get("view")
        if not params.get("trigger_id") or not isinstance(view, dict) or "type" not in view:
            raise _ApiError("invalid_arguments")
        view_id = f"V{self._next():08d}"
        self._views[view_id] = self._view(view_id, view, root_view_id=view_id)
        return {"view": self._views[view_id]}

    def _views_update(self, params: JSON) -> JSON:
        view, view_id, external_id = (
            params.get("view"),
            params.get("view_id"),
            params.get("external_id"),
        )
        if not isinstance(view, dict) or "type" not in view:
            raise _ApiError("invalid_arguments")
        current = next(
            (
                v
                for v in self._views.values()
                if (view_id and v["id"] == view_id)
                or (external_id and v["external_id"] == external_id)
            ),
            None,
        )
        if current is None:
            raise _ApiError("not_found")
        if params.get("hash") not in (None, current["hash"]):
            raise _ApiError("hash_conflict")
        updated = self._view(current["id"], view, root_view_id=current["root_view_id"])
        self._views[current["id"]] = updated
        return {"view": updated}

    def _get_upload_url(self, params: JSON) -> JSON:
        if not params.get("filename") or not params.get("length"):
            raise _ApiError("invalid_arguments")
        file_id = f"F{self._next():08d}"
        self._files[file_id] = _PendingFile(params["filename"])
        return {"upload_url": f"{self.base_url}/upload/v1/{file_id}", "file_id": file_id}

    def _complete_upload(self, params: JSON) -> JSON:
        files = params.get("files")
        if not isinstance(files, list) or not files:
            raise _ApiError("invalid_arguments")
        channel = self._channel_param(params, "channel_id") if "channel_id" in params else None
        pending = [self._files.get(f.get("id", "")) for f in files]
        if any(p is None or p.content is None for p in pending):
            raise _ApiError("file_not_found")
        answer = []
        for f, p in zip(files, pending, strict=True):
            assert p is not None and p.content is not None  # checked above
            del self._files[f["id"]]
            title = f.get("title")
            self.uploads.append(
                Upload(
                    f["id"],
                    p.filename,
                    p.content,
                    channel,
                    title,
                    params.get("initial_comment"),
                    params.get("thread_ts"),
                )
            )
            answer.append(
                {
                    "id": f["id"],
                    "name": p.filename,
                    "title": title or p.filename,
                    "size": len(p.content),
                }
            )
        return {"files": answer}

    def _conversations_info(self, params: JSON) -> JSON:
        return {"channel": self.channels[self._channel_param(params)]}

    def _users_info(self, params: JSON) -> JSON:
        user = self.users.get(params.get("user", ""))
        if user is None:
            raise _ApiError("user_not_found")
        # Slack only tells the locale when asked; slack-sdk sends booleans as "1"/"0".
        if str(params.get("include_locale")).lower() not in ("1", "true"):
            user = {k: v for k, v in user.items() if k != "locale"}
        return {"user": user}

    # --- helpers

    def _next(self) -> int:
        return next(self._ids)

    def _ts(self) -> str:
        return f"1700000000.{self._next():06d}"

    def _conversation_id(self, channel: str) -> str | None:
        """A channel's id; for a user id, the id of the bot's DM with that user, as Slack does."""
        if channel in self.channels:
            return channel
        if channel in self.users:
            dm = "D" + channel.removeprefix("U")
            self.channels.setdefault(
                dm, {"id": dm, "is_im": True, "user": channel, "is_member": True, "created": 0}
            )
            return dm
        return None

    def _channel_param(self, params: JSON, key: str = "channel") -> str:
        channel = self._conversation_id(str(params.get(key, "")))
        if channel is None:
            raise _ApiError("channel_not_found")
        return channel

    def _view(self, view_id: str, view: JSON, *, root_view_id: str) -> JSON:
        return {
            "callback_id": "",
            "private_metadata": "",
            "external_id": "",
            "blocks": [],
            **view,
            "id": view_id,
            "team_id": TEAM_ID,
            "app_id": APP_ID,
            "bot_id": BOT_ID,
            "state": {"values": {}},
            "hash": f"{self._next()}.hash",
            "root_view_id": root_view_id,
        }


async def _body_params(request: web.Request) -> JSON:
    if request.content_type == "application/json":
        body = await request.json()
        return body if isinstance(body, dict) else {}
    if request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        form = await request.post()
        return {k: v for k, v in form.items() if isinstance(v, str)}
    return {}


def _error(error: str, *, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    return web.json_response({"ok": False, "error": error}, status=status, headers=headers)


def _content(params: JSON) -> tuple[str, list[JSON] | None]:
    text, blocks = params.get("text"), params.get("blocks")
    if not text and not blocks:
        raise _ApiError("no_text")
    return text or "", blocks


def _wire(message: Message) -> JSON:
    """A posted message as Slack returns it."""
    wire: JSON = {
        "type": "message",
        "user": BOT_USER_ID,
        "bot_id": BOT_ID,
        "app_id": APP_ID,
        "team": TEAM_ID,
        "text": message.text,
        "ts": message.ts,
    }
    if message.blocks is not None:
        wire["blocks"] = message.blocks
    if message.thread_ts is not None:
        wire["thread_ts"] = message.thread_ts
    if message.edited:
        wire["edited"] = {"user": BOT_USER_ID, "ts": message.ts}
    return wire


# --- requests from Slack to the app


class SignOptions(TypedDict, total=False):
    secret: str  # sign with another secret, to forge the request
    timestamp: float  # e.g. now() - 360 for a stale request
    retry_num: int  # X-Slack-Retry-Num: Slack redelivering an event
    retry_reason: str  # X-Slack-Retry-Reason, e.g. "http_timeout"


@dataclass(frozen=True)
class SlackRequest:
    body: bytes
    headers: dict[str, str]


class SignedRequests:
    """Builds the HTTP requests Slack sends to an app, signed with `signing_secret`."""

    def __init__(
        self,
        signing_secret: str,
        *,
        now: Callable[[], float] = time.time,
        team_id: str = TEAM_ID,
        api_app_id: str = APP_ID,
        verification_token: str = "deprecated-verification-token",
    ) -> None:
        self.signing_secret = signing_secret
        self.now = now
        self.team_id = team_id
        self.api_app_id = api_app_id
        self.verification_token = verification_token
        self._ids = itertools.count(1)

    def sign(self, body: bytes, content_type: str, **options: Unpack[SignOptions]) -> SlackRequest:
        timestamp = str(int(options.get("timestamp", self.now())))
        secret = options.get("secret", self.signing_secret)
        base = b"v0:" + timestamp.encode() + b":" + body
        headers = {
            "Content-Type": content_type,
            "User-Agent": "Slackbot 1.0 (+https://api.slack.com/robots)",
            "X-Slack-Request-Timestamp": timestamp,
            "X-Slack-Signature": "v0="
            + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest(),
        }
        if "retry_num" in options:
            headers["X-Slack-Retry-Num"] = str(options["retry_num"])
        if "retry_reason" in options:
            headers["X-Slack-Retry-Reason"] = options["retry_reason"]
        return SlackRequest(body, headers)

    def slash_command(
        self,
        command: str = "/report",
        text: str = "12 hộ",
        *,
        user_id: str = USER_ID,
        user_name: str = "alice",
        channel_id: str = CHANNEL_ID,
        channel_name: str = "general",
        team_id: str | None = None,
        trigger_id: str | None = None,
        response_url: str | None = None,
        **options: Unpack[SignOptions],
    ) -> SlackRequest:
        """A slash command; `respond()` needs a `response_url` that works, e.g. the fake's."""
        team_id = team_id or self.team_id
        n = self._next()
        fields = {
            "token": self.verification_token,
            "team_id": team_id,
            "team_domain": TEAM_DOMAIN,
            "channel_id": channel_id,
            "channel_name": channel_name,
            "user_id": user_id,
            "user_name": user_name,
            "command": command,
            "text": text,
            "api_app_id": self.api_app_id,
            "is_enterprise_install": "false",
            "response_url": response_url or f"https://hooks.slack.com/commands/{team_id}/{n}/x",
            "trigger_id": trigger_id or self._trigger_id(n),
        }
        return self._form(fields, **options)

    def block_action(
        self,
        action_id: str,
        value: str = "",
        *,
        block_id: str = "actions",
        user_id: str = USER_ID,
        channel_id: str = CHANNEL_ID,
        message_ts: str = "1700000000.000001",
        response_url: str | None = None,
        trigger_id: str | None = None,
        **options: Unpack[SignOptions],
    ) -> SlackRequest:
        """A click on a button in a message the bot posted."""
        n = self._next()
        payload = {
            "type": "block_actions",
            "user": self._user(user_id),
            "api_app_id": self.api_app_id,
            "token": self.verification_token,
            "container": {
                "type": "message",
                "message_ts": message_ts,
                "channel_id": channel_id,
                "is_ephemeral": False,
            },
            "trigger_id": trigger_id or self._trigger_id(n),
            "team": {"id": self.team_id, "domain": TEAM_DOMAIN},
            "enterprise": None,
            "is_enterprise_install": False,
            "channel": {"id": channel_id, "name": "general"},
            "message": {"type": "message", "user": BOT_USER_ID, "bot_id": BOT_ID, "ts": message_ts},
            "state": {"values": {}},
            "response_url": response_url or f"https://hooks.slack.com/actions/{self.team_id}/{n}/x",
            "actions": [
                {
                    "type": "button",
                    "action_id": action_id,
                    "block_id": block_id,
                    "value": value,
                    "text": {"type": "plain_text", "text": value or action_id},
                    "action_ts": f"{int(self.now())}.{n:06d}",
                }
            ],
        }
        return self._form({"payload": json.dumps(payload)}, **options)

    def view_submission(
        self,
        callback_id: str,
        state_values: JSON | None = None,
        *,
        private_metadata: str = "",
        user_id: str = USER_ID,
        view_id: str = "V00000001",
        **options: Unpack[SignOptions],
    ) -> SlackRequest:
        """A modal's submit; `state_values` is {block_id: {action_id: {"type", "value"…}}}."""
        n = self._next()
        payload = {
            "type": "view_submission",
            "team": {"id": self.team_id, "domain": TEAM_DOMAIN},
            "user": self._user(user_id),
            "api_app_id": self.api_app_id,
            "token": self.verification_token,
            "trigger_id": self._trigger_id(n),
            "view": {
                "id": view_id,
                "team_id": self.team_id,
                "type": "modal",
                "callback_id": callback_id,
                "private_metadata": private_metadata,
                "state": {"values": state_values or {}},
                "hash": f"{n}.hash",
                "root_view_id": view_id,
                "app_id": self.api_app_id,
                "bot_id": BOT_ID,
                "blocks": [],
            },
            "response_urls": [],
            "enterprise": None,
            "is_enterprise_install": False,
        }
        return self._form({"payload": json.dumps(payload)}, **options)

    def event(
        self, event: JSON, *, event_id: str | None = None, **options: Unpack[SignOptions]
    ) -> SlackRequest:
        """An Events API delivery of `event` (e.g. {"type": "app_mention", …})."""
        n = self._next()
        envelope = {
            "token": self.verification_token,
            "team_id": self.team_id,
            "api_app_id": self.api_app_id,
            "event": event,
            "type": "event_callback",
            "event_id": event_id or f"Ev{n:08d}",
            "event_time": int(self.now()),
            "authorizations": [
                {
                    "enterprise_id": None,
                    "team_id": self.team_id,
                    "user_id": BOT_USER_ID,
                    "is_bot": True,
                    "is_enterprise_install": False,
                }
            ],
            "is_ext_shared_channel": False,
        }
        return self._json(envelope, **options)

    def url_verification(
        self,
        challenge: str = "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P",
        **options: Unpack[SignOptions],
    ) -> SlackRequest:
        body = {
            "token": self.verification_token,
            "challenge": challenge,
            "type": "url_verification",
        }
        return self._json(body, **options)

    @staticmethod
    async def send(target: aiohttp.ClientSession | str, request: SlackRequest) -> tuple[int, Any]:
        """POSTs `request` and returns (status, JSON body or text). `target` is the app's events
        URL, or a session made with `base_url=` the app's server (then "/slack/events")."""
        if isinstance(target, str):
            async with aiohttp.ClientSession() as session:
                return await _post(session, target, request)
        return await _post(target, "/slack/events", request)

    def _next(self) -> int:
        return next(self._ids)

    def _trigger_id(self, n: int) -> str:
        return f"{int(self.now())}.{n}.{n:032x}"

    def _user(self, user_id: str) -> JSON:
        return {
            "id": user_id,
            "username": user_id.lower(),
            "name": user_id.lower(),
            "team_id": self.team_id,
        }

    def _form(self, fields: dict[str, str], **options: Unpack[SignOptions]) -> SlackRequest:
        return self.sign(urlencode(fields).encode(), "application/x-www-form-urlencoded", **options)

    def _json(self, body: JSON, **options: Unpack[SignOptions]) -> SlackRequest:
        return self.sign(json.dumps(body).encode(), "application/json", **options)


def socket_envelope(request: SlackRequest) -> tuple[str, JSON]:
    """The envelope type and payload Slack sends over Socket Mode for what it would otherwise
    POST as `request`: the same fields, as a JSON object instead of a form."""
    if request.headers["Content-Type"] == "application/json":
        return "events_api", json.loads(request.body)
    fields = dict(parse_qsl(request.body.decode(), keep_blank_values=True))
    if "payload" in fields:
        return "interactive", json.loads(fields["payload"])
    return "slash_commands", fields


async def _post(session: aiohttp.ClientSession, url: str, request: SlackRequest) -> tuple[int, Any]:
    async with session.post(url, data=request.body, headers=request.headers) as response:
        if response.content_type == "application/json":
            return response.status, await response.json()
        return response.status, await response.text()
