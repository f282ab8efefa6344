"""/audit: the recent configuration changes, retractions and corrections of a campaign."""

from __future__ import annotations

from sqlmodel import col, select

from handlers.context import Ctx
from handlers.errors import N_, UserError
from handlers.values import Reply
from storage.models import Account, AuditEvent


def audit(ctx: Ctx) -> Reply:
    campaign = ctx.campaign()
    count = ctx.args.word(0) or "20"
    if not count.isdigit() or not 1 <= int(count) <= 200:
        raise UserError(N_("/audit takes a number of events from 1 to 200."), example="/audit 50")
    events = ctx.session.exec(
        select(AuditEvent, Account.key)
        .join(Account, col(Account.id) == AuditEvent.actor_id, isouter=True)
        .where(AuditEvent.campaign_id == campaign.id)
        .order_by(col(AuditEvent.id).desc())
        .limit(int(count))
    ).all()
    tr = ctx.tr
    if not events:
        return Reply(tr._("Nothing changed in {campaign} yet.", campaign=campaign.code))
    lines = [tr._("Latest changes in {campaign}:", campaign=campaign.code)]
    for event, actor in events:
        when = event.created_at.strftime("%Y-%m-%d %H:%M UTC")
        lines.append(f"#{event.id} {when} · {actor or '—'} · {event.action} {event.detail}")
    return Reply("\n".join(lines))
