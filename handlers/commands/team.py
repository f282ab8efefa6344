"""/team: teams, their per-metric targets, chats bound to a team, and CSV import."""

from __future__ import annotations

from handlers.commands.common import code, find_team, no_extra, rest, word
from handlers.commands.team_import import import_csv
from handlers.commands.unit import find as find_unit
from handlers.engine.context import Ctx
from handlers.errors import N_, UserError
from handlers.language.report_lines import read_value
from handlers.read import display
from handlers.values import Reply
from storage import progress, queries
from storage.models import Team, TeamTarget

ADD_EXAMPLE = "/team add to1 Tổ 1 Thôn Đông unit=thon-dong"


def add(ctx: Ctx) -> Reply:
    campaign = ctx.campaign()
    team_code = code(ctx, 0, ADD_EXAMPLE)
    name = rest(ctx, 1, ADD_EXAMPLE)
    no_extra(ctx, {"unit"}, ADD_EXAMPLE)
    if queries.team_by_code(ctx.session, campaign.id, team_code) is not None:  # type: ignore[arg-type]
        raise UserError(N_("Team {code} already exists."), code=team_code, example="/team list")
    unit = (
        find_unit(ctx, campaign, ctx.args.options["unit"].lower())
        if "unit" in ctx.args.options
        else None
    )
    ctx.session.add(
        Team(
            campaign_id=campaign.id,
            code=team_code,
            name=name,  # type: ignore[arg-type]
            unit_id=unit.id if unit else None,
        )
    )
    ctx.audit(campaign, "team.add", code=team_code, name=name, unit=unit.code if unit else None)
    return Reply(
        ctx.tr._(
            "Team {code} “{name}” added. Invite its reporters: /invite {code}",
            code=team_code,
            name=name,
        )
    )


def list_(ctx: Ctx) -> Reply:
    campaign = ctx.campaign()
    assert campaign.id is not None
    tr = ctx.tr
    teams = queries.teams(ctx.session, campaign.id)
    if not teams:
        return Reply(tr._("No teams yet.") + "\n" + ADD_EXAMPLE)
    paths = queries.unit_paths(ctx.session, campaign.id)
    metrics = queries.metrics(ctx.session, campaign.id)
    ids = [t.id for t in teams]
    totals = progress.team_totals(ctx.session, ids)  # type: ignore[arg-type]
    targets = progress.team_targets(ctx.session, ids)  # type: ignore[arg-type]
    lines = [tr._("Teams of {campaign}:", campaign=campaign.code)]
    for team in teams:
        where = paths.get(team.unit_id, "—") if team.unit_id else "—"
        figures = " · ".join(
            f"{display.label(tr, m)} "
            + display.of_target(
                tr,
                m,
                totals.get((team.id, m.id), 0.0),  # type: ignore[arg-type]
                targets.get((team.id, m.id)),
            )  # type: ignore[arg-type]
            for m in metrics
        )
        lines.append(f"• {team.code} — {team.name} [{where}] {figures}")
    return Reply("\n".join(lines))


def target(ctx: Ctx) -> Reply:
    example = "/team target to1 households 50"
    campaign = ctx.campaign()
    team = find_team(ctx, campaign, word(ctx, 0, example).lower())
    key = word(ctx, 1, example).lower()
    metric = queries.metric_by_key(ctx.session, campaign.id, key)  # type: ignore[arg-type]
    if metric is None or not metric.active:
        raise UserError(
            N_("There is no metric “{token}” in {campaign}."),
            token=key,
            campaign=campaign.code,
            example="/metric list",
        )
    value = read_value(metric, rest(ctx, 2, example), example)
    row = ctx.session.get(TeamTarget, (team.id, metric.id))
    old = row.target if row else None
    if row is None:
        row = TeamTarget(team_id=team.id, metric_id=metric.id, target=value)  # type: ignore[arg-type]
    row.target = value
    ctx.session.add(row)
    ctx.audit(campaign, "team.target", team=team.code, metric=key, old=old, new=value)
    return Reply(
        ctx.tr._(
            "Target of team {team} for {key}: {value}.",
            team=team.code,
            key=key,
            value=display.value(ctx.tr, metric, value),
        )
    )


def bind(ctx: Ctx) -> Reply:
    campaign = ctx.campaign()
    team = find_team(ctx, campaign, word(ctx, 0, "/team bind to1").lower())
    ctx.chat.campaign_id = campaign.id
    ctx.chat.team_id = team.id
    ctx.session.add(ctx.chat)
    ctx.audit(campaign, "team.bind", team=team.code, chat=ctx.chat.key)
    return Reply(
        ctx.tr._(
            "Every /report in this chat now counts for team {team}.", team=display.team_name(team)
        )
    )


def unbind(ctx: Ctx) -> Reply:
    campaign = ctx.campaign()
    if ctx.chat.team_id is None:
        raise UserError(N_("This chat is not bound to a team."), example="/team bind to1")
    ctx.chat.team_id = None
    ctx.session.add(ctx.chat)
    ctx.audit(campaign, "team.unbind", chat=ctx.chat.key)
    return Reply(ctx.tr._("This chat no longer reports for one team."))


def import_(ctx: Ctx) -> Reply:
    campaign = ctx.campaign()
    attachment = ctx.request.attachment
    if attachment is None:
        raise UserError(
            N_("Attach a CSV file to this command."),
            example="code,name,unit,unit_name,parent_unit,target:households",
        )
    created, updated, units = import_csv(ctx.session, ctx.tr, campaign, attachment.content)
    ctx.audit(
        campaign, "team.import", file=attachment.name, created=created, updated=updated, units=units
    )
    return Reply(
        ctx.tr._(
            "Imported {file}: {created} teams created, {updated} updated, {units} units created.",
            file=attachment.name,
            created=created,
            updated=updated,
            units=units,
        )
    )
