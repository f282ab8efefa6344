"""Reporters' commands: /report (items, guided form, photo, edit = correction, confirmation of
unusually large values), /undo, /myreports, and the /confirm and /cancel buttons."""

from __future__ import annotations

import json
import secrets
import statistics
from collections.abc import Sequence
from datetime import timedelta

from handlers.commands.common import find_team
from handlers.engine.context import Ctx
from handlers.errors import N_, Refused, UserError
from handlers.language import numbers
from handlers.language.args import split_words
from handlers.language.report_lines import EXAMPLE, ParsedReport, parse_report
from handlers.read import display
from handlers.values import Button, Form, FormField, Reply
from storage import progress, queries, reports
from storage.models import Campaign, Metric, PendingAction, Report, Team

UNDO_WINDOW = timedelta(hours=24)
MAX_ID = 2**31 - 1  # PostgreSQL's integer: a larger id is an error there, not a miss
CONFIRM_WINDOW = timedelta(hours=1)
QUICK_VALUES = ("1", "2", "5", "10")
# A value over this many times the team's median asks first, once the team has USUAL_MIN of
# its last USUAL_REPORTS reports (SPEC §3).
USUAL_FACTOR = 10
USUAL_REPORTS = 30
USUAL_MIN = 5


# --- /report -------------------------------------------------------------------------------
def report(ctx: Ctx) -> Reply:
    return _report(
        ctx, ctx.request.args, ctx.request.message_id, ctx.request.edits_message_id, confirmed=False
    )


def _report(
    ctx: Ctx, line: str, message_id: str | None, edits: str | None, *, confirmed: bool
) -> Reply:
    campaign = ctx.campaign()
    if campaign.status != "active":
        raise Refused(
            N_("Campaign {campaign} is closed; it takes no more reports."), campaign=campaign.code
        )
    if message_id is not None:
        existing = reports.by_source_message(ctx.session, message_id)
        if existing is not None:  # the same message delivered again: recorded once
            return confirmation(ctx, campaign, existing)
    words = split_words(line)
    if not words and edits is None:
        return Reply(ctx.tr._("Let's fill in today's report."), form=report_form(ctx, campaign))
    assert campaign.id is not None
    metrics = queries.metrics(ctx.session, campaign.id)
    if not metrics:
        raise UserError(
            N_("Campaign {campaign} has no metrics yet; an administrator adds them."),
            campaign=campaign.code,
            example='/metric add households "Hộ" unit=household',
        )
    today = ctx.today(campaign)
    parsed = parse_report(words, metrics, today)
    if not parsed.values:
        raise UserError(N_("The report has no numbers."), example=EXAMPLE)
    day = parsed.day or today
    check_date(ctx, campaign, day)
    team = resolve_team(ctx, campaign, parsed.team)
    if not confirmed:
        unusual = _unusual(ctx, team, metrics, parsed)
        if unusual:
            return ask_to_confirm(ctx, line, message_id, edits, unusual)
    corrects = _report_to_correct(ctx, edits) if edits else None
    saved = reports.record(
        ctx.session,
        campaign_id=campaign.id,
        team_id=team.id,  # type: ignore[arg-type]
        reporter_id=ctx.account_id,
        day=day,
        values=parsed.values,
        note=parsed.note,
        photo_ref=_photo_ref(ctx),
        source=ctx.request.user.platform,
        source_chat=ctx.chat.key,
        source_message_id=message_id,
        now=ctx.now(),
        corrects=corrects,
    )
    if corrects is not None:
        ctx.audit(campaign, "report.correct", report=corrects.id, correction=saved.id)
    return confirmation(ctx, campaign, saved)


def _photo_ref(ctx: Ctx) -> str | None:
    attachment = ctx.request.attachment
    if attachment is None or not attachment.mime_type.startswith("image/"):
        return None
    return attachment.platform_ref or attachment.name


