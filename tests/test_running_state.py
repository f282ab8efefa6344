"""The running state the digest reads (totals, who reported when, each team's latest report
day) always equals what scanning the report history says, through records, back-dated reports,
corrections and retractions, on SQLite and PostgreSQL."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import func
from sqlmodel import Session, select

from storage import progress, reports
from storage.db import Database
from storage.models import Account, Campaign, Metric, Report, Team

NOW = datetime(2025, 3, 10, 3, 0, tzinfo=UTC)
START = date(2025, 3, 1)


def history_last_days(session: Session, campaign_id: int) -> dict[int, date | None]:
    teams = session.exec(select(Team.id).where(Team.campaign_id == campaign_id)).all()
    latest = dict(
        session.exec(
            select(Report.team_id, func.max(Report.report_date))
            .where(Report.campaign_id == campaign_id, Report.status == "active")
            .group_by(Report.team_id)
        ).all()
    )
    return {team: latest.get(team) for team in teams}  # type: ignore[misc]


def test_last_report_day_follows_records_corrections_and_retractions(db: Database) -> None:
    rng = random.Random(5)
    with db.session() as session:
        campaign = Campaign(code="c", name="C", start_date=START, created_at=NOW)
        session.add(campaign)
        session.flush()
        assert campaign.id is not None
        metric = Metric(campaign_id=campaign.id, key="m", label_vi="m", label_en="m", unit="m")
        teams = [Team(campaign_id=campaign.id, code=f"t{i}", name=f"T{i}") for i in range(4)]
        account = Account(key="shell:a", created_at=NOW)
        session.add_all([metric, *teams, account])
        session.flush()
        active: list[Report] = []
        for step in range(120):
            if active and rng.random() < 0.35:  # retract, or correct onto another day
                old = active.pop(rng.randrange(len(active)))
                if rng.random() < 0.5:
                    reports.retract(session, old, account.id, NOW)  # type: ignore[arg-type]
                    continue
                corrects = old
            else:
                corrects = None
            team = corrects.team_id if corrects else rng.choice(teams).id
            active.append(
                reports.record(
                    session,
                    campaign_id=campaign.id,
                    team_id=team,  # type: ignore[arg-type]
                    reporter_id=account.id,  # type: ignore[arg-type]
                    day=START + timedelta(days=rng.randrange(10)),  # back-dated in any order
                    values={metric.id: float(step % 7)},  # type: ignore[dict-item]
                    note=None,
                    photo_ref=None,
                    source="shell",
                    source_chat="shell:x",
                    source_message_id=None,
                    now=NOW,
                    corrects=corrects,
                )
            )
            session.flush()
            assert progress.last_report_days(session, campaign.id) == history_last_days(
                session, campaign.id
            ), step
        for report in active:  # every report retracted: no team has reported
            reports.retract(session, report, account.id, NOW)  # type: ignore[arg-type]
        assert set(progress.last_report_days(session, campaign.id).values()) == {None}
