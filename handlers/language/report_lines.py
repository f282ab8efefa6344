"""Reading a `/report` line as reporters write it (SPEC §3): `key=value`, `value alias` (`12 hộ`,
`15 hộ dân`), the alias first (`hộ: 12`), bare shorthand (`350m`, `2tr5`), a date anywhere
(`hôm qua`, `ngày 28/11`, `date=01/03`), `team=`, and a note that takes the rest of the line
(`note=`, `ghi chú:`). Punctuation and emoji between items and words that carry no number (`đã`,
`vận động`, `dân`…) are skipped; any other word is an error naming it. The metric's unit decides
what a value may be (SPEC §2). Pure: the metrics and today's date come in, a `ParsedReport` or a
`UserError` naming the offending word comes out."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

from handlers.errors import N_, UserError
from handlers.language import dates, numbers
from handlers.language.args import fold, is_option
from storage.models import Metric

DATE_KEYS = {"date", "ngay", "d"}
TEAM_KEYS = {"team", "to"}
NOTE_KEYS = {"note", "ghichu", "gc"}  # folded, without spaces: `ghi chú:` is `ghichu`
LENGTH_UNITS = {"m": 1.0, "km": 1000.0}
# Money and lengths take fractions; every other unit counts things (SPEC §2).
FRACTIONAL_UNITS = {"vnd", *LENGTH_UNITS}
# Folded words and phrases that carry no number: `đã vận động được 12 hộ`, `12 hộ và 2tr5`.
FILLERS = frozenset(
    {
        *("da", "dan", "van dong", "duoc", "them", "roi", "va", "voi", "cong", "tong"),
        *("tong cong", "la", "co", "gom", "bao cao", "bc", "ngay", "xong", "nua"),
        *("and", "plus", "with", "also", "on", "total", "done"),
    }
)
SAMPLE_VALUES = {"vnd": "2tr5", "m": "350m", "km": "1,2km"}  # by unit; counted things: 12
MAX_ALIAS_WORDS = 3
# `note=…`, `gc: …`, `ghi chú: …` (the mark may be a word of its own: `ghi chú : …`).
_NOTE_MARK = re.compile(r"(?P<key>[^\W\d_]+(?: [^\W\d_]+)?) ?[:=](?P<value>.*)", re.DOTALL)
_BARE_NOTE = {"ghi chu", "ghichu"}  # unambiguous without the `:` too
# Kept between digits (`1,5`, `28/11`, `2025-03-01`), separators elsewhere (`hộ,`, `hộ:12`).
_NUMBER_MARKS = frozenset(".,/:-")
_MINUS = frozenset("-−")


def metric_words(metric: Metric) -> set[str]:
    """Its key and aliases, case-folded, NFC, single-spaced (`hộ dân`)."""
    words = (metric.key, *metric.aliases)
    return {" ".join(unicodedata.normalize("NFC", w).casefold().split()) for w in words}


class MetricWords:
    """Finds a metric by its key or an alias of one or more words: exact (case-insensitive)
    first, then without diacritics when that is unambiguous."""

    def __init__(self, metrics: Sequence[Metric]) -> None:
        self.metrics = list(metrics)
        self.exact: dict[str, Metric] = {}
        folded: dict[str, list[Metric]] = {}
        for metric in self.metrics:
            for phrase in metric_words(metric):
                self.exact[phrase] = metric
                folded.setdefault(fold(phrase), []).append(metric)
        self.folded = {w: ms[0] for w, ms in folded.items() if len({m.id for m in ms}) == 1}

    def find(self, phrase: str) -> Metric | None:
        phrase = unicodedata.normalize("NFC", phrase).casefold()
        return self.exact.get(phrase) or self.folded.get(fold(phrase))

    def match(self, tokens: list[str], start: int) -> tuple[Metric, int] | None:
        """The metric whose longest word or phrase begins at tokens[start], and where it ends."""
        for end in range(min(start + MAX_ALIAS_WORDS, len(tokens)), start, -1):
            metric = self.find(" ".join(tokens[start:end]))
            if metric is not None:
                return metric, end
        return None

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


class UnknownWord(UserError):
    """A word that is no metric of the campaign: the handler, which knows the user's other
    campaigns, says where it might belong."""

    def __init__(self, message: str, /, *, token: str, **params: object) -> None:
        super().__init__(message, token=token, **params)
        self.token = token


def example_for(metric: Metric) -> str:
    """A correct report of this metric alone, for error messages."""
    return f"/report {metric.key}={SAMPLE_VALUES.get(metric.unit.casefold(), '12')}"


def sample_item(metric: Metric) -> str:
    """How a reporter writes a value of this metric: `12 hộ`, `2tr5 tiền`, `350m đường`."""
    word = metric.aliases[0] if metric.aliases else metric.key
    return f"{SAMPLE_VALUES.get(metric.unit.casefold(), '12')} {word}"


def example_line(metrics: Sequence[Metric], command: str = "/report") -> str:
    """A correct report in this campaign's own words (its first two metrics), for welcomes,
    reminders and errors: a campaign that counts no `hộ` is never told `/report 12 hộ`.
    Without metrics, the bare command, which opens the guided form."""
    return " ".join([command, *(sample_item(m) for m in metrics[:2])])


def value_for(
    metric: Metric, amount: numbers.Amount, token: str, example: str | None = None
) -> float:
    """The value `token` gives `metric`, if its unit allows it: money shorthand only for VND,
    lengths only for metres, whole numbers for counted things unless decimals were allowed."""
    unit = metric.unit.casefold()
    example = example or example_for(metric)
    if amount.unit == "m":
        if unit not in LENGTH_UNITS:
            raise UserError(
                N_("“{token}” is a length, but {metric} is not measured in metres."),
                token=token,
                metric=metric.key,
                field=metric.key,
                example=example,
            )
        return amount.value / LENGTH_UNITS[unit]
    if (amount.unit == "VND" or amount.scaled) and unit != "vnd":
        raise UserError(
            N_("“{token}” is money, but {metric} is not counted in đồng."),
            token=token,
            metric=metric.key,
            field=metric.key,
            example=example,
        )
    if unit not in FRACTIONAL_UNITS and not metric.decimals and not amount.value.is_integer():
        raise UserError(
            N_("“{token}”: {metric} takes whole numbers only."),
            token=token,
            metric=metric.key,
            field=metric.key,
            example=example,
        )
    return amount.value


def read_value(metric: Metric, text: str, example: str) -> float:
    """A whole setting's text (`1,3 tỷ`, `1,2km`) as a value of metric: as in a report."""
    return value_for(metric, numbers.parse_amount(text), " ".join(text.split()), example)


