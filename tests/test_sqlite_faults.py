"""SQLite faults that are real, not injected (issue #11): another process holds the write lock
for much longer than tiendo's busy timeout while reports arrive through the real Telegram
adapter. Nothing is acknowledged to Telegram before it is stored, nobody gets an apology, and
once the lock is gone every report is recorded once and confirmed once; a reply sent just
before the lock came is not sent again, however long the lock is held. (The read-only file is
in tests/test_readonly.py; injected outages of both databases in tests/test_faults.py.)"""

from __future__ import annotations

import asyncio
import logging
import re
import sys
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event
from sqlmodel import col, func, select

from bot.app import build
from bot.config import Config
from bot.delivery import RECORD_TRIES
from bot.runtime import Runtime
from bot.tuning import Tuning
from handlers.clock import SystemClock
from storage.db import Database
from storage.models import Delivery, Report
from tests.fakes.telegram_api import FakeTelegram
from tests.faults import APOLOGIES, tally
from tests.scenarios import join_reporters, replies, telegram_config

FAST = Tuning(retry_backoff=0.01, poll_timeout=1, worker_poll=0.1, record_retry=0.2)
BUSY = 0.2  # seconds: tiendo gives up on the lock this fast; the other process holds it longer

# Another process (a backup, an operator's `sqlite3` shell) takes the write lock and keeps it
# until told to let go on its standard input.
HOLDER = """
import sqlite3, sys
connection = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=60)
connection.execute("BEGIN EXCLUSIVE")
print("locked", flush=True)
sys.stdin.readline()
connection.execute("COMMIT")
print("released", flush=True)
"""


class Lock:
    """The write lock of the SQLite file `path`, held by another process while inside."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.process: asyncio.subprocess.Process | None = None

    async def __aenter__(self) -> Lock:
        if self.process is not None:  # taken already (at a moment the test chose)
            return self
        self.process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-c",
            HOLDER,
            str(self.path),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
        )
        assert self.process.stdout is not None
        assert await asyncio.wait_for(self.process.stdout.readline(), 60) == b"locked\n"
        return self

    async def __aexit__(self, *_exc: object) -> None:
        assert self.process is not None and self.process.stdin and self.process.stdout
        self.process.stdin.write(b"go\n")
        await self.process.stdin.drain()
        assert await asyncio.wait_for(self.process.stdout.readline(), 60) == b"released\n"
        assert await self.process.wait() == 0


class Locked:
    """Counts the statements that failed on SQLite's lock ("database is locked")."""

    def __init__(self, db: Database) -> None:
        self.count = 0
        event.listen(db.engine, "handle_error", self._error)

    def _error(self, context: Any) -> None:
        if "locked" in str(context.original_exception):
            self.count += 1


class Ahead:
    """The system clock, `skip`ped forward on demand: leases run out without waiting."""

    def __init__(self) -> None:
        self.offset = timedelta()

    def now(self) -> datetime:
        return datetime.now(UTC) + self.offset

    def skip(self, delta: timedelta) -> None:
        self.offset += delta


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram() as fake:
        yield fake
        assert fake.violations == []


def stored_values(reader: Database) -> int:
    """Reports stored so far, read without a write lock (WAL readers pass a held lock)."""
    with reader.session() as session:
        return session.exec(select(func.count()).select_from(Report)).one()


