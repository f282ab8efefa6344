"""The command engine through the shell adapter: scripted sessions, asserting on the transcript
a user reads and on what is stored; and at a real terminal, the line editing a user expects."""

from __future__ import annotations

import io
import os
import re
import select as selectors
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlmodel import select

from bot.shell import Shell, line_editing
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
    # The shell's own words are in the configured default language, Vietnamese.
    assert "lệnh bắt đầu bằng /" in out
    assert "Không có lệnh /frobnicate" in out
    assert "không có nút 9" in out
    assert ":attach <path>  đính kèm tệp" in out


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


def test_the_form_takes_the_words_zalo_takes_to_skip_and_stop(
    shell_db: Engine, tmp_path: Path, db: Database
) -> None:
    """The shell's form is Zalo's text form (bot/text_form.py): "bỏ qua", "-" or an empty line
    leaves a field out; "hủy" stops the form and nothing is sent."""
    out = run(
        shell_db,
        tmp_path,
        """
:as lan
/report
bỏ qua
2tr
-

/report
5 hộ
hủy
""",
    )
    assert "Đã ghi báo cáo #1." in out
    assert "Đã huỷ; chưa ghi gì." in out
    with db.session() as session:
        (saved,) = session.exec(select(Report)).all()
        values = {m.key: v for m, v in reports.values_of(session, saved.id)}  # type: ignore[arg-type]
    assert values == {"vnd": 2_000_000} and saved.note is None


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


# --- at a terminal --------------------------------------------------------------------------

NO_READLINE = "no readline module in this Python (e.g. Windows): the shell reads plain lines"
ESCAPES = re.compile(rb"\x1b\[[0-9;?]*[A-Za-z]|\x1b[=>]|\r")  # cursor moves, modes, returns


class Terminal:
    """`tiendo shell` on a pseudo-terminal, read as a person would see it, without escapes."""

    def __init__(self, home: Path) -> None:
        self.controller, terminal = os.openpty()
        self.process = subprocess.Popen(
            [sys.executable, "-c", "from bot.cli import main; main()", "shell"],
            stdin=terminal,
            stdout=terminal,
            stderr=terminal,
            cwd=home,  # its tiendo.db and files, and its home for the history
            env={**os.environ, "HOME": str(home), "TERM": "xterm"},
            start_new_session=True,  # the terminal is its controlling terminal
        )
        os.close(terminal)
        self.seen = b""

    def type(self, keys: bytes) -> None:
        os.write(self.controller, keys)

    def wait_for(self, text: str, count: int = 1, timeout: float = 30) -> str:
        """The screen so far, once `text` is on it `count` times."""
        deadline = time.monotonic() + timeout
        while self.screen().count(text) < count:
            left = deadline - time.monotonic()
            ready, _, _ = selectors.select([self.controller], [], [], max(left, 0))
            if not ready:
                pytest.fail(f"no {text!r} × {count} on the terminal:\n{self.screen()}")
            try:
                self.seen += os.read(self.controller, 4096)
            except OSError:  # the shell has gone: nothing more will come
                pytest.fail(f"the shell ended before {text!r}:\n{self.screen()}")
        return self.screen()

    def screen(self) -> str:
        return ESCAPES.sub(b"", self.seen).decode("utf-8", "replace")

    def close(self) -> int:
        code = self.process.wait(timeout=30)
        os.close(self.controller)
        return code


def test_at_a_terminal_the_up_arrow_recalls_the_last_line(tmp_path: Path) -> None:
    pytest.importorskip("readline", reason=NO_READLINE)
    shell = Terminal(tmp_path)
    try:
        shell.wait_for("admin> ")
        shell.type(b"/lang en\r")
        shell.wait_for("admin> ", count=2)
        shell.type(b"\x1b[A")  # Up: the line comes back, to edit or to send again
        shell.wait_for("/lang en", count=2)
        shell.type(b"\r")
        screen = shell.wait_for("admin> ", count=3)
        shell.type(b":quit\r")
        assert shell.close() == 0
    finally:
        if shell.process.poll() is None:
            shell.process.kill()
    assert screen.count("I will speak English with you.") == 2, screen
    # The lines outlive the session, for the next one's Up arrow and Ctrl-R (a line sent again
    # is kept once).
    history = (tmp_path / ".tiendo_history").read_text("utf-8").splitlines()
    assert history[-2:] == ["/lang en", ":quit"]


def test_the_history_is_bounded_and_read_back(tmp_path: Path) -> None:
    readline = pytest.importorskip("readline", reason=NO_READLINE)
    history = tmp_path / "history"
    with line_editing(history, length=5) as editing:
        assert editing
        for n in range(8):
            readline.add_history(f"/report {n} hộ")
    with line_editing(history, length=5):
        kept = [
            readline.get_history_item(i + 1) for i in range(readline.get_current_history_length())
        ]
    assert kept == [f"/report {n} hộ" for n in range(3, 8)]


def test_without_readline_typing_works_as_before(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "readline", None)  # as where it is not built: ImportError
    with line_editing(tmp_path / "history") as editing:
        assert not editing
    assert not (tmp_path / "history").exists()


# Role and weekday words as English shows them; none may reach a Vietnamese reader.
ENGLISH_WORDS = re.compile(
    r"\b(reporter|leader|admin|administrator|mon|tue|wed|thu|fri|sat|sun)\b", re.IGNORECASE
)


def test_a_vietnamese_session_reads_in_vietnamese(engine: Engine, tmp_path: Path) -> None:
    out = run(
        engine,
        tmp_path,
        """
/campaign new road "Đường Bình Sơn Đông" start=2025-02-01
/metric add households "Hộ đã vận động" unit=household target=100 aliases=hộ en="Households"
/team add t1 "Tổ 1"
/campaign set restdays=sun,sat,30/4
/role @lan reporter team=t1
/role @hoa leader
:as lan
/me
/report 12 hộ
/fix 1 15 hộ
/campaign list
/metric add x "X" unit=m
/team list
:as hoa
/campaign info
/campaign set backdate=3
:help
hello
:tap 3
""",
    )
    replies = "\n".join(line for line in out.splitlines() if not re.match(r"^\S+> ", line))
    assert "lan sẽ là tổ viên trong road: sẽ áp dụng khi người này nhắn cho bot lần đầu" in out
    assert "• road: tổ viên; tổ: t1" in replies  # the waiting role applied on lan's first line
    assert "Ngày nghỉ: thứ bảy, chủ nhật, 30/04/2025" in replies
    assert "Chỉ tiêu: Hộ đã vận động" in replies
    assert "#1 → #2: 12 hộ → 15 hộ" in replies
    assert "• road — Đường Bình Sơn Đông (tổ viên)" in replies
    assert "Vai trò của bạn trong road là tổ viên; việc này cần: quản trị viên." in replies
    assert "Vai trò của bạn trong road là lãnh đạo; việc này cần: quản trị viên." in replies
    assert "• t1 — Tổ 1 [—] Hộ đã vận động 15 hộ" in replies
    assert ":tap <n>  bấm nút số n" in replies and "lệnh bắt đầu bằng /" in replies
    assert "(không có nút 3;" in replies
    assert not ENGLISH_WORDS.findall(replies), ENGLISH_WORDS.findall(replies)
