"""Replies as Telegram messages: text in chunks Telegram accepts, buttons as an inline keyboard,
images as a photo or an album with the text as caption when it fits, files as documents.

Every call goes through `call`, which survives what Telegram really does: 429s are waited out by
PTB's rate limiter (configured in the adapter), 5xx and network errors are retried with back-off,
a group upgraded to a supergroup is followed to its new id, and a chat that refuses the bot
becomes `ChatUnavailable`."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Final, TypeVar

from telegram import (
    Bot,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputFile,
    InputMediaDocument,
    InputMediaPhoto,
    Message,
    ReplyParameters,
)
from telegram.error import BadRequest, ChatMigrated, Forbidden, NetworkError

from bot.delivery import ChatUnavailable
from handlers.values import Button, Ref, Reply

log = logging.getLogger(__name__)
T = TypeVar("T")

TEXT_LIMIT: Final = 4096
CAPTION_LIMIT: Final = 1024
ALBUM_LIMIT: Final = 10


def keyboard(buttons: Sequence[Button]) -> InlineKeyboardMarkup | None:
    """One button per row: labels stay whole on a narrow phone. The callback data is the
    command line the button runs (the handlers keep it under Telegram's 64 bytes)."""
    if not buttons:
        return None
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(b.label, callback_data=b.command)] for b in buttons]
    )


def chunks(text: str, limit: int = TEXT_LIMIT) -> list[str]:
    """Split at line ends where possible; a single over-long line is cut."""
    parts: list[str] = []
    current = ""
    for line in text.splitlines(keepends=True):
        while len(line) > limit:
            if current:
                parts.append(current)
                current = ""
            parts.append(line[:limit])
            line = line[limit:]
        if len(current) + len(line) > limit:
            parts.append(current)
            current = ""
        current += line
    if current.strip() or not parts:
        parts.append(current)
    return [part.rstrip("\n") or "…" for part in parts]


class TelegramSender:
    """Sends replies; also the `Sender` the digests and reminders use for Telegram."""

    def __init__(
        self,
        bot: Bot,
        on_moved: Callable[[Ref, Ref], Awaitable[None]],
        *,
        retries: int = 4,
        backoff: float = 0.5,
    ) -> None:
        self.bot = bot
        self.on_moved = on_moved  # tells the engine when a group became a supergroup
        self.retries = retries
        self.backoff = backoff

    async def send(self, chat: Ref, reply: Reply) -> None:
        await self.deliver(int(chat.id), reply)

    async def send_private(self, user: Ref, reply: Reply) -> None:
        await self.deliver(int(user.id), reply)  # a private chat's id is the user's id

    async def deliver(
        self, chat_id: int, reply: Reply, *, reply_to: int | None = None, markup: Any = None
    ) -> list[Message]:
        """Everything in `reply`, in order; returns the messages sent. `markup` replaces the
        reply's own buttons (the guided form's controls, a ForceReply)."""
        markup = markup if markup is not None else keyboard(reply.buttons)
        sent: list[Message] = []
        text = reply.text
        target = ReplyParameters(reply_to, allow_sending_without_reply=True) if reply_to else None

        async def send(method: Callable[..., Awaitable[Any]], **kwargs: Any) -> None:
            nonlocal chat_id
            result, chat_id = await self.call(chat_id, method, reply_parameters=target, **kwargs)
            sent.extend(result if isinstance(result, tuple | list) else [result])

        images, files = reply.images, reply.files
        # The text rides as the caption of a lone attachment or of an album without buttons.
        caption_fits = len(text) <= CAPTION_LIMIT
        if len(images) == 1 and not files and caption_fits:
            image = images[0]
            await send(
                self.bot.send_photo,
                photo=InputFile(image.content, filename=image.name),
                caption=text or image.caption,
                reply_markup=markup,
            )
            return sent
        if len(files) == 1 and not images and caption_fits:
            file = files[0]
            await send(
                self.bot.send_document,
                document=InputFile(file.content, filename=file.name),
                caption=text,
                reply_markup=markup,
            )
            return sent
        in_caption = bool(images) and caption_fits and markup is None and len(images) > 1
        if not in_caption:
            parts = chunks(text)
            for i, part in enumerate(parts):
                last = i == len(parts) - 1
                await send(self.bot.send_message, text=part, reply_markup=markup if last else None)
        for start in range(0, len(images), ALBUM_LIMIT):
            batch = images[start : start + ALBUM_LIMIT]
            first_caption = text if in_caption and start == 0 else None
            if len(batch) == 1:
                await send(
                    self.bot.send_photo,
                    photo=InputFile(batch[0].content, filename=batch[0].name),
                    caption=first_caption or batch[0].caption,
                )
                continue
            await send(
                self.bot.send_media_group,
                media=[
                    InputMediaPhoto(
                        image.content,
                        caption=(first_caption if i == 0 and first_caption else image.caption)
                        or None,
                        filename=image.name,
                    )
                    for i, image in enumerate(batch)
                ],
            )
        if len(files) > 1:
            await send(
                self.bot.send_media_group,
                media=[InputMediaDocument(f.content, filename=f.name) for f in files],
            )
        elif files:
            file = files[0]
            await send(self.bot.send_document, document=InputFile(file.content, filename=file.name))
        return sent

    async def call(
        self, chat_id: int, method: Callable[..., Awaitable[T]], **kwargs: Any
    ) -> tuple[T, int]:
        """`method(chat_id=…, **kwargs)` until it succeeds; returns its result and the chat id
        it finally went to."""
        attempt = 0
        while True:
            try:
                return await method(chat_id=chat_id, **kwargs), chat_id
            except ChatMigrated as moved:
                new_id = moved.new_chat_id
                await self.on_moved(
                    Ref("telegram", "", str(chat_id)), Ref("telegram", "", str(new_id))
                )
                chat_id = new_id
            except Forbidden as error:
                raise ChatUnavailable(error.message) from error
            except BadRequest as error:
                if "chat not found" in error.message.lower():
                    raise ChatUnavailable(error.message) from error
                raise
            except NetworkError as error:  # 5xx, time-outs, a dropped connection
                attempt += 1
                if attempt > self.retries:
                    raise
                delay = self.backoff * 2 ** (attempt - 1)
                log.warning(
                    "Telegram %s failed (%s); retry %d in %.1fs",
                    method.__name__,
                    error,
                    attempt,
                    delay,
                )
                await asyncio.sleep(delay)