def check_date(ctx: Ctx, campaign: Campaign, day) -> None:  # type: ignore[no-untyped-def]
    today = ctx.today(campaign)
    if day > today:
        raise UserError(
            N_("{date} is in the future."),
            date=ctx.tr.date(day),
            field="date",
            example="date=hôm nay",
        )
    earliest = max(campaign.start_date, today - timedelta(days=campaign.backdate_days))
    if day < earliest:
        raise UserError(
            N_("{date} is too far back: reports can go back to {earliest}."),
            date=ctx.tr.date(day),
            earliest=ctx.tr.date(earliest),
            field="date",
            example="date=hôm qua",
        )


def resolve_team(ctx: Ctx, campaign: Campaign, code: str | None) -> Team:
    """team= if given (theirs, or any for an admin); else the team this chat is bound to; else
    the reporter's only team; else an error listing the choices."""
    assert campaign.id is not None
    mine = ctx.my_teams(campaign)
    is_admin = ctx.role(campaign) == "admin"
    if code is not None:
        team = find_team(ctx, campaign, code, field="team")
        if not is_admin and team.id not in {t.id for t in mine}:
            raise Refused(N_("You are not a member of team {team}."), team=team.code)
        return team
    if ctx.chat.team_id is not None:
        bound = ctx.session.get(Team, ctx.chat.team_id)
        if (
            bound is not None
            and bound.campaign_id == campaign.id
            and (is_admin or bound.id in {t.id for t in mine})
        ):
            return bound
        if bound is not None and bound.campaign_id == campaign.id:
            raise Refused(
                N_("This chat reports for team {team}, and you are not in it."), team=bound.code
            )
    if len(mine) == 1:
        return mine[0]
    if not mine and is_admin:
        teams = queries.teams(ctx.session, campaign.id)
        raise UserError(
            N_("Say which team this report is for with team= ({choices})."),
            choices=", ".join(t.code for t in teams) or "—",
            field="team",
            example="/report 12 hộ team=" + (teams[0].code if teams else "to1"),
        )
    if not mine:
        raise Refused(
            N_("You are not in any team of {campaign}; ask for a team invite."),
            campaign=campaign.code,
            example="/join ABCD-EFGH-JKLMN",
        )
    raise UserError(
        N_("You are in several teams ({choices}); say which with team=."),
        choices=", ".join(t.code for t in mine),
        field="team",
        example=f"/report 12 hộ team={mine[0].code}",
    )


def _report_to_correct(ctx: Ctx, edits: str) -> Report:
    """The newest version of the report an edited message produced."""
    original = reports.by_source_message(ctx.session, edits)
    if original is None or original.reporter_id != ctx.account_id:
        raise UserError(N_("That message did not record a report, so there is nothing to correct."))
    current = reports.latest_version(ctx.session, original)
    if current.status != "active":
        raise UserError(
            N_("Report #{id} was retracted; send a new /report instead."), id=current.id
        )
    return current


def confirmation(ctx: Ctx, campaign: Campaign, saved: Report) -> Reply:
    """Exactly what was recorded, with the team's and the campaign's new totals."""
    assert saved.id is not None and campaign.id is not None
    tr = ctx.tr
    team = ctx.session.get(Team, saved.team_id)
    assert team is not None
    heading = (
        tr._(
            "✅ Correction recorded: report #{id} replaces #{old}.",
            id=saved.id,
            old=saved.corrects_id,
        )
        if saved.corrects_id
        else tr._("✅ Report #{id} recorded.", id=saved.id)
    )
    lines = [
        heading,
        tr._(
            "Team: {team} · Date: {date}",
            team=display.team_name(team),
            date=tr.date(saved.report_date),
        ),
    ]
    values = reports.values_of(ctx.session, saved.id)
    campaign_totals = progress.campaign_totals(ctx.session, campaign.id)
    team_totals = progress.team_totals(ctx.session, [team.id])  # type: ignore[list-item]
    team_targets = progress.team_targets(ctx.session, [team.id])  # type: ignore[list-item]
    for metric, amount in values:
        lines.append(
            "• "
            + tr._(
                "{label}: {value} → team {team_total}, campaign {campaign_total}",
                label=display.label(tr, metric),
                value=display.value(tr, metric, amount),
                team_total=display.of_target(
                    tr,
                    metric,
                    team_totals.get((team.id, metric.id), 0.0),  # type: ignore[arg-type]
                    team_targets.get((team.id, metric.id)),
                ),  # type: ignore[arg-type]
                campaign_total=display.of_target(
                    tr, metric, campaign_totals.get(metric.id, 0.0), metric.target
                ),
            )  # type: ignore[arg-type]
        )
    if saved.note:
        lines.append(tr._("Note: {note}", note=saved.note))
    if saved.photo_ref:
        lines.append(tr._("📷 Photo kept as evidence."))
    if saved.status != "active":
        lines.append(tr._("(This report has since been retracted.)"))
    buttons = (Button(tr._("↩️ Undo"), f"/undo {saved.id}"),) if saved.status == "active" else ()
    return Reply("\n".join(lines), buttons=buttons)


