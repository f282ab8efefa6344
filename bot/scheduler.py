"""APScheduler 3.11 in the bot's event loop. One cron job per digest subscription and per
reminder, at its local time in its campaign's time zone; a sync job re-reads the database every
minute, so a time changed by an admin (on any instance) takes effect without a restart. The
jobs only wake `Digests.tick()`/`Reminders.tick()`, which decide from the database what is due,
so a missed or duplicated wake-up cannot send twice or skip a digest."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlmodel import col, select

from bot.digests import Digests, Reminders
from storage.db import Database
from storage.models import Campaign, DigestSubscription, Reminder

SYNC_EVERY = timedelta(minutes=1)


class Schedule:
    def __init__(
        self, scheduler: AsyncIOScheduler, db: Database, digests: Digests, reminders: Reminders
    ) -> None:
        self.scheduler = scheduler
        self.db = db
        self.digests = digests
        self.reminders = reminders
        digests.defer = self.defer

    def start(self) -> None:
        """Catch up at once (a digest missed while down goes out now, marked late), then keep
        the jobs in step with the database."""
        self.scheduler.add_job(
            self.sync,
            IntervalTrigger(seconds=SYNC_EVERY.total_seconds()),
            id="sync",
            next_run_time=datetime.now(UTC),
            coalesce=True,
            max_instances=1,
        )
        self.scheduler.start()

    def defer(self, delay: timedelta, work: Callable[[], Awaitable[None]]) -> None:
        self.scheduler.add_job(
            work, DateTrigger(run_date=datetime.now(UTC) + delay), misfire_grace_time=None
        )

    async def wake(self, kind: str) -> None:
        await (self.digests.tick() if kind == "digest" else self.reminders.tick())

    def wanted(self) -> dict[str, tuple[str, CronTrigger]]:
        """The cron job each enabled subscription and reminder should have right now."""
        jobs: dict[str, tuple[str, CronTrigger]] = {}
        with self.db.session() as session:
            for subscription, campaign in session.exec(
                select(DigestSubscription, Campaign)
                .join(Campaign, col(Campaign.id) == DigestSubscription.campaign_id)
                .where(col(DigestSubscription.enabled).is_(True), Campaign.status == "active")
            ).all():
                jobs[f"digest:{subscription.id}"] = (
                    "digest",
                    CronTrigger(
                        hour=subscription.at.hour,
                        minute=subscription.at.minute,
                        timezone=campaign.timezone,
                    ),
                )
            for reminder, campaign in session.exec(
                select(Reminder, Campaign)
                .join(Campaign, col(Campaign.id) == Reminder.campaign_id)
                .where(col(Reminder.enabled).is_(True), Campaign.status == "active")
            ).all():
                jobs[f"remind:{campaign.id}"] = (
                    "remind",
                    CronTrigger(
                        hour=reminder.at.hour, minute=reminder.at.minute, timezone=campaign.timezone
                    ),
                )
        return jobs

    async def sync(self) -> None:
        await self.digests.tick()
        await self.reminders.tick()
        wanted = await asyncio.to_thread(self.wanted)
        for job in self.scheduler.get_jobs():
            if job.id.startswith(("digest:", "remind:")) and job.id not in wanted:
                job.remove()
        for job_id, (kind, trigger) in wanted.items():
            job = self.scheduler.get_job(job_id)
            if job is None:
                self.scheduler.add_job(
                    self.wake,
                    trigger,
                    args=[kind],
                    id=job_id,
                    coalesce=True,
                    misfire_grace_time=None,
                )
            elif str(job.trigger) != str(trigger):
                job.reschedule(trigger)
