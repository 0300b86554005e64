"""Working days: weekends and Indonesian national holidays do not count towards a deadline."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from factories import WIB, wib
from reports.workdays import WorkCalendar

cal = WorkCalendar(WIB)


@pytest.mark.parametrize(
    ("start", "days", "due"),
    [
        (wib(12, 7), 3, date(2026, 12, 10)),  # Monday + 3 → Thursday
        (wib(12, 4), 3, date(2026, 12, 9)),  # Friday: the weekend does not count
        (wib(12, 5), 3, date(2026, 12, 9)),  # filed on Saturday: counts from Monday
        (wib(12, 7), 5, date(2026, 12, 14)),  # a full week, over the weekend
        (wib(12, 22), 5, date(2026, 12, 30)),  # Christmas (Friday 25th) skipped
        (wib(3, 5, year=2027), 3, date(2027, 3, 15)),  # Nyepi (8th) and Idul Fitri (10th-11th)
        (wib(12, 31, 23), 1, date(2027, 1, 4)),  # New Year's Day, then a weekend
    ],
)
def test_due_day_skips_weekends_and_holidays(start: datetime, days: int, due: date) -> None:
    assert cal.due_day(start, days) == due


def test_filing_late_in_the_evening_counts_in_city_time() -> None:
    # 18:30 UTC on Sunday is already Monday 01:30 in Binjai: Monday is the filing day.
    start = datetime(2026, 12, 6, 18, 30, tzinfo=UTC)
    assert cal.due_day(start, 1) == date(2026, 12, 8)


def test_deadline_passes_at_midnight_after_the_last_day() -> None:
    deadline = cal.deadline(wib(12, 7), 3)
    assert deadline == datetime(2026, 12, 11, 0, 0, tzinfo=WIB)
    assert deadline.astimezone(UTC) == datetime(2026, 12, 10, 17, 0, tzinfo=UTC)


def test_holidays_and_weekends_are_not_working_days() -> None:
    assert cal.is_working_day(date(2026, 12, 24))
    assert not cal.is_working_day(date(2026, 12, 25))  # Christmas
    assert not cal.is_working_day(date(2026, 8, 17))  # Independence Day, a Monday
    assert not cal.is_working_day(date(2026, 12, 12))  # Saturday


@pytest.mark.parametrize(
    ("now", "left"),
    [
        (wib(12, 7), 3),
        (wib(12, 10, 16), 0),  # the last day
        (wib(12, 11), -1),
        (wib(12, 12), -1),  # Saturday adds nothing
        (wib(12, 14), -2),
    ],
)
def test_working_days_left_counts_down_and_then_overdue(now: datetime, left: int) -> None:
    assert cal.working_days_left(now, date(2026, 12, 10)) == left


def test_shift_moves_backwards_over_weekends() -> None:
    assert cal.shift(date(2026, 12, 14), -1) == date(2026, 12, 11)
    assert cal.shift(date(2026, 12, 12), 0) == date(2026, 12, 14)


@given(first=st.dates(min_value=date(2025, 1, 1), max_value=date(2028, 12, 31)),
       span=st.integers(min_value=-30, max_value=900))
@settings(max_examples=300, deadline=None)
def test_counting_working_days_at_once_matches_counting_them_one_by_one(first: date,
                                                                        span: int) -> None:
    calendar = WorkCalendar(ZoneInfo("Asia/Jakarta"))
    last = first + timedelta(days=span)
    one_by_one = sum(1 for n in range(1, max(span, 0) + 1)
                     if calendar.is_working_day(first + timedelta(days=n)))
    assert calendar.count_between(first, last) == one_by_one
