"""The one outbox of every adapter: replies are written in the same transaction as the command
they answer (`then`), then claimed with a lease by whichever instance is free and handed to the
adapter of their platform, in order per chat. A reply is sent once across instances; only the
one in flight when an instance dies can go out twice."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

from bot import wire
from bot.delivery import RECORD_RETRY, ChatUnavailable, record
from handlers.clock import Clock
from handlers.engine.dispatch import Then
from handlers.values import Ref, Reply
from storage import inbox, outbox
from storage.db import Database
from storage.outbox import Claimed

log = logging.getLogger(__name__)

# Sends one reply to `target` with the adapter's hints (what it is an answer to, and how).
Answer = Callable[[Ref, Reply, dict[str, Any]], Awaitable[None]]

LEASE = timedelta(minutes=2)
POLL = 1.0  # seconds between looks for replies other instances wrote
RETRY_DELAYS = (timedelta(seconds=5), timedelta(seconds=30), timedelta(minutes=2))
# Replies claimed at once. Those sent but not yet marked sent when the process is killed go out
# again after its restart, so a smaller batch sends fewer twice; Telegram takes ~30 a second.
BATCH = 16
KEEP = timedelta(days=2)
PRUNE_EVERY = timedelta(hours=1)


class Outbox:
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
        self.retry = retry  # seconds between tries to record a reply sent
        self._answers: dict[str, Answer] = {}
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._pruned: datetime | None = None

    def serve(self, platform: str, answer: Answer) -> None:
        self._answers[platform] = answer

    def then(
        self,
        target: Ref,
        hints: dict[str, Any],
        *,
        delivery: int | None = None,
        errors: bool = True,
    ) -> Then:
        """For `engine.handle`: in the command's transaction, write its reply for `target` and
        mark the `delivery` that carried it done. With `errors=False` an error reply is not
        sent (the adapter shows it its own way, e.g. in a form)."""

        def write(session: Any, reply: Reply) -> None:
            now = self.clock.now()
            if errors or not reply.is_error:
                outbox.add(session, target.platform, target.key, wire.dumps(reply, hints), now)
            if delivery is not None:
                inbox.done(session, delivery, now)

        return write

    def wake(self) -> None:
        self._wake.set()

    # --- working ------------------------------------------------------------------------------
    async def start(self) -> None:
        """Take back what a killed predecessor of the same name held, then work."""
        try:
            await asyncio.to_thread(self._release_mine)
        except Exception as error:  # the database is away: those leases run out instead
            log.warning("%s: could not take back earlier claims: %s", self.owner, error)
        if self._answers and self._task is None:
            self._task = asyncio.create_task(self._run(), name="outbox")

    def _release_mine(self) -> None:
        with self.db.session() as session:
            outbox.release_owner(session, self.owner)

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
            except Exception as error:  # the database is away: the replies wait in it
                log.warning("outbox: cannot claim replies (%s); again in 2s", error)
                await asyncio.sleep(2)
                continue
            if not claimed:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), self.poll)
                continue
            await asyncio.gather(*(self._send(item) for item in claimed))

    def _claim(self) -> list[Claimed]:
        with self.db.session() as session:
            now = self.clock.now()
            if self._pruned is None or now - self._pruned > PRUNE_EVERY:
                outbox.prune(session, now - KEEP)
                self._pruned = now
            return outbox.claim(session, list(self._answers), self.owner, now, LEASE, BATCH)

    async def _send(self, item: Claimed) -> None:
        reply, hints = wire.loads(item.payload)
        try:
            await self._answers[item.platform](Ref.parse(item.target), reply, hints)
        except ChatUnavailable as error:  # blocked, removed, gone: trying again cannot help
            log.info("reply %s to %s not deliverable: %s", item.id, item.target, error)
            await self._write(outbox.finish, item.id, "failed", self.clock.now(), str(error))
            return
        except Exception as error:  # the platform or the network failed us
            attempt = item.attempts - 1
            log.warning(
                "reply %s to %s failed (attempt %d): %r", item.id, item.target, attempt + 1, error
            )
            if attempt < len(RETRY_DELAYS):
                at = self.clock.now() + RETRY_DELAYS[attempt]
                await self._write(outbox.retry, item.id, at, repr(error))
            else:
                await self._write(outbox.finish, item.id, "failed", self.clock.now(), repr(error))
            return
        await self._write(outbox.finish, item.id, "sent", self.clock.now())

    async def _write(self, change: Callable[..., None], *args: Any) -> None:
        def write() -> None:
            with self.db.session() as session:
                change(session, *args)

        # Given up, the lease runs out and the reply may go a second time.
        await record(write, f"outbox row {args[0]}", retry=self.retry)
