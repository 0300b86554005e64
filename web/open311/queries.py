"""GET requests' filters: service_request_id, service_code, status, start_date and end_date,
with the specification's limits (90 days, 1000 requests)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING

from bot.i18n import _
from reports.lifecycle import OPEN, Status
from web.open311.intake import Refused, echo, parse_moment

if TYPE_CHECKING:
    from storage.city import City

MAX_REQUESTS = 1000
MAX_SPAN = timedelta(days=90)
TICKET = re.compile(r"^[A-Za-z0-9-]{1,32}$")
CLOSED = tuple(s for s in Status if s not in OPEN)


@dataclass(frozen=True, slots=True)
class Query:
    """What to list: some tickets, or the reports filed in a window (of some services and
    statuses)."""

    tickets: list[str] | None = None
    start: datetime | None = None
    end: datetime | None = None
    services: list[str] = field(default_factory=list)
    statuses: list[str] = field(default_factory=list)  # the lifecycle's; empty: all


def _items(text: str | None) -> list[str]:
    return [part.strip() for part in (text or "").split(",") if part.strip()]


def _day_or_moment(name: str, text: str, city: City, *, end: bool) -> datetime:
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text.strip()):
        try:
            day = date.fromisoformat(text.strip())
        except ValueError:
            day = None
        if day is not None and 1900 <= day.year <= 9000:
            # A day alone: from its start, or through its end.
            moment = datetime.combine(day, time(0), tzinfo=city.tz)
            return moment + timedelta(days=1) - timedelta(microseconds=1) if end else moment
    found = parse_moment(text, city)
    if found is None:
        raise Refused(400, _("{field} must be a date and time (RFC 3339, e.g. "
                             "2026-12-07T09:00:00+07:00).").format(field=name))
    return found


def read_query(params: Mapping[str, str], city: City, now: datetime) -> Query:
    """The filters of a GET requests call; raises Refused naming what is wrong."""
    wanted = _items(params.get("service_request_id"))
    if wanted:
        # The specification: a list of ids overrides every other argument.
        if len(wanted) > MAX_REQUESTS:
            raise Refused(400, _("At most {n} service_request_id values at once.").format(
                n=MAX_REQUESTS))
        return Query(tickets=[t.upper() for t in wanted if TICKET.match(t)])
    services = _items(params.get("service_code"))
    for code in services:
        if city.category(code) is None:
            raise Refused(404, _("service_code “{code}” is not a service of {city}: see "
                                 "services.json.").format(code=echo(code), city=city.name))
    statuses: list[str] = []
    asked = {s.lower() for s in _items(params.get("status"))}
    unknown = asked - {"open", "closed"}
    if unknown:
        raise Refused(400, _("status is open or closed (or both, comma-separated), not "
                             "“{value}”.").format(value=echo(sorted(unknown)[0])))
    if asked == {"open"}:
        statuses = sorted(OPEN)
    elif asked == {"closed"}:
        statuses = sorted(CLOSED)
    start_text, end_text = params.get("start_date"), params.get("end_date")
    start = _day_or_moment("start_date", start_text, city, end=False) if start_text else None
    end = _day_or_moment("end_date", end_text, city, end=True) if end_text else None
    if start is None and end is None:
        end = now
    if start is None:
        assert end is not None
        start = end - MAX_SPAN
    if end is None:
        end = start + MAX_SPAN
    if end < start:
        raise Refused(400, _("end_date is before start_date."))
    if end - start > MAX_SPAN + timedelta(days=1):
        raise Refused(400, _("start_date and end_date may not span more than 90 days."))
    return Query(start=start, end=end, services=services, statuses=statuses)
