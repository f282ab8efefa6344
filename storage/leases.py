"""Claiming rows with a lease, shared by the inbox and the outbox: any number of instances may
claim at once and each row goes to one of them. On PostgreSQL the candidates are locked with
`FOR UPDATE SKIP LOCKED`; on SQLite the write lock `BEGIN IMMEDIATE` takes serialises claimers.
Only the oldest open row of each group (a chat) is a candidate, so a group's rows are worked
one at a time and in order across instances. A lease that runs out (its instance died) frees
the row for another."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from functools import cache
from typing import Any

from sqlalchemy import ColumnElement, bindparam, or_, text, update
from sqlalchemy.orm import aliased
from sqlmodel import Session, SQLModel, col, select


def _head_of_group(model: Any, open_column: str, group: Sequence[str]) -> ColumnElement[bool]:
    """The row is its group's oldest open one: next in its chat. Written as a comparison with
    the group's first open id, a subquery run for each candidate on the index of open rows by
    group (migration 0012), one entry a look-up. The equivalent `NOT EXISTS (an earlier open
    row)` became an anti-join whose plan follows the table's statistics: taken while few rows
    were open (the usual state), they made a burst's claims compare open rows with each other
    (2,000 open: up to 0.6 s a claim; PostgreSQL's CPU per report in a burst 15.8 → 2.2 ms)."""
    earlier = aliased(model)
    first = (
        select(earlier.id)
        .where(
            col(getattr(earlier, open_column)).is_(None),
            *(getattr(earlier, name) == getattr(model, name) for name in group),
        )
        .order_by(earlier.id)
        .limit(1)
        .scalar_subquery()
    )
    return col(model.id) == first


def claim(
    session: Session,
    model: Any,
    *,
    open_column: str,
    group: Sequence[str],
    where: Sequence[ColumnElement[bool]],
    owner: str,
    now: datetime,
    lease: timedelta,
    limit: int,
) -> list[int]:
    """Ids of the rows of `model` claimed for `owner` until `now + lease`: open (`open_column`
    is NULL), matching `where`, free (no live lease), and each the oldest open row of its
    `group` columns."""
    is_open = col(getattr(model, open_column)).is_(None)
    free = or_(col(model.lease_until).is_(None), col(model.lease_until) < now)
    head_of_group = _head_of_group(model, open_column, group)
    candidates = (
        select(model.id).where(is_open, free, head_of_group, *where).order_by(model.id).limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        candidates = candidates.with_for_update(skip_locked=True)
    ids = list(session.exec(candidates).all())
    if not ids:
        return []
    session.exec(
        update(model)  # type: ignore[call-overload]
        .where(col(model.id).in_(ids), free)
        .values(lease_owner=owner, lease_until=now + lease, attempts=model.attempts + 1)
    )
    return sorted(
        session.exec(
            select(model.id).where(col(model.id).in_(ids), model.lease_owner == owner)
        ).all()
    )


def lock_groups(session: Session, groups: Iterable[Sequence[str]]) -> None:
    """On PostgreSQL, hold each group's lock until the transaction ends, before writing a row
    into it: a row written while another transaction's row of the same group is still
    uncommitted would not see it, and both would be claimed as the group's next (two
    instances storing one chat's messages at once). SQLite has one writer at a time."""
    keys = sorted({"\x1f".join(group) for group in groups})
    if not keys or session.get_bind().dialect.name != "postgresql":
        return
    session.connection().execute(_LOCK_GROUPS, {"keys": keys})


# In sorted order, so two transactions locking overlapping groups cannot deadlock.
_LOCK_GROUPS = text(
    "SELECT pg_advisory_xact_lock(hashtextextended(k, 0)) "
    "FROM (SELECT unnest(CAST(:keys AS text[])) AS k ORDER BY k) AS groups"
)


def claim_new(
    session: Session,
    model: Any,
    ids: Sequence[int],
    *,
    open_column: str,
    group: tuple[str, ...],
    owner: str,
    now: datetime,
    lease: timedelta,
) -> set[int]:
    """Claim, for `owner`, those of the rows just written (`ids`, nobody can hold them yet)
    that are next in their group: the writer works them at once, without a claim of its own
    or a wait for the worker. The rest wait for the worker, behind their group's earlier rows."""
    if not ids:
        return set()
    statement = _claim_new_statement(model, open_column, group)
    claimed = session.connection().execute(
        statement, {"p_ids": list(ids), "p_owner": owner, "p_until": now + lease}
    )
    return set(claimed.scalars())


@cache
def _claim_new_statement(model: Any, open_column: str, group: tuple[str, ...]) -> Any:
    # Built once: on every message, building and keying it cost more than running it.
    return (
        update(model)
        .where(
            col(model.id).in_(bindparam("p_ids", expanding=True)),
            _head_of_group(model, open_column, group),
        )
        .values(
            lease_owner=bindparam("p_owner"),
            lease_until=bindparam("p_until"),
            attempts=model.attempts + 1,
        )
        .returning(model.id)
    )


def release_owner(session: Session, model: Any, owner: str, *, open_column: str) -> None:
    """Free every open row `owner` holds: called by a process that takes that name at start,
    so what its predecessor (killed) held is taken again at once instead of after its lease."""
    session.exec(
        update(model)  # type: ignore[call-overload]
        .where(model.lease_owner == owner, col(getattr(model, open_column)).is_(None))
        .values(lease_owner=None, lease_until=None)
    )


def rows(session: Session, model: type[SQLModel], ids: Sequence[int]) -> list[Any]:
    found = session.exec(select(model).where(col(model.id).in_(ids))).all()  # type: ignore[attr-defined]
    return sorted(found, key=lambda row: row.id)
