"""What /audit reads: a campaign's latest audit events, and the names behind the keys and codes
their details hold, so a line can say who and what in words."""

from __future__ import annotations

from collections.abc import Collection, Sequence

from sqlmodel import Session, col, select

from storage.models import Account, AuditEvent, Chat, Invite, Team


def recent(
    session: Session, campaign_id: int, limit: int
) -> Sequence[tuple[AuditEvent, Account | None]]:
    """The latest events first, each with the account that caused it (None if it is gone)."""
    return session.exec(
        select(AuditEvent, Account)
        .join(Account, col(Account.id) == AuditEvent.actor_id, isouter=True)
        .where(AuditEvent.campaign_id == campaign_id)
        .order_by(col(AuditEvent.id).desc())
        .limit(limit)
    ).all()


def account_names(session: Session, keys: Collection[str]) -> dict[str, str]:
    """Platform id → display name, for the accounts that have one."""
    rows = session.exec(
        select(Account.key, Account.display_name).where(col(Account.key).in_(list(keys)))
    ).all()
    return {key: name for key, name in rows if name}


def chat_titles(session: Session, keys: Collection[str]) -> dict[str, str]:
    """Chat key → title, for the chats that have one (groups and channels)."""
    rows = session.exec(select(Chat.key, Chat.title).where(col(Chat.key).in_(list(keys)))).all()
    return {key: title for key, title in rows if title}


def invite_teams(session: Session, campaign_id: int, codes: Collection[str]) -> dict[str, Team]:
    """Invite code → the team it joins, for the team invites among the codes."""
    rows = session.exec(
        select(Invite.code, Team)
        .join(Team, col(Team.id) == Invite.team_id)
        .where(Invite.campaign_id == campaign_id, col(Invite.code).in_(list(codes)))
    ).all()
    return dict(rows)
