"""A small typed async client for the Zalo Bot API (Zalo Bot Platform), on aiohttp.

Zalo's Bot API is Telegram-shaped and much smaller: `POST {base}/bot<token>/<method>` with a
JSON body, answered `{"ok": true, "result": …}` or `{"ok": false, "error_code": …,
"description": …}`. This module is the wire layer only: typed results, one error hierarchy,
a tolerant update parser, and the text-length rule with a splitter. Delivery (storing an
update before anything else, retries, splitting replies, numbered choices) is the adapter's
job. docs/zalo.md records the sources and each choice made where they disagree.

The token is part of every URL, so no URL is ever logged or put in an exception: errors carry
the method name, and anything borrowed from aiohttp's own messages is redacted."""

from __future__ import annotations

import hmac
import json
import logging
import re
import time
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from http import HTTPStatus
from types import TracebackType
from typing import Any, Final, Self

import aiohttp

log = logging.getLogger(__name__)

DEFAULT_BASE_URL: Final = "https://bot-api.zaloplatforms.com"  # the current docs' host
MAX_TEXT: Final = 2000  # per message or caption, counted in UTF-16 code units (text_length)
SECRET_HEADER: Final = "X-Bot-Api-Secret-Token"
DEFAULT_RETRY_AFTER: Final = 5.0  # seconds, when a 429 does not say how long to wait
DEFAULT_TIMEOUT: Final = 15.0  # seconds for an ordinary call
PHOTO_TIMEOUT: Final = 60.0  # sendPhoto answers only once Zalo has fetched the image
POLL_GRACE: Final = 10.0  # added to a long poll's own timeout for its HTTP time-out
CHAT_ACTIONS: Final = frozenset({"typing", "upload_photo"})


# -- errors --------------------------------------------------------------------------------


class ZaloError(Exception):
    """The API (or the way to it) refused a call. `error_code` is Zalo's code (the HTTP
    status when the answer was not Zalo's; 0 when there was no answer at all)."""

    retryable: bool = False

    def __init__(self, error_code: int, description: str, *, method: str = "") -> None:
        self.error_code = error_code
        self.description = description
        self.method = method
        where = f"{method}: " if method else ""
        super().__init__(f"{where}{description} (error {error_code})")


class ZaloBadRequest(ZaloError):
    """400 and other client errors: the call itself is wrong; sending it again will not help."""


class ZaloUnauthorized(ZaloError):
    """401: the token is wrong or was revoked."""


class ZaloForbidden(ZaloError):
    """403: the chat refuses the bot (blocked, or the bot left or was removed from the group)."""


class ZaloNotFound(ZaloError):
    """404: no such method (or no such resource)."""


class ZaloConflict(ZaloError):
    """409: getUpdates while a webhook is set (deleteWebhook first, or use the webhook)."""


class ZaloRetryAfter(ZaloError):
    """429: quota exceeded. `retry_after` is the wait the API gave, or DEFAULT_RETRY_AFTER
    (`retry_after_given` says which; Zalo is not known to give one, so back off further on
    repeated 429s without one)."""

    retryable = True

    def __init__(
        self,
        error_code: int,
        description: str,
        *,
        method: str = "",
        retry_after: float | None = None,
    ) -> None:
        super().__init__(error_code, description, method=method)
        self.retry_after_given = retry_after is not None
        self.retry_after = DEFAULT_RETRY_AFTER if retry_after is None else retry_after


class ZaloServerError(ZaloError):
    """5xx, a time-out, a network failure or an unreadable answer: worth retrying. After a
    send, whether the message went out is unknown."""

    retryable = True


class ZaloParseError(ValueError):
    """A body that holds no Zalo update at all (not an object, or neither event nor
    message); a webhook answers it with 400."""


_BY_CODE: dict[int, type[ZaloError]] = {
    401: ZaloUnauthorized,
    403: ZaloForbidden,
    404: ZaloNotFound,
    408: ZaloServerError,  # outside getUpdates, a time-out on Zalo's side
    409: ZaloConflict,
}


