"""Amounts as reporters type them, and formatting that reads back to the same value."""

from __future__ import annotations

import contextlib
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from handlers.errors import UserError
from handlers.language.numbers import (
    MAX_VALUE,
    Amount,
    format_amount,
    format_number,
    is_amount_start,
    parse_amount,
    split_glued,
    take_amount,
)

LANGS = st.sampled_from(["vi", "en"])


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("1.234.567", 1234567),
        ("1,234,567", 1234567),
        ("1,5", 1.5),
        ("1.5", 1.5),
        ("1,234", 1234),
        ("1.234,5", 1234.5),
        ("1,234.5", 1234.5),
        ("1.234.567,89", 1234567.89),
        ("1,2345", 1.2345),
        ("0,125", 0.125),  # a leading 0 is never a thousands group
        ("1234,567", 1234.567),  # nor are four digits
        ("0", 0),
        ("12", 12),
    ],
)
def test_plain_numbers(text: str, value: float) -> None:
    assert parse_amount(text) == Amount(value, None, False)


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("50k", 50_000),
        ("50 k", 50_000),
        ("50K", 50_000),
        ("3 nghìn", 3_000),
        ("3 ngàn", 3_000),
        ("3 thousand", 3_000),
        ("2tr", 2_000_000),
        ("2 triệu", 2_000_000),
        ("2 trieu", 2_000_000),
        ("2 TR", 2_000_000),
        ("2 million", 2_000_000),
        ("2mn", 2_000_000),
        ("1,3tỷ", 1_300_000_000),
        ("1,3 tỷ", 1_300_000_000),
        ("1,3 TỶ", 1_300_000_000),
        ("1,3 tỉ", 1_300_000_000),
        ("1,3ty", 1_300_000_000),
        ("1.3 bn", 1_300_000_000),
        ("1.3 billion", 1_300_000_000),
        ("2tr5", 2_500_000),
        ("2tr05", 2_050_000),
        ("2tr500", 2_500_000),
        ("1ty3", 1_300_000_000),
        ("1 tỷ 300 triệu", 1_300_000_000),
        ("1 tỷ 300 triệu 50 nghìn", 1_300_050_000),
        ("1tỷ300tr", 1_300_000_000),
        ("1tỷ 300tr", 1_300_000_000),
        ("1tỷ300tr5", 1_300_500_000),
        ("1,25 nghìn tỷ", 1_250_000_000_000),
        ("1.25 trillion", 1_250_000_000_000),
        # Spoken forms: digits after a multiplier are its fraction; rưỡi is a half.
        ("1 tỷ 3", 1_300_000_000),
        ("1 tỷ 300", 1_300_000_000),
        ("2 triệu 5", 2_500_000),
        ("2tr 5", 2_500_000),
        ("2 triệu rưỡi", 2_500_000),
        ("2 trieu ruoi", 2_500_000),
        ("2tr rưỡi", 2_500_000),
        ("1 tỷ rưỡi", 1_500_000_000),
        ("500 nghìn rưỡi", 500_500),
        ("1 tỷ 300 triệu rưỡi", 1_300_500_000),
    ],
)
def test_multipliers(text: str, value: float) -> None:
    assert parse_amount(text) == Amount(value, None, True)


@pytest.mark.parametrize(
    ("text", "amount"),
    [
        ("350m", Amount(350, "m", False)),
        ("350 m", Amount(350, "m", False)),
        ("5m", Amount(5, "m", False)),  # m alone is metres, never million
        ("1,2km", Amount(1200, "m", False)),
        ("1,2 km", Amount(1200, "m", False)),
        ("1.5 km", Amount(1500, "m", False)),
        ("500000đ", Amount(500_000, "VND", False)),
        ("500.000 ₫", Amount(500_000, "VND", False)),
        ("500.000₫", Amount(500_000, "VND", False)),
        ("500.000 vnd", Amount(500_000, "VND", False)),
        ("500.000 VND", Amount(500_000, "VND", False)),
        ("500.000 VNĐ", Amount(500_000, "VND", False)),
        ("500.000 đồng", Amount(500_000, "VND", False)),
        ("500.000 dong", Amount(500_000, "VND", False)),
        ("₫1,300,000", Amount(1_300_000, "VND", False)),
        ("50kđ", Amount(50_000, "VND", True)),
        ("2tr5 đ", Amount(2_500_000, "VND", True)),
        ("1,3 tỷ ₫", Amount(1_300_000_000, "VND", True)),
        ("350 mét", Amount(350, "m", False)),
        ("12mét", Amount(12, "m", False)),
        ("350 meters", Amount(350, "m", False)),
        # Digits grouped by spaces: two groups, or one and a currency.
        ("2 500 000 đ", Amount(2_500_000, "VND", False)),
        ("2 500 000", Amount(2_500_000, None, False)),
        ("500 000đ", Amount(500_000, "VND", False)),
        ("500 000 đồng", Amount(500_000, "VND", False)),
        ("1 250 000 vnd", Amount(1_250_000, "VND", False)),
    ],
)
def test_units_and_currencies(text: str, amount: Amount) -> None:
    assert parse_amount(text) == amount


