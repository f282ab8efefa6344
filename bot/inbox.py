"""The one inbox of every adapter: a delivery is stored before the platform is told it arrived,
then claimed with a lease by whichever instance is free, handled, and marked done in the same
transaction as the command it carried (see `Outbox.then`). A chat's deliveries are handled one
at a time and in order; different chats in parallel. While the database is away nothing is
lost: storing fails (so the platform is not told, and sends it again), or the claimed delivery
is released and tried again, and the user is not asked to send anything twice."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

from bot.worker import Worker
from handlers.clock import Clock
from handlers.engine.dispatch import Unavailable
from storage import inbox
from storage.db import Database
from storage.inbox import Claimed

log = logging.getLogger(__name__)

# Handles one delivery; True when its command marked it done in the command's transaction.
Handle = Callable[[Claimed], Awaitable[bool | None]]

LEASE = timedelta(minutes=2)  # a delivery's handling takes well under a second
RETRY = timedelta(seconds=2)  # after the database failed us
POLL = 1.0  # seconds between looks for work other instances stored (webhooks behind a balancer)
GIVE_UP_AFTER = 5  # claims: a delivery that crashes its instance every time is set aside
KEEP = timedelta(days=8)  # Telegram may reuse update ids after a week of silence


class Inbox(Worker):
    name = "inbox"

    def __init__(
        self, db: Database, clock: Clock, owner: str, *, poll: float = POLL, retry: float = 2.0
    ) -> None:
        super().__init__(db, clock, owner, poll=poll, retry=retry)
        self._handlers: dict[str, Handle] = {}

    def serve(self, source: str, handle: Handle) -> None:
        """Deliveries of `source` (e.g. "telegram:<bot id>") go to `handle`."""
        self._handlers[source] = handle

    # --- storing: before the platform is told -------------------------------------------------
    def store(
        self, source: str, items: list[tuple[str, str, str]], *, claim: bool = False
    ) -> list[int]:
        """Store (key, chat, payload) triples; a key already stored is ignored. Returns the new
        rows' ids (claimed by this instance with `claim`, for a caller that handles them at
        once). Raises while the database is away, so the caller does not acknowledge."""
        with self.db.session() as session:
            lease = (self.owner, LEASE) if claim else None
            return inbox.store(session, source, items, self.clock.now(), claim_for=lease)

    async def put(
        self, source: str, items: list[tuple[str, str, str]], *, claim: bool = False
    ) -> list[int]:
        """Store, then handle at once here what is next in its chat (the rest waits behind its
        chat's earlier deliveries, for whichever instance holds them). With `claim` every new
        row is claimed for a caller that handles it itself, within its request."""
        if claim:
            return await asyncio.to_thread(self.store, source, items, claim=True)
        if not self.working:  # before the start: the loop takes them once it runs
            stored = await asyncio.to_thread(self.store, source, items)
            self.wake()
            return stored
        stored, claimed = await asyncio.to_thread(self._store_and_claim, source, items)
        for item in claimed:
            self._start(item, item.chat)
        taken = {item.chat for item in claimed}
        for chat in {chat for _, chat, _ in items} - taken:
            self._waits(chat)
        return stored

    def _store_and_claim(
        self, source: str, items: list[tuple[str, str, str]]
    ) -> tuple[list[int], list[Claimed]]:
        with self.db.session() as session:
            return inbox.store_and_claim(
                session, source, items, self.clock.now(), self.owner, LEASE
            )

    async def release(self, delivery_id: int) -> None:
        """Not handled yet (the database failed us): any instance takes it again shortly."""
        await self._update(inbox.release, delivery_id, self.clock.now() + RETRY)
        self.wake()

    # --- working ------------------------------------------------------------------------------
    def _has_work(self) -> bool:
        return bool(self._handlers)

    def _claim_rows(self, session: Any, now: datetime, limit: int) -> list[Claimed]:
        return inbox.claim(session, list(self._handlers), self.owner, now, LEASE, limit)

    def _group_of(self, item: Claimed) -> str:
        return item.chat

    def _prune(self, session: Any, now: datetime) -> None:
        inbox.prune(session, now - KEEP)

    def _release_owner(self, session: Any) -> None:
        inbox.release_owner(session, self.owner)

    async def _work(self, item: Claimed) -> None:
        if item.attempts > GIVE_UP_AFTER:
            log.error("delivery %s crashed %d times; set aside", item.id, GIVE_UP_AFTER)
            await self._update(inbox.done, item.id, self.clock.now(), "set aside after crashes")
            return
        try:
            marked = await self._handlers[item.source](item)
        except Unavailable as error:
            log.warning("delivery %s waits for the database: %s", item.id, error)
            await self.release(item.id)
            return
        except Exception as error:  # an adapter bug: logged, and the chat is not blocked
            log.exception("delivery %s failed", item.id)
            await self._update(inbox.done, item.id, self.clock.now(), repr(error))
            return
        if not marked:  # its command marked it in its own transaction otherwise
            await self._update(inbox.done, item.id, self.clock.now(), None)
