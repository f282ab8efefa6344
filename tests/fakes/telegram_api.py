"""A fake Telegram Bot API server for tests, spoken to over real HTTP by python-telegram-bot.

`FakeTelegram` serves `POST|GET /bot<token>/<method>` (form, multipart or JSON bodies, as the
real server does) and `GET /file/bot<token>/<file_path>` on 127.0.0.1. Every request is checked
against the published Bot API spec (`telegram-bot-api-10.1.json`): unknown methods or
parameters, missing required ones, values of the wrong type and inputs Telegram always rejects
(bad HTML, over-long text, invalid commands or buttons) are answered with a 400 whose description
starts with "fake:" and are appended to `violations`, so a test fails even when the bot swallows
the error. Everything the fake builds (updates, results) is checked against the spec too.
"""

from __future__ import annotations

import asyncio
import contextlib
import html
import json
import mimetypes
import random
import re
import struct
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from http import HTTPStatus
from pathlib import Path
from types import TracebackType
from typing import Any, TypedDict, TypeVar

from aiohttp import ClientSession, web

Obj = dict[str, Any]
T = TypeVar("T")

SPEC_PATH = Path(__file__).with_name("telegram-bot-api-10.1.json")
BOT_ID = 7_000_000_001
BOT_USERNAME = "tiendo_test_bot"
TOKEN = f"{BOT_ID}:AAFakeTiendoTestToken_0123456789abcdef"

_PRIMITIVES: dict[str, Callable[[Any], bool]] = {
    "Integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "Float": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
    "String": lambda v: isinstance(v, str),
    "Boolean": lambda v: isinstance(v, bool),
}
# In the spec every discriminator (type/status/source of a subtype) is described this way.
_CONSTANT = re.compile(r'(?:, always|, must be) "?([a-z0-9_]+)"?$')
_ATTACH = re.compile(r"attach://([\w-]+)")
_HTML_TAGS = {"a", "b", "blockquote", "code", "del", "em", "i", "ins", "pre", "s", "span"}
_HTML_TAGS |= {"strike", "strong", "tg-emoji", "tg-spoiler", "tg-time", "u"}
# The entity type of each tag whose entity needs no attributes (see _html_entity).
_HTML_ENTITIES = {"b": "bold", "strong": "bold", "i": "italic", "em": "italic"}
_HTML_ENTITIES |= {"u": "underline", "ins": "underline", "s": "strikethrough"}
_HTML_ENTITIES |= {"strike": "strikethrough", "del": "strikethrough", "tg-spoiler": "spoiler"}
_HTML_ENTITIES |= {"span": "spoiler", "code": "code", "pre": "pre", "blockquote": "blockquote"}
_HTML_ATTRIBUTE = re.compile(r"""([\w-]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+)))?""")
_CHAT_ACTIONS = {"typing", "upload_photo", "record_video", "upload_video", "record_voice"}
_CHAT_ACTIONS |= {"upload_voice", "upload_document", "choose_sticker", "find_location"}
_CHAT_ACTIONS |= {"record_video_note", "upload_video_note"}
# What getUpdates delivers when allowed_updates is empty or was never given.
_NOT_BY_DEFAULT = {"chat_member", "message_reaction", "message_reaction_count"}
_NOT_ACTIONS = {"text", "icon_custom_emoji_id", "style"}  # button fields that are not its action


class Spec:
    """The Bot API spec, and the one checker used for requests, updates and results alike."""

    def __init__(self, path: Path = SPEC_PATH) -> None:
        data = json.loads(path.read_text(encoding="utf-8"))
        self.methods: dict[str, Obj] = {name.lower(): m for name, m in data["methods"].items()}
        self.types: dict[str, Obj] = data["types"]

    def check(self, types: Sequence[str], value: Any, where: str) -> list[str]:
        """What is wrong with `value` as any one of `types` (e.g. "Array of Message"); [] if
        nothing. For a union, the problems of the closest alternative."""
        best: list[str] | None = None
        for name in types:
            problems = self._check_one(name, value, where)
            if not problems:
                return []
            if best is None or len(problems) < len(best):
                best = problems
        return best or []

    def _check_one(self, name: str, value: Any, where: str) -> list[str]:
        if name.startswith("Array of "):
            if not isinstance(value, list):
                return [f"{where}: expected {name}, got {value!r:.80}"]
            item = name.removeprefix("Array of ")
            return [p for i, v in enumerate(value) for p in self.check([item], v, f"{where}[{i}]")]
        if name in _PRIMITIVES:
            return (
                [] if _PRIMITIVES[name](value) else [f"{where}: expected {name}, got {value!r:.80}"]
            )
        spec = self.types[name]
        if "subtypes" in spec:
            return self.check(spec["subtypes"], value, where)
        if "fields" not in spec:  # placeholders such as CallbackGame or InputFile
            return []
        if not isinstance(value, dict):
            return [f"{where}: expected a {name} object, got {value!r:.80}"]
        fields = {f["name"]: f for f in spec["fields"]}
        problems = [f"{where}: {name} has no field {key!r}" for key in value if key not in fields]
        for key, f in fields.items():
            if key not in value:
                if f["required"]:
                    problems.append(f"{where}: {name} lacks required field {key!r}")
                continue
            problems += self.check(f["types"], value[key], f"{where}.{key}")
            constant = _CONSTANT.search(f["description"])
            if constant and value[key] != constant[1]:
                problems.append(f"{where}.{key}: must be {constant[1]!r} in {name}")
        return problems

    def decode(self, types: Sequence[str], raw: str, where: str) -> tuple[Any, list[str]]:
        """A request parameter, always a string on the wire, as the first of `types` it can be:
        strings stay strings, everything else is JSON ("42", "true", '{"inline_keyboard": …}')."""
        problems: list[str] = []
        for name in types:
            if name == "String":
                return raw, []
            if name == "InputFile":
                if raw.startswith("attach://"):
                    return raw, []
                continue
            try:
                value = json.loads(raw)
            except ValueError:
                continue
            found = self.check([name], value, where)
            if not found:
                return value, []
            problems += found
        return raw, problems or [f"{where}: expected {' or '.join(types)}, got {raw!r:.80}"]

    def check_call(self, method: Obj, raw: dict[str, str | Upload]) -> tuple[Obj, list[str]]:
        """The decoded parameters of a call and what is wrong with them."""
        fields = {f["name"]: f for f in method.get("fields", [])}
        attached = {ref for v in raw.values() if isinstance(v, str) for ref in _ATTACH.findall(v)}
        params: Obj = {}
        problems: list[str] = []
        for key, value in raw.items():
            if isinstance(value, Upload) and key in attached:
                continue  # an attach:// part, reachable through Call.files
            if key not in fields:
                problems.append(f"unknown parameter {key!r}")
                params[key] = value
            elif isinstance(value, Upload):
                if "InputFile" not in fields[key]["types"]:
                    problems.append(f"{key}: a file was uploaded, expected {fields[key]['types']}")
                params[key] = value
            else:
                params[key], found = self.decode(fields[key]["types"], value, key)
                problems += found
        problems += [
            f"missing required parameter {k!r}"
            for k, f in fields.items()
            if f["required"] and k not in raw
        ]
        problems += [
            f"attach://{ref} names no uploaded file part"
            for ref in sorted(attached)
            if not isinstance(raw.get(ref), Upload)
        ]
        return params, problems

    def filled(self, name: str, **given: Any) -> Obj:
        """A `name` object with `given` fields and neutral values for its other required
        scalars (False, 0), for results whose details tests do not care about."""
        neutral = {"Boolean": False, "Integer": 0}
        obj = {
            f["name"]: neutral[f["types"][0]]
            for f in self.types[name]["fields"]
            if f["required"] and f["types"][0] in neutral
        }
        return obj | given

    def subtype_for(self, abstract: str, key: str, value: str) -> str:
        """The subtype of `abstract` whose discriminator `key` is `value`."""
        for name in self.types[abstract]["subtypes"]:
            for f in self.types[name]["fields"]:
                constant = _CONSTANT.search(f["description"])
                if f["name"] == key and constant and constant[1] == value:
                    return name
        raise ValueError(f"no {abstract} has {key}={value!r}")