def report_form(ctx: Ctx, campaign: Campaign) -> Form:
    assert campaign.id is not None
    tr = ctx.tr
    fields = [
        FormField(
            name=m.key,
            label=display.label(tr, m),
            kind="number",
            hint=tr._("in {unit}; leave empty if none", unit=display.unit_name(tr, m.unit)),
            suggestions=QUICK_VALUES,
        )
        for m in queries.metrics(ctx.session, campaign.id)
    ]
    fields.append(
        FormField(
            name="date",
            label=tr._("Date"),
            kind="date",
            hint=tr._("empty for today; or hôm qua, 01/03"),
            suggestions=("hôm nay", "hôm qua"),
        )
    )
    fields.append(FormField(name="note", label=tr._("Note"), kind="text", hint=tr._("optional")))
    return Form(
        title=tr._("Report for {campaign}", campaign=campaign.name),
        command="report",
        fields=tuple(fields),
        submit=tr._("Send"),
        cancel=tr._("Cancel"),
        skip=tr._("Skip"),
        cancelled=tr._("Cancelled; nothing was recorded."),
        expired=tr._("The form timed out; nothing was recorded."),
    )


# --- confirmation of large values -----------------------------------------------------------
def _unusual(ctx: Ctx, team: Team, metrics: Sequence[Metric], parsed: ParsedReport) -> list[str]:
    """Each value far outside what the team usually reports (over the metric's maximum, or
    over ten times the team's median), described with the usual range."""
    tr = ctx.tr
    found: list[str] = []
    for metric in metrics:
        value = parsed.values.get(metric.id)  # type: ignore[arg-type]
        if value is None:
            continue
        shown = display.value(tr, metric, value)
        if metric.max_per_report is not None and value > metric.max_per_report:
            found.append(
                tr._(
                    "{value} (usual maximum {max})",
                    value=shown,
                    max=display.value(tr, metric, metric.max_per_report),
                )
            )
            continue
        recent = reports.recent_values(ctx.session, team.id, metric.id, USUAL_REPORTS)  # type: ignore[arg-type]
        # A median of 0 says nothing about scale: any value would be "ten times" it.
        median = statistics.median(recent) if len(recent) >= USUAL_MIN else 0
        if median > 0 and value > USUAL_FACTOR * median:
            found.append(
                tr._(
                    "{value} (team {team} usually reports {low} to {high})",
                    value=shown,
                    team=team.code,
                    low=display.value(tr, metric, min(recent)),
                    high=display.value(tr, metric, max(recent)),
                )
            )
    return found


def ask_to_confirm(
    ctx: Ctx, line: str, message_id: str | None, edits: str | None, unusual: list[str]
) -> Reply:
    token = secrets.token_hex(4)
    now = ctx.now()
    queries.prune_pending(ctx.session, now)
    ctx.session.add(
        PendingAction(
            token=token,
            account_id=ctx.account_id,
            chat_key=ctx.chat.key,
            command=json.dumps({"args": line, "message_id": message_id, "edits": edits}),
            created_at=now,
            expires_at=now + CONFIRM_WINDOW,
        )
    )
    tr = ctx.tr
    listed = "; ".join(unusual)
    return Reply(
        tr._("These numbers are unusually large: {values}. Record them anyway?", values=listed),
        buttons=(
            Button(tr._("Yes, record"), f"/confirm {token}"),
            Button(tr._("No, cancel"), f"/cancel {token}"),
        ),
    )