def _error(method: str, code: int, description: str, retry_after: float | None = None) -> ZaloError:
    if code == 429:
        return ZaloRetryAfter(code, description, method=method, retry_after=retry_after)
    if code in _BY_CODE:
        return _BY_CODE[code](code, description, method=method)
    if code == 0 or code >= 500:
        return ZaloServerError(code, description, method=method)
    if 400 <= code < 500:
        return ZaloBadRequest(code, description, method=method)
    return ZaloError(code, description, method=method)


# -- what the API returns ------------------------------------------------------------------


class ZaloEvent(StrEnum):
    TEXT = "message.text.received"
    IMAGE = "message.image.received"
    STICKER = "message.sticker.received"
    UNSUPPORTED = "message.unsupported.received"  # also every event name not known here


@dataclass(frozen=True, slots=True)
class ZaloBotInfo:
    id: str
    account_name: str
    account_type: str
    can_join_groups: bool
    display_name: str


@dataclass(frozen=True, slots=True)
class ZaloUser:
    id: str
    display_name: str
    is_bot: bool = False


@dataclass(frozen=True, slots=True)
class ZaloChat:
    id: str
    chat_type: str  # "PRIVATE" or "GROUP" (upper-cased here whatever the wire says)

    @property
    def is_group(self) -> bool:
        return self.chat_type == "GROUP"


@dataclass(frozen=True, slots=True)
class ZaloMessage:
    message_id: str
    chat: ZaloChat
    sender: ZaloUser | None  # `from` on the wire
    date: datetime | None  # UTC
    text: str | None = None
    photo_url: str | None = None  # an image message: where Zalo serves the image
    caption: str | None = None
    sticker: str | None = None


@dataclass(frozen=True, slots=True)
class ZaloUpdate:
    """One delivery. `raw` is the bare update as received: store it, and parse it again with
    parse_update after a restart. There is no update id: `key` (the message id) is what
    recognises a redelivery."""

    event: ZaloEvent
    event_name: str  # as on the wire ("" when absent), even when `event` is UNSUPPORTED
    message: ZaloMessage | None
    raw: Mapping[str, Any] = field(repr=False, compare=False)

    @property
    def key(self) -> str | None:
        return self.message.message_id if self.message else None


@dataclass(frozen=True, slots=True)
class ZaloSentMessage:
    message_id: str
    date: datetime | None


@dataclass(frozen=True, slots=True)
class ZaloWebhookInfo:
    url: str  # "" when no webhook is set
    updated_at: datetime | None


def _str(value: Any) -> str | None:
    # Ids are strings on the wire; a number (seen in some samples) is read the same way.
    if isinstance(value, str):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return None


def _time(value: Any) -> datetime | None:
    """Zalo dates are milliseconds since the epoch; a value that can only be seconds (before
    1973 in milliseconds) is read as seconds."""
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        return None
    seconds = value / 1000 if value >= 100_000_000_000 else value
    try:
        return datetime.fromtimestamp(seconds, UTC)
    except (OverflowError, OSError, ValueError):
        return None


def _user(value: Any) -> ZaloUser | None:
    if not isinstance(value, Mapping) or (user_id := _str(value.get("id"))) is None:
        return None
    # display_name per the API; older samples show `name` or `first_name`.
    names = (value.get(k) for k in ("display_name", "name", "first_name"))
    name = next((n for n in names if isinstance(n, str) and n), "")
    return ZaloUser(user_id, name, value.get("is_bot") is True)


