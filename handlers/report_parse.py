"""Reading the items of a `/report` line: `key=value`, `value alias` (`12 hộ`), bare shorthand
(`350m`, `2tr5`) and the `date=`, `team=`, `note=` options. Pure: the metrics and today's date
come in, a `ParsedReport` or a `UserError` naming the offending word comes out."""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

from handlers import dates, numbers
from handlers.errors import N_, UserError
from storage.models import Metric

DATE_KEYS = {"date", "ngay", "d"}
TEAM_KEYS = {"team", "to"}
NOTE_KEYS = {"note", "ghichu", "gc"}
LENGTH_UNITS = {"m": 1.0, "km": 1000.0}
EXAMPLE = "/report 12 hộ 350m 2tr5 date=hôm qua"


def fold(word: str) -> str:
    """Case- and accent-insensitive form: `Hộ`, `hộ` and `ho` all fold to `ho`."""
    word = unicodedata.normalize("NFD", word.casefold().replace("đ", "d"))
    return "".join(ch for ch in word if not unicodedata.combining(ch))


def metric_words(metric: Metric) -> set[str]:
    return {metric.key.casefold(), *(a.casefold() for a in metric.aliases)}


class MetricWords:
    """Finds a metric by its key or an alias: exact (case-insensitive) first, then without
    diacritics when that is unambiguous."""

    def __init__(self, metrics: Sequence[Metric]) -> None:
        self.metrics = list(metrics)
        self.exact: dict[str, Metric] = {}
        folded: dict[str, list[Metric]] = {}
        for metric in self.metrics:
            for word in metric_words(metric):
                self.exact[unicodedata.normalize("NFC", word)] = metric
                folded.setdefault(fold(word), []).append(metric)
        self.folded = {w: ms[0] for w, ms in folded.items() if len({m.id for m in ms}) == 1}

    def find(self, word: str) -> Metric | None:
        word = unicodedata.normalize("NFC", word.casefold())
        return self.exact.get(word) or self.folded.get(fold(word))

    def choices(self) -> str:
        return ", ".join(
            f"{m.key} ({', '.join(m.aliases)})" if m.aliases else m.key for m in self.metrics
        )


@dataclass
class ParsedReport:
    values: dict[int, float] = field(default_factory=dict)  # metric id → value, in order given
    day: date | None = None
    team: str | None = None
    note: str | None = None


def _value_for(metric: Metric, amount: numbers.Amount, token: str) -> float:
    unit = metric.unit.casefold()
    if amount.unit == "m":
        if unit not in LENGTH_UNITS:
            raise UserError(
                N_("“{token}” is a length, but {metric} is not measured in metres."),
                token=token,
                metric=metric.key,
                field=metric.key,
                example=EXAMPLE,
            )
        return amount.value / LENGTH_UNITS[unit]
    if amount.unit == "VND" and unit != "vnd":
        raise UserError(
            N_("“{token}” is money, but {metric} is not counted in đồng."),
            token=token,
            metric=metric.key,
            field=metric.key,
            example=EXAMPLE,
        )
    return amount.value


def _guess_metric(words: MetricWords, amount: numbers.Amount, token: str) -> Metric:
    """The metric a bare amount is for: the only length metric for `350m`, the only money
    metric for `2tr5`, the only metric at all for `12`."""
    if amount.unit == "m":
        candidates = [m for m in words.metrics if m.unit.casefold() in LENGTH_UNITS]
    elif amount.unit == "VND" or amount.scaled:
        candidates = [m for m in words.metrics if m.unit.casefold() == "vnd"]
    else:
        candidates = words.metrics
    if len(candidates) == 1:
        return candidates[0]
    raise UserError(
        N_("Which metric is “{token}” for? Add a word after it: {choices}."),
        token=token,
        choices=words.choices(),
        example=EXAMPLE,
    )


def _is_plain_word(token: str, today: date) -> bool:
    """A word that is not an option, a number or a date: after a number, it names a metric."""
    return (
        "=" not in token
        and not numbers.is_amount_start(token)
        and numbers.split_glued(token) is None
        and dates.take_date([token], 0, today) is None
    )


