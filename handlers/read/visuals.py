"""The charts in /progress replies and the digest: numbers those already computed (forecasts,
daily totals) and SQL aggregates, turned into chart inputs with every word and number in the
reader's language (vi `1,3 tỷ ₫`, dates `10/03`).

Figures are built here and rendered by `image`, in the engine's worker thread like the rest of
a command (adapters call the engine off their event loop), so rendering never blocks it."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from functools import partial
from itertools import accumulate
from typing import TYPE_CHECKING, Literal

from sqlmodel import Session

import charts
from handlers.language.i18n import Translator
from handlers.read import display
from handlers.read.forecast import Forecast
from handlers.values import Image
from storage import progress, queries
from storage.models import Campaign, Metric

if TYPE_CHECKING:
    from matplotlib.figure import Figure

TOP = 10  # teams or units drawn one by one in a breakdown; the others share one bar
By = Literal["team", "unit"]


@dataclass(frozen=True)
class Chart:
    name: str  # the file name: kind, campaign, date
    caption: str
    figure: Figure


def image(chart: Chart) -> Image:
    return Image(chart.name, charts.render(chart.figure), chart.caption)


def _fmt(tr: Translator, metric: Metric) -> Callable[[float], str]:
    return partial(display.value, tr, metric, compact=True)


def progress_chart(
    tr: Translator, campaign: Campaign, today: date, metrics: Sequence[tuple[Metric, Forecast]]
) -> Chart:
    """One bar per metric: the share of its target, coloured and labelled by its status."""
    title = tr._("{campaign}: progress on {date}", campaign=campaign.name, date=tr.date(today))
    bars = [
        charts.MetricBar(
            display.label(tr, metric),
            f.total,
            f.target,
            f.status,
            display.status(tr, f.status),
            _fmt(tr, metric),
        )
        for metric, f in metrics
    ]
    figure = charts.progress_figure(bars, title=title, percent_fmt=tr.percent)
    return Chart(f"progress-{campaign.code}-{today.isoformat()}.png", title, figure)


def trend_chart(
    tr: Translator,
    campaign: Campaign,
    today: date,
    metric: Metric,
    forecast: Forecast,
    daily: Mapping[date, float],
) -> Chart:
    """The cumulative total since the start against the target, the pace the deadline needs
    and where the 7-day pace leads."""
    label = display.label(tr, metric)
    title = tr._(
        "{campaign}: {label} up to {date}",
        campaign=campaign.name,
        label=label,
        date=tr.date(today),
    )
    days = [
        campaign.start_date + timedelta(days=n)
        for n in range((today - campaign.start_date).days + 1)
    ]
    trend = charts.Trend(
        label,
        days,
        list(accumulate(daily.get(day, 0.0) for day in days)),
        forecast.target,
        campaign.deadline,
        _projection(campaign, today, forecast),
        _fmt(tr, metric),
    )
    legend = {
        "done": tr._("Done so far"),
        "target": tr._("Target"),
        "pace": tr._("Pace for the deadline"),
        "projection": tr._("At the 7-day pace"),
        "today": tr._("Today"),
    }
    figure = charts.trend_figure(
        trend,
        title=title,
        legend=legend,
        date_fmt=tr.short_date,
        full_date_fmt=tr.date,
        empty_text=tr._("The campaign has not started yet."),
    )
    return Chart(f"trend-{campaign.code}-{metric.key}-{today.isoformat()}.png", title, figure)


def _projection(campaign: Campaign, today: date, f: Forecast) -> list[tuple[date, float]]:
    """From today at the 7-day pace: to the day the target is met, or to the deadline if that
    comes first. Nothing without a pace, once the target is met, or with nowhere to go."""
    deadline = campaign.deadline
    if f.status == "done" or f.rate <= 0:
        return []
    if f.projected and f.target and (deadline is None or f.projected <= deadline):
        return [(today, f.total), (f.projected, f.target)]
    if deadline is not None and deadline > today and f.at_deadline is not None:
        return [(today, f.total), (deadline, f.at_deadline)]
    return []


def breakdown_chart(
    session: Session, tr: Translator, campaign: Campaign, today: date, metric: Metric, by: By
) -> Chart:
    """The metric by team, or by the top units of the tree, ranked by share of their targets
    (the sum of their teams'): the first TOP, then the others as one bar."""
    assert campaign.id is not None and metric.id is not None
    params = {"campaign": campaign.name, "label": display.label(tr, metric), "date": tr.date(today)}
    if by == "team":
        title = tr._("{campaign}: {label} by team on {date}", **params)
        teams = queries.teams(session, campaign.id)
        ids = [team.id for team in teams]
        done = progress.team_totals(session, ids)  # type: ignore[arg-type]
        targets = progress.team_targets(session, ids)  # type: ignore[arg-type]
        rows = [
            charts.Share(team.name, done.get(key, 0.0), targets.get(key))
            for team in teams
            for key in [(team.id, metric.id)]
        ]
        others, empty = tr._("Other teams"), tr._("No teams yet.")
    else:
        title = tr._("{campaign}: {label} by unit on {date}", **params)
        names = {unit.id: unit.name for unit in queries.units(session, campaign.id)}
        unit_done = progress.unit_rollup(session, campaign.id, metric.id)
        unit_targets = progress.unit_targets(session, campaign.id, metric.id)
        rows = [
            charts.Share(names[u], unit_done.get(u, 0.0), unit_targets.get(u))
            for u in top_units(progress.unit_parents(session, campaign.id))
        ]
        others, empty = tr._("Other units"), tr._("No units yet.")
    figure = charts.breakdown_figure(
        rows,
        title=title,
        fmt=_fmt(tr, metric),
        percent_fmt=tr.percent,
        others_label=others,
        top=TOP,
        count_fmt=tr.number,
        empty_text=empty,
    )
    name = f"by-{by}-{campaign.code}-{metric.key}-{today.isoformat()}.png"
    return Chart(name, title, figure)


def top_units(parents: Mapping[int, int | None]) -> list[int]:
    """The first level of the tree with more than one unit: a lone root (the province above
    its communes) would be one bar saying nothing."""
    level = [unit for unit, parent in parents.items() if parent is None]
    for _ in range(len(parents)):  # each step goes one level down: the tree's depth bounds it
        if len(level) != 1:
            break
        children = [unit for unit, parent in parents.items() if parent == level[0]]
        if not children:
            break
        level = children
    return level
