"""/campaign: create, list, choose for this chat, inspect, change settings, close."""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from handlers.commands.common import code, no_extra, rest, word
from handlers.engine.context import Ctx
from handlers.errors import N_, Refused, UserError
from handlers.language import dates, numbers
from handlers.read import display
from handlers.values import Reply
from storage import queries
from storage.models import Campaign, Membership

NEW_EXAMPLE = "/campaign new duong-bsd Đường Bình Sơn Đông deadline=31/12/2025"
SET_EXAMPLE = "/campaign set deadline=31/12/2025 restdays=cn,t7,2/9 backdate=7"
RESTDAYS_EXAMPLE = "restdays=cn,t7,25/12,2/9"
# As /campaign set restdays= takes them back: sun in English, chủ nhật in Vietnamese.
WEEKDAY_NAMES = (N_("mon"), N_("tue"), N_("wed"), N_("thu"), N_("fri"), N_("sat"), N_("sun"))
# A typed date without a year and the date it was read as, for the reply to say so.
Readings = list[tuple[str, date]]


def timezone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise UserError(
            N_("“{token}” is not a time zone."), token=value, example="tz=Asia/Ho_Chi_Minh"
        ) from None
    return value


def new(ctx: Ctx) -> Reply:
    slug = code(ctx, 0, NEW_EXAMPLE)
    name = rest(ctx, 1, NEW_EXAMPLE)
    no_extra(ctx, {"start", "deadline", "tz"}, NEW_EXAMPLE)
    if queries.campaign_by_code(ctx.session, slug) is not None:
        raise UserError(
            N_("A campaign with code {code} already exists."), code=slug, example=NEW_EXAMPLE
        )
    tz = timezone(ctx.args.options.get("tz", ctx.settings.default_timezone))
    today = ctx.now().astimezone(ZoneInfo(tz)).date()
    readings: Readings = []
    start = today
    if "start" in ctx.args.options:  # a start without a year is this year's
        start = _read_date(ctx.args.options["start"], today, date(today.year, 1, 1), readings)
    deadline = _deadline(ctx.args.options.get("deadline"), start, today, readings)
    campaign = Campaign(
        code=slug, name=name, start_date=start, deadline=deadline, timezone=tz, created_at=ctx.now()
    )
    ctx.session.add(campaign)
    ctx.session.flush()
    ctx.session.add(Membership(account_id=ctx.account_id, campaign_id=campaign.id, role="admin"))
    ctx.chat.campaign_id = campaign.id
    ctx.session.add(ctx.chat)
    ctx.audit(campaign, "campaign.new", code=slug, name=name)
    text = ctx.tr._(
        "Campaign {code} “{name}” created; you are its administrator and this chat uses it. "
        "Next: add metrics (/metric add), units and teams.",
        code=slug,
        name=name,
    )
    return Reply("\n".join([text, *_readings_note(ctx, readings)]))


def _read_date(value: str, today: date, after: date, readings: Readings) -> date:
    """A setting's date; one typed without a year is the first such date on or after `after`,
    and is noted in readings."""
    day = dates.parse_date(value, today, after=after)
    if dates.is_yearless(value):
        readings.append((value.strip(), day))
    return day


def _readings_note(ctx: Ctx, readings: Readings) -> list[str]:
    if not readings:
        return []
    listed = ", ".join(f"{typed} → {ctx.tr.date(day)}" for typed, day in readings)
    return [ctx.tr._("Dates without a year were read as: {dates}.", dates=listed)]


def _deadline(value: str | None, start: date, today: date, readings: Readings) -> date | None:
    if value is None or value.lower() in ("none", "-", "khong", "không"):
        return None
    # A deadline lies ahead: 31/12 is the next 31 December.
    deadline = _read_date(value, today, today, readings)
    if deadline < start:
        raise UserError(
            N_("The deadline {deadline} is before the start {start}."),
            deadline=deadline.isoformat(),
            start=start.isoformat(),
            example="deadline=2025-12-31",
        )
    return deadline


def list_(ctx: Ctx) -> Reply:
    tr = ctx.tr
    campaigns = ctx.visible_campaigns()
    if not campaigns:
        return Reply(tr._("You are not in any campaign yet."))
    lines = [tr._("Campaigns:")]
    for campaign in campaigns:
        role = ctx.role(campaign)
        marks = [ctx.role_name(role) if role else ""]
        if campaign.status != "active":
            marks.append(tr._("closed"))
        if campaign.id == ctx.chat.campaign_id:
            marks.append(tr._("used in this chat"))
        lines.append(f"• {campaign.code} — {campaign.name} ({', '.join(m for m in marks if m)})")
    return Reply("\n".join(lines))


