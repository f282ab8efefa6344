"""/export: every report value of a campaign as a file, in one of two shapes.

CSV is for other programs and stays the same whoever asks: one row per report value under the
stable English column names of `CSV_COLUMNS`; team and metric keys, not names; ISO 8601 dates
(`2025-03-10`) and UTC times (`2025-03-10T03:00:00+00:00`); the stored status (`active`,
`retracted`) and `corrects`, the id of the report a correction replaces; UTF-8 with a BOM so
Excel still reads Vietnamese right.

XLSX is for leaders, in the asker's language: a sheet of report values with names beside codes,
metric labels beside keys, values as numbers, report dates as date cells and the time each report
was recorded in the campaign's time zone, a frozen header and an autofilter; and a sheet of totals
per team over the same period against the team's targets.

Text a spreadsheet would run as a formula (= + - @, tab, CR) is escaped: prefixed with ' in CSV,
stored as plain strings in XLSX. Control characters, which an XLSX file cannot hold, are dropped
from its cells; the CSV keeps text as stored."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Literal
from zoneinfo import ZoneInfo

from sqlmodel import Session

from handlers.engine.context import Ctx
from handlers.errors import N_, UserError
from handlers.language import dates
from handlers.language.i18n import Translator
from handlers.read import display
from handlers.values import File, Reply
from storage import export, progress, queries
from storage.export import ExportRow
from storage.models import Campaign, Metric, Team

if TYPE_CHECKING:  # openpyxl is imported where a workbook is written: most commands never do
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.worksheet._write_only import WriteOnlyWorksheet

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

CSV_COLUMNS = (
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
)

# --- CSV ------------------------------------------------------------------------------------


def escape(value: object) -> object:
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def _csv_row(row: ExportRow) -> tuple[object, ...]:
    reporter = (
        f"{row.reporter_name} ({row.reporter_key})" if row.reporter_name else row.reporter_key
    )
    return (
        row.report_id,
        row.report_date.isoformat(),
        row.team_code,
        row.unit_path,
        reporter,
        row.metric.key,
        row.value,
        row.status,
        row.note,
        row.created_at.isoformat(timespec="seconds"),
        row.source,
        row.corrects_id or "",
    )


def to_csv(rows: Iterable[ExportRow]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    writer.writerows([escape(v) for v in _csv_row(row)] for row in rows)
    return buffer.getvalue().encode("utf-8-sig")  # the BOM makes Excel read Vietnamese right


# --- XLSX cells -----------------------------------------------------------------------------

# Excel number formats; Excel shows the separators of the reader's own locale.
WHOLE, FRACTION, PERCENT = "#,##0", "#,##0.0##", "0.0%"
DATE_FORMATS = {"vi": "dd/mm/yyyy", "en": "d mmm yyyy"}


# How a column's values show: as they are, grouped numbers, percentages, dates, date and time.
Style = Literal["general", "number", "percent", "date", "moment"]


@dataclass(frozen=True)
class Column:
    header: str
    width: int
    style: Style = "general"


def _clean(text: str) -> str:
    """openpyxl refuses control characters (IllegalCharacterError); a note may carry them."""
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    return ILLEGAL_CHARACTERS_RE.sub("", text)


def _cell(sheet: WriteOnlyWorksheet, value: object, style: Style, lang: str) -> WriteOnlyCell:
    from openpyxl.cell import WriteOnlyCell

    if isinstance(value, str):
        value = _clean(value)
    cell = WriteOnlyCell(sheet, value=value)
    if isinstance(value, str):
        cell.data_type = "s"  # openpyxl would otherwise store "=…" as a formula
    elif style == "number" and isinstance(value, float | int):
        cell.number_format = WHOLE if float(value).is_integer() else FRACTION
    elif style == "percent":
        cell.number_format = PERCENT
    elif style in ("date", "moment"):
        cell.number_format = DATE_FORMATS[lang] + (" hh:mm" if style == "moment" else "")
    return cell


def _sheet(
    book: Workbook, title: str, columns: Sequence[Column], freeze: str, lang: str
) -> WriteOnlyWorksheet:
    """A sheet with its column widths and a bold, frozen header row; rows follow."""
    from openpyxl.utils import get_column_letter

    sheet = book.create_sheet(title)
    for index, column in enumerate(columns, start=1):
        width = max(column.width, len(column.header) + 2)
        sheet.column_dimensions[get_column_letter(index)].width = width
    sheet.freeze_panes = freeze
    # Headers hold metric labels: they go through the same escaping as any text.
    _append(sheet, columns, [column.header for column in columns], lang, bold=True)
    return sheet


def _append(
    sheet: WriteOnlyWorksheet,
    columns: Sequence[Column],
    row: Sequence[object],
    lang: str,
    *,
    bold: bool = False,
) -> None:
    from openpyxl.styles import Font

    cells = [_cell(sheet, v, c.style, lang) for v, c in zip(row, columns, strict=True)]
    for cell in cells if bold else ():
        cell.font = Font(bold=True)
    sheet.append(cells)


def _write(
    sheet: WriteOnlyWorksheet,
    columns: Sequence[Column],
    rows: Iterable[Sequence[object]],
    lang: str,
) -> None:
    """The rows, under an autofilter that covers exactly them."""
    from openpyxl.utils import get_column_letter

    count = 0
    for row in rows:
        _append(sheet, columns, row, lang)
        count += 1
    sheet.auto_filter.ref = f"A1:{get_column_letter(len(columns))}{count + 1}"


# --- XLSX sheets ----------------------------------------------------------------------------


def _report_columns(tr: Translator, zone: str) -> tuple[Column, ...]:
    return (
        Column(tr._("Report no."), 8),
        Column(tr._("Report date"), 12, "date"),
        Column(tr._("Team code"), 10),
        Column(tr._("Team"), 18),
        Column(tr._("Unit"), 28),
        Column(tr._("Reporter"), 18),
        Column(tr._("Account"), 18),
        Column(tr._("Metric key"), 12),
        Column(tr._("Metric"), 22),
        Column(tr._("Value"), 14, "number"),
        Column(tr._("Unit of measure"), 10),
        Column(tr._("Status"), 14),
        Column(tr._("Corrects report no."), 10),
        Column(tr._("Note"), 40),
        Column(tr._("Recorded at ({zone})", zone=zone), 17, "moment"),
        Column(tr._("Source"), 20),
    )


def _status(tr: Translator, row: ExportRow) -> str:
    if row.status == "retracted":
        return tr._("retracted")
    return tr._("correction") if row.corrects_id else tr._("in force")


def _local(moment: datetime, zone: ZoneInfo) -> datetime:
    """Spreadsheets have no time zones: a naive local time, with the zone in the header."""
    return moment.astimezone(zone).replace(tzinfo=None)


def _report_cells(tr: Translator, zone: ZoneInfo, row: ExportRow) -> tuple[object, ...]:
    return (
        row.report_id,
        row.report_date,
        row.team_code,
        row.team_name,
        row.unit_path,
        row.reporter_name or row.reporter_key,
        row.reporter_key,
        row.metric.key,
        display.label(tr, row.metric),
        row.value,
        display.unit_name(tr, row.metric.unit, row.value),
        _status(tr, row),
        row.corrects_id,
        row.note,
        _local(row.created_at, zone),
        row.source,
    )


@dataclass(frozen=True)
class Totals:
    """Everything the totals sheet shows: teams, their units, metrics, sums and targets."""

    teams: Sequence[Team]
    paths: dict[int, str]
    metrics: list[Metric]
    sums: dict[tuple[int, int], float]
    targets: dict[tuple[int, int], float]


def _load_totals(
    session: Session, campaign_id: int, start: date | None, end: date | None
) -> Totals:
    teams = queries.teams(session, campaign_id)
    sums = export.team_totals(session, campaign_id, start, end)
    summed = {metric_id for _, metric_id in sums}
    # A removed metric still shows where the period has values for it.
    metrics = [
        m
        for m in queries.metrics(session, campaign_id, active_only=False)
        if m.active or m.id in summed
    ]
    targets = progress.team_targets(session, [t.id for t in teams if t.id is not None])
    return Totals(teams, queries.unit_paths(session, campaign_id), metrics, sums, targets)


def _total_columns(tr: Translator, metrics: Sequence[Metric]) -> list[Column]:
    columns = [Column(tr._("Team code"), 10), Column(tr._("Team"), 20), Column(tr._("Unit"), 28)]
    for metric in metrics:
        label = display.label(tr, metric)
        columns += [
            Column(f"{label} ({display.unit_name(tr, metric.unit)})", 14, "number"),
            Column(tr._("{metric}: target", metric=label), 14, "number"),
            Column(tr._("{metric}: % of target", metric=label), 12, "percent"),
        ]
    return columns


def _against(total: float, target: float | None) -> list[object]:
    return [total, target, total / target if target else None]


def _team_row(team: Team, totals: Totals) -> list[object]:
    row: list[object] = [
        team.code,
        team.name,
        totals.paths.get(team.unit_id, "") if team.unit_id else "",
    ]
    for metric in totals.metrics:
        key = (team.id, metric.id)
        row += _against(totals.sums.get(key, 0.0), totals.targets.get(key))  # type: ignore[arg-type]
    return row


def _campaign_row(tr: Translator, campaign: Campaign, totals: Totals) -> list[object]:
    row: list[object] = [campaign.code, tr._("Whole campaign"), ""]
    for metric in totals.metrics:
        total = sum(v for (_, metric_id), v in totals.sums.items() if metric_id == metric.id)
        row += _against(total, metric.target)
    return row


def to_xlsx(tr: Translator, campaign: Campaign, rows: Iterable[ExportRow], totals: Totals) -> bytes:
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    zone = ZoneInfo(campaign.timezone)
    columns = _report_columns(tr, campaign.timezone)
    sheet = _sheet(book, tr._("Reports"), columns, "A2", tr.lang)
    _write(sheet, columns, (_report_cells(tr, zone, row) for row in rows), tr.lang)
    columns = _total_columns(tr, totals.metrics)
    # Frozen at C2: team codes and names stay in view beside the metric columns.
    sheet = _sheet(book, tr._("Totals by team"), columns, "C2", tr.lang)
    _write(sheet, columns, [_team_row(team, totals) for team in totals.teams], tr.lang)
    # Below the filtered range, so sorting the teams leaves the campaign's total last.
    _append(sheet, columns, _campaign_row(tr, campaign, totals), tr.lang, bold=True)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


# --- the command ----------------------------------------------------------------------------


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
    tr = ctx.tr
    if kind == "csv":
        content, mime = to_csv(rows), "text/csv"
        about = tr._(
            "CSV for other programs: English column names, keys, ISO dates, times in UTC, UTF-8."
            " To read it yourself, ask for /export xlsx."
        )
    else:
        totals = _load_totals(ctx.session, campaign.id, start, end)
        content, mime = to_xlsx(tr, campaign, rows, totals), XLSX
        about = tr._(
            "Excel file: every report value, then totals per team against targets."
            " Times are in {zone}.",
            zone=campaign.timezone,
        )
    span = "-".join(d.isoformat() for d in (start, end) if d) or today.isoformat()
    name = f"tiendo-{campaign.code}-{span}.{kind}"
    text = tr._("Export of {campaign}: {name}", campaign=campaign.code, name=name)
    return Reply(f"{text}\n{about}", files=(File(name, content, mime),))
