"""The loop the inbox and the outbox share: claim a batch of rows with a lease, work them
concurrently, and when there is nothing, wait to be woken (new work here) or for the poll
interval (work another instance stored). A row this instance wrote and claimed in the same
transaction is worked at once, without a claim or a wake-up (`_start`). At start, what a killed
predecessor of the same name held is taken back."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from typing import Any

from bot.delivery import RECORD_RETRY, record
from handlers.clock import Clock
from storage.db import Database

log = logging.getLogger(__name__)

RETRY_CLAIM = 2.0  # seconds: the database did not answer a claim
PRUNE_EVERY = timedelta(hours=1)


class Worker(ABC):
    name = "worker"
    batch = 100  # rows in work at once: the loop claims more as earlier ones finish

    def __init__(
        self, db: Database, clock: Clock, owner: str, *, poll: float, retry: float = RECORD_RETRY
    ) -> None:
        self.db = db
        self.clock = clock
        self.owner = owner
        self.poll = poll
        self.retry = retry  # seconds between tries to record a row's new state
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._pruned: datetime | None = None
        self._pending: list[tuple[Any, tuple[Any, ...], asyncio.Future[None]]] = []
        self._flusher: asyncio.Task[None] | None = None
        self._writing: list[asyncio.Future[None]] = []  # the states being written now
        self._running: set[asyncio.Task[None]] = set()  # rows in work, or waiting for a slot
        # Their ids: a row whose lease ran out while it was still in work here (the database
        # was away longer than the lease) is claimed again by the loop, and must not be
        # worked a second time beside the first.
        self._in_work: set[int] = set()
        # At most `batch` rows are worked at once, however they were claimed: a kill repeats
        # at most that many replies (sent, not yet marked sent).
        self._slots = asyncio.Semaphore(self.batch)
        self._full = False  # the last claim took all the room: claim again as work finishes
        self._behind: set[str] = set()  # groups with rows waiting behind one worked here
        self._loop: asyncio.AbstractEventLoop | None = None
        # The rows' new states are written in the worker's own thread, not in the loop's shared
        # one: there they queued behind every command of a burst (~0.7 s), and a row keeps its
        # place until its state is written, so sent replies held up the next. Claims stay in
        # the shared threads: here, run at once, they cost a burst ~15 % more CPU a report.
        self._thread: ThreadPoolExecutor | None = None

    async def _in_thread(self, call: Callable[..., Any], *args: Any) -> Any:
        if self._thread is None:
            return await asyncio.to_thread(call, *args)
        return await asyncio.get_running_loop().run_in_executor(self._thread, call, *args)

    def wake(self) -> None:
        self._wake.set()

    @property
    def working(self) -> bool:
        """Started, with what a predecessor of the same name held taken back."""
        return self._task is not None

    def _start(self, item: Any, group: str, *, claimed: bool = False) -> None:
        """Work `item` now, beside the rest; then let the loop take the rows of its group that
        waited behind it, or more rows if it had no room for them. What the loop `claimed`
        may have rows stored behind it anywhere: the loop looks again once it is done."""
        if item.id in self._in_work:
            return  # claimed again while in work here: its lease is only longer now
        self._in_work.add(item.id)

        async def work() -> None:
            try:
                async with self._slots:
                    await self._work(item)
            finally:
                self._in_work.discard(item.id)
                if claimed or group in self._behind or self._full:
                    self._behind.discard(group)
                    self._full = False
                    self.wake()

        task = asyncio.create_task(work(), name=f"{self.name} row {item.id}")
        self._running.add(task)
        task.add_done_callback(self._running.discard)

    def _waits(self, group: str) -> None:
        """A row of `group` was written behind one that is being worked: the loop takes it."""
        self._behind.add(group)
        self.wake()

    @abstractmethod
    def _has_work(self) -> bool:
        """Whether anything is registered to work for."""

    @abstractmethod
    def _claim_rows(self, session: Any, now: datetime, limit: int) -> Sequence[Any]: ...

    @abstractmethod
    def _group_of(self, item: Any) -> str:
        """The group (chat, target) whose rows are worked in order."""

    @abstractmethod
    def _prune(self, session: Any, now: datetime) -> None: ...

    @abstractmethod
    def _release_owner(self, session: Any) -> None: ...

    @abstractmethod
    async def _work(self, item: Any) -> None: ...

    async def start(self) -> None:
        """Take back what a killed predecessor of the same name held, then work."""
        self._loop = asyncio.get_running_loop()
        if self._thread is None:
            self._thread = ThreadPoolExecutor(1, thread_name_prefix=self.name)
        try:
            await self._in_thread(self._write, self._release_owner)
        except Exception as error:  # the database is away: those leases run out instead
            log.warning(
                "%s %s: could not take back earlier claims: %s", self.name, self.owner, error
            )
        if self._has_work() and self._task is None:
            self._task = asyncio.create_task(self._run(), name=self.name)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        for running in list(self._running):
            running.cancel()
        await asyncio.gather(*self._running, return_exceptions=True)
        if self._thread is not None:
            self._thread.shutdown(wait=False)  # a write under way ends on its own
            self._thread = None

    async def _run(self) -> None:
        # Rows are worked side by side and the loop claims more as soon as there is room, so
        # one chat whose platform hangs holds up its own replies, not everyone's.
        while True:
            self._wake.clear()
            room = self.batch - len(self._running)  # rows waiting for a slot count too
            # What finished here is recorded before claiming again: a row sent while the
            # database was away must not be taken for one whose lease ran out unsent.
            unwritten = [done for done in self._writing if not done.done()]
            unwritten += [done for *_, done in self._pending]
            if unwritten:
                await asyncio.wait(unwritten)
            if room > 0:
                try:
                    claimed = await asyncio.to_thread(self._claim, room)
                except Exception as error:  # the database is away: what is stored waits
                    log.warning(
                        "%s: cannot claim (%s); again in %ss", self.name, error, RETRY_CLAIM
                    )
                    await asyncio.sleep(RETRY_CLAIM)
                    continue
                self._full = len(claimed) == room
                for item in claimed:
                    self._start(item, self._group_of(item), claimed=True)
            else:
                self._full = True
            # Not wait_for: on Python 3.11 it can swallow a cancellation that comes as the
            # event is set (work finishing as the runtime stops), and the loop never ends.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.poll):
                    await self._wake.wait()

    def _claim(self, limit: int) -> Sequence[Any]:
        with self.db.session() as session:
            now = self.clock.now()
            if self._pruned is None or now - self._pruned > PRUNE_EVERY:
                self._prune(session, now)
                self._pruned = now
            return self._claim_rows(session, now, limit)

    def _write(self, change: Any, *args: Any) -> None:
        with self.db.session() as session:
            change(session, *args)

    async def _update(self, change: Any, *args: Any) -> None:
        """A row's new state, tried again while the database is away; given up, the row's
        lease runs out and it is worked again (at worst a reply goes twice). What concurrent
        work records while one write is under way goes in the next one, together."""
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._pending.append((change, args, done))
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._flush(), name=f"{self.name} writes")
        await done

    async def _flush(self) -> None:
        while self._pending:
            batch, self._pending = self._pending, []
            self._writing = [done for *_, done in batch]

            def write(batch: list[Any] = batch) -> None:
                with self.db.session() as session:
                    for change, args, _ in batch:
                        change(session, *args)

            await record(
                write, f"{self.name}: {len(batch)} row(s)", retry=self.retry, run=self._in_thread
            )
            for *_, done in batch:
                if not done.done():
                    done.set_result(None)
