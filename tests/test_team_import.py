"""`/team import` at city scale: one file holds a unit tree of any depth, rows in any order, up
to 50,000 rows; a loop in the tree or a unit given two parents is an error and nothing is
imported."""

from __future__ import annotations

from sqlmodel import select

from handlers.values import Attachment, Reply
from storage import queries
from storage.db import Database
from storage.models import Team, TeamTarget, Unit
from tests.conftest import Chat


def imported(chat: Chat, text: str, *, ok: bool = True) -> Reply:
    attachment = Attachment("teams.csv", text.encode("utf-8"), "text/csv")
    say = chat.ok if ok else chat.error
    return say("an", "/team import", attachment=attachment)


def test_a_tree_of_any_depth_in_any_order(campaign: Chat, db: Database) -> None:
    # Children before their parents; a unit-only row has no team code.
    rows = ["code,name,unit,unit_name,parent_unit,target:households"]
    rows += [f"to{i},Tổ {i},th{i % 40},,,{10 + i % 3}" for i in range(400)]
    rows += [f",,th{v},Thôn {v},x{v % 4}," for v in range(40)]
    rows += [f",,x{c},Xã {c},q{c % 2}," for c in range(4)]
    rows += [f",,q{d},Quận {d},hn," for d in range(2)]
    rows += [",,hn,Hà Nội,binh-son,"]  # under a unit that already exists: five levels
    reply = imported(campaign, "\n".join(rows) + "\n")
    assert "400 teams created, 0 updated, 47 units created" in reply.text
    with db.session() as session:
        units = {u.code: u for u in session.exec(select(Unit)).all()}
        paths = queries.unit_paths(session, 1)
        team = session.exec(select(Team).where(Team.code == "to7")).one()
        targets = session.exec(select(TeamTarget)).all()
    assert len(units) == 3 + 40 + 4 + 2 + 1
    assert units["th7"].parent_id == units["x3"].id and units["x3"].parent_id == units["q1"].id
    assert paths[units["th7"].id] == "Xã Bình Sơn / Hà Nội / Quận 1 / Xã 3 / Thôn 7"
    assert team.unit_id == units["th7"].id
    assert len(targets) == 400 and {t.target for t in targets} == {10, 11, 12}
    # Again: every team is updated, nothing is created twice.
    again = imported(campaign, "\n".join(rows) + "\n").text
    assert "0 teams created, 400 updated, 0 units created" in again
    with db.session() as session:
        assert len(session.exec(select(Team)).all()) == 402
        assert len(session.exec(select(TeamTarget)).all()) == 400


def test_a_loop_or_two_parents_imports_nothing(campaign: Chat, db: Database) -> None:
    looped = "code,name,unit,unit_name,parent_unit\n,,a,A,b\n,,b,B,c\n,,c,C,a\nt9,Tổ 9,a,,\n"
    reply = imported(campaign, looped, ok=False)
    assert "round in a circle" in reply.text and "nothing was imported" in reply.text
    twice = "code,name,unit,unit_name,parent_unit\n,,a,A,ap-1\nt9,Tổ 9,a,A,ap-2\n"
    assert "two parents" in imported(campaign, twice, ok=False).text
    with db.session() as session:
        assert session.exec(select(Unit).where(Unit.code == "a")).first() is None


def test_a_file_holds_up_to_fifty_thousand_rows(campaign: Chat) -> None:
    many = "code,name\n" + "".join(f"t{i},Tổ {i}\n" for i in range(50_001))
    assert "50001 rows; at most 50000" in imported(campaign, many, ok=False).text
