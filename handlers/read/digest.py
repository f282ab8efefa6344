"""The daily digest's read model: what leaders read every evening (SPEC §5) — the numbers
(`collect`), the text, the charts, and the whole reply (`build`) that `/digest now`, `tiendo
digest` and the scheduler send."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from sqlmodel import Session

from handlers.language.calendar import calendar_of
from handlers.language.i18n import Translator
from handlers.read import display, visuals
from handlers.read.forecast import Forecast, forecast, silent_teams
from handlers.values import Reply
from storage import progress, queries
from storage.models import Campaign, Metric, Team

TOP = 3
STATUS_MARK = {"on_track": "✅", "at_risk": "⚠️", "behind": "🔴", "done": "🎉", "no_target": "•"}


# --- the numbers ---------------------------------------------------------------------------
@dataclass(frozen=True)
class MetricDigest:
    metric: Metric
    forecast: Forecast
    daily: dict[date, float]


@dataclass(frozen=True)
class DigestData:
    campaign: Campaign
    today: date
    metrics: list[MetricDigest]
    expected: int  # teams expected to report today (0 on a rest day)
    reported: int
    silent: list[tuple[Team, int]]  # team, working days without a report
    top_teams: list[tuple[str, float]]  # name, share of target
    top_units: list[tuple[str, float]]
    ranked_by: Metric | None  # the metric the top lists rank on


def metric_digests(
    session: Session, campaign: Campaign, today: date, metrics: Iterable[Metric]
) -> list[MetricDigest]:
    calendar = calendar_of(campaign)
    digests = []
    for metric in metrics:
        daily = progress.daily_series(session, metric.id, campaign.start_date, today)  # type: ignore[arg-type]
        digests.append(MetricDigest(metric, forecast(daily, metric.target, calendar, today), daily))
    return digests


def collect(session: Session, campaign: Campaign, today: date) -> DigestData:
    assert campaign.id is not None
    calendar = calendar_of(campaign)
    metrics = metric_digests(session, campaign, today, queries.metrics(session, campaign.id))
    teams = {t.id: t for t in queries.teams(session, campaign.id)}
    last = progress.last_report_days(session, campaign.id)
    silent = sorted(
        ((teams[i], n) for i, n in silent_teams(last, calendar, today).items()),
        key=lambda item: (-item[1], item[0].code),
    )
    reported = len(progress.teams_reported(session, campaign.id, today))
    top_teams, top_units, ranked_by = _leaders(
        session, campaign, teams, [m.metric for m in metrics]
    )
    return DigestData(
        campaign,
        today,
        metrics,
        0 if calendar.is_rest(today) else len(teams),
        reported,
        silent,
        top_teams,
        top_units,
        ranked_by,
    )


def _leaders(
    session: Session, campaign: Campaign, teams: dict[int | None, Team], metrics: list[Metric]
) -> tuple[list[tuple[str, float]], list[tuple[str, float]], Metric | None]:
    """Top teams and units by share of their own target, on the first metric that has team
    targets; a unit's target is the sum of its teams' (rolled up the current tree)."""
    ids = [i for i in teams if i is not None]
    targets = progress.team_targets(session, ids)
    metric = next((m for m in metrics if any(k[1] == m.id for k in targets)), None)
    if metric is None:
        return [], [], None
    totals = progress.team_totals(session, ids)
    team_rows, unit_done, unit_target = [], {}, {}
    for team_id, team in teams.items():
        target = targets.get((team_id, metric.id))  # type: ignore[arg-type]
        if not target:
            continue
        done = totals.get((team_id, metric.id), 0.0)  # type: ignore[arg-type]
        team_rows.append((team.name, done / target))
        if team.unit_id is not None:
            unit_done[team.unit_id] = unit_done.get(team.unit_id, 0.0) + done
            unit_target[team.unit_id] = unit_target.get(team.unit_id, 0.0) + target
    parents = progress.unit_parents(session, campaign.id)  # type: ignore[arg-type]
    done_up, target_up = (
        progress.roll_up(unit_done, parents),
        progress.roll_up(unit_target, parents),
    )
    names = {u.id: u.name for u in queries.units(session, campaign.id)}  # type: ignore[arg-type]
    unit_rows = [(names[u], done_up.get(u, 0.0) / t) for u, t in target_up.items() if t]
    team_rows.sort(key=lambda row: -row[1])
    unit_rows.sort(key=lambda row: -row[1])
    return team_rows[:TOP], unit_rows[:TOP], metric


# --- the text ------------------------------------------------------------------------------
def text(tr: Translator, data: DigestData, *, late: bool = False) -> str:
    lines = [
        tr._(
            "📊 Daily digest {date} — {campaign}",
            date=tr.date(data.today),
            campaign=data.campaign.name,
        )
    ]
    if late:
        lines.append(tr._("(sent late: the bot was unavailable at the usual time)"))
    for item in data.metrics:
        m, f = item.metric, item.forecast
        lines.append(
            f"{STATUS_MARK[f.status]} "
            + tr._(
                "{label}: today {today} · total {total}",
                label=display.label(tr, m),
                today=display.value(tr, m, f.today, compact=True),
                total=display.of_target(tr, m, f.total, f.target),
            )
        )
        details = [tr._("7-day pace {rate}/day", rate=display.rate(tr, m, f.rate))]
        if f.required is not None and f.status not in ("done", "no_target"):
            details.append(
                tr._("needed {rate}/day", rate=display.rate(tr, m, f.required))
                if f.required != float("inf")
                else tr._("deadline passed")
            )
        if f.projected is not None:
            details.append(tr._("done by {date} at this pace", date=tr.date(f.projected)))
        details.append(display.status(tr, f.status))
        lines.append("   " + " · ".join(details))
    if data.expected:
        lines.append(
            tr._(
                "Teams reported today: {reported}/{count}",
                reported=data.reported,
                count=data.expected,
            )
        )
    else:
        lines.append(
            tr._("Today is a rest day; {reported} teams reported anyway.", reported=data.reported)
        )
    if data.silent:
        shown = ", ".join(
            tr._("{team} ({days} days)", team=t.name, days=n) for t, n in data.silent[:10]
        )
        more = len(data.silent) - 10
        lines.append(
            tr._("Silent for 2+ working days: {teams}", teams=shown)
            + (" " + tr._("… and {count} more", count=more) if more > 0 else "")
        )
    if data.ranked_by is not None:
        label = display.label(tr, data.ranked_by)
        lines.append(
            tr._(
                "Leading teams ({label}): {teams}",
                label=label,
                teams=", ".join(f"{name} {tr.percent(r)}" for name, r in data.top_teams),
            )
        )
        if data.top_units:
            lines.append(
                tr._(
                    "Leading units ({label}): {units}",
                    label=label,
                    units=", ".join(f"{name} {tr.percent(r)}" for name, r in data.top_units),
                )
            )
    return "\n".join(lines)


# --- the charts ----------------------------------------------------------------------------
def charts(session: Session, tr: Translator, data: DigestData) -> list[visuals.Chart]:
    """Progress of every metric, the trend of the main one (the first with a target) and the
    teams on the metric the leaders are ranked by."""
    if not data.metrics:
        return []
    main = next((item for item in data.metrics if item.forecast.target), data.metrics[0])
    campaign, today = data.campaign, data.today
    return [
        visuals.progress_chart(
            tr, campaign, today, [(item.metric, item.forecast) for item in data.metrics]
        ),
        visuals.trend_chart(tr, campaign, today, main.metric, main.forecast, main.daily),
        visuals.breakdown_chart(
            session, tr, campaign, today, data.ranked_by or main.metric, "team"
        ),
    ]


def build(
    session: Session, tr: Translator, campaign: Campaign, today: date, *, late: bool = False
) -> Reply:
    data = collect(session, campaign, today)
    return Reply(
        text(tr, data, late=late),
        images=tuple(visuals.image(chart) for chart in charts(session, tr, data)),
    )
