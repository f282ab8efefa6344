"""The digest at city scale: 5,000 teams in a 3-level tree, 3 metrics, a year of reports.

Seeds the campaign in bulk (and a 30-day one beside it), after checking on a small sample that
bulk seeding and the bot's own `storage.reports.record` leave identical running totals. Times
the warm digest (numbers and all three charts) against a floor measured in the same run: one
raw SQL sum over every report value plus one bare matplotlib chart. Peak memory is that of
`tiendo digest` as a whole process."""

from __future__ import annotations

import io
import tempfile
import time
from pathlib import Path

from sqlalchemy import text

from bench import seed
from bench.common import Figure, median_time, scratch_database
from bench.processes import TIENDO, run
from handlers.language.i18n import Catalogs
from handlers.read import digest
from storage import queries
from storage.db import Database


def check_bulk_seeding(db: Database) -> None:
    """The same small history through both paths: identical running tables (ids mapped)."""
    shape = seed.Shape(teams=40, days=20, communes=3, villages=8)
    states = []
    for code, write in (("sample-bulk", seed.bulk_load), ("sample-rec", seed.record_all)):
        seeded = seed.create(db, code, shape)
        write(db, seeded, seed.history(seeded, shape.days))
        team = {t: i for i, t in enumerate(seeded.team_ids)}
        metric = {m: i for i, m in enumerate(seeded.metric_ids)}
        state = seed.running_state(db, seeded.campaign_id)
        states.append(
            {
                "campaign_day_total": [
                    (metric[m], d, t) for m, d, t in state["campaign_day_total"]
                ],
                "team_total": sorted((team[a], metric[m], t) for a, m, t in state["team_total"]),
                "team_day": [(team[a], d, n) for a, d, n in state["team_day"]],
                "team_last_report": [(team[a], d) for a, d in state["team_last_report"]],
            }
        )
    if states[0] != states[1] or not states[0]["team_day"]:
        raise AssertionError("bulk seeding and storage.reports.record disagree")


def bare_chart() -> bytes:
    """The floor's chart: one bar chart of the same size, straight to PNG with savefig."""
    from matplotlib.figure import Figure as MplFigure

    figure = MplFigure(figsize=(6, 4), dpi=180)
    axes = figure.add_subplot()
    axes.barh(["a", "b", "c"], [3, 5, 2])
    axes.set_title("floor")
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


def measure(kind: str, *, teams: int, repeat: int) -> list[Figure]:
    tr = Catalogs().translator("vi")
    figures: list[Figure] = []
    with scratch_database(kind) as url:
        db = Database(url)
        db.upgrade()
        check_bulk_seeding(db)
        started = time.perf_counter()
        count = 0
        for days in (365, 30):
            seeded = seed.create(db, f"c{days}", seed.Shape(teams=teams, days=days))
            count += seed.bulk_load(db, seeded, seed.history(seeded, days))
        seeding = time.perf_counter() - started

        def build(code: str) -> None:
            with db.session() as session:
                campaign = queries.campaign_by_code(session, code)
                assert campaign is not None
                digest.build(session, tr, campaign, seed.TODAY)

        def floor() -> None:
            with db.engine.connect() as connection:
                connection.execute(text("SELECT SUM(value) FROM report_value")).scalar()
            bare_chart()

        for code in ("c365", "c30", "c365"):  # warm: caches, the chart library, the pages
            build(code)
        year = median_time(lambda: build("c365"), repeat=repeat)
        month = median_time(lambda: build("c30"), repeat=repeat)
        base = median_time(floor, repeat=repeat)
        with tempfile.TemporaryDirectory(prefix="tiendo-bench-") as out:
            env = {"TIENDO_DATABASE_URL": url}
            command = (TIENDO, "digest", "--campaign", "c365", "--date", "2025-12-31")
            _, peak = run((*command, "--out", str(Path(out))), env=env)
        db.dispose()
    label = f"{teams:,} teams, 3 metrics, {kind}"
    figures += [
        Figure(
            f"digest numbers + 3 charts, 365 days ({count:,} reports with the 30-day "
            f"campaign, seeded in {seeding:.0f} s), {label}, warm",
            year,
            "s",
            base,
            "SUM(report_value) + 1 bare chart",
            "≤ 1.0 s",
            year <= 1.0,
        ),
        Figure(
            f"the same, 365 days ÷ 30 days, {kind}",
            year / month,
            "×",
            None,
            "",
            "≤ 1.2",
            year / month <= 1.2,
        ),
        Figure(f"`tiendo digest` peak RSS, {label}", peak, "MB", None, "", "≤ 250 MB", peak <= 250),
    ]
    return figures
