"""The guided form by text, for platforms without buttons or modals (Zalo) and the shell: one
question per field, answered with the same words a /report line takes; an empty answer or
"bỏ qua"/"skip" leaves a field out, "hủy"/"cancel" stops. After the last field the answers are
sent as one command, which the engine checks like any other; a field it rejects is asked again
with the reason, and the corrected answer sends the command again at once. Zalo keeps the state
as JSON in the database (storage/prompts.py), so a form survives a restart and moves between
instances."""

from __future__ import annotations

import json
import unicodedata
from dataclasses import asdict, dataclass, field, replace
from typing import TYPE_CHECKING, Final

from bot.wire import form_of
from handlers.errors import N_
from handlers.values import Form, FormField

if TYPE_CHECKING:  # the shell uses the form too, and `tiendo --help` imports the shell
    from handlers.language.i18n import Translator

SKIP_WORDS: Final = frozenset({"bỏ qua", "bo qua", "skip", "-"})
CANCEL_WORDS: Final = frozenset({"hủy", "huỷ", "huy", "cancel", "thôi", "stop"})
HOW_TO_ANSWER = N_('Type the answer; "{skip}" leaves it out, "{cancel}" stops.')


def _word(text: str) -> str:
    return unicodedata.normalize("NFC", text).strip().lower()


@dataclass(frozen=True)
class TextForm:
    form: Form
    index: int = 0
    answers: dict[str, str] = field(default_factory=dict)
    error: str = ""  # the engine's complaint about the field asked again
    fixing: bool = False  # asking again for the one field the engine rejected

    @property
    def done(self) -> bool:
        return self.index >= len(self.form.fields)

    @property
    def current(self) -> FormField:
        return self.form.fields[self.index]

    def is_cancel(self, text: str) -> bool:
        return _word(text) in CANCEL_WORDS | {_word(self.form.cancel)}

    def answer(self, text: str) -> TextForm:
        """The form with the current field answered (or left out) and the next one current;
        after a fix, done at once (every other field was answered already)."""
        answers = dict(self.answers)
        if not text.strip() or _word(text) in SKIP_WORDS | {_word(self.form.skip)}:
            answers.pop(self.current.name, None)
        else:
            answers[self.current.name] = text.strip()
        index = len(self.form.fields) if self.fixing else self.index + 1
        return replace(self, index=index, answers=answers, error="")

    def ask_again(self, field_name: str | None, error: str) -> TextForm | None:
        """The form asking for `field_name` again after the engine's `error`; None when that
        field was not answered here (so answering it again cannot help)."""
        names = [f.name for f in self.form.fields]
        if field_name not in self.answers or field_name not in names:
            return None
        return replace(self, index=names.index(field_name), error=error, fixing=True)

    def question(self, tr: Translator, *, first: bool = False) -> str:
        f, form = self.current, self.form
        lines = [form.title] if first else []
        if self.error:
            lines.append(self.error)
        lines.append(f"{self.index + 1}/{len(form.fields)} · {f.label}")
        if f.hint:
            lines.append(f"({f.hint})")
        lines.append(tr._(HOW_TO_ANSWER, skip=form.skip.lower(), cancel=form.cancel.lower()))
        return "\n".join(lines)

    def dumps(self) -> str:
        return json.dumps(
            {
                "form": asdict(self.form),
                "index": self.index,
                "answers": self.answers,
                "error": self.error,
                "fixing": self.fixing,
            },
            ensure_ascii=False,
        )

    @classmethod
    def loads(cls, state: str) -> TextForm:
        data = json.loads(state)
        return cls(
            form=form_of(data["form"]),
            index=data["index"],
            answers=dict(data["answers"]),
            error=data["error"],
            fixing=data["fixing"],
        )