def _message(value: Any) -> ZaloMessage | None:
    if not isinstance(value, Mapping):
        return None
    chat = value.get("chat")
    chat = chat if isinstance(chat, Mapping) else {}
    message_id, chat_id = _str(value.get("message_id")), _str(chat.get("id"))
    if message_id is None or chat_id is None:
        return None  # nothing to answer, nothing to recognise a redelivery by
    chat_type = chat.get("chat_type")
    photo = next(
        (v for k in ("photo_url", "photo") if isinstance(v := value.get(k), str) and v), None
    )

    def text(key: str) -> str | None:
        found = value.get(key)
        return found if isinstance(found, str) else None

    return ZaloMessage(
        message_id=message_id,
        chat=ZaloChat(chat_id, chat_type.upper() if isinstance(chat_type, str) else "PRIVATE"),
        sender=_user(value.get("from")),
        date=_time(value.get("date")),
        text=text("text"),
        photo_url=photo,
        caption=text("caption"),
        sticker=text("sticker"),
    )


def _event(name: str, message: ZaloMessage | None) -> ZaloEvent:
    if message is None:
        return ZaloEvent.UNSUPPORTED
    try:
        return ZaloEvent(name)
    except ValueError:
        pass
    if name:  # a new event Zalo added: not understood, so not acted upon
        return ZaloEvent.UNSUPPORTED
    # No event name at all, as in some documentation samples: read it from the content.
    if message.text is not None:
        return ZaloEvent.TEXT
    if message.photo_url is not None:
        return ZaloEvent.IMAGE
    if message.sticker is not None:
        return ZaloEvent.STICKER
    return ZaloEvent.UNSUPPORTED


def parse_update(body: Any) -> ZaloUpdate:
    """A `ZaloUpdate` from a getUpdates result or a webhook body, bare
    (`{"event_name": …, "message": …}`) or wrapped (`{"ok": true, "result": {…}}`).

    Tolerant: an unknown event name, or a message lacking its id or chat, gives an UNSUPPORTED
    update (with `message` None in the second case) rather than an error. Only a body with no
    update in it at all raises ZaloParseError."""
    if isinstance(body, Mapping) and body.get("ok") is True and "result" in body:
        body = body["result"]
    if not isinstance(body, Mapping):
        raise ZaloParseError(f"not a Zalo update: a JSON {type(body).__name__}")
    if "event_name" not in body and "message" not in body:
        raise ZaloParseError(f"not a Zalo update: keys {sorted(map(str, body))[:8]}")
    name = body.get("event_name")
    name = name if isinstance(name, str) else ""
    message = _message(body.get("message"))
    return ZaloUpdate(_event(name, message), name, message, raw=body)


def secret_matches(header: str | None, secret: str) -> bool:
    """Whether a webhook request's X-Bot-Api-Secret-Token is `secret` (constant time)."""
    return header is not None and hmac.compare_digest(header.encode(), secret.encode())


# -- text length and splitting -------------------------------------------------------------


def text_length(text: str) -> int:
    """Length as Zalo's limit is counted here: UTF-16 code units. A character outside the BMP
    (most emoji) counts 2; a decomposed (NFD) Vietnamese letter counts once per mark."""
    return len(text) + sum(1 for c in text if ord(c) > 0xFFFF)


def _units(c: str) -> int:
    return 2 if ord(c) > 0xFFFF else 1


def _extends(c: str) -> bool:
    """Whether `c` belongs to the character before it on screen (combining marks, joiners,
    variation selectors, emoji skin tones and tags), so a cut must not fall before it."""
    o = ord(c)
    return (
        unicodedata.category(c) in ("Mn", "Mc", "Me")
        or o == 0x200D
        or 0xFE00 <= o <= 0xFE0F
        or 0x1F3FB <= o <= 0x1F3FF
        or 0xE0020 <= o <= 0xE007F
    )


def _regional(c: str) -> bool:
    return 0x1F1E6 <= ord(c) <= 0x1F1FF  # two of them make a flag


