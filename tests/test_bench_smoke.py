"""The benchmarks' own correctness, cheaply (no time is asserted: a benchmark is not a test):
the bulk seeding leaves the same running totals as the bot's write path, the city CSV imports,
and the table prints."""

from __future__ import annotations

from pathlib import Path

from sqlmodel import select

from bench import digest_scale, ingest, seed, startup
from bench.__main__ import table
from bench.common import Figure
from bench.fanout import _max_in_window
from storage.db import Database
from storage.models import Team, Unit


def test_bulk_seeding_matches_the_write_path(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'bench.db'}")
    db.upgrade()
    digest_scale.check_bulk_seeding(db)  # raises if they disagree
    seeded = seed.create(db, "tiny", seed.Shape(teams=12, days=5, communes=2, villages=4))
    assert seed.bulk_load(db, seeded, seed.history(seeded, 5)) > 40
    db.dispose()


def test_the_city_csv_is_one_tree(app: object, db: Database) -> None:
    from bot.app import App
    from handlers.values import Attachment, Ref, Request

    assert isinstance(app, App)
    root = Ref("shell", "", "root")
    for line in startup.SETUP.splitlines():
        command, _, args = line[1:].partition(" ")
        assert not app.engine.handle(Request(root, root, command, args)).is_error
    csv = startup.city_csv(teams=60, communes=3, villages=12).encode()
    reply = app.engine.handle(
        Request(root, root, "team", "import", attachment=Attachment("t.csv", csv, "text/csv"))
    )
    assert not reply.is_error, reply.text
    with db.session() as session:
        assert len(session.exec(select(Team)).all()) == 60
        assert len(session.exec(select(Unit)).all()) == 16


def test_the_table_and_the_window_count() -> None:
    assert _max_in_window([0.0, 0.1, 0.5, 1.2, 1.3, 1.35], 1.0) == 4  # 0.5 … 1.35
    printed = table([Figure("x", 2.0, "s", 1.0, "floor", "≤ 3 s", True)])
    assert "| x | 2 s | 1 s (floor) | 2.00 | ≤ 3 s | yes |" in printed


async def test_the_smallest_durable_bot_stores_what_it_answers(tmp_path: Path) -> None:
    """The floor it stands for is only honest if it does the work: every report stored, its
    reply stored and marked sent, its delivery marked done, every confirmation at the fake."""
    async with ingest.TimedTelegram() as fake:
        people = ingest.reporters(fake, 3)
        bot = ingest.DurableMinimum(tmp_path / "min.db")
        application = await ingest.started_durable_bot(fake, bot, in_flight=4)
        try:
            await ingest.burst(fake, people, 12, timeout=30)
        finally:
            await ingest.stop_bare_bot(application)
        assert fake.answered() == 12
    count = "select count(*) from {} where {}"
    assert bot.db.execute(count.format("delivery", "done = 1")).fetchone() == (12,)
    assert bot.db.execute(count.format("outgoing", "sent = 1")).fetchone() == (12,)
    assert bot.db.execute("select sum(value) from report").fetchone() == (
        sum(n % 9 + 1 for n in range(12)),
    )
    bot.db.close()