def _guess_metric(words: MetricWords, amount: numbers.Amount, token: str, example: str) -> Metric:
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
        example=example,
    )


def _split_note(words: list[str]) -> tuple[list[str], str | None]:
    """The words before a note marker, and the note: the rest of the line."""
    for i in range(len(words)):
        for size in (1, 2, 3):
            mark = _NOTE_MARK.fullmatch(" ".join(words[i : i + size]))
            if mark and fold(mark["key"]).replace(" ", "") in NOTE_KEYS:
                note = " ".join([mark["value"], *words[i + size :]]).strip()
                return words[:i], note or None
        if fold(" ".join(words[i : i + 2])) in _BARE_NOTE:
            return words[:i], " ".join(words[i + 2 :]).strip() or None
    return words, None


def _is_separator(text: str, i: int) -> bool:
    ch = text[i]
    before, after = text[i - 1 : i], text[i + 1 : i + 2]
    # Kept so that they are read, or refused (`12%`, `$5`), rather than silently dropped.
    if ch.isalnum() or ch == "%" or unicodedata.category(ch) == "Sc":
        return False
    if unicodedata.category(ch).startswith("M"):  # a mark on a letter, not an emoji's modifier
        return not before.isalpha()
    if ch in _NUMBER_MARKS and after.isdigit() and before.isdigit():
        return False
    # A minus sign starting a number stays, so that `-5` is refused, not read as 5.
    return not (ch in _MINUS and after.isdigit() and not before)


def _chunks(word: str) -> list[str]:
    """A word cut at punctuation and emoji: `hộ,` → `hộ`; `hộ:12` → `hộ`, `12`; `👍` → none."""
    chunks, start = [], 0
    for i in range(len(word) + 1):
        if i == len(word) or _is_separator(word, i):
            if i > start:
                chunks.append(word[start:i])
            start = i + 1
    return chunks


def _tokens(words: list[str]) -> list[str]:
    """The report's tokens; the value of a `key=value` word is cut the same way and its first
    token stays on the key (`date=hôm qua` → `date=hôm`, `qua`)."""
    tokens: list[str] = []
    for word in words:
        if is_option(word):
            key, _, value = word.partition("=")
            first, *more = [c for w in value.split() for c in _chunks(w)] or [""]
            tokens.extend([f"{key}={first}", *more])
        else:
            tokens.extend(_chunks(word))
    return tokens


def _filler_end(tokens: list[str], start: int) -> int | None:
    for end in (start + 2, start + 1):
        if end <= len(tokens) and fold(" ".join(tokens[start:end])) in FILLERS:
            return end
    return None


