"""Amounts as field teams type them (`1.234.567`, `1,5`, `2 500 000 đ`, `50k`, `2tr5`,
`2 triệu rưỡi`, `1 tỷ 3`, `1 tỷ 300 triệu`, `350m`, `350 mét`, `1,2km`, `500.000đ`) and their
locale-aware formatting (Babel).

Spoken forms: digits after a multiplier are its decimal fraction, glued (`2tr5`) or not (`1 tỷ 3`
is 1,3 tỷ, as people say it), unless a word naming what they count follows them (`1 tỷ 3 hộ` is
1 tỷ and 3 households); `rưỡi` adds half of the multiplier before it. Digits in groups of three
separated by spaces are one number when there are at least two groups or a currency follows
(`2 500 000`, `500 000đ`), so that `12 500 hộ` stays two items.

Pure functions. Values are computed exactly with `decimal.Decimal` and returned as floats.
Every rejection is a `UserError` whose `token` parameter names the offending word(s); the
message ids are:

- "“{token}” is not a number I understand."
- "“{token}”: digits between thousands separators come in groups of three."
- "Negative numbers are not allowed: “{token}”."
- "“{token}” is larger than any real report ({max})."
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, replace
from decimal import Decimal
from enum import Enum, auto

from babel.numbers import format_compact_decimal, format_decimal, get_decimal_symbol

from handlers.errors import N_, UserError

MAX_VALUE: float = 1e15
EXAMPLE = "/report 12 hộ 2tr5"

_MAX = Decimal(MAX_VALUE)
_DIGITS = frozenset("0123456789")
_MINUS = ("-", "−")


def whole_number(text: str, *, name: str, low: int, high: int, example: str) -> int:
    """A count, a number of days, an id: ASCII digits only (`str.isdigit` also takes `²` and
    `①`, which `int` then refuses), from `low` to `high`. `name` is the word the user typed
    (`uses=`, `/audit`)."""
    digits = text.strip()
    if (
        digits.isascii()
        and digits.isdigit()
        and len(digits) <= len(str(high))  # `int` refuses thousands of digits; none is in range
        and low <= int(digits) <= high
    ):
        return int(digits)
    raise UserError(
        N_("{name} takes a whole number from {low} to {high}, not “{token}”."),
        name=name,
        low=low,
        high=high,
        token=text,
        example=example,
    )


@dataclass(frozen=True)
class Amount:
    value: float  # in base units (metres for lengths, đồng for money)
    unit: str | None  # "m" if a length unit was written, "VND" if a currency was, else None
    scaled: bool  # a multiplier word (k, tr, tỷ, …) was used


class _Kind(Enum):
    NUMBER = auto()
    SCALE = auto()  # k, tr, tỷ…: times a power of ten
    LENGTH = auto()  # m, km: metres times a power of ten
    CURRENCY = auto()
    HALF = auto()  # rưỡi: and a half (of the multiplier before it)


# Known words (matched case-insensitively) → kind and power of ten.
_WORDS: dict[str, tuple[_Kind, int]] = {
    **dict.fromkeys(("k", "nghìn", "nghin", "ngàn", "ngan", "thousand"), (_Kind.SCALE, 3)),
    **dict.fromkeys(("tr", "triệu", "trieu", "million", "mn"), (_Kind.SCALE, 6)),
    **dict.fromkeys(("tỷ", "tỉ", "ty", "ti", "bn", "billion"), (_Kind.SCALE, 9)),
    "trillion": (_Kind.SCALE, 12),  # Babel's compact English; Vietnamese says "nghìn tỷ"
    **dict.fromkeys(("m", "mét", "metre", "metres", "meter", "meters"), (_Kind.LENGTH, 0)),
    "km": (_Kind.LENGTH, 3),
    **dict.fromkeys(("₫", "đ", "vnd", "vnđ", "đồng", "dong"), (_Kind.CURRENCY, 0)),
    **dict.fromkeys(("rưỡi", "rưởi", "ruoi"), (_Kind.HALF, 0)),
}
# Longest first, so that "km" is not read as "k" + "m", nor "mn" as "m" + "n".
VOCABULARY = sorted(_WORDS, key=len, reverse=True)
# Group 1 is a number; group n + 2 is VOCABULARY[n] (so no case folding is needed to find it).
_LEXEME = re.compile(
    "([0-9][0-9.,]*)|" + "|".join(f"({re.escape(word)})" for word in VOCABULARY), re.IGNORECASE
)
_GROUP = re.compile(r"[0-9]{3}")
_LEAD = re.compile(r"[1-9][0-9]{0,2}")

# Does the word at tokens[index] name what a number counts (a metric word such as `hộ`)?
NamesItem = Callable[[list[str], int], bool]
# `1.234.567`, `1,234.5`: a leading group of 1–3 digits (no leading zero, so `0,125` is a
# fraction), then groups of exactly three behind one separator, then maybe the other as decimal.
_GROUPED = re.compile(
    r"[1-9][0-9]{0,2}(?P<sep>[.,])[0-9]{3}(?:(?P=sep)[0-9]{3})*(?:(?!(?P=sep))[.,][0-9]+)?"
)
_PLAIN = re.compile(r"[0-9]+(?:[.,][0-9]+)?")


@dataclass(frozen=True)
class _Piece:
    text: str
    kind: _Kind
    power: int
    token: int  # index of the token it was read from
    glued: bool  # written right after the previous piece, in the same token


def _malformed(token: str) -> UserError:
    return UserError(N_("“{token}” is not a number I understand."), token=token, example=EXAMPLE)


def is_amount_start(token: str) -> bool:
    """Does the token begin with a digit (or `₫`, or a minus sign, then a digit)?"""
    head = token[1:] if token[:1] in ("₫", *_MINUS) else token
    return head[:1] in _DIGITS


def _lex(text: str) -> list[re.Match[str]]:
    """Numbers and known words from the start of text, as far as it consists of them."""
    matches: list[re.Match[str]] = []
    pos = 0
    while (match := _LEXEME.match(text, pos)) is not None:
        matches.append(match)
        pos = match.end()
    return matches


def _pieces(tokens: list[str], start: int) -> list[_Piece]:
    """The pieces of tokens[start:], up to the first token that is not only numbers and known
    words (that token cannot be part of the amount)."""
    pieces: list[_Piece] = []
    for index in range(start, len(tokens)):
        text = unicodedata.normalize("NFC", tokens[index])
        matches = _lex(text)
        if not matches or matches[-1].end() != len(text):
            if index == start:
                raise _malformed(tokens[start])
            break
        for n, match in enumerate(matches):
            assert match.lastindex is not None
            kind, power = (
                (_Kind.NUMBER, 0)
                if match.lastindex == 1
                else _WORDS[VOCABULARY[match.lastindex - 2]]
            )
            pieces.append(_Piece(match.group(), kind, power, index, glued=n > 0))
    return _join_spaced_groups(pieces)


def _is_group(pieces: list[_Piece], i: int) -> bool:
    """Three digits written as a word of their own (or with a currency glued on: `000đ`)."""
    return (
        _kind(pieces, i) is _Kind.NUMBER
        and not pieces[i].glued
        and _GROUP.fullmatch(pieces[i].text) is not None
        and (not _glued(pieces, i + 1) or pieces[i + 1].kind is _Kind.CURRENCY)
    )


def _join_spaced_groups(pieces: list[_Piece]) -> list[_Piece]:
    """`2 500 000` → one number 2500000 (see the module docstring for when)."""
    first = pieces[0]
    if first.kind is not _Kind.NUMBER or not _LEAD.fullmatch(first.text) or _glued(pieces, 1):
        return pieces
    end = 1
    while _is_group(pieces, end):
        end += 1
    if end < 3 and not (end == 2 and _kind(pieces, end) is _Kind.CURRENCY):
        return pieces
    joined = "".join(piece.text for piece in pieces[:end])
    return [replace(pieces[end - 1], text=joined), *pieces[end:]]


def _number(piece: _Piece, tokens: list[str]) -> Decimal:
    text = piece.text
    if grouped := _GROUPED.fullmatch(text):
        return Decimal(text.replace(grouped["sep"], "").replace(",", "."))
    if _PLAIN.fullmatch(text):
        return Decimal(text.replace(",", "."))
    token = tokens[piece.token]
    if sum(text.count(sep) for sep in ".,") > 1:
        raise UserError(
            N_("“{token}”: digits between thousands separators come in groups of three."),
            token=token,
            example=EXAMPLE,
        )
    raise _malformed(token)


def _kind(pieces: list[_Piece], i: int) -> _Kind | None:
    return pieces[i].kind if i < len(pieces) else None


def _glued(pieces: list[_Piece], i: int) -> bool:
    return i < len(pieces) and pieces[i].glued


def _read_power(pieces: list[_Piece], i: int) -> tuple[int, int]:
    """The power of ten of the multiplier words at i, and the index after them. A larger word
    after a smaller one multiplies it (`nghìn tỷ` = 10¹²)."""
    power = pieces[i].power
    i += 1
    while _kind(pieces, i) is _Kind.SCALE and pieces[i].power > pieces[i - 1].power:
        power += pieces[i].power
        i += 1
    return power, i


def _is_fraction(pieces: list[_Piece], tokens: list[str], i: int, names_item: NamesItem) -> bool:
    """Are the digits at pieces[i] the decimal fraction of the multiplier before them? Glued
    ones are (`2tr5`); a separate number is (`1 tỷ 3`) unless it is followed by a word naming
    what it counts (`1 tỷ 3 hộ`) or a unit of its own (`2tr 5m`), or is too long to be one."""
    piece = pieces[i]
    if piece.glued:
        return True
    after = piece.token + 1
    return (
        piece.text.isdigit()
        and len(piece.text) <= 3
        and _kind(pieces, i + 1) not in (_Kind.LENGTH, _Kind.SCALE, _Kind.HALF)
        and not (after < len(tokens) and names_item(tokens, after))
    )


def _read_scaled(
    pieces: list[_Piece], tokens: list[str], i: int, names_item: NamesItem
) -> tuple[Decimal, int]:
    """Terms with strictly decreasing multipliers (`1 tỷ 300 triệu`, `1tỷ300tr`), the last one
    possibly followed by its decimal fraction (`2tr5`, `1 tỷ 3`) or by `rưỡi` (`2 triệu rưỡi`)."""
    total = Decimal(0)
    whole = pieces[i]
    number = _number(whole, tokens)
    power, i = _read_power(pieces, i + 1)
    while True:
        if _kind(pieces, i) is _Kind.HALF:
            if not whole.text.isdigit():  # `1,5 triệu rưỡi`
                raise _malformed(tokens[pieces[i].token])
            number += Decimal("0.5")
            i += 1
            break
        if _kind(pieces, i) is not _Kind.NUMBER:
            break
        if _kind(pieces, i + 1) is _Kind.SCALE:
            next_power, after = _read_power(pieces, i + 1)
            if next_power < power:
                total += number.scaleb(power)
                whole = pieces[i]
                number = _number(whole, tokens)
                power, i = next_power, after
                continue
            break  # `1 tỷ 300 tỷ`: the next amount
        if _is_fraction(pieces, tokens, i, names_item):
            fraction = pieces[i]
            if not (whole.text.isdigit() and fraction.text.isdigit()):
                raise _malformed(tokens[fraction.token])
            number = Decimal(f"{whole.text}.{fraction.text}")
            i += 1
        break
    return total + number.scaleb(power), i


def _names_nothing(tokens: list[str], index: int) -> bool:
    return False


def _read(
    pieces: list[_Piece], tokens: list[str], names_item: NamesItem
) -> tuple[Decimal, str | None, bool, int]:
    """Value, unit and scaled-ness of the amount at the head of pieces, and how many it used."""
    currency = pieces[0].kind is _Kind.CURRENCY  # a leading ₫, glued to its number
    i = int(currency)
    unit: str | None = None
    scaled = _kind(pieces, i + 1) is _Kind.SCALE
    if scaled:
        value, i = _read_scaled(pieces, tokens, i, names_item)
    else:
        value = _number(pieces[i], tokens)
        i += 1
        if _kind(pieces, i) is _Kind.LENGTH and not currency:
            value = value.scaleb(pieces[i].power)
            unit = "m"
            i += 1
    # A trailing currency: glued, or a word of its own (not the `₫` of a next `₫12`).
    if (
        unit is None
        and _kind(pieces, i) is _Kind.CURRENCY
        and (pieces[i].glued or not _glued(pieces, i + 1))
    ):
        currency = True
        i += 1
    return value, "VND" if currency else unit, scaled, i


def take_amount(
    tokens: list[str], start: int, names_item: NamesItem = _names_nothing
) -> tuple[Amount, int] | None:
    """The longest amount phrase starting at tokens[start] and the index just past it; None if
    that token does not start an amount. Raises UserError if it starts like one but is not.
    `names_item` tells a word that says what a number counts (see the module docstring)."""
    token = tokens[start]
    if not is_amount_start(token):
        return None
    if token.startswith(_MINUS):
        raise UserError(
            N_("Negative numbers are not allowed: “{token}”."), token=token, example=EXAMPLE
        )
    pieces = _pieces(tokens, start)
    value, unit, scaled, used = _read(pieces, tokens, names_item)
    if _glued(pieces, used):  # the amount ends inside a token: `2trm`, `1tr2tỷ`
        raise _malformed(tokens[pieces[used].token])
    end = pieces[used].token if used < len(pieces) else pieces[-1].token + 1
    if value > _MAX:
        raise UserError(
            N_("“{token}” is larger than any real report ({max})."),
            token=" ".join(tokens[start:end]),
            max=f"{MAX_VALUE:.0f}",
            example=EXAMPLE,
        )
    return Amount(float(value), unit, scaled), end


def split_glued(token: str) -> tuple[str, str] | None:
    """Split a number from a word glued to it (`12hộ` → `12`, `hộ`); None when there is no
    such word (`12`, `350m`, `2tr5`) or what follows is not a word (`1e999`, `12h30`), so that
    take_amount rejects the token whole."""
    text = unicodedata.normalize("NFC", token)
    if not is_amount_start(text) or text.startswith(_MINUS):
        return None
    matches = _lex(text)
    if matches[-1].end() == len(text):
        return None
    # Cut after the last number that a letter follows, so `12mét` is `12` + `mét`, not `12m`…
    for match in reversed(matches):
        rest = text[match.end() :]
        if match.lastindex == 1 and rest[0].isalpha():
            return (text[: match.end()], rest) if rest.isalpha() else None
    return None


def parse_amount(text: str) -> Amount:
    """The amount that is the whole text."""
    tokens = text.split()
    taken = take_amount(tokens, 0) if tokens else None
    if taken is None or taken[1] != len(tokens):
        raise _malformed(text.strip())
    return taken[0]


def format_number(value: float, lang: str) -> str:
    """Exact and grouped for the locale: vi `1.234.567,5`, en `1,234,567.5`."""
    text = format_decimal(value, format="#,##0.###", locale=lang, decimal_quantization=False)
    whole, mark, fraction = text.partition(get_decimal_symbol(lang))
    # A lone separator before three digits reads as grouping (`1,234` is 1234): a fourth
    # fraction digit keeps a decimal mark a decimal mark.
    if mark and len(fraction) == 3 and whole.isdigit():
        text += "0"
    return text


def format_amount(value: float, unit: str, lang: str, *, compact: bool = False) -> str:
    """A value with its unit: money as `1.300.000.000 ₫` (compact `1,3 tỷ ₫`), lengths as
    `1.200 m` (compact `1,2 km`), anything else as the number and the unit's text."""
    if unit.casefold() == "vnd":
        number = (
            format_compact_decimal(value, format_type="long", locale=lang, fraction_digits=2)
            if compact and abs(value) >= 1000
            else format_number(value, lang)
        )
        return f"{number} {'₫' if lang == 'vi' else 'VND'}"
    if unit.casefold() == "m" and compact and abs(value) >= 1000:
        return f"{format_decimal(value / 1000, format='#,##0.##', locale=lang)} km"
    return f"{format_number(value, lang)} {unit}"