@pytest.mark.parametrize(
    ("tokens", "value", "end"),
    [
        ("1 tỷ 3 hộ", 1_000_000_000, 2),  # 3 has no smaller multiplier: a new item
        ("1 tỷ 300 hộ", 1_000_000_000, 2),
        ("1 tỷ 300 tỷ", 1_000_000_000, 2),  # not a smaller multiplier either
        ("2tr 5", 2_500_000, 2),
        ("2tr 5 hộ", 2_000_000, 1),  # 5 counts households
        ("2tr 5m", 2_000_000, 1),  # 5 metres
        ("1 tỷ 3000", 1_000_000_000, 2),  # too long for a fraction
        ("12 500 hộ", 12, 1),  # one group and no currency: two numbers
        ("2 500 000 đ hộ", 2_500_000, 4),
        ("2tr5 hôm qua", 2_500_000, 1),
        ("12 hộ", 12, 1),
        ("12 350m", 12, 1),
        ("12 ₫50", 12, 1),  # the ₫ belongs to the next amount
        ("350 m hộ", 350, 2),
        ("1 tỷ 300 triệu 2 hộ", 1_300_000_000, 4),
    ],
)
def test_take_amount_stops_where_the_phrase_ends(tokens: str, value: float, end: int) -> None:
    taken = take_amount(tokens.split(), 0, lambda words, i: words[i] == "hộ")
    assert taken is not None
    assert (taken[0].value, taken[1]) == (value, end)


def test_take_amount_from_the_middle() -> None:
    tokens = ["hộ", "12", "đường", "350m"]
    assert take_amount(tokens, 0) is None
    assert take_amount(tokens, 1) == (Amount(12, None, False), 2)
    assert take_amount(tokens, 3) == (Amount(350, "m", False), 4)


@pytest.mark.parametrize(
    ("text", "token"),
    [
        ("1,23,4", "1,23,4"),
        ("1.2.3", "1.2.3"),
        ("1.234.5", "1.234.5"),
        ("1,234.567.8", "1,234.567.8"),
        ("1,", "1,"),
        ("12hộ", "12hộ"),
        ("1e5", "1e5"),
        ("nan", "nan"),
        ("inf", "inf"),
        ("hộ", "hộ"),
        ("1,5tr5", "1,5tr5"),
        ("2trm", "2trm"),
        ("1tr2tỷ", "1tr2tỷ"),
        ("350mđ", "350mđ"),
        ("1,5 triệu rưỡi", "rưỡi"),
        ("2 rưỡi", "2 rưỡi"),
        ("", ""),
    ],
)
def test_malformed(text: str, token: str) -> None:
    with pytest.raises(UserError) as error:
        parse_amount(text)
    assert error.value.params["token"] == token
    assert error.value.example


@pytest.mark.parametrize("text", ["-5", "-5k", "−5", "-0"])
def test_negative(text: str) -> None:
    with pytest.raises(UserError, match="Negative") as error:
        parse_amount(text)
    assert error.value.params["token"] == text


@pytest.mark.parametrize("text", ["1.000.000.000.000.001", "1001 nghìn tỷ", "2000000 tỷ"])
def test_over_the_maximum(text: str) -> None:
    with pytest.raises(UserError, match="larger") as error:
        parse_amount(text)
    assert error.value.params == {"token": text, "max": "1000000000000000"}


def test_the_maximum_itself() -> None:
    assert parse_amount("1.000.000.000.000.000").value == MAX_VALUE


def test_error_names_the_token_inside_a_phrase() -> None:
    with pytest.raises(UserError) as error:
        take_amount(["1", "tỷ", "2trm"], 0)
    assert error.value.params["token"] == "2trm"


@pytest.mark.parametrize(
    ("token", "expected"),
    [
        ("12", True),
        ("₫12", True),
        ("-5", True),
        ("−5", True),
        ("350m", True),
        ("hộ", False),
        ("note=..", False),
        ("", False),
        ("₫", False),
        ("-", False),
        ("-x", False),
        (".5", False),
        ("²", False),
    ],
)
def test_is_amount_start(token: str, expected: bool) -> None:
    assert is_amount_start(token) is expected


