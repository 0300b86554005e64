"""Working days in the city's time zone: weekends and Indonesian national holidays excluded."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

import holidays


@cache
def _holidays(country: str, year: int) -> frozenset[date]:
    found: Any = holidays.country_holidays(country, years=year)
    return frozenset(found.keys())


class WorkCalendar:
    """Working-day arithmetic for one city (SP4N-LAPOR! deadlines count working days)."""

    def __init__(self, tz: ZoneInfo, *, country: str = "ID") -> None:
        self.tz = tz
        self.country = country
        # Load this year's and next year's holidays now: the first load imports the country's
        # tables (tens of milliseconds), which would otherwise stall the first report's
        # transaction.
        this_year = datetime.now(tz).year
        for year in (this_year, this_year + 1):
            _holidays(country, year)

    def is_working_day(self, day: date) -> bool:
        return day.weekday() < 5 and day not in _holidays(self.country, day.year)

    def local_date(self, moment: datetime) -> date:
        return moment.astimezone(self.tz).date()

    def shift(self, day: date, n: int) -> date:
        """The working day `n` working days after `day` (before it when n < 0).

        With n == 0 this is `day` itself when it is a working day, else the next working day.
        """
        current = day
        if n >= 0:
            while not self.is_working_day(current):
                current += timedelta(days=1)
            for _ in range(n):
                current += timedelta(days=1)
                while not self.is_working_day(current):
                    current += timedelta(days=1)
            return current
        for _ in range(-n):
            current -= timedelta(days=1)
            while not self.is_working_day(current):
                current -= timedelta(days=1)
        return current

    def due_day(self, start: datetime, days: int) -> date:
        """The last working day of a deadline of `days` working days counted from `start`.

        The day of `start` does not count: a report filed on Monday with 3 working days is due
        by the end of Thursday; one filed on Saturday, by the end of Wednesday.
        """
        return self.shift(self.local_date(start) + timedelta(days=1), days - 1)

    def deadline(self, start: datetime, days: int) -> datetime:
        """The moment a deadline of `days` working days from `start` passes (UTC)."""
        return self.end_of(self.due_day(start, days))

    def end_of(self, day: date) -> datetime:
        """Midnight at the end of `day`, local time, as an aware UTC-comparable datetime."""
        return datetime.combine(day + timedelta(days=1), time(0), tzinfo=self.tz)

    def at(self, day: date, hour: int) -> datetime:
        return datetime.combine(day, time(hour), tzinfo=self.tz)

    def working_days_left(self, now: datetime, due: date) -> int:
        """Whole working days after today up to and including the due day.

        0 means the deadline ends today; negative numbers count working days overdue.
        """
        today = self.local_date(now)
        if due >= today:
            return self.count_between(today, due)
        return -self.count_between(due, today)

    def count_between(self, first: date, last: date) -> int:
        """Working days d with first < d <= last (whole weeks counted at once: an inbox of
        reports overdue for months asks this hundreds of times per page)."""
        if last <= first:
            return 0
        start = first + timedelta(days=1)
        days = (last - start).days + 1
        weeks, rest = divmod(days, 7)
        count = weeks * 5 + sum(1 for n in range(rest)
                                if (start + timedelta(days=weeks * 7 + n)).weekday() < 5)
        for year in range(start.year, last.year + 1):
            count -= sum(1 for day in _holidays(self.country, year)
                         if start <= day <= last and day.weekday() < 5)
        return count
