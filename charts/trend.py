"""Cumulative progress over time against the target: where we are, the pace the deadline
needs, and where the current rate leads."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import date
from typing import Final

from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.legend import Legend
from matplotlib.lines import Line2D
from matplotlib.text import Annotation
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
    WIDTH_PT,
    add_title,
    clean,
    font,
    literal,
    message_figure,
    new_figure,
    render,
    text_height,
    text_width,
    title_height,
)

HEIGHT_IN: Final = 6.6
AXES_WIDTH_PT: Final = 320.0  # about what the value tick labels leave of the width
TICK_SPACE_PT: Final = 16.0  # clear space between two date labels
PAD_PT: Final = MARGIN_PT / 2  # between the outermost text and the edge
TICK_PT: Final = 4.0  # tick length
Y_PAD_PT: Final = 4.0  # between a tick and its label
X_PAD_PT: Final = 8.0
LEGEND_GAP_PT: Final = 14.0  # between the date labels and the legend
TITLE_PAD_PT: Final = 6.0  # between the axes' own title and the axes
TOTAL_OFFSET_PT: Final = 8.0  # today's total from its point
CLEARANCE_PT: Final = 3.0  # between a label and a line: the line's width and a little air
# Styles differ in dash pattern as well as colour, so the lines stay apart in greyscale and for
# colour-blind readers: target dashed, pace dash-dot, projection dotted.
DONE_STYLE: Final = {"color": OKABE_ITO["blue"], "linestyle": "-", "linewidth": 3.5}
TARGET_STYLE: Final = {"color": OKABE_ITO["black"], "linestyle": "--", "linewidth": 2}
PACE_STYLE: Final = {"color": OKABE_ITO["reddish_purple"], "linestyle": "-.", "linewidth": 2.5}
PROJECTION_STYLE: Final = {"color": OKABE_ITO["orange"], "linestyle": ":", "linewidth": 3.5}
TODAY_STYLE: Final = {"color": MUTED, "linestyle": "-", "linewidth": 1.5}


def trend_figure(
    trend: Trend,
    *,
    title: str,
    legend: Mapping[str, str],
    date_fmt: Callable[[date], str],
    full_date_fmt: Callable[[date], str] | None = None,
    empty_text: str = "—",
) -> Figure:
    """`legend` names the lines drawn, by key: "done", "target" (when there is one), "pace"
    (target and deadline), "projection" (when given), "today". `date_fmt` writes a date without
    its year, `full_date_fmt` with it, for an axis that spans more than one year."""
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

    fig = new_figure(HEIGHT_IN)
    add_title(fig, title)
    ax = fig.add_axes((0, 0, 1, 1))  # placed by `_place` once its labels are known
    heading = bool(trend.label) and clean(trend.label) not in clean(title)
    if heading:
        ax.set_title(
            literal(clean(trend.label)),
            loc="left",
            fontproperties=font(HEADING_SIZE),
            pad=TITLE_PAD_PT,
        )

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
    # Today's total sits beside the end of the line, on whichever side has room; the target's
    # label at the other end of its line, so on a first day the two do not start at one point.
    left_half = today - start <= (end - start) / 2
    if trend.target is not None:
        keep("target", ax.axhline(trend.target, **TARGET_STYLE, zorder=2))
        ax.annotate(
            literal(clean(fmt(trend.target))),
            (end if left_half else start, trend.target),
            xytext=(-4 if left_half else 4, 4),
            textcoords="offset points",
            fontproperties=font(),
            ha="right" if left_half else "left",
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

    total = ax.annotate(
        literal(clean(fmt(now))),
        (today, now),
        xytext=(TOTAL_OFFSET_PT if left_half else -TOTAL_OFFSET_PT, TOTAL_OFFSET_PT),
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
    y_top = top * 1.15
    ax.set_ylim(0, y_top)
    # Dates that mean something rather than evenly spaced ones, the more important first: the
    # start, the deadline, today, and the end of the projection.
    candidates = (start, *([] if deadline is None else [deadline]), today, end)
    ticks = _date_ticks(candidates, AXES_WIDTH_PT / (hi - lo), date_fmt, full_date_fmt)
    ax.xaxis.set_major_locator(FixedLocator(sorted(ticks)))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda x, _: literal(ticks.get(round(x), ""))))
    # The values MaxNLocator would give the axis, fixed here so they can be measured.
    values = [
        v for v in MaxNLocator(nbins=4, integer=True).tick_values(0, y_top) if 0 <= v <= y_top
    ]
    ax.yaxis.set_major_locator(FixedLocator(values))
    ax.yaxis.set_major_formatter(FuncFormatter(lambda y, _: literal(clean(fmt(y)))))
    ax.tick_params(labelsize=TEXT_SIZE, labelfontfamily=FONT_FAMILY, length=TICK_PT)
    ax.tick_params(axis="x", pad=X_PAD_PT)
    ax.tick_params(axis="y", pad=Y_PAD_PT)
    ax.grid(axis="y", color=GRID, linewidth=1)
    ax.set_axisbelow(True)
    ax.spines[["top", "right"]].set_visible(False)

    legend = fig.legend(
        handles,
        labels,
        loc="lower center",
        bbox_to_anchor=(0.5, 0),
        ncols=2,
        frameon=False,
        prop=font(),
        handlelength=2.6,
    )
    top_pt = title_height(title)
    if heading:
        top_pt += text_height(clean(trend.label), font(HEADING_SIZE)) + TITLE_PAD_PT
    _place(
        ax,
        legend,
        top_pt,
        [clean(fmt(v)) for v in values],
        [((x - lo) / (hi - lo), label) for x, label in ticks.items()],
    )
    if trend.target is not None and _may_touch(now, trend.target, y_top):
        _clear_the_target_line(fig, total, trend.target)
    return fig


def _place(
    ax: Axes,
    legend: Legend,
    top_pt: float,
    values: Sequence[str],
    dates: Sequence[tuple[float, str]],
) -> None:
    """Place the axes so every label fits, as a layout engine would, but from the labels' own
    sizes instead of laying the figure out (constrained layout cost a twelfth of a digest).
    `dates` are the date labels by their place along the axis (0 to 1)."""
    fig = ax.get_figure()
    assert isinstance(fig, Figure)
    width, height = WIDTH_PT, fig.get_figheight() * 72
    prop = font()
    renderer = fig.canvas.get_renderer()  # type: ignore[attr-defined]
    legend_pt = legend.get_window_extent(renderer).y1 * 72 / fig.dpi
    date_pt = max([text_height(label, prop) for _, label in dates], default=0.0)
    bottom = legend_pt + LEGEND_GAP_PT + date_pt + X_PAD_PT + TICK_PT
    left = PAD_PT + max(text_width(v, prop) for v in values) + TICK_PT + Y_PAD_PT
    right = width - PAD_PT
    for _ in range(2):  # a date label's room depends on both ends; twice settles it
        for at, label in dates:
            half = text_width(label, prop) / 2
            if at > 0:  # its right end within the right edge
                right = min(right, left + (width - PAD_PT - half - left) / at)
            if at < 1:  # its left end within the left edge
                left = max(left, (PAD_PT + half - at * right) / (1 - at))
    ax.set_position(
        (left / width, bottom / height, (right - left) / width, (height - top_pt - bottom) / height)
    )


def _may_touch(now: float, target: float, y_top: float) -> bool:
    """Whether today's total, drawn above its point, can come near the target line. Below its
    point the line never can; more than half the axis above it neither (the label and its
    offset take ~55 pt of an axis 210–290 pt tall), and the laid-out check costs a whole draw
    of the figure, a fifth of a digest's time."""
    return now < target and (target - now) / y_top <= 0.5


