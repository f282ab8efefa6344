"""Reporting through the command engine, asserting on what the user reads and what is stored."""

from __future__ import annotations

from datetime import date, timedelta

from sqlmodel import select

from handlers.values import Attachment
from storage import progress
from storage.db import Database
from storage.models import AuditEvent, Metric, Report, ReportValue
from tests.conftest import Chat


def metric_ids(db: Database) -> dict[str, int]:
    with db.session() as session:
        return {m.key: m.id for m in session.exec(select(Metric)).all()}  # type: ignore[misc]


def totals(db: Database) -> dict[str, float]:
    ids = metric_ids(db)
    with db.session() as session:
        campaign_totals = progress.campaign_totals(session, 1)
    return {key: campaign_totals.get(i, 0.0) for key, i in ids.items()}


def reports(db: Database) -> list[Report]:
    with db.session() as session:
        return list(session.exec(select(Report).order_by(Report.id)).all())


def test_report_in_vietnamese_shorthand_confirms_what_was_recorded(
    campaign: Chat, db: Database
) -> None:
    reply = campaign.ok("lan", '/report 12 hộ 250m 2tr5 note="ấp 1 họp tối"')
    assert "Report #1 recorded" in reply.text
    assert "Tổ 1 (t1)" in reply.text and "10 Mar 2025" in reply.text
    assert "12 households" in reply.text
    assert "250 m" in reply.text and "2,500,000 VND" in reply.text
    assert "12 / 500 households (2.4%)" in reply.text
    assert [b.command for b in reply.buttons] == ["/undo 1"]
    assert reply.text.startswith("✅ Report #1 recorded.")
    assert totals(db) == {"households": 12.0, "road_m": 250.0, "vnd": 2_500_000.0}
    (saved,) = reports(db)
    assert saved.note == "ấp 1 họp tối" and saved.report_date == date(2025, 3, 10)


def test_every_item_form_is_understood(campaign: Chat, db: Database) -> None:
    campaign.ok("lan", "/report households=3 road_m=1,2km tiền=1 tỷ 300 triệu", lang="vi")
    # 1,2 km = 1200 m is over road_m's max of 300: it waits for confirmation, nothing stored.
    assert totals(db) == {"households": 0.0, "road_m": 0.0, "vnd": 0.0}
    campaign.ok("lan", "/report ho 4 đường=0,25km 1,3 tỷ")
    assert totals(db) == {"households": 4.0, "road_m": 250.0, "vnd": 1_300_000_000.0}


def test_a_value_over_the_maximum_asks_first(campaign: Chat, db: Database) -> None:
    reply = campaign.ok("lan", "/report 1,2km")
    assert "unusually large" in reply.text and "1,200 m" in reply.text
    _confirm, cancel = reply.buttons
    assert reports(db) == []
    campaign.ok("lan", cancel.command)
    assert reports(db) == []
    reply = campaign.ok("lan", "/report 1,2km")
    done = campaign.ok("lan", reply.buttons[0].command)
    assert "Report #1 recorded" in done.text
    assert totals(db)["road_m"] == 1200.0
    # A token works once, and only for its author.
    assert campaign.error("lan", reply.buttons[0].command).text.startswith("⚠️")


def test_bad_input_names_the_token_and_stores_nothing(campaign: Chat, db: Database) -> None:
    cases = {
        "/report 12 gà": "gà",
        "/report -5 hộ": "-5",
        "/report 12 hộ date=mai": "date=mai",
        "/report 1e999 hộ": "1e999",
        "/report 12 hộ 3 hộ": "households",
        '/report 12 hộ note="open': "quotation mark",
        "/report 9999999999999999 hộ": "9999999999999999",
    }
    for line, token in cases.items():
        reply = campaign.error("lan", line)
        assert token in reply.text, (line, reply.text)
        assert "Example:" in reply.text
    assert reports(db) == []


def test_dates_future_and_back_dating_window(campaign: Chat, db: Database) -> None:
    assert "future" in campaign.error("lan", "/report 1 hộ date=2025-03-11").text
    assert "too far back" in campaign.error("lan", "/report 1 hộ date=01/03").text
    campaign.ok("lan", "/report 1 hộ date=hôm qua")
    campaign.ok("lan", "/report 2 hộ hôm kia")
    campaign.ok("lan", "/report 3 hộ date=03/03/2025")
    assert [r.report_date.day for r in reports(db)] == [9, 8, 3]


def test_team_resolution(campaign: Chat, db: Database) -> None:
    campaign.ok("minh", "/report 2 hộ")
    assert reports(db)[-1].team_id == 2
    refused = campaign.error("lan", "/report 2 hộ team=t2")
    assert refused.text.startswith("⛔")
    # An admin with no team of their own names it, and is told the choices.
    assert "t1, t2" in campaign.error("an", "/report 2 hộ").text
    campaign.ok("an", "/report 2 hộ team=t1")
    assert reports(db)[-1].team_id == 1


