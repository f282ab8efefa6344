"""A city-scale campaign, seeded fast and known to be right.

`create` makes the campaign: a 3-level unit tree (city → communes → villages), teams in the
villages with their own targets, 3 metrics with targets. `history` is its reports, generated
deterministically (every team reports most days; a few have gone quiet). `bulk_load` writes them
with bulk inserts (executemany on SQLite, COPY on PostgreSQL) together with the running-total
tables computed here; `record_all` writes the same reports one by one through
`storage.reports.record`, as the bot does. `running_state` reads the running tables back, so a
small sample seeded both ways shows the bulk seeding produces the same totals."""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import text
from sqlmodel import Session

from storage import reports
from storage.db import Database
from storage.models import Account, Campaign, Metric, Team, TeamTarget, Unit

NOW = datetime(2025, 12, 31, 12, 0, tzinfo=UTC)
TODAY = date(2025, 12, 31)
METRICS = (  # key, unit, campaign target per team, value range of one report
    ("households", "household", 1_200, (0, 4)),
    ("road_m", "m", 9_000, (0, 40)),
    ("vnd", "VND", 300_000_000, (0, 20)),  # × 50,000 ₫
)
CHUNK = 20_000  # rows per bulk insert


@dataclass(frozen=True)
class Shape:
    teams: int
    days: int
    communes: int = 30
    villages: int = 1_000


@dataclass(frozen=True)
class Seeded:
    campaign_id: int
    code: str
    metric_ids: tuple[int, ...]
    team_ids: tuple[int, ...]
    account_id: int
    start: date


Row = tuple[int, date, dict[int, float]]  # team id, report date, values by metric id


def create(db: Database, code: str, shape: Shape) -> Seeded:
    start = TODAY - timedelta(days=shape.days - 1)
    with db.session() as session:
        campaign = Campaign(
            code=code,
            name=f"Dân vận khéo {code}",
            start_date=start,
            deadline=TODAY + timedelta(days=180),
            created_at=NOW,
        )
        session.add(campaign)
        session.flush()
        assert campaign.id is not None
        metrics = [
            Metric(
                campaign_id=campaign.id,
                key=key,
                label_vi=key,
                label_en=key,
                unit=unit,
                target=float(per_team * shape.teams),
                position=i,
            )
            for i, (key, unit, per_team, _) in enumerate(METRICS)
        ]
        city = Unit(campaign_id=campaign.id, code="hn", name="Thành phố Hà Nội")
        session.add_all([*metrics, city])
        session.flush()
        communes = [
            Unit(campaign_id=campaign.id, code=f"x{i}", name=f"Xã {i}", parent_id=city.id)
            for i in range(min(shape.communes, shape.teams))
        ]
        session.add_all(communes)
        session.flush()
        villages = [
            Unit(
                campaign_id=campaign.id,
                code=f"x{i % len(communes)}-t{i}",
                name=f"Thôn {i}",
                parent_id=communes[i % len(communes)].id,
            )
            for i in range(min(shape.villages, shape.teams))
        ]
        session.add_all(villages)
        session.flush()
        teams = [
            Team(
                campaign_id=campaign.id,
                code=f"to{i}",
                name=f"Tổ dân vận {code}-{i}",
                unit_id=villages[i % len(villages)].id,
            )
            for i in range(shape.teams)
        ]
        account = Account(key=f"shell:bench-{code}", created_at=NOW)
        session.add_all([*teams, account])
        session.flush()
        session.add_all(
            TeamTarget(team_id=t.id, metric_id=m.id, target=float(per_team))  # type: ignore[arg-type]
            for t in teams
            for m, (_, _, per_team, _) in zip(metrics, METRICS, strict=True)
        )
        return Seeded(
            campaign.id,
            code,
            tuple(m.id for m in metrics),  # type: ignore[misc]
            tuple(t.id for t in teams),  # type: ignore[misc]
            account.id,  # type: ignore[arg-type]
            start,
        )


def history(seeded: Seeded, days: int) -> Iterator[Row]:
    """Day by day, each team's report: 98.5 % of days; 3 % of teams went quiet 2–10 days ago.
    Values are whole numbers, so sums are exact whichever order they are added in."""
    quiet = {}
    for index, team_id in enumerate(seeded.team_ids):  # by position: the same in any database
        rng = random.Random(index)
        quiet[team_id] = rng.randint(2, 10) if rng.random() < 0.03 else 0
    for n in range(days):
        day = seeded.start + timedelta(days=n)
        rng = random.Random(n)
        for team_id in seeded.team_ids:
            if rng.random() >= 0.985 or (TODAY - day).days < quiet[team_id]:
                continue
            values = {
                metric_id: float(rng.randint(*spread) * (50_000 if key == "vnd" else 1))
                for metric_id, (key, _, _, spread) in zip(seeded.metric_ids, METRICS, strict=True)
            }
            yield team_id, day, values


