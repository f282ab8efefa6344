"""The long fault runs behind docs/reliability.md: a burst of reports from many reporters into a
real `tiendo run` (against the fake Telegram server), killed with SIGKILL at random moments, on
SQLite and on PostgreSQL; then two `tiendo run` instances in webhook mode on one PostgreSQL
database behind a balancer that sends each update to one at random and a share of them
(`--repeat`) to the other too, while either instance is killed at random and started again.
The figures of each run, report by report and confirmation by confirmation.

    uv run python -m bench.faults               # all three: 2,000 reports, 200 reporters, 5 kills
    uv run python -m bench.faults --scenario instances          # only the two instances
    uv run python -m bench.faults --reports 500 --kills 3 --database sqlite --scenario kill

Options: --reports, --reporters, --kills, --seed; --database sqlite|postgres|both (the single
instance run); --scenario kill|instances|all; --repeat (share of updates POSTed to both
instances, default 0.3). PostgreSQL runs use a scratch database on TIENDO_TEST_POSTGRES_URL
(default the server on 127.0.0.1:5432), dropped afterwards. CI runs the same scenarios short
(tests/test_run.py, tests/test_instances.py)."""

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

from tests.scenarios import kill_burst, two_instances_burst

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


async def instances(reports: int, reporters: int, kills: int, repeat: float, seed: int) -> dict:
    with tempfile.TemporaryDirectory() as folder:
        url, scratch = _postgres()
        started = time.monotonic()
        try:
            run = await two_instances_burst(
                url,
                Path(folder),
                reports=reports,
                reporters=reporters,
                kills=kills,
                repeat=repeat,
                seed=seed,
            )
        finally:
            _drop(scratch)
    t = run.tally
    return {
        "database": "postgres, two instances",
        "sent": t.sent,
        "stored": t.stored,
        "doubled": t.doubled,
        "lost": t.lost,
        "wrong": t.wrong,
        "confirmed": t.confirmed,
        "replies_sent_twice": t.confirmed_twice,
        "apologies": t.apologies,
        "kills_survived": run.kills,
        "killed": run.killed,
        "posts": run.posts,
        "updates_posted_twice": run.repeated,
        "posts_refused_and_resent": run.refused,
        "instances_that_worked": sorted(run.owners),
        "seconds": round(time.monotonic() - started, 1),
        "ok": t.ok and len(run.owners) == 2,
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
    parser.add_argument(
        "--scenario",
        choices=("kill", "instances", "all"),
        default="all",
        help="kill: one instance per database; instances: two on PostgreSQL; default all",
    )
    parser.add_argument(
        "--repeat", type=float, default=0.3, help="share of updates POSTed to both instances"
    )
    args = parser.parse_args()
    kinds = ("sqlite", "postgres") if args.database == "both" else (args.database,)
    failed = False
    results = []
    if args.scenario in ("kill", "all"):
        for kind in kinds:
            results.append(
                asyncio.run(one(kind, args.reports, args.reporters, args.kills, args.seed))
            )
            print(json.dumps(results[-1], ensure_ascii=False), flush=True)
    if args.scenario in ("instances", "all"):
        results.append(
            asyncio.run(instances(args.reports, args.reporters, args.kills, args.repeat, args.seed))
        )
        print(json.dumps(results[-1], ensure_ascii=False), flush=True)
    for result in results:
        failed |= not result["ok"]
    raise SystemExit(1 if failed else 0)


if __name__ == "__main__":
    main()
