"""Exports (CSV, XLSX, formula escaping) and the all-or-nothing team import."""

from __future__ import annotations

import csv
import io
from datetime import datetime

from openpyxl import load_workbook
from openpyxl.worksheet.worksheet import Worksheet
from sqlalchemy import update
from sqlmodel import col, select

from handlers.commands.export import XLSX
from handlers.values import Attachment, Reply
from storage.db import Database
from storage.models import Account, Report, Team, Unit
from tests.conftest import Chat


def csv_rows(content: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))


def sheets(reply: Reply) -> tuple[Worksheet, Worksheet]:
    (file,) = reply.files
    assert file.name.endswith(".xlsx") and file.mime_type == XLSX
    book = load_workbook(io.BytesIO(file.content))
    return book.worksheets[0], book.worksheets[1]


def values(sheet: Worksheet) -> list[tuple[object, ...]]:
    return list(sheet.iter_rows(values_only=True))


def test_csv_export_has_every_value_and_escapes_formulas(campaign: Chat) -> None:
    campaign.ok("lan", '/report 12 hộ 2tr5 note="=HYPERLINK(\\"http://x\\")"')
    campaign.ok("minh", "/report 3 hộ date=hôm qua note=@SUM(A1)")
    campaign.ok("lan", "/undo 1 yes")
    reply = campaign.ok("hoa", "/export")
    (file,) = reply.files
    assert file.name == "tiendo-road-2025-03-10.csv" and file.mime_type == "text/csv"
    assert file.content.startswith(b"\xef\xbb\xbfid,date,team,")  # UTF-8 with a BOM
    assert "ISO dates" in reply.text and "/export xlsx" in reply.text
    header, *rows = csv_rows(file.content)
    assert header == [
        "id",
        "date",
        "team",
        "unit_path",
        "reporter",
        "metric",
        "value",
        "status",
        "note",
        "created_at",
        "source",
        "corrects",
    ]
    assert [(r[0], r[1], r[2], r[3], r[5], r[6], r[7]) for r in rows] == [
        ("2", "2025-03-09", "t2", "Xã Bình Sơn / Ấp 2", "households", "3.0", "active"),
        ("1", "2025-03-10", "t1", "Xã Bình Sơn / Ấp 1", "households", "12.0", "retracted"),
        ("1", "2025-03-10", "t1", "Xã Bình Sơn / Ấp 1", "vnd", "2500000.0", "retracted"),
    ]
    assert rows[0][8] == "'@SUM(A1)" and rows[1][8] == '\'=HYPERLINK("http://x")'
    assert rows[0][4] == "minh (shell:minh)" and rows[0][10].startswith("shell:test:")
    assert rows[0][9] == "2025-03-10T03:00:00+00:00"  # UTC, whoever asks


def test_csv_is_the_same_in_every_language_and_links_corrections(campaign: Chat) -> None:
    campaign.ok("lan", "/report 6 hộ", message_id="tg:5:10")
    campaign.ok("lan", "/report 8 hộ", message_id="tg:5:10:edit", edits="tg:5:10")
    english = campaign.ok("hoa", "/export", lang="en").files[0].content
    campaign.ok("hoa", "/lang vi")
    vietnamese = campaign.ok("hoa", "/export").files[0].content
    assert vietnamese == english
    _, first, second = csv_rows(english)
    assert (first[0], first[7], first[11]) == ("1", "retracted", "")
    assert (second[0], second[6], second[7], second[11]) == ("2", "8.0", "active", "1")


