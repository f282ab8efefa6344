"""Administration arguments as admins type them (SPEC §3): unquoted names run to the next
`key=`, values may hold spaces, amounts and dates go through the report parsers, and what cannot
be read whole is an error, never a value cut short. Checked by what is stored."""

from __future__ import annotations

from datetime import date

import pytest
from sqlmodel import select

from handlers.language.args import Args
from storage.db import Database
from storage.models import Campaign, Metric, Team, TeamTarget, Unit
from tests.conftest import Chat


@pytest.mark.parametrize(
    ("text", "words", "options"),
    [
        (
            "to5 Tổ 5 thôn Đông Hòa unit=x1",
            ["to5", "Tổ", "5", "thôn", "Đông", "Hòa"],
            {"unit": "x1"},
        ),
        ("vnd unit=VND target=1,3 tỷ", ["vnd"], {"unit": "VND", "target": "1,3 tỷ"}),
        (
            "k L unit=công trình aliases=hộ,ho,hộ dân",
            ["k", "L"],
            {"unit": "công trình", "aliases": "hộ,ho,hộ dân"},
        ),
        ('k "Tổ 1" en="Team 1" x=', ["k", "Tổ 1"], {"en": "Team 1", "x": ""}),
        ("k “Tổ 1” unit=‘ấp 2’", ["k", "Tổ 1"], {"unit": "ấp 2"}),
        (
            "set restdays=cn, t7, 25/12 backdate=3",
            ["set"],
            {"restdays": "cn, t7, 25/12", "backdate": "3"},
        ),
        ("csv from=hôm qua to=hôm nay", ["csv"], {"from": "hôm qua", "to": "hôm nay"}),
        ("UNIT=a UNIT=b", [], {"unit": "b"}),
        ("tên\u00a0có\u202fkhoảng", ["tên", "có", "khoảng"], {}),
    ],
)
def test_args_model(text: str, words: list[str], options: dict[str, str]) -> None:
    args = Args.parse(text)
    assert (args.words, args.options) == (words, options)


def test_rest_is_a_name_over_several_words() -> None:
    args = Args.parse("to5 Tổ 5 thôn Đông Hòa unit=x1")
    assert args.rest(1) == "Tổ 5 thôn Đông Hòa" and args.rest(6) is None


def stored(db: Database, model, **where):  # type: ignore[no-untyped-def]
    with db.session() as session:
        query = select(model)
        for key, value in where.items():
            query = query.where(getattr(model, key) == value)
        return session.exec(query).one()


def test_names_run_to_the_next_option(campaign: Chat, db: Database) -> None:
    campaign.ok("an", "/unit add x1 Xã Bình Sơn")
    campaign.ok("an", "/team add to5 Tổ 5 thôn Đông Hòa unit=x1")
    team = stored(db, Team, code="to5")
    assert team.name == "Tổ 5 thôn Đông Hòa"
    assert team.unit_id == stored(db, Unit, code="x1").id
    assert stored(db, Unit, code="x1").name == "Xã Bình Sơn"
    campaign.ok("an", "/unit add x2 Thôn Đông Hòa mới parent=x1")
    assert stored(db, Unit, code="x2").name == "Thôn Đông Hòa mới"
    campaign.ok("an", "/unit rename x1 Xã Bình Sơn (sau sáp nhập)")
    assert stored(db, Unit, code="x1").name == "Xã Bình Sơn (sau sáp nhập)"
    campaign.ok("an", "/team add to6 “Tổ 6” unit=ap-2")  # curly quotes from a phone
    assert stored(db, Team, code="to6").name == "Tổ 6"
    campaign.ok("an", '/team add to7 "Tổ 7 Ấp 1"')
    assert stored(db, Team, code="to7").name == "Tổ 7 Ấp 1"


