"""Does reading progress grow with the number of reports? Run: `uv run python bench/progress.py`

Builds a SQLite campaign (3 metrics, 30 teams), then times, at a small and a large number of
reports: the running-total reads that /progress uses, and for comparison the same totals summed
straight from the report values. Every time is printed as a ratio to a floor measured in the
same run (a trivial `SELECT 1` round trip), so the figures compare across machines."""

from __future__ import annotations

import random
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import func, text
from sqlmodel import Session, select

from storage import progress, reports
from storage.db import Database
from storage.models import Account, Campaign, Metric, ReportValue, Team

SMALL, LARGE = 1_000, 50_000
NOW = datetime(2025, 3, 10, tzinfo=UTC)


def best_of(fn: Callable[[], object], repeat: int = 30) -> float:
    timings = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        timings.append(time.perf_counter() - start)
    return statistics.median(timings)


def setup(db: Database) -> tuple[int, list[int], list[int], int]:
    with db.session() as session:
        campaign = Campaign(code="bench", name="Bench", start_date=date(2025, 1, 1), created_at=NOW)
        session.add(campaign)
        session.flush()
        metrics = [
            Metric(campaign_id=campaign.id, key=k, label_vi=k, label_en=k, unit="m")
            for k in ("a", "b", "c")
        ]
        teams = [Team(campaign_id=campaign.id, code=f"t{i}", name=f"T{i}") for i in range(30)]
        account = Account(key="shell:bench", created_at=NOW)
        session.add_all([*metrics, *teams, account])
        session.flush()
        return (
            campaign.id,
            [m.id for m in metrics],
            [t.id for t in teams],  # type: ignore[return-value]
            account.id,
        )


def add_reports(
    db: Database, count: int, ids: tuple[int, list[int], list[int], int], rng: random.Random
) -> None:
    campaign_id, metric_ids, team_ids, account_id = ids
    with db.session() as session:
        for _ in range(count):
            day = date(2025, 1, 1) + timedelta(days=rng.randrange(68))
            reports.record(
                session,
                campaign_id=campaign_id,
                team_id=rng.choice(team_ids),
                reporter_id=account_id,
                day=day,
                values={m: float(rng.randint(1, 9)) for m in metric_ids},
                note=None,
                photo_ref=None,
                source="shell",
                source_chat="shell:b",
                source_message_id=None,
                now=NOW,
            )


def measure(db: Database, campaign_id: int, team_ids: list[int]) -> dict[str, float]:
    def running_totals() -> None:
        with Session(db.engine) as session:
            progress.campaign_totals(session, campaign_id)
            progress.day_totals(session, campaign_id, date(2025, 3, 9))
            progress.team_totals(session, team_ids)
            progress.teams_reported(session, campaign_id, date(2025, 3, 9))

    def summed_from_reports() -> None:
        with Session(db.engine) as session:
            session.exec(
                select(ReportValue.metric_id, func.sum(ReportValue.value)).group_by(
                    ReportValue.metric_id
                )
            ).all()

    def floor() -> None:
        with Session(db.engine) as session:
            session.exec(text("SELECT 1")).all()  # type: ignore[call-overload]

    base = best_of(floor)
    return {
        "floor": base,
        "running totals": best_of(running_totals) / base,
        "sum over reports": best_of(summed_from_reports) / base,
    }


def main() -> None:
    rng = random.Random(1)
    with tempfile.TemporaryDirectory() as folder:
        db = Database(f"sqlite:///{folder}/bench.db")
        db.create_all()
        ids = setup(db)
        add_reports(db, SMALL, ids, rng)
        small = measure(db, ids[0], ids[2])
        add_reports(db, LARGE - SMALL, ids, rng)
        large = measure(db, ids[0], ids[2])
        db.dispose()
    print(
        f"floor (SELECT 1 round trip): {small['floor'] * 1e6:.0f} µs, then "
        f"{large['floor'] * 1e6:.0f} µs"
    )
    print(f"{'read':<18}{SMALL:>10,} reports{LARGE:>10,} reports{'growth':>10}")
    for name in ("running totals", "sum over reports"):
        print(
            f"{name:<18}{small[name]:>12.1f}×floor{large[name]:>10.1f}×floor"
            f"{large[name] / small[name]:>9.1f}×"
        )


if __name__ == "__main__":
    main()
