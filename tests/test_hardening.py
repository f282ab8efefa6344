"""Input that used to hang the bot or end in an error id (issue #11): a unit tree with a cycle,
control characters and texts longer than their column, digits that are not 0–9. Each runs on
SQLite and PostgreSQL, which must answer the same."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlmodel import select

from handlers.values import Attachment, Ref, Request
from storage.db import Database
from storage.models import Account, Invite, Report, Team, Unit
from tests.conftest import Chat

APOLOGY = "something went wrong"


def csv(text: str) -> Attachment:
    return Attachment("teams.csv", text.encode(), "text/csv")


@pytest.mark.parametrize(
    ("rows", "chain"),
    [
        ("t7,Tổ 7,ua,Ấp A,ua\n", "ua → ua"),
        ("t7,Tổ 7,ua,Ấp A,ub\nt8,Tổ 8,ub,Ấp B,ua\n", "ua → ub → ua"),
        ("t7,Tổ 7,ua,Ấp A,ub\nt8,Tổ 8,ub,Ấp B,uc\nt9,Tổ 9,uc,Ấp C,ub\n", "ub → uc → ub"),
    ],
)
def test_an_import_that_would_make_a_cycle_names_it_and_imports_nothing(
    campaign: Chat, db: Database, rows: str, chain: str
) -> None:
    reply = campaign.error(
        "an", "/team import", attachment=csv("code,name,unit,unit_name,parent_unit\n" + rows)
    )
    assert f"units {chain}: each would be under the next" in reply.text
    with db.session() as session:
        assert len(session.exec(select(Unit)).all()) == 3  # the campaign's own


def test_a_unit_cannot_move_under_its_own_sub_unit(campaign: Chat) -> None:
    campaign.ok("an", '/unit add thon-a "Thôn A" parent=ap-1')
    text = campaign.error("an", "/unit move binh-son parent=thon-a").text
    assert "binh-son cannot go under thon-a: that is binh-son itself" in text
    assert "ap-1 cannot go under ap-1" in campaign.error("an", "/unit move ap-1 parent=ap-1").text


def test_a_cycle_in_a_database_edited_by_hand_hangs_nothing(campaign: Chat, db: Database) -> None:
    campaign.ok("lan", "/report 12 hộ")
    with db.session() as session:  # ap-1 ↔ binh-son, and ap-2 its own parent
        units = {u.code: u for u in session.exec(select(Unit)).all()}
        units["binh-son"].parent_id = units["ap-1"].id
        units["ap-2"].parent_id = units["ap-2"].id
        session.add_all(units.values())
    for line in (
        "/progress by=unit",
        "/progress households by=unit",
        "/digest now",
        "/unit list",
        "/team list",
        "/export csv",
        "/export xlsx",
    ):
        reply = campaign.ok("an", line)
        assert APOLOGY not in reply.text
    assert "ap-2" in campaign.ok("an", "/unit list").text  # shown, though no root reaches it
    assert "cannot go under" in campaign.error("an", "/unit move ap-1 parent=binh-son").text
    campaign.ok("an", "/unit move binh-son parent=none")  # the way out of the cycle
    assert "cannot go under" in campaign.error("an", "/unit move binh-son parent=ap-1").text


def test_control_characters_are_dropped_where_text_enters(campaign: Chat, db: Database) -> None:
    campaign.ok("lan", "/report 3 hộ note=nhà\x1b[31m ông\x00 Ba\x07 đồng ý")
    campaign.ok("an", "/team add t9 Tổ\x00 9\x1b unit=ap-2")
    with db.session() as session:
        assert session.exec(select(Report.note)).one() == "nhà[31m ông Ba đồng ý"
        assert session.exec(select(Team.name).where(Team.code == "t9")).one() == "Tổ 9"
    imported = "code,name\nt8,Tổ\x00 8\x1b\n"
    campaign.ok("an", "/team import", attachment=csv(imported))
    with db.session() as session:
        assert session.exec(select(Team.name).where(Team.code == "t8")).one() == "Tổ 8"


def test_a_text_longer_than_its_column_is_refused_alike_on_every_database(
    campaign: Chat, db: Database
) -> None:
    text = campaign.error("lan", "/report 3 hộ note=" + "x" * 1500).text
    assert "too long: the note has 1500 characters; at most 1000" in text
    text = campaign.error("an", "/team add t9 " + "T" * 300).text
    assert "too long: the name has 300 characters; at most 200" in text
    text = campaign.error("an", '/metric add m2 "M" unit=' + "u" * 40).text
    assert "too long: the unit has 40 characters; at most 32" in text
    long_row = f"code,name\nt8,{'N' * 250}\n"
    text = campaign.error("an", "/team import", attachment=csv(long_row)).text
    assert "line 2: the name has 250 characters; at most 200" in text
    campaign.ok("an", "/campaign set restdays=" + ",".join(["sun"] * 300))  # audit: shortened
    with db.session() as session:
        assert session.exec(select(Report)).all() == []
        assert {t.code for t in session.exec(select(Team)).all()} == {"t1", "t2"}


def test_names_a_platform_gives_are_cut_to_fit(campaign: Chat, db: Database) -> None:
    reply = campaign.engine.handle(
        Request(
            user=Ref("shell", "", "longname"),
            chat=Ref("shell", "", "#g"),
            command="me",
            user_name="Ng" * 200 + "\x00",
            chat_title="Nhóm " * 100,
            is_group=True,
        )
    )
    assert not reply.is_error
    with db.session() as session:
        account = session.exec(select(Account).where(Account.key == "shell:longname")).one()
        assert account.display_name == ("Ng" * 200)[:200]


@pytest.mark.parametrize(
    ("user", "line", "expected"),
    [
        ("lan", "/undo ²", "/undo takes a whole number from 1 to 2147483647, not “²”"),
        ("lan", "/undo #①", "/undo takes a whole number"),
        ("lan", "/undo 99999999999", "/undo takes a whole number"),
        ("lan", "/undo " + "9" * 1990, "/undo takes a whole number"),
        ("an", "/invite t1 uses=²", "uses= takes a whole number from 1 to 1000, not “²”"),
        ("an", "/invite t1 days=٣", "days= takes a whole number from 1 to 90"),
        ("an", "/campaign set backdate=①", "backdate= takes a whole number from 0 to 366"),
        ("an", "/audit ²", "/audit takes a whole number from 1 to 200"),
        ("an", "/digest here at=١٢:٠٠", "is not a time of day"),
    ],
)
def test_digits_other_than_0_to_9_are_an_error_not_an_error_id(
    campaign: Chat, user: str, line: str, expected: str
) -> None:
    text = campaign.error(user, line).text
    assert expected in text and APOLOGY not in text


def invite_code(reply_text: str) -> str:
    return reply_text.split()[2].rstrip(":")


def test_invite_codes_have_65_bits_and_read_aloud_in_groups(campaign: Chat, db: Database) -> None:
    shown = invite_code(campaign.ok("an", "/invite t1").text)
    assert len(shown) == 15 and shown[4] == shown[9] == "-"  # ABCD-EFGH-JKLMN
    typed = " ".join(shown.replace("-", "").lower()[i : i + 3] for i in range(0, 13, 3))
    assert "You report for team" in campaign.ok("newbie", f"/join {typed}").text
    with db.session() as session:
        assert shown.replace("-", "") in session.exec(select(Invite.code)).all()


def test_rejoining_with_my_own_code_does_not_use_it_up(campaign: Chat, db: Database) -> None:
    code = invite_code(campaign.ok("an", "/invite t1 uses=1").text)
    campaign.ok("newbie", f"/join {code}")
    assert "already in" in campaign.ok("newbie", f"/join {code}").text
    with db.session() as session:
        assert session.exec(select(Invite.uses).where(Invite.code == code.replace("-", ""))).one()
    assert "used up" in campaign.error("other", f"/join {code}").text


def test_wrong_codes_are_slowed_per_account_and_look_alike(campaign: Chat, clock: Any) -> None:
    other = invite_code(campaign.ok("an", "/invite t1 uses=1").text)
    campaign.ok("x", f"/join {other}")  # used up now
    expired = invite_code(campaign.ok("an", "/invite t2 days=1").text)
    clock.advance(timedelta(days=2))
    answers = {
        campaign.error("guess", f"/join {code}").text.replace(code, "…")
        for code in (other, expired, "ZZZZ-ZZZZ-ZZZZZ", "ABCD-EFGH-JKLMN", "nope")
    }
    assert len(answers) == 1  # unknown, used up and expired read the same
    good = invite_code(campaign.ok("an", "/invite t1").text)
    locked = campaign.error("guess", f"/join {good}").text
    assert locked.startswith("⛔") and "Try again in 10 minutes" in locked
    assert "You report for team" in campaign.ok("someone-else", f"/join {good}").text
    clock.advance(timedelta(minutes=11))
    assert "You report for team" in campaign.ok("guess", f"/join {good}").text
