"""The console's figures: the evaluation for the weekly meeting and the monthly meeting with
the mayor (print layout, CSV, Excel), and the map of reports per kelurahan."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from bot.i18n import _, format_date, ngettext, use_locale
from bot.outreach_texts import suggestion_rows, theme_names
from broadcasts.outreach import load_outreach
from broadcasts.suggestions import SuggestionService, suggestion_counts
from reports.evaluation import evaluate, to_csv, to_rows
from reports.lifecycle import Status
from reports.roles import Role
from storage import repo_console
from storage.models.agency import StaffMember
from storage.repo_console import InboxFilter
from storage.repo_outreach import SuggestionFilter
from web.fresh import Fresh
from web.maps import CityMap, legend

if TYPE_CHECKING:
    from web.console import Console

# Who reads the evaluation: heads only their agency's part.
FIGURE_READERS = (Role.KOMINFO, Role.LEADERSHIP, Role.HEAD)
OPEN = (Status.SUBMITTED, Status.VERIFIED, Status.ASSIGNED, Status.IN_PROGRESS,
        Status.REOPENED, Status.RESOLVED)
LONGEST = timedelta(days=366)
# How long computed evaluation figures are served before they are computed again: a week of
# 100,000 reports takes a few hundred milliseconds of the server's time, and the page says
# "as of" when they were computed.
FRESH = timedelta(minutes=5)


@dataclass(frozen=True, slots=True)
class Period:
    start: date
    end: date

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def before(self) -> Period:
        """The period of the same length just before (the previous week, or month)."""
        if self.start.day == 1 and (self.end + timedelta(days=1)).day == 1:
            last = self.start - timedelta(days=1)
            return Period(last.replace(day=1), last)
        return Period(self.start - timedelta(days=self.days),
                      self.start - timedelta(days=1))


def _month(today: date) -> Period:
    last = today.replace(day=1) - timedelta(days=1)
    return Period(last.replace(day=1), last)


def _week(today: date) -> Period:
    monday = today - timedelta(days=today.weekday())
    return Period(monday - timedelta(days=7), monday - timedelta(days=1))


def period_from(params: Any, today: date) -> Period:
    """The period asked for: `period=week|month` (the last full one), or `from`/`to`; by
    default the last full week, Monday to Sunday, for Monday's meeting."""
    if params.get("period") == "month":
        return _month(today)
    try:
        start = date.fromisoformat(params.get("from") or "")
        end = date.fromisoformat(params.get("to") or "")
    except ValueError:
        return _week(today)
    if end < start or end - start > LONGEST:
        return _week(today)
    return Period(start, end)


def change(now: float | None, before: float | None) -> dict[str, Any] | None:
    """The change against the previous period, for an arrow and a number."""
    if now is None or before is None:
        return None
    delta = now - before
    return {"delta": delta, "up": delta > 0, "down": delta < 0}