def test_xlsx_for_leaders_in_vietnamese(campaign: Chat) -> None:
    campaign.ok("an", "/team target t1 households 40")
    campaign.ok("lan", "/report 12 hộ 2tr5 note==1+1", message_id="tg:1")
    campaign.ok("minh", "/report 3 hộ 1,5m date=hôm qua")
    campaign.ok("lan", "/report 10 hộ 2tr5", message_id="tg:1:edit", edits="tg:1")
    campaign.ok("minh", "/report 1234 hộ", lang="en")
    campaign.ok("minh", "/undo 4 yes")
    campaign.ok("hoa", "/lang vi")
    reply = campaign.ok("hoa", "/export xlsx")
    assert "Giờ tính theo Asia/Ho_Chi_Minh" in reply.text
    reports, totals = sheets(reply)
    assert (reports.title, totals.title) == ("Báo cáo", "Tổng theo tổ")
    header, *rows = values(reports)
    assert header == (
        "Số báo cáo",
        "Ngày báo cáo",
        "Mã tổ",
        "Tổ",
        "Đơn vị",
        "Người báo cáo",
        "Tài khoản",
        "Mã chỉ tiêu",
        "Chỉ tiêu",
        "Giá trị",
        "Đơn vị tính",
        "Trạng thái",
        "Đính chính báo cáo số",
        "Ghi chú",
        "Thời điểm ghi nhận (giờ Asia/Ho_Chi_Minh)",
        "Nguồn",
    )
    # Ordered by report date, then report: minh's of yesterday first.
    assert rows[0][:12] == (
        2,
        datetime(2025, 3, 9),
        "t2",
        "Tổ 2",
        "Xã Bình Sơn / Ấp 2",
        "minh",
        "shell:minh",
        "households",
        "Hộ đã vận động",
        3,
        "hộ",
        "đang hiệu lực",
    )
    assert rows[1][7:11] == ("road_m", "Đường đã làm", 1.5, "m")
    assert [(r[0], r[7], r[11], r[12]) for r in rows[2:]] == [
        (1, "households", "đã rút lại", None),
        (1, "vnd", "đã rút lại", None),
        (3, "households", "đính chính", 1),
        (3, "vnd", "đính chính", 1),
        (4, "households", "đã rút lại", None),
    ]
    assert rows[2][13] == "=1+1" and reports["N4"].data_type == "s"  # text, never a formula
    # 10:00 in Hà Nội is 03:00 UTC: the local time, as a real date-time cell.
    assert rows[0][14] == datetime(2025, 3, 10, 10, 0)
    assert reports["B2"].is_date and reports["B2"].number_format == "dd/mm/yyyy"
    assert reports["O2"].is_date and reports["O2"].number_format == "dd/mm/yyyy hh:mm"
    assert reports["J2"].number_format == "#,##0" and reports["J3"].number_format == "#,##0.0##"
    assert reports["J8"].value == 1234 and reports["J8"].data_type == "n"
    assert reports["A2"].data_type == "n" and reports["A2"].number_format == "General"
    assert reports.freeze_panes == "A2" and reports.auto_filter.ref == "A1:P8"
    assert reports["A1"].font.b
    assert reports.column_dimensions["N"].width == 40
    assert reports.column_dimensions["O"].width > len("Thời điểm ghi nhận (giờ Asia/Ho_Chi_Minh)")

    header, t1, t2, whole = values(totals)
    assert header[:6] == (
        "Mã tổ",
        "Tổ",
        "Đơn vị",
        "Hộ đã vận động (hộ)",
        "Hộ đã vận động: mục tiêu",
        "Hộ đã vận động: % mục tiêu",
    )
    assert header[6:] == (
        "Đường đã làm (m)",
        "Đường đã làm: mục tiêu",
        "Đường đã làm: % mục tiêu",
        "Tiền đóng góp (VND)",
        "Tiền đóng góp: mục tiêu",
        "Tiền đóng góp: % mục tiêu",
    )
    # Active values only: lan's correction (10 hộ) replaces 12; minh's 1234 was retracted.
    assert t1 == (
        "t1",
        "Tổ 1",
        "Xã Bình Sơn / Ấp 1",
        10,
        40,
        0.25,
        0,
        None,
        None,
        2500000,
        None,
        None,
    )
    assert t2[:6] == ("t2", "Tổ 2", "Xã Bình Sơn / Ấp 2", 3, None, None)
    assert whole[:6] == ("road", "Toàn chiến dịch", None, 13, 500, 13 / 500)
    assert whole[9:] == (2500000, 2e9, 2500000 / 2e9)
    assert totals["F2"].number_format == "0.0%" and totals["D2"].number_format == "#,##0"
    assert totals["J2"].number_format == "#,##0" and totals["A4"].font.b
    # The campaign's row stays below the filtered teams, whatever they are sorted by.
    assert totals.freeze_panes == "C2" and totals.auto_filter.ref == "A1:L3"


