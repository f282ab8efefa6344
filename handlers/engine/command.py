"""The command table: one entry per command (and sub-command) with its handler, who may run
it, its usage and an example. Dispatch, /help, the shell and the Telegram and Slack command
registrations are all derived from it."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from handlers.engine.context import Ctx
    from handlers.values import Reply


class Access(StrEnum):
    """Who may run a command; checked against the campaign the command acts on."""

    ANYONE = "anyone"  # no campaign needed
    CREATOR = "creator"  # a superadmin, or an admin of any campaign
    # Any role in the campaign. Reporting also needs the team to be the reporter's own
    # (admins may name any team), which the report handler checks.
    MEMBER = "member"
    LEADER = "leader"  # a leader or an admin
    ADMIN = "admin"  # an admin of the campaign (superadmins are admins everywhere)


class Group(StrEnum):
    EVERYONE = "everyone"
    REPORTERS = "reporters"
    LEADERS = "leaders"
    ADMINS = "admins"


@dataclass(frozen=True)
class Topic:
    """A top-level command word as the platforms register it."""

    name: str
    summary: str  # N_() msgid; Telegram allows 3–256 characters
    group: Group
    # Slack gives these their own slash command; everything is also under /tiendo.
    slack_slash: bool = False
    hidden: bool = False  # reached through buttons, not listed
    # The answer is for the asker alone (settings, codes, own reports): where a platform can,
    # it shows it only to them (Slack's ephemeral messages) even in a shared channel.
    personal: bool = False


@dataclass(frozen=True)
class Command:
    topic: str
    sub: str | None
    handler: Callable[[Ctx], Reply]
    access: Access
    usage: str
    summary: str  # N_() msgid
    example: str | None = None

    @property
    def path(self) -> str:
        return f"{self.topic} {self.sub}" if self.sub else self.topic


class CommandTable:
    def __init__(self, topics: Iterable[Topic], commands: Iterable[Command]) -> None:
        self.topics = {topic.name: topic for topic in topics}
        self.commands = list(commands)
        for command in self.commands:
            if command.topic not in self.topics:
                raise ValueError(f"command {command.path} has no topic")

    def of_topic(self, topic: str) -> list[Command]:
        return [c for c in self.commands if c.topic == topic]

    def find(self, topic: str, first_word: str | None) -> tuple[Command | None, bool]:
        """The command for `topic` and the first word; the flag tells whether that word was
        consumed as the sub-command."""
        entries = self.of_topic(topic)
        if first_word is not None:
            for command in entries:
                if command.sub == first_word.lower():
                    return command, True
        for command in entries:
            if command.sub is None:
                return command, False
        return None, False

    def visible_topics(self) -> list[Topic]:
        return [t for t in self.topics.values() if not t.hidden]
