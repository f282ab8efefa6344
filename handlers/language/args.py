"""Splitting a command line into words and `key=value` options, the way a phone user types it:
curly quotes from a phone keyboard count as quotes, an unbalanced quote is an error, and an
unquoted value runs to the next `key=` (`unit=công trình`, `target=1,3 tỷ`)."""

from __future__ import annotations

import shlex
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field

from handlers.errors import N_, UserError

MAX_LINE = 2000
_QUOTES = str.maketrans({"“": '"', "”": '"', "„": '"', "«": '"', "»": '"', "‘": "'", "’": "'"})
# No-break and thin spaces (phone keyboards, Babel's grouping in some locales) separate words.
_SPACES = str.maketrans(dict.fromkeys("\u00a0\u2007\u2009\u202f\u3000", " "))


# Control characters (NUL, ESC…) break exports and terminals and PostgreSQL refuses NUL: they
# are dropped where text enters; a line break and a tab stay (a note may have several lines).
_CONTROLS = dict.fromkeys(
    (c for c in [*range(0x20), *range(0x7F, 0xA0)] if chr(c) not in "\n\t"), None
)


def clean(text: str) -> str:
    """`text` without control characters other than line breaks and tabs (`\r\n` is one)."""
    return text.replace("\r\n", "\n").replace("\r", "\n").translate(_CONTROLS)


def fold(word: str) -> str:
    """Case- and accent-insensitive form: `Hộ`, `hộ` and `ho` all fold to `ho`."""
    word = unicodedata.normalize("NFD", word.casefold().replace("đ", "d"))
    return "".join(ch for ch in word if not unicodedata.combining(ch))


def split_words(text: str) -> list[str]:
    """Shell-like words of a line, in NFC: some Vietnamese keyboards send decomposed text."""
    if len(text) > MAX_LINE:
        raise UserError(
            N_("That message is too long ({length} characters; at most {limit})."),
            length=len(text),
            limit=MAX_LINE,
        )
    text = unicodedata.normalize("NFC", text).translate(_QUOTES).translate(_SPACES)
    try:
        return shlex.split(text)
    except ValueError:
        raise UserError(N_("A quotation mark is not closed."), example='note="…"') from None


def is_option(word: str) -> bool:
    key, eq, _ = word.partition("=")
    return bool(eq) and key.replace("_", "").isalnum()


@dataclass
class Args:
    """Positional words in order, and options by lower-cased key (last one wins). An option's
    value holds every word up to the next `key=`; `rest` gives a name that runs over words."""

    words: list[str] = field(default_factory=list)
    options: dict[str, str] = field(default_factory=dict)

    @classmethod
    def parse(cls, text: str) -> Args:
        args = cls()
        key: str | None = None
        for word in split_words(text):
            if is_option(word):
                key, _, value = word.partition("=")
                key = key.lower()
                args.options[key] = value
            elif key is not None:
                args.options[key] = f"{args.options[key]} {word}".lstrip()
            else:
                args.words.append(word)
        return args

    def word(self, index: int) -> str | None:
        return self.words[index] if index < len(self.words) else None

    def rest(self, index: int) -> str | None:
        """The positional words from index on, as one text: `Tổ 5 thôn Đông Hòa`."""
        text = " ".join(self.words[index:]).strip()
        return text or None


def form_args(answers: Mapping[str, str | None]) -> str:
    """A filled form as the command line it stands for: `name=value` per answered field, quoted
    so split_words reads each value back whole. The note goes last: it takes the rest of a
    report line."""
    answered = [(name, value.strip()) for name, value in answers.items() if value and value.strip()]
    answered.sort(key=lambda item: item[0] == "note")
    return " ".join(f"{name}={shlex.quote(value)}" for name, value in answered)


def command_line(text: str) -> tuple[str, str] | None:
    """`/report@tiendo_bot 12 hộ` → ("report", "12 hộ"); None if the text is not a command.
    Used for typed lines and for button presses alike."""
    text = text.strip()
    if not text.startswith("/") or len(text) < 2 or text[1].isspace():
        return None
    head, *rest = text[1:].split(maxsplit=1)  # the arguments may start on the next line
    name = head.split("@", 1)[0].lower()
    return (name, rest[0] if rest else "") if name else None