class _Reader:
    def __init__(self, metrics: Sequence[Metric], today: date) -> None:
        self.lookup = MetricWords(metrics)
        self.today = today
        self.example = example_line(metrics)
        self.parsed = ParsedReport()

    def read(self, words: list[str]) -> ParsedReport:
        words, self.parsed.note = _split_note(words)
        tokens = _tokens(words)
        i = 0
        while i < len(tokens):
            i = self._item(tokens, i)
        return self.parsed

    def _item(self, tokens: list[str], i: int) -> int:
        """Read the item at tokens[i]; the index after it."""
        token = tokens[i]
        key, eq, value = token.partition("=")
        if eq and key:
            return self._option(tokens, i, key, value)
        day = dates.take_date(tokens, i, self.today)
        if day is not None:
            self._set_day(day[0], " ".join(tokens[i : day[1]]))
            return day[1]
        glued = numbers.split_glued(token)
        if glued is not None:  # `12hộ`
            tokens[i : i + 1] = list(glued)
            return i
        if numbers.is_amount_start(token):
            return self._amount(tokens, i, None)
        match = self.lookup.match(tokens, i)
        if match is not None:  # the word first: `hộ 12`, `hộ: 12`, `hộ dân 15`
            metric, end = match
            while end < len(tokens) and (filler := _filler_end(tokens, end)) is not None:
                end = filler
            if end < len(tokens) and numbers.is_amount_start(tokens[end]):
                return self._amount(tokens, end, metric)
        filler = _filler_end(tokens, i)
        if filler is not None:
            return filler
        raise UnknownWord(
            N_("I don't understand “{token}”. Metrics here: {choices}."),
            token=token,
            choices=self.lookup.choices(),
            example=self.example,
        )

    def _option(self, tokens: list[str], i: int, key: str, value: str) -> int:
        """`date=`, `team=` or `<metric>=`, whose value starts at tokens[i] (`key=` cut off)."""
        if value:
            tokens[i] = value
        else:
            i += 1  # `date= hôm qua`
        folded, option = fold(key), f"{key}={value}"
        if folded in DATE_KEYS:
            day = dates.take_date(tokens, i, self.today) if i < len(tokens) else None
            if day is None:
                raise UserError(
                    N_("“{token}” is not a date I understand."),
                    token=option,
                    field="date",
                    example="date=hôm qua · date=01/03/2025",
                )
            self._set_day(day[0], option)
            return day[1]
        if folded in TEAM_KEYS:
            if i >= len(tokens):
                raise UserError(
                    N_("“{token}” needs a team code after “=”."),
                    token=option,
                    field="team",
                    example="/report 12 hộ team=to1",
                )
            self.parsed.team = tokens[i].lower()
            return i + 1
        metric = self.lookup.find(key)
        if metric is None:
            raise UnknownWord(
                N_("I don't know the metric “{token}”. Metrics here: {choices}."),
                token=key,
                choices=self.lookup.choices(),
                example=self.example,
            )
        if i >= len(tokens) or not numbers.is_amount_start(tokens[i]):
            raise UserError(
                N_("“{token}” needs a number after “=”."),
                token=option,
                field=metric.key,
                example=example_for(metric),
            )
        return self._amount(tokens, i, metric)

    def _names_item(self, tokens: list[str], index: int) -> bool:
        return self.lookup.match(tokens, index) is not None

    def _is_unknown_word(self, tokens: list[str], index: int) -> bool:
        token = tokens[index]
        return not (
            is_option(token)
            or numbers.is_amount_start(token)
            or numbers.split_glued(token) is not None
            or dates.take_date(tokens, index, self.today) is not None
            or _filler_end(tokens, index) is not None
        )

    def _amount(self, tokens: list[str], i: int, keyed: Metric | None) -> int:
        """The amount at tokens[i] and the metric it is for: `keyed` (from `hộ=` or `hộ 12`),
        else the word after it, else the only metric it can be."""
        try:
            taken = numbers.take_amount(tokens, i, self._names_item)
        except UserError as error:  # a bad value: point the form at its field
            error.field = error.field or (keyed.key if keyed else None)
            if error.example == numbers.EXAMPLE:  # the parser's generic one: use our words
                error.example = self.example
            raise
        assert taken is not None
        amount, end = taken
        phrase = " ".join(tokens[i:end])
        match = self.lookup.match(tokens, end)
        if match is not None and (keyed is None or match[0] is keyed):
            metric, end = match  # `12 hộ`; `households=7 hộ`, as a form answer says it
        elif end < len(tokens) and match is None and self._is_unknown_word(tokens, end):
            raise UnknownWord(
                N_("I don't know the metric “{token}”. Metrics here: {choices}."),
                token=tokens[end],
                choices=self.lookup.choices(),
                field=keyed.key if keyed else None,
                example=self.example,
            )
        else:
            metric = keyed or _guess_metric(self.lookup, amount, phrase, self.example)
        self._put(metric, value_for(metric, amount, phrase), phrase)
        return end

    def _put(self, metric: Metric, value: float, token: str) -> None:
        assert metric.id is not None
        if metric.id in self.parsed.values:
            raise UserError(
                N_("{metric} is given twice (“{token}”)."),
                metric=metric.key,
                token=token,
                field=metric.key,
                example=self.example,
            )
        self.parsed.values[metric.id] = value

    def _set_day(self, day: date, token: str) -> None:
        if self.parsed.day is not None:
            raise UserError(
                N_("Two dates in one report (“{token}”)."),
                token=token,
                field="date",
                example=self.example,
            )
        self.parsed.day = day


def parse_report(words: list[str], metrics: Sequence[Metric], today: date) -> ParsedReport:
    return _Reader(metrics, today).read(words)
