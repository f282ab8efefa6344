"""The digest's arithmetic (SPEC §5), as pure functions of daily totals and the calendar.

Rates are per *working* day: rest days (a campaign's weekdays off and listed dates) neither
count in the 7-day average nor as days left before the deadline, so a quiet Sunday does not
make a team look behind."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal

from handlers.language.calendar import Calendar

Status = Literal["on_track", "at_risk", "behind", "done", "no_target"]
WINDOW = 7  # days in the average rate
AT_RISK = 0.8  # a pace of at least this share of the required one is "at risk", below "behind"
SILENT_AFTER = 2  # working days without a report


@dataclass(frozen=True)
class Forecast:
    today: float
    total: float
    target: float | None
    ratio: float | None  # total / target
    rate: float  # average per working day over the last 7 days
    required: float | None  # per working day from tomorrow to the deadline; None without one
    projected: date | None  # when the target is reached at the current rate
    status: Status
    at_deadline: float | None  # the total by the deadline at the current rate


def forecast(
    daily: Mapping[date, float], target: float | None, calendar: Calendar, today: date
) -> Forecast:
    """`daily` holds one metric's totals by report date (any dates; later ones are ignored)."""
    total = sum(v for d, v in daily.items() if d <= today)
    window_start = max(calendar.start, today - timedelta(days=WINDOW - 1))
    worked = calendar.working_days(window_start, today)
    recent = sum(v for d, v in daily.items() if window_start <= d <= today)
    rate = recent / worked if worked else 0.0
    left = (
        None
        if calendar.deadline is None
        else calendar.working_days(today + timedelta(days=1), calendar.deadline)
    )
    at_deadline = None if left is None else total + rate * left
    if not target:
        return Forecast(
            daily.get(today, 0.0), total, None, None, rate, None, None, "no_target", at_deadline
        )
    remaining = target - total
    if remaining <= 0:
        return Forecast(
            daily.get(today, 0.0),
            total,
            target,
            total / target,
            rate,
            0.0,
            None,
            "done",
            at_deadline,
        )
    needed = remaining / rate if rate > 0 else math.inf
    # A pace so slow it never gets there (1 VND a day against billions) is not in sight.
    projected = (
        calendar.add_working_days(today, math.ceil(needed)) if math.isfinite(needed) else None
    )
    required = None if left is None else (remaining / left if left else math.inf)
    return Forecast(
        daily.get(today, 0.0),
        total,
        target,
        total / target,
        rate,
        required,
        projected,
        _status(rate, required),
        at_deadline,
    )


def _status(rate: float, required: float | None) -> Status:
    if required is None:  # no deadline: only whether it moves at all
        return "on_track" if rate > 0 else "at_risk"
    if rate >= required:
        return "on_track"
    return "at_risk" if rate >= AT_RISK * required else "behind"


def silent_teams(
    last_report: Mapping[int, date | None], calendar: Calendar, today: date
) -> dict[int, int]:
    """Teams with no report for SILENT_AFTER or more working days, with how many. A team that
    never reported counts from the campaign start."""
    silent: dict[int, int] = {}
    for team_id, last in last_report.items():
        since = (last + timedelta(days=1)) if last else calendar.start
        days = calendar.working_days(since, today)
        if days >= SILENT_AFTER:
            silent[team_id] = days
    return silent