def _pending(ctx: Ctx) -> PendingAction:
    token = ctx.args.word(0) or ""
    pending = ctx.session.get(PendingAction, token)
    # Only its author, in the chat it was asked in (where the team and campaign were resolved).
    if (
        pending is None
        or pending.account_id != ctx.account_id
        or pending.chat_key != ctx.chat.key
        or pending.expires_at < ctx.now()
    ):
        raise UserError(N_("Nothing is waiting for your confirmation (it may have expired)."))
    ctx.session.delete(pending)
    return pending


def confirm(ctx: Ctx) -> Reply:
    pending = _pending(ctx)
    saved = json.loads(pending.command)
    return _report(ctx, saved["args"], saved["message_id"], saved["edits"], confirmed=True)


def cancel(ctx: Ctx) -> Reply:
    _pending(ctx)
    return Reply(ctx.tr._("Cancelled; nothing was recorded."))


# --- /undo ----------------------------------------------------------------------------------
def undo(ctx: Ctx) -> Reply:
    """`/undo` asks about my last report, `/undo <id>` about that one, `/undo <id> yes` retracts."""
    campaign = ctx.campaign()
    tr = ctx.tr
    since = ctx.now() - UNDO_WINDOW
    word = ctx.args.word(0)
    if word is None:
        target = reports.last_active_by(ctx.session, ctx.account_id, campaign.id, since)  # type: ignore[arg-type]
        if target is None:
            raise UserError(
                N_("You have no report from the last 24 hours to undo."), example="/myreports"
            )
    else:
        report_id = numbers.whole_number(
            word.lstrip("#"), name="/undo", low=1, high=MAX_ID, example="/undo 42"
        )
        target = ctx.session.get(Report, report_id)
        if target is None or target.campaign_id != campaign.id:
            raise UserError(
                N_("There is no report #{id} here."), id=report_id, example="/myreports"
            )
        if target.reporter_id != ctx.account_id:
            raise Refused(
                N_("Report #{id} is not yours; only its reporter can undo it."), id=target.id
            )
        if target.status != "active":
            raise UserError(N_("Report #{id} is already retracted."), id=target.id)
        if target.created_at < since:
            raise Refused(
                N_("Report #{id} is older than 24 hours; ask an administrator."), id=target.id
            )
    summary = _summary(ctx, target)
    if (ctx.args.word(1) or "").lower() in ("yes", "co", "có", "ok"):
        reports.retract(ctx.session, target, ctx.account_id, ctx.now())
        ctx.audit(campaign, "report.retract", report=target.id)
        return Reply(tr._("↩️ Report #{id} retracted: {summary}.", id=target.id, summary=summary))
    return Reply(
        tr._("Retract report #{id} ({summary})?", id=target.id, summary=summary),
        buttons=(
            Button(tr._("Yes, retract"), f"/undo {target.id} yes"),
            Button(tr._("No, keep it"), "/myreports"),
        ),
    )


def _summary(ctx: Ctx, saved: Report) -> str:
    assert saved.id is not None
    values = ", ".join(
        display.value(ctx.tr, m, v) for m, v in reports.values_of(ctx.session, saved.id)
    )
    return f"{ctx.tr.date(saved.report_date)}: {values}"


# --- /myreports -----------------------------------------------------------------------------
def myreports(ctx: Ctx) -> Reply:
    campaign = ctx.campaign()
    recent = reports.recent_by(ctx.session, ctx.account_id, campaign.id)  # type: ignore[arg-type]
    tr = ctx.tr
    if not recent:
        return Reply(tr._("You have not reported in {campaign} yet.", campaign=campaign.code))
    teams = {t.id: t for t in queries.teams(ctx.session, campaign.id)}  # type: ignore[arg-type]
    lines = [tr._("Your latest reports in {campaign}:", campaign=campaign.code)]
    for saved in recent:
        status = "" if saved.status == "active" else " — " + tr._("retracted")
        lines.append(f"#{saved.id} · {teams[saved.team_id].code} · {_summary(ctx, saved)}{status}")
    return Reply("\n".join(lines))
