"""Reading progress from the running totals only: the cost depends on the number of metrics,
teams and days, never on the number of reports."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from functools import cache
from typing import Any

from sqlalchemy import Integer, any_, bindparam, func
from sqlalchemy.dialects.postgresql import ARRAY
from sqlmodel import Session, col, select

from storage.models import (
    CampaignDayTotal,
    Team,
    TeamDay,
    TeamLastReport,
    TeamTarget,
    TeamTotal,
    Unit,
)


def campaign_totals(session: Session, campaign_id: int) -> dict[int, float]:
    rows = session.exec(_campaign_totals(), params={"campaign": campaign_id}).all()
    return {metric_id: total or 0.0 for metric_id, total in rows}


@cache
def _campaign_totals() -> Any:  # built once: every report's confirmation reads it
    return (
        select(CampaignDayTotal.metric_id, func.sum(CampaignDayTotal.total))
        .where(CampaignDayTotal.campaign_id == bindparam("campaign"))
        .group_by(CampaignDayTotal.metric_id)
    )


def day_totals(session: Session, campaign_id: int, day: date) -> dict[int, float]:
    rows = session.exec(
        select(CampaignDayTotal.metric_id, func.sum(CampaignDayTotal.total))
        .where(CampaignDayTotal.campaign_id == campaign_id, CampaignDayTotal.day == day)
        .group_by(CampaignDayTotal.metric_id)
    ).all()
    return {metric_id: total or 0.0 for metric_id, total in rows}


def team_totals(session: Session, team_ids: Iterable[int]) -> dict[tuple[int, int], float]:
    return _per_team(session, TeamTotal, "total", team_ids)


def team_targets(session: Session, team_ids: Iterable[int]) -> dict[tuple[int, int], float]:
    return _per_team(session, TeamTarget, "target", team_ids)


def _per_team(
    session: Session, model: Any, column: str, team_ids: Iterable[int]
) -> dict[tuple[int, int], float]:
    statement = _per_team_statement(session.get_bind().dialect.name, model, column)
    rows = session.exec(statement, params={"ids": list(team_ids)}).all()
    return {(team_id, metric_id): value for team_id, metric_id, value in rows}


@cache
def _per_team_statement(dialect: str, model: Any, column: str) -> Any:
    """(team, metric, `column`) of the teams bound as `ids`, built once: every report's
    confirmation reads both. On PostgreSQL one array parameter instead of one per id: binding
    a city's 5,000 team ids cost ~0.1 s per read there, four reads per digest."""
    if dialect == "postgresql":
        among = model.team_id == any_(bindparam("ids", type_=ARRAY(Integer)))
    else:
        among = col(model.team_id).in_(bindparam("ids", expanding=True))
    return select(model.team_id, model.metric_id, getattr(model, column)).where(among)


def teams_reported(session: Session, campaign_id: int, day: date) -> set[int]:
    rows = session.exec(
        select(TeamDay.team_id).where(
            TeamDay.campaign_id == campaign_id, TeamDay.day == day, TeamDay.reports > 0
        )
    ).all()
    return set(rows)


def team_count(session: Session, campaign_id: int) -> int:
    return session.exec(select(func.count()).where(Team.campaign_id == campaign_id)).one()


def unit_rollup(session: Session, campaign_id: int, metric_id: int) -> dict[int, float]:
    """Total per unit including every sub-unit, from the teams' running totals."""
    rows = session.exec(
        select(Team.unit_id, func.sum(TeamTotal.total))
        .join(TeamTotal, col(TeamTotal.team_id) == Team.id)
        .where(
            Team.campaign_id == campaign_id,
            TeamTotal.metric_id == metric_id,
            col(Team.unit_id).is_not(None),
        )
        .group_by(Team.unit_id)
    ).all()
    return roll_up({u: t or 0.0 for u, t in rows}, unit_parents(session, campaign_id))  # type: ignore[misc]


def unit_targets(session: Session, campaign_id: int, metric_id: int) -> dict[int, float]:
    """Target per unit including every sub-unit: the sum of its teams' own targets."""
    rows = session.exec(
        select(Team.unit_id, func.sum(TeamTarget.target))
        .join(TeamTarget, col(TeamTarget.team_id) == Team.id)
        .where(
            Team.campaign_id == campaign_id,
            TeamTarget.metric_id == metric_id,
            col(Team.unit_id).is_not(None),
        )
        .group_by(Team.unit_id)
    ).all()
    return roll_up({u: t or 0.0 for u, t in rows}, unit_parents(session, campaign_id))  # type: ignore[misc]


def daily_series(session: Session, metric_id: int, first: date, last: date) -> dict[date, float]:
    rows = session.exec(
        select(CampaignDayTotal.day, func.sum(CampaignDayTotal.total))
        .where(
            CampaignDayTotal.metric_id == metric_id,
            CampaignDayTotal.day >= first,
            CampaignDayTotal.day <= last,
        )
        .group_by(CampaignDayTotal.day)
    ).all()
    return {day: total or 0.0 for day, total in rows}


def last_report_days(session: Session, campaign_id: int) -> dict[int, date | None]:
    """Every team of the campaign with the date of its latest active report, or None: one row
    per team, maintained with the running totals."""
    rows = session.exec(
        select(Team.id, TeamLastReport.day)
        .join(TeamLastReport, col(TeamLastReport.team_id) == Team.id, isouter=True)
        .where(Team.campaign_id == campaign_id)
    ).all()
    return {team_id: day for team_id, day in rows}  # type: ignore[misc]


def unit_parents(session: Session, campaign_id: int) -> dict[int, int | None]:
    return dict(
        session.exec(select(Unit.id, Unit.parent_id).where(Unit.campaign_id == campaign_id)).all()
    )  # type: ignore[arg-type]


def ancestors(unit_id: int, parents: Mapping[int, int | None]) -> list[int]:
    """The unit and its ancestors up to the root. The commands never store a cycle, but a
    database edited by hand might hold one: the walk stops where it would come round again."""
    chain: list[int] = []
    seen: set[int] = set()
    node: int | None = unit_id
    while node is not None and node not in seen:
        chain.append(node)
        seen.add(node)
        node = parents.get(node)
    return chain


def roll_up(by_unit: dict[int, float], parents: Mapping[int, int | None]) -> dict[int, float]:
    """Add each unit's value to all its ancestors: totals and targets follow the current tree."""
    rolled: dict[int, float] = {}
    for unit_id, value in by_unit.items():
        for node in ancestors(unit_id, parents):
            rolled[node] = rolled.get(node, 0.0) + value
    return rolled
