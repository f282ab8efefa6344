"""Daily digests and reminders, delivered at each campaign's local time.

`tick()` does all the work for one moment and is safe to call at any time, from any number of
instances: each digest is first *claimed* by inserting its (subscription, local date) row, and
only the instance whose insert succeeded sends it. A digest whose time passed while the bot was
down is claimed at the next tick of the same local day and marked late. Everything here is
driven by the injected clock, so tests step time instead of sleeping."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from concurrent.futures import Executor
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from bot import rendering
from bot.delivery import ChatUnavailable, Senders
from handlers.clock import Clock
from handlers.language.calendar import calendar_of, local_now
from handlers.language.i18n import Catalogs
from handlers.language.report_lines import example_line
from handlers.read import digest
from handlers.values import Ref, Reply
from storage import progress, queries, schedule
from storage.db import Database

log = logging.getLogger(__name__)
LATE_AFTER = timedelta(minutes=30)
# Long enough to render and send a digest; an instance that dies lets it run out.
LEASE = timedelta(minutes=5)
# Pauses between a digest's failed attempts; the last one repeats until the local day ends
# (`claim_due` then marks it failed): a platform down for hours must not lose it (SPEC §7).
RETRY_DELAYS = (timedelta(seconds=30), timedelta(minutes=2), timedelta(minutes=10))


@dataclass(frozen=True)
class Claim:
    delivery_id: int
    subscription_id: int
    chat: Ref
    campaign_id: int
    local_date: date
    late: bool
    chat_title: str = ""
    attempts: int = 0  # failed attempts before this one


class Digests:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        catalogs: Catalogs,
        senders: Senders,
        *,
        instance: str,
        language: str = "vi",
        pool: Executor | None = None,
        in_flight: int = 4,
    ) -> None:
        """`pool` renders the digests (worker processes in `tiendo run`); without one they
        render in a thread of this process. At most `in_flight` digests are rendered or being
        sent at once: enough to keep the pool busy while the previous ones wait for the
        platform's rate limit, without holding a minute's worth of charts in memory."""
        self.db = db
        self.clock = clock
        self.catalogs = catalogs
        self.senders = senders
        self.instance = instance
        self.language = language
        self.pool = pool
        self.in_flight = in_flight

    # --- claiming -------------------------------------------------------------------------
    def recover(self) -> None:
        """At start: what a killed predecessor of this instance's name had claimed is sent now
        (marked late if it is), not after its lease."""
        with self.db.session() as session:
            schedule.release_digest_claims(session, self.instance, self.clock.now())

    def claim_due(self) -> list[Claim]:
        """Claim every enabled subscription whose local time has come today and that nobody
        has claimed for today yet, and take over today's claims whose lease ran out (their
        instance died, or a failed attempt's pause is over)."""
        now = self.clock.now()
        claims: list[Claim] = []
        with self.db.session() as session:
            for stale in schedule.stale_digests(session, now):
                subscription = stale.subscription
                here = local_now(subscription.campaign, now)
                if here.date() != stale.local_date:  # the day is over: a digest is its news
                    schedule.finish_digest(
                        session, stale.delivery_id, "failed", "the day ended", stale.attempts, now
                    )
                    continue
                late = here - _due(subscription, here) > LATE_AFTER
                if schedule.reclaim_digest(
                    session,
                    stale.delivery_id,
                    instance=self.instance,
                    late=late,
                    now=now,
                    lease=LEASE,
                ):
                    claims.append(
                        Claim(
                            stale.delivery_id,
                            subscription.id,
                            Ref.parse(subscription.chat),
                            subscription.campaign.id,  # type: ignore[arg-type]
                            stale.local_date,
                            late,
                            subscription.chat_title,
                            stale.attempts,
                        )
                    )
            for subscription in schedule.subscriptions(session):
                here = local_now(subscription.campaign, now)
                due = _due(subscription, here)
                if here < due:
                    continue
                late = here - due > LATE_AFTER
                delivery = schedule.claim_digest(
                    session,
                    subscription.id,
                    here.date(),
                    instance=self.instance,
                    late=late,
                    now=now,
                    lease=LEASE,
                )
                if delivery is not None:
                    claims.append(
                        Claim(
                            delivery,
                            subscription.id,
                            Ref.parse(subscription.chat),
                            subscription.campaign.id,  # type: ignore[arg-type]
                            here.date(),
                            late,
                            subscription.chat_title,
                        )
                    )
        return claims

    # --- sending --------------------------------------------------------------------------
    def render(self, claim: Claim) -> Reply:
        tr = self.catalogs.translator(self.language)
        with self.db.session() as session:
            campaign = queries.campaign(session, claim.campaign_id)
            return digest.build(session, tr, campaign, claim.local_date, late=claim.late)

    def render_campaign(self, code: str, day: date | None, language: str) -> tuple[Reply, date]:
        """The digest of campaign `code` on `day` (default: today where the campaign is), for
        `tiendo digest`; LookupError if there is no such campaign."""
        with self.db.session() as session:
            campaign = queries.campaign_by_code(session, code)
            if campaign is None:
                raise LookupError(code)
            day = day or local_now(campaign, self.clock.now()).date()
            tr = self.catalogs.translator(language)
            return digest.build(session, tr, campaign, day), day

    async def _render(self, claim: Claim) -> Reply:
        if self.pool is None:
            return await asyncio.to_thread(self.render, claim)
        return await asyncio.get_running_loop().run_in_executor(
            self.pool,
            rendering.render,
            self.db.url,
            claim.campaign_id,
            claim.local_date,
            self.language,
            claim.late,
        )

    async def tick(self) -> list[Claim]:
        """Claim what is due, then render and hand each digest to the outbox concurrently,
        `in_flight` at a time; the adapters' rate limiters pace what goes out."""
        claims = await asyncio.to_thread(self.claim_due)
        slots = asyncio.Semaphore(self.in_flight)

        async def one(claim: Claim) -> None:
            async with slots:
                await self.deliver(claim)

        await asyncio.gather(*(one(claim) for claim in claims))
        return claims

    async def deliver(self, claim: Claim) -> None:
        """Render (off the event loop: charts are CPU work) and send. A failed send is tried
        again after a pause, by whichever instance ticks first then; a refusing chat is
        unsubscribed and its admins are told."""
        attempt = claim.attempts
        try:
            reply = await self._render(claim)
            await self.senders.send(claim.chat, reply)
        except ChatUnavailable as error:
            await asyncio.to_thread(self._finish, claim, "failed", str(error))
            await self._disable(claim, str(error))
            return
        except Exception as error:
            log.warning(
                "digest %s to %s failed (attempt %d): %s",
                claim.delivery_id,
                claim.chat,
                attempt + 1,
                error,
            )
            pause = RETRY_DELAYS[min(attempt, len(RETRY_DELAYS) - 1)]
            await asyncio.to_thread(self._retry, claim, str(error), pause)
            return
        await asyncio.to_thread(self._finish, claim, "sent", None)

    def _finish(self, claim: Claim, status: str, error: str | None) -> None:
        with self.db.session() as session:
            schedule.finish_digest(
                session, claim.delivery_id, status, error, claim.attempts + 1, self.clock.now()
            )

    def _retry(self, claim: Claim, error: str, pause: timedelta) -> None:
        with self.db.session() as session:
            schedule.retry_digest(
                session, claim.delivery_id, error, claim.attempts + 1, self.clock.now() + pause
            )

    async def _disable(self, claim: Claim, reason: str) -> None:
        admins = await asyncio.to_thread(self._disable_and_find_admins, claim, reason)
        for admin in admins:
            notice = self.catalogs.translator(admin.language or self.language)._(
                "The daily digest could not be delivered to {chat} ({reason}), so it is switched "
                "off there. Add the bot back, then send /digest here in that chat.",
                # Admins know the group by its name; the key tells apart two of the same name.
                chat=f"“{claim.chat_title}” ({claim.chat})" if claim.chat_title else claim.chat,
                reason=reason,
            )
            try:
                await self.senders.send_private(Ref.parse(admin.key), Reply(notice))
            except Exception as error:  # an admin who never started the bot: nothing to do
                log.info("could not tell %s: %s", admin.key, error)

    def _disable_and_find_admins(self, claim: Claim, reason: str) -> list[schedule.Recipient]:
        with self.db.session() as session:
            schedule.disable_subscription(session, claim.subscription_id, reason)
            return schedule.campaign_admins(session, claim.campaign_id)


