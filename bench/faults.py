"""The long fault runs behind docs/reliability.md: a burst of reports from many reporters into a
real `tiendo run` (against the fake Telegram server), killed with SIGKILL at random moments, on
SQLite and on PostgreSQL; the figures of each run, report by report.

    uv run python -m bench.faults                       # 2,000 reports, 200 reporters, 5 kills
    uv run python -m bench.faults --reports 500 --kills 3 --database sqlite

PostgreSQL runs use a scratch database on TIENDO_TEST_POSTGRES_URL (default the server on
127.0.0.1:5432), dropped afterwards. CI runs the same scenario short (tests/test_run.py)."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import tempfile
import time
import uuid
from pathlib import Path

from sqlalchemy import create_engine, text

from tests.scenarios import kill_burst

PG_ADMIN_URL = os.environ.get(
    "TIENDO_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)


def _postgres() -> tuple[str, str]:
    name = f"tiendo_faults_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}", name


def _drop(name: str) -> None:
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


async def one(database: str, reports: int, reporters: int, kills: int, seed: int) -> dict:
    with tempfile.TemporaryDirectory() as folder:
        scratch = None
        if database == "sqlite":
            url = f"sqlite:///{Path(folder) / 'tiendo.db'}"
        else:
            url, scratch = _postgres()
        started = time.monotonic()
        try:
            run = await kill_burst(
                url, Path(folder), reports=reports, reporters=reporters, kills=kills, seed=seed
            )
        finally:
            if scratch:
                _drop(scratch)
    t = run.tally
    return {
        "database": database,
        "sent": t.sent,
        "stored": t.stored,
        "doubled": t.doubled,
        "lost": t.lost,
        "wrong": t.wrong,
        "confirmed": t.confirmed,
        "replies_sent_twice": t.confirmed_twice,
        "apologies": t.apologies,
        "kills_survived": run.kills,
        "seconds": round(time.monotonic() - started, 1),
        "ok": t.ok,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reports", type=int, default=2000)
    parser.add_argument("--reporters", type=int, default=200)
    parser.add_argument("--kills", type=int, default=5)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--database", choices=("sqlite", "postgres", "both"), default="both", help="default both"
    )
    args = parser.parse_args()
    kinds = ("sqlite", "postgres") if args.database == "both" else (args.database,)
    failed = False
    for kind in kinds:
        result = asyncio.run(one(kind, args.reports, args.reporters, args.kills, args.seed))
        print(json.dumps(result, ensure_ascii=False), flush=True)
        failed |= not result["ok"]
    raise SystemExit(1 if failed else 0)


if __name__ == "__main__":
    main()
