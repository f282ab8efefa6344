"""What /export writes: every report value of a campaign as typed rows, streamed from one query,
and the active totals per team and metric over the same period."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import ColumnElement, func
from sqlmodel import Session, col, select

from storage.models import Account, Metric, Report, ReportValue, Team
from storage.queries import unit_paths


@dataclass(frozen=True)
class ExportRow:
    report_id: int
    report_date: date
    team_code: str
    team_name: str
    unit_path: str
    reporter_name: str
    reporter_key: str
    metric: Metric
    value: float
    status: str  # active | retracted
    corrects_id: int | None
    note: str
    created_at: datetime  # aware, UTC
    source: str  # platform:message id


def _period(campaign_id: int, start: date | None, end: date | None) -> list[ColumnElement[bool]]:
    where = [col(Report.campaign_id) == campaign_id]
    if start is not None:
        where.append(col(Report.report_date) >= start)
    if end is not None:
        where.append(col(Report.report_date) <= end)
    return where


def rows(
    session: Session, campaign_id: int, start: date | None, end: date | None
) -> Iterator[ExportRow]:
    paths = unit_paths(session, campaign_id)
    query = (
        select(Report, Team, Account, Metric, ReportValue.value)
        .join(ReportValue, col(ReportValue.report_id) == Report.id)
        .join(Metric, col(Metric.id) == ReportValue.metric_id)
        .join(Team, col(Team.id) == Report.team_id)
        .join(Account, col(Account.id) == Report.reporter_id)
        .where(*_period(campaign_id, start, end))
        .order_by(col(Report.report_date), col(Report.id), col(Metric.position), col(Metric.id))
        .execution_options(yield_per=1000)
    )
    for report, team, account, metric, value in session.exec(query):
        assert report.id is not None
        yield ExportRow(
            report_id=report.id,
            report_date=report.report_date,
            team_code=team.code,
            team_name=team.name,
            unit_path=paths.get(team.unit_id, "") if team.unit_id else "",
            reporter_name=account.display_name,
            reporter_key=account.key,
            metric=metric,
            value=value,
            status=report.status,
            corrects_id=report.corrects_id,
            note=report.note or "",
            created_at=report.created_at,
            source=f"{report.source}:{report.source_message_id or ''}",
        )


def team_totals(
    session: Session, campaign_id: int, start: date | None, end: date | None
) -> dict[tuple[int, int], float]:
    """(team id, metric id) → the sum of active report values dated in the period."""
    query = (
        select(Report.team_id, ReportValue.metric_id, func.sum(ReportValue.value))
        .join(ReportValue, col(ReportValue.report_id) == Report.id)
        .where(*_period(campaign_id, start, end), col(Report.status) == "active")
        .group_by(col(Report.team_id), col(ReportValue.metric_id))
    )
    return {(team_id, metric_id): total for team_id, metric_id, total in session.exec(query)}