def _clean_cut(text: str, i: int) -> bool:
    """Whether cutting `text` before index `i` keeps every character whole on screen."""
    if _extends(text[i]) or text[i - 1] == "\u200d":
        return False
    if _regional(text[i]) and _regional(text[i - 1]):
        run = 0
        while i - 1 - run >= 0 and _regional(text[i - 1 - run]):
            run += 1
        return run % 2 == 0
    return True


def split_text(text: str, limit: int = MAX_TEXT) -> list[str]:
    """`text` in pieces of at most `limit` UTF-16 units (text_length), for messages that must
    each fit Zalo's limit. Cuts at the last line break that fits, else at the last space, and
    inside a word only when the word alone is longer than `limit` (then never inside a
    character: not between a letter and its combining marks, nor inside an emoji). The line
    break or space cut at is dropped; so are pieces that would be blank (Zalo refuses empty
    texts). A text that fits is returned whole, untouched; [] for a blank one."""
    if limit < 2:
        raise ValueError("limit must be at least 2 (one character outside the BMP)")
    if text_length(text) <= limit:
        return [text] if text.strip() else []
    pieces: list[str] = []
    rest = text
    while rest:
        if text_length(rest) <= limit:
            pieces.append(rest)
            break
        end, used = 0, 0  # rest[:end] is the longest prefix that fits
        while used + _units(rest[end]) <= limit:
            used += _units(rest[end])
            end += 1
        # A separator just past the window is a fine place to cut too; one at 0 only drops
        # itself (the piece before it is empty).
        cut = rest.rfind("\n", 0, end + 1)
        if cut < 0:
            cut = max(rest.rfind(" ", 0, end + 1), rest.rfind("\t", 0, end + 1))
        if cut >= 0:
            pieces.append(rest[:cut])
            rest = rest[cut + 1 :].lstrip("\r\n" if rest[cut] == "\n" else " \t")
            continue
        cut = end
        while cut > 0 and not _clean_cut(rest, cut):
            cut -= 1
        if cut == 0:  # one "character" longer than the limit: cut it anyway
            cut = end
        pieces.append(rest[:cut])
        rest = rest[cut:]
    return [p for piece in pieces if (p := piece.rstrip())]


# -- the client ----------------------------------------------------------------------------


