"""Dates as people type them (`2025-03-01`, `01/03`, `1/3/25`, `01.03.2025`, `hôm qua`,
`yesterday`), weekday names in vi and en (`cn`, `thứ 7`, `sun`), and their locale-aware
formatting. Pure: today's date comes in.

A day and month without a year (`28/11`) is, for a report, the latest such day up to today;
for a setting that looks ahead, the first such day on or after the date given as `after`.

Message ids: "“{token}” is not a date I understand." and "There is no such date as “{token}”."
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date, timedelta

from babel.dates import format_date as babel_format_date

from handlers.errors import N_, UserError
from handlers.language.args import fold

EXAMPLE = "date=hôm qua"

# Days before today, for one-word names of a day and for the word after "hôm"/"hom".
DAY_WORDS = {"nay": 0, "today": 0, "hnay": 0, "hqua": 1, "yesterday": 1}
_HOM = frozenset({"hôm", "hom"})
_AFTER_HOM = {"nay": 0, "qua": 1, "kia": 2}

_ISO = re.compile(r"([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})")
# Day first. "." and "-" only with a year, so `1.5` stays a number; a month has at most two
# digits, so grouped numbers (`1.234.567`) are never dates.
_DMY = re.compile(r"([0-9]{1,2})([/.-])([0-9]{1,2})\2([0-9]{4}|[0-9]{2})")
_DM = re.compile(r"([0-9]{1,2})/([0-9]{1,2})")
_VI_ORDINALS = ("hai", "ba", "tu", "nam", "sau", "bay")  # thứ hai (Monday) … thứ bảy


def _fold(word: str) -> str:
    return unicodedata.normalize("NFC", word).casefold()


# Names of each weekday, Monday first. English ones as written (`thu` is Thursday, but `thứ`
# alone is nothing); Vietnamese ones without diacritics (`thứ hai`, `thứ 2`, `t2` … `chủ nhật`).
_ENGLISH_WEEKDAYS = (
    ("mon", "monday"),
    ("tue", "tues", "tuesday"),
    ("wed", "wednesday"),
    ("thu", "thur", "thurs", "thursday"),
    ("fri", "friday"),
    ("sat", "saturday"),
    ("sun", "sunday"),
)
_VIETNAMESE_WEEKDAYS = (
    *((f"thu {word}", f"thu {n + 1}", f"t{n + 1}") for n, word in enumerate(_VI_ORDINALS, 1)),
    ("chu nhat", "chunhat", "cn"),
)
_ENGLISH = {name: n for n, names in enumerate(_ENGLISH_WEEKDAYS, 1) for name in names}
_VIETNAMESE = {name: n for n, names in enumerate(_VIETNAMESE_WEEKDAYS, 1) for name in names}


def parse_weekday(text: str) -> int | None:
    """`cn`, `Chủ nhật`, `thứ 7`, `T7`, `sun`, `Saturday` → ISO weekday (1 = Monday); else None."""
    words = " ".join(text.split())
    return _ENGLISH.get(_fold(words)) or _VIETNAMESE.get(fold(words))


def _numeric(token: str, today: date, after: date | None) -> date | None:
    if match := _ISO.fullmatch(token):
        year, month, day = (int(part) for part in match.groups())
    elif match := _DMY.fullmatch(token):
        day, month, year = int(match[1]), int(match[3]), int(match[4])
        if len(match[4]) == 2:
            year += 2000
    elif match := _DM.fullmatch(token):
        day, month = int(match[1]), int(match[2])
        if after is not None:  # looking ahead: 1/1 typed in March is next year's
            year = after.year if (month, day) >= (after.month, after.day) else after.year + 1
        else:  # the latest such day up to today: 31/12 typed on 2 January is last year's
            year = today.year if (month, day) <= (today.month, today.day) else today.year - 1
    else:
        return None
    try:
        return date(year, month, day)
    except ValueError:
        raise UserError(
            N_("There is no such date as “{token}”."), token=token, example="date=01/03/2025"
        ) from None


def is_yearless(text: str) -> bool:
    """Is it a day and month without a year (`25/12`), whose year the reader had to choose?"""
    return _DM.fullmatch(text.strip()) is not None


def take_date(
    tokens: list[str], start: int, today: date, *, after: date | None = None
) -> tuple[date, int] | None:
    """The date written at tokens[start] (one or two words) and the index just past it; None if
    it is not a date. Raises UserError for impossible dates (`31/02`)."""
    word = _fold(tokens[start])
    if word in _HOM and start + 1 < len(tokens):
        back = _AFTER_HOM.get(_fold(tokens[start + 1]))
        if back is not None:
            return today - timedelta(days=back), start + 2
    if word in DAY_WORDS:
        return today - timedelta(days=DAY_WORDS[word]), start + 1
    day = _numeric(tokens[start], today, after)
    return None if day is None else (day, start + 1)


def parse_date(text: str, today: date, *, after: date | None = None) -> date:
    """The date that is the whole text."""
    tokens = text.split()
    taken = take_date(tokens, 0, today, after=after) if tokens else None
    if taken is None or taken[1] != len(tokens):
        raise UserError(
            N_("“{token}” is not a date I understand."), token=text.strip(), example=EXAMPLE
        )
    return taken[0]


def format_date(d: date, lang: str) -> str:
    """vi `01/03/2025` (which parse_date reads back), en `1 Mar 2025`."""
    return babel_format_date(d, "dd/MM/yyyy" if lang == "vi" else "d MMM y", locale=lang)


def format_short_date(d: date, lang: str) -> str:
    """Without the year, for chart axes: vi `01/03`, en `1 Mar`."""
    return babel_format_date(d, "dd/MM" if lang == "vi" else "d MMM", locale=lang)
