"""What every platform adapter offers the rest of the bot: HTTP routes and a lifecycle for the
runtime, and a Sender for messages nobody asked for (digests, reminders, notices), which
`Senders` routes by the platform of the chat or user. (Answers to commands go through the
durable outbox, bot/outbox.py.)"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol

from handlers.values import Platform, Ref, Reply

if TYPE_CHECKING:
    from aiohttp import web

log = logging.getLogger(__name__)

# A worker that holds a lease keeps trying to record what it did (a reply sent, a delivery done)
# while the database is away, for well under the two-minute lease: marked late, the work is not
# done twice; given up, the lease runs out and another instance does it again.
RECORD_RETRY = 2.0  # seconds
RECORD_TRIES = 30


async def record(write: Callable[[], None], what: str, *, retry: float = RECORD_RETRY) -> bool:
    """Run the database write `write` in a thread until it succeeds, at most RECORD_TRIES
    times; False (and logged) if it never did."""
    for attempt in range(1, RECORD_TRIES + 1):
        try:
            await asyncio.to_thread(write)
            return True
        except Exception as error:  # the database is away
            if attempt == RECORD_TRIES:
                log.warning("%s not recorded after %d tries: %s", what, attempt, error)
                return False
            log.info("%s not recorded yet (%s); again in %ss", what, error, retry)
            await asyncio.sleep(retry)
    return False


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
