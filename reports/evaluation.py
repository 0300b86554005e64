"""The weekly evaluation: what came in, how fast agencies answered, what is overdue, how residents
rated it.

Definitions (the same in every output):
- The period covers reports filed from `start` 00:00 to `end` 24:00, city time.
- Verification is on time when the report left Kominfo's hands (passed to an agency, referred,
  rejected or merged) before its verification deadline; it counts as due once that happened or
  the deadline passed.
  A report passed on at the moment it was filed, verified by no one (a category the city
  sends straight to its agency), has no verification to count: it is neither due nor on time.
- An answer is on time when the agency's first response after the first assignment (in
  progress, resolved, handed back, merged) came before its deadline; due likewise.
- Time to first response runs from the first assignment to that response; time to resolution
  from the first assignment to the first "resolved". Both in hours, medians per agency.
- Per agency, of the reports filed in the period: passed on (verified and passed to it at least
  once), in progress now (in progress or reopened), resolved now (resolved or closed); the
  median working days from the first assignment to the first "resolved" (the day of the
  assignment not counted, as deadlines count).
- Overdue now: reports whose current deadline has passed at `as_of`, whenever filed.
- Reopened: reopenings during the period. Satisfaction: answers given during the period.
"""

from __future__ import annotations

import csv
import io
import statistics
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any

from sqlmodel.ext.asyncio.session import AsyncSession

from reports.lifecycle import WITH_KOMINFO, Status
from reports.sla import (
    ANSWER,
    AWAITING_ANSWER,
    VERIFY,
    Filed,
    Moment,
    calendar_for,
    current_clock,
    first_run,
    stage_days,
)
from reports.workdays import WorkCalendar
from storage import repo_agencies
from storage.models import Report
from storage.repo_agencies import EventFacts

if TYPE_CHECKING:
    from storage.city import City

KOMINFO = "kominfo"  # the bucket for reports waiting on Kominfo (verification)


@dataclass(slots=True)
class _AgencyFigures:
    received: int = 0
    passed_on: int = 0  # verified and passed to the agency at least once
    in_progress: int = 0  # being handled now (in progress, or reopened)
    resolved: int = 0  # resolved or closed now
    answer_due: int = 0
    answered_on_time: int = 0
    response_hours: list[float] = field(default_factory=list)
    resolution_hours: list[float] = field(default_factory=list)
    resolution_workdays: list[float] = field(default_factory=list)
    overdue_now: int = 0
    reopened: int = 0
    ratings: int = 0
    fixed: int = 0
    not_fixed: int = 0
    stars: list[int] = field(default_factory=list)


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _median(values: list[float]) -> float | None:
    return round(statistics.median(values), 1) if values else None


def _hours(start: datetime, end: datetime) -> float:
    return (end - start).total_seconds() / 3600


def _counted(counter: Counter[str], names: dict[str, str]) -> list[dict[str, Any]]:
    rows = [{"key": key, "name": names.get(key, key), "count": count}
            for key, count in counter.items()]
    return sorted(rows, key=lambda r: (-r["count"], r["name"]))


def period_bounds(city: City, start: date, end: date) -> tuple[datetime, datetime]:
    """[start 00:00, the day after end 00:00) in city time."""
    return (datetime.combine(start, time(0), tzinfo=city.tz),
            datetime.combine(end + timedelta(days=1), time(0), tzinfo=city.tz))


