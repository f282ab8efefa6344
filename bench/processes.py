"""Whole processes, timed and measured: `tiendo` commands and bare Python, wall time from
perf_counter and peak memory from `/usr/bin/time -f %M`. (The rusage of a child forked from
this process would count this process's own pages, copied before the exec, as the child's.)"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

TIENDO = str(Path(sys.executable).with_name("tiendo"))
BARE_IMPORT = (sys.executable, "-c", "import sqlalchemy, sqlmodel")


def run(
    command: Sequence[str],
    *,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    stdin: str = "",
    timeout: float = 300,
) -> tuple[float, float]:
    """Seconds and peak RSS (MB) of one run of `command`, which must succeed."""
    start = time.perf_counter()
    result = subprocess.run(
        ["/usr/bin/time", "-f", "%M", *command],
        input=stdin.encode(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env={**os.environ, **(env or {})},
        cwd=cwd,
        timeout=timeout,
        check=False,
    )
    elapsed = time.perf_counter() - start
    errors = result.stderr.decode(errors="replace")
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed ({result.returncode}): {errors[-2000:]}")
    return elapsed, int(errors.strip().splitlines()[-1]) / 1024


def median_run(command: Sequence[str], repeat: int, **options: object) -> tuple[float, float]:
    """Median seconds and median peak RSS over `repeat` runs."""
    runs = sorted(run(command, **options) for _ in range(repeat))  # type: ignore[arg-type]
    seconds = sorted(r[0] for r in runs)[len(runs) // 2]
    memory = sorted(r[1] for r in runs)[len(runs) // 2]
    return seconds, memory
