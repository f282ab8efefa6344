"""The digest's formulas on small cases computed by hand (see each comment)."""

from __future__ import annotations

import math
from datetime import date, timedelta

from hypothesis import given
from hypothesis import strategies as st

from handlers.read.forecast import Calendar, forecast, silent_teams


def days(first: date, last: date, value: float) -> dict[date, float]:
    return {first + timedelta(days=i): value for i in range((last - first).days + 1)}


MON = date(2025, 3, 3)  # a Monday


def test_behind_without_rest_days() -> None:
    # 5 a day for 7 days; target 100 by Fri 14 Mar. Rate 35/7 = 5; 65 left over the 5 working
    # days 10–14 Mar needs 13 a day: 5 < 0.8 × 13, behind. At 5 a day, 13 more days: 22 Mar.
    cal = Calendar(MON, date(2025, 3, 14))
    f = forecast(days(MON, date(2025, 3, 9), 5), 100, cal, date(2025, 3, 9))
    assert (f.today, f.total, f.ratio, f.rate, f.required) == (5, 35, 0.35, 5, 13)
    assert f.projected == date(2025, 3, 22) and f.status == "behind"
    assert f.at_deadline == 60  # 35 + 5 a day over those 5 days


def test_rest_days_are_not_counted() -> None:
    # Sundays off. 10 on Mon–Sat 3–8 Mar and on Mon 10 Mar: total 70. The window 4–10 Mar has
    # 6 working days with 60 done: rate 10. Deadline Sat 22 Mar: 11 working days after today,
    # 130 left → 11.8 a day; 10 ≥ 0.8 × 11.8: at risk. 13 working days at 10 a day: Tue 25 Mar.
    cal = Calendar(MON, date(2025, 3, 22), rest_weekdays={7})
    daily = days(MON, date(2025, 3, 8), 10) | {date(2025, 3, 10): 10}
    f = forecast(daily, 200, cal, date(2025, 3, 10))
    assert (f.total, f.rate) == (70, 10)
    assert math.isclose(f.required or 0, 130 / 11)
    assert f.status == "at_risk" and f.projected == date(2025, 3, 25)
    assert f.at_deadline == 180  # 70 + 10 a day over the 11 working days


def test_on_track_and_no_deadline() -> None:
    cal = Calendar(MON, date(2025, 3, 14))
    assert forecast(days(MON, date(2025, 3, 9), 20), 200, cal, date(2025, 3, 9)).status == (
        "on_track"
    )  # 60 left in 5 days needs 12 < 20
    open_ended = forecast(
        days(MON, date(2025, 3, 9), 5), 100, Calendar(MON, None), date(2025, 3, 9)
    )
    assert open_ended.required is None and open_ended.status == "on_track"
    assert open_ended.at_deadline is None
    assert open_ended.projected == date(2025, 3, 22)


def test_no_target_nothing_yet_and_target_met() -> None:
    cal = Calendar(MON, date(2025, 3, 14))
    no_target = forecast(days(MON, date(2025, 3, 9), 5), None, cal, date(2025, 3, 9))
    assert no_target.status == "no_target" and no_target.ratio is None and no_target.rate == 5
    nothing = forecast({}, 100, cal, date(2025, 3, 9))
    assert (nothing.total, nothing.rate, nothing.projected, nothing.status) == (
        0,
        0,
        None,
        "behind",
    )
    assert nothing.required == 20  # 100 over 10–14 Mar
    met = forecast(days(MON, date(2025, 3, 9), 20), 100, cal, date(2025, 3, 9))
    assert (met.status, met.required, met.projected, met.ratio) == ("done", 0, None, 1.4)


def test_deadline_passed_and_first_day() -> None:
    cal = Calendar(MON, date(2025, 3, 5))
    late = forecast(days(MON, date(2025, 3, 9), 5), 100, cal, date(2025, 3, 9))
    assert late.required == math.inf and late.status == "behind"
    first = forecast({MON: 8}, 100, Calendar(MON, None), MON)
    assert (first.rate, first.today) == (8, 8)  # the window starts at the campaign start


def test_reports_after_today_are_ignored() -> None:
    f = forecast({MON: 5, MON + timedelta(days=1): 50}, 100, Calendar(MON, None), MON)
    assert f.total == 5


def test_silent_teams_count_working_days() -> None:
    # Sundays off; today Mon 10 Mar. Last report Sat 8: only Mon 10 missed → not silent.
    # Fri 7: Sat 8 and Mon 10 → 2, silent. Never: every working day since Mon 3 → 7.
    cal = Calendar(MON, None, rest_weekdays={7})
    silent = silent_teams(
        {1: date(2025, 3, 8), 2: date(2025, 3, 7), 3: None, 4: date(2025, 3, 10)},
        cal,
        date(2025, 3, 10),
    )
    assert silent == {2: 2, 3: 7}
    assert Calendar(MON, None, rest_dates={date(2025, 3, 7)}).is_rest(date(2025, 3, 7))


# --- the calendar's closed forms against counting day by day --------------------------------
def _count(cal: Calendar, first: date, last: date) -> int:
    return sum(not cal.is_rest(first + timedelta(days=i)) for i in range((last - first).days + 1))


def _step(cal: Calendar, after: date, count: int) -> date:
    day = after
    while count > 0:
        day += timedelta(days=1)
        count -= not cal.is_rest(day)
    return day


calendars = st.builds(
    Calendar,
    st.just(MON),
    st.none(),
    st.sets(st.integers(1, 7), max_size=6),
    st.sets(st.dates(MON, MON + timedelta(days=120)), max_size=12),
)


@given(calendars, st.dates(MON, MON + timedelta(days=60)), st.integers(-3, 150), st.integers(0, 90))
def test_closed_forms_agree_with_counting_each_day(
    cal: Calendar, first: date, length: int, count: int
) -> None:
    assert cal.working_days(first, first + timedelta(days=length)) == _count(
        cal, first, first + timedelta(days=length)
    )
    assert cal.add_working_days(first, count) == _step(cal, first, count)


def test_huge_counts_and_far_deadlines_are_bounded() -> None:
    cal = Calendar(MON, date.max, rest_weekdays={6, 7}, rest_dates={date(2025, 9, 2)})
    # Monday to Friday from Mon 3 Mar 2025 up to Fri 31 Dec 9999: 2,078,175 working days (each
    # week has five; the last days run Mon 27–Fri 31 Dec), less the listed holiday.
    weeks, rest = divmod((date.max - MON).days + 1, 7)
    assert rest == 5 and cal.working_days(MON, date.max) == weeks * 5 + 5 - 1
    assert cal.add_working_days(MON, 10**12) is None  # past the end of the calendar
    assert cal.add_working_days(MON, 5 * 52) == date(2026, 3, 3)  # 52 weeks, one holiday
    assert Calendar(MON, None, rest_weekdays=set(range(1, 8))).add_working_days(MON, 1) is None


def test_a_pace_that_never_gets_there_is_not_in_sight() -> None:
    # 1 VND a day against a 2 tỷ target: 2e9 working days, far beyond the calendar.
    cal = Calendar(MON, date.max, rest_weekdays={7})
    f = forecast({MON: 1.0}, 2e9, cal, MON)
    assert f.projected is None and f.status == "behind" and f.required is not None
    tiny = forecast({MON: 1e-300}, 2e9, Calendar(MON, None), MON)
    assert tiny.projected is None and tiny.status == "on_track"
