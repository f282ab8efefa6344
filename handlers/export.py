"""/export: every report value as CSV or XLSX. Text cells that a spreadsheet would run as a
formula (= + - @, tab, CR) are escaped: prefixed with ' in CSV, stored as plain strings in XLSX."""

from __future__ import annotations

import csv
import io

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell

from handlers import dates
from handlers.context import Ctx
from handlers.errors import N_, UserError
from handlers.values import File, Reply
from storage import export

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def escape(value: object) -> object:
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def to_csv(rows) -> bytes:  # type: ignore[no-untyped-def]
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(export.COLUMNS)
    writer.writerows([escape(v) for v in row] for row in rows)
    return buffer.getvalue().encode("utf-8-sig")  # the BOM makes Excel read Vietnamese right


def to_xlsx(rows) -> bytes:  # type: ignore[no-untyped-def]
    book = Workbook(write_only=True)
    sheet = book.create_sheet("reports")
    sheet.append(export.COLUMNS)
    for row in rows:
        cells = []
        for value in row:
            cell = WriteOnlyCell(sheet, value=value)
            if isinstance(value, str):
                cell.data_type = "s"  # openpyxl would otherwise store "=…" as a formula
            cells.append(cell)
        sheet.append(cells)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def export_(ctx: Ctx) -> Reply:
    campaign = ctx.campaign()
    assert campaign.id is not None
    kind = (ctx.args.word(0) or "csv").lower()
    if kind not in ("csv", "xlsx"):
        raise UserError(N_("Export as csv or xlsx."), example="/export xlsx from=01/03")
    today = ctx.today(campaign)
    start = (
        dates.parse_date(ctx.args.options["from"], today) if "from" in ctx.args.options else None
    )
    end = dates.parse_date(ctx.args.options["to"], today) if "to" in ctx.args.options else None
    rows = export.rows(ctx.session, campaign.id, start, end)
    content, mime = (to_csv(rows), "text/csv") if kind == "csv" else (to_xlsx(rows), XLSX)
    span = "-".join(d.isoformat() for d in (start, end) if d) or today.isoformat()
    name = f"tiendo-{campaign.code}-{span}.{kind}"
    return Reply(
        ctx.tr._("Export of {campaign}: {name}", campaign=campaign.code, name=name),
        files=(File(name, content, mime),),
    )
