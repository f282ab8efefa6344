"""Progress against target, one bar per metric: the share of the target done, on a grey track
that is the target itself."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Final

from matplotlib.figure import Figure

from charts.data import MetricBar, Status
from charts.rows import Row, rows_figure
from charts.style import OKABE_ITO, message_figure, render

# Bars stop here so one runaway metric does not squash the rest; the label has the real share.
CAP: Final = 1.2
STATUS_COLOR: Final[Mapping[Status, str]] = {
    "on_track": OKABE_ITO["bluish_green"],
    "at_risk": OKABE_ITO["orange"],
    "behind": OKABE_ITO["vermillion"],
    "done": OKABE_ITO["blue"],
    "no_target": OKABE_ITO["sky_blue"],
}
# The second channel besides colour (the status text is the third): the worse, the denser.
STATUS_HATCH: Final[Mapping[Status, str]] = {
    "on_track": "",
    "at_risk": "//",
    "behind": "xx",
    "done": "",
    "no_target": "",
}


def _row(bar: MetricBar, percent_fmt: Callable[[float], str]) -> Row:
    length, track, amount = 0.0, None, bar.fmt(bar.done)
    if bar.target:  # a zero target has no meaningful share either
        ratio = bar.done / bar.target
        length, track = min(ratio, CAP), 1.0
        amount = f"{amount} / {bar.fmt(bar.target)} ({percent_fmt(ratio)})"
    return Row(
        name=bar.label,
        length=length,
        color=STATUS_COLOR[bar.status],
        hatch=STATUS_HATCH[bar.status],
        track=track,
        bar=track is not None,
        note=f"{amount} — {bar.status_text}" if bar.status_text else amount,
    )


def progress_figure(
    bars: Sequence[MetricBar],
    *,
    title: str,
    percent_fmt: Callable[[float], str],
    empty_text: str = "—",
) -> Figure:
    """`percent_fmt` receives the share of the target as a ratio: 0.62 for 62 %."""
    if not bars:
        return message_figure(title, empty_text)
    rows = [_row(bar, percent_fmt) for bar in bars]
    return rows_figure(title, rows, xmax=max(1.0, *(row.length for row in rows)), bar_pt=26)


def progress_chart(
    bars: Sequence[MetricBar],
    *,
    title: str,
    percent_fmt: Callable[[float], str],
    empty_text: str = "—",
) -> bytes:
    return render(
        progress_figure(bars, title=title, percent_fmt=percent_fmt, empty_text=empty_text)
    )