def test_xlsx_in_english_and_date_range(campaign: Chat) -> None:
    campaign.ok("lan", "/report 12 hộ note==1+1")
    campaign.ok("minh", "/report 3 hộ date=hôm qua")
    reply = campaign.ok("an", "/export xlsx from=10/03/2025 to=10/03/2025")
    assert reply.files[0].name == "tiendo-road-2025-03-10-2025-03-10.xlsx"
    assert "Times are in Asia/Ho_Chi_Minh" in reply.text
    reports, totals = sheets(reply)
    assert (reports.title, totals.title) == ("Reports", "Totals by team")
    header, *rows = values(reports)
    assert header[:3] == ("Report no.", "Report date", "Team code")
    assert header[8:15] == (
        "Metric",
        "Value",
        "Unit of measure",
        "Status",
        "Corrects report no.",
        "Note",
        "Recorded at (Asia/Ho_Chi_Minh)",
    )
    assert len(rows) == 1 and rows[0][2] == "t1"
    assert rows[0][8:12] == ("Households reached", 12, "households", "in force")
    assert reports["B2"].number_format == "d mmm yyyy"
    note = reports["N2"]
    assert note.value == "=1+1" and note.data_type == "s"  # text, never a formula
    # Totals over the exported period only: minh's report of yesterday is outside it.
    header, t1, t2, whole = values(totals)
    assert header[3:6] == (
        "Households reached (households)",
        "Households reached: target",
        "Households reached: % of target",
    )
    assert (t1[3], t2[3], whole[1], whole[3]) == (12, 0, "Whole campaign", 12)


def test_xlsx_headers_are_escaped_too(campaign: Chat) -> None:
    campaign.ok("an", '/metric add rooms "Phòng" unit=room en="=SUM(A1)"')
    _, totals = sheets(campaign.ok("an", "/export xlsx"))
    header = totals["M1"]
    assert header.value == "=SUM(A1) (room)" and header.data_type == "s"


def test_control_characters_never_break_an_export(campaign: Chat, db: Database) -> None:
    campaign.ok("lan", "/report 12 hộ note=ok")
    nul = "\x00" if db.url.startswith("sqlite") else ""  # PostgreSQL text cannot hold NUL
    stored = f"nhà ông Ba\x0b đồng ý \x1b[31m{nul}xong\x07"
    with db.session() as session:  # as a database written before input was cleaned holds it
        session.exec(update(Report).values(note=stored))  # type: ignore[call-overload]
        session.exec(
            update(Account).where(col(Account.key) == "shell:lan").values(display_name="Lan\x1b")  # type: ignore[call-overload]
        )
    reports, _ = sheets(campaign.ok("hoa", "/export xlsx"))
    assert reports["N2"].value == "nhà ông Ba đồng ý [31mxong"
    assert reports["F2"].value == "Lan"
    # The CSV is for programs: it keeps the text exactly as stored.
    (row,) = csv_rows(campaign.ok("hoa", "/export csv").files[0].content)[1:]
    assert row[8] == stored and row[4] == "Lan\x1b (shell:lan)"


def test_import_reports_every_bad_row_and_imports_nothing(campaign: Chat, db: Database) -> None:
    bad = (
        "code,name,unit,unit_name,parent_unit,target:households,target:ghosts\n"
        "t5,Tổ 5,ap-5,Ấp 5,binh-son,40,\n"
        "Bad Code!,Tổ X,,,,,\n"
        "t6,,ap-9,,,-3,1\n"
        "t5,Tổ 5 again,,,,,\n"
    )
    reply = campaign.error(
        "an", "/team import", attachment=Attachment("teams.csv", bad.encode(), "text/csv")
    )
    text = reply.text
    assert "nothing was imported" in text
    assert "line 3: “bad code!” is not a valid code" in text
    assert "line 4: the name is empty" in text
    assert "line 4: unit ap-9 does not exist" in text
    assert "line 4: Negative numbers" in text and "line 4: there is no metric “ghosts”" in text
    assert "line 5: team t5 appears twice" in text
    with db.session() as session:
        assert len(session.exec(select(Team)).all()) == 2
        assert len(session.exec(select(Unit)).all()) == 3


def test_import_creates_units_and_teams_with_targets(campaign: Chat, db: Database) -> None:
    good = (
        "code;name;unit;unit_name;parent_unit;target:households\n"
        "t5;Tổ 5;xa-moi;Xã Mới;;40\n"
        "t6;Tổ 6;ap-moi;Ấp Mới;xa-moi;1.000\n"
        "t1;Tổ Một;ap-1;;;25\n"
    )
    reply = campaign.ok(
        "an",
        "/team import",
        attachment=Attachment("teams.csv", good.encode("utf-8-sig"), "text/csv"),
    )
    assert "2 teams created, 1 updated, 2 units created" in reply.text
    listing = campaign.ok("an", "/team list").text
    assert "t6 — Tổ 6 [Xã Mới / Ấp Mới] Households reached 0 / 1,000 households (0%)" in listing
    assert "t1 — Tổ Một" in listing
