"""A campaign's days: where "today" is (its own time zone) and which days are rest days (its
weekdays off and listed dates). The one place these rules live."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from storage.models import Campaign


@dataclass(frozen=True)
class Calendar:
    start: date
    deadline: date | None
    rest_weekdays: Collection[int] = ()  # ISO weekdays
    rest_dates: Collection[date] = ()

    def is_rest(self, day: date) -> bool:
        return self.is_rest_weekday(day) or day in self.rest_dates

    def is_rest_weekday(self, day: date) -> bool:
        return day.isoweekday() in self.rest_weekdays

    # Closed forms: whole weeks, then the remainder, then the few listed rest dates by set
    # membership, so the cost never grows with the range (a deadline may be date.max).
    def working_days(self, first: date, last: date) -> int:
        """Working days in [first, last]; 0 if the range is empty."""
        if last < first:
            return 0
        weekdays = self._weekday_count(first, (last - first).days + 1)
        return weekdays - len(self._rest_dates_on_working_weekdays(first, last))

    def add_working_days(self, after: date, count: int) -> date | None:
        """The date of the count-th working day after `after`; None if the calendar ends first
        (date.max) or has no working weekday at all: a date that is not in sight."""
        if count <= 0:
            return after
        if not self._working_weekdays():
            return None
        # Each listed rest date before the answer pushes it one working day on: walk them in
        # order, jumping over the working days between them.
        cursor, left = after, count
        for rest in self._rest_dates_on_working_weekdays(after + timedelta(days=1), date.max):
            between = self._weekday_count(cursor + timedelta(days=1), (rest - cursor).days - 1)
            if between >= left:
                break
            cursor, left = rest, left - between
        return self._nth_working_weekday(cursor, left)

    def _working_weekdays(self) -> list[int]:
        return [w for w in range(1, 8) if w not in self.rest_weekdays]

    def _weekday_count(self, first: date, days: int) -> int:
        """How many of the `days` days from `first` fall on a working weekday."""
        weeks, remainder = divmod(days, 7)
        working = self._working_weekdays()
        start = first.isoweekday()
        extra = sum((start + i - 1) % 7 + 1 in working for i in range(remainder))
        return weeks * len(working) + extra

    def _rest_dates_on_working_weekdays(self, first: date, last: date) -> list[date]:
        return sorted(
            d for d in self.rest_dates if first <= d <= last and not self.is_rest_weekday(d)
        )

    def _nth_working_weekday(self, after: date, n: int) -> date | None:
        """The n-th (n ≥ 1) day on a working weekday after `after`, listed rest dates aside;
        None past date.max."""
        per_week = len(self._working_weekdays())
        weeks = (n - 1) // per_week
        left = n - weeks * per_week  # 1 … per_week: reached within the next 7 days
        try:
            day = after + timedelta(days=7 * weeks)
            while left:
                day += timedelta(days=1)
                left -= not self.is_rest_weekday(day)
        except OverflowError:
            return None
        return day


def calendar_of(campaign: Campaign) -> Calendar:
    return Calendar(
        campaign.start_date,
        campaign.deadline,
        set(campaign.rest_weekdays),
        {date.fromisoformat(d) for d in campaign.rest_dates},
    )


def local_now(campaign: Campaign, now: datetime) -> datetime:
    return now.astimezone(ZoneInfo(campaign.timezone))


def local_today(campaign: Campaign, now: datetime) -> date:
    """The date where the campaign is: a report sent at 23:30 in Hà Nội counts for that day."""
    return local_now(campaign, now).date()
