"""/digest now|here|off|time and /remind: the digest on demand, and where and when it and the
reminders go."""

from __future__ import annotations

import re
from datetime import time

from handlers.engine.context import Ctx
from handlers.errors import N_, UserError
from handlers.read.digest import build
from handlers.values import Reply
from storage import queries
from storage.models import Campaign, DigestSubscription, Reminder

DEFAULT_AT = time(18, 0)


CLOCK = re.compile(r"([0-9]{1,2})(?:[:h]([0-9]{2})?)?")  # ASCII: `\d` takes other scripts' digits


def parse_clock(value: str, example: str) -> time:
    """`18:00`, `18h`, `18h30`, `7:05`: a local time of day."""
    match = CLOCK.fullmatch(value.strip().lower())
    if match:
        hour, minute = int(match.group(1)), int(match.group(2) or 0)
        if hour < 24 and minute < 60:
            return time(hour, minute)
    raise UserError(
        N_("“{token}” is not a time of day; write it as HH:MM."), token=value, example=example
    )


def _subscription(ctx: Ctx, campaign: Campaign) -> DigestSubscription | None:
    return queries.digest_subscription(ctx.session, ctx.chat.id, campaign.id)  # type: ignore[arg-type]


def now(ctx: Ctx) -> Reply:
    campaign = ctx.campaign()
    return build(ctx.session, ctx.tr, campaign, ctx.today(campaign))


def here(ctx: Ctx) -> Reply:
    campaign = ctx.campaign()
    at = (
        parse_clock(ctx.args.options["at"], "/digest here at=18:00")
        if "at" in ctx.args.options
        else DEFAULT_AT
    )
    subscription = _subscription(ctx, campaign) or DigestSubscription(
        chat_id=ctx.chat.id, campaign_id=campaign.id, at=at, created_at=ctx.now()
    )  # type: ignore[arg-type]
    subscription.at, subscription.enabled, subscription.disabled_reason = at, True, None
    ctx.session.add(subscription)
    ctx.audit(campaign, "digest.here", chat=ctx.chat.key, at=at.strftime("%H:%M"))
    return Reply(
        ctx.tr._(
            "This chat will get the daily digest of {campaign} at {at} ({tz}).",
            campaign=campaign.code,
            at=at.strftime("%H:%M"),
            tz=campaign.timezone,
        )
    )


def off(ctx: Ctx) -> Reply:
    campaign = ctx.campaign()
    subscription = _subscription(ctx, campaign)
    if subscription is None or not subscription.enabled:
        raise UserError(N_("This chat does not get the digest."), example="/digest here at=18:00")
    subscription.enabled = False
    ctx.session.add(subscription)
    ctx.audit(campaign, "digest.off", chat=ctx.chat.key)
    return Reply(ctx.tr._("This chat will no longer get the daily digest."))


def set_time(ctx: Ctx) -> Reply:
    example = "/digest time 18:30"
    campaign = ctx.campaign()
    subscription = _subscription(ctx, campaign)
    if subscription is None or not subscription.enabled:
        raise UserError(N_("This chat does not get the digest."), example="/digest here at=18:00")
    subscription.at = parse_clock(ctx.args.word(0) or ctx.args.options.get("at", ""), example)
    ctx.session.add(subscription)
    ctx.audit(campaign, "digest.time", chat=ctx.chat.key, at=subscription.at.strftime("%H:%M"))
    return Reply(ctx.tr._("The digest now comes at {at}.", at=subscription.at.strftime("%H:%M")))


def remind(ctx: Ctx) -> Reply:
    example = "/remind at=17:00"
    campaign = ctx.campaign()
    reminder = ctx.session.get(Reminder, campaign.id)
    if (ctx.args.word(0) or "").lower() == "off":
        if reminder is None or not reminder.enabled:
            raise UserError(N_("There is no reminder to turn off."), example=example)
        reminder.enabled = False
        ctx.session.add(reminder)
        ctx.audit(campaign, "remind.off")
        return Reply(ctx.tr._("Reminders are off."))
    if "at" not in ctx.args.options:
        raise UserError(N_("Say when, with at=HH:MM, or off."), example=example)
    at = parse_clock(ctx.args.options["at"], example)
    reminder = reminder or Reminder(campaign_id=campaign.id, at=at)  # type: ignore[arg-type]
    reminder.at, reminder.enabled = at, True
    ctx.session.add(reminder)
    ctx.audit(campaign, "remind.at", at=at.strftime("%H:%M"))
    return Reply(
        ctx.tr._(
            "Teams that have not reported by {at} will get a reminder (not on rest days).",
            at=at.strftime("%H:%M"),
        )
    )
