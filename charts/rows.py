"""Horizontal bars laid out for a narrow screen: each row is a name on its own line, the value at
the right end of that line, the bar under it across the full width, and optional text under
the bar. Names then get the whole width instead of a cramped left margin.

The axes' y unit is one point, so text and bars are placed exactly without a layout engine. The
names are the y tick labels (left-aligned inside the axes), so `ax.get_yticklabels()` lists
them in order."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from matplotlib.collections import PolyCollection
from matplotlib.figure import Figure
from matplotlib.transforms import blended_transform_factory

from charts.style import (
    FONT_FAMILY,
    HEADING_SIZE,
    MARGIN_PT,
    MUTED,
    TEXT_SIZE,
    TRACK,
    WIDTH_PT,
    add_title,
    clean,
    font,
    literal,
    new_figure,
    text_width,
    title_height,
    truncate,
    wrap,
)

HEADING_PT = 24.0  # the name line
LINE_PT = 19.0  # each line of text under the bar
ROW_GAP_PT = 14.0
BOTTOM_PT = 12.0
NAME_GAP_PT = 12.0  # between the name and the value on the name line
AXES_WIDTH_PT = WIDTH_PT - 2 * MARGIN_PT


@dataclass(frozen=True)
class Row:
    name: str
    length: float  # in x units, already capped to the axis
    color: str
    hatch: str = ""
    track: float | None = None  # grey background to this length: the target
    bar: bool = True  # False leaves no room for a bar (nothing to measure it against)
    value: str = ""  # right end of the name line
    note: str = ""  # under the bar, wrapped to the width


def rows_figure(title: str, rows: Sequence[Row], *, xmax: float, bar_pt: float) -> Figure:
    name_prop, value_prop, note_prop = font(HEADING_SIZE, bold=True), font(), font()
    notes = [wrap(clean(row.note), AXES_WIDTH_PT, note_prop) if row.note else [] for row in rows]

    tops: list[float] = []
    y = 0.0
    for row, lines in zip(rows, notes, strict=True):
        tops.append(y)
        y += HEADING_PT + _bar_pt(row, bar_pt) + (4 + len(lines) * LINE_PT if lines else 0)
        y += ROW_GAP_PT
    axes_pt = y - ROW_GAP_PT

    head_pt = title_height(title)
    height_pt = head_pt + axes_pt + BOTTOM_PT
    fig = new_figure(height_pt / 72)
    add_title(fig, title)
    ax = fig.add_axes(
        (MARGIN_PT / WIDTH_PT, BOTTOM_PT / height_pt, AXES_WIDTH_PT / WIDTH_PT, axes_pt / height_pt)
    )
    ax.set_xlim(0, xmax)
    ax.set_ylim(axes_pt, 0)
    ax.patch.set_visible(False)
    ax.spines[:].set_visible(False)
    ax.xaxis.set_visible(False)  # every bar carries its value in words
    ax.tick_params(axis="y", length=0, pad=0, labelfontfamily=FONT_FAMILY)

    names: list[str] = []
    for row in rows:
        room = AXES_WIDTH_PT
        if row.value:
            room -= text_width(clean(row.value), value_prop) + NAME_GAP_PT
        names.append(literal(truncate(clean(row.name), room, name_prop)))
    ax.set_yticks([top + HEADING_PT / 2 for top in tops], names)
    for label in ax.get_yticklabels():
        label.set_fontproperties(name_prop)
        label.set_horizontalalignment("left")

    heights = [_bar_pt(row, bar_pt) for row in rows]
    bar_y = [top + HEADING_PT + height / 2 for top, height in zip(tops, heights, strict=True)]
    half = bar_pt / 2
    tracks = [
        [(0, y - half), (row.track, y - half), (row.track, y + half), (0, y + half)]
        for row, y in zip(rows, bar_y, strict=True)
        if row.track is not None
    ]
    ax.add_collection(PolyCollection(tracks, facecolors=TRACK, linewidths=0), autolim=False)
    bars = ax.barh(bar_y, [row.length for row in rows], height=heights, linewidth=0)
    for patch, row in zip(bars, rows, strict=True):
        patch.set_facecolor(row.color)
        # White hatching reads as texture on every palette colour and survives greyscale.
        patch.set_hatch(row.hatch)
        patch.set_hatchcolor("white")
        patch.set_hatch_linewidth(2.5)
    # Where a bar runs past its target, a white notch keeps the target visible.
    for row, y in zip(rows, bar_y, strict=True):
        if row.track is not None and row.length > row.track:
            ax.vlines(row.track, y - half, y + half, colors="white", linewidths=3)

    right_edge = blended_transform_factory(ax.transAxes, ax.transData)
    for row, top, height, lines in zip(rows, tops, heights, notes, strict=True):
        if row.value:
            ax.text(
                1.0,
                top + HEADING_PT / 2,
                literal(clean(row.value)),
                transform=right_edge,
                fontproperties=value_prop,
                ha="right",
                va="center_baseline",  # as the name, so both sit on one line
            )
        if lines:
            ax.text(
                0.0,
                top + HEADING_PT + height + 4,
                literal("\n".join(lines)),
                transform=right_edge,
                fontproperties=note_prop,
                color=MUTED,
                ha="left",
                va="top",
                linespacing=LINE_PT / TEXT_SIZE / 1.2,
            )
    return fig


def _bar_pt(row: Row, bar_pt: float) -> float:
    return bar_pt if row.bar else 0.0
