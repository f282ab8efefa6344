"""The one inbox of every adapter: a delivery is stored before the platform is told it arrived,
then claimed with a lease by whichever instance is free, handled, and marked done in the same
transaction as the command it carried (see `Outbox.then`). A chat's deliveries are handled one
at a time and in order; different chats in parallel. While the database is away nothing is
lost: storing fails (so the platform is not told, and sends it again), or the claimed delivery
is released and tried again, and the user is not asked to send anything twice."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from bot.delivery import RECORD_RETRY, record
from handlers.clock import Clock
from handlers.engine.dispatch import Unavailable
from storage import inbox
from storage.db import Database
from storage.inbox import Claimed

log = logging.getLogger(__name__)

Handle = Callable[[Claimed], Awaitable[None]]

LEASE = timedelta(minutes=2)  # a delivery's handling takes well under a second
RETRY = timedelta(seconds=2)  # after the database failed us
POLL = 1.0  # seconds between looks for work other instances stored (webhooks behind a balancer)
GIVE_UP_AFTER = 5  # claims: a delivery that crashes its instance every time is set aside
KEEP = timedelta(days=8)  # Telegram may reuse update ids after a week of silence
PRUNE_EVERY = timedelta(hours=1)


class Inbox:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        owner: str,
        *,
        poll: float = POLL,
        retry: float = RECORD_RETRY,
    ) -> None:
        self.db = db
        self.clock = clock
        self.owner = owner
        self.poll = poll
        self.retry = retry  # seconds between tries to record a delivery done or released
        self._handlers: dict[str, Handle] = {}
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._pruned: datetime | None = None

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
        stored = await asyncio.to_thread(self.store, source, items, claim=claim)
        if not claim:
            self._wake.set()
        return stored

    async def release(self, delivery_id: int) -> None:
        """A delivery claimed at storing that could not be handled: any instance takes it."""
        await self._release(delivery_id)

    # --- working ------------------------------------------------------------------------------
    async def start(self) -> None:
        """Take back what a killed predecessor of the same name held, then work."""
        try:
            await asyncio.to_thread(self._release_mine)
        except Exception as error:  # the database is away: those leases run out instead
            log.warning("%s: could not take back earlier claims: %s", self.owner, error)
        if self._handlers and self._task is None:
            self._task = asyncio.create_task(self._run(), name="inbox")

    def _release_mine(self) -> None:
        with self.db.session() as session:
            inbox.release_owner(session, self.owner)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        while True:
            self._wake.clear()
            try:
                claimed = await asyncio.to_thread(self._claim)
            except Exception as error:  # the database is away: what is stored waits for it
                log.warning("inbox: cannot claim deliveries (%s); again in %ss", error, RETRY)
                await asyncio.sleep(RETRY.total_seconds())
                continue
            if not claimed:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), self.poll)
                continue
            await asyncio.gather(*(self._handle(delivery) for delivery in claimed))

    def _claim(self) -> list[Claimed]:
        with self.db.session() as session:
            now = self.clock.now()
            if self._pruned is None or now - self._pruned > PRUNE_EVERY:
                inbox.prune(session, now - KEEP)
                self._pruned = now
            return inbox.claim(session, list(self._handlers), self.owner, now, LEASE)

    async def _handle(self, delivery: Claimed) -> None:
        if delivery.attempts > GIVE_UP_AFTER:
            log.error("delivery %s crashed %d times; set aside", delivery.id, GIVE_UP_AFTER)
            await self._finish(delivery, "set aside after repeated crashes")
            return
        try:
            await self._handlers[delivery.source](delivery)
        except Unavailable as error:
            log.warning("delivery %s waits for the database: %s", delivery.id, error)
            await self._release(delivery.id)
            return
        except Exception as error:  # an adapter bug: logged, and the chat is not blocked
            log.exception("delivery %s failed", delivery.id)
            await self._finish(delivery, repr(error))
            return
        await self._finish(delivery, None)  # a no-op when its command marked it already

    async def _finish(self, delivery: Claimed, error: str | None) -> None:
        def write() -> None:
            with self.db.session() as session:
                inbox.done(session, delivery.id, self.clock.now(), error)

        # Given up, its lease runs out and it is handled again (its command finds it done).
        await record(write, f"delivery {delivery.id} done", retry=self.retry)

    async def _release(self, delivery_id: int) -> None:
        def write() -> None:
            with self.db.session() as session:
                inbox.release(session, delivery_id, self.clock.now() + RETRY)

        # Given up, the lease runs out instead: handled two minutes later, not lost.
        await record(write, f"delivery {delivery_id} release", retry=self.retry)
        self._wake.set()
