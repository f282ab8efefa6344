"""Splitting a command line into words and `key=value` options, the way a phone user types it:
curly quotes from a phone keyboard count as quotes, and an unbalanced quote is an error."""

from __future__ import annotations

import shlex
from collections.abc import Mapping
from dataclasses import dataclass, field

from handlers.errors import N_, UserError

MAX_LINE = 2000
_QUOTES = str.maketrans({"“": '"', "”": '"', "„": '"', "«": '"', "»": '"', "‘": "'", "’": "'"})


def split_words(text: str) -> list[str]:
    if len(text) > MAX_LINE:
        raise UserError(
            N_("That message is too long ({length} characters; at most {limit})."),
            length=len(text),
            limit=MAX_LINE,
        )
    try:
        return shlex.split(text.translate(_QUOTES))
    except ValueError:
        raise UserError(N_("A quotation mark is not closed."), example='note="…"') from None


def is_option(word: str) -> bool:
    key, eq, _ = word.partition("=")
    return bool(eq) and key.replace("_", "").isalnum()


@dataclass
class Args:
    """Positional words in order, and options by lower-cased key (last one wins)."""

    words: list[str] = field(default_factory=list)
    options: dict[str, str] = field(default_factory=dict)

    @classmethod
    def parse(cls, text: str) -> Args:
        args = cls()
        for word in split_words(text):
            if is_option(word):
                key, _, value = word.partition("=")
                args.options[key.lower()] = value
            else:
                args.words.append(word)
        return args

    def word(self, index: int) -> str | None:
        return self.words[index] if index < len(self.words) else None


def form_args(answers: Mapping[str, str | None]) -> str:
    """A filled form as the command line it stands for: `name=value` per answered field, quoted
    so split_words reads each value back whole."""
    return " ".join(
        f"{name}={shlex.quote(value.strip())}"
        for name, value in answers.items()
        if value and value.strip()
    )


def command_line(text: str) -> tuple[str, str] | None:
    """`/report@tiendo_bot 12 hộ` → ("report", "12 hộ"); None if the text is not a command.
    Used for typed lines and for button presses alike."""
    text = text.strip()
    if not text.startswith("/") or len(text) < 2 or text[1].isspace():
        return None
    head, *rest = text[1:].split(maxsplit=1)  # the arguments may start on the next line
    name = head.split("@", 1)[0].lower()
    return (name, rest[0] if rest else "") if name else None
