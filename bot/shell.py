"""The shell adapter: the command engine in a terminal, typed or scripted from standard input.

Commands are typed as in Telegram. Lines starting with `:` steer the local chat (SPEC §6):
`:as <name>`, `:in <chat>` (`#name` is a group), `:attach <path>`, `:tap <n>`, `:quit`.
Images and files in replies are written to a folder and their paths printed. At a terminal,
`line_editing` gives the prompt arrow keys, Ctrl-R and a history kept between sessions."""

from __future__ import annotations

import mimetypes
import shlex
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Final, TextIO

from bot.text_form import TextForm
from handlers.errors import N_
from handlers.language.args import command_line, form_args
from handlers.values import Attachment, Button, Form, FormField, Ref, Reply, Request

if TYPE_CHECKING:
    from handlers.engine.dispatch import Engine
    from handlers.language.i18n import Translator

Readline = Callable[[str], str | None]  # prompt → the next line, or None at the end of input
HISTORY_LENGTH: Final = 1000  # lines kept in the history file

HELP = N_(
    "Commands are typed as in Telegram: /help, /report …\n"
    ":as <name>  act as another local user     :in <chat>  move to a chat (#name = a group)\n"
    ":attach <path>  attach a file to the next command   :tap <n>  press button n   :quit"
)


@contextmanager
def line_editing(history: Path, length: int = HISTORY_LENGTH) -> Iterator[bool]:
    """Line editing for `input()` at a terminal, through the standard library's readline: arrow
    keys, Ctrl-R, and the last `length` lines of earlier sessions from `history`, saved again
    on the way out. Where readline is missing (Windows) typing works as before. Yields whether
    editing is on. Imported here, not at the top: importing readline changes how every
    `input()` of the process behaves."""
    try:
        import readline
    except ImportError:
        yield False
        return
    readline.clear_history()  # the file's lines, not those of an earlier shell in this process
    readline.set_history_length(length)
    with suppress(OSError):  # a first session has no file yet
        readline.read_history_file(history)
    try:
        yield True
    finally:
        with suppress(OSError):  # an unwritable home loses the history, not the exit
            readline.write_history_file(history)


