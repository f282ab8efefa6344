"""Prompts: what the bot asked a user in a chat and waits for an answer to (numbered choices, a
guided form's progress), one per (chat, user), replaced by the next reply to them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete
from sqlmodel import Session, col, select

from storage.models import Prompt

CLOSED = "closed"


@dataclass(frozen=True)
class Pending:
    kind: str  # choices | form | closed
    state: str  # JSON, as the adapter wrote it
    expired: bool
    expires_at: datetime


@dataclass(frozen=True)
class Expired:
    chat_key: str
    user_key: str
    state: str  # as it was before it was closed


def get(
    session: Session, chat_key: str, user_key: str, now: datetime, *, lock: bool = False
) -> Pending | None:
    """With `lock`, the row stays locked until the transaction ends (PostgreSQL; SQLite's
    `BEGIN IMMEDIATE` serialises writers anyway): for a change that depends on what was read,
    while another instance may change the same prompt."""
    row = session.get(Prompt, (chat_key, user_key), with_for_update=lock or None)
    if row is None:
        return None
    return Pending(row.kind, row.state, row.expires_at <= now, row.expires_at)


def put(
    session: Session,
    chat_key: str,
    user_key: str,
    kind: str,
    state: str,
    now: datetime,
    expires_at: datetime,
) -> None:
    row = session.get(Prompt, (chat_key, user_key))
    if row is None:
        row = Prompt(
            chat_key=chat_key,
            user_key=user_key,
            kind=kind,
            state=state,
            updated_at=now,
            expires_at=expires_at,
        )
    else:
        row.kind, row.state, row.updated_at, row.expires_at = kind, state, now, expires_at
    session.add(row)
    session.flush()


def close(session: Session, chat_key: str, user_key: str, now: datetime) -> None:
    """A reply that asks nothing: an earlier prompt's answer is now stale (kept as `closed`
    until it would have expired, so a late number is told so rather than ignored)."""
    row = session.get(Prompt, (chat_key, user_key))
    if row is not None and row.kind != CLOSED:
        row.kind, row.state, row.updated_at = CLOSED, "{}", now
        session.add(row)


def close_expired(
    session: Session, kind: str, chat_prefix: str, now: datetime, limit: int = 100
) -> list[Expired]:
    """Close the open prompts of `kind` in chats whose key starts with `chat_prefix` that have
    expired, and return what they were. Rows another transaction holds are skipped, so of
    several instances (or an instance and an answer arriving now) exactly one closes each."""
    rows = session.exec(
        select(Prompt)
        .where(
            Prompt.kind == kind,
            col(Prompt.chat_key).startswith(chat_prefix),
            col(Prompt.expires_at) <= now,
        )
        .limit(limit)
        .with_for_update(skip_locked=True)
    ).all()
    closed = [Expired(row.chat_key, row.user_key, row.state) for row in rows]
    for row in rows:
        row.kind, row.state, row.updated_at = CLOSED, "{}", now
        session.add(row)
    return closed


def prune(session: Session, before: datetime) -> None:
    session.exec(delete(Prompt).where(col(Prompt.expires_at) < before))  # type: ignore[call-overload]
