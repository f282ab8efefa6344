"""Cumulative progress over time against the target: where we are, the pace the deadline
needs, and where the current rate leads."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date
from typing import Final

from matplotlib.figure import Figure
from matplotlib.layout_engine import ConstrainedLayoutEngine
from matplotlib.lines import Line2D
from matplotlib.ticker import FixedLocator, FuncFormatter, MaxNLocator

from charts.data import Trend
from charts.style import (
    FONT_FAMILY,
    GRID,
    HEADING_SIZE,
    MARGIN_PT,
    MUTED,
    OKABE_ITO,
    TEXT_SIZE,
    TITLE_SIZE,
    WIDTH_PT,
    clean,
    font,
    literal,
    message_figure,
    new_figure,
    render,
    text_width,
    title_lines,
)

HEIGHT_IN: Final = 6.6
AXES_WIDTH_PT: Final = 320.0  # about what the value tick labels leave of the width
# Styles differ in dash pattern as well as colour, so the lines stay apart in greyscale and for
# colour-blind readers: target dashed, pace dash-dot, projection dotted.
DONE_STYLE: Final = {"color": OKABE_ITO["blue"], "linestyle": "-", "linewidth": 3.5}
TARGET_STYLE: Final = {"color": OKABE_ITO["black"], "linestyle": "--", "linewidth": 2}
PACE_STYLE: Final = {"color": OKABE_ITO["reddish_purple"], "linestyle": "-.", "linewidth": 2.5}
PROJECTION_STYLE: Final = {"color": OKABE_ITO["orange"], "linestyle": ":", "linewidth": 3.5}
TODAY_STYLE: Final = {"color": MUTED, "linestyle": "-", "linewidth": 1.5}


def _day(x: float) -> date:
    return date.fromordinal(round(x))


def trend_figure(
    trend: Trend,
    *,
    title: str,
    legend: Mapping[str, str],
    date_fmt: Callable[[date], str],
    empty_text: str = "—",
) -> Figure:
    """`legend` names the lines drawn, by key: "done", "target" (when there is one), "pace"
    (target and deadline), "projection" (when given), "today"."""
    if len(trend.days) != len(trend.cumulative):
        raise ValueError("days and cumulative differ in length")
    if not trend.days:
        return message_figure(title, empty_text)
    fmt = trend.fmt
    days = [day.toordinal() for day in trend.days]
    start, today, now = days[0], days[-1], trend.cumulative[-1]
    projection = [(day.toordinal(), value) for day, value in trend.projection]
    deadline = trend.deadline.toordinal() if trend.deadline else None
    end = max([today, *(x for x, _ in projection), *([] if deadline is None else [deadline])])
    top = max([1.0, *trend.cumulative, *(v for _, v in projection), trend.target or 0.0])

    # Constrained layout fits the tick labels, whose width depends on `fmt`, and the legend.
    pad = MARGIN_PT / 2 / 72
    fig = new_figure(HEIGHT_IN, layout=ConstrainedLayoutEngine(w_pad=pad, h_pad=pad))
    fig.suptitle(
        literal("\n".join(title_lines(title))),
        x=MARGIN_PT / WIDTH_PT,
        ha="left",
        fontproperties=font(TITLE_SIZE, bold=True),
    )
    ax = fig.add_subplot()
    if trend.label and clean(trend.label) not in clean(title):
        ax.set_title(literal(clean(trend.label)), loc="left", fontproperties=font(HEADING_SIZE))

    handles: list[Line2D] = []
    labels: list[str] = []

    def keep(key: str, line: Line2D) -> None:
        handles.append(line)
        labels.append(literal(clean(legend[key])))

    (done_line,) = ax.plot(days, trend.cumulative, **DONE_STYLE, zorder=4)
    if len(days) == 1:  # one day is a point, not a line
        done_line.set_marker("o")
        done_line.set_markersize(9)
    keep("done", done_line)
    if trend.target is not None:
        keep("target", ax.axhline(trend.target, **TARGET_STYLE, zorder=2))
        ax.annotate(
            literal(clean(fmt(trend.target))),
            (start, trend.target),
            xytext=(4, 4),
            textcoords="offset points",
            fontproperties=font(),
            va="bottom",
        )
        if deadline is not None and deadline > start:
            (pace,) = ax.plot([start, deadline], [0, trend.target], **PACE_STYLE, zorder=2)
            keep("pace", pace)
    if projection:
        xs, ys = zip(*projection, strict=True)
        (projected,) = ax.plot(xs, ys, **PROJECTION_STYLE, zorder=3)
        keep("projection", projected)
    keep("today", ax.axvline(today, **TODAY_STYLE, zorder=1))

    # Today's total sits beside the end of the line, on whichever side has room.
    left_half = today - start <= (end - start) / 2
    ax.annotate(
        literal(clean(fmt(now))),
        (today, now),
        xytext=(8 if left_half else -8, 8),
        textcoords="offset points",
        fontproperties=font(bold=True),
        color=DONE_STYLE["color"],
        ha="left" if left_half else "right",
        va="bottom",
        zorder=5,
        bbox={"facecolor": "white", "edgecolor": "none", "alpha": 0.8, "pad": 1},
    )

    # A little air at both ends keeps the first date clear of the lowest value label; a lone day
    # sits in the middle of a three-day axis.
    air = max(end - start, 2) * 0.04
    lo, hi = (start - 1, start + 1) if end == start else (start - air, end + air)
    ax.set_xlim(lo, hi)
    ax.set_ylim(0, top * 1.15)
    # Dates that mean something rather than evenly spaced ones, the more important first, each
    # dropped where its label would collide with one already there: the start, the deadline,
    # today, and the end of the projection.
    gap = (text_width(clean(date_fmt(trend.days[-1])), font()) + 16) / AXES_WIDTH_PT
    ticks: list[int] = []
    for x in (start, *([] if deadline is None else [deadline]), today, end):
        if all(abs(x - tick) >= gap * (hi - lo) for tick in ticks):
            ticks.append(x)
    ax.xaxis.set_major_locator(FixedLocator(sorted(ticks)))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda x, _: literal(clean(date_fmt(_day(x))))))
    ax.yaxis.set_major_locator(MaxNLocator(nbins=4, integer=True))
    ax.yaxis.set_major_formatter(FuncFormatter(lambda y, _: literal(clean(fmt(y)))))
    ax.tick_params(labelsize=TEXT_SIZE, labelfontfamily=FONT_FAMILY, length=4)
    ax.tick_params(axis="x", pad=8)
    ax.grid(axis="y", color=GRID, linewidth=1)
    ax.set_axisbelow(True)
    ax.spines[["top", "right"]].set_visible(False)

    fig.legend(
        handles,
        labels,
        loc="outside lower center",
        ncols=2,
        frameon=False,
        prop=font(),
        handlelength=2.6,
    )
    return fig


def trend_chart(
    trend: Trend,
    *,
    title: str,
    legend: Mapping[str, str],
    date_fmt: Callable[[date], str],
    empty_text: str = "—",
) -> bytes:
    return render(
        trend_figure(trend, title=title, legend=legend, date_fmt=date_fmt, empty_text=empty_text)
    )
