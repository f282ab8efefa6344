"""The command engine through the shell adapter: scripted sessions, asserting on the transcript
a user reads and on what is stored."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlmodel import select

from bot.shell import Shell
from handlers.engine.dispatch import Engine
from storage import reports
from storage.db import Database
from storage.models import Report, Team


def run(engine: Engine, tmp_path: Path, script: str, user: str = "root") -> str:
    lines: Iterator[str] = iter(script.strip().splitlines())
    out = io.StringIO()
    shell = Shell(
        engine,
        tmp_path / "files",
        out,
        lambda _prompt: next(lines, None),
        user=user,
        chat="@" + user,
        echo=True,
    )
    shell.run()
    return out.getvalue()


SETUP = """
/campaign new road "Đường Bình Sơn Đông" start=2025-02-01
/metric add households "Hộ đã vận động" unit=household target=100 aliases=hộ en="Households"
/metric add vnd "Tiền đóng góp" unit=VND target=1tỷ aliases=tiền en="Money"
/team add t1 "Tổ 1"
:as lan
/start
:as root
/role @lan reporter team=t1
"""


@pytest.fixture
def shell_db(engine: Engine, tmp_path: Path) -> Engine:
    run(engine, tmp_path, SETUP)
    return engine


def test_a_scripted_session_reads_like_a_chat(
    shell_db: Engine, tmp_path: Path, db: Database
) -> None:
    out = run(
        shell_db,
        tmp_path,
        """
:as lan
/report 12 hộ 2tr5
:tap 1
:tap 1
/progress
""",
    )
    assert "lan> /report 12 hộ 2tr5" in out
    assert "✅ Đã ghi báo cáo #1." in out
    assert "[1] ↩️ Hoàn tác" in out
    assert "Rút lại báo cáo #1" in out  # the undo button asks first
    assert "↩️ Đã rút lại báo cáo #1" in out
    with db.session() as session:
        assert [r.status for r in session.exec(select(Report)).all()] == ["retracted"]


def test_the_guided_form_asks_each_field(shell_db: Engine, tmp_path: Path, db: Database) -> None:
    out = run(
        shell_db,
        tmp_path,
        """
:as lan
/lang en
/report
7
-3
hôm qua
đi 12 nhà
3tr
""",
    )
    assert "  Households (in households; leave empty if none): 7" in out
    assert "  Money (in VND; leave empty if none): -3" in out
    # Asked again by its label, after the reason; the other answers are kept.
    assert "Negative numbers are not allowed" in out
    assert "  Money (in VND; leave empty if none): 3tr" in out
    assert "Report #1 recorded" in out
    with db.session() as session:
        (saved,) = session.exec(select(Report)).all()
    assert saved.note == "đi 12 nhà" and saved.report_date.day == 9


def test_attach_a_csv_to_import_teams_and_export(
    shell_db: Engine, tmp_path: Path, db: Database
) -> None:
    csv_file = tmp_path / "teams.csv"
    csv_file.write_text(
        "code,name,unit,unit_name,target:households\nt2,Tổ 2,ap-2,Ấp 2,40\nt3,Tổ 3,ap-2,,30\n",
        encoding="utf-8",
    )
    out = run(
        shell_db,
        tmp_path,
        f"""
/lang en
:attach {csv_file}
/team import
/export
""",
    )
    assert "2 teams created, 0 updated, 1 units created" in out
    exported = next(line for line in out.splitlines() if line.startswith("📎 "))
    assert Path(exported[2:].strip()).read_bytes().startswith(b"\xef\xbb\xbfid,date,team")
    with db.session() as session:
        assert len(session.exec(select(Team)).all()) == 3


def test_groups_and_users(shell_db: Engine, tmp_path: Path, db: Database) -> None:
    out = run(
        shell_db,
        tmp_path,
        """
:in #to1
/campaign use road
/team bind t1
:as lan
/report 4 hộ
:as stranger
/report 4 hộ
:quit
/report 99 hộ
""",
    )
    assert "stranger #to1> /report 4 hộ" in out
    assert "⛔" in out
    assert "/report 99" not in out  # nothing runs after :quit
    with db.session() as session:
        assert [r.source_chat for r in session.exec(select(Report)).all()] == ["shell:#to1"]


def test_unknown_things_get_help(shell_db: Engine, tmp_path: Path) -> None:
    out = run(
        shell_db,
        tmp_path,
        """
hello
/frobnicate
:tap 9
:what
""",
    )
    assert "commands start with /" in out
    assert "Không có lệnh /frobnicate" in out
    assert "no button 9" in out
    assert ":attach <path>" in out


def test_the_form_reads_answers_as_reports_do(
    shell_db: Engine, tmp_path: Path, db: Database
) -> None:
    """`7 hộ`, `2 triệu rưỡi` and `hôm qua` are read by each field's own parser; a bad answer
    is asked again in Vietnamese with the reason, and nothing typed before is lost."""
    out = run(
        shell_db,
        tmp_path,
        """
:as lan
/report
7 hộ
2 triệu rưỡi
mai
đi 12 nhà
hôm qua
""",
    )
    assert "— Báo cáo Đường Bình Sơn Đông —" in out
    assert "date:" not in out.lower()  # no English prompt in a Vietnamese session
    assert "Tôi không hiểu ngày “date=mai”." in out
    assert out.count("  Ngày (") == 2  # the date asked again by its Vietnamese label
    with db.session() as session:
        (saved,) = session.exec(select(Report)).all()
        values = {m.key: v for m, v in reports.values_of(session, saved.id)}  # type: ignore[arg-type]
    assert values == {"households": 7, "vnd": 2_500_000}
    assert saved.note == "đi 12 nhà" and saved.report_date.day == 9


def test_a_field_left_empty_on_retry_is_skipped(
    shell_db: Engine, tmp_path: Path, db: Database
) -> None:
    out = run(
        shell_db,
        tmp_path,
        """
:as lan
/report
1,5 hộ
3tr


2 hộ
""",
    )
    assert "“1,5”: households chỉ nhận số nguyên." in out
    with db.session() as session:
        (saved,) = session.exec(select(Report)).all()
        values = {m.key: v for m, v in reports.values_of(session, saved.id)}  # type: ignore[arg-type]
    assert values == {"households": 2, "vnd": 3_000_000}


def test_report_lines_as_people_write_them(shell_db: Engine, tmp_path: Path, db: Database) -> None:
    out = run(
        shell_db,
        tmp_path,
        """
:as lan
/report đã vận động 12 hộ, 2tr5
/report hôm qua 3 hộ dân 👍 ghi chú: nhà ông Ba đồng ý
/report 12 hộ 5 con gà
/report 1 tỷ 3
""",
    )
    assert "“con”" in out  # named, and nothing of that line recorded
    with db.session() as session:
        saved = session.exec(select(Report).order_by(Report.id)).all()
        rows = [
            ({m.key: v for m, v in reports.values_of(session, r.id)}, r.report_date.day, r.note)  # type: ignore[arg-type]
            for r in saved
        ]
    assert rows == [
        ({"households": 12, "vnd": 2_500_000}, 10, None),
        ({"households": 3}, 9, "nhà ông Ba đồng ý"),
        ({"vnd": 1_300_000_000}, 10, None),
    ]
