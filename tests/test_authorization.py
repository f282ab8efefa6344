"""Who may run what (SPEC §3): every command of the table × every kind of user (enumerated from
the table, so a new command is covered the day it is added).

Each case starts from the same campaign and runs one command in the leaders' group `#hq`,
whose active campaign is `road`. A refusal reads "⛔ …" and changes nothing; an allowed
command must not be refused (and, unless marked, must succeed)."""

from __future__ import annotations

import pytest

from handlers.commands.table import COMMANDS
from handlers.engine.command import Access, Command
from handlers.values import Attachment
from tests.conftest import Chat

ROLES = {
    "none": "nobody",
    "reporter of another team": "minh",
    "reporter": "lan",
    "leader": "hoa",
    "admin of another campaign": "zed",
    "admin": "an",
    "superadmin": "root",
}
EVERYONE = set(ROLES)
MEMBERS = EVERYONE - {"none", "admin of another campaign"}
LEADERS = {"leader", "admin", "superadmin"}
ADMINS = {"admin", "superadmin"}
CREATORS = {"admin of another campaign", "admin", "superadmin"}
TEAM_1 = {"reporter", "admin", "superadmin"}
CSV = Attachment("teams.csv", b"code,name,unit\nt7,T7,ap-1\n", "text/csv")

# Who may run a command follows from its Access in the table, so a new command is in the matrix
# the day it is added; only these go further than their Access says.
WHO = {
    Access.ANYONE: EVERYONE,
    Access.MEMBER: MEMBERS,
    Access.LEADER: LEADERS,
    Access.ADMIN: ADMINS,
    Access.CREATOR: CREATORS,
}
NARROWER = {
    "report": TEAM_1,  # reporting is for one's own team (admins may name any)
    "campaign use": MEMBERS,  # anyone may ask; only a campaign's members are let in
}
# command path → (a line that runs in this fixture, whether an allowed run may still fail). A
# command not listed runs its table example (or usage), which may fail but must not be refused
# to those allowed, and must be refused to the others.
LINES: dict[str, tuple[str, bool]] = {
    "start": ("/start", False),
    "help": ("/help report", False),
    "join": ("/join {invite}", False),
    "lang": ("/lang en", False),
    "me": ("/me", False),
    "report": ("/report 1 hộ team=t1", False),
    "fix": ("/fix 1 2 hộ", True),  # #hq has no report #1: a plain error
    "undo": ("/undo", True),  # nothing of theirs to undo: a plain error
    "myreports": ("/myreports", False),
    "progress": ("/progress", False),
    "export": ("/export xlsx", False),
    "digest now": ("/digest now", False),
    "digest here": ("/digest here at=18:30", False),
    "digest off": ("/digest off", True),  # #hq gets no digest: a plain error
    "digest time": ("/digest time 19:00", True),  # likewise
    "remind": ("/remind at=17:00", False),
    "campaign new": ('/campaign new c2 "Chiến dịch 2"', False),
    "campaign list": ("/campaign list", False),
    "campaign use": ("/campaign use road", False),
    "campaign info": ("/campaign info", False),
    "campaign set": ("/campaign set backdate=5", False),
    "campaign close": ("/campaign close", False),
    "metric add": ('/metric add people "Người" unit=person', False),
    "metric list": ("/metric list", False),
    "metric target": ("/metric target households 600", False),
    "metric remove": ("/metric remove vnd", False),
    "unit add": ('/unit add ap-9 "Ấp 9" parent=binh-son', False),
    "unit move": ("/unit move ap-2 parent=ap-1", False),
    "unit rename": ('/unit rename ap-1 "Ấp Một"', False),
    "unit list": ("/unit list", False),
    "team add": ('/team add t9 "Tổ 9" unit=ap-2', False),
    "team list": ("/team list", False),
    "team target": ("/team target t1 households 40", False),
    "team bind": ("/team bind t1", False),
    "team unbind": ("/team unbind", True),  # #hq is not bound: a plain error
    "team import": ("/team import", False),
    "invite": ("/invite t1", False),
    "role": ("/role shell:minh leader", False),
    "audit": ("/audit", False),
    "confirm": ("/confirm 00000000", True),  # no such token: a plain error
    "cancel": ("/cancel 00000000", True),
}


def case(command: Command) -> tuple[str, set[str], bool]:
    line, may_fail = LINES.get(command.path, (command.example or command.usage, True))
    return line, NARROWER.get(command.path, WHO[command.access]), may_fail


def test_every_sample_line_is_a_command_of_the_table() -> None:
    assert set(LINES) <= {c.path for c in COMMANDS}
    assert set(NARROWER) <= set(LINES)


@pytest.fixture
def hq(campaign: Chat) -> tuple[Chat, str]:
    campaign.ok("root", '/campaign new other "Chiến dịch khác"', chat="@root-other")
    code = campaign.ok("root", "/invite admin", chat="@root-other").text.split()[2].rstrip(":")
    campaign.ok("zed", f"/join {code}")
    campaign.ok("root", "/campaign use road", chat="#hq")
    invite = campaign.ok("root", "/invite t1 uses=10", chat="#hq").text.split()[2].rstrip(":")
    for user in ROLES.values():
        campaign.say(user, "/start", chat="#hq")  # everyone has met the bot here
    return campaign, invite


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: c.path)
@pytest.mark.parametrize("role", list(ROLES))
def test_access(hq: tuple[Chat, str], command: Command, role: str) -> None:
    chat, invite = hq
    line, allowed, may_fail = case(command)
    attachment = CSV if command.path == "team import" else None
    reply = chat.say(ROLES[role], line.format(invite=invite), chat="#hq", attachment=attachment)
    if role in allowed:
        assert not reply.text.startswith("⛔"), f"{role} was refused {line}: {reply.text}"
        assert may_fail or not reply.is_error, f"{role}: {line}: {reply.text}"
    else:
        assert reply.is_error and reply.text.startswith("⛔"), f"{role} ran {line}: {reply.text}"
