"""Prompts: what the bot asked a user in a chat and waits for a text answer to (numbered
choices, a guided form's progress), one per (chat, user), replaced by the next reply to them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete
from sqlmodel import Session, col

from storage.models import Prompt

CLOSED = "closed"


@dataclass(frozen=True)
class Pending:
    kind: str  # choices | form | closed
    state: str  # JSON, as the adapter wrote it
    expired: bool


def get(session: Session, chat_key: str, user_key: str, now: datetime) -> Pending | None:
    row = session.get(Prompt, (chat_key, user_key))
    if row is None:
        return None
    return Pending(row.kind, row.state, row.expires_at <= now)


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


def prune(session: Session, before: datetime) -> None:
    session.exec(delete(Prompt).where(col(Prompt.expires_at) < before))  # type: ignore[call-overload]