def _chunks(rows: Iterable[Any]) -> Iterator[list[Any]]:
    chunk: list[Any] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) == CHUNK:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def bulk_load(db: Database, seeded: Seeded, rows: Iterable[Row]) -> int:
    """Reports, their values and the running totals in bulk; returns how many reports."""
    day_totals: defaultdict[tuple[int, date, int], float] = defaultdict(float)
    team_totals: defaultdict[tuple[int, int], float] = defaultdict(float)
    team_days: defaultdict[tuple[int, date], int] = defaultdict(int)
    last: dict[int, date] = {}
    created = NOW.replace(tzinfo=None)
    raw = db.engine.raw_connection()
    try:
        cursor = raw.cursor()
        if db.is_sqlite:  # a scratch database: no fsync, indexes in memory, one transaction
            cursor.execute("PRAGMA synchronous=OFF")
            cursor.execute("PRAGMA cache_size=-2000000")
            cursor.execute("BEGIN")
        cursor.execute("SELECT COALESCE(MAX(id), 0) FROM report")
        next_id = cursor.fetchone()[0] + 1
        count = 0
        for chunk in _chunks(rows):
            report_rows, value_rows = [], []
            for team_id, day, values in chunk:
                report_rows.append(
                    (
                        next_id,
                        seeded.campaign_id,
                        team_id,
                        seeded.account_id,
                        day,
                        *SOURCE,
                        created,
                        "active",
                    )
                )
                for metric_id, value in values.items():
                    value_rows.append((next_id, metric_id, value))
                    day_totals[(metric_id, day, reports.shard_of(team_id))] += value
                    team_totals[(team_id, metric_id)] += value
                team_days[(team_id, day)] += 1
                last[team_id] = max(last.get(team_id, day), day)
                next_id += 1
            count += len(chunk)
            _write(db, cursor, "report", _REPORT_COLUMNS, report_rows)
            _write(db, cursor, "report_value", ("report_id", "metric_id", "value"), value_rows)
        c = seeded.campaign_id
        _write(
            db,
            cursor,
            "campaign_day_total",
            ("metric_id", "day", "shard", "campaign_id", "total"),
            [(m, d, shard, c, t) for (m, d, shard), t in day_totals.items()],
        )
        _write(
            db,
            cursor,
            "team_total",
            ("team_id", "metric_id", "total"),
            [(team, m, t) for (team, m), t in team_totals.items()],
        )
        by_key = sorted(team_days.items())  # in primary-key order: appends, not page splits
        for chunk in _chunks((team, d, c, n) for (team, d), n in by_key):
            _write(db, cursor, "team_day", ("team_id", "day", "campaign_id", "reports"), chunk)
        _write(
            db,
            cursor,
            "team_last_report",
            ("team_id", "campaign_id", "day"),
            [(team, c, d) for team, d in last.items()],
        )
        if not db.is_sqlite:  # explicit ids leave the sequence behind
            cursor.execute(
                "SELECT setval(pg_get_serial_sequence('report', 'id'), MAX(id)) FROM report"
            )
        raw.commit()
    finally:
        raw.close()
    return count


_REPORT_COLUMNS = (
    "id",
    "campaign_id",
    "team_id",
    "reporter_id",
    "report_date",
    "source",
    "source_chat",
    "created_at",
    "status",
)
SOURCE = ("shell", "b")


def _write(
    db: Database, cursor: Any, table: str, columns: tuple[str, ...], rows: list[tuple[Any, ...]]
) -> None:
    if not rows:
        return
    names = ", ".join(columns)
    if db.is_sqlite:  # SQLite stores dates and times as ISO text, as SQLAlchemy writes them
        rows = [tuple(_sqlite_value(v) for v in row) for row in rows]
        marks = ", ".join("?" * len(columns))
        cursor.executemany(f"INSERT INTO {table} ({names}) VALUES ({marks})", rows)
        return
    with cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def _sqlite_value(value: object) -> object:
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    return value


def record_all(db: Database, seeded: Seeded, rows: Iterable[Row]) -> int:
    """The same reports through the bot's own write path, one `record` each."""
    count = 0
    with db.session() as session:
        for team_id, day, values in rows:
            reports.record(
                session,
                campaign_id=seeded.campaign_id,
                team_id=team_id,
                reporter_id=seeded.account_id,
                day=day,
                values=values,
                note=None,
                photo_ref=None,
                source="shell",
                source_chat="b",
                source_message_id=None,
                now=NOW,
            )
            count += 1
    return count


def running_state(db: Database, campaign_id: int) -> dict[str, list[tuple[Any, ...]]]:
    """Every running table of the campaign, as sorted rows."""
    queries = {
        "campaign_day_total": "SELECT metric_id, day, SUM(total) FROM campaign_day_total"
        " WHERE campaign_id = :c GROUP BY metric_id, day",
        "team_total": "SELECT t.team_id, t.metric_id, t.total FROM team_total t"
        " JOIN team ON team.id = t.team_id WHERE team.campaign_id = :c",
        "team_day": "SELECT team_id, day, reports FROM team_day WHERE campaign_id = :c",
        "team_last_report": "SELECT team_id, day FROM team_last_report WHERE campaign_id = :c",
    }
    with Session(db.engine) as session:
        return {
            name: sorted(tuple(row) for row in session.execute(text(sql), {"c": campaign_id}))
            for name, sql in queries.items()
        }
