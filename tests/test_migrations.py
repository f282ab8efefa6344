"""The Alembic migrations build exactly the schema the models describe, and upgrading is
idempotent, on SQLite and on PostgreSQL."""

from __future__ import annotations

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlmodel import SQLModel

from storage.db import HEAD, Database

# Campaign 1, as the oldest schema takes it: the data-migration tests start from it.
CAMPAIGN_1 = (
    "INSERT INTO campaign (id, code, name, start_date, timezone, rest_weekdays, rest_dates,"
    " backdate_days, status, created_at) VALUES (1, 'c', 'C', '2025-01-01',"
    " 'Asia/Ho_Chi_Minh', '[]', '[]', 7, 'active', '2025-01-01 00:00:00')"
)


def test_migrations_match_the_models(db: Database, tmp_path: Path) -> None:
    # A fresh database of the same kind, built only by the migrations.
    if db.is_sqlite:
        fresh = Database(f"sqlite:///{tmp_path / 'migrated.db'}")
    else:
        with db.engine.begin() as connection:
            connection.execute(text("DROP SCHEMA public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
        fresh = db
    fresh.upgrade()
    fresh.upgrade()  # a second run is a no-op
    with fresh.engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), SQLModel.metadata)
        assert diff == []
        assert "alembic_version" in inspect(connection).get_table_names()
    if db.is_sqlite:
        with fresh.engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        fresh.dispose()
    else:  # leave the shared test database as the other tests expect it
        with db.engine.begin() as connection:
            connection.execute(text("DROP SCHEMA public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
        db.create_all()


def test_the_head_the_database_checks_at_start_is_alembics(db: Database) -> None:
    from alembic.script import ScriptDirectory

    assert ScriptDirectory.from_config(db.alembic_config()).get_current_head() == HEAD


def at_revision(path: Path, revision: str, *statements: str) -> Database:
    """A SQLite database migrated only up to `revision`, with `statements` run on it."""
    from alembic import command

    db = Database(f"sqlite:///{path}")
    config = db.alembic_config()
    with db.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)
        for statement in statements:
            connection.execute(text(statement))
    return db


def test_an_existing_database_upgrades_in_place(tmp_path: Path) -> None:
    db = at_revision(
        tmp_path / "old.db",
        "0001",
        "INSERT INTO campaign (code, name, start_date, timezone, rest_weekdays, rest_dates,"
        " backdate_days, status, created_at) VALUES ('old', 'Cũ', '2025-01-01',"
        " 'Asia/Ho_Chi_Minh', '[]', '[]', 7, 'active', '2025-01-01 00:00:00')",
    )
    db.upgrade()
    with db.engine.connect() as connection:
        assert connection.execute(text("SELECT name FROM campaign")).scalar() == "Cũ"
        assert "digest_delivery" in inspect(connection).get_table_names()
    db.dispose()


def test_0005_fills_each_teams_last_report_day_from_the_running_totals(tmp_path: Path) -> None:
    db = at_revision(
        tmp_path / "old.db",
        "0003",
        CAMPAIGN_1,
        "INSERT INTO team (id, campaign_id, code, name) VALUES (1, 1, 't1', 'T1'),"
        " (2, 1, 't2', 'T2'), (3, 1, 't3', 'T3')",
        # t1's latest day with a report is 3 Jan; t2's only report was retracted.
        "INSERT INTO team_day (team_id, day, campaign_id, reports) VALUES"
        " (1, '2025-01-02', 1, 1), (1, '2025-01-03', 1, 2), (1, '2025-01-04', 1, 0),"
        " (2, '2025-01-02', 1, 0)",
    )
    db.upgrade()
    with db.engine.connect() as connection:
        rows = connection.execute(text("SELECT team_id, day FROM team_last_report")).all()
    assert [tuple(row) for row in rows] == [(1, "2025-01-03")]
    db.dispose()


def test_0011_keeps_every_daily_total_and_its_downgrade_adds_the_shards_up(tmp_path: Path) -> None:
    from alembic import command

    def totals() -> list[tuple[object, ...]]:
        with db.engine.connect() as connection:
            rows = connection.execute(
                text(
                    "SELECT metric_id, day, SUM(total) FROM campaign_day_total"
                    " GROUP BY metric_id, day ORDER BY metric_id, day"
                )
            ).all()
        return [tuple(row) for row in rows]

    db = at_revision(
        tmp_path / "old.db",
        "0010",
        CAMPAIGN_1,
        "INSERT INTO metric (id, campaign_id, key, label_vi, label_en, unit, aliases,"
        " position, active, decimals) VALUES"
        " (1, 1, 'households', 'Hộ', 'Households', 'household', '[]', 0, 1, 0)",
        "INSERT INTO campaign_day_total (metric_id, day, campaign_id, total) VALUES"
        " (1, '2025-01-02', 1, 12), (1, '2025-01-03', 1, 7.5)",
    )
    db.upgrade()
    assert totals() == [(1, "2025-01-02", 12.0), (1, "2025-01-03", 7.5)]
    with db.engine.begin() as connection:
        shards = connection.execute(text("SELECT DISTINCT shard FROM campaign_day_total")).all()
        assert [tuple(row) for row in shards] == [(0,)]
        # Another team's reports of the same day, in their own row.
        connection.execute(
            text(
                "INSERT INTO campaign_day_total (metric_id, day, shard, campaign_id, total)"
                " VALUES (1, '2025-01-02', 5, 1, 3)"
            )
        )
    config = db.alembic_config()
    with db.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0010")
    assert totals() == [(1, "2025-01-02", 15.0), (1, "2025-01-03", 7.5)]
    db.dispose()