def test_a_value_is_never_cut_short(campaign: Chat, db: Database) -> None:
    # `unit=ap-1 cũ` is a unit code with a word too many, not `ap-1`.
    reply = campaign.error("an", "/team add to8 Tổ 8 unit=ap-1 cũ")
    assert "ap-1 cũ" in reply.text
    assert "thousands separators" in campaign.error("an", "/metric target vnd 1,3,5 tỷ").text
    assert "“1,3 tỷ đô”" in campaign.error("an", "/metric target vnd 1,3 tỷ đô").text
    assert "is money" in campaign.error("an", "/metric target households 3tr").text
    assert "whole numbers" in campaign.error("an", "/metric target households 1,5").text
    assert "is a length" in campaign.error("an", "/metric target vnd 350m").text
    assert "Something is missing" in campaign.error("an", "/team add to9").text
    with db.session() as session:
        assert session.exec(select(Team).where(Team.code.in_(["to8", "to9"]))).all() == []  # type: ignore[attr-defined]


def test_metric_settings_read_as_reports_do(campaign: Chat, db: Database) -> None:
    campaign.ok("an", "/metric target vnd 1,3 tỷ")
    assert stored(db, Metric, key="vnd").target == 1_300_000_000
    campaign.ok("an", "/metric target vnd 1 tỷ 300 triệu")
    assert stored(db, Metric, key="vnd").target == 1_300_000_000
    campaign.ok("an", "/metric target vnd 2 tỷ rưỡi")
    assert stored(db, Metric, key="vnd").target == 2_500_000_000
    campaign.ok("an", "/metric target road_m 1,2km")
    assert stored(db, Metric, key="road_m").target == 1200
    campaign.ok("an", "/metric target households 1.500")
    assert stored(db, Metric, key="households").target == 1500
    campaign.ok("an", "/team target t1 vnd 500 triệu")
    vnd = stored(db, Metric, key="vnd")
    assert stored(db, TeamTarget, metric_id=vnd.id).target == 500_000_000
    # A counted unit takes no money shorthand, even as a target.
    reply = campaign.error("an", "/metric add works Công trình unit=công trình target=1 tỷ 3")
    assert "“1 tỷ 3” is money, but works is not counted in đồng." in reply.text


def test_metric_add_with_spaces_and_decimals(campaign: Chat, db: Database) -> None:
    campaign.ok(
        "an",
        "/metric add donations Tiền ủng hộ unit=VND target=1,3 tỷ max=50tr "
        'aliases=ủng hộ,"quyên góp" en=Donations received',
    )
    donations = stored(db, Metric, key="donations")
    assert (donations.label_vi, donations.label_en) == ("Tiền ủng hộ", "Donations received")
    assert (donations.target, donations.max_per_report) == (1_300_000_000, 50_000_000)
    assert donations.aliases == ["ủng hộ", "quyên góp"] and not donations.decimals
    campaign.ok("an", "/metric add works Công trình unit=công trình aliases=ct,công trình")
    works = stored(db, Metric, key="works")
    assert (works.unit, works.aliases, works.label_vi) == (
        "công trình",
        ["ct", "công trình"],
        "Công trình",
    )
    campaign.ok("an", "/metric add area Diện tích unit=ha decimals=yes aliases=hecta")
    assert stored(db, Metric, key="area").decimals
    campaign.ok("lan", "/report 1,5 hecta 2 công trình")
    assert "whole numbers" in campaign.error("lan", "/report 1,5 ct").text
    assert "decimals allowed" in campaign.ok("an", "/metric list").text
    assert "yes or no" in campaign.error("an", "/metric add x X unit=ha decimals=maybe").text
    assert "is money" in campaign.error("an", "/metric add y Y unit=meeting target=3tr").text
    for bad in ("hôm qua", "2 hộ", "tr", "ghi chú", "hộ,"):
        reply = campaign.error("an", f'/metric add z Z unit=house aliases="{bad}"')
        assert "cannot be an alias" in reply.text or "already a word" in reply.text, bad


def test_metric_add_in_vietnamese(campaign: Chat) -> None:
    reply = campaign.error("an", "/metric add x X unit=ha decimals=có lẽ", lang="vi")
    assert "decimals= nhận yes (có) hoặc no (không), không phải “có lẽ”." in reply.text
    campaign.ok("an", "/metric add x Diện tích unit=ha decimals=có", lang="vi")


