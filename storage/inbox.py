"""The inbox of platform deliveries: stored first, claimed with a lease, handled, marked done,
pruned later.

A platform redelivers what it thinks was not received, so storing ignores a key already there.
Claims are leases (storage/leases.py): any number of instances may claim at once, and a chat's
deliveries are handled one at a time and in order, whichever instance takes them."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import Any

from sqlalchemy import bindparam, delete, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col

from storage import leases
from storage.models import Delivery


@dataclass(frozen=True)
class Claimed:
    id: int
    source: str
    key: str
    chat: str
    payload: str
    attempts: int  # including this claim


def store(
    session: Session,
    source: str,
    items: Iterable[tuple[str, str, str]],
    now: datetime,
    *,
    claim_for: tuple[str, timedelta] | None = None,
) -> list[int]:
    """Insert each (key, chat, payload) not stored yet; returns the ids of the new rows. With
    `claim_for` (owner, lease) they are stored already claimed, for a caller that handles them
    at once (a Slack form must be answered within its request)."""
    owner, lease = claim_for or (None, None)
    until = now + lease if lease else None
    rows = [_row(source, key, chat, payload, now, owner, until) for key, chat, payload in items]
    return [id_ for id_, _ in _insert(session, rows)]


def _row(
    source: str,
    key: str,
    chat: str,
    payload: str,
    now: datetime,
    owner: str | None = None,
    until: datetime | None = None,
) -> dict[str, object]:
    return {
        "source": source,
        "key": key,
        "chat": chat,
        "payload": payload,
        "received_at": now,
        "attempts": 1 if owner else 0,
        "lease_owner": owner,
        "lease_until": until,
    }


def _insert(session: Session, rows: list[dict[str, object]]) -> list[tuple[int, str]]:
    """(id, key) of the rows inserted, those whose key was not stored yet."""
    if not rows:
        return []
    leases.lock_groups(session, ((str(r["source"]), str(r["chat"])) for r in rows))
    statement = _insert_statement(session.get_bind().dialect.name)
    inserted = session.connection().execute(statement, rows)
    return [(id_, key) for id_, key in inserted]


# The statements a delivery runs on every message are built once, on the table (the ORM's bulk
# paths cost more than the SQL on every call). Rows go in as one multi-row INSERT.
@cache
def _insert_statement(dialect: str) -> Any:
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    table = Delivery.__table__  # type: ignore[attr-defined]
    return insert(table).on_conflict_do_nothing().returning(table.c.id, table.c.key)


def store_and_claim(
    session: Session,
    source: str,
    items: Iterable[tuple[str, str, str]],
    now: datetime,
    owner: str,
    lease: timedelta,
) -> tuple[list[int], list[Claimed]]:
    """Store like `store`, and claim for `owner` the new deliveries that are next in their
    chat, to be handled at once by the instance that received them. Returns the new rows' ids
    and those claimed."""
    by_key = {key: (chat, payload) for key, chat, payload in items}
    inserted = _insert(session, [_row(source, key, *by_key[key], now) for key in by_key])
    ids = [id_ for id_, _ in inserted]
    taken = leases.claim_new(
        session,
        Delivery,
        ids,
        open_column="done_at",
        group=("source", "chat"),
        owner=owner,
        now=now,
        lease=lease,
    )
    return ids, [
        Claimed(id_, source, key, *by_key[key], attempts=1) for id_, key in inserted if id_ in taken
    ]


def claim(
    session: Session,
    sources: Collection[str],
    owner: str,
    now: datetime,
    lease: timedelta,
    limit: int = 100,
) -> list[Claimed]:
    """Claim up to `limit` open deliveries of `sources`, each the oldest open one of its chat,
    that nobody holds a live lease on."""
    ids = leases.claim(
        session,
        Delivery,
        open_column="done_at",
        group=("source", "chat"),
        where=(col(Delivery.source).in_(sources),),
        owner=owner,
        now=now,
        lease=lease,
        limit=limit,
    )
    return [
        Claimed(r.id, r.source, r.key, r.chat, r.payload, r.attempts)
        for r in leases.rows(session, Delivery, ids)
    ]


def release_owner(session: Session, owner: str) -> None:
    leases.release_owner(session, Delivery, owner, open_column="done_at")


def done(session: Session, delivery_id: int, now: datetime, error: str | None = None) -> None:
    """Handled (or given up, with the reason): never claimed again. A second call is a no-op."""
    session.connection().execute(
        _done_statement(),
        {"p_id": delivery_id, "p_now": now, "p_error": error[:500] if error else None},
    )


@cache
def _done_statement() -> Any:
    table = Delivery.__table__  # type: ignore[attr-defined]
    return (
        update(table)
        .where(table.c.id == bindparam("p_id"), table.c.done_at.is_(None))
        .values(done_at=bindparam("p_now"), error=bindparam("p_error"), lease_until=None)
    )


def release(session: Session, delivery_id: int, retry_at: datetime) -> None:
    """Not handled yet (the database went away mid-way): anyone may claim it from `retry_at`."""
    session.exec(
        update(Delivery)  # type: ignore[call-overload]
        .where(col(Delivery.id) == delivery_id, col(Delivery.done_at).is_(None))
        .values(lease_until=retry_at, lease_owner=None)
    )


def is_done(session: Session, delivery_id: int) -> bool:
    row = session.get(Delivery, delivery_id)
    return row is not None and row.done_at is not None


def prune(session: Session, done_before: datetime) -> None:
    """Handled rows only cost space once the platform stopped redelivering them (Telegram may
    reuse update ids after a week of silence)."""
    session.exec(
        delete(Delivery).where(col(Delivery.done_at) < done_before)  # type: ignore[call-overload]
    )
