"""Who may run what (SPEC §3): every command of the table × every kind of user.

Each case starts from the same campaign and runs one command in the leaders' group `#hq`,
whose active campaign is `road`. A refusal reads "⛔ …" and changes nothing; an allowed
command must not be refused (and, unless marked, must succeed)."""

from __future__ import annotations

import pytest

from handlers.commands.table import COMMANDS
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

# command path → (sample line, who may run it, whether an allowed run may still fail)
MATRIX: dict[str, tuple[str, set[str], bool]] = {
    "start": ("/start", EVERYONE, False),
    "help": ("/help report", EVERYONE, False),
    "join": ("/join {invite}", EVERYONE, False),
    "lang": ("/lang en", EVERYONE, False),
    "me": ("/me", EVERYONE, False),
    "report": ("/report 1 hộ team=t1", TEAM_1, False),
    "fix": ("/fix 1 2 hộ", MEMBERS, True),  # #hq has no report #1: a plain error
    "undo": ("/undo", MEMBERS, True),  # nothing of theirs to undo: a plain error
    "myreports": ("/myreports", MEMBERS, False),
    "progress": ("/progress", MEMBERS, False),
    "export": ("/export xlsx", LEADERS, False),
    "digest now": ("/digest now", LEADERS, False),
    "digest here": ("/digest here at=18:30", ADMINS, False),
    "digest off": ("/digest off", ADMINS, True),  # #hq gets no digest: a plain error
    "digest time": ("/digest time 19:00", ADMINS, True),  # likewise
    "remind": ("/remind at=17:00", ADMINS, False),
    "campaign new": ('/campaign new c2 "Chiến dịch 2"', CREATORS, False),
    "campaign list": ("/campaign list", EVERYONE, False),
    "campaign use": ("/campaign use road", MEMBERS, False),
    "campaign info": ("/campaign info", MEMBERS, False),
    "campaign set": ("/campaign set backdate=5", ADMINS, False),
    "campaign close": ("/campaign close", ADMINS, False),
    "metric add": ('/metric add people "Người" unit=person', ADMINS, False),
    "metric list": ("/metric list", MEMBERS, False),
    "metric target": ("/metric target households 600", ADMINS, False),
    "metric remove": ("/metric remove vnd", ADMINS, False),
    "unit add": ('/unit add ap-9 "Ấp 9" parent=binh-son', ADMINS, False),
    "unit move": ("/unit move ap-2 parent=ap-1", ADMINS, False),
    "unit rename": ('/unit rename ap-1 "Ấp Một"', ADMINS, False),
    "unit list": ("/unit list", MEMBERS, False),
    "team add": ('/team add t9 "Tổ 9" unit=ap-2', ADMINS, False),
    "team list": ("/team list", MEMBERS, False),
    "team target": ("/team target t1 households 40", ADMINS, False),
    "team bind": ("/team bind t1", ADMINS, False),
    "team unbind": ("/team unbind", ADMINS, True),  # #hq is not bound: a plain error
    "team import": ("/team import", ADMINS, False),
    "invite": ("/invite t1", ADMINS, False),
    "role": ("/role shell:minh leader", ADMINS, False),
    "audit": ("/audit", ADMINS, False),
    "confirm": ("/confirm 00000000", EVERYONE, True),  # no such token: a plain error
    "cancel": ("/cancel 00000000", EVERYONE, True),
}


def test_every_command_is_in_the_matrix() -> None:
    assert {c.path for c in COMMANDS} == set(MATRIX)


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


@pytest.mark.parametrize("path", list(MATRIX))
@pytest.mark.parametrize("role", list(ROLES))
def test_access(hq: tuple[Chat, str], path: str, role: str) -> None:
    chat, invite = hq
    line, allowed, may_fail = MATRIX[path]
    attachment = CSV if path == "team import" else None
    reply = chat.say(ROLES[role], line.format(invite=invite), chat="#hq", attachment=attachment)
    if role in allowed:
        assert not reply.text.startswith("⛔"), f"{role} was refused {line}: {reply.text}"
        assert may_fail or not reply.is_error, f"{role}: {line}: {reply.text}"
    else:
        assert reply.is_error and reply.text.startswith("⛔"), f"{role} ran {line}: {reply.text}"