SPEC = Spec()


@dataclass(frozen=True)
class Upload:
    """A file part of a multipart request."""

    filename: str
    content_type: str
    data: bytes


@dataclass
class Call:
    """One request as the fake received it: parameters decoded by the spec (file parameters
    as `Upload`), every file part by its part name, and the request's content type."""

    method: str
    params: Obj
    files: dict[str, Upload]
    content_type: str


class SentMessage(TypedDict):
    """A message the bot sent, in its current state (after edits)."""

    chat: Obj
    message_id: int
    text: str | None  # as shown: HTML tags removed, entities unescaped
    caption: str | None
    reply_markup: Obj | None  # as sent, any keyboard kind; None once removed
    photo: bytes | None
    document: bytes | None
    file_name: str | None
    params: Obj  # parameters of the call that sent or last edited it
    message: Obj  # the Message object the bot got back


def labels(message: SentMessage) -> list[str]:
    """The labels of the buttons under `message`, row by row."""
    rows = (message["reply_markup"] or {}).get("inline_keyboard", [])
    return [b["text"] for row in rows for b in row]


def button(message: SentMessage, label: str) -> str:
    """The callback data of the button labelled `label` under `message` (what a user presses
    is a label; the data is the bot's business)."""
    rows = (message["reply_markup"] or {}).get("inline_keyboard", [])
    found = [b["callback_data"] for row in rows for b in row if b["text"] == label]
    assert found, f"no button {label!r} under {message['text']!r}; there are {labels(message)}"
    return found[0]


@dataclass
class _File:
    file_id: str
    unique_id: str
    path: str
    name: str
    mime: str
    data: bytes

    def as_file(self) -> Obj:
        return {
            "file_id": self.file_id,
            "file_unique_id": self.unique_id,
            "file_size": len(self.data),
            "file_path": self.path,
        }


@dataclass
class _Stored:
    wire: Obj
    from_bot: bool
    markup: Obj | None = None
    file: _File | None = None
    params: Obj = field(default_factory=dict)


@dataclass
class _Storm:
    """Calls that hang until `calm()`: the request is read and not answered, for longer than
    any client waits. If `delivered`, the call takes effect first (the message is in the chat
    and only its answer is lost, as when a response times out on the way back)."""

    methods: frozenset[str]
    share: float
    delivered: bool
    random: random.Random
    over: asyncio.Event = field(default_factory=asyncio.Event)


@dataclass
class _Failure:
    method: str
    status: int
    description: str
    parameters: Obj
    times: int
    chat_id: int | str | None


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


def _utf16(text: str) -> int:
    """Telegram measures text (lengths, entity offsets) in UTF-16 code units."""
    return len(text.encode("utf-16-le")) // 2


def _html_entity(name: str, attributes: str, offset: int) -> Obj | None:
    """The entity an HTML start tag opens (None for a tag that formats nothing), or the error
    Telegram gives for its attributes."""
    attrs = {
        m[1].lower(): html.unescape(next((v for v in m.groups()[1:] if v is not None), ""))
        for m in _HTML_ATTRIBUTE.finditer(attributes)
    }
    if name == "a":
        return {"type": "text_link", "url": attrs["href"]} if attrs.get("href") else None
    if name == "span" and attrs.get("class") != "tg-spoiler":
        raise _violation(
            f'Bad Request: can\'t parse entities: Tag "span" must have class "tg-spoiler" '
            f"at byte offset {offset}"
        )
    if name == "code" and attrs.get("class", "").startswith("language-"):
        return {"type": "code", "language": attrs["class"].removeprefix("language-")}
    if name == "blockquote" and "expandable" in attrs:
        return {"type": "expandable_blockquote"}
    if name == "tg-emoji":
        if not attrs.get("emoji-id"):
            raise _violation("Bad Request: can't parse entities: Custom emoji identifier expected")
        return {"type": "custom_emoji", "custom_emoji_id": attrs["emoji-id"]}
    if name == "tg-time":
        if not attrs.get("unix", "").isdigit():
            raise _violation("Bad Request: can't parse entities: Unix time expected in tg-time")
        entity: Obj = {"type": "date_time", "unix_time": int(attrs["unix"])}
        return entity | ({"date_time_format": attrs["format"]} if "format" in attrs else {})
    return {"type": _HTML_ENTITIES[name]}


