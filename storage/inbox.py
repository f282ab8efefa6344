"""The inbox of delivered platform updates: stored first, processed after, pruned later.

A platform redelivers what it thinks was not received (Telegram resends an update whose offset
was not confirmed or whose webhook call did not get a 200), so storing is an insert that ignores
a key already there, and processing marks rows done."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import delete, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col, select

from storage.models import InboundUpdate


def store(session: Session, source: str, updates: Iterable[tuple[int, str]], now: datetime) -> int:
    """Insert each (update id, JSON payload) not stored yet; returns how many were new."""
    rows = [
        {"source": source, "update_id": update_id, "payload": payload, "received_at": now}
        for update_id, payload in updates
    ]
    if not rows:
        return 0
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = (
        insert(InboundUpdate).values(rows).on_conflict_do_nothing().returning(InboundUpdate.id)
    )
    return len(session.exec(statement).all())  # type: ignore[call-overload]


def pending(session: Session, source: str, limit: int = 100) -> Sequence[InboundUpdate]:
    """Stored but not processed, oldest first."""
    return session.exec(
        select(InboundUpdate)
        .where(InboundUpdate.source == source, col(InboundUpdate.processed_at).is_(None))
        .order_by(col(InboundUpdate.update_id))
        .limit(limit)
    ).all()


def mark_processed(session: Session, row_id: int, now: datetime) -> None:
    session.exec(
        update(InboundUpdate)  # type: ignore[call-overload]
        .where(col(InboundUpdate.id) == row_id)
        .values(processed_at=now)
    )


def prune(session: Session, processed_before: datetime) -> None:
    """Telegram may reuse update ids after a week without updates; older rows only cost space."""
    session.exec(
        delete(InboundUpdate).where(  # type: ignore[call-overload]
            col(InboundUpdate.processed_at) < processed_before
        )
    )