class ZaloClient:
    """The Zalo Bot API for one bot token.

    `base_url` is `zalo.api_base_url` (the client appends `/bot<token>/<method>`). Give a
    `session` to share one (it is then not closed here); otherwise one is created on first use
    and closed by `close()` or `async with`. `timeout` is the HTTP time-out in seconds of an
    ordinary call; sendPhoto gets `photo_timeout`, getUpdates its poll timeout + POLL_GRACE."""

    def __init__(
        self,
        token: str,
        base_url: str = DEFAULT_BASE_URL,
        *,
        session: aiohttp.ClientSession | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        photo_timeout: float = PHOTO_TIMEOUT,
    ) -> None:
        if not token or any(c.isspace() or c in "/?#" for c in token):
            raise ValueError("a Zalo bot token is <bot_id>:<secret>, without spaces or '/'")
        self._token = token
        self._base = base_url.rstrip("/")
        self._session = session
        self._own_session = session is None
        self.timeout = timeout
        self.photo_timeout = photo_timeout

    def __repr__(self) -> str:
        return f"ZaloClient(base_url={self._base!r})"

    @property
    def bot_id(self) -> str:
        """The part of the token before ':' (getMe's id); not secret."""
        return self._token.split(":", 1)[0]

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()

    async def close(self) -> None:
        if self._own_session and self._session is not None:
            await self._session.close()
            self._session = None

    def redact(self, text: str) -> str:
        """`text` with the token (and its secret part alone) replaced, for logs and errors."""
        secret = self._token.split(":", 1)[-1]
        return text.replace(self._token, "<token>").replace(secret, "<token>")

    async def call(
        self, method: str, params: Mapping[str, Any] | None = None, *, timeout: float | None = None
    ) -> Any:
        """Calls `method` and returns its `result` (None when the answer has none), or raises
        a ZaloError. None-valued parameters are left out."""
        if self._session is None:
            self._session = aiohttp.ClientSession()
        body = {k: v for k, v in (params or {}).items() if v is not None}
        seconds = self.timeout if timeout is None else timeout
        started = time.monotonic()
        try:
            async with self._session.post(
                f"{self._base}/bot{self._token}/{method}",
                json=body,
                timeout=aiohttp.ClientTimeout(total=seconds),
            ) as response:
                status, data = response.status, await response.read()
                retry_header = response.headers.get("Retry-After")
        except TimeoutError:
            # `from None` everywhere here: a chained aiohttp error would print the URL.
            raise ZaloServerError(0, f"no answer within {seconds:g} s", method=method) from None
        except aiohttp.ClientError as error:
            description = self.redact(f"network error: {type(error).__name__}: {error}")
            raise ZaloServerError(0, description, method=method) from None
        log.debug("zalo %s: HTTP %s in %.2f s", method, status, time.monotonic() - started)
        return self._result(method, status, data, retry_header)

    def _result(self, method: str, status: int, data: bytes, retry_header: str | None) -> Any:
        # Zalo's `ok` decides, whatever the HTTP status: error bodies are reported both with
        # their code as HTTP status and under HTTP 200.
        try:
            answer = json.loads(data)
        except ValueError:
            answer = None
        if isinstance(answer, dict) and isinstance(answer.get("ok"), bool):
            if answer["ok"]:
                return answer.get("result")
            code = answer.get("error_code")
            if isinstance(code, bool) or not isinstance(code, int):
                code = status if status >= 400 else 0
            description = answer.get("description")
            if not isinstance(description, str) or not description:
                description = _phrase(code)
            retry_after = _retry_after(answer.get("parameters"), retry_header, description)
            raise _error(method, code, self.redact(description), retry_after)
        # Not a Zalo answer: a proxy's error page, an empty body.
        if status >= 400:
            description = f"HTTP {status} {_phrase(status)}, not a Zalo answer"
            raise _error(method, status, description, _retry_after(None, retry_header, ""))
        raise ZaloServerError(status, f"unreadable answer (HTTP {status})", method=method)

    # -- methods ---------------------------------------------------------------------------

    async def get_me(self) -> ZaloBotInfo:
        r = _mapping(await self.call("getMe"))
        return ZaloBotInfo(
            id=_str(r.get("id")) or "",
            account_name=str(r.get("account_name") or ""),
            account_type=str(r.get("account_type") or ""),
            can_join_groups=r.get("can_join_groups") is True,
            display_name=str(r.get("display_name") or r.get("account_name") or ""),
        )

    async def get_updates(self, timeout: int = 30) -> ZaloUpdate | None:
        """Long-polls up to `timeout` seconds for ONE update; None when none came (408).
        An update returned here is gone from Zalo: store `update.raw` before anything else."""
        if timeout < 0:
            raise ValueError("timeout must be ≥ 0 seconds")
        try:
            # The docs type `timeout` as a string.
            result = await self.call(
                "getUpdates", {"timeout": str(timeout)}, timeout=timeout + POLL_GRACE
            )
        except ZaloServerError as error:
            if error.error_code == 408:
                return None
            raise
        if not result:
            return None
        return parse_update(result)

    async def set_webhook(self, url: str, secret_token: str) -> ZaloWebhookInfo:
        """Switches the bot to webhook mode: Zalo POSTs each update to `url` (HTTPS) with
        `secret_token` (8-256 characters) in X-Bot-Api-Secret-Token."""
        if not 8 <= len(secret_token) <= 256:
            raise ValueError("a webhook secret_token has 8-256 characters")
        return _webhook_info(
            await self.call("setWebhook", {"url": url, "secret_token": secret_token})
        )

    async def delete_webhook(self) -> ZaloWebhookInfo:
        return _webhook_info(await self.call("deleteWebhook"))

    async def get_webhook_info(self) -> ZaloWebhookInfo:
        return _webhook_info(await self.call("getWebhookInfo"))

    async def send_message(self, chat_id: str, text: str) -> ZaloSentMessage:
        """Sends `text` (1 to MAX_TEXT units: split longer texts with split_text first)."""
        _check_text("text", text)
        return _sent(await self.call("sendMessage", {"chat_id": chat_id, "text": text}))

    async def send_photo(
        self, chat_id: str, url: str, caption: str | None = None
    ) -> ZaloSentMessage:
        """Sends the image at `url`, which Zalo fetches itself: an HTTPS URL reachable from
        the Internet that stays valid while Zalo fetches it (this call waits for that)."""
        if not url.startswith("https://"):
            raise ValueError("Zalo fetches photos itself: give an https:// URL")
        if caption:  # an empty caption is sent as none (Zalo takes 1-2000 characters)
            _check_text("caption", caption)
        params = {"chat_id": chat_id, "photo": url, "caption": caption or None}
        return _sent(await self.call("sendPhoto", params, timeout=self.photo_timeout))

    async def send_chat_action(self, chat_id: str, action: str = "typing") -> None:
        if action not in CHAT_ACTIONS:
            raise ValueError(f"action is one of {sorted(CHAT_ACTIONS)}")
        await self.call("sendChatAction", {"chat_id": chat_id, "action": action})