def _render_html(text: str) -> tuple[str, list[Obj]]:
    """The text an HTML-formatted message shows and its formatting entities (offsets in UTF-16
    units, as Telegram returns them), or the error Telegram gives for it: every `<` must open or
    close a supported tag, properly nested (a bare `&` or `>` is tolerated)."""
    shown: list[str] = []
    entities: list[Obj] = []
    stack: list[tuple[str, int, Obj | None]] = []  # open tags: name, start, entity
    pos = units = 0
    for tag in re.finditer(r"<(/?)([^\s>]*)([^>]*)(>?)", text):
        closing, name, attributes, end = tag.groups()
        name = name.lower()
        offset = len(text[: tag.start()].encode())
        kind = "end" if closing else "start"
        # As Telegram: the name runs to a space or `>`; a name cut by the end of the text is
        # unclosed, a complete one must be supported, and then the tag must end.
        if not end and not attributes:
            raise _violation(
                f"Bad Request: can't parse entities: Unclosed {kind} tag at byte offset {offset}"
            )
        if name not in _HTML_TAGS:
            raise _violation(
                f'Bad Request: can\'t parse entities: Unsupported {kind} tag "{name}" '
                f"at byte offset {offset}"
            )
        if not end:
            raise _violation(
                f"Bad Request: can't parse entities: Unclosed {kind} tag at byte offset {offset}"
            )
        # Entities are unescaped before measuring: "&lt;" is one character on screen.
        segment = html.unescape(text[pos : tag.start()])
        shown.append(segment)
        units += _utf16(segment)
        pos = tag.end()
        if not closing:
            stack.append((name, units, _html_entity(name, attributes, offset)))
            continue
        if not stack:
            raise _violation(
                f"Bad Request: can't parse entities: Unexpected end tag at byte offset {offset}"
            )
        if stack[-1][0] != name:
            raise _violation(
                f"Bad Request: can't parse entities: Unmatched end tag at byte offset {offset}, "
                f'expected "</{stack[-1][0]}>", found "</{name}>"'
            )
        _, start, entity = stack.pop()
        if entity is None or units == start:
            continue
        if name == "code" and stack and stack[-1][0] == "pre":
            # <pre><code class="language-x">…</code></pre> is one pre entity with a language.
            pre = stack[-1][2]
            if pre is not None and "language" in entity:
                pre["language"] = entity["language"]
            continue
        fields = {k: v for k, v in entity.items() if k not in ("type", "language")}
        if entity["type"] == "pre" and "language" in entity:
            fields["language"] = entity["language"]
        entities.append({"type": entity["type"], "offset": start, "length": units - start} | fields)
    if stack:
        raise _violation(
            f"Bad Request: can't parse entities: Can't find end tag corresponding to start tag \""
            f'{stack[-1][0]}"'
        )
    shown.append(html.unescape(text[pos:]))
    entities.sort(key=lambda e: (e["offset"], -e["length"]))  # outer before inner, as Telegram
    return "".join(shown), entities


def _formatted(params: Obj, key: str, limit: int, *, required: bool) -> Obj:
    """`params[key]` (text or caption) as Telegram would show it, enforcing its limits:
    `{key: shown, entities_key: entities or None}`, or {} for an absent or empty caption."""
    entities_key = "entities" if key == "text" else f"{key}_entities"
    if key not in params and not required:
        return {}
    parse_mode = params.get("parse_mode")
    if parse_mode is not None and parse_mode.lower() not in ("html", "markdown", "markdownv2"):
        raise _violation(f"Bad Request: unsupported parse_mode {parse_mode!r}")
    raw = params.get(key, "")
    if parse_mode and parse_mode.lower() == "html":
        full, entities = _render_html(raw)
    else:  # Markdown is not parsed by the fake: its text is shown as sent
        full, entities = raw, list(params.get(entities_key) or [])
    # Telegram trims the text; entities move with it and are cut to what is left.
    shown = full.strip()
    lead, length = _utf16(full) - _utf16(full.lstrip()), _utf16(shown)
    trimmed = []
    for entity in entities:
        start = max(entity["offset"] - lead, 0)
        end = min(entity["offset"] + entity["length"] - lead, length)
        if end > start:
            trimmed.append(entity | {"offset": start, "length": end - start})
    if required and not shown:
        raise _violation("Bad Request: message text is empty")
    if length > limit:
        what = "message caption" if key == "caption" else "message"
        raise _violation(f"Bad Request: {what} is too long ({length} > {limit})")
    return {key: shown, entities_key: trimmed or None} if shown else {}


def _inline_keyboard(markup: Obj | None) -> Obj | None:
    """The inline keyboard a message carries after being sent with `markup`, if any."""
    if not markup or not markup.get("inline_keyboard"):
        return None
    for row in markup["inline_keyboard"]:
        for button in row:
            actions = set(button) - _NOT_ACTIONS
            if len(actions) != 1:
                raise _violation(
                    f"Bad Request: button {button.get('text')!r} needs exactly one action "
                    f"field, has {sorted(actions)}"
                )
            if "callback_data" in button and not 1 <= len(button["callback_data"].encode()) <= 64:
                raise _violation("Bad Request: BUTTON_DATA_INVALID (callback_data: 1-64 bytes)")
    return markup


def _with_entities(key: str, text: str) -> Obj:
    """`{key: entities}` for a leading /command and @mentions in `text`, as Telegram computes
    them (in UTF-16 units), or {} when there are none: Telegram omits empty lists."""
    spans = []
    if command := re.match(r"/\w{1,64}(?:@\w{5,32})?", text, re.ASCII):
        spans.append(("bot_command", 0, command.end()))
    mentions = re.finditer(r"(?<![\w@/])@\w{5,32}", text, re.ASCII)
    spans += [("mention", m.start(), m.end()) for m in mentions]
    entities = [
        {"type": kind, "offset": _utf16(text[:start]), "length": _utf16(text[start:end])}
        for kind, start, end in spans
    ]
    return {key: entities} if entities else {}


def _image_size(data: bytes) -> tuple[int, int]:
    """Width and height of a PNG (charts are PNG); 0 × 0 for anything else."""
    if data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) >= 24:
        width, height = struct.unpack(">II", data[16:24])
        return width, height
    return 0, 0