def use(ctx: Ctx) -> Reply:
    """This chat's active campaign (SPEC §3): in a private chat any member of it may choose it;
    in a group only its admins, or the admins of the campaign the group uses now. A campaign
    the user is not in reads as one that does not exist."""
    slug = word(ctx, 0, "/campaign use duong-bsd").lower()
    campaign = queries.campaign_by_code(ctx.session, slug)
    mine = ctx.visible_campaigns()
    if campaign is None or campaign not in mine:
        raise Refused(
            N_("You have no campaign {code}. Yours: {choices}."),
            code=slug,
            choices=", ".join(c.code for c in mine) or "—",
            example="/campaign list",
        )
    tr = ctx.tr
    if campaign.id == ctx.chat.campaign_id:
        return Reply(
            tr._(
                "This chat already uses campaign {code} “{name}”.",
                code=campaign.code,
                name=campaign.name,
            )
        )
    if ctx.chat.is_group:
        before = ctx.session.get(Campaign, ctx.chat.campaign_id) if ctx.chat.campaign_id else None
        if "admin" not in (ctx.role(campaign), ctx.role(before) if before else None):
            raise Refused(
                N_(
                    "In a group, only administrators of {campaign} or of the campaign the group "
                    "uses now can choose its campaign."
                ),
                campaign=campaign.code,
            )
    ctx.chat.campaign_id = campaign.id
    ctx.session.add(ctx.chat)
    return Reply(
        tr._("This chat now uses campaign {code} “{name}”.", code=campaign.code, name=campaign.name)
    )


def info(ctx: Ctx) -> Reply:
    campaign = ctx.campaign()
    assert campaign.id is not None
    tr = ctx.tr
    rest = [tr._(WEEKDAY_NAMES[n - 1]) for n in campaign.rest_weekdays] + [
        tr.date(date.fromisoformat(day)) for day in campaign.rest_dates
    ]
    lines = [
        f"{campaign.code} — {campaign.name}",
        tr._(
            "Status: {status}",
            status=tr._("active") if campaign.status == "active" else tr._("closed"),
        ),
        tr._(
            "Start: {start} · Deadline: {deadline}",
            start=tr.date(campaign.start_date),
            deadline=tr.date(campaign.deadline) if campaign.deadline else "—",
        ),
        tr._(
            "Time zone: {tz} · Rest days: {rest} · Back-dating: {days} days",
            tz=campaign.timezone,
            rest=", ".join(rest) or "—",
            days=campaign.backdate_days,
        ),
        tr._(
            "Metrics: {metrics} · Units: {units} · Teams: {teams}",
            metrics=", ".join(
                display.label(tr, m) for m in queries.metrics(ctx.session, campaign.id)
            )
            or "—",
            units=len(queries.units(ctx.session, campaign.id)),
            teams=len(queries.teams(ctx.session, campaign.id)),
        ),
    ]
    return Reply("\n".join(lines))


def set_(ctx: Ctx) -> Reply:
    campaign = ctx.campaign()
    options = ctx.args.options
    no_extra(ctx, {"deadline", "tz", "restdays", "backdate", "name"}, SET_EXAMPLE)
    if not options:
        raise UserError(N_("Say what to change."), example=SET_EXAMPLE)
    today = ctx.today(campaign)
    readings: Readings = []
    if "deadline" in options:
        campaign.deadline = _deadline(options["deadline"], campaign.start_date, today, readings)
    if "tz" in options:
        campaign.timezone = timezone(options["tz"])
    if "name" in options:
        campaign.name = options["name"]
    if "restdays" in options:
        campaign.rest_weekdays, campaign.rest_dates = _rest_days(
            options["restdays"], campaign.start_date, today, readings
        )
    if "backdate" in options:
        campaign.backdate_days = numbers.whole_number(
            options["backdate"], name="backdate=", low=0, high=366, example="backdate=7"
        )
    ctx.session.add(campaign)
    ctx.audit(campaign, "campaign.set", **options)
    reply = info(ctx)
    return Reply("\n".join([reply.text, *_readings_note(ctx, readings)]))


def _rest_days(
    value: str, start: date, today: date, readings: Readings
) -> tuple[list[int], list[str]]:
    """Weekdays (`cn`, `thứ 7`, `sun`) and dates; a date without a year is the first such date
    from the campaign's start, so `1/1` typed in March is the coming New Year."""
    weekdays: set[int] = set()
    days: set[str] = set()
    for item in filter(None, (" ".join(part.split()) for part in value.split(","))):
        if item.lower() in ("none", "-"):
            continue
        weekday = dates.parse_weekday(item)
        if weekday is not None:
            weekdays.add(weekday)
            continue
        taken = dates.take_date(item.split(), 0, today, after=start)
        if taken is None or taken[1] != len(item.split()):
            raise UserError(
                N_("“{token}” is not a weekday or a date I understand."),
                token=item,
                example=RESTDAYS_EXAMPLE,
            )
        if dates.is_yearless(item):
            readings.append((item, taken[0]))
        days.add(taken[0].isoformat())
    return sorted(weekdays), sorted(days)


def close(ctx: Ctx) -> Reply:
    campaign = ctx.campaign()
    if campaign.status == "closed":
        raise UserError(N_("Campaign {code} is already closed."), code=campaign.code)
    campaign.status = "closed"
    ctx.session.add(campaign)
    ctx.audit(campaign, "campaign.close")
    return Reply(
        ctx.tr._("Campaign {code} is closed: no more reports are taken.", code=campaign.code)
    )
