"""Every benchmark of issue #12 on loopback, one table: `uv run python -m bench [--quick]`.

Each figure is printed with its floor measured in the same run, the ratio and the target. A
benchmark is not a test: nothing asserts a time, and every loop is bounded in count and time.
`--quick` runs the same code paths at small sizes in well under a minute or two; `--only` picks
benchmarks by name (digest, fanout, startup, memory, ingest); PostgreSQL is used when it
answers at 127.0.0.1:5432 (scratch databases, dropped afterwards)."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import subprocess
import sys
import time

from bench import common, digest_scale, fanout, ingest, memory, startup
from bench.common import Figure
from storage.db import Database

NAMES = ("digest", "fanout", "startup", "memory", "ingest")


def _ingest(kinds: list[str], quick: bool) -> list[Figure]:
    sizes = (
        ingest.Sizes(reporters=50, burst=300, default_burst=90, paced=60)
        if quick
        else ingest.Sizes()
    )

    async def run() -> list[Figure]:
        figures: list[Figure] = []
        async with ingest.TimedTelegram() as fake:
            people = ingest.reporters(fake, sizes.reporters)
            bare, bare_cpu, bare_p99 = await ingest.floor(fake, people, sizes)
            one_by_one, in_flight = await ingest.durable_minimum(fake, people, sizes)
            for name, rate in (("one at a time", one_by_one), ("16 in flight", in_flight)):
                figures.append(
                    Figure(
                        f"for scale: the smallest durable bot (raw sqlite3, 3 commits a report), "
                        f"{name}, burst of {sizes.burst:,}",
                        rate,
                        "/s",
                        bare,
                        "bare PTB bot, same fake",
                        "—",
                        None,
                    )
                )
            for kind in kinds:
                with common.scratch_database(kind) as url:
                    db = Database(url)
                    db.upgrade()
                    ingest.seed_reporters(db, sizes.reporters)
                    got = await ingest.tiendo(fake, people, db, sizes)
                    command = ingest.command_cpu(db, sizes.reporters)
                    db.dispose()
                who = f"{sizes.burst:,} from {sizes.reporters} reporters"
                figures += [
                    Figure(
                        f"reports answered/s at max_messages_per_second=1000, "
                        f"burst of {who}, {kind}",
                        got["burst"],
                        "/s",
                        bare,
                        "bare PTB bot, same fake",
                        "≥ 0.6× floor",
                        got["burst"] >= 0.6 * bare,
                    ),
                    Figure(
                        f"CPU a report needs at the least at 0.6 × the floor's rate, {kind}: "
                        f"its command alone ({command * 1000:.2f} ms) + the bare bot's cycle "
                        f"with the fake ({bare_cpu * 1000:.2f} ms)",
                        (command + bare_cpu) * 0.6 * bare,
                        "cores",
                        float(os.cpu_count() or 1),
                        "the machine's cores",
                        "—",
                        None,
                    ),
                    Figure(
                        f"confirmations/s at the default 30/s, burst of {sizes.default_burst}, "
                        f"after the limiter's first second, {kind}",
                        got["default burst"],
                        "/s",
                        30.0,
                        "the limit",
                        "≥ 0.95× limit",
                        got["default burst"] >= 0.95 * 30,
                    ),
                    Figure(
                        f"p99 reply latency at {sizes.paced_rate:.0f} reports/s "
                        f"({sizes.paced} reports), {kind}",
                        got["p99"] * 1000,
                        "ms",
                        bare_p99 * 1000,
                        "bare PTB bot p99",
                        "≤ 50 ms",
                        got["p99"] <= 0.050,
                    ),
                ]
            assert fake.violations == [], fake.violations[:3]
        return figures

    return asyncio.run(run())


def table(figures: list[Figure]) -> str:
    lines = [
        "| figure | value | floor (same run) | ratio | target | met |",
        "|---|---|---|---|---|---|",
    ]
    for f in figures:
        floor = f"{f.floor:.3g} {f.unit} ({f.floor_name})" if f.floor else "—"
        ratio = f"{f.ratio:.2f}" if f.ratio is not None else "—"
        met = {True: "yes", False: "**no**", None: "—"}[f.met]
        lines.append(
            f"| {f.name} | {f.value:.3g} {f.unit} | {floor} | {ratio} | {f.target} | {met} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small sizes, same code paths")
    parser.add_argument("--only", default=",".join(NAMES), help="comma-separated benchmarks")
    parser.add_argument("--no-postgres", action="store_true", help="SQLite only")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    chosen = [name for name in args.only.split(",") if name]
    unknown = set(chosen) - set(NAMES)
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(sorted(unknown))}")
    kinds = ["sqlite"] + (
        [] if args.no_postgres or not common.postgres_available() else ["postgres"]
    )
    quick = args.quick
    repeat = 3 if quick else 5
    started = time.perf_counter()
    speed_before = common.machine_speed()
    figures: list[Figure] = []
    for name in chosen:
        print(f"… {name}", file=sys.stderr, flush=True)
        done = len(figures)
        if name == "digest":
            for kind in kinds:
                figures += digest_scale.measure(kind, teams=300 if quick else 5_000, repeat=repeat)
        elif name == "fanout":
            for kind in kinds:
                figures += fanout.measure(kind, campaigns=20 if quick else 1_000, repeat=repeat)
        elif name == "startup":
            figures += startup.measure(teams=500 if quick else 5_000, repeat=repeat)
        elif name == "memory":
            figures += memory.measure(settle=1 if quick else 5, repeat=repeat)
        elif name == "ingest":
            figures += _ingest(kinds, quick)
        print(table(figures[done:]), file=sys.stderr, flush=True)  # a long run shows as it goes
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=False
    ).stdout.strip()
    speed = f"{speed_before:.3f} s before, {common.machine_speed():.3f} s after"
    print(
        f"commit {commit or '?'} · {'quick' if quick else 'full'} · {', '.join(kinds)} · "
        f"{time.perf_counter() - started:.0f} s · the machine's speed (bench.common."
        f"machine_speed): {speed}\n"
    )
    print(table(figures))


if __name__ == "__main__":
    main()