def _error_body(status: int, description: str, parameters: Obj | None = None) -> Obj:
    body: Obj = {"ok": False, "error_code": status, "description": description}
    if parameters:
        body["parameters"] = parameters
    return body


class FakeTelegram:
    """The Bot API on 127.0.0.1: give `base_url` and `base_file_url` to PTB's `Bot`."""

    token = TOKEN
    username = BOT_USERNAME

    def __init__(self) -> None:
        self.calls: list[Call] = []
        self.violations: list[str] = []
        self.webhook: Obj = {"url": ""}  # parameters of the last setWebhook
        self.commands: dict[tuple[str, str], list[Obj]] = {}  # (scope, language_code) → list
        self.base_url = ""
        self.base_file_url = ""
        self.bot_user: Obj = {
            "id": BOT_ID,
            "is_bot": True,
            "first_name": "Tiendo Test",
            "username": BOT_USERNAME,
        }
        # Awaited once a call succeeded, before the bot has its answer: a test acts at the
        # moment a message is sent and the bot does not know it yet.
        self.before_answer: Callable[[Call], Awaitable[None]] | None = None
        self._updates: list[Obj] = []  # not yet confirmed by a getUpdates offset
        self._last_update_id = 0
        self._allowed_updates: list[str] = []
        self._users: dict[int, Obj] = {}
        self._chats: dict[int, Obj] = {}
        self._history: dict[int, list[_Stored]] = {}
        self._last_message_id: dict[int, int] = {}
        self._files: dict[str, _File] = {}
        self._paths: dict[str, _File] = {}
        self._open_callbacks: set[str] = set()
        self._failures: list[_Failure] = []
        self._storm: _Storm | None = None
        self._storms: list[_Storm] = []  # ended, their calls still held
        self.hung: list[Call] = []  # calls held unanswered by a storm (see `hang`)
        self._migrated: dict[int, int] = {}
        self._members: dict[tuple[int, int], str] = {}
        self._counter = 0
        self._changed = asyncio.Event()
        self._poller = 0
        self._closing = False
        self._runner: web.AppRunner | None = None
        self._handlers: dict[str, Callable[[Call], Awaitable[Any]]] = {
            "getMe": self._get_me,
            "logOut": self._true,
            "close": self._true,
            "getUpdates": self._get_updates,
            "setWebhook": self._set_webhook,
            "deleteWebhook": self._delete_webhook,
            "getWebhookInfo": self._get_webhook_info,
            "setMyCommands": self._set_my_commands,
            "getMyCommands": self._get_my_commands,
            "deleteMyCommands": self._delete_my_commands,
            "sendMessage": self._send_message,
            "editMessageText": self._edit_message_text,
            "editMessageReplyMarkup": self._edit_message_reply_markup,
            "deleteMessage": self._delete_message,
            "answerCallbackQuery": self._answer_callback_query,
            "sendPhoto": self._send_photo,
            "sendDocument": self._send_document,
            "sendMediaGroup": self._send_media_group,
            "sendChatAction": self._send_chat_action,
            "getFile": self._get_file,
            "getChat": self._get_chat,
            "getChatMember": self._get_chat_member,
        }

    # -- server ---------------------------------------------------------------------------

    async def __aenter__(self) -> FakeTelegram:
        app = web.Application(client_max_size=60 * 2**20)  # Telegram takes uploads up to 50 MB
        app.router.add_route("*", "/bot{token}/{method}", self._api)
        app.router.add_get("/file/bot{token}/{path:.+}", self._download)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        port = self._runner.addresses[0][1]
        self.base_url = f"http://127.0.0.1:{port}/bot"
        self.base_file_url = f"http://127.0.0.1:{port}/file/bot"
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._closing = True  # ends pending long polls, so cleanup does not wait for them
        self._release()  # and held calls
        self._notify()
        if self._runner is not None:
            await self._runner.cleanup()

    async def _api(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return web.json_response(_error_body(401, "Unauthorized"), status=401)
        raw, files, problems = await self._read(request)
        method = SPEC.methods.get(request.match_info["method"].lower())  # case-insensitive
        name = method["name"] if method else request.match_info["method"]
        params: Obj = dict(raw)
        if method is None:
            problems.append(f"unknown method {name!r}")
        else:
            params, found = SPEC.check_call(method, raw)
            problems += found
        call = Call(name, params, files, request.content_type if request.body_exists else "")
        self.calls.append(call)
        storm = self._storm_for(call)
        if storm is not None and not storm.delivered:
            await self._hold(call, storm)
            return web.json_response(_error_body(504, "Gateway Timeout"), status=504)
        try:
            result = await self._handle(call, method, problems)
            if storm is not None:
                await self._hold(call, storm)
        except _ApiError as error:
            description = error.description
            if error.violation:
                self.violations.append(f"{name}: {description}")
                description = f"fake: {description}"
            body = _error_body(error.status, description, error.parameters)
            return web.json_response(body, status=error.status)
        except Exception as error:  # a bug in the fake must not pass for a network hiccup
            self.violations.append(f"{name}: the fake crashed: {error!r}")
            return web.json_response(_error_body(500, f"fake crashed: {error!r}"), status=500)
        finally:
            self._notify()
        if self.before_answer is not None:
            await self.before_answer(call)
        return web.json_response({"ok": True, "result": result})

    async def _handle(self, call: Call, method: Obj | None, problems: list[str]) -> Any:
        if method is None or problems:
            raise _violation("; ".join(problems))
        self._scripted_failure(call)
        handler = self._handlers.get(call.method)
        if handler is None:
            raise _violation(f"{call.method} is not implemented by the fake")
        result = await handler(call)
        self._check_built(method["returns"], result, f"{call.method} result")
        return result

    async def _read(
        self, request: web.Request
    ) -> tuple[dict[str, str | Upload], dict[str, Upload], list[str]]:
        raw: dict[str, str | Upload] = dict(request.query)  # Telegram reads the query string too
        files: dict[str, Upload] = {}
        problems: list[str] = []
        if not request.body_exists:
            return raw, files, problems
        if request.content_type == "application/json":
            try:
                body = await request.json()
            except ValueError:
                body = None
            if not isinstance(body, dict):
                return raw, files, ["the JSON body is not an object"]
            # Telegram turns JSON fields into the same strings a form would carry.
            raw |= {
                k: v if isinstance(v, str) else json.dumps(v)
                for k, v in body.items()
                if v is not None
            }
        elif request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
            for key, value in (await request.post()).items():
                if isinstance(value, web.FileField):
                    files[key] = Upload(value.filename, value.content_type, value.file.read())
                    raw[key] = files[key]
                else:
                    raw[key] = value.decode() if isinstance(value, bytes) else value
        else:
            problems.append(f"unsupported content type {request.content_type!r}")
        return raw, files, problems

    async def _download(self, request: web.Request) -> web.Response:
        file = self._paths.get(request.match_info["path"])
        if request.match_info["token"] != self.token or file is None:
            return web.json_response(_error_body(404, "Not Found"), status=404)
        return web.Response(body=file.data, content_type="application/octet-stream")

    def _check_built(self, types: Sequence[str], value: Any, where: str) -> None:
        self.violations += [
            f"fake built a bad {where}: {p}" for p in SPEC.check(types, value, where)
        ]

    def _notify(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()

    async def _changes(self, timeout: float) -> None:
        """Returns on the next change (update pushed, call handled) or after `timeout`."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._changed.wait(), timeout)

    def _next(self) -> int:
        self._counter += 1
        return self._counter

    # -- test controls: users, chats, files, updates --------------------------------------

    def user(
        self,
        id: int,
        first_name: str,
        language_code: str | None = "vi",
        username: str | None = None,
    ) -> Obj:
        user: Obj = {"id": id, "is_bot": False, "first_name": first_name}
        if username:
            user["username"] = username
        if language_code:
            user["language_code"] = language_code
        self._users[id] = user
        return user

    def private_chat(self, user: Obj) -> Obj:
        chat = {"id": user["id"], "type": "private", "first_name": user["first_name"]}
        if "username" in user:
            chat["username"] = user["username"]
        self._chats[chat["id"]] = chat
        return chat

    def group(self, id: int, title: str, *, supergroup: bool = False) -> Obj:
        if id >= 0:
            raise ValueError("group chat ids are negative (supergroups: -100…)")
        chat = {"id": id, "type": "supergroup" if supergroup else "group", "title": title}
        self._chats[id] = chat
        return chat

    def set_member(self, chat: Obj, user: Obj, status: str) -> None:
        """What getChatMember says about `user` in `chat` ("creator", "administrator", "member",
        "restricted", "left", "kicked"); known users are members by default."""
        SPEC.subtype_for("ChatMember", "status", status)
        self._members[chat["id"], user["id"]] = status

    def add_file(self, data: bytes, file_name: str = "file.bin", mime: str | None = None) -> str:
        """Registers a file as if a user had sent it; returns its file_id for getFile."""
        return self._store_file(data, file_name, mime, "documents").file_id

    def push_message(
        self,
        chat: Obj,
        user: Obj,
        text: str | None = None,
        *,
        caption: str | None = None,
        photo: bytes | None = None,
        document: tuple[bytes, str, str] | None = None,
        reply_to: Obj | None = None,
    ) -> Obj:
        """Queues a `message` update from `user` in `chat`: text, or a photo or a document
        (bytes, file name, MIME type) with an optional caption. Returns the Update."""
        content: Obj = {}
        if text is not None:
            content |= {"text": text} | _with_entities("entities", text)
        stored = _Stored({}, from_bot=False)
        if photo is not None:
            stored.file = self._store_file(photo, "photo.jpg", "image/jpeg", "photos")
            content["photo"] = self._photo_sizes(stored.file)
        if document is not None:
            stored.file = self._store_file(*document, "documents")
            content["document"] = self._document(stored.file)
        if caption is not None:
            content |= {"caption": caption} | _with_entities("caption_entities", caption)
        if reply_to is not None:  # Telegram nests replies one level deep only
            target = self._locate(reply_to).wire
            content["reply_to_message"] = {
                k: v for k, v in target.items() if k != "reply_to_message"
            }
        stored.wire = self._new_message(chat, user, content)
        self._history[chat["id"]].append(stored)
        return self._queue({"message": stored.wire})

    def push_edit(self, message: Obj, new_text: str) -> Obj:
        """Queues an `edited_message` update: the user changed the text (or the caption)."""
        stored = self._locate(message)
        key, entities = (
            ("text", "entities") if "text" in stored.wire else ("caption", "caption_entities")
        )
        wire = {k: v for k, v in stored.wire.items() if k != entities}
        stored.wire = wire | {key: new_text, "edit_date": int(time.time())}
        stored.wire |= _with_entities(entities, new_text)
        return self._queue({"edited_message": stored.wire})

    def push_callback(self, message: Obj, user: Obj, data: str) -> Obj:
        """Queues a `callback_query` update: `user` pressed the button with callback `data` on
        a bot message (a `SentMessage` or a Message object)."""
        stored = self._locate(message)
        buttons = (stored.wire.get("reply_markup") or {}).get("inline_keyboard", [])
        offered = [b.get("callback_data") for row in buttons for b in row]
        if not stored.from_bot or data not in offered:
            raise AssertionError(f"no button with callback_data {data!r} here; offered: {offered}")
        query_id = str(self._next())
        self._open_callbacks.add(query_id)
        query = {
            "id": query_id,
            "from": user,
            "message": stored.wire,
            "chat_instance": f"instance{stored.wire['chat']['id']}",
            "data": data,
        }
        return self._queue({"callback_query": query})

    def push_migration(self, old_group: Obj, new_supergroup_id: int, by: Obj | None = None) -> Obj:
        """Upgrades a group to a supergroup: queues the `migrate_to_chat_id` message in the old
        group and the `migrate_from_chat_id` one in the new supergroup, as Telegram does, and
        makes later calls on the old chat id fail with ChatMigrated. Returns the new chat."""
        if old_group["type"] != "group":
            raise ValueError("only a basic group can migrate")
        new_chat = self.group(new_supergroup_id, old_group["title"], supergroup=True)
        self._migrated[old_group["id"]] = new_supergroup_id
        for chat, content in (
            (old_group, {"migrate_to_chat_id": new_supergroup_id}),
            (new_chat, {"migrate_from_chat_id": old_group["id"]}),
        ):
            wire = self._new_message(chat, by, content)
            self._history[chat["id"]].append(_Stored(wire, from_bot=False))
            self._queue({"message": wire})
        return new_chat

    def push_raw(self, update: Obj) -> Obj:
        """Queues any update; it gets the next update_id unless it brings one (redelivery)."""
        return self._queue(update)

    def fail_next(
        self,
        method: str,
        *,
        status: int = 429,
        retry_after: int | None = None,
        description: str | None = None,
        times: int = 1,
        chat_id: int | str | None = None,
    ) -> None:
        """The next `times` calls of `method` (to `chat_id` only, if given) fail as scripted.
        A 429 always carries retry_after (default 1 s; PTB ignores 0)."""
        parameters: Obj = {}
        if status == 429 or retry_after is not None:
            parameters["retry_after"] = retry_after or 1
        if description is None:
            defaults = {
                403: "Forbidden: bot was blocked by the user",
                429: f"Too Many Requests: retry after {retry_after or 1}",
            }
            description = defaults.get(status, HTTPStatus(status).phrase)
        name = SPEC.methods[method.lower()]["name"]
        self._failures.append(_Failure(name, status, description, parameters, times, chat_id))

    def hang(
        self, *methods: str, share: float = 1.0, delivered: bool = False, seed: int = 0
    ) -> None:
        """A time-out storm, until `calm()`: a `share` of the calls of `methods` (picked with
        `seed`) are held without an answer, so the client's time-out is what ends them; they
        are listed in `hung`. With `delivered` the call takes effect before it hangs, so a
        client that tries again sends it twice. Held calls stay unanswered after the storm
        ends, as on a dead connection, until the fake closes (then a 504, or the result if
        `delivered`)."""
        names = frozenset(SPEC.methods[m.lower()]["name"] for m in methods)
        self._end_storm()
        self._storm = _Storm(names, share, delivered, random.Random(seed))

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
        return sum(f.times for f in self._failures)

    def _storm_for(self, call: Call) -> _Storm | None:
        storm = self._storm
        if storm is None or call.method not in storm.methods:
            return None
        return storm if storm.random.random() < storm.share else None

    async def _hold(self, call: Call, storm: _Storm) -> None:
        self.hung.append(call)
        self._notify()
        await storm.over.wait()

    def _scripted_failure(self, call: Call) -> None:
        for failure in self._failures:
            if failure.method == call.method and failure.chat_id in (
                None,
                call.params.get("chat_id"),
            ):
                failure.times -= 1
                if failure.times == 0:
                    self._failures.remove(failure)
                raise _ApiError(failure.status, failure.description, parameters=failure.parameters)

    def _queue(self, update: Obj) -> Obj:
        if "update_id" not in update:
            update = {"update_id": self._last_update_id + 1} | update
        self._last_update_id = max(self._last_update_id, update["update_id"])
        self._check_built(["Update"], update, "update")
        kind = next(key for key in update if key != "update_id")
        allowed = (
            kind in self._allowed_updates if self._allowed_updates else kind not in _NOT_BY_DEFAULT
        )
        if allowed and not self.webhook["url"]:  # with a webhook, tests deliver by post_webhook
            self._updates.append(update)
            self._notify()
        return update

    def _new_message(self, chat: Obj, sender: Obj | None, content: Obj) -> Obj:
        self._chats.setdefault(chat["id"], chat)
        self._history.setdefault(chat["id"], [])
        message_id = self._last_message_id.get(chat["id"], 0) + 1
        self._last_message_id[chat["id"]] = message_id
        message: Obj = {"message_id": message_id, "date": int(time.time()), "chat": chat}
        if sender is not None:
            message["from"] = sender
        return message | {k: v for k, v in content.items() if v is not None}

    def _locate(self, message: Obj) -> _Stored:
        for stored in self._history.get(message["chat"]["id"], []):
            if stored.wire["message_id"] == message["message_id"]:
                return stored
        raise KeyError(f"message {message['message_id']} is not in chat {message['chat']['id']}")

    def _store_file(self, data: bytes, name: str, mime: str | None, folder: str) -> _File:
        number = self._next()
        suffix = ".jpg" if folder == "photos" else Path(name).suffix
        mime = mime or mimetypes.guess_type(name)[0] or "application/octet-stream"
        file = _File(
            f"FILE{number}", f"U{number}", f"{folder}/file_{number}{suffix}", name, mime, data
        )
        self._files[file.file_id] = self._paths[file.path] = file
        return file

    def _photo_sizes(self, file: _File) -> list[Obj]:
        width, height = _image_size(file.data)
        size = {
            "file_id": file.file_id,
            "file_unique_id": file.unique_id,
            "file_size": len(file.data),
        }
        return [size | {"width": width, "height": height}]

    def _document(self, file: _File) -> Obj:
        return {
            "file_id": file.file_id,
            "file_unique_id": file.unique_id,
            "file_name": file.name,
            "mime_type": file.mime,
            "file_size": len(file.data),
        }

    # -- test controls: inspecting what the bot did --------------------------------------

    def messages(self, chat_id: int) -> list[SentMessage]:
        """What the bot sent to `chat_id` and did not delete, oldest first, as now (edited)."""
        return [self._sent(s) for s in self._history.get(chat_id, []) if s.from_bot]

    def unconfirmed(self) -> list[int]:
        """Ids of the updates the bot has not confirmed yet with a getUpdates offset."""
        return [u["update_id"] for u in self._updates]

    def calls_of(self, method: str) -> list[Call]:
        return [call for call in self.calls if call.method.lower() == method.lower()]

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
        self, chat_id: int, contains: str | None = None, *, timeout: float = 5.0
    ) -> SentMessage:
        """The newest bot message in `chat_id` whose text or caption contains `contains`,
        already there or arriving within `timeout`."""

        def found() -> SentMessage | None:
            for message in reversed(self.messages(chat_id)):
                shown = (message["text"] or "") + (message["caption"] or "")
                if contains is None or contains in shown:
                    return message
            return None

        try:
            return await self.wait_for(found, timeout)
        except AssertionError:
            shown = [m["text"] or m["caption"] for m in self.messages(chat_id)]
            raise AssertionError(
                f"no message containing {contains!r} in chat {chat_id} within {timeout} s; "
                f"the bot sent: {shown}"
            ) from None

    async def post_webhook(self, url: str, update: Obj, secret_token: str | None = None) -> int:
        """Delivers `update` to the bot's webhook as Telegram does; returns the HTTP status."""
        self._check_built(["Update"], update, "update")
        headers = {"X-Telegram-Bot-Api-Secret-Token": secret_token} if secret_token else {}
        async with ClientSession() as session, session.post(url, json=update, headers=headers) as r:
            return r.status

    def _sent(self, stored: _Stored) -> SentMessage:
        wire, file = stored.wire, stored.file
        return {
            "chat": wire["chat"],
            "message_id": wire["message_id"],
            "text": wire.get("text"),
            "caption": wire.get("caption"),
            "reply_markup": stored.markup,
            "photo": file.data if file and "photo" in wire else None,
            "document": file.data if file and "document" in wire else None,
            "file_name": file.name if file and "document" in wire else None,
            "params": stored.params,
            "message": wire,
        }

    # -- the Bot API methods ---------------------------------------------------------------

    async def _true(self, call: Call) -> bool:
        return True

    async def _get_me(self, call: Call) -> Obj:
        return self.bot_user | {
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    async def _get_updates(self, call: Call) -> list[Obj]:
        if self.webhook["url"]:
            raise _ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first",
            )
        p = call.params
        if "allowed_updates" in p:
            self._allowed_updates = p["allowed_updates"]
        offset = p.get("offset", 0)
        if offset > 0:
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
        elif offset < 0:
            self._updates = self._updates[offset:]
        limit = min(max(p.get("limit", 100), 1), 100)
        self._poller += 1  # a newer getUpdates ends this one, as on Telegram
        me = self._poller
        self._notify()  # wakes the poll this one replaces, so it fails now, not at its timeout
        loop = asyncio.get_running_loop()
        deadline = loop.time() + p.get("timeout", 0)
        while not self._updates and not self._closing and loop.time() < deadline:
            await self._changes(deadline - loop.time())
            if self._poller != me:
                raise _ApiError(
                    409,
                    "Conflict: terminated by other getUpdates request; "
                    "make sure that only one bot instance is running",
                )
        return self._updates[:limit]

    async def _set_webhook(self, call: Call) -> bool:
        p = call.params
        if p["url"] and not p["url"].startswith("https://"):
            raise _ApiError(
                400, "Bad Request: bad webhook: An HTTPS URL must be provided for webhook"
            )
        if "secret_token" in p and not re.fullmatch(r"[\w-]{1,256}", p["secret_token"], re.ASCII):
            raise _violation("Bad Request: secret_token: 1-256 characters A-Z, a-z, 0-9, _ and -")
        self.webhook = dict(p)
        self._allowed_updates = p.get("allowed_updates", self._allowed_updates)
        if p.get("drop_pending_updates"):
            self._updates.clear()
        return True

    async def _delete_webhook(self, call: Call) -> bool:
        self.webhook = {"url": ""}
        if call.params.get("drop_pending_updates"):
            self._updates.clear()
        return True

    async def _get_webhook_info(self, call: Call) -> Obj:
        info = {
            "url": self.webhook["url"],
            "has_custom_certificate": False,
            "pending_update_count": len(self._updates),
        }
        keys = ("ip_address", "max_connections", "allowed_updates")
        return info | {key: self.webhook[key] for key in keys if key in self.webhook}

    def _commands_key(self, params: Obj) -> tuple[str, str]:
        scope = params.get("scope") or {"type": "default"}
        language = params.get("language_code", "")
        if language and not re.fullmatch(r"[a-z]{2}", language):
            raise _violation(f"Bad Request: language_code {language!r} is not ISO 639-1")
        return json.dumps(scope, sort_keys=True), language

    async def _set_my_commands(self, call: Call) -> bool:
        commands = call.params["commands"]
        if len(commands) > 100:
            raise _violation("Bad Request: at most 100 commands")
        for command in commands:
            if not re.fullmatch(r"[a-z0-9_]{1,32}", command["command"]):
                raise _violation(f"Bad Request: BOT_COMMAND_INVALID: {command['command']!r}")
            if not 1 <= len(command["description"]) <= 256:
                raise _violation(f"Bad Request: command description of /{command['command']}")
        self.commands[self._commands_key(call.params)] = commands
        return True

    async def _get_my_commands(self, call: Call) -> list[Obj]:
        return self.commands.get(self._commands_key(call.params), [])

    async def _delete_my_commands(self, call: Call) -> bool:
        self.commands.pop(self._commands_key(call.params), None)
        return True

    def _chat(self, chat_id: int | str) -> Obj:
        if isinstance(chat_id, int) and chat_id in self._migrated:
            raise _ApiError(
                400,
                "Bad Request: group chat was upgraded to a supergroup chat",
                parameters={"migrate_to_chat_id": self._migrated[chat_id]},
            )
        for chat in self._chats.values():
            if chat_id == chat["id"] or chat_id == "@" + chat.get("username", "-"):
                return chat
        if chat_id in self._users:
            raise _ApiError(403, "Forbidden: bot can't initiate conversation with a user")
        raise _ApiError(400, "Bad Request: chat not found")

    def _post(self, call: Call, content: Obj, file: _File | None = None) -> _Stored:
        """Stores a message the bot sends and returns it."""
        p = call.params
        chat = self._chat(p["chat_id"])
        markup = p.get("reply_markup")
        if keyboard := _inline_keyboard(markup):
            content["reply_markup"] = keyboard
        if reply := p.get("reply_parameters"):
            try:
                target = self._locate({"chat": chat, "message_id": reply["message_id"]}).wire
            except KeyError:
                if not reply.get("allow_sending_without_reply"):
                    raise _ApiError(400, "Bad Request: message to be replied not found") from None
            else:
                content["reply_to_message"] = {
                    k: v for k, v in target.items() if k != "reply_to_message"
                }
        wire = self._new_message(chat, self.bot_user, content)
        stored = _Stored(wire, from_bot=True, markup=markup, file=file, params=p)
        self._history[chat["id"]].append(stored)
        return stored

    def _captioned(self, params: Obj) -> Obj:
        return _formatted(params, "caption", 1024, required=False)

    async def _send_message(self, call: Call) -> Obj:
        return self._post(call, _formatted(call.params, "text", 4096, required=True)).wire

    def _input_file(self, call: Call, value: str | Upload, kind: str) -> _File:
        """The file a parameter names: an upload, an attach:// part, or a known file_id;
        `kind` is "photo" or "document"."""
        if isinstance(value, str) and value.startswith("attach://"):
            value = call.files[value.removeprefix("attach://")]
        if isinstance(value, Upload):
            folder = "photos" if kind == "photo" else "documents"
            return self._store_file(value.data, value.filename, value.content_type, folder)
        if value.startswith(("http://", "https://")):
            raise _violation("sending files by URL is not implemented by the fake")
        if value not in self._files:
            raise _ApiError(400, "Bad Request: wrong file identifier/HTTP URL specified")
        return self._files[value]

    async def _send_photo(self, call: Call) -> Obj:
        file = self._input_file(call, call.params["photo"], "photo")
        content = {"photo": self._photo_sizes(file)} | self._captioned(call.params)
        return self._post(call, content, file).wire

    async def _send_document(self, call: Call) -> Obj:
        file = self._input_file(call, call.params["document"], "document")
        content = {"document": self._document(file)} | self._captioned(call.params)
        return self._post(call, content, file).wire

    async def _send_media_group(self, call: Call) -> list[Obj]:
        media = call.params["media"]
        kinds = {item["type"] for item in media}
        if not 2 <= len(media) <= 10:
            raise _violation("Bad Request: a media group must include 2-10 items")
        if not kinds <= {"photo", "document"}:
            raise _violation(f"media groups of {sorted(kinds)} are not implemented by the fake")
        if len(kinds) > 1:
            raise _violation("Bad Request: documents can be grouped only with documents")
        group_id = str(self._next())
        sent = []
        for item in media:
            file = self._input_file(call, item["media"], item["type"])
            content = self._captioned(item) | {"media_group_id": group_id}
            content[item["type"]] = (
                self._photo_sizes(file) if item["type"] == "photo" else self._document(file)
            )
            sent.append(self._post(call, content, file).wire)
        return sent

    async def _send_chat_action(self, call: Call) -> bool:
        self._chat(call.params["chat_id"])
        if call.params["action"] not in _CHAT_ACTIONS:
            raise _violation(f"Bad Request: wrong parameter action {call.params['action']!r}")
        return True

    def _bot_message(self, call: Call, verb: str) -> _Stored:
        p = call.params
        if "inline_message_id" in p:
            raise _violation("inline messages are not implemented by the fake")
        if "chat_id" not in p or "message_id" not in p:  # the spec's "required if …"
            raise _violation(
                "Bad Request: chat_id and message_id are required without an inline_message_id"
            )
        try:
            stored = self._locate({"chat": self._chat(p["chat_id"]), "message_id": p["message_id"]})
        except KeyError:
            raise _ApiError(400, f"Bad Request: message to {verb} not found") from None
        if verb == "edit" and not stored.from_bot:
            raise _ApiError(400, "Bad Request: message can't be edited")
        return stored

    def _edited(self, stored: _Stored, call: Call, content: Obj) -> Obj:
        """Applies an edit; Telegram refuses one that changes nothing (text, formatting and
        keyboard alike). Without reply_markup, an edit removes the inline keyboard."""
        markup = _inline_keyboard(call.params.get("reply_markup"))
        old = {k: stored.wire.get(k) for k in content} | {"markup": stored.wire.get("reply_markup")}
        if old == content | {"markup": markup}:
            raise _ApiError(
                400,
                "Bad Request: message is not modified: specified new message content and reply "
                "markup are exactly the same as a current content and reply markup of the message",
            )
        # A None in `content` removes the field (the entities of a now unformatted text).
        wire = {k: v for k, v in stored.wire.items() if k != "reply_markup" and k not in content}
        new = {k: v for k, v in content.items() if v is not None}
        stored.wire = wire | new | {"edit_date": int(time.time())}
        if markup:
            stored.wire["reply_markup"] = markup
        stored.markup, stored.params = markup, call.params
        return stored.wire

    async def _edit_message_text(self, call: Call) -> Obj:
        stored = self._bot_message(call, "edit")
        if "text" not in stored.wire:
            raise _ApiError(400, "Bad Request: there is no text in the message to edit")
        return self._edited(stored, call, _formatted(call.params, "text", 4096, required=True))

    async def _edit_message_reply_markup(self, call: Call) -> Obj:
        return self._edited(self._bot_message(call, "edit"), call, {})

    async def _delete_message(self, call: Call) -> bool:
        stored = self._bot_message(call, "delete")
        self._history[stored.wire["chat"]["id"]].remove(stored)
        return True

    async def _answer_callback_query(self, call: Call) -> bool:
        query_id = call.params["callback_query_id"]
        if len(call.params.get("text", "")) > 200:
            raise _violation("Bad Request: callback answer text is longer than 200 characters")
        if query_id not in self._open_callbacks:
            raise _ApiError(
                400,
                "Bad Request: query is too old and response timeout expired or query ID is invalid",
            )
        self._open_callbacks.remove(query_id)
        return True

    async def _get_file(self, call: Call) -> Obj:
        file = self._files.get(call.params["file_id"])
        if file is None:
            raise _ApiError(400, "Bad Request: invalid file_id")
        if len(file.data) > 20 * 2**20:  # bots may download files up to 20 MB only
            raise _ApiError(400, "Bad Request: file is too big")
        return file.as_file()

    async def _get_chat(self, call: Call) -> Obj:
        chat = self._chat(call.params["chat_id"])
        gifts = SPEC.filled("AcceptedGiftTypes")
        return SPEC.filled("ChatFullInfo", **chat, max_reaction_count=11, accepted_gift_types=gifts)

    async def _get_chat_member(self, call: Call) -> Obj:
        chat = self._chat(call.params["chat_id"])
        user = self._users.get(call.params["user_id"])
        if user is None:
            raise _ApiError(400, "Bad Request: user not found")
        status = self._members.get((chat["id"], user["id"]), "member")
        return SPEC.filled(
            SPEC.subtype_for("ChatMember", "status", status), status=status, user=user
        )