def _clear_the_target_line(fig: Figure, total: Annotation, target: float) -> None:
    """Just under the target, today's total would sit on the target line. Right of its point it
    goes under the point instead (the line so far comes from the left); left of it, where the
    line so far rises to the point, it is lifted clear above the target line. Only the laid-out
    figure knows how tall a label is in data units."""
    fig.draw_without_rendering()
    ax, box = total.axes, total.get_window_extent()
    assert ax is not None
    pixels = fig.dpi / 72
    line = ax.transData.transform((0, target))[1]
    clear = CLEARANCE_PT * pixels
    if not box.y0 - clear < line < box.y1 + clear:
        return
    dx, dy = total.xyann
    under = ax.transData.transform(total.xy)[1] - TOTAL_OFFSET_PT * pixels - box.height
    if dx > 0 and under >= ax.get_window_extent().y0:
        total.set_verticalalignment("top")
        total.xyann = (dx, -TOTAL_OFFSET_PT)
    else:
        total.xyann = (dx, dy + (line + clear - box.y0) / pixels)


def _tick_labels(
    days: Sequence[date], short: Callable[[date], str], full: Callable[[date], str] | None
) -> list[str]:
    """Sorted dates as tick labels: without the year (the title dates today), except where they
    span more than one year, on the first and on the first of each new year."""
    spans = full is not None and days[0].year != days[-1].year
    return [
        clean(
            full(day) if full and spans and (n == 0 or day.year != days[n - 1].year) else short(day)
        )
        for n, day in enumerate(days)
    ]


def _date_ticks(
    candidates: Sequence[int],
    pt_per_day: float,
    short: Callable[[date], str],
    full: Callable[[date], str] | None,
) -> dict[int, str]:
    """The candidate days (ordinals, the more important first) that fit, with their labels: each
    is dropped where a label would come too close to its neighbour's. Adding one can give
    another its year, so every pair is measured again."""
    kept: list[int] = []
    for x in candidates:
        trial = sorted({*kept, x})
        widths = [text_width(label, font()) for label in _tick_labels(_days(trial), short, full)]
        if all(
            (b - a) * pt_per_day >= (wa + wb) / 2 + TICK_SPACE_PT
            for a, b, wa, wb in zip(trial, trial[1:], widths, widths[1:], strict=False)
        ):
            kept = trial
    return dict(zip(kept, _tick_labels(_days(kept), short, full), strict=True))


def _days(ordinals: Sequence[int]) -> list[date]:
    return [date.fromordinal(x) for x in ordinals]


def trend_chart(
    trend: Trend,
    *,
    title: str,
    legend: Mapping[str, str],
    date_fmt: Callable[[date], str],
    full_date_fmt: Callable[[date], str] | None = None,
    empty_text: str = "—",
) -> bytes:
    return render(
        trend_figure(
            trend,
            title=title,
            legend=legend,
            date_fmt=date_fmt,
            full_date_fmt=full_date_fmt,
            empty_text=empty_text,
        )
    )
