"""`tiendo demo`: a realistic campaign to look at. A village road in the spirit of the 810 m
Bình Sơn Đông road that residents paid for themselves: households contacted, metres built,
money raised and meetings held, across two communes, 30 teams and two months of history in
which some teams have fallen silent."""

from __future__ import annotations

import random
import re
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.app import App
from handlers.values import Ref, Request
from storage import queries, reports

CODE = "duong-bsd"
DAYS = 60
UNITS = (  # code, name, parent
    ("dong-nai", "Tỉnh Đồng Nai", None),
    ("binh-son", "Xã Bình Sơn", "dong-nai"),
    ("long-phuoc", "Xã Long Phước", "dong-nai"),
    ("ap-1", "Ấp 1", "binh-son"),
    ("ap-2", "Ấp 2", "binh-son"),
    ("ap-3", "Ấp 3", "binh-son"),
    ("ap-4", "Ấp 4", "binh-son"),
    ("ap-bsd", "Ấp Bình Sơn Đông", "binh-son"),
    ("ap-phuoc-hoa", "Ấp Phước Hòa", "long-phuoc"),
    ("ap-long-an", "Ấp Long An", "long-phuoc"),
)
VILLAGES = [u for u in UNITS if u[2] in ("binh-son", "long-phuoc")]
TEAMS_PER_VILLAGE = (5, 4, 4, 4, 5, 4, 4)  # 30 teams
NAMES = (
    "Nguyễn Văn An",
    "Trần Thị Bình",
    "Lê Văn Cường",
    "Phạm Thị Dung",
    "Hoàng Văn Em",
    "Huỳnh Thị Giang",
    "Võ Văn Hải",
    "Đặng Thị Hoa",
    "Bùi Văn Khánh",
    "Đỗ Thị Lan",
)
METRICS = (
    '/metric add households "Hộ đã vận động" unit=household target=1200 aliases=hộ,ho '
    'en="Households reached"',
    '/metric add road_m "Đường đã làm" unit=m target=810 max=200 aliases=đường,duong '
    'en="Road built"',
    '/metric add vnd "Tiền đóng góp" unit=VND target=2tỷ5 max=200tr aliases=tiền,tien '
    'en="Money raised"',
    '/metric add meetings "Buổi họp dân" unit=meeting target=150 aliases=họp,hop '
    'en="Residents\' meetings"',
)


def create_demo(app: App, *, seed: int = 7) -> str:
    """Create the demo campaign unless it exists; returns its code."""
    with app.db.session() as session:
        if queries.campaign_by_code(session, CODE) is not None:
            return CODE
    rng = random.Random(seed)
    tz = ZoneInfo("Asia/Ho_Chi_Minh")
    today = app.clock.now().astimezone(tz).date()
    start, deadline = today - timedelta(days=DAYS - 1), today + timedelta(days=40)

    def run(line: str, user: str = "admin", name: str = "admin") -> str:
        command, _, args = line.lstrip("/").partition(" ")
        me = Ref("shell", "", user)
        reply = app.engine.handle(Request(me, me, command, args, user_name=name, language="en"))
        if reply.is_error:
            raise RuntimeError(f"demo set-up failed at {line!r}: {reply.text}")
        return reply.text

    run(
        f'/campaign new {CODE} "Đường Bình Sơn Đông" start={start.isoformat()} '
        f"deadline={deadline.isoformat()}"
    )
    run("/campaign set restdays=sun")
    for line in METRICS:
        run(line)
    for code, name, parent in UNITS:
        run(f'/unit add {code} "{name}"' + (f" parent={parent}" if parent else ""))
    team_codes: list[str] = []
    for (village, village_name, _), count in zip(VILLAGES, TEAMS_PER_VILLAGE, strict=True):
        for n in range(1, count + 1):
            code = f"{village}-t{n}"
            run(f'/team add {code} "Tổ {n} {village_name}" unit={village}')
            run(f"/team target {code} households {rng.choice((30, 40, 50))}")
            # One reporter per team, joining with an invite code as a real one would.
            invite = run(f"/invite {code} uses=1")
            reporter = NAMES[len(team_codes) % len(NAMES)]
            join = re.search(r"/join \S+", invite)
            assert join is not None, invite
            run(join.group(), user=code, name=reporter)
            team_codes.append(code)
    _history(app, rng, team_codes, start, today, tz)
    return CODE


def _history(
    app: App, rng: random.Random, team_codes: list[str], start: date, today: date, tz: ZoneInfo
) -> None:
    with app.db.session() as session:
        campaign = queries.campaign_by_code(session, CODE)
        assert campaign is not None and campaign.id is not None
        metrics = {m.key: m.id for m in queries.metrics(session, campaign.id)}
        silent = set(rng.sample(team_codes, 4))  # these stop reporting a few days ago
        for code in team_codes:
            team = queries.team_by_code(session, campaign.id, code)
            reporter = queries.account_by_ref(session, Ref("shell", "", code))
            assert team is not None and team.id is not None
            assert reporter is not None and reporter.id is not None
            zeal = rng.uniform(0.5, 0.95)
            last_day = today - timedelta(days=rng.randint(3, 6)) if code in silent else today
            day = start
            while day <= last_day:
                if day.isoweekday() != 7 and rng.random() < zeal:
                    # Tuned so that two months in, the campaign is part-way to each target.
                    values = {metrics["households"]: float(rng.choice((0, 0, 1, 1, 2)))}
                    if rng.random() < 0.5:
                        values[metrics["vnd"]] = float(rng.randint(1, 12) * 500_000)
                    if rng.random() < 0.05:
                        values[metrics["road_m"]] = float(rng.randint(2, 12))
                    if rng.random() < 0.07:
                        values[metrics["meetings"]] = 1.0
                    created = datetime.combine(day, time(17, rng.randint(0, 59)), tz)
                    reports.record(
                        session,
                        campaign_id=campaign.id,
                        team_id=team.id,
                        reporter_id=reporter.id,
                        day=day,
                        values=values,
                        note=None,  # type: ignore[arg-type]
                        photo_ref=None,
                        source="shell",
                        source_chat="shell:demo",
                        source_message_id=None,
                        now=created,
                    )
                day += timedelta(days=1)