def test_a_chat_bound_to_a_team_reports_for_it(campaign: Chat, db: Database) -> None:
    campaign.ok("root", "/campaign use road", chat="#t1")
    campaign.ok("root", "/team bind t1", chat="#t1")
    campaign.ok("lan", "/report 5 hộ", chat="#t1")
    assert reports(db)[-1].team_id == 1
    assert campaign.error("minh", "/report 5 hộ", chat="#t1").text.startswith("⛔")


def test_a_message_delivered_twice_is_recorded_once(campaign: Chat, db: Database) -> None:
    first = campaign.ok("lan", "/report 5 hộ", message_id="tg:1:77")
    again = campaign.ok("lan", "/report 5 hộ", message_id="tg:1:77")
    assert first.text == again.text
    assert len(reports(db)) == 1 and totals(db)["households"] == 5


def test_undo_asks_then_retracts_and_totals_follow(campaign: Chat, db: Database, clock) -> None:  # type: ignore[no-untyped-def]
    campaign.ok("lan", "/report 5 hộ 1tr")
    campaign.ok("lan", "/report 7 hộ")
    ask = campaign.ok("lan", "/undo")
    assert "Retract report #2" in ask.text
    yes, _no = ask.buttons
    assert yes.command == "/undo 2 yes"
    assert totals(db)["households"] == 12  # asking changes nothing
    done = campaign.ok("lan", yes.command)
    assert "Report #2 retracted" in done.text
    assert totals(db)["households"] == 5 and [r.status for r in reports(db)] == [
        "active",
        "retracted",
    ]
    assert "already retracted" in campaign.error("lan", "/undo 2 yes").text
    assert campaign.error("minh", "/undo 1 yes").text.startswith("⛔")  # not theirs
    clock.advance(timedelta(hours=25))
    assert "24 hours" in campaign.error("lan", "/undo 1 yes").text
    with db.session() as session:
        actions = [e.action for e in session.exec(select(AuditEvent)).all()]
    assert actions.count("report.retract") == 1


def test_editing_a_report_message_corrects_it(campaign: Chat, db: Database) -> None:
    campaign.ok("lan", "/report 5 hộ 2tr", message_id="tg:5:10")
    reply = campaign.ok("lan", "/report 6 hộ", message_id="tg:5:10:edit:1", edits="tg:5:10")
    assert "report #2 replaces #1" in reply.text
    reply = campaign.ok("lan", "/report 8 hộ", message_id="tg:5:10:edit:2", edits="tg:5:10")
    assert "report #3 replaces #2" in reply.text
    assert [(r.status, r.corrects_id) for r in reports(db)] == [
        ("retracted", None),
        ("retracted", 1),
        ("active", 2),
    ]
    assert totals(db) == {"households": 8.0, "road_m": 0.0, "vnd": 0.0}
    assert campaign.error("minh", "/report 1 hộ", message_id="x", edits="tg:5:10")


def test_a_photo_with_a_report_caption_is_evidence(campaign: Chat, db: Database) -> None:
    photo = Attachment("p.jpg", b"\xff\xd8jpeg", "image/jpeg", platform_ref="tg-file-1")
    reply = campaign.ok("lan", "/report 3 hộ", attachment=photo)
    assert "Photo kept" in reply.text
    assert reports(db)[0].photo_ref == "tg-file-1"


def test_report_without_items_returns_a_form(campaign: Chat) -> None:
    reply = campaign.ok("lan", "/report")
    assert reply.form is not None and reply.form.command == "report"
    assert [f.name for f in reply.form.fields] == ["households", "road_m", "vnd", "date", "note"]
    assert reply.form.fields[0].label == "Households reached"
    vi = campaign.ok("lan", "/report", lang="vi")
    assert vi.form is not None and vi.form.fields[0].label == "Hộ đã vận động"


def test_myreports_and_progress(campaign: Chat) -> None:
    campaign.ok("lan", "/report 12 hộ 2tr5")
    campaign.ok("minh", "/report 3 hộ date=hôm qua")
    mine = campaign.ok("lan", "/myreports").text
    assert "#1" in mine and "#2" not in mine
    text = campaign.ok("lan", "/progress").text
    assert "Households reached: today 12 households · total 15 / 500 households (3%)" in text
    assert "Teams reported today: 1/2" in text
    assert "Your team Tổ 1" in text
    by_unit = campaign.ok("hoa", "/progress households by=unit").text
    assert "Xã Bình Sơn: 15" in by_unit and "Xã Bình Sơn / Ấp 2: 3" in by_unit


def test_a_closed_campaign_takes_no_reports(campaign: Chat) -> None:
    campaign.ok("an", "/campaign close")
    assert campaign.error("lan", "/report 1 hộ").text.startswith("⛔")


def test_stored_values_are_per_metric_rows(campaign: Chat, db: Database) -> None:
    campaign.ok("lan", "/report 12 hộ 2tr5")
    with db.session() as session:
        rows = session.exec(select(ReportValue)).all()
    assert sorted(r.value for r in rows) == [12.0, 2_500_000.0]
