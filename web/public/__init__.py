"""The public side: a report's public page (`/t/<ticket>`), the city's page (`/`), the open data
(`/data/reports.csv`, `/data/reports.json`) and approved photos.

No login, no cookies, no JavaScript; cacheable. Indonesian by default, English with `?lang=en`
(links keep it) or from the browser's Accept-Language. What of a report is shown is decided in
one place, reports.publishing; nothing here reads a reporter, an address or a note otherwise.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response

from bot.i18n import use_locale
from reports import publishing
from reports.publishing import LICENCE, LICENCE_URL, PublicReport, Stage
from reports.sla import calendar_for
from storage.city import City
from storage.db import Database
from storage.media import MediaStore
from web.console import TEMPLATES as CONSOLE_TEMPLATES
from web.maps import CityMap
from web.public.base import (
    CSP,
    language_of,
    public_headers,
    public_status,
    rfc3339,
    step_label,
)
from web.public.city import CityPage
from web.public.opendata import OpenData
from web.templating import make_templates

TEMPLATES = Path(__file__).parent / "templates"
# How long browsers and shared caches may keep a page (the city page's figures are computed
# again every few minutes anyway; a report page shows a new step within a minute).
PAGE_MAX_AGE = 60
# A withdrawn photo disappears from shared caches within ten minutes.
PHOTO_MAX_AGE = 600
TICKET = re.compile(r"[A-Za-z0-9-]{1,32}")


class PublicSite:
    """The public routes, built once by the composition root."""

    def __init__(self, *, db: Database, city: City, media: MediaStore, base_url: str,
                 clock: Callable[[], datetime]) -> None:
        self.db = db
        self.city = city
        self.media = media
        self.base_url = base_url
        self.clock = clock
        self.calendar = calendar_for(city)
        self.templates = make_templates(TEMPLATES, CONSOLE_TEMPLATES)
        self.templates.env.filters["iso"] = rfc3339
        self.city_page = CityPage(self, CityMap(city.gazetteer.boundaries.shapes))
        self.open_data = OpenData(self)

    def router(self) -> APIRouter:
        router = APIRouter()
        router.add_api_route("/", self.city_page.show, methods=["GET"],
                             response_class=HTMLResponse)
        router.add_api_route("/t/{ticket}", self.report, methods=["GET"],
                             response_class=HTMLResponse)
        router.add_api_route("/t/{ticket}/foto/{photo}", self.photo, methods=["GET"])
        router.add_api_route("/data/reports.csv", self.open_data.csv, methods=["GET"])
        router.add_api_route("/data/reports.json", self.open_data.json, methods=["GET"])
        return router

    # -- rendering -----------------------------------------------------------------------------

    def page(self, request: Request, name: str, context: dict[str, Any], *,
             status: int = 200, max_age: int = PAGE_MAX_AGE) -> HTMLResponse:
        language = language_of(request)

        def link(path: str, **params: str | None) -> str:
            """A link to a public page that keeps the language the address chose."""
            query = {k: v for k, v in params.items() if v}
            if language.explicit:
                query["lang"] = language.code
            return path + ("?" + urlencode(query) if query else "")

        def switch(code: str) -> str:
            query = {**request.query_params, "lang": code}
            return request.url.path + "?" + urlencode(query)

        with use_locale(language.code):
            html = self.templates.get_template(name).render({
                "locale": language.code, "link": link, "switch": switch, "city": self.city,
                "public_status": public_status, "step_label": step_label,
                "category_name": self.category_name, "place": self.place,
                "agency_name": self.agency_name,
                "licence": LICENCE, "licence_url": LICENCE_URL, **context})
        return HTMLResponse(html, status_code=status,
                            headers=public_headers(language.code, max_age))

    def place(self, view: PublicReport) -> dict[str, str]:
        """Kelurahan and kecamatan names of a report (never its address or point)."""
        kelurahan = (self.city.kelurahan(view.kelurahan_code).name
                     if view.kelurahan_code and self.city.has_kelurahan(view.kelurahan_code)
                     else "")
        kecamatan = self.city.kecamatan_by_code(view.kecamatan_code)
        return {"kelurahan": kelurahan, "kecamatan": kecamatan.name if kecamatan else ""}

    def category_name(self, key: str | None) -> str:
        """In the reader's language (call it where the page's language is set)."""
        category = self.city.category(key or "")
        return category.name() if category is not None else ""

    def agency_name(self, key: str | None, short: bool = False) -> str:
        return self.city.agency_label(key, short=short) if key else ""

    # -- one report ----------------------------------------------------------------------------

    async def report(self, request: Request, ticket: str) -> Response:
        if not TICKET.fullmatch(ticket):
            return self.missing(request, ticket)
        if ticket != ticket.upper():
            query = request.url.query
            return RedirectResponse(f"/t/{ticket.upper()}" + (f"?{query}" if query else ""),
                                    status_code=301)
        now = self.clock()
        async with self.db.reader() as session:
            view = await publishing.public_report(session=session, city=self.city,
                                                  ticket=ticket, as_of=now)
        if view is None:
            return self.missing(request, ticket)
        calendar = self.calendar
        # Report.due_at is the moment the deadline passes: midnight after the due day.
        due = (calendar.at(calendar.local_date(view.due_at - timedelta(seconds=1)), 12)
               if view.due_at is not None else None)
        return self.page(request, "ticket.html", {
            "view": view, "due": due, "overdue": view.due_at is not None and view.due_at <= now,
            "Stage": Stage,
        })

    def missing(self, request: Request, ticket: str) -> HTMLResponse:
        """A friendly page for a ticket no report has (or a mistyped address)."""
        return self.page(request, "missing.html", {"ticket": ticket[:32],
                                                   "year": self.clock().year}, status=404)

    async def photo(self, ticket: str, photo: str) -> Response:
        """An approved photo of a public report. Photos are stored without metadata (the media
        store decodes and encodes every one again), so what is served carries none."""
        if not TICKET.fullmatch(ticket) or not photo.isdigit() or len(photo) > 12:
            return Response(status_code=404)
        async with self.db.reader() as session:
            found = await publishing.public_photo(session=session, city=self.city,
                                                  ticket=ticket, photo_id=int(photo))
        if found is None:
            return Response(status_code=404)
        try:
            path = self.media.absolute(found.path)
        except ValueError:
            return Response(status_code=404)
        if not path.is_file():
            return Response(status_code=404)
        return FileResponse(path, media_type=found.content_type, headers={
            "Cache-Control": f"public, max-age={PHOTO_MAX_AGE}",
            "Content-Security-Policy": CSP})