@dataclass
class Shell:
    engine: Engine
    files_dir: Path
    out: TextIO
    readline: Readline
    user: str = "admin"
    chat: str = "@admin"
    echo: bool = False  # print each command: makes a scripted session read as a transcript
    _attachment: Attachment | None = None
    _buttons: tuple[Button, ...] = ()
    _session: str = field(default_factory=lambda: uuid.uuid4().hex[:8])
    _count: int = 0
    # The shell's own words, in the configured default language (replies follow each user's).
    tr: Translator = field(init=False)

    def __post_init__(self) -> None:
        self.tr = self.engine.translator(None)

    def run(self) -> None:
        while (line := self.readline(self._prompt())) is not None:
            if not self.feed(line):
                break

    def _prompt(self) -> str:
        where = "" if self.chat == "@" + self.user else f" {self.chat}"  # own private chat: bare
        return f"{self.user}{where}> "

    def say(self, text: str) -> None:
        print(text, file=self.out)

    def feed(self, line: str) -> bool:
        """Handle one typed line; False means quit."""
        line = line.strip()
        if not line or line.startswith("#!"):
            return True
        if self.echo:
            self.say(self._prompt() + line)
        if line.startswith(":"):
            return self._steer(line)
        parsed = command_line(line)
        if parsed is None:
            self.say(self.tr._("(commands start with / — try /help; `:help` for the shell)"))
            return True
        self.send(*parsed)
        return True

    def _steer(self, line: str) -> bool:
        word, _, rest = line[1:].partition(" ")
        rest = rest.strip()
        if word in ("quit", "q", "exit"):
            return False
        if word == "as" and rest:
            self.user = rest.lstrip("@")
            if not self.chat.startswith("#"):
                self.chat = "@" + self.user
        elif word == "in" and rest:
            self.chat = rest if rest.startswith("#") else "@" + rest.lstrip("@")
        elif word == "attach" and rest:
            self._attach(Path(shlex.split(rest)[0]).expanduser())
        elif word == "tap" and rest.isascii() and rest.isdigit():  # not `²`
            index = int(rest) - 1
            if not 0 <= index < len(self._buttons):
                self.say(
                    self.tr._(
                        "(no button {n}; the last reply has {count})",
                        n=rest,
                        count=len(self._buttons),
                    )
                )
            else:
                parsed = command_line(self._buttons[index].command)
                assert parsed is not None
                self.send(*parsed, message=False)
        else:
            self.say(self.tr._(HELP))
        return True

    def _attach(self, path: Path) -> None:
        try:
            content = path.read_bytes()
        except OSError as error:
            self.say(self.tr._("(cannot read {path}: {error})", path=path, error=error.strerror))
            return
        mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        self._attachment = Attachment(path.name, content, mime, platform_ref=str(path))
        self.say(
            self.tr._(
                "(attached {name}, {size} bytes, to the next command)",
                name=path.name,
                size=len(content),
            )
        )

    def request(self, command: str, args: str, *, message: bool = True) -> Request:
        """A request from the current user in the current chat; typed lines are messages with
        an id (so a report is recorded once), button presses are not."""
        self._count += 1
        attachment, self._attachment = self._attachment, None
        return Request(
            user=Ref("shell", "", self.user),
            chat=Ref("shell", "", self.chat),
            command=command,
            args=args,
            user_name=self.user,
            chat_title=self.chat,
            is_group=self.chat.startswith("#"),
            message_id=f"shell:{self._session}:{self._count}" if message else None,
            attachment=attachment,
        )

    def send(self, command: str, args: str, *, message: bool = True) -> Reply:
        reply = self.engine.handle(self.request(command, args, message=message))
        self.show(reply)
        if reply.form is not None:
            return self.fill(reply.form)
        return reply

    def fill(self, form: Form) -> Reply:
        """Ask the form's fields one by one, then send the command they make; the answers are
        kept as Zalo's form keeps them (bot/text_form.py: empty or "bỏ qua" skips, "hủy"
        stops). The engine reads each answer with its field's own parser (`7 hộ`, `2 triệu
        rưỡi`, `hôm qua`); a field it rejects is asked again after the reason, keeping every
        other answer, until it is accepted, skipped or the input ends."""

        def prompt(entry: FormField) -> str:  # label and hint are in the reader's language
            return f"  {entry.label}{f' ({entry.hint})' if entry.hint else ''}: "

        self.say(f"— {form.title} —")
        state = TextForm(form)
        while not state.done:
            answer = self.ask(prompt(state.current))
            if answer is None:
                break  # the input ended: send what was answered
            if state.is_cancel(answer):
                self.say(form.cancelled)
                return Reply(form.cancelled)
            state = state.answer(answer)
        while True:
            reply = self.engine.handle(self.request(form.command, form_args(state.answers)))
            self.show(reply)
            again = state.ask_again(reply.error_field, reply.text) if reply.is_error else None
            if again is None:
                return reply
            retry = self.ask(prompt(again.current))
            if retry is None:
                return reply
            state = again.answer(retry)

    def ask(self, prompt: str) -> str | None:
        answer = self.readline(prompt)
        if self.echo and answer is not None:
            self.say(prompt + answer)
        return answer

    def show(self, reply: Reply) -> None:
        self.say(reply.text)
        for image in reply.images:
            self.say(f"🖼  {self._save(image.name, image.content)}  {image.caption}".rstrip())
        for file in reply.files:
            self.say(f"📎 {self._save(file.name, file.content)}")
        self._buttons = reply.buttons
        for number, button in enumerate(reply.buttons, 1):
            self.say(f"  [{number}] {button.label}")

    def _save(self, name: str, content: bytes) -> Path:
        self.files_dir.mkdir(parents=True, exist_ok=True)
        path = self.files_dir / Path(name).name
        stem, suffix, n = path.stem, path.suffix, 1
        while path.exists():
            n += 1
            path = self.files_dir / f"{stem}-{n}{suffix}"
        path.write_bytes(content)
        return path
