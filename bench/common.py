"""What every benchmark shares: a figure (value, its floor measured in the same run, the target),
medians, peak memory, and scratch databases on SQLite and on the PostgreSQL at 127.0.0.1:5432.

A benchmark is not a test: nothing here asserts a time. Every loop is bounded in count and time."""

from __future__ import annotations

import os
import resource
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

PG_ADMIN_URL = os.environ.get(
    "TIENDO_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Figure:
    """One line of the table. `value` and `floor` are in `unit`; `ratio` is value ÷ floor (or
    the figure itself when it is already a ratio); `met` compares against the target."""

    name: str
    value: float
    unit: str
    floor: float | None
    floor_name: str
    target: str
    met: bool | None

    @property
    def ratio(self) -> float | None:
        return self.value / self.floor if self.floor else None


def _loop() -> int:
    total = 0
    for i in range(2_000_000):
        total += i
    return total


def machine_speed() -> float:
    """Median seconds of a fixed pure-Python loop. These machines are shared and their speed
    drifts from one session to the next (the bare bot's burst: 845–926/s in one, 486–594/s in
    another): absolute figures of two runs compare only beside this."""
    return median_time(_loop, repeat=9)


def median_time(fn: Callable[[], object], *, repeat: int, budget: float = 60.0) -> float:
    """Median seconds of `fn()` over `repeat` runs, fewer if `budget` seconds run out."""
    timings: list[float] = []
    deadline = time.perf_counter() + budget
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        timings.append(time.perf_counter() - start)
        if time.perf_counter() > deadline:
            break
    return statistics.median(timings)


def peak_rss_mb() -> float:
    """This process's peak resident set so far (Linux reports kilobytes)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def rss_mb(pid: int) -> float:
    """Another process's resident set now, from /proc."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise LookupError(pid)


@contextmanager
def scratch_database(kind: str) -> Iterator[str]:
    """A fresh, empty database URL of `kind` ("sqlite" or "postgres"), dropped afterwards."""
    if kind == "sqlite":
        with tempfile.TemporaryDirectory(prefix="tiendo-bench-") as folder:
            yield f"sqlite:///{folder}/bench.db"
        return
    from sqlalchemy import create_engine, text

    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    name = f"tiendo_bench_{uuid.uuid4().hex[:8]}"
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def postgres_available() -> bool:
    from sqlalchemy import create_engine, text

    engine = create_engine(PG_ADMIN_URL, connect_args={"connect_timeout": 3})
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception:
        return False
    finally:
        engine.dispose()
    return True
