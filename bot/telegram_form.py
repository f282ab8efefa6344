"""The guided form in Telegram: one question per field, common answers as buttons, free-text
answers, a summary to confirm, cancel at any step, and a time-out.

The form's progress is a prompt in the database (storage/prompts.py), one per (chat, user),
written in the transaction that handles the answer, so the next answer or button press works on
whichever instance receives it, and after a restart. Every question gets a new token, carried
in its buttons' data: a button of an earlier question or of a closed form is recognised as spent
without knowing which message it was on. What the form finally sends is an ordinary command,
checked by the engine like any other; a field the engine rejects is asked again."""

from __future__ import annotations

import json
import secrets
from dataclasses import asdict, dataclass, field, replace
from typing import Any, Final

from bot.wire import form_of
from handlers.values import Form, FormField

KIND: Final = "form"  # the prompts' kind (storage/prompts.py)
FORM_BUTTON: Final = "~"  # callback data of the form's own buttons; command buttons start "/"
PICK, SKIP, CANCEL, SEND = "v", "skip", "cancel", "send"

# Rows of (label, callback data): an inline keyboard as the outbox can store it.
Keyboard = list[list[tuple[str, str]]]


def _token() -> str:
    return secrets.token_hex(4)


@dataclass(frozen=True)
class TelegramForm:
    form: Form
    token: str = field(default_factory=_token)  # of the question asked now
    index: int = 0
    answers: dict[str, str] = field(default_factory=dict)
    error: str = ""  # the engine's complaint about the field being asked again
    fixing: bool = False  # asking again for the one field the engine rejected
    message_id: int | None = None  # the message with the current question's buttons, once sent

    @property
    def current(self) -> FormField:
        return self.form.fields[self.index]

    @property
    def done(self) -> bool:
        return self.index >= len(self.form.fields)

    def answer(self, value: str | None) -> TelegramForm:
        """The current field answered (None: skipped) and the next unanswered one asked."""
        answers = dict(self.answers)
        if value is None:
            answers.pop(self.current.name, None)
        else:
            answers[self.current.name] = value
        # A corrected answer goes straight back to the summary; the rest was answered.
        index = len(self.form.fields) if self.fixing else self.index + 1
        return self._next(index=index, answers=answers, error="")

    def ask_again(self, field_name: str | None, error: str) -> TelegramForm:
        """The field the engine rejected asked again with its `error`; with none named, the
        form from its first field."""
        names = [f.name for f in self.form.fields]
        known = field_name in names
        index = names.index(field_name) if known else 0
        return self._next(index=index, error=error, fixing=known)

    def _next(self, **changes: Any) -> TelegramForm:
        # A new question: new buttons, and no message shows them yet.
        return replace(self, token=_token(), message_id=None, **changes)

    def shown_in(self, message_id: int) -> TelegramForm:
        return replace(self, message_id=message_id)

    def pressed(self, data: str) -> tuple[str, str] | None:
        """(action, value) of a button of the question asked now; None for any other."""
        if not data.startswith(FORM_BUTTON):
            return None
        token, _, rest = data.removeprefix(FORM_BUTTON).partition(":")
        if token != self.token:
            return None
        action, _, value = rest.partition(":")
        return action, value

    def _data(self, action: str, value: str = "") -> str:
        data = f"{FORM_BUTTON}{self.token}:{action}"
        return f"{data}:{value}"[:64] if value else data  # Telegram's limit, in bytes

    def message(self) -> tuple[str, Keyboard]:
        """The question asked now, or the summary when all are answered, with its buttons."""
        return self._summary() if self.done else self._question()

    def _question(self) -> tuple[str, Keyboard]:
        f, form = self.current, self.form
        lines = [form.title, f"{self.index + 1}/{len(form.fields)} · {f.label}"]
        if f.hint:
            lines.append(f.hint)
        if self.error:
            lines.insert(0, self.error)
        rows: Keyboard = []
        if f.suggestions:
            rows.append([(s, self._data(PICK, s)) for s in f.suggestions])
        # Every field may be left out (a report needs one number, which the engine checks).
        rows.append([(form.skip, self._data(SKIP)), (form.cancel, self._data(CANCEL))])
        return "\n".join(lines), rows

    def _summary(self) -> tuple[str, Keyboard]:
        labels = {f.name: f.label for f in self.form.fields}
        lines = [self.form.title]
        lines += [f"• {labels[name]}: {value}" for name, value in self.answers.items()]
        buttons = [(self.form.submit, self._data(SEND)), (self.form.cancel, self._data(CANCEL))]
        return "\n".join(lines), [buttons]

    def dumps(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False)

    @classmethod
    def loads(cls, state: str) -> TelegramForm:
        data = json.loads(state)
        return cls(**{**data, "form": form_of(data["form"])})
