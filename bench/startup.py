"""Start-up and bulk set-up as whole processes: `tiendo --help` against a bare
`import sqlalchemy, sqlmodel`, and `tiendo import-teams` of a city's teams with their unit tree."""

from __future__ import annotations

import tempfile
from pathlib import Path

from bench.common import Figure
from bench.processes import BARE_IMPORT, TIENDO, median_run, run

SETUP = (
    '/campaign new city "Dân vận khéo Hà Nội" start=2025-01-01\n'
    '/metric add households "Hộ đã vận động" unit=household target=1000000 aliases=hộ\n'
)


def city_csv(teams: int, communes: int = 30, villages: int = 1_000) -> str:
    """A city, its communes and villages as unit-only rows (children first), then the teams in
    the villages with a target each."""
    villages = min(villages, teams)
    rows = ["code,name,unit,unit_name,parent_unit,target:households"]
    rows += [f"to{i},Tổ dân vận {i},th{i % villages},,,{200 + i % 50}" for i in range(teams)]
    rows += [f",,th{v},Thôn {v},x{v % communes},," for v in range(villages)]
    rows += [f",,x{c},Xã {c},hn,," for c in range(communes)]
    rows.append(",,hn,Thành phố Hà Nội,,,")
    return "\n".join(rows) + "\n"


def measure(*, teams: int, repeat: int) -> list[Figure]:
    floor, _ = median_run(BARE_IMPORT, repeat)
    help_time, _ = median_run((TIENDO, "--help"), repeat)
    with tempfile.TemporaryDirectory(prefix="tiendo-bench-") as folder:
        here = Path(folder)
        env = {"TIENDO_DATABASE_URL": f"sqlite:///{here / 'tiendo.db'}"}
        run((TIENDO, "shell"), env=env, cwd=here, stdin=SETUP)
        (here / "teams.csv").write_text(city_csv(teams), "utf-8")
        imported, _ = run(
            (TIENDO, "import-teams", "teams.csv", "--campaign", "city"), env=env, cwd=here
        )
    return [
        Figure(
            "`tiendo --help`",
            help_time,
            "s",
            floor,
            "import sqlalchemy, sqlmodel",
            "≤ 1.5×",
            help_time / floor <= 1.5,
        ),
        Figure(
            f"`tiendo import-teams`, {teams:,} teams + units, whole process",
            imported,
            "s",
            floor,
            "import sqlalchemy, sqlmodel",
            "≤ 3 s",
            imported <= 3.0,
        ),
    ]