def _phrase(code: int) -> str:
    try:
        return HTTPStatus(code).phrase
    except ValueError:
        return "Error"


def _retry_after(parameters: Any, header: str | None, description: str) -> float | None:
    """How long a 429 says to wait: Telegram-style parameters.retry_after, a Retry-After
    header in seconds, or "retry after N" in the description; None when it does not say."""
    if isinstance(parameters, Mapping):
        value = parameters.get("retry_after")
        if isinstance(value, int | float) and not isinstance(value, bool) and value >= 0:
            return float(value)
    if header is not None and header.strip().isdigit():
        return float(header.strip())
    if found := re.search(r"retry after (\d+)", description, re.IGNORECASE):
        return float(found[1])
    return None


def _mapping(result: Any) -> Mapping[str, Any]:
    return result if isinstance(result, Mapping) else {}


def _sent(result: Any) -> ZaloSentMessage:
    r = _mapping(result)
    return ZaloSentMessage(_str(r.get("message_id")) or "", _time(r.get("date")))


def _webhook_info(result: Any) -> ZaloWebhookInfo:
    r = _mapping(result)
    url = r.get("url")
    return ZaloWebhookInfo(url if isinstance(url, str) else "", _time(r.get("updated_at")))


def _check_text(key: str, text: str) -> None:
    # Refused here rather than by Zalo: an over-long text is a bug, not worth a call.
    if not text:
        raise ValueError(f"{key} is empty; Zalo takes 1-{MAX_TEXT} characters")
    if (length := text_length(text)) > MAX_TEXT:
        raise ValueError(f"{key} is {length} UTF-16 units, over {MAX_TEXT}: use split_text")


__all__ = [
    "CHAT_ACTIONS",
    "DEFAULT_BASE_URL",
    "DEFAULT_RETRY_AFTER",
    "MAX_TEXT",
    "SECRET_HEADER",
    "ZaloBadRequest",
    "ZaloBotInfo",
    "ZaloChat",
    "ZaloClient",
    "ZaloConflict",
    "ZaloError",
    "ZaloEvent",
    "ZaloForbidden",
    "ZaloMessage",
    "ZaloNotFound",
    "ZaloParseError",
    "ZaloRetryAfter",
    "ZaloSentMessage",
    "ZaloServerError",
    "ZaloUnauthorized",
    "ZaloUpdate",
    "ZaloUser",
    "ZaloWebhookInfo",
    "parse_update",
    "secret_matches",
    "split_text",
    "text_length",
]
