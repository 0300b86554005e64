"""Open data: every report's public fields (reports.publishing), one row per report, as CSV
(`/data/reports.csv`) and JSON (`/data/reports.json`), streamed a batch at a time, with date
filters, under the licence stated in the JSON's metadata, in a `Link` header and on the city
page. Column names are stable identifiers for programs; labels follow the page's language."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import AsyncIterator
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from fastapi import Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response, StreamingResponse

from bot.i18n import _, use_locale
from reports import publishing
from reports.publishing import LICENCE, LICENCE_URL, PublicReport, Stage
from storage import repo_public
from web.public.base import language_of, public_status, rfc3339

if TYPE_CHECKING:
    from web.public import PublicSite

# Reports per read: each batch's work holds the event loop for a few tens of milliseconds.
BATCH = 200
MAX_AGE = 300
SPDX = "CC-BY-4.0"
FIELDS = ("ticket", "url", "status", "status_label", "category", "category_name", "agency",
          "agency_name", "kecamatan_code", "kecamatan", "kelurahan_code", "kelurahan",
          "created_at", "updated_at", "resolved_at", "on_time", "latitude", "longitude",
          "supporters", "description", "photos", "duplicate_of")


class BadFilter(ValueError):
    """A date filter that is not a date; the message is for whoever asked."""


class OpenData:
    def __init__(self, site: PublicSite) -> None:
        self.site = site

    # -- filters -------------------------------------------------------------------------------

    def _day(self, text: str | None) -> date | None:
        if not text:
            return None
        try:
            return date.fromisoformat(text)
        except ValueError:
            raise BadFilter(_("“{value}” is not a date: write it as YYYY-MM-DD, e.g. "
                              "2026-12-07.").format(value=text[:20])) from None

    def _filters(self, request: Request) -> tuple[date | None, date | None]:
        params = request.query_params
        start, end = self._day(params.get("from")), self._day(params.get("to"))
        if start is not None and end is not None and end < start:
            raise BadFilter(_("The end date comes before the start date."))
        return start, end

    # -- rows ----------------------------------------------------------------------------------

    def row(self, view: PublicReport) -> dict[str, Any]:
        """One report as open data (in the current language's labels)."""
        site = self.site
        base = site.base_url
        public = view.stage == Stage.PUBLIC
        place = site.place(view)
        return {
            "ticket": view.ticket, "url": f"{base}/t/{view.ticket}",
            "status": view.status, "status_label": public_status(view),
            "category": view.category_key, "category_name": site.category_name(
                view.category_key) or None,
            "agency": view.agency_key,
            "agency_name": site.city.agency_label(view.agency_key) if view.agency_key else None,
            "kecamatan_code": view.kecamatan_code, "kecamatan": place["kecamatan"] or None,
            "kelurahan_code": view.kelurahan_code,
            "kelurahan": place["kelurahan"] or None,
            "created_at": rfc3339(view.created_at), "updated_at": rfc3339(view.updated_at),
            "resolved_at": rfc3339(view.resolved_at), "on_time": view.on_time,
            "latitude": view.latitude, "longitude": view.longitude,
            "supporters": view.supporters if public else None,
            "description": view.description,
            "photos": [f"{base}/t/{view.ticket}/foto/{p.id}" for p in view.photos],
            "duplicate_of": view.duplicate_of,
        }

    async def _views(self, start: date | None, end: date | None,
                     as_of: datetime) -> AsyncIterator[list[PublicReport]]:
        """Every report filed in [start, end] (city days), a batch at a time; each batch in a
        short read of its own, so a long download holds no transaction open."""
        calendar = self.site.calendar
        lower = calendar.at(start, 0) if start else None
        upper = calendar.at(end + timedelta(days=1), 0) if end else None
        after = 0
        while True:
            async with self.site.db.reader() as session:
                batch = await repo_public.list_reports_after(
                    session=session, after_id=after, limit=BATCH, created_from=lower,
                    created_until=upper)
                if not batch:
                    return
                views = await publishing.public_reports(
                    session=session, city=self.site.city, reports=batch, as_of=as_of,
                    with_history=False)
            yield views
            after = batch[-1].id or 0

    def _headers(self, locale: str, name: str) -> dict[str, str]:
        return {"Cache-Control": f"public, max-age={MAX_AGE}", "Content-Language": locale,
                "Vary": "Accept-Language", "Link": f'<{LICENCE_URL}>; rel="license"',
                "Content-Disposition": f'inline; filename="{name}"'}

    def _name(self, start: date | None, end: date | None, ext: str) -> str:
        span = "-".join(d.isoformat() for d in (start, end) if d is not None)
        return f"emas-{self.site.city.code.lower()}-reports{'-' + span if span else ''}.{ext}"

    # -- routes --------------------------------------------------------------------------------

    async def csv(self, request: Request) -> Response:
        locale = language_of(request).code
        try:
            with use_locale(locale):
                start, end = self._filters(request)
        except BadFilter as bad:
            return PlainTextResponse(str(bad), status_code=400)
        as_of = self.site.clock()

        async def lines() -> AsyncIterator[str]:
            out = io.StringIO()
            writer = csv.writer(out, lineterminator="\n")
            writer.writerow(FIELDS)
            yield out.getvalue()
            async for views in self._views(start, end, as_of):
                out.seek(0)
                out.truncate()
                with use_locale(locale):
                    for view in views:
                        row = self.row(view)
                        row["photos"] = " ".join(row["photos"])
                        writer.writerow([_cell(row[f]) for f in FIELDS])
                yield out.getvalue()

        return StreamingResponse(lines(), media_type="text/csv; charset=utf-8",
                                 headers=self._headers(locale, self._name(start, end, "csv")))

    async def json(self, request: Request) -> Response:
        locale = language_of(request).code
        try:
            with use_locale(locale):
                start, end = self._filters(request)
        except BadFilter as bad:
            return JSONResponse({"error": str(bad)}, status_code=400)
        as_of = self.site.clock()
        with use_locale(locale):
            meta = {
                "title": _("Reports to {city} through e-Masyarakat").format(
                    city=self.site.city.name),
                "publisher": self.site.city.name,
                "license": {"id": SPDX, "name": LICENCE, "url": LICENCE_URL},
                "attribution": _("Source: {city}, e-Masyarakat ({url})").format(
                    city=self.site.city.name, url=self.site.base_url),
                "source": f"{self.site.base_url}/",
                "generated_at": rfc3339(as_of),
                "language": locale,
                "filters": {"from": start.isoformat() if start else None,
                            "to": end.isoformat() if end else None},
                "fields": list(FIELDS),
            }

        async def chunks() -> AsyncIterator[str]:
            yield '{"meta": ' + json.dumps(meta, ensure_ascii=False) + ', "reports": ['
            first = True
            async for views in self._views(start, end, as_of):
                with use_locale(locale):
                    rows = [json.dumps(self.row(v), ensure_ascii=False) for v in views]
                yield ("" if first else ",") + ",\n".join(rows)
                first = False
            yield "]}\n"

        return StreamingResponse(chunks(), media_type="application/json",
                                 headers=self._headers(locale, self._name(start, end, "json")))


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
