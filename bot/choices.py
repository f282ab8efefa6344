"""Buttons as numbered choices, for platforms without buttons (Zalo, SPEC §6): the reply's
buttons become `1. …` lines under its text, the commands behind them are kept as a prompt
(storage/prompts.py), and the number the user sends back runs the command it stands for."""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from handlers.errors import N_
from handlers.language.i18n import Translator
from handlers.values import Button

NUMBER: Final = re.compile(r"^\s*(?:#|số\s*|so\s*)?(\d{1,3})\s*[.)]?\s*$", re.IGNORECASE)

REPLY_WITH_A_NUMBER = N_("Reply with a number:")
NO_SUCH_CHOICE = N_("There is no choice {number}. Reply with a number from 1 to {count}:")
STALE = N_(
    "That choice is no longer open: it expired, or a newer message replaced it. "
    "Send the command again."
)
NOTHING_OPEN = N_(
    "A number alone answers a numbered question, and none is open now. /help lists the commands."
)


def number(text: str) -> int | None:
    """The choice a message picks: `2`, `2.`, `#2`, `số 2`; None for anything else."""
    found = NUMBER.match(unicodedata.normalize("NFC", text))
    return int(found[1]) if found else None


@dataclass(frozen=True)
class Choices:
    labels: tuple[str, ...]
    commands: tuple[str, ...]

    @classmethod
    def of(cls, buttons: Sequence[Button]) -> Choices:
        return cls(tuple(b.label for b in buttons), tuple(b.command for b in buttons))

    def dumps(self) -> str:
        return json.dumps({"labels": self.labels, "commands": self.commands}, ensure_ascii=False)

    @classmethod
    def loads(cls, state: str) -> Choices:
        data = json.loads(state)
        return cls(tuple(data["labels"]), tuple(data["commands"]))

    def lines(self, tr: Translator) -> str:
        numbered = [f"{i}. {label}" for i, label in enumerate(self.labels, 1)]
        return "\n".join([tr._(REPLY_WITH_A_NUMBER), *numbered])

    def under(self, text: str, tr: Translator) -> str:
        """`text` with the choices below it."""
        return f"{text}\n\n{self.lines(tr)}" if text else self.lines(tr)

    def pick(self, n: int) -> str | None:
        """The command of choice `n` (from 1), or None when there is no such choice."""
        return self.commands[n - 1] if 1 <= n <= len(self.commands) else None

    def wrong(self, n: int, tr: Translator) -> str:
        head = tr._(NO_SUCH_CHOICE, number=n, count=len(self.commands))
        numbered = [f"{i}. {label}" for i, label in enumerate(self.labels, 1)]
        return "\n".join([head, *numbered])
