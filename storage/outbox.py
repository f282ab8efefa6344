"""The outbox: messages to send, written in the same transaction as what they report, claimed
with a lease (storage/leases.py), marked sent. Messages to one target go out in order."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import Any

from sqlalchemy import bindparam, delete, insert, update
from sqlmodel import Session, col

from storage import leases
from storage.models import Outgoing


@dataclass(frozen=True)
class Claimed:
    id: int
    platform: str
    target: str
    payload: str
    attempts: int  # including this claim


def add(
    session: Session,
    platform: str,
    target: str,
    payload: str,
    now: datetime,
    *,
    claim_for: tuple[str, timedelta] | None = None,
) -> Claimed | None:
    """Write a message to send. With `claim_for` (owner, lease) it is claimed at once when it
    is next for its target (returned), for the writer to send as soon as this commits."""
    leases.lock_groups(session, [(platform, target)])
    written = session.connection().execute(
        _add_statement(),
        {"platform": platform, "target": target, "payload": payload, "now": now},
    )
    row_id: int = written.scalar_one()
    if claim_for is None:
        return None
    owner, lease = claim_for
    taken = leases.claim_new(
        session,
        Outgoing,
        [row_id],
        open_column="sent_at",
        group=("platform", "target"),
        owner=owner,
        now=now,
        lease=lease,
    )
    return Claimed(row_id, platform, target, payload, 1) if taken else None


# Built once, on the table: a reply is written and marked sent on every report, and the ORM's
# unit of work and bulk update cost more than the SQL.
@cache
def _add_statement() -> Any:
    table = Outgoing.__table__  # type: ignore[attr-defined]
    return (
        insert(table)
        .values(
            platform=bindparam("platform"),
            target=bindparam("target"),
            payload=bindparam("payload"),
            created_at=bindparam("now"),
            not_before=bindparam("now"),
        )  # attempts and status: the columns' defaults
        .returning(table.c.id)
    )


@cache
def _finish_statement() -> Any:
    table = Outgoing.__table__  # type: ignore[attr-defined]
    return (
        update(table)
        .where(table.c.id == bindparam("p_id"))
        .values(
            status=bindparam("p_status"),
            sent_at=bindparam("p_now"),
            lease_until=None,
            error=bindparam("p_error"),
        )
    )


def claim(
    session: Session,
    platforms: Collection[str],
    owner: str,
    now: datetime,
    lease: timedelta,
    limit: int = 100,
) -> list[Claimed]:
    ids = leases.claim(
        session,
        Outgoing,
        open_column="sent_at",
        group=("platform", "target"),
        where=(col(Outgoing.platform).in_(platforms), col(Outgoing.not_before) <= now),
        owner=owner,
        now=now,
        lease=lease,
        limit=limit,
    )
    return [
        Claimed(r.id, r.platform, r.target, r.payload, r.attempts)
        for r in leases.rows(session, Outgoing, ids)
    ]


def release_owner(session: Session, owner: str) -> None:
    leases.release_owner(session, Outgoing, owner, open_column="sent_at")


def finish(
    session: Session, outgoing_id: int, status: str, now: datetime, error: str | None = None
) -> None:
    """`sent`, or `failed` for good (the chat refuses the bot; too many attempts)."""
    session.connection().execute(
        _finish_statement(),
        {
            "p_id": outgoing_id,
            "p_status": status,
            "p_now": now,
            "p_error": error[:500] if error else None,
        },
    )


def retry(session: Session, outgoing_id: int, at: datetime, error: str) -> None:
    session.exec(
        update(Outgoing)  # type: ignore[call-overload]
        .where(col(Outgoing.id) == outgoing_id)
        .values(not_before=at, lease_until=None, lease_owner=None, error=error[:500])
    )


def prune(session: Session, sent_before: datetime) -> None:
    session.exec(
        delete(Outgoing).where(col(Outgoing.sent_at) < sent_before)  # type: ignore[call-overload]
    )
