"""Look-ups shared by the handlers. Each takes the session of the current unit of work."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlmodel import Session, col, select

from storage.models import (
    Account,
    Campaign,
    Chat,
    DigestSubscription,
    Membership,
    Metric,
    Team,
    TeamMember,
    Unit,
)


def get_or_create_account(session: Session, key: str, name: str, now: datetime) -> Account:
    account = session.exec(select(Account).where(Account.key == key)).first()
    if account is None:
        account = Account(key=key, display_name=name, created_at=now)
        session.add(account)
        session.flush()
    elif name and account.display_name != name:
        account.display_name = name
    return account


def get_or_create_chat(
    session: Session, key: str, title: str, is_group: bool, now: datetime
) -> Chat:
    chat = session.exec(select(Chat).where(Chat.key == key)).first()
    if chat is None:
        chat = Chat(key=key, title=title, is_group=is_group, created_at=now)
        session.add(chat)
        session.flush()
    elif title and chat.title != title:
        chat.title = title
    return chat


def account_by_key(session: Session, key: str) -> Account | None:
    return session.exec(select(Account).where(Account.key == key)).first()


def campaign_by_code(session: Session, code: str) -> Campaign | None:
    return session.exec(select(Campaign).where(Campaign.code == code.lower())).first()


def all_campaigns(session: Session) -> Sequence[Campaign]:
    return session.exec(select(Campaign).order_by(Campaign.code)).all()


def memberships(session: Session, account_id: int) -> Sequence[tuple[Membership, Campaign]]:
    return session.exec(
        select(Membership, Campaign)
        .join(Campaign, col(Campaign.id) == Membership.campaign_id)
        .where(Membership.account_id == account_id)
        .order_by(Campaign.code)
    ).all()


def membership(session: Session, account_id: int, campaign_id: int) -> Membership | None:
    return session.exec(
        select(Membership).where(
            Membership.account_id == account_id, Membership.campaign_id == campaign_id
        )
    ).first()


def is_admin_anywhere(session: Session, account_id: int) -> bool:
    return (
        session.exec(
            select(Membership.id).where(
                Membership.account_id == account_id, Membership.role == "admin"
            )
        ).first()
        is not None
    )


def metrics(session: Session, campaign_id: int, *, active_only: bool = True) -> Sequence[Metric]:
    query = select(Metric).where(Metric.campaign_id == campaign_id)
    if active_only:
        query = query.where(col(Metric.active).is_(True))
    return session.exec(query.order_by(Metric.position, Metric.id)).all()


def metric_by_key(session: Session, campaign_id: int, key: str) -> Metric | None:
    return session.exec(
        select(Metric).where(Metric.campaign_id == campaign_id, Metric.key == key.lower())
    ).first()


def team_by_code(session: Session, campaign_id: int, code: str) -> Team | None:
    return session.exec(
        select(Team).where(Team.campaign_id == campaign_id, Team.code == code.lower())
    ).first()


def teams(session: Session, campaign_id: int) -> Sequence[Team]:
    return session.exec(
        select(Team).where(Team.campaign_id == campaign_id).order_by(Team.code)
    ).all()


def unit_by_code(session: Session, campaign_id: int, code: str) -> Unit | None:
    return session.exec(
        select(Unit).where(Unit.campaign_id == campaign_id, Unit.code == code.lower())
    ).first()


def units(session: Session, campaign_id: int) -> Sequence[Unit]:
    return session.exec(
        select(Unit).where(Unit.campaign_id == campaign_id).order_by(Unit.code)
    ).all()


def teams_of(session: Session, account_id: int, campaign_id: int) -> Sequence[Team]:
    return session.exec(
        select(Team)
        .join(TeamMember, col(TeamMember.team_id) == Team.id)
        .where(TeamMember.account_id == account_id, Team.campaign_id == campaign_id)
        .order_by(Team.code)
    ).all()


def unit_paths(session: Session, campaign_id: int) -> dict[int, str]:
    """Each unit's path from the root ("Tỉnh A / Xã B / Thôn C"), following the current tree.
    A campaign has at most a few thousand units, so one query and a walk in memory is enough."""
    nodes = {u.id: u for u in units(session, campaign_id)}
    paths: dict[int, str] = {}

    def path(unit_id: int) -> str:
        if unit_id not in paths:
            unit = nodes[unit_id]
            parent = path(unit.parent_id) + " / " if unit.parent_id in nodes else ""
            paths[unit_id] = parent + unit.name
        return paths[unit_id]

    for unit_id in nodes:
        path(unit_id)  # type: ignore[arg-type]
    return paths


def move_chat(session: Session, old_key: str, new_key: str) -> None:
    """A chat got a new id (a Telegram group upgraded to a supergroup): its campaign, team
    binding and digest subscriptions follow it. If the new chat was already seen, it keeps what
    it has and gains what only the old one had."""
    old = session.exec(select(Chat).where(Chat.key == old_key)).first()
    if old is None:
        return
    new = session.exec(select(Chat).where(Chat.key == new_key)).first()
    if new is None:
        old.key, old.is_group = new_key, True
        session.add(old)
        return
    new.campaign_id = new.campaign_id or old.campaign_id
    new.team_id = new.team_id or old.team_id
    taken = {
        s.campaign_id
        for s in session.exec(
            select(DigestSubscription).where(DigestSubscription.chat_id == new.id)
        )
    }
    for subscription in session.exec(
        select(DigestSubscription).where(DigestSubscription.chat_id == old.id)
    ).all():
        if subscription.campaign_id in taken:
            subscription.enabled, subscription.disabled_reason = False, "moved"
        else:
            subscription.chat_id = new.id  # type: ignore[assignment]
        session.add(subscription)
    old.campaign_id = old.team_id = None
    session.add_all([old, new])