async def evaluate(
    *, session: AsyncSession, city: City, start: date, end: date, as_of: datetime,
) -> dict[str, Any]:
    """Every figure of the weekly meeting for reports filed between `start` and `end`."""
    calendar = calendar_for(city)
    lower, upper = period_bounds(city, start, end)
    # Plain rows, not ORM objects: a week holds thousands of reports and their histories.
    reports = await repo_agencies.report_facts_created(session=session, start=lower, end=upper)
    events = await repo_agencies.event_facts_created(session=session, start=lower, end=upper)
    agencies: dict[str, _AgencyFigures] = defaultdict(_AgencyFigures)

    by_kec: Counter[str] = Counter()
    by_kel: Counter[str] = Counter()
    by_cat: Counter[str] = Counter()
    by_agency: Counter[str] = Counter()
    verify_due = verify_on_time = answer_due = answer_on_time = 0
    for report in reports:
        history = events.get(report.id, [])
        agency = report.agency_key or "-"
        by_kec[report.kecamatan_code or "-"] += 1
        by_kel[report.kelurahan_code or "-"] += 1
        by_cat[report.category_key] += 1
        by_agency[agency] += 1
        figures = agencies[agency]
        figures.received += 1

        begun, ended = first_run(history, VERIFY)
        if begun is not None and not _verification_skipped(history, begun):
            deadline = calendar.deadline(begun.at, stage_days(city, report, VERIFY))
            if ended is not None or as_of >= deadline:
                verify_due += 1
                if ended is not None and ended.at < deadline:
                    verify_on_time += 1

        if report.status in (Status.IN_PROGRESS, Status.REOPENED):
            figures.in_progress += 1
        elif report.status in (Status.RESOLVED, Status.CLOSED):
            figures.resolved += 1
        begun, ended = first_run(history, ANSWER)
        if begun is None:
            continue
        figures.passed_on += 1
        on_time = answered_on_time(report, history, city=city, calendar=calendar, as_of=as_of)
        if on_time is not None:
            answer_due += 1
            figures.answer_due += 1
            if on_time:
                answer_on_time += 1
                figures.answered_on_time += 1
        if ended is not None:
            figures.response_hours.append(_hours(begun.at, ended.at))
        resolved = _first_after(history, begun, Status.RESOLVED)
        if resolved is not None:
            figures.resolution_hours.append(_hours(begun.at, resolved.at))
            figures.resolution_workdays.append(calendar.count_between(
                calendar.local_date(begun.at), calendar.local_date(resolved.at)))

    overdue = await _overdue_now(session=session, city=city, as_of=as_of, calendar=calendar)
    for key, count in overdue.items():
        if key != KOMINFO:
            agencies[key].overdue_now += count

    reopened_events = await repo_agencies.list_events_between(
        session=session, status=Status.REOPENED, start=lower, end=upper)
    ratings = await repo_agencies.list_ratings_between(session=session, start=lower, end=upper)
    touched = {e.report_id for e in reopened_events} | {r.report_id for r in ratings}
    owners: dict[int, str] = {r.id: r.agency_key or "-" for r in reports}
    for report_id in touched - set(owners):
        found = await repo_agencies.get_report(session=session, report_id=report_id)
        owners[report_id] = (found.agency_key if found else None) or "-"
    for event in reopened_events:
        agencies[owners[event.report_id]].reopened += 1
    stars_all: list[int] = []
    for rating in ratings:
        figures = agencies[owners[rating.report_id]]
        figures.ratings += 1
        if rating.fixed:
            figures.fixed += 1
        else:
            figures.not_fixed += 1
        if rating.stars:
            figures.stars.append(rating.stars)
            stars_all.append(rating.stars)

    names = {k.code: k.name for k in city.kecamatan}
    kel_names = {}
    for kel in city.all_kelurahan():
        kec = city.kecamatan_by_code(kel.kecamatan_code)
        kel_names[kel.code] = f"{kel.name} ({kec.name})" if kec else kel.name
    cat_names = {c.key: c.names.get("id", c.key) for c in city.categories}
    agency_names = {a.key: a.short_name for a in city.agencies.values()}
    return {
        "period": {"from": start.isoformat(), "to": end.isoformat(),
                   "as_of": as_of.isoformat()},
        "received": {
            "total": len(reports),
            "by_kecamatan": _counted(by_kec, names),
            "by_kelurahan": _counted(by_kel, kel_names),
            "by_category": _counted(by_cat, cat_names),
            "by_agency": _counted(by_agency, agency_names),
        },
        "verification": {"due": verify_due, "on_time": verify_on_time,
                         "share_on_time": _share(verify_on_time, verify_due)},
        "answer": {"due": answer_due, "on_time": answer_on_time,
                   "share_on_time": _share(answer_on_time, answer_due)},
        "overdue_now": {
            "total": sum(overdue.values()),
            "verification": overdue.get(KOMINFO, 0),
            "by_agency": {k: v for k, v in sorted(overdue.items()) if k != KOMINFO},
        },
        "reopened": len(reopened_events),
        "satisfaction": {
            "ratings": len(ratings),
            "fixed": sum(1 for r in ratings if r.fixed),
            "not_fixed": sum(1 for r in ratings if not r.fixed),
            "average_stars": round(statistics.fmean(stars_all), 2) if stars_all else None,
        },
        "agencies": [
            {
                "agency": key,
                "name": agency_names.get(key, key),
                "received": f.received,
                "passed_on": f.passed_on,
                "in_progress": f.in_progress,
                "resolved": f.resolved,
                "answer_due": f.answer_due,
                "answered_on_time": f.answered_on_time,
                "share_answered_on_time": _share(f.answered_on_time, f.answer_due),
                "median_hours_to_first_response": _median(f.response_hours),
                "median_hours_to_resolution": _median(f.resolution_hours),
                "median_workdays_to_resolution": _median(f.resolution_workdays),
                "overdue_now": f.overdue_now,
                "reopened": f.reopened,
                "ratings": f.ratings,
                "fixed": f.fixed,
                "not_fixed": f.not_fixed,
                "average_stars": round(statistics.fmean(f.stars), 2) if f.stars else None,
            }
            for key, f in sorted(agencies.items())
        ],
    }


