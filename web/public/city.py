"""The city's public page: this month in Binjai. Reports received and resolved per agency, the
share answered on time, median working days (the figures of reports.evaluation), the kelurahan
map and the latest resolved reports; computed at most once per REFRESH and served from memory."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from fastapi import Request
from fastapi.responses import Response

from bot.i18n import _, format_date, ngettext
from reports import publishing
from reports.evaluation import evaluate
from reports.publishing import PublicReport
from web.fresh import Fresh
from web.maps import CityMap, legend

if TYPE_CHECKING:
    from web.public import PublicSite

# How long computed figures are served before they are computed again.
REFRESH = timedelta(minutes=5)
RECENT = 10
# Months one may look back on (`?month=YYYY-MM`).
MONTHS_BACK = 24


@dataclass(frozen=True, slots=True)
class Snapshot:
    start: date
    end: date
    as_of: datetime
    figures: dict[str, Any]
    recent: list[PublicReport]


def _month_before(start: date) -> date:
    return (start - timedelta(days=1)).replace(day=1)


def _earliest(today: date) -> date:
    """The first month one may look back on."""
    earliest = today.replace(day=1)
    for _n in range(MONTHS_BACK):
        earliest = _month_before(earliest)
    return earliest


def _month_of(text: str | None, today: date) -> date:
    """The first day of the month asked for (`YYYY-MM`, within MONTHS_BACK), else this one."""
    this = today.replace(day=1)
    try:
        year, month = (int(part) for part in (text or "").split("-"))
        asked = date(year, month, 1)
    except ValueError:
        return this
    return asked if _earliest(today) <= asked <= this else this


def _month_end(start: date) -> date:
    return (start + timedelta(days=32)).replace(day=1) - timedelta(days=1)


class CityPage:
    """`/`: a month's figures (this one unless `?month=YYYY-MM`), from memory."""

    def __init__(self, site: PublicSite, city_map: CityMap) -> None:
        self.site = site
        self.map = city_map
        self.calendar = site.calendar
        self._months: Fresh[date, Snapshot] = Fresh(REFRESH, most=MONTHS_BACK)

    async def snapshot(self, start: date) -> Snapshot:
        """The month's figures, computed again once they are REFRESH old: many readers (and a
        shared cache's misses) share one computation."""
        now = self.site.clock()

        async def compute() -> Snapshot:
            end = min(_month_end(start), self.calendar.local_date(now))
            # A month's events read: off the event loop, as the console's evaluation.
            async with self.site.db.reader(offload=True) as session:
                figures = await evaluate(session=session, city=self.site.city, start=start,
                                         end=end, as_of=now)
                recent = await publishing.recently_resolved(
                    session=session, city=self.site.city, as_of=now, limit=RECENT)
            return Snapshot(start, end, now, figures, recent)

        return await self._months.get(start, now, compute)

    async def show(self, request: Request) -> Response:
        site = self.site
        today = self.calendar.local_date(site.clock())
        start = _month_of(request.query_params.get("month"), today)
        snap = await self.snapshot(start)
        figures = snap.figures
        agencies = sorted((a for a in figures["agencies"]
                           if a["agency"] != "-" and (a["received"] or a["resolved"])),
                          key=lambda a: (-a["received"], a["name"]))
        received = {row["key"]: row["count"] for row in figures["received"]["by_kelurahan"]
                    if row["key"] != "-"}
        names = {k.code: k.name for k in site.city.all_kelurahan()}
        earlier = _month_before(start)
        later = _month_end(start) + timedelta(days=1)

        def draw() -> Any:
            return self.map.draw(
                received, names, title=_("Reports received per kelurahan"),
                describe=lambda name, n: ngettext("{name}: {n} report", "{name}: {n} reports",
                                                  n).format(name=name, n=n))

        return site.page(request, "city.html", {
            "snap": snap, "agencies": agencies,
            "resolved": sum(a["resolved"] for a in agencies),
            "map": draw, "legend": legend(max(received.values(), default=0)),
            "recent": snap.recent, "span_start": self.calendar.at(snap.start, 12),
            "span_end": self.calendar.at(snap.end, 12),
            "current": start == today.replace(day=1),
            "earlier": earlier.strftime("%Y-%m") if earlier >= _earliest(today) else None,
            "later": later.strftime("%Y-%m") if later <= today else None,
            "month_name": format_date(self.calendar.at(start, 12), fmt="MMMM y"),
        })
