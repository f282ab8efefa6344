"""Daily digests and reminders, delivered at each campaign's local time.

`tick()` does all the work for one moment and is safe to call at any time, from any number of
instances: each digest is first *claimed* by inserting its (subscription, local date) row, and
only the instance whose insert succeeded sends it. A digest whose time passed while the bot was
down is claimed at the next tick of the same local day and marked late. Everything here is
driven by the injected clock, so tests step time instead of sleeping."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from bot.delivery import ChatUnavailable, Outbox
from handlers import digest
from handlers.clock import Clock
from handlers.i18n import Catalogs
from handlers.values import Ref, Reply
from storage import progress
from storage.db import Database
from storage.models import (
    Account,
    Campaign,
    Chat,
    DigestDelivery,
    DigestSubscription,
    Membership,
    Reminder,
    ReminderDelivery,
    Team,
    TeamMember,
)

log = logging.getLogger(__name__)
LATE_AFTER = timedelta(minutes=30)
RETRY_DELAYS = (timedelta(seconds=30), timedelta(minutes=2), timedelta(minutes=10))


Defer = Callable[[timedelta, Callable[[], Awaitable[None]]], None]


def _sleep_then(delay: timedelta, work: Callable[[], Awaitable[None]]) -> None:
    async def later() -> None:
        await asyncio.sleep(delay.total_seconds())
        await work()

    asyncio.get_running_loop().create_task(later())


@dataclass(frozen=True)
class Claim:
    delivery_id: int
    subscription_id: int
    chat: str
    campaign_id: int
    local_date: date
    late: bool
    chat_title: str = ""


def local(campaign: Campaign, now: datetime) -> datetime:
    return now.astimezone(ZoneInfo(campaign.timezone))


class Digests:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        catalogs: Catalogs,
        outbox: Outbox,
        instance: str,
        language: str = "vi",
        defer: Defer | None = None,
    ) -> None:
        self.db = db
        self.clock = clock
        self.catalogs = catalogs
        self.outbox = outbox
        self.instance = instance
        self.language = language
        # How a retry comes back later: the scheduler's date jobs; by default, a plain wait.
        self.defer = defer or _sleep_then

    # --- claiming -------------------------------------------------------------------------
    def claim_due(self) -> list[Claim]:
        """Claim every enabled subscription whose local time has come today and that nobody
        has claimed for today yet."""
        now = self.clock.now()
        claims: list[Claim] = []
        with self.db.session() as session:
            rows = session.exec(
                select(DigestSubscription, Campaign, Chat)
                .join(Campaign, col(Campaign.id) == DigestSubscription.campaign_id)
                .join(Chat, col(Chat.id) == DigestSubscription.chat_id)
                .where(col(DigestSubscription.enabled).is_(True), Campaign.status == "active")
            ).all()
            for subscription, campaign, chat in rows:
                here = local(campaign, now)
                due = here.replace(
                    hour=subscription.at.hour,
                    minute=subscription.at.minute,
                    second=0,
                    microsecond=0,
                )
                if here < due:
                    continue
                claim = self._claim(
                    session, subscription, chat, here.date(), late=here - due > LATE_AFTER, now=now
                )
                if claim is not None:
                    claims.append(claim)
        return claims

    def _claim(
        self,
        session: Session,
        subscription: DigestSubscription,
        chat: Chat,
        day: date,
        *,
        late: bool,
        now: datetime,
    ) -> Claim | None:
        exists = session.exec(
            select(DigestDelivery.id).where(
                DigestDelivery.subscription_id == subscription.id, DigestDelivery.local_date == day
            )
        ).first()
        if exists is not None:
            return None
        delivery = DigestDelivery(
            subscription_id=subscription.id,
            local_date=day,  # type: ignore[arg-type]
            claimed_at=now,
            claimed_by=self.instance,
            late=late,
        )
        try:
            with session.begin_nested():  # another instance may insert the same row first
                session.add(delivery)
                session.flush()
        except IntegrityError:
            return None
        return Claim(
            delivery.id,  # type: ignore[arg-type]
            subscription.id,  # type: ignore[arg-type]
            chat.key,
            subscription.campaign_id,
            day,
            late,
            chat.title,
        )

    # --- sending --------------------------------------------------------------------------
    def render(self, claim: Claim) -> Reply:
        tr = self.catalogs.translator(self.language)
        with self.db.session() as session:
            campaign = session.get(Campaign, claim.campaign_id)
            assert campaign is not None
            return digest.build(session, tr, campaign, claim.local_date, late=claim.late)

    async def tick(self) -> list[Claim]:
        claims = await asyncio.to_thread(self.claim_due)
        for claim in claims:
            await self.deliver(claim)
        return claims

    async def deliver(self, claim: Claim, *, attempt: int = 0) -> None:
        """Render (off the event loop: charts are CPU work) and send; a failed send is retried
        with back-off, a refusing chat is unsubscribed and its admins are told."""
        try:
            reply = await asyncio.to_thread(self.render, claim)
            await self.outbox.send(Ref.parse(claim.chat), reply)
        except ChatUnavailable as error:
            await asyncio.to_thread(self._finish, claim, "failed", str(error), attempt)
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
            if attempt < len(RETRY_DELAYS):
                await asyncio.to_thread(self._finish, claim, "claimed", str(error), attempt)
                self.defer(RETRY_DELAYS[attempt], lambda: self.deliver(claim, attempt=attempt + 1))
            else:
                await asyncio.to_thread(self._finish, claim, "failed", str(error), attempt)
            return
        await asyncio.to_thread(self._finish, claim, "sent", None, attempt)

    def _finish(self, claim: Claim, status: str, error: str | None, attempt: int) -> None:
        with self.db.session() as session:
            delivery = session.get(DigestDelivery, claim.delivery_id)
            assert delivery is not None
            delivery.status, delivery.error, delivery.attempts = status, error, attempt + 1
            if status == "sent":
                delivery.sent_at = self.clock.now()
            session.add(delivery)

    async def _disable(self, claim: Claim, reason: str) -> None:
        admins = await asyncio.to_thread(self._disable_and_find_admins, claim, reason)
        for key, language in admins:
            notice = self.catalogs.translator(language or self.language)._(
                "The daily digest could not be delivered to {chat} ({reason}), so it is switched "
                "off there. Add the bot back, then send /digest here in that chat.",
                # Admins know the group by its name; the key tells apart two of the same name.
                chat=f"“{claim.chat_title}” ({claim.chat})" if claim.chat_title else claim.chat,
                reason=reason,
            )
            try:
                await self.outbox.send_private(Ref.parse(key), Reply(notice))
            except Exception as error:  # an admin who never started the bot: nothing to do
                log.info("could not tell %s: %s", key, error)

    def _disable_and_find_admins(self, claim: Claim, reason: str) -> list[tuple[str, str | None]]:
        with self.db.session() as session:
            subscription = session.get(DigestSubscription, claim.subscription_id)
            assert subscription is not None
            subscription.enabled, subscription.disabled_reason = False, reason[:200]
            session.add(subscription)
            return list(
                session.exec(
                    select(Account.key, Account.language)
                    .join(Membership, col(Membership.account_id) == Account.id)
                    .where(Membership.campaign_id == claim.campaign_id, Membership.role == "admin")
                ).all()
            )


class Reminders:
    """At a campaign's reminder time, nudge each team that has not reported today: in the
    chats bound to it, else privately to its reporters who have a chat with the bot."""

    def __init__(
        self, db: Database, clock: Clock, catalogs: Catalogs, outbox: Outbox, language: str = "vi"
    ) -> None:
        self.db = db
        self.clock = clock
        self.catalogs = catalogs
        self.outbox = outbox
        self.language = language

    def claim_due(self) -> list[tuple[Team, date, list[str], list[tuple[str, str | None]]]]:
        now = self.clock.now()
        due = []
        with self.db.session() as session:
            rows = session.exec(
                select(Reminder, Campaign)
                .join(Campaign, col(Campaign.id) == Reminder.campaign_id)
                .where(col(Reminder.enabled).is_(True), Campaign.status == "active")
            ).all()
            for reminder, campaign in rows:
                here = local(campaign, now)
                today = here.date()
                if here.time() < reminder.at or digest.calendar_of(campaign).is_rest(today):
                    continue
                reported = progress.teams_reported(session, campaign.id, today)  # type: ignore[arg-type]
                for team in session.exec(select(Team).where(Team.campaign_id == campaign.id)):
                    if team.id in reported or not self._claim(session, team, today, now):
                        continue
                    due.append((team, today, *self._recipients(session, team)))
        return due

    def _claim(self, session: Session, team: Team, day: date, now: datetime) -> bool:
        if session.get(ReminderDelivery, (team.id, day)) is not None:
            return False
        try:
            with session.begin_nested():
                session.add(ReminderDelivery(team_id=team.id, local_date=day, sent_at=now))  # type: ignore[arg-type]
                session.flush()
        except IntegrityError:
            return False
        return True

    def _recipients(
        self, session: Session, team: Team
    ) -> tuple[list[str], list[tuple[str, str | None]]]:
        chats = list(session.exec(select(Chat.key).where(Chat.team_id == team.id)).all())
        if chats:
            return chats, []
        members = session.exec(
            select(Account.key, Account.language)
            .join(TeamMember, col(TeamMember.account_id) == Account.id)
            .where(TeamMember.team_id == team.id)
        ).all()
        return [], list(members)

    async def tick(self) -> Sequence[tuple[Team, date, list[str], list[tuple[str, str | None]]]]:
        due = await asyncio.to_thread(self.claim_due)
        for team, _day, chats, people in due:
            for chat in chats:
                await self._send(Ref.parse(chat), self.language, team, private=False)
            for key, language in people:
                await self._send(Ref.parse(key), language or self.language, team, private=True)
        return due

    async def _send(self, ref: Ref, language: str, team: Team, *, private: bool) -> None:
        tr = self.catalogs.translator(language)
        reply = Reply(
            tr._(
                "⏰ Team {team} has not reported today. Send it now, e.g. {example}",
                team=team.name,
                example="/report 12 hộ",
            )
        )
        try:
            if private:
                await self.outbox.send_private(ref, reply)
            else:
                await self.outbox.send(ref, reply)
        except Exception as error:  # a reminder is a nudge: log and move on
            log.info("reminder to %s failed: %s", ref, error)