def answered_on_time(report: Filed, history: Sequence[Moment], *, city: City,
                     calendar: WorkCalendar, as_of: datetime) -> bool | None:
    """Whether the agency's first response came before its deadline (the definition above);
    None while it is not due yet, or when the report was never passed to an agency."""
    begun, ended = first_run(history, ANSWER)
    if begun is None:
        return None
    deadline = calendar.deadline(begun.at, stage_days(city, report, ANSWER))
    if ended is None and as_of < deadline:
        return None
    return ended is not None and ended.at < deadline


def _first_after(history: list[EventFacts], begun: EventFacts,
                 status: str) -> EventFacts | None:
    seen = False
    for event in history:
        if event is begun:
            seen = True
            continue
        if seen and event.status == status:
            return event
    return None


async def _overdue_now(*, session: AsyncSession, city: City, as_of: datetime,
                       calendar: WorkCalendar) -> Counter[str]:
    """Open reports past their current deadline: Kominfo's under "kominfo", else by agency.

    Counted from the deadline each report keeps (`Report.due_at`, written at each move); a
    report from before that column (no deadline written) is read from its history."""
    found: Counter[str] = Counter()
    for status, agency, n in await repo_agencies.count_overdue(
            session=session, statuses=[*WITH_KOMINFO, *AWAITING_ANSWER], as_of=as_of):
        found[KOMINFO if status in WITH_KOMINFO else (agency or "-")] += n
    legacy: list[Report] = list(await repo_agencies.list_reports_by_status(
        session=session, statuses=[*WITH_KOMINFO, *AWAITING_ANSWER], without_deadline=True))
    events = await repo_agencies.list_events_for(session=session,
                                                 report_ids=[r.id or 0 for r in legacy])
    for report in legacy:
        clock = current_clock(report, events.get(report.id or 0, []), city=city,
                              calendar=calendar)
        if clock is None or not clock.overdue(as_of):
            continue
        found[KOMINFO if clock.stage == VERIFY else (report.agency_key or "-")] += 1
    return found


# --- other shapes ----------------------------------------------------------------------------


def to_rows(figures: dict[str, Any]) -> list[list[Any]]:
    """One flat table: section, key, name, metric, value (for CSV)."""
    rows: list[list[Any]] = [["section", "key", "name", "metric", "value"]]
    rows.append(["received", "", "", "total", figures["received"]["total"]])
    for group in ("by_kecamatan", "by_kelurahan", "by_category", "by_agency"):
        for item in figures["received"][group]:
            rows.append([f"received_{group}", item["key"], item["name"], "count", item["count"]])
    for section in ("verification", "answer"):
        for metric, value in figures[section].items():
            rows.append([section, "", "", metric, value])
    over = figures["overdue_now"]
    rows.append(["overdue_now", "", "", "total", over["total"]])
    rows.append(["overdue_now", KOMINFO, "", "verification", over["verification"]])
    for key, value in over["by_agency"].items():
        rows.append(["overdue_now", key, "", "count", value])
    rows.append(["reopened", "", "", "count", figures["reopened"]])
    for metric, value in figures["satisfaction"].items():
        rows.append(["satisfaction", "", "", metric, value])
    for agency in figures["agencies"]:
        for metric, value in agency.items():
            if metric not in ("agency", "name"):
                rows.append(["agency", agency["agency"], agency["name"], metric, value])
    return rows


def to_csv(figures: dict[str, Any]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    for row in to_rows(figures):
        writer.writerow(["" if v is None else v for v in row])
    return out.getvalue()


def _verification_skipped(history: list[EventFacts], begun: EventFacts) -> bool:
    """Verified by no one at the very moment of filing: the verification did not happen."""
    return any(e.status == Status.VERIFIED and e.actor_id is None and e.at == begun.at
               for e in history)