def _unquote_values(words: list[str]) -> list[str]:
    """`date="hôm qua"` reads like the unquoted `date=hôm qua`: the value's words follow the
    key as separate words (except a note's, which is free text)."""
    tokens: list[str] = []
    for word in words:
        key, eq, value = word.partition("=")
        if eq and fold(key) not in NOTE_KEYS and len(value.split()) > 1:
            first, *more = value.split()
            tokens.extend([f"{key}={first}", *more])
        else:
            tokens.append(word)
    return tokens


def parse_report(words: list[str], metrics: Sequence[Metric], today: date) -> ParsedReport:
    lookup = MetricWords(metrics)
    parsed = ParsedReport()

    def put(metric: Metric, value: float, token: str) -> None:
        assert metric.id is not None
        if metric.id in parsed.values:
            raise UserError(
                N_("{metric} is given twice (“{token}”)."),
                metric=metric.key,
                token=token,
                field=metric.key,
                example=EXAMPLE,
            )
        parsed.values[metric.id] = value

    def set_day(day: date, token: str) -> None:
        if parsed.day is not None:
            raise UserError(
                N_("Two dates in one report (“{token}”)."),
                token=token,
                field="date",
                example=EXAMPLE,
            )
        parsed.day = day

    tokens = _unquote_values(words)
    i = 0
    while i < len(tokens):
        token = tokens[i]
        key, eq, value = token.partition("=")
        if eq and key:
            folded = fold(key)
            rest = [value, *tokens[i + 1 :]] if value else []
            if folded in DATE_KEYS:
                taken = dates.take_date(rest, 0, today) if rest else None
                if taken is None:
                    raise UserError(
                        N_("“{token}” is not a date I understand."),
                        token=token,
                        field="date",
                        example="date=hôm qua · date=01/03/2025",
                    )
                set_day(taken[0], token)
                i += taken[1]
            elif folded in TEAM_KEYS:
                parsed.team = value.lower()
                i += 1
            elif folded in NOTE_KEYS:
                parsed.note = value.strip() or None
                i += 1
            else:
                metric = lookup.find(key)
                if metric is None:
                    raise UserError(
                        N_("I don't know the metric “{token}”. Metrics here: {choices}."),
                        token=key,
                        choices=lookup.choices(),
                        example=EXAMPLE,
                    )
                try:
                    taken_amount = numbers.take_amount(rest, 0) if rest else None
                except UserError as error:  # a bad value: point the form at its field
                    error.field = error.field or metric.key
                    raise
                if taken_amount is None:
                    raise UserError(
                        N_("“{token}” needs a number after “=”."),
                        token=token,
                        field=metric.key,
                        example=f"/report {metric.key}=12",
                    )
                put(metric, _value_for(metric, taken_amount[0], token), token)
                i += taken_amount[1]
            continue
        day = dates.take_date(tokens, i, today)
        if day is not None:
            set_day(day[0], token)
            i = day[1]
            continue
        glued = numbers.split_glued(token)
        if glued is not None and glued[1].isalpha():  # "12hộ"; but "1e999" is a bad number
            tokens[i : i + 1] = list(glued)
            continue
        if numbers.is_amount_start(token):
            amount, end = numbers.take_amount(tokens, i) or (None, i + 1)
            assert amount is not None
            phrase = " ".join(tokens[i:end])
            following = tokens[end] if end < len(tokens) else None
            metric = lookup.find(following) if following is not None else None
            if metric is not None:
                end += 1
            elif following is not None and _is_plain_word(following, today):
                raise UserError(
                    N_("I don't know the metric “{token}”. Metrics here: {choices}."),
                    token=following,
                    choices=lookup.choices(),
                    example=EXAMPLE,
                )
            else:
                metric = _guess_metric(lookup, amount, phrase)
            put(metric, _value_for(metric, amount, phrase), phrase)
            i = end
            continue
        metric = lookup.find(token)
        following = numbers.take_amount(tokens, i + 1) if i + 1 < len(tokens) else None
        if metric is not None and following is not None:  # "hộ 12": the word first
            put(metric, _value_for(metric, following[0], token), token)
            i = following[1]
            continue
        raise UserError(
            N_("I don't understand “{token}”. Metrics here: {choices}."),
            token=token,
            choices=lookup.choices(),
            example=EXAMPLE,
        )
    return parsed
