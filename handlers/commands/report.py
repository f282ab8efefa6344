"""Reporters' commands: /report (items, guided form, photo, edit = correction, confirmation of
unusually large values), /fix (a correction by id, on every platform), /undo, /myreports, and
the /confirm and /cancel buttons."""

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
from handlers.language.report_lines import (
    MetricWords,
    ParsedReport,
    UnknownWord,
    example_line,
    parse_report,
)
from handlers.read import display
from handlers.values import Button, Form, FormField, Reply
from storage import progress, queries, reports
from storage.models import Campaign, Metric, PendingAction, Report, Team

# Reporters may undo or fix their own reports this long after sending them; admins any time.
UNDO_WINDOW = timedelta(hours=24)
FIX_EXAMPLE = "/fix 12 15 hộ"
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


def _open_campaign(ctx: Ctx) -> Campaign:
    campaign = ctx.campaign()
    if campaign.status != "active":
        raise Refused(
            N_("Campaign {campaign} is closed; it takes no more reports."), campaign=campaign.code
        )
    return campaign


def _report(
    ctx: Ctx, line: str, message_id: str | None, edits: str | None, *, confirmed: bool
) -> Reply:
    campaign = _open_campaign(ctx)
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
    parsed = _parse(ctx, campaign, metrics, words)
    if not parsed.values:
        raise UserError(N_("The report has no numbers."), example=example_line(metrics))
    day = parsed.day or today
    check_date(ctx, campaign, day)
    team = resolve_team(ctx, campaign, parsed.team)
    if not confirmed:
        unusual = _unusual(ctx, team, metrics, parsed)
        if unusual:
            return ask_to_confirm(ctx, "report", line, message_id, edits, unusual)
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


def _parse(
    ctx: Ctx, campaign: Campaign, metrics: Sequence[Metric], words: list[str]
) -> ParsedReport:
    try:
        return parse_report(words, metrics, ctx.today(campaign))
    except UnknownWord as error:
        raise _unknown_word(ctx, campaign, metrics, error) from None


def _unknown_word(
    ctx: Ctx, campaign: Campaign, metrics: Sequence[Metric], error: UnknownWord
) -> UserError:
    """A word that is no metric here, said with the campaign in use and its words, and, for
    someone in several campaigns, how to switch: `hộ` may be a word of their other campaign."""
    params = {"token": error.token, "campaign": campaign.code}
    choices, field = MetricWords(metrics).choices(), error.field
    others = [c for c in ctx.visible_campaigns() if c.id != campaign.id and c.status == "active"]
    home = next(
        (c for c in others if MetricWords(queries.metrics(ctx.session, c.id)).find(error.token)),  # type: ignore[arg-type]
        None,
    )
    if home is not None:
        return UserError(
            N_(
                "“{token}” is not a metric of campaign {campaign}, which this chat uses; it is "
                "one of campaign {other}: switch with /campaign use {other}. "
                "Metrics of {campaign}: {choices}."
            ),
            other=home.code,
            choices=choices,
            field=field,
            example=f"/campaign use {home.code}",
            **params,
        )
    if others:
        return UserError(
            N_(
                "“{token}” is not a metric of campaign {campaign}, which this chat uses. Its "
                "metrics: {choices}. For another of your campaigns ({others}): "
                "/campaign use <code>."
            ),
            others=", ".join(c.code for c in others),
            choices=choices,
            field=field,
            example=error.example,
            **params,
        )
    return UserError(
        N_("“{token}” is not a metric of campaign {campaign}. Its metrics: {choices}."),
        choices=choices,
        field=field,
        example=error.example,
        **params,
    )


def _example(ctx: Ctx, campaign: Campaign) -> str:
    return example_line(queries.metrics(ctx.session, campaign.id))  # type: ignore[arg-type]


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
            example=f"{_example(ctx, campaign)} team={teams[0].code if teams else 'to1'}",
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
        example=f"{_example(ctx, campaign)} team={mine[0].code}",
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


# --- /fix -----------------------------------------------------------------------------------
def fix(ctx: Ctx) -> Reply:
    return _fix(ctx, ctx.request.args, ctx.request.message_id, confirmed=False)


