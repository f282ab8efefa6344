"""Charts for progress replies and the daily digest: pure functions from data to PNG bytes, sized
for a phone screen. See `charts.data` for the inputs; `*_figure` return the matplotlib Figure
(for tests), `*_chart` its PNG.

The drawing functions are loaded on first use (PEP 562): importing the package for its data
classes must not load matplotlib, which costs a command that draws nothing ~1 s and ~30 MB."""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from charts.data import MetricBar, Share, Status, Trend

if TYPE_CHECKING:
    from charts.breakdown import breakdown_chart, breakdown_figure
    from charts.progress import progress_chart, progress_figure
    from charts.style import OKABE_ITO, render
    from charts.trend import trend_chart, trend_figure

_LAZY = {
    "OKABE_ITO": "charts.style",
    "render": "charts.style",
    "breakdown_chart": "charts.breakdown",
    "breakdown_figure": "charts.breakdown",
    "progress_chart": "charts.progress",
    "progress_figure": "charts.progress",
    "trend_chart": "charts.trend",
    "trend_figure": "charts.trend",
}


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module 'charts' has no attribute {name!r}")
    value = getattr(import_module(_LAZY[name]), name)
    globals()[name] = value  # the next look-up is an ordinary attribute
    return value


__all__ = [
    "OKABE_ITO",
    "MetricBar",
    "Share",
    "Status",
    "Trend",
    "breakdown_chart",
    "breakdown_figure",
    "progress_chart",
    "progress_figure",
    "render",
    "trend_chart",
    "trend_figure",
]
