"""/progress: where the campaign stands, for my team and for everyone: the text, the progress
chart, and with by= the breakdown chart of the first metric shown."""

from __future__ import annotations

from handlers.engine.context import Ctx
from handlers.errors import N_, UserError
from handlers.language.calendar import calendar_of
from handlers.read import digest, display, visuals
from handlers.values import Reply
from storage import progress, queries
from storage.models import Campaign, Metric


def show(ctx: Ctx) -> Reply:
    campaign = ctx.campaign()
    assert campaign.id is not None
    tr = ctx.tr
    metrics = list(queries.metrics(ctx.session, campaign.id))
    if not metrics:
        return Reply(tr._("Campaign {campaign} has no metrics yet.", campaign=campaign.code))
    by = ctx.args.options.get("by")
    if by not in (None, "team", "unit"):
        raise UserError(N_("by= takes team or unit."), example="/progress households by=unit")
    wanted = ctx.args.word(0)
    if wanted is not None:
        metrics = [m for m in metrics if wanted.lower() in {m.key, *map(str.lower, m.aliases)}]
        if not metrics:
            raise UserError(
                N_("There is no metric “{token}” in {campaign}."),
                token=wanted,
                campaign=campaign.code,
                example="/metric list",
            )
    today = ctx.today(campaign)
    totals = progress.campaign_totals(ctx.session, campaign.id)
    today_totals = progress.day_totals(ctx.session, campaign.id, today)
    lines = [tr._("📊 {name} — {date}", name=campaign.name, date=tr.date(today))]
    for metric in metrics:
        lines.append(
            "• "
            + tr._(
                "{label}: today {today} · total {total}",
                label=display.label(tr, metric),
                today=display.value(
                    tr,
                    metric,
                    today_totals.get(metric.id, 0.0),  # type: ignore[arg-type]
                    compact=True,
                ),
                total=display.of_target(
                    tr,
                    metric,
                    totals.get(metric.id, 0.0),  # type: ignore[arg-type]
                    metric.target,
                ),
            )
        )
    reported = progress.teams_reported(ctx.session, campaign.id, today)
    count = progress.team_count(ctx.session, campaign.id)
    if calendar_of(campaign).is_rest(today):
        lines.append(
            tr._("Today is a rest day; {reported} teams reported anyway.", reported=len(reported))
        )
    else:
        lines.append(
            tr._("Teams reported today: {reported}/{count}", reported=len(reported), count=count)
        )
    mine = ctx.my_teams(campaign)
    if mine:
        team_totals = progress.team_totals(ctx.session, [t.id for t in mine])  # type: ignore[misc]
        targets = progress.team_targets(ctx.session, [t.id for t in mine])  # type: ignore[misc]
        for team in mine:
            figures = ", ".join(
                f"{display.label(tr, m)} "
                + display.of_target(
                    tr, m, team_totals.get((team.id, m.id), 0.0), targets.get((team.id, m.id))
                )  # type: ignore[arg-type]
                for m in metrics
            )
            lines.append(tr._("Your team {team}: {figures}", team=team.name, figures=figures))
    items = digest.metric_digests(ctx.session, campaign, today, metrics)
    shown = [visuals.progress_chart(tr, campaign, today, [(i.metric, i.forecast) for i in items])]
    if by is not None:
        lines.extend(_breakdown(ctx, campaign, metrics[0], by))
        shown.append(visuals.breakdown_chart(ctx.session, tr, campaign, today, metrics[0], by))
    return Reply("\n".join(lines), images=tuple(visuals.image(chart) for chart in shown))


def _breakdown(ctx: Ctx, campaign: Campaign, metric: Metric, by: str) -> list[str]:
    assert campaign.id is not None and metric.id is not None
    tr = ctx.tr
    lines = [
        tr._(
            "By {by} — {label}:",
            by=tr._("team") if by == "team" else tr._("unit"),
            label=display.label(tr, metric),
        )
    ]
    if by == "team":
        teams = queries.teams(ctx.session, campaign.id)
        totals = progress.team_totals(ctx.session, [t.id for t in teams])  # type: ignore[misc]
        targets = progress.team_targets(ctx.session, [t.id for t in teams])  # type: ignore[misc]
        rows = [
            (t.name, totals.get((t.id, metric.id), 0.0), targets.get((t.id, metric.id)))  # type: ignore[arg-type]
            for t in teams
        ]
    else:
        rollup = progress.unit_rollup(ctx.session, campaign.id, metric.id)
        paths = queries.unit_paths(ctx.session, campaign.id)
        rows = [
            (paths[u.id], rollup.get(u.id, 0.0), None)  # type: ignore[index]
            for u in queries.units(ctx.session, campaign.id)
        ]
    rows.sort(key=lambda row: row[1], reverse=True)
    lines.extend(
        f"  {name}: {display.of_target(tr, metric, total, target)}"
        for name, total, target in rows[:20]
    )
    if len(rows) > 20:
        lines.append("  " + tr._("… and {count} more", count=len(rows) - 20))
    return lines
