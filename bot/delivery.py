"""Sending without a user's request (digests, reminders, notices): each adapter provides a
Sender for its platform; the Outbox routes by the platform of the chat or user."""

from __future__ import annotations

from typing import Protocol

from handlers.values import Ref, Reply


class ChatUnavailable(Exception):
    """The platform will not deliver to this chat any more: the bot was blocked, removed or
    the chat is gone (Telegram 403, Slack not_in_channel). Retrying cannot help."""


class Sender(Protocol):
    async def send(self, chat: Ref, reply: Reply) -> None: ...

    async def send_private(self, user: Ref, reply: Reply) -> None: ...


class Outbox:
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
