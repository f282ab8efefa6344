"""/audit reads as lines a leader understands, in the reader's language: when in the campaign's
local time, who by display name (else the platform id), what in words with names beside codes.
The events themselves stay stored as they were written: action and JSON detail."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from sqlmodel import col, select

from handlers.clock import FixedClock
from handlers.values import Attachment
from storage.db import Database
from storage.models import Account, AuditEvent, Campaign, Chat
from tests.conftest import Chat as Talk

# Lines name teams, units and metrics as they are called now (the import below renames t1), as
# progress follows the current tree; what a command created reads with the name it was given.
ADMIN_COMMANDS = (
    '/metric add houses "Nhà xây mới" unit=house target=10 en="Houses built"',
    "/metric target households 600",
    "/metric remove houses",
    '/team add t3 "Tổ 3" unit=ap-1',
    "/team target t1 households 40",
    "/team target t1 households 45",
    "/invite t3",
    "/invite admin uses=1 days=1",
    "/role @hoa admin",
    "/role @hoa reporter team=t2",
    "/role revoke @minh",
    "/unit move ap-2 parent=none",
    '/unit rename ap-1 "Thôn Đông"',
    "/campaign set backdate=3 deadline=2025-07-31",
)

VIETNAMESE = [
    "an: thêm chỉ tiêu Nhà xây mới (houses), đơn vị tính nhà, mục tiêu 10 nhà",
    "an: đổi mục tiêu của Hộ đã vận động (households) từ 500 hộ thành 600 hộ",
    "an: bỏ chỉ tiêu Nhà xây mới (houses)",
    "an: thêm tổ Tổ 3 (t3) thuộc Thôn Đông (ap-1)",
    "an: đặt mục tiêu của Tổ Một (t1) cho Hộ đã vận động (households) là 40 hộ",
    "an: đổi mục tiêu của Tổ Một (t1) cho Hộ đã vận động (households) từ 40 hộ thành 45 hộ",
    "an: tạo mã mời cho tổ viên của Tổ 3 (t3) (dùng 50 lần, hiệu lực 7 ngày)",
    "an: tạo mã mời cho quản trị viên (dùng 1 lần, hiệu lực 1 ngày)",
    "an: đổi vai trò của shell:hoa từ lãnh đạo thành quản trị viên",
    "an: đổi vai trò của shell:hoa từ quản trị viên thành tổ viên của Tổ 2 (t2)",
    "an: gỡ Phạm Văn Minh khỏi chiến dịch (trước là tổ viên)",
    "an: chuyển đơn vị Ấp 2 (ap-2) từ Xã Bình Sơn (binh-son) sang cấp cao nhất",
    "an: đổi tên đơn vị ap-1 từ “Ấp 1” thành “Thôn Đông”",
    "an: đặt số ngày được báo lùi là 3; hạn chót là 2025-07-31",
    "an: cho mọi báo cáo trong Nhóm Tổ 1 tính cho Tổ Một (t1)",
    "an: bỏ gắn Nhóm Tổ 1 với tổ",
    "an: nhập tổ từ tệp teams.csv: 1 tổ mới, 1 tổ cập nhật, 0 đơn vị mới",
    "an: đăng ký bản tổng hợp hằng ngày cho shell:#lanh-dao lúc 17:00",
    "an: đổi giờ gửi bản tổng hợp hằng ngày ở shell:#lanh-dao thành 18:30",
    "an: tắt bản tổng hợp hằng ngày ở shell:#lanh-dao",
    "an: đặt giờ nhắc các tổ chưa báo cáo lúc 16:00",
    "an: tắt lời nhắc",
    "an: đóng chiến dịch",
]

ENGLISH = [
    "an: added the metric Houses built (houses), counted in houses, target 10 houses",
    "an: changed the target of Households reached (households) from 500 households"
    " to 600 households",
    "an: removed the metric Houses built (houses)",
    "an: added the team Tổ 3 (t3) in Thôn Đông (ap-1)",
    "an: set the target of Tổ Một (t1) for Households reached (households) to 40 households",
    "an: changed the target of Tổ Một (t1) for Households reached (households) from 40 households"
    " to 45 households",
    "an: created an invite code for reporter of Tổ 3 (t3) (50 uses, valid 7 days)",
    "an: created an invite code for admin (1 use, valid 1 day)",
    "an: changed the role of shell:hoa from leader to admin",
    "an: changed the role of shell:hoa from admin to reporter of Tổ 2 (t2)",
    "an: removed Phạm Văn Minh from the campaign (was reporter)",
    "an: moved the unit Ấp 2 (ap-2) from Xã Bình Sơn (binh-son) to the top level",
    "an: renamed the unit ap-1 from “Ấp 1” to “Thôn Đông”",
    "an: set back-dating days to 3; deadline to 2025-07-31",
    "an: made every report in Nhóm Tổ 1 count for Tổ Một (t1)",
    "an: unbound Nhóm Tổ 1 from its team",
    "an: imported teams from teams.csv: 1 new, 1 updated, 0 new units",
    "an: subscribed shell:#lanh-dao to the daily digest at 17:00",
    "an: moved the daily digest in shell:#lanh-dao to 18:30",
    "an: turned the daily digest off in shell:#lanh-dao",
    "an: set the reminder to teams that have not reported at 16:00",
    "an: turned the reminders off",
    "an: closed the campaign",
]


def audit_lines(talk: Talk, count: int, lang: str) -> list[str]:
    """The last `count` events, oldest first, each without its time."""
    header, *lines = talk.ok("an", f"/audit {count}", lang=lang).text.split("\n")
    assert header.endswith("(giờ Asia/Ho_Chi_Minh):" if lang == "vi" else "Asia/Ho_Chi_Minh):")
    assert all(
        line.startswith("• 10/03 10:00 · " if lang == "vi" else "• 10 Mar 10:00 · ")
        for line in lines
    )
    return [line.split(" · ", 1)[1] for line in reversed(lines)]


def test_every_configuration_change_reads_in_words(campaign: Talk, db: Database) -> None:
    for line in ADMIN_COMMANDS:
        campaign.ok("an", line)
    campaign.ok("an", "/team bind t1", chat="#to1")
    campaign.ok("an", "/team unbind", chat="#to1")
    teams = "code,name,unit\nt1,Tổ Một,ap-1\nt5,Tổ 5,ap-2\n"
    campaign.ok("an", "/team import", attachment=Attachment("teams.csv", teams.encode()))
    for line in ("/digest here at=17:00", "/digest time 18:30", "/digest off"):
        campaign.ok("an", line, chat="#lanh-dao")
    for line in ("/remind at=16:00", "/remind off", "/campaign close"):
        campaign.ok("an", line)
    with db.session() as session:
        # Names as the platforms give them: a titled group, a full name, and a user without one.
        session.exec(select(Chat).where(Chat.key == "shell:#to1")).one().title = "Nhóm Tổ 1"
        accounts = {a.key: a for a in session.exec(select(Account)).all()}
        accounts["shell:minh"].display_name = "Phạm Văn Minh"
        accounts["shell:hoa"].display_name = ""
        stored = session.exec(select(AuditEvent).order_by(col(AuditEvent.id))).all()
    assert audit_lines(campaign, len(VIETNAMESE), "vi") == VIETNAMESE
    assert audit_lines(campaign, len(ENGLISH), "en") == ENGLISH
    # What is stored is unchanged: the action and its detail as JSON, with keys and codes.
    role = next(e for e in stored if e.action == "role.revoke")
    assert json.loads(role.detail) == {"user": "shell:minh", "old": "reporter"}


def test_reports_show_local_time_and_the_reporters_name(
    campaign: Talk, clock: FixedClock, db: Database
) -> None:
    campaign.ok("lan", "/report 5 hộ", message_id="tg:7")
    clock.advance(timedelta(hours=15))  # 18:00 UTC is 01:00 the next day in Hà Nội
    campaign.ok("lan", "/report 6 hộ", message_id="tg:7:edit", edits="tg:7")
    campaign.ok("lan", "/undo 2 yes")
    with db.session() as session:
        session.exec(
            select(Account).where(Account.key == "shell:lan")
        ).one().display_name = "Trần Thị Lan"
    vi = campaign.ok("an", "/audit 2", lang="vi").text.split("\n")
    assert vi == [
        "Thay đổi gần đây trong road (giờ Asia/Ho_Chi_Minh):",
        "• 11/03 01:00 · Trần Thị Lan: rút lại báo cáo #2",
        "• 11/03 01:00 · Trần Thị Lan: đính chính báo cáo #1 bằng báo cáo #2",
    ]
    en = campaign.ok("an", "/audit 2", lang="en").text.split("\n")
    assert en[1:] == [
        "• 11 Mar 01:00 · Trần Thị Lan: retracted report #2",
        "• 11 Mar 01:00 · Trần Thị Lan: corrected report #1 with report #2",
    ]
    # The fixture's events read too: who created the campaign, and joined with which code.
    first = campaign.ok("an", "/audit 200", lang="vi").text.split("\n")
    assert first[-1] == "• 10/03 10:00 · root: tạo chiến dịch road “Đường Bình Sơn Đông”"
    assert any(
        line.startswith("• 10/03 10:00 · Trần Thị Lan: tham gia với vai trò tổ viên của Tổ 1 (t1)")
        for line in first
    )


def test_unknown_or_incomplete_events_still_read(campaign: Talk, db: Database) -> None:
    with db.session() as session:
        road = session.exec(select(Campaign)).one()
        moment = datetime(2025, 3, 10, 4, 5, tzinfo=UTC)
        for action, detail in (
            ("half-written", ""),
            ("export.run", '{"rows": 3, "kind": "xlsx", "range": null}'),
            ("report.retract", '{"old": 1}'),  # a detail without the key its words need
            ("team.bind", "not json"),
        ):
            session.add(
                AuditEvent(campaign_id=road.id, action=action, detail=detail, created_at=moment)
            )
    lines = campaign.ok("an", "/audit 4", lang="vi").text.split("\n")[1:]
    assert lines == [
        "• 10/03 11:05 · —: thao tác “team.bind”: detail not json",
        "• 10/03 11:05 · —: thao tác “report.retract”: old 1",
        "• 10/03 11:05 · —: thao tác “export.run”: rows 3, kind xlsx",
        "• 10/03 11:05 · —: thao tác “half-written”",
    ]
    assert campaign.ok("an", "/audit 1", lang="en").text.endswith(
        "—: did “team.bind”: detail not json"
    )


def test_audit_takes_a_count(campaign: Talk) -> None:
    assert "1 to 200" in campaign.error("an", "/audit 0").text
    assert "1 to 200" in campaign.error("an", "/audit lots").text
    assert campaign.ok("an", "/audit 3").text.count("\n•") == 3