class FigurePages:
    """Routes for the evaluation and the map, on the console's sessions and pages."""

    def __init__(self, console: Console, city_map: CityMap) -> None:
        self.console = console
        self.map = city_map
        # A meeting's dozen readers (and their reloads) share one computation of the figures
        # and the map's counts; the page says "as of".
        self._evaluations: Fresh[tuple[date, date], dict[str, Any]] = Fresh(FRESH, most=64)
        self._counted: Fresh[tuple[date, date, str | None], dict[str, int]] = Fresh(
            FRESH, most=256)

    def add_routes(self, router: APIRouter) -> None:
        router.add_api_route("/evaluasi", self.evaluation, methods=["GET"])
        router.add_api_route("/evaluasi.csv", self.evaluation_csv, methods=["GET"])
        router.add_api_route("/evaluasi.xlsx", self.evaluation_xlsx, methods=["GET"])
        router.add_api_route("/peta", self.map_page, methods=["GET"])

    # -- who may read what ---------------------------------------------------------------------

    @staticmethod
    def _agency_only(staff: StaffMember) -> str | None:
        """An agency head reads their own agency's figures only."""
        return staff.agency_key if staff.role == Role.HEAD else None

    async def _figures(self, request: Request) -> tuple[Any, ...] | Response:
        console = self.console
        async with console.db.session() as session:
            refused, who, raw = await console.gate(request, session, roles=FIGURE_READERS)
        if refused is not None or who is None:
            return refused or console._to_signin()
        now = console.clock()
        period = period_from(request.query_params, console.calendar.local_date(now))
        earlier = period.before()
        # The figures read every event of two periods: off the event loop (Database.reader).
        async with console.db.reader(offload=True) as session:
            figures = await self._evaluated(session, period, now)
            previous = await self._evaluated(session, earlier, now)
            received = await self._received(session, period, self._agency_only(who.staff), now)
        only = self._agency_only(who.staff)
        if only is not None:
            figures = {**figures, "agencies": [a for a in figures["agencies"]
                                               if a["agency"] == only]}
            previous = {**previous, "agencies": [a for a in previous["agencies"]
                                                 if a["agency"] == only]}
        return who, raw, period, earlier, figures, previous, received

    # -- the evaluation ------------------------------------------------------------------------

    async def _suggestions(self, period: Period) -> dict[str, int]:
        """Residents' suggestions of the period per theme: the broadcasts domain's count,
        shown beside the agencies' figures (a city-wide figure: not for an agency head)."""
        console = self.console
        async with console.db.reader() as session:
            return await SuggestionService(session=session, now=console.clock).by_theme(
                SuggestionFilter(start=console.calendar.at(period.start, 0),
                                 end=console.calendar.at(period.end + timedelta(days=1), 0)))

    def _suggestion_rows(self, counts: dict[str, int]) -> list[list[Any]]:
        pack = load_outreach(self.console.reports_config.city_dir, self.console.city.reader)
        return suggestion_rows(counts, pack)

    async def _evaluated(self, session: Any, period: Period, now: datetime) -> dict[str, Any]:
        """The figures of a period, computed at most once per FRESH."""
        return await self._evaluations.get((period.start, period.end), now, lambda: evaluate(
            session=session, city=self.console.city, start=period.start, end=period.end,
            as_of=now))

    async def _received(self, session: Any, period: Period, agency: str | None,
                        now: datetime) -> dict[str, int]:
        """Reports received per kelurahan in the period (the map), as fresh as the figures
        beside it."""
        calendar = self.console.calendar
        return await self._counted.get(
            (period.start, period.end, agency), now,
            lambda: repo_console.count_by_kelurahan(session=session, where=InboxFilter(
                agency_key=agency, created_from=calendar.at(period.start, 0),
                created_until=calendar.at(period.end + timedelta(days=1), 0))))

    async def evaluation(self, request: Request) -> Response:
        found = await self._figures(request)
        if isinstance(found, Response):
            return found
        who, raw, period, earlier, figures, previous, received = found
        console = self.console
        before = {a["agency"]: a for a in previous["agencies"]}
        agencies = []
        for row in figures["agencies"]:
            if row["agency"] == "-":
                continue
            was = before.get(row["agency"], {})
            agencies.append({**row, "change_received": change(row["received"],
                                                              was.get("received", 0)),
                             "change_on_time": change(row["share_answered_on_time"],
                                                      was.get("share_answered_on_time"))})
        with_names = {k.code: k.name for k in console.city.all_kelurahan()}
        city_map = self.map.draw(
            received, with_names, title=_("Reports received per kelurahan"),
            describe=lambda name, n: ngettext("{name}: {n} report", "{name}: {n} reports",
                                              n).format(name=name, n=n),
            href=lambda code: f"/console/?kelurahan={code}&tab=agency")
        query = f"from={period.start.isoformat()}&to={period.end.isoformat()}"
        suggested: dict[str, Any] | None = None
        if self._agency_only(who.staff) is None:
            now_counts, then_counts = (await self._suggestions(period),
                                       await self._suggestions(earlier))
            pack = load_outreach(console.reports_config.city_dir, console.city.reader)
            with use_locale(who.staff.locale):
                names = theme_names([*now_counts, *then_counts], pack)
            suggested = {
                "total": sum(now_counts.values()),
                "change": change(sum(now_counts.values()), sum(then_counts.values())),
                "themes": [{**row, "change": change(row["count"], then_counts.get(row["key"], 0))}
                           for row in suggestion_counts(now_counts, names)]}
        return console.page(request, "evaluation.html", {
            "suggestions": suggested,
            "period": period, "earlier": earlier, "figures": figures, "previous": previous,
            "agencies": agencies, "map": city_map,
            "legend": legend(max(received.values(), default=0)),
            "city_only": self._agency_only(who.staff) is None,
            "changes": {
                "received": change(figures["received"]["total"],
                                   previous["received"]["total"]),
                "verified": change(figures["verification"]["share_on_time"],
                                   previous["verification"]["share_on_time"]),
                "answered": change(figures["answer"]["share_on_time"],
                                   previous["answer"]["share_on_time"]),
            },
            "query": query, "span": _span(period), "span_before": _span(earlier),
            "as_of": datetime.fromisoformat(figures["period"]["as_of"]),
        }, who=who, raw=raw)

    async def evaluation_csv(self, request: Request) -> Response:
        found = await self._figures(request)
        if isinstance(found, Response):
            return found
        who, _raw, period, _earlier, figures, *_rest = found
        name = f"evaluasi-{period.start.isoformat()}-{period.end.isoformat()}.csv"
        text = to_csv(figures)
        if self._agency_only(who.staff) is None:
            out = io.StringIO()
            csv.writer(out, lineterminator="\n").writerows(
                self._suggestion_rows(await self._suggestions(period)))
            text += out.getvalue()
        return Response(text, media_type="text/csv; charset=utf-8", headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "Cache-Control": "no-store"})

    async def evaluation_xlsx(self, request: Request) -> Response:
        found = await self._figures(request)
        if isinstance(found, Response):
            return found
        who, _raw, period, _earlier, figures, *_rest = found
        name = f"evaluasi-{period.start.isoformat()}-{period.end.isoformat()}.xlsx"
        more = (self._suggestion_rows(await self._suggestions(period))
                if self._agency_only(who.staff) is None else [])
        return Response(_workbook(figures, more), headers={
            "Content-Type": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            "Content-Disposition": f'attachment; filename="{name}"',
            "Cache-Control": "no-store"})

    # -- the map -------------------------------------------------------------------------------

    async def map_page(self, request: Request) -> Response:
        console = self.console
        params = request.query_params
        async with console.db.session() as session:
            refused, who, raw = await console.gate(request, session)
            if refused is not None or who is None:
                return refused or console._to_signin()
            now = console.clock()
            period = period_from(params, console.calendar.local_date(now))
            agency = (who.staff.agency_key if who.staff.role in (Role.OFFICER, Role.HEAD)
                      else None)
            category = params.get("category") or None
            if category is not None and console.city.category(category) is None:
                category = None
            asked = params.get("show") or "open"
            show = asked if asked in ("open", "overdue", "received") else "open"
            where = InboxFilter(
                agency_key=agency, category_key=category,
                statuses=OPEN if show in ("open", "overdue") else (),
                overdue_at=now if show == "overdue" else None,
                created_from=(console.calendar.at(period.start, 0)
                              if show == "received" else None),
                created_until=(console.calendar.at(period.end + timedelta(days=1), 0)
                               if show == "received" else None))
            counts = await repo_console.count_by_kelurahan(session=session, where=where)
        names = {k.code: k.name for k in console.city.all_kelurahan()}
        titles = {"open": _("Open reports per kelurahan"),
                  "overdue": _("Overdue reports per kelurahan"),
                  "received": _("Reports received per kelurahan")}
        tab = "agency" if who.staff.role != Role.KOMINFO else "verify"
        linkable = who.staff.role != Role.LEADERSHIP
        drawn = self.map.draw(
            counts, names, title=titles[show],
            describe=lambda name, n: ngettext("{name}: {n} report", "{name}: {n} reports",
                                              n).format(name=name, n=n),
            href=(lambda code: f"/console/?kelurahan={code}&tab={tab}") if linkable else None)
        ranked = sorted(((names.get(c, c), n) for c, n in counts.items()),
                        key=lambda item: (-item[1], item[0]))
        return console.page(request, "map.html", {
            "map": drawn, "legend": legend(max(counts.values(), default=0)),
            "show": show, "titles": titles, "category": category,
            "categories": console.city.categories, "period": period, "ranked": ranked,
            "total": sum(counts.values()), "span": _span(period),
        }, who=who, raw=raw)