def _fix(ctx: Ctx, line: str, message_id: str | None, *, confirmed: bool) -> Reply:
    """`/fix <id> <items…> [date=] [team=] [note=]`: a correction of the report's current
    version, recorded as an edited /report message is. The values given replace the report's
    values of those metrics; the others, its date, team, note and photo stay unless given."""
    campaign = _open_campaign(ctx)
    if message_id is not None:
        existing = reports.by_source_message(ctx.session, message_id)
        if existing is not None:  # the same message delivered again: corrected once
            return confirmation(ctx, campaign, existing)
    assert campaign.id is not None
    metrics = queries.metrics(ctx.session, campaign.id)
    words = split_words(line)
    if not words:
        raise UserError(
            N_("Say which report to correct (its number, from /myreports) and what it says."),
            example=_fix_example(metrics, "42"),
        )
    current = _report_to_fix(ctx, campaign, words[0], _fix_example(metrics, "42"))
    assert current.id is not None
    parsed = _parse(ctx, campaign, metrics, words[1:])
    if not (parsed.values or parsed.day or parsed.team or parsed.note):
        raise UserError(
            N_("Say what report #{id} should say: numbers, date= or note=."),
            id=current.id,
            example=_fix_example(metrics, str(current.id)),
        )
    old_values = {m.id: v for m, v in reports.values_of(ctx.session, current.id)}
    values = {**old_values, **parsed.values}
    day = parsed.day or current.report_date
    if parsed.day is not None:
        check_date(ctx, campaign, day)
    team = (
        resolve_team(ctx, campaign, parsed.team)
        if parsed.team
        else ctx.session.get(Team, current.team_id)
    )
    assert team is not None and team.id is not None
    note = parsed.note if parsed.note is not None else current.note
    photo = _photo_ref(ctx) or current.photo_ref
    before = (old_values, current.report_date, current.team_id, current.note, current.photo_ref)
    if (values, day, team.id, note, photo) == before:
        raise UserError(
            N_("Report #{id} already says that; nothing was changed."),
            id=current.id,
            example="/myreports",
        )
    if not confirmed:
        unusual = _unusual(ctx, team, metrics, parsed)
        if unusual:
            return ask_to_confirm(ctx, "fix", line, message_id, None, unusual)
    saved = reports.record(
        ctx.session,
        campaign_id=campaign.id,
        team_id=team.id,
        reporter_id=current.reporter_id,  # an admin's fix leaves the report its reporter's
        day=day,
        values=values,  # type: ignore[arg-type]
        note=note,
        photo_ref=photo,
        source=ctx.request.user.platform,
        source_chat=ctx.chat.key,
        source_message_id=message_id,
        now=ctx.now(),
        corrects=current,
        corrected_by=ctx.account_id,
    )
    ctx.audit(campaign, "report.correct", report=current.id, correction=saved.id)
    return confirmation(ctx, campaign, saved)


def _fix_example(metrics: Sequence[Metric], report_id: str) -> str:
    if not metrics:
        return f"/fix {report_id} date=hôm qua"
    return example_line(metrics[:1], f"/fix {report_id}")


def _report_to_fix(ctx: Ctx, campaign: Campaign, word: str, example: str) -> Report:
    """The current version of report `word` (`12`, `#12`): the reporter's own within 24 hours
    of when it was first sent, or any of the campaign's for its admins."""
    report_id = numbers.whole_number(
        word.lstrip("#"), name="/fix", low=1, high=MAX_ID, example=example
    )
    target = ctx.session.get(Report, report_id)
    if target is None or target.campaign_id != campaign.id:
        raise UserError(N_("There is no report #{id} here."), id=report_id, example="/myreports")
    current = reports.latest_version(ctx.session, target)
    if ctx.role(campaign) != "admin":
        if current.reporter_id != ctx.account_id:
            raise Refused(
                N_("Report #{id} is not yours; only its reporter or an administrator can fix it."),
                id=target.id,
            )
        if reports.first_version(ctx.session, current).created_at < ctx.now() - UNDO_WINDOW:
            raise Refused(
                N_("Report #{id} is older than 24 hours; ask an administrator to fix it."),
                id=target.id,
            )
    if current.status != "active":
        raise UserError(
            N_("Report #{id} was retracted; send a new /report instead."), id=current.id
        )
    return current


def _changes(ctx: Ctx, saved: Report) -> str | None:
    """What a correction changed: `12 hộ → 15 hộ; date 10/03/2025 → 09/03/2025`."""
    assert saved.id is not None and saved.corrects_id is not None
    old = ctx.session.get(Report, saved.corrects_id)
    assert old is not None
    tr = ctx.tr
    before = {m.id: (m, v) for m, v in reports.values_of(ctx.session, saved.corrects_id)}
    after = {m.id: (m, v) for m, v in reports.values_of(ctx.session, saved.id)}
    changes = []
    for metric_id in dict.fromkeys([*before, *after]):
        metric = (before.get(metric_id) or after[metric_id])[0]
        was, now = before.get(metric_id, (None, None))[1], after.get(metric_id, (None, None))[1]
        if was != now:
            changes.append(
                " → ".join(
                    display.value(tr, metric, v) if v is not None else "—" for v in (was, now)
                )
            )
    if old.report_date != saved.report_date:
        changes.append(
            tr._(
                "date {old} → {new}",
                old=tr.date(old.report_date),
                new=tr.date(saved.report_date),
            )
        )
    if old.team_id != saved.team_id:
        teams = [ctx.session.get(Team, t) for t in (old.team_id, saved.team_id)]
        changes.append(
            tr._("team {old} → {new}", old=teams[0].code, new=teams[1].code)  # type: ignore[union-attr]
        )
    if old.note != saved.note:
        changes.append(tr._("note changed"))
    if old.photo_ref != saved.photo_ref:
        changes.append(tr._("new photo"))
    return "; ".join(changes) or None


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
    changes = _changes(ctx, saved) if saved.corrects_id else None
    lines = [
        heading,
        *([f"#{saved.corrects_id} → #{saved.id}: {changes}"] if changes else []),
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
    ctx: Ctx,
    command: str,
    line: str,
    message_id: str | None,
    edits: str | None,
    unusual: list[str],
) -> Reply:
    """Keep the command (`report` or `fix`) for /confirm to run again, confirmed."""
    token = secrets.token_hex(4)
    now = ctx.now()
    queries.prune_pending(ctx.session, now)
    ctx.session.add(
        PendingAction(
            token=token,
            account_id=ctx.account_id,
            chat_key=ctx.chat.key,
            command=json.dumps(
                {"command": command, "args": line, "message_id": message_id, "edits": edits}
            ),
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
    if saved.get("command") == "fix":
        return _fix(ctx, saved["args"], saved["message_id"], confirmed=True)
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
