"""APScheduler 3.11 in the bot's event loop: one job that wakes at the start of every minute and
asks `Digests.tick()` and `Reminders.tick()` what is due. They decide from the database, in each
campaign's own time zone, so a time an admin changed (on any instance) counts at the next
minute, and a missed or doubled wake-up can neither skip a digest nor send one twice. Retries
are in the database too (a claim whose lease runs out is taken again)."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger

from bot.digests import Digests, Reminders

log = logging.getLogger(__name__)


class Schedule:
    def __init__(self, scheduler: AsyncIOScheduler, digests: Digests, reminders: Reminders) -> None:
        self.scheduler = scheduler
        self.digests = digests
        self.reminders = reminders
        self._recovered = False

    def start(self) -> None:
        """Tick now (a digest missed while down goes out at once, marked late), then at the
        start of every minute."""
        self.scheduler.add_job(
            self.tick,
            CronTrigger(second=0, timezone=UTC),
            id="tick",
            next_run_time=datetime.now(UTC),
            coalesce=True,
            max_instances=1,
            misfire_grace_time=None,
        )
        self.scheduler.start()

    def stop(self) -> None:
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)

    async def tick(self) -> None:
        if not self._recovered:
            try:
                await asyncio.to_thread(self.digests.recover)
                self._recovered = True
            except Exception:
                log.exception("could not take back earlier digest claims; again next minute")
        for work in (self.digests.tick, self.reminders.tick):
            try:
                await work()
            except Exception:  # the database is away: the next minute tries again
                log.exception("scheduled work failed; again at the next minute")
