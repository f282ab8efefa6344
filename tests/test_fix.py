"""/fix <id> <items…>: a correction on every platform, stored as an edited /report is (a new
row that `corrects` the current version, totals moved, the old one retracted), audited, and
confirmed with what changed."""

from __future__ import annotations

from datetime import date, timedelta

from sqlmodel import select

from handlers.clock import FixedClock
from storage.db import Database
from storage.models import AuditEvent, Report
from tests.conftest import Chat
from tests.test_reporting import reports, totals


def test_fix_replaces_the_values_given_and_keeps_the_rest(campaign: Chat, db: Database) -> None:
    campaign.ok("lan", '/report 12 hộ 2tr5 note="ấp 1"')
    reply = campaign.ok("lan", "/fix 1 15 hộ")
    assert reply.text.startswith("✅ Correction recorded: report #2 replaces #1.")
    assert "#1 → #2: 12 households → 15 households" in reply.text
    assert "15 / 500 households" in reply.text  # the new running total
    assert [b.command for b in reply.buttons] == ["/undo 2"]
    assert totals(db) == {"households": 15.0, "road_m": 0.0, "vnd": 2_500_000.0}
    old, new = reports(db)
    assert (old.status, old.retracted_by_id) == ("retracted", new.reporter_id)
    assert (new.status, new.corrects_id, new.note, new.report_date) == (
        "active",
        1,
        "ấp 1",
        date(2025, 3, 10),
    )
    with db.session() as session:
        (event,) = session.exec(select(AuditEvent).where(AuditEvent.action == "report.correct"))
    assert '"report": 1' in event.detail and '"correction": 2' in event.detail


def test_fix_of_a_corrected_report_corrects_its_current_version(
    campaign: Chat, db: Database
) -> None:
    campaign.ok("lan", "/report 5 hộ", message_id="tg:5:10")
    campaign.ok("lan", "/report 6 hộ", message_id="tg:5:10:edit:1", edits="tg:5:10")
    reply = campaign.ok("lan", "/fix #1 7 hộ date=hôm qua note=sửa")
    assert "#2 → #3: 6 households → 7 households; date 10 Mar 2025 → 9 Mar 2025" in reply.text
    assert "note changed" in reply.text
    assert [(r.status, r.corrects_id) for r in reports(db)] == [
        ("retracted", None),
        ("retracted", 1),
        ("active", 2),
    ]
    assert totals(db)["households"] == 7.0
    # The edited message of the Telegram path says what changed too.
    edit = campaign.ok("lan", "/report 5 hộ 1tr", message_id="tg:5:10:edit:2", edits="tg:5:10")
    assert "#3 → #4: 7 households → 5 households; — → 1,000,000 VND" in edit.text


def test_fix_in_vietnamese(campaign: Chat) -> None:
    campaign.ok("lan", "/report 12 hộ", lang="vi")
    reply = campaign.ok("lan", "/fix 1 15 hộ", lang="vi")
    assert "#1 → #2: 12 hộ → 15 hộ" in reply.text
    assert "Đã ghi bản sửa" in reply.text


def test_fix_errors_name_the_problem_and_store_nothing(
    campaign: Chat, db: Database, clock: FixedClock
) -> None:
    campaign.ok("lan", "/report 12 hộ")
    campaign.ok("minh", "/report 3 hộ")
    cases = {
        "/fix": "Say which report",
        "/fix abc 15 hộ": "whole number from 1 to 2147483647, not “abc”",
        "/fix 99 15 hộ": "no report #99",
        "/fix 1": "Say what report #1 should say",
        "/fix 1 12 hộ": "already says that",
        "/fix 1 15 gà": "“gà” is not a metric of campaign road",
        "/fix 1 15 hộ date=2025-03-11": "future",
    }
    for line, expected in cases.items():
        reply = campaign.error("lan", line)
        assert expected in reply.text, (line, reply.text)
        assert "Example: " in reply.text, reply.text
    assert "Example: /fix 1 12 hộ" in campaign.error("lan", "/fix 1").text
    not_mine = campaign.error("lan", "/fix 2 5 hộ")
    assert not_mine.text.startswith("⛔") and "not yours" in not_mine.text
    campaign.ok("lan", "/undo 1 yes")
    assert "was retracted" in campaign.error("lan", "/fix 1 15 hộ").text
    campaign.ok("minh", "/report 4 hộ")
    clock.advance(timedelta(hours=25))
    too_old = campaign.error("minh", "/fix 2 5 hộ")
    assert too_old.text.startswith("⛔") and "older than 24 hours" in too_old.text
    assert [r.status for r in reports(db)] == ["retracted", "active", "active"]
    assert totals(db)["households"] == 7.0


def test_admins_fix_any_report_of_their_campaign_at_any_time(
    campaign: Chat, db: Database, clock: FixedClock
) -> None:
    campaign.ok("lan", "/report 12 hộ")
    clock.advance(timedelta(days=3))
    reply = campaign.ok("an", "/fix 1 10 hộ team=t2")
    assert "team t1 → t2" in reply.text
    old, new = reports(db)
    with db.session() as session:
        admin = session.exec(select(Report.retracted_by_id).where(Report.id == 1)).one()
    # Still lan's report (the team's numbers), retracted in the admin's name, for t2 now.
    assert new.reporter_id == old.reporter_id and admin != old.reporter_id
    assert new.team_id == 2 and totals(db)["households"] == 10.0
    assert campaign.error("hoa", "/fix 2 11 hộ").text.startswith("⛔")  # a leader may not


def test_a_fix_delivered_twice_is_recorded_once(campaign: Chat, db: Database) -> None:
    campaign.ok("lan", "/report 12 hộ")
    first = campaign.ok("lan", "/fix 1 15 hộ", message_id="tg:1:80")
    again = campaign.ok("lan", "/fix 1 15 hộ", message_id="tg:1:80")
    assert first.text == again.text and len(reports(db)) == 2


def test_an_unusually_large_fix_asks_first(campaign: Chat, db: Database) -> None:
    campaign.ok("lan", "/report 100m")
    reply = campaign.ok("lan", "/fix 1 1,2km")
    assert "unusually large" in reply.text and len(reports(db)) == 1
    done = campaign.ok("lan", reply.buttons[0].command)
    assert "#1 → #2: 100 m → 1,200 m" in done.text
    assert totals(db)["road_m"] == 1200.0


def test_fix_is_in_help_and_on_every_platform(campaign: Chat) -> None:
    assert "/fix — Correct one of my reports" in campaign.ok("lan", "/help").text
    detail = campaign.ok("lan", "/help fix").text
    assert "/fix <report-id> <item>…" in detail and "Example: /fix 12 15 hộ" in detail
