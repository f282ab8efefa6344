"""What the scheduler reads and writes: digest subscriptions and their per-day claims, reminders
and theirs, and who is told what. Claims are unique rows: whoever inserts one sends it, so a
digest or a reminder goes out at most once per day across restarts and instances."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

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


@dataclass(frozen=True)
class Subscription:
    id: int
    campaign: Campaign
    at: time  # in the campaign's time zone
    chat: str  # the chat's key
    chat_title: str


@dataclass(frozen=True)
class Recipient:
    key: str  # an account's or a chat's key
    language: str | None = None


def subscriptions(session: Session) -> list[Subscription]:
    """Every enabled subscription of an active campaign."""
    rows = session.exec(
        select(DigestSubscription, Campaign, Chat)
        .join(Campaign, col(Campaign.id) == DigestSubscription.campaign_id)
        .join(Chat, col(Chat.id) == DigestSubscription.chat_id)
        .where(col(DigestSubscription.enabled).is_(True), Campaign.status == "active")
        .order_by(col(DigestSubscription.id))
    ).all()
    return [Subscription(s.id, c, s.at, chat.key, chat.title) for s, c, chat in rows]  # type: ignore[misc]


def claim_digest(
    session: Session,
    subscription_id: int,
    day: date,
    *,
    instance: str,
    late: bool,
    now: datetime,
    lease: timedelta,
) -> int | None:
    """The delivery id if this call claimed the digest of `day`, None if it was claimed."""
    taken = session.exec(
        select(DigestDelivery.id).where(
            DigestDelivery.subscription_id == subscription_id, DigestDelivery.local_date == day
        )
    ).first()
    if taken is not None:
        return None
    delivery = DigestDelivery(
        subscription_id=subscription_id,
        local_date=day,
        claimed_at=now,
        claimed_by=instance,
        late=late,
        lease_until=now + lease,
    )
    try:
        with session.begin_nested():  # another instance may insert the same row first
            session.add(delivery)
            session.flush()
    except IntegrityError:
        return None
    return delivery.id


@dataclass(frozen=True)
class Stale:
    delivery_id: int
    local_date: date
    attempts: int
    subscription: Subscription


def stale_digests(session: Session, now: datetime) -> list[Stale]:
    """Claimed digests whose lease ran out: their instance died, or a failed attempt set the
    lease to when to try again. Only the subscriptions still enabled."""
    rows = session.exec(
        select(DigestDelivery, DigestSubscription, Campaign, Chat)
        .join(DigestSubscription, col(DigestSubscription.id) == DigestDelivery.subscription_id)
        .join(Campaign, col(Campaign.id) == DigestSubscription.campaign_id)
        .join(Chat, col(Chat.id) == DigestSubscription.chat_id)
        .where(
            DigestDelivery.status == "claimed",
            col(DigestDelivery.lease_until) < now,
            col(DigestSubscription.enabled).is_(True),
        )
        .order_by(col(DigestDelivery.id))
    ).all()
    return [
        Stale(d.id, d.local_date, d.attempts, Subscription(s.id, c, s.at, chat.key, chat.title))  # type: ignore[arg-type]
        for d, s, c, chat in rows
    ]


def release_digest_claims(session: Session, instance: str, now: datetime) -> None:
    """A process starting under `instance`'s name takes over the claims its killed predecessor
    held, at once (their leases would otherwise hold a few minutes)."""
    session.exec(
        update(DigestDelivery)  # type: ignore[call-overload]
        .where(DigestDelivery.status == "claimed", DigestDelivery.claimed_by == instance)
        .values(lease_until=now - timedelta(seconds=1))
    )


def reclaim_digest(
    session: Session,
    delivery_id: int,
    *,
    instance: str,
    late: bool,
    now: datetime,
    lease: timedelta,
) -> bool:
    """Take over a stale claim; False if another instance took it first."""
    taken = session.exec(
        update(DigestDelivery)  # type: ignore[call-overload]
        .where(
            col(DigestDelivery.id) == delivery_id,
            DigestDelivery.status == "claimed",
            col(DigestDelivery.lease_until) < now,
        )
        .values(claimed_by=instance, claimed_at=now, lease_until=now + lease, late=late)
    )
    return bool(taken.rowcount)


def finish_digest(
    session: Session, delivery_id: int, status: str, error: str | None, attempts: int, now: datetime
) -> None:
    """`sent` or `failed` for good."""
    delivery = session.get(DigestDelivery, delivery_id)
    assert delivery is not None
    delivery.status, delivery.error, delivery.attempts = status, error, attempts
    delivery.lease_until = None
    if status == "sent":
        delivery.sent_at = now
    session.add(delivery)


def retry_digest(
    session: Session, delivery_id: int, error: str, attempts: int, at: datetime
) -> None:
    """A failed attempt: any instance tries again from `at`."""
    delivery = session.get(DigestDelivery, delivery_id)
    assert delivery is not None
    delivery.error, delivery.attempts, delivery.lease_until = error[:500], attempts, at
    session.add(delivery)


def disable_subscription(session: Session, subscription_id: int, reason: str) -> None:
    subscription = session.get(DigestSubscription, subscription_id)
    assert subscription is not None
    subscription.enabled, subscription.disabled_reason = False, reason[:200]
    session.add(subscription)


def campaign_admins(session: Session, campaign_id: int) -> list[Recipient]:
    rows = session.exec(
        select(Account.key, Account.language)
        .join(Membership, col(Membership.account_id) == Account.id)
        .where(Membership.campaign_id == campaign_id, Membership.role == "admin")
        .order_by(Account.key)
    ).all()
    return [Recipient(key, language) for key, language in rows]


def reminders(session: Session) -> list[tuple[Campaign, time]]:
    """Every enabled reminder of an active campaign, with its local time."""
    rows = session.exec(
        select(Campaign, Reminder.at)
        .join(Reminder, col(Reminder.campaign_id) == Campaign.id)
        .where(col(Reminder.enabled).is_(True), Campaign.status == "active")
        .order_by(col(Campaign.id))
    ).all()
    return list(rows)  # type: ignore[arg-type]


def claim_reminder(session: Session, team_id: int, day: date, now: datetime) -> bool:
    if session.get(ReminderDelivery, (team_id, day)) is not None:
        return False
    try:
        with session.begin_nested():
            session.add(ReminderDelivery(team_id=team_id, local_date=day, sent_at=now))
            session.flush()
    except IntegrityError:
        return False
    return True


def team_recipients(session: Session, team: Team) -> tuple[list[Recipient], list[Recipient]]:
    """Where a team is nudged: the chats bound to it, else its reporters privately."""
    chats = session.exec(select(Chat.key).where(Chat.team_id == team.id).order_by(Chat.key)).all()
    if chats:
        return [Recipient(key) for key in chats], []
    members = session.exec(
        select(Account.key, Account.language)
        .join(TeamMember, col(TeamMember.account_id) == Account.id)
        .where(TeamMember.team_id == team.id)
        .order_by(Account.key)
    ).all()
    return [], [Recipient(key, language) for key, language in members]