def _due(subscription: schedule.Subscription, here: datetime) -> datetime:
    """Today's sending time of a subscription, in the campaign's local time `here` is in."""
    return here.replace(
        hour=subscription.at.hour, minute=subscription.at.minute, second=0, microsecond=0
    )


@dataclass(frozen=True)
class Nudge:
    """A reminder due for one team: its bound chats, else its reporters (with their language)."""

    team_code: str
    team_name: str
    day: date
    chats: tuple[Ref, ...]
    people: tuple[tuple[Ref, str | None], ...]
    example: str  # a report in the campaign's own words


class Reminders:
    """At a campaign's reminder time, nudge each team that has not reported today: in the
    chats bound to it, else privately to its reporters who have a chat with the bot."""

    def __init__(
        self, db: Database, clock: Clock, catalogs: Catalogs, senders: Senders, language: str = "vi"
    ) -> None:
        self.db = db
        self.clock = clock
        self.catalogs = catalogs
        self.senders = senders
        self.language = language

    def claim_due(self) -> list[Nudge]:
        now = self.clock.now()
        due = []
        with self.db.session() as session:
            for campaign, at in schedule.reminders(session):
                assert campaign.id is not None
                here = local_now(campaign, now)
                today = here.date()
                if here.time() < at or calendar_of(campaign).is_rest(today):
                    continue
                reported = progress.teams_reported(session, campaign.id, today)
                example = example_line(queries.metrics(session, campaign.id))
                for team in queries.teams(session, campaign.id):
                    assert team.id is not None
                    if team.id in reported or not schedule.claim_reminder(
                        session, team.id, today, now
                    ):
                        continue
                    chats, people = schedule.team_recipients(session, team)
                    due.append(
                        Nudge(
                            team.code,
                            team.name,
                            today,
                            tuple(Ref.parse(c.key) for c in chats),
                            tuple((Ref.parse(p.key), p.language) for p in people),
                            example,
                        )
                    )
        return due

    async def tick(self) -> Sequence[Nudge]:
        due = await asyncio.to_thread(self.claim_due)
        for nudge in due:
            for chat in nudge.chats:
                await self._send(chat, self.language, nudge, private=False)
            for person, language in nudge.people:
                await self._send(person, language or self.language, nudge, private=True)
        return due

    async def _send(self, ref: Ref, language: str, nudge: Nudge, *, private: bool) -> None:
        tr = self.catalogs.translator(language)
        reply = Reply(
            tr._(
                "⏰ Team {team} has not reported today. Send it now, e.g. {example}",
                team=nudge.team_name,
                example=nudge.example,
            )
        )
        try:
            if private:
                await self.senders.send_private(ref, reply)
            else:
                await self.senders.send(ref, reply)
        except Exception as error:  # a reminder is a nudge: log and move on
            log.info("reminder to %s failed: %s", ref, error)
