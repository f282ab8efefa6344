"""Every report value of a campaign as flat rows, streamed from one query."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

from sqlmodel import Session, col, select

from storage.models import Account, Metric, Report, ReportValue, Team
from storage.queries import unit_paths

COLUMNS = (
    "id",
    "date",
    "team",
    "unit_path",
    "reporter",
    "metric",
    "value",
    "status",
    "note",
    "created_at",
    "source",
)


def rows(
    session: Session, campaign_id: int, start: date | None, end: date | None
) -> Iterator[tuple[object, ...]]:
    paths = unit_paths(session, campaign_id)
    query = (
        select(
            Report,
            Team.code,
            Team.unit_id,
            Account.display_name,
            Account.key,
            Metric.key,
            ReportValue.value,
        )
        .join(ReportValue, col(ReportValue.report_id) == Report.id)
        .join(Metric, col(Metric.id) == ReportValue.metric_id)
        .join(Team, col(Team.id) == Report.team_id)
        .join(Account, col(Account.id) == Report.reporter_id)
        .where(Report.campaign_id == campaign_id)
        .order_by(Report.report_date, Report.id, Metric.position, Metric.id)
        .execution_options(yield_per=1000)
    )
    if start is not None:
        query = query.where(Report.report_date >= start)
    if end is not None:
        query = query.where(Report.report_date <= end)
    for report, team, unit_id, name, key, metric, value in session.exec(query):
        yield (
            report.id,
            report.report_date.isoformat(),
            team,
            paths.get(unit_id, "") if unit_id else "",
            f"{name} ({key})" if name else key,
            metric,
            value,
            report.status,
            report.note or "",
            report.created_at.isoformat(timespec="seconds"),
            f"{report.source}:{report.source_message_id or ''}",
        )
