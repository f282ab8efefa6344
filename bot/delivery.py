"""What every platform adapter offers the rest of the bot: HTTP routes and a lifecycle for the
runtime, and a Sender for messages nobody asked for (digests, reminders, notices), which
`Senders` routes by the platform of the chat or user. (Answers to commands go through the
durable outbox, bot/outbox.py.)"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Protocol

from handlers.values import Platform, Ref, Reply
from storage.db import database_away

if TYPE_CHECKING:
    from aiohttp import web

log = logging.getLogger(__name__)

# A worker that holds a lease keeps trying to record what it did (a reply sent, a delivery done)
# for as long as the database is away: the row is still its own, and had it given up, the lease
# would run out and the work be done again (a reply sent twice) once the database is back. A
# SQLite lock held for minutes is such a case. Other errors are given up after RECORD_TRIES.
RECORD_RETRY = 2.0  # seconds
RECORD_TRIES = 30


async def record(
    write: Callable[[], None],
    what: str,
    *,
    retry: float = RECORD_RETRY,
    run: Callable[[Callable[[], None]], Awaitable[None]] = asyncio.to_thread,
) -> bool:
    """Run the database write `write` in a thread (`run` it there) until it succeeds; while
    the database is away, however long that takes. False (and logged) if it failed
    RECORD_TRIES times for another reason."""
    attempt = 0
    while True:
        attempt += 1
        try:
            await run(write)
            return True
        except Exception as error:
            away = database_away(error)
            if attempt >= RECORD_TRIES and not away:
                log.warning("%s not recorded after %d tries: %s", what, attempt, error)
                return False
            if attempt == RECORD_TRIES:  # said once: it goes on trying
                log.warning("%s not recorded after %d tries, trying on: %s", what, attempt, error)
            else:
                log.info("%s not recorded yet (%s); again in %ss", what, error, retry)
            await asyncio.sleep(retry)


class ChatUnavailable(Exception):
    """The platform will not deliver to this chat any more: the bot was blocked, removed or
    the chat is gone (Telegram 403, Slack not_in_channel). Retrying cannot help."""


class Sender(Protocol):
    async def send(self, chat: Ref, reply: Reply) -> None: ...

    async def send_private(self, user: Ref, reply: Reply) -> None: ...


class Adapter(Protocol):
    platform: Platform
    sender: Sender

    def mount(self, web_app: web.Application) -> None:
        """Add HTTP routes (webhooks, Slack events) before the shared server starts."""

    async def start(self) -> None: ...

    async def stop(self) -> None: ...


class Senders:
    def __init__(self, senders: dict[str, Sender] | None = None) -> None:
        self.senders: dict[str, Sender] = dict(senders or {})

    def _sender(self, ref: Ref) -> Sender:
        if ref.platform not in self.senders:
            raise ChatUnavailable(f"no adapter runs for {ref.platform}")
        return self.senders[ref.platform]

    async def send(self, chat: Ref, reply: Reply) -> None:
        await self._sender(chat).send(chat, reply)

    async def send_private(self, user: Ref, reply: Reply) -> None:
        await self._sender(user).send_private(user, reply)
