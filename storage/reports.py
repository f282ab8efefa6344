"""Writing reports: every insert, retraction and correction moves the running totals in the
same transaction, by SQL upserts that are safe under concurrent writers on PostgreSQL."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from functools import cache

from sqlalchemy import Table, bindparam, case, func
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col, select

from storage.models import (
    CampaignDayTotal,
    Metric,
    Report,
    ReportValue,
    TeamDay,
    TeamLastReport,
    TeamTotal,
)

# A campaign's daily total per metric is kept in this many rows, a team's reports always in the
# same one. On PostgreSQL an upsert holds its row's lock until the report's transaction ends,
# ~20 statements later: with one row per day, a campaign's reports (all of a city's, in the
# evening) queued on it — 64 ms per report in a burst, most of its time.
SHARDS = 16


def shard_of(team_id: int) -> int:
    return team_id % SHARDS


def _dialect(session: Session) -> str:
    return session.get_bind().dialect.name


@cache
def _upsert(dialect: str, table: Table, names: tuple[str, ...], keys: tuple[str, ...], column: str):  # type: ignore[no-untyped-def]
    """`INSERT … ON CONFLICT (keys) DO UPDATE SET column = column + excluded.column`, with bound
    parameters for `names`, built once per table: building the statement (its `excluded`
    alias above all) cost more than running it, four times per report."""
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(table).values({name: bindparam(name) for name in names})
    return statement.on_conflict_do_update(
        index_elements=list(keys), set_={column: table.c[column] + statement.excluded[column]}
    )


def _increment(
    session: Session,
    table: Table,
    keys: Mapping[str, object],
    column: str,
    amount: float,
    **extra: object,
) -> None:
    params = {**keys, **extra, column: amount}
    statement = _upsert(_dialect(session), table, tuple(params), tuple(keys), column)
    session.execute(statement, params)


@cache
def _advance(dialect: str):  # type: ignore[no-untyped-def]
    """The team's latest report day moves forward to a report's, never back (a back-dated
    report leaves it), in one upsert that is safe under concurrent writers."""
    table = TeamLastReport.__table__
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    names = ("team_id", "campaign_id", "day")
    statement = insert(table).values({name: bindparam(name) for name in names})
    later = statement.excluded.day > table.c.day
    return statement.on_conflict_do_update(
        index_elements=["team_id"],
        set_={"day": case((later, statement.excluded.day), else_=table.c.day)},
    )


def _move_totals(session: Session, report: Report, values: Mapping[int, float], sign: int) -> None:
    for metric_id, value in values.items():
        _increment(
            session,
            CampaignDayTotal.__table__,
            {
                "metric_id": metric_id,  # type: ignore[arg-type]
                "day": report.report_date,
                "shard": shard_of(report.team_id),
            },
            "total",
            sign * value,
            campaign_id=report.campaign_id,
        )
        _increment(
            session,
            TeamTotal.__table__,
            {
                "team_id": report.team_id,  # type: ignore[arg-type]
                "metric_id": metric_id,
            },
            "total",
            sign * value,
        )
    _increment(
        session,
        TeamDay.__table__,
        {
            "team_id": report.team_id,  # type: ignore[arg-type]
            "day": report.report_date,
        },
        "reports",
        sign,
        campaign_id=report.campaign_id,
    )
    if sign > 0:
        _advance_last_report(session, report)
    else:
        _recompute_last_report(session, report.team_id)


def _advance_last_report(session: Session, report: Report) -> None:
    session.execute(
        _advance(_dialect(session)),
        {"team_id": report.team_id, "campaign_id": report.campaign_id, "day": report.report_date},
    )


def _recompute_last_report(session: Session, team_id: int) -> None:
    """After a retraction: the latest day that still has an active report, from the team's own
    days (its primary-key range, a year at most); no row if none is left. The team's row is
    locked first, so a report recorded meanwhile is seen, or sees this."""
    row = session.exec(
        select(TeamLastReport).where(TeamLastReport.team_id == team_id).with_for_update()
    ).first()
    latest = session.exec(
        select(func.max(TeamDay.day)).where(TeamDay.team_id == team_id, TeamDay.reports > 0)
    ).one()
    if row is None:
        return
    if latest is None:
        session.delete(row)
    else:
        row.day = latest
        session.add(row)


def by_source_message(session: Session, source_message_id: str) -> Report | None:
    return session.exec(select(Report).where(Report.source_message_id == source_message_id)).first()


def values_of(session: Session, report_id: int) -> Sequence[tuple[Metric, float]]:
    rows = session.exec(_values_of(), params={"report": report_id}).all()
    return [(metric, value) for metric, value in rows]


@cache
def _values_of():  # type: ignore[no-untyped-def]  # built once: every confirmation reads it
    return (
        select(Metric, ReportValue.value)
        .join(ReportValue, col(ReportValue.metric_id) == Metric.id)
        .where(ReportValue.report_id == bindparam("report"))
        .order_by(Metric.position, Metric.id)
    )


def record(
    session: Session,
    *,
    campaign_id: int,
    team_id: int,
    reporter_id: int,
    day: date,
    values: Mapping[int, float],
    note: str | None,
    photo_ref: str | None,
    source: str,
    source_chat: str,
    source_message_id: str | None,
    now: datetime,
    corrects: Report | None = None,
    corrected_by: int | None = None,
) -> Report:
    """Insert a report and its values; a correction also retracts the report it replaces,
    in the name of `corrected_by` (an admin's /fix), else of the reporter."""
    if corrects is not None:
        retract(session, corrects, corrected_by or reporter_id, now)
    report = Report(
        campaign_id=campaign_id,
        team_id=team_id,
        reporter_id=reporter_id,
        report_date=day,
        note=note,
        photo_ref=photo_ref,
        source=source,
        source_chat=source_chat,
        source_message_id=source_message_id,
        created_at=now,
        corrects_id=corrects.id if corrects else None,
    )
    session.add(report)
    session.flush()
    assert report.id is not None
    for metric_id, value in values.items():
        session.add(ReportValue(report_id=report.id, metric_id=metric_id, value=value))
    _move_totals(session, report, values, +1)
    return report


def retract(session: Session, report: Report, by_account_id: int, now: datetime) -> None:
    assert report.id is not None
    values = {metric.id: value for metric, value in values_of(session, report.id)}
    report.status = "retracted"
    report.retracted_at = now
    report.retracted_by_id = by_account_id
    session.add(report)
    _move_totals(session, report, values, -1)  # type: ignore[arg-type]


def latest_version(session: Session, report: Report) -> Report:
    """The newest correction of `report` (itself if it was never corrected)."""
    current = report
    while (
        newer := session.exec(select(Report).where(Report.corrects_id == current.id)).first()
    ) is not None:
        current = newer
    return current


def first_version(session: Session, report: Report) -> Report:
    """The report that `report` is a correction of, through every correction: when it was
    first sent."""
    while report.corrects_id is not None:
        older = session.get(Report, report.corrects_id)
        assert older is not None
        report = older
    return report


def last_active_by(
    session: Session, reporter_id: int, campaign_id: int, since: datetime
) -> Report | None:
    """The reporter's newest active report in the campaign created at or after `since`."""
    return session.exec(
        select(Report)
        .where(
            Report.reporter_id == reporter_id,
            Report.campaign_id == campaign_id,
            Report.status == "active",
            col(Report.created_at) >= since,
        )
        .order_by(col(Report.created_at).desc(), col(Report.id).desc())
    ).first()


def recent_by(
    session: Session, reporter_id: int, campaign_id: int, limit: int = 10
) -> Sequence[Report]:
    return session.exec(
        select(Report)
        .where(Report.reporter_id == reporter_id, Report.campaign_id == campaign_id)
        .order_by(col(Report.created_at).desc(), col(Report.id).desc())
        .limit(limit)
    ).all()


def recent_values(session: Session, team_id: int, metric_id: int, limit: int = 30) -> list[float]:
    """The team's values of a metric in its latest `limit` active reports, newest first: what
    the team usually reports, to question a value far outside it."""
    params = {"team": team_id, "metric": metric_id, "limit": limit}
    return list(session.exec(_recent_values(), params=params).all())


@cache
def _recent_values():  # type: ignore[no-untyped-def]  # built once: every report reads it
    return (
        select(ReportValue.value)
        .join(Report, col(Report.id) == ReportValue.report_id)
        .where(
            Report.team_id == bindparam("team"),
            ReportValue.metric_id == bindparam("metric"),
            Report.status == "active",
        )
        .order_by(col(Report.report_date).desc(), col(Report.id).desc())
        .limit(bindparam("limit"))
    )
