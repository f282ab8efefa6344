"""Report dates as reporters type them, and formatting that reads back to the same date."""

from __future__ import annotations

import contextlib
from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from handlers.errors import UserError
from handlers.language.dates import (
    format_date,
    format_short_date,
    is_yearless,
    parse_date,
    parse_weekday,
    take_date,
)

TODAY = date(2025, 3, 10)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2025-03-01", date(2025, 3, 1)),
        ("2025-3-1", date(2025, 3, 1)),
        ("01/03", date(2025, 3, 1)),
        ("1/3", date(2025, 3, 1)),
        ("10/3", TODAY),
        ("11/3", date(2024, 3, 11)),  # would be in the future: last year
        ("01/03/2025", date(2025, 3, 1)),
        ("1/3/25", date(2025, 3, 1)),
        ("01-03-2025", date(2025, 3, 1)),
        ("01.03.2025", date(2025, 3, 1)),
        ("1.3.25", date(2025, 3, 1)),
        ("hôm nay", TODAY),
        ("hom nay", TODAY),
        ("Hôm Nay", TODAY),
        ("nay", TODAY),
        ("hnay", TODAY),
        ("today", TODAY),
        ("hôm qua", date(2025, 3, 9)),
        ("hom qua", date(2025, 3, 9)),
        ("hqua", date(2025, 3, 9)),
        ("yesterday", date(2025, 3, 9)),
        ("Yesterday", date(2025, 3, 9)),
        ("hôm kia", date(2025, 3, 8)),
        ("hom kia", date(2025, 3, 8)),
    ],
)
def test_parse_date(text: str, expected: date) -> None:
    assert parse_date(text, TODAY) == expected


def test_day_and_month_at_the_turn_of_the_year() -> None:
    assert parse_date("31/12", date(2026, 1, 2)) == date(2025, 12, 31)
    assert parse_date("2/1", date(2026, 1, 2)) == date(2026, 1, 2)


@pytest.mark.parametrize(
    "tokens", ["qua", "hôm", "1.5", "1,5", "12", "1.234.567", "350m", "2tr5", "hộ", "-5", "1-3"]
)
def test_not_a_date(tokens: str) -> None:
    assert take_date(tokens.split(), 0, TODAY) is None


def test_take_date_consumes_the_phrase() -> None:
    tokens = ["12", "hộ", "hôm", "qua", "350m"]
    assert take_date(tokens, 2, TODAY) == (date(2025, 3, 9), 4)
    assert take_date(["hôm", "12"], 0, TODAY) is None
    assert take_date(["1/3", "hộ"], 0, TODAY) == (date(2025, 3, 1), 1)


@pytest.mark.parametrize(
    "token", ["31/02", "2025-13-01", "29/02/2025", "0/1", "1/13", "32.01.2025"]
)
def test_impossible_dates(token: str) -> None:
    with pytest.raises(UserError) as error:
        take_date([token], 0, TODAY)
    assert error.value.params == {"token": token}


@pytest.mark.parametrize("text", ["", "hôm", "hôm qua nữa", "qua", "1.5", "tomorrow"])
def test_parse_date_rejects(text: str) -> None:
    with pytest.raises(UserError) as error:
        parse_date(text, TODAY)
    assert error.value.example == "date=hôm qua"


def test_format_date() -> None:
    assert format_date(date(2025, 3, 1), "vi") == "01/03/2025"
    assert format_date(date(2025, 3, 1), "en") == "1 Mar 2025"
    assert format_short_date(date(2025, 3, 1), "vi") == "01/03"
    assert format_short_date(date(2025, 3, 1), "en") == "1 Mar"


DATES = st.dates(min_value=date(2000, 1, 1), max_value=date(2099, 12, 31))


@given(DATES, st.sampled_from(["vi", "en"]), st.integers(0, 3650))
def test_round_trip(day: date, lang: str, days_later: int) -> None:
    text = format_date(day, lang) if lang == "vi" else day.isoformat()
    assert parse_date(text, day + timedelta(days=days_later)) == day


@given(DATES, st.integers(0, 364))
def test_day_and_month_mean_the_latest_such_day(day: date, days_later: int) -> None:
    today = day + timedelta(days=days_later)
    try:
        assert parse_date(f"{day.day}/{day.month}", today) == day
    except UserError:  # 29/02 in a year without it
        assert (day.month, day.day) == (2, 29)


@given(st.text(), DATES)
def test_junk_is_a_user_error(text: str, today: date) -> None:
    with contextlib.suppress(UserError):
        assert isinstance(parse_date(text, today), date)


@given(st.lists(st.text(alphabet="0123456789/.-hômquakiay ", max_size=12), min_size=1), DATES)
def test_near_miss_junk_is_a_user_error(tokens: list[str], today: date) -> None:
    for i in range(len(tokens)):
        try:
            taken = take_date(tokens, i, today)
        except UserError:
            continue
        assert taken is None or i < taken[1] <= len(tokens)


@pytest.mark.parametrize(
    ("text", "after", "expected"),
    [
        ("31/12", TODAY, date(2025, 12, 31)),  # looking ahead: the next such day
        ("1/3", TODAY, date(2026, 3, 1)),
        ("10/3", TODAY, TODAY),
        ("1/1", date(2025, 2, 1), date(2026, 1, 1)),
        ("1/3", date(2025, 2, 1), date(2025, 3, 1)),
        ("01/03/2024", TODAY, date(2024, 3, 1)),  # a year, when written, is kept
        ("hôm qua", TODAY, date(2025, 3, 9)),
    ],
)
def test_a_date_looking_ahead(text: str, after: date, expected: date) -> None:
    assert parse_date(text, TODAY, after=after) == expected


@given(DATES, st.integers(0, 364))
def test_looking_ahead_gives_the_first_such_day(day: date, days_before: int) -> None:
    after = day - timedelta(days=days_before)
    try:
        assert parse_date(f"{day.day}/{day.month}", after, after=after) == day
    except UserError:
        assert (day.month, day.day) == (2, 29)


def test_is_yearless() -> None:
    assert is_yearless("25/12") and is_yearless(" 2/9 ")
    assert not any(is_yearless(t) for t in ("25/12/2025", "2025-12-25", "hôm qua", "cn"))


@pytest.mark.parametrize(
    ("text", "weekday"),
    [
        ("cn", 7),
        ("CN", 7),
        ("chủ nhật", 7),
        ("Chủ Nhật", 7),
        ("chu nhat", 7),
        ("sun", 7),
        ("Sunday", 7),
        ("t2", 1),
        ("T7", 6),
        ("thứ hai", 1),
        ("thứ ba", 2),
        ("thứ tư", 3),
        ("thứ năm", 4),
        ("thứ sáu", 5),
        ("thứ bảy", 6),
        ("thứ 2", 1),
        ("thứ  7", 6),
        ("thu 5", 4),
        ("mon", 1),
        ("tuesday", 2),
        ("wed", 3),
        ("thu", 4),
        ("fri", 5),
        ("sat", 6),
    ],
)
def test_weekday_words(text: str, weekday: int) -> None:
    assert parse_weekday(text) == weekday


@pytest.mark.parametrize("text", ["", "t8", "thứ tám", "thứ", "funday", "7", "25/12"])
def test_not_a_weekday(text: str) -> None:
    assert parse_weekday(text) is None
