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
        return day.isoweekday() in self.rest_weekdays or day in self.rest_dates

    def working_days(self, first: date, last: date) -> int:
        """Working days in [first, last]; 0 if the range is empty."""
        count, day = 0, first
        while day <= last:
            count += not self.is_rest(day)
            day += timedelta(days=1)
        return count

    def add_working_days(self, after: date, count: int) -> date:
        """The date of the count-th working day after `after`."""
        day = after
        while count > 0:
            day += timedelta(days=1)
            count -= not self.is_rest(day)
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