def _span(period: Period) -> str:
    return _("{start} to {end}").format(start=format_date(_noon(period.start)),
                                        end=format_date(_noon(period.end)))


def _noon(day: date) -> datetime:
    from bot.i18n import TZ

    return datetime(day.year, day.month, day.day, 12, tzinfo=TZ)


def _workbook(figures: dict[str, Any], more: list[list[Any]] | None = None) -> bytes:
    """The evaluation as an Excel workbook: one sheet per agency table, one with every figure
    (`more`: rows of other domains' figures, the residents' suggestions)."""
    import xlsxwriter

    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"in_memory": True})
    bold = book.add_format({"bold": True})
    sheet = book.add_worksheet(_("Agencies")[:31])
    columns = ["agency", "name", "received", "passed_on", "in_progress", "resolved",
               "answer_due", "answered_on_time", "share_answered_on_time",
               "median_workdays_to_resolution", "overdue_now", "reopened", "ratings", "fixed",
               "not_fixed", "average_stars"]
    sheet.write_row(0, 0, columns, bold)
    for line, row in enumerate(figures["agencies"], start=1):
        sheet.write_row(line, 0, ["" if row.get(c) is None else row.get(c) for c in columns])
    sheet.set_column(0, 1, 18)
    every = book.add_worksheet(_("All figures")[:31])
    for line, row in enumerate([*to_rows(figures), *(more or [])]):
        every.write_row(line, 0, ["" if v is None else v for v in row], bold if line == 0
                        else None)
    book.close()
    return out.getvalue()
