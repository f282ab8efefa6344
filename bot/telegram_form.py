"""The guided form in Telegram: one question per field, common answers as buttons, free-text
answers, a summary to confirm, cancel at any step, and a time-out.

The state lives in memory, per chat and user: a form is a minute's conversation, and one lost in
a restart is started again with /report. What the form finally sends is an ordinary command,
checked by the engine like any other; a field the engine rejects is asked again."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Final

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from handlers.values import Form, FormField

# Callback data of the form's own buttons; command buttons start with "/".
PICK: Final = "~v:"
SKIP: Final = "~skip"
CANCEL: Final = "~cancel"
SEND: Final = "~send"


@dataclass
class FormSession:
    form: Form
    chat_id: int
    user_id: int
    index: int = 0
    answers: dict[str, str] = field(default_factory=dict)
    error: str = ""  # the engine's complaint about the field being asked again
    prompt_id: int | None = None  # the message with the current question's buttons
    fixing: bool = False  # asking again for the one field the engine rejected
    timer: asyncio.TimerHandle | None = None

    @property
    def current(self) -> FormField:
        return self.form.fields[self.index]

    @property
    def done(self) -> bool:
        return self.index >= len(self.form.fields)

    def answer(self, value: str | None) -> None:
        """Record the current field (None: skipped) and move to the next unanswered one."""
        if value is None:
            self.answers.pop(self.current.name, None)
        else:
            self.answers[self.current.name] = value
        self.error = ""
        # A corrected answer goes straight back to the summary; the rest was answered.
        self.index = len(self.form.fields) if self.fixing else self.index + 1

    def ask_again(self, field_name: str | None, error: str) -> None:
        names = [f.name for f in self.form.fields]
        self.fixing = field_name in names
        self.index = names.index(field_name) if field_name in names else 0
        self.error = error

    def question(self) -> tuple[str, InlineKeyboardMarkup]:
        f, form = self.current, self.form
        lines = [form.title, f"{self.index + 1}/{len(form.fields)} · {f.label}"]
        if f.hint:
            lines.append(f.hint)
        if self.error:
            lines.insert(0, self.error)
        rows = []
        if f.suggestions:
            rows.append(
                [InlineKeyboardButton(s, callback_data=f"{PICK}{s}"[:64]) for s in f.suggestions]
            )
        # Every field may be left out (a report needs one number, which the engine checks).
        rows.append(
            [
                InlineKeyboardButton(form.skip, callback_data=SKIP),
                InlineKeyboardButton(form.cancel, callback_data=CANCEL),
            ]
        )
        return "\n".join(lines), InlineKeyboardMarkup(rows)

    def summary(self) -> tuple[str, InlineKeyboardMarkup]:
        labels = {f.name: f.label for f in self.form.fields}
        lines = [self.form.title]
        lines += [f"• {labels[name]}: {value}" for name, value in self.answers.items()]
        markup = InlineKeyboardMarkup(
            [
                [
                    InlineKeyboardButton(self.form.submit, callback_data=SEND),
                    InlineKeyboardButton(self.form.cancel, callback_data=CANCEL),
                ]
            ]
        )
        return "\n".join(lines), markup


class Forms:
    """Open forms by (chat, user), each dropped after `timeout` seconds without an answer."""

    def __init__(
        self, timeout: float, on_expired: Callable[[FormSession], Awaitable[None]]
    ) -> None:
        self.timeout = timeout
        self.on_expired = on_expired
        self._open: dict[tuple[int, int], FormSession] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    def get(self, chat_id: int, user_id: int) -> FormSession | None:
        return self._open.get((chat_id, user_id))

    def open(self, form: Form, chat_id: int, user_id: int) -> FormSession:
        self.close(chat_id, user_id)
        session = FormSession(form, chat_id, user_id)
        self._open[chat_id, user_id] = session
        self.touch(session)
        return session

    def touch(self, session: FormSession) -> None:
        """The user answered: the time-out starts again."""
        if session.timer is not None:
            session.timer.cancel()
        loop = asyncio.get_running_loop()
        session.timer = loop.call_later(self.timeout, self._expire, session)

    def close(self, chat_id: int, user_id: int) -> FormSession | None:
        session = self._open.pop((chat_id, user_id), None)
        if session is not None and session.timer is not None:
            session.timer.cancel()
        return session

    def _expire(self, session: FormSession) -> None:
        if self._open.get((session.chat_id, session.user_id)) is session:
            del self._open[session.chat_id, session.user_id]
            task = asyncio.get_running_loop().create_task(self.on_expired(session))
            self._tasks.add(task)  # keep a reference until it ends
            task.add_done_callback(self._tasks.discard)

    def close_all(self) -> None:
        for chat_id, user_id in list(self._open):
            self.close(chat_id, user_id)