async def test_a_write_lock_held_past_the_busy_timeout_loses_nothing_and_asks_nobody_again(
    fake: FakeTelegram, tmp_path: Path
) -> None:
    path = tmp_path / "tiendo.db"
    db = Database(f"sqlite:///{path}", busy_timeout=BUSY)
    db.create_all()
    reader = Database(f"sqlite:///{path}", read_only=True)
    locked = Locked(db)
    runtime = Runtime(
        build(telegram_config(fake), clock=SystemClock(), db=db, adapters=True, tuning=FAST)
    )
    await runtime.start()
    try:
        people = await join_reporters(fake, 8, timeout=30)
        chats = [chat for chat, _ in people]
        # Each report its own value; eight a chat in the first burst, handled one after
        # another in each chat, so some are in hand when the lock comes.
        values = [float(100 + n) for n in range(88)]
        first, second = values[:64], values[64:]
        for n, value in enumerate(first):
            chat, user = people[n % len(people)]
            fake.push_message(chat, user, f"/report {value:g} hộ")
        # The lock is taken while the first burst is stored and being handled ...
        await fake.wait_for(lambda: tally(reader, values, replies(fake, chats)).confirmed >= 1, 30)
        async with Lock(path):
            before = stored_values(reader)
            in_hand = claimed_open(reader)  # their handling cannot commit now
            polls = len(fake.calls_of("getUpdates"))
            # ... and the second burst arrives while it is held.
            burst = [
                fake.push_message(*people[n % len(people)], f"/report {value:g} hộ")["update_id"]
                for n, value in enumerate(second)
            ]
            # Telegram handed the burst over at least twice: fetched, not stored, fetched again.
            await fake.wait_for(
                lambda: (
                    len(fake.calls_of("getUpdates")) >= polls + 3
                    or not set(burst) <= set(fake.unconfirmed())
                ),  # acknowledged: fails below
                30,
            )
            assert locked.count > 0
            assert set(burst) <= set(fake.unconfirmed())  # not acknowledged
            offsets = [c.params.get("offset", 0) for c in fake.calls_of("getUpdates")[polls:]]
            assert max(offsets) <= min(burst)
            assert stored_values(reader) == before  # nothing was written under the lock
            shown = replies(fake, chats)
            assert not any(a in t.lower() for t in shown for a in APOLOGIES), shown

        def all_confirmed() -> bool:
            return tally(reader, values, replies(fake, chats)).confirmed == len(values)

        await fake.wait_for(all_confirmed, timeout=90)
        await asyncio.sleep(1)  # a doubled confirmation would arrive now
        result = tally(reader, values, replies(fake, chats))
        assert fake.unconfirmed() == [] or max(fake.unconfirmed()) > max(burst)
        with reader.session() as session:
            retried = session.exec(
                select(func.count()).select_from(Delivery).where(col(Delivery.attempts) > 1)
            ).one()
    finally:
        await runtime.stop()
        reader.dispose()
        db.dispose()
    assert result.ok, result
    assert result.confirmed_twice == 0, result
    # Deliveries of the first burst in hand when the lock came were released, tried again.
    # (How many are in hand then depends on timing: the bursts are handled as they arrive.)
    assert retried >= in_hand, (retried, in_hand)


def claimed_open(reader: Database) -> int:
    with reader.session() as session:
        return session.exec(
            select(func.count())
            .select_from(Delivery)
            .where(col(Delivery.done_at).is_(None), col(Delivery.lease_owner).is_not(None))
        ).one()


def test_the_busy_timeout_is_the_configured_one(tmp_path: Path) -> None:
    config = Config()
    config.database.url = f"sqlite:///{tmp_path / 'tiendo.db'}"
    config.database.busy_timeout = 0.25
    app = build(config)
    try:
        with app.db.engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() == 250
    finally:
        app.db.dispose()


async def test_a_lock_held_past_the_tries_to_record_a_reply_sends_it_once(
    fake: FakeTelegram, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Replies sent just before the lock came cannot be marked sent while it is held. However
    long it lasts, the outbox keeps trying: had it given up, each would go out again once its
    lease ran out (the clock skips past it here)."""
    caplog.set_level(logging.INFO, logger="bot.delivery")
    path = tmp_path / "tiendo.db"
    db = Database(f"sqlite:///{path}", busy_timeout=BUSY)
    db.create_all()
    reader = Database(f"sqlite:///{path}", read_only=True)
    clock = Ahead()
    runtime = Runtime(build(telegram_config(fake), clock=clock, db=db, adapters=True, tuning=FAST))
    await runtime.start()

    def outbox_tries() -> int:
        # Tries to mark replies sent: the outbox writes one batch at a time, and the first
        # one, under the lock, holds the rest back, so these are that batch's tries.
        return sum(
            1
            for r in caplog.records
            if re.match(r"outbox: \d+ row\(s\) not recorded", r.getMessage())
        )

    try:
        people = await join_reporters(fake, 8, timeout=30)
        chats = [chat for chat, _ in people]
        values = [float(100 + n) for n in range(24)]
        lock = Lock(path)
        taken = asyncio.Event()

        async def lock_on_first_confirmation(call: Any) -> None:
            if "✅" in str(call.params.get("text")) and fake.before_answer is not None:
                fake.before_answer = None  # the first one only
                await lock.__aenter__()  # the reply is sent; the bot hears so under the lock
                taken.set()

        fake.before_answer = lock_on_first_confirmation
        for n, value in enumerate(values):
            fake.push_message(*people[n % len(people)], f"/report {value:g} hộ")
        await asyncio.wait_for(taken.wait(), 30)
        async with lock:
            # Held until that reply has been tried as often as the outbox used to try.
            await fake.wait_for(lambda: outbox_tries() >= RECORD_TRIES, timeout=60)
        clock.skip(timedelta(minutes=5))  # every lease taken before the lock has run out

        def all_confirmed() -> bool:
            return tally(reader, values, replies(fake, chats)).confirmed == len(values)

        await fake.wait_for(all_confirmed, timeout=60)
        await asyncio.sleep(1)  # a doubled confirmation would arrive now
        result = tally(reader, values, replies(fake, chats))
    finally:
        await runtime.stop()
        reader.dispose()
        db.dispose()
    assert result.ok, result
    assert result.confirmed_twice == 0, result
