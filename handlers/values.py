"""Plain values that cross the boundary between the platform adapters and the handlers.

An adapter turns a platform event into a `Request` and renders the `Reply` it gets back; the
handlers never see a platform object. Identities are typed (platform, workspace, id) triples so a
Telegram user 42 and a Slack user 42 can never be confused."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, get_args

Platform = Literal["zalo", "telegram", "slack", "shell"]
PLATFORMS: tuple[Platform, ...] = get_args(Platform)


@dataclass(frozen=True, order=True)
class Ref:
    """A user or a chat on one platform: `telegram:42`, `slack:T01:U02`, `shell:admin`."""

    platform: Platform
    workspace: str
    id: str

    def __post_init__(self) -> None:
        if self.platform not in PLATFORMS:
            raise ValueError(f"unknown platform {self.platform!r}")
        if not self.id or ":" in self.id or ":" in self.workspace:
            raise ValueError(f"bad identity {self.platform}:{self.workspace}:{self.id}")

    @property
    def key(self) -> str:
        """The stored, human-readable form; Slack carries its workspace (team id)."""
        if self.workspace:
            return f"{self.platform}:{self.workspace}:{self.id}"
        return f"{self.platform}:{self.id}"

    @classmethod
    def parse(cls, key: str) -> Ref:
        parts = key.split(":")
        if len(parts) == 2:
            return cls(parts[0], "", parts[1])  # type: ignore[arg-type]  # checked on creation
        if len(parts) == 3:
            return cls(parts[0], parts[1], parts[2])  # type: ignore[arg-type]
        raise ValueError(f"bad identity {key!r}")

    def __str__(self) -> str:
        return self.key


@dataclass(frozen=True)
class Attachment:
    """A file the user sent with the command: a photo (evidence) or a document (CSV import)."""

    name: str
    content: bytes
    mime_type: str = "application/octet-stream"
    # The platform's own handle for the file (Telegram file_id, Slack file id), kept as evidence.
    platform_ref: str | None = None


@dataclass(frozen=True)
class Request:
    """One command from one user in one chat, as plain values."""

    user: Ref
    chat: Ref
    command: str  # without the slash, lower case: "report", "team"
    args: str = ""  # the rest of the line, untouched
    user_name: str = ""
    chat_title: str = ""
    is_group: bool = False
    language: str | None = None  # the platform's hint (Telegram language_code); the account wins
    # Unique per delivered message on its platform (e.g. "telegram:-100123:456"): a message
    # delivered twice is recorded once. None for button presses and the like.
    message_id: str | None = None
    # Set when this request corrects an earlier message (an edited Telegram message).
    edits_message_id: str | None = None
    attachment: Attachment | None = None


@dataclass(frozen=True)
class Button:
    """A button under a reply; pressing it runs `command` as the presser, in the same chat."""

    label: str
    command: str  # a command line such as "/undo 42"; short enough for Telegram's 64 bytes


@dataclass(frozen=True)
class Image:
    name: str
    content: bytes  # PNG
    caption: str = ""


@dataclass(frozen=True)
class File:
    name: str
    content: bytes
    mime_type: str


FieldKind = Literal["number", "date", "text"]


@dataclass(frozen=True)
class FormField:
    name: str  # metric key, "date" or "note": the key= of the command it builds
    label: str
    kind: FieldKind
    hint: str = ""
    suggestions: tuple[str, ...] = ()  # common answers, for quick-reply buttons


@dataclass(frozen=True)
class Form:
    """A guided input: the adapter asks for each field its own way (prompts, buttons, a modal)
    and then sends `command` with `name=value` for every answered field."""

    title: str
    command: str  # "report"
    fields: tuple[FormField, ...]
    # Words the adapter shows around the fields, already in the reader's language.
    submit: str = "OK"
    cancel: str = "Cancel"
    skip: str = "Skip"
    cancelled: str = "Cancelled; nothing was recorded."
    expired: str = "The form timed out; nothing was recorded."


@dataclass(frozen=True)
class Reply:
    text: str
    buttons: tuple[Button, ...] = ()
    images: tuple[Image, ...] = ()
    files: tuple[File, ...] = ()
    form: Form | None = None
    # Set on errors: is_error, and the form field at fault (a Slack modal shows it in place).
    is_error: bool = False
    error_field: str | None = None
