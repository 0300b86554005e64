"""Service levels: which deadline a report is running against, read from its history."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Protocol, TypeVar

from reports.lifecycle import WITH_KOMINFO, Status
from reports.workdays import WorkCalendar
from storage.models import Report, ReportEvent

if TYPE_CHECKING:
    from storage.city import City

# Statuses in which the agency still owes the resident an answer.
AWAITING_ANSWER = frozenset({Status.ASSIGNED, Status.REOPENED})



class Moment(Protocol):
    """What the clocks read of a status change: a ReportEvent, or its plain facts."""

    @property
    def status(self) -> str: ...

    @property
    def at(self) -> datetime: ...


class Filed(Protocol):
    """What the clocks read of a report: its category (which sets the days)."""

    @property
    def category_key(self) -> str: ...


M = TypeVar("M", bound=Moment)

VERIFY = "verify"
ANSWER = "answer"
CONFIRM = "confirm"  # resolved: closes by itself unless the resident says it is not fixed


@dataclass(frozen=True, slots=True)
class StageClock:
    """The deadline a report runs against now."""

    stage: str
    anchor: ReportEvent  # the event that started the clock
    days: int
    due_day: date  # the last working day
    deadline: datetime  # the moment it passes

    def overdue(self, now: datetime) -> bool:
        return now >= self.deadline


def calendar_for(city: City) -> WorkCalendar:
    return WorkCalendar(city.tz)


def stage_days(city: City, report: Filed, stage: str) -> int:
    category = city.category(report.category_key)
    if stage == VERIFY:
        return category.verify_days if category else city.verify_days
    if stage == ANSWER:
        return category.answer_days if category else city.answer_days
    return city.auto_close_days


def _stage_for(status: str) -> str | None:
    if status in WITH_KOMINFO:
        return VERIFY
    if status in AWAITING_ANSWER:
        return ANSWER
    if status == Status.RESOLVED:
        return CONFIRM
    return None


def current_anchor(events: Sequence[ReportEvent], stage: str) -> ReportEvent | None:
    """The event that started the stage the report is in now.

    Kominfo's clock starts when the report enters its hands (filed, or handed back by an
    agency) and keeps running while it is verified but not yet passed on. The agency's clock
    restarts at each assignment (a re-route) and at each reopening.
    """
    if not events:
        return None
    if stage == VERIFY:
        anchor = None
        for event in reversed(events):
            if event.status not in WITH_KOMINFO:
                break
            anchor = event
        return anchor
    wanted = AWAITING_ANSWER if stage == ANSWER else frozenset({Status.RESOLVED})
    for event in reversed(events):
        if event.status in wanted:
            return event
    return None


def current_clock(
    report: Report, events: Sequence[ReportEvent], *, city: City,
    calendar: WorkCalendar | None = None,
) -> StageClock | None:
    """The deadline of the stage the report is in, or None when no clock runs."""
    stage = _stage_for(report.status)
    if stage is None:
        return None
    anchor = current_anchor(events, stage)
    if anchor is None:
        return None
    cal = calendar or calendar_for(city)
    days = stage_days(city, report, stage)
    due = cal.due_day(anchor.at, days)
    return StageClock(stage=stage, anchor=anchor, days=days, due_day=due,
                      deadline=cal.end_of(due))


def first_run(events: Sequence[M], stage: str) -> tuple[M | None, M | None]:
    """The first time a report went through a stage: (start, the event that ended it).

    For the weekly evaluation: verification runs from filing to the first status outside
    Kominfo's hands; the agency's answer from the first assignment to its first response.
    """
    statuses = WITH_KOMINFO if stage == VERIFY else AWAITING_ANSWER
    start: M | None = None
    for event in events:
        if start is None:
            if event.status in statuses and (stage == VERIFY or event.status == Status.ASSIGNED):
                start = event
            continue
        if event.status not in statuses:
            return start, event
    return start, None
