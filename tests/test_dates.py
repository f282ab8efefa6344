"""Report dates as reporters type them, and formatting that reads back to the same date."""

from __future__ import annotations

import contextlib
from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from handlers.dates import format_date, format_short_date, parse_date, take_date
from handlers.errors import UserError

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