@pytest.mark.parametrize(
    ("token", "expected"),
    [
        ("12hộ", ("12", "hộ")),
        ("1,5hộ", ("1,5", "hộ")),
        ("12mét", None),  # 12 metres, read whole by take_amount
        ("12mètre", ("12", "mètre")),
        ("50kg", ("50", "kg")),
        ("2tr5hộ", ("2tr5", "hộ")),
        ("₫12hộ", ("₫12", "hộ")),
        ("350m", None),
        ("2tr5", None),
        ("1tỷ300tr", None),
        ("50kđ", None),
        ("12", None),
        ("12%", None),
        ("1e999", None),  # not a word: take_amount names the whole token
        ("12h30", None),
        ("12hộ,", None),
        ("-5hộ", None),  # take_amount rejects it as negative
        ("hộ", None),
        ("", None),
    ],
)
def test_split_glued(token: str, expected: tuple[str, str] | None) -> None:
    assert split_glued(token) == expected


@pytest.mark.parametrize(
    ("value", "lang", "text"),
    [
        (1234567.5, "vi", "1.234.567,5"),
        (1234567.5, "en", "1,234,567.5"),
        (1234, "vi", "1.234"),
        (1.234, "vi", "1,2340"),
        (1.234, "en", "1.2340"),
        (1234.567, "vi", "1.234,567"),
        (0, "vi", "0"),
    ],
)
def test_format_number(value: float, lang: str, text: str) -> None:
    assert format_number(value, lang) == text


@pytest.mark.parametrize(
    ("value", "unit", "lang", "compact", "text"),
    [
        (1.3e9, "VND", "vi", True, "1,3 tỷ ₫"),
        (1.3e9, "VND", "en", True, "1.3 billion VND"),
        (1.3e9, "VND", "vi", False, "1.300.000.000 ₫"),
        (1.3e9, "VND", "en", False, "1,300,000,000 VND"),
        (500, "VND", "vi", True, "500 ₫"),
        (1200, "m", "vi", False, "1.200 m"),
        (1200, "m", "en", False, "1,200 m"),
        (1200, "m", "vi", True, "1,2 km"),
        (1200, "m", "en", True, "1.2 km"),
        (350, "m", "vi", True, "350 m"),
        (12, "hộ", "vi", False, "12 hộ"),
        (1234, "household", "en", True, "1,234 household"),
    ],
)
def test_format_amount(value: float, unit: str, lang: str, compact: bool, text: str) -> None:
    assert format_amount(value, unit, lang, compact=compact) == text


VALUES = st.decimals(min_value=0, max_value=Decimal(MAX_VALUE), places=3).map(float)


@given(VALUES, LANGS)
def test_format_number_round_trip(value: float, lang: str) -> None:
    assert parse_amount(format_number(value, lang)).value == value


@given(VALUES, LANGS)
def test_format_money_round_trip(value: float, lang: str) -> None:
    amount = parse_amount(format_amount(value, "VND", lang))
    assert (amount.value, amount.unit) == (value, "VND")


@given(st.integers(100, 99_999), st.sampled_from([3, 6, 9, 12]), LANGS)
def test_compact_money_round_trip(hundredths: int, power: int, lang: str) -> None:
    """Exact whenever the value is a mantissa with 2 fraction digits times its multiplier."""
    value = float(Decimal(hundredths).scaleb(power - 2))
    amount = parse_amount(format_amount(value, "VND", lang, compact=True))
    assert (amount.value, amount.unit) == (value, "VND")


@given(st.text())
def test_junk_is_a_user_error(text: str) -> None:
    with contextlib.suppress(UserError):
        assert isinstance(parse_amount(text), Amount)


# Words and characters the parser gives meaning to, so junk reaches its deeper paths.
NEAR_MISS = st.lists(
    st.text(alphabet="0123456789.,-₫kmtrỷđhộ ", max_size=8)
    | st.sampled_from(["tỷ", "triệu", "nghìn", "k", "m", "km", "đ", "vnd", "2tr5", "1,3"]),
    min_size=1,
    max_size=6,
)


@given(NEAR_MISS)
def test_near_miss_junk_is_a_user_error(tokens: list[str]) -> None:
    for i in range(len(tokens)):
        split_glued(tokens[i])
        try:
            taken = take_amount(tokens, i)
        except UserError:
            continue
        if taken is not None:
            assert i < taken[1] <= len(tokens)
            assert 0 <= taken[0].value <= MAX_VALUE
