"""The trend chart as leaders receive it dates its time axis in their language: day and month,
and the year where the campaign crosses one (vi `dd/mm` and `dd/mm/yyyy`)."""

from __future__ import annotations

from datetime import date

import pytest

from handlers.language.i18n import Catalogs
from handlers.read import visuals
from handlers.read.forecast import Forecast
from storage.models import Campaign, Metric

HOUSEHOLDS = Metric(
    campaign_id=1, key="households", label_vi="Hộ", label_en="Households", unit="household"
)


def date_ticks(lang: str, start: date, today: date, deadline: date) -> list[str]:
    campaign = Campaign(code="road", name="Đường", start_date=start, deadline=deadline)
    forecast = Forecast(
        today=5.0,
        total=40.0,
        target=500.0,
        ratio=0.08,
        rate=5.0,
        required=4.0,
        projected=None,
        status="behind",
        at_deadline=400.0,
    )
    tr = Catalogs().translator(lang)
    chart = visuals.trend_chart(tr, campaign, today, HOUSEHOLDS, forecast, {today: 40.0})
    chart.figure.draw_without_rendering()
    (ax,) = chart.figure.axes
    return [label.get_text() for label in ax.get_xticklabels() if label.get_text()]


@pytest.mark.parametrize(
    ("lang", "expected"),
    [
        ("vi", ["01/10/2025", "20/01/2026", "30/04"]),
        ("en", ["1 Oct 2025", "20 Jan 2026", "30 Apr"]),
    ],
)
def test_a_campaign_across_new_year_dates_its_axis_with_the_years(
    lang: str, expected: list[str]
) -> None:
    assert date_ticks(lang, date(2025, 10, 1), date(2026, 1, 20), date(2026, 4, 30)) == expected


def test_within_one_year_the_axis_is_day_and_month() -> None:
    ticks = date_ticks("vi", date(2025, 2, 1), date(2025, 3, 10), date(2025, 6, 30))
    assert ticks == ["01/02", "10/03", "30/06"]