def campaign_row(db: Database, code: str = "road") -> Campaign:
    return stored(db, Campaign, code=code)


@pytest.mark.parametrize(
    ("restdays", "weekdays", "days"),
    [
        ("sun,25/12", [7], ["2025-12-25"]),
        ("cn,t7,25/12,2/9", [6, 7], ["2025-09-02", "2025-12-25"]),
        ("chủ nhật, thứ bảy", [6, 7], []),
        ("thứ 2,T3,Sunday", [1, 2, 7], []),
        ("thu hai, thứ tư, THỨ SÁU", [1, 3, 5], []),
        ("mon,tue,wed,thu,fri,sat", [1, 2, 3, 4, 5, 6], []),
        ("1/1", [], ["2026-01-01"]),  # the first 1 January from the campaign start
        ("1/3", [], ["2025-03-01"]),
        ("30/04/2025, 2025-05-01", [], ["2025-04-30", "2025-05-01"]),
        ("none", [], []),
    ],
)
def test_rest_days(
    campaign: Chat, db: Database, restdays: str, weekdays: list[int], days: list[str]
) -> None:
    campaign.ok("an", f"/campaign set restdays={restdays}")
    road = campaign_row(db)
    assert (road.rest_weekdays, road.rest_dates) == (weekdays, days)


def test_the_reply_says_how_a_yearless_date_was_read(campaign: Chat) -> None:
    reply = campaign.ok("an", "/campaign set restdays=cn,25/12 deadline=30/6")
    assert (
        "Dates without a year were read as: 30/6 → 30 Jun 2025, 25/12 → 25 Dec 2025." in reply.text
    )
    vi = campaign.ok("an", "/campaign set restdays=2/9", lang="vi")
    assert "Ngày không ghi năm được hiểu là: 2/9 → 02/09/2025." in vi.text
    assert "Dates without a year" not in campaign.ok("an", "/campaign set restdays=sun").text


@pytest.mark.parametrize("bad", ["funday", "thứ tám", "31/02", "25/12 2025"])
def test_unreadable_rest_days_are_refused(campaign: Chat, db: Database, bad: str) -> None:
    reply = campaign.error("an", f"/campaign set restdays=cn,{bad}")
    assert f"“{bad}”" in reply.text and "Example:" in reply.text
    assert campaign_row(db).rest_weekdays == []


def test_deadline_start_and_name(campaign: Chat, db: Database) -> None:
    campaign.ok("an", "/campaign set deadline=31/12")
    assert campaign_row(db).deadline == date(2025, 12, 31)
    campaign.ok("an", "/campaign set deadline=1/3")  # the next 1 March
    assert campaign_row(db).deadline == date(2026, 3, 1)
    campaign.ok("an", "/campaign set name=Đường Bình Sơn Đông giai đoạn 2 backdate=5")
    road = campaign_row(db)
    assert (road.name, road.backdate_days) == ("Đường Bình Sơn Đông giai đoạn 2", 5)
    campaign.ok("root", "/campaign new c2 Chiến dịch nhà tình nghĩa start=hôm qua deadline=30/6")
    c2 = campaign_row(db, "c2")
    assert (c2.name, c2.start_date, c2.deadline) == (
        "Chiến dịch nhà tình nghĩa",
        date(2025, 3, 9),
        date(2025, 6, 30),
    )
    campaign.ok("root", "/campaign new c3 C3 start=1/2", chat="@root3")  # this year's
    assert campaign_row(db, "c3").start_date == date(2025, 2, 1)
    assert "not a date" in campaign.error("an", "/campaign set deadline=cuối năm").text


def test_export_dates_read_whole(campaign: Chat) -> None:
    campaign.ok("lan", "/report 3 hộ date=hôm qua")
    reply = campaign.ok("hoa", "/export csv from=hôm qua to=hôm nay")
    assert reply.files and b"households" in reply.files[0].content
