"""Exports (CSV, XLSX, formula escaping) and the all-or-nothing team import."""

from __future__ import annotations

import csv
import io

from openpyxl import load_workbook
from sqlmodel import select

from handlers.values import Attachment
from storage.db import Database
from storage.models import Team, Unit
from tests.conftest import Chat


def csv_rows(content: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))


def test_csv_export_has_every_value_and_escapes_formulas(campaign: Chat) -> None:
    campaign.ok("lan", '/report 12 hộ 2tr5 note="=HYPERLINK(\\"http://x\\")"')
    campaign.ok("minh", "/report 3 hộ date=hôm qua note=@SUM(A1)")
    campaign.ok("lan", "/undo 1 yes")
    reply = campaign.ok("hoa", "/export")
    (file,) = reply.files
    assert file.name == "tiendo-road-2025-03-10.csv" and file.mime_type == "text/csv"
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
    ]
    assert [(r[0], r[2], r[3], r[5], r[6], r[7]) for r in rows] == [
        ("2", "t2", "Xã Bình Sơn / Ấp 2", "households", "3.0", "active"),
        ("1", "t1", "Xã Bình Sơn / Ấp 1", "households", "12.0", "retracted"),
        ("1", "t1", "Xã Bình Sơn / Ấp 1", "vnd", "2500000.0", "retracted"),
    ]
    assert rows[0][8] == "'@SUM(A1)" and rows[1][8] == '\'=HYPERLINK("http://x")'
    assert rows[0][4] == "minh (shell:minh)" and rows[0][10].startswith("shell:test:")


def test_xlsx_export_and_date_range(campaign: Chat) -> None:
    campaign.ok("lan", "/report 12 hộ note==1+1")
    campaign.ok("minh", "/report 3 hộ date=hôm qua")
    reply = campaign.ok("an", "/export xlsx from=10/03/2025 to=10/03/2025")
    (file,) = reply.files
    sheet = load_workbook(io.BytesIO(file.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert len(rows) == 2 and rows[1][2] == "t1"
    note = sheet.cell(row=2, column=9)
    assert note.value == "=1+1" and note.data_type == "s"  # text, never a formula


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
    assert "t6 — Tổ 6 [Xã Mới / Ấp Mới] households 0 / 1,000 households (0%)" in listing
    assert "t1 — Tổ Một" in listing
