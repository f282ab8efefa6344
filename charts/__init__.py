"""Charts for progress replies and the daily digest: pure functions from data to PNG bytes, sized
for a phone screen. See `charts.data` for the inputs; `*_figure` return the matplotlib Figure
(for tests), `*_chart` its PNG."""

from charts.breakdown import breakdown_chart, breakdown_figure
from charts.data import MetricBar, Share, Status, Trend
from charts.progress import progress_chart, progress_figure
from charts.style import OKABE_ITO, render
from charts.trend import trend_chart, trend_figure

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
