"""Open311 GeoReport v2 at /open311/v2/: the city's services, its requests, and filing a request
from a partner's app or city CRM.

Each endpoint answers in JSON or XML by its extension (`services.json`, `services.xml`), in
Indonesian or English by the Accept-Language header, and refuses with the specification's error
list and the matching HTTP status (400 a missing or wrong field, 403 a missing, wrong or
revoked api_key, 404 an unknown service, request, token or jurisdiction, 429 a key over its
hourly limit, with Retry-After). `jurisdiction_id` is optional; when given it must be the
city's.

A POSTed request is filed exactly as a chat report: a ticket, the kelurahan of its point,
routing to the agency, the working-day deadline and the agency's notification, in one
transaction; its media_url is downloaded afterwards by the photo fetcher. What the GET answers
show of a report is decided in web.open311.public.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

from fastapi import APIRouter, Request
from fastapi.responses import Response

from bot.i18n import _, format_date, use_locale
from bot.labels import RECORD_WORDS
from bot.messages import Kind, Media
from reports import access, partners, publishing
from reports.actions import ReportActions
from reports.config import ReportsConfig
from reports.lifecycle import Status
from reports.service import DraftReport, ReportService
from reports.sla import calendar_for
from storage import repo, repo_partners
from storage.models import Report
from web.open311.formats import FORMATS, answer, errors
from web.open311.intake import Fields, Intake, Refused, read_request, staff_description
from web.open311.public import expected_at, public_request
from web.open311.queries import MAX_REQUESTS, Query, read_query
from web.open311.services import definition, service
from web.public.base import accepted_language, rfc3339

if TYPE_CHECKING:
    from bot.photos import PhotoFetcher
    from storage.city import City
    from storage.db import Database
    from web.console import Deliver

logger = logging.getLogger(__name__)

PREFIX = "/open311/v2"
SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
# A POST's body: a few form fields (a 4000-character description at most).
BODY_MAX = 64 * 1024
FORM_FIELDS_MAX = 200
# How long shared caches may keep a public answer.
LIST_MAX_AGE = 60
SERVICES_MAX_AGE = 300
ENDPOINTS = re.compile(
    r"^/(discovery|services|requests|tokens/[^/]+|services/[^/]+|requests/[^/]+)\.[^/]+$")

# A download of a partner's media URL, made when it is wanted (bot.handlers.media_url).
Fetch = Callable[[str], Callable[[], Awaitable[bytes]]]


@dataclass(frozen=True, slots=True)
class Filer:
    """The person a request is filed as, as the report service reads one."""

    id: int
    channel: str
    locale: str


class Open311:
    """The Open311 routes, built once by the composition root with what they need."""

    def __init__(self, *, db: Database, city: City, config: ReportsConfig, deliver: Deliver,
                 clock: Callable[[], datetime], base_url: str, production: bool,
                 posts_per_hour: int, photos: PhotoFetcher | None = None,
                 fetch: Fetch | None = None) -> None:
        self.db = db
        self.city = city
        self.config = config
        self.deliver = deliver
        self.clock = clock
        self.base_url = base_url.rstrip("/")
        self.production = production
        self.posts_per_hour = posts_per_hour
        self.photos = photos
        self.fetch = fetch
        self.calendar = calendar_for(city)
        if photos is not None and fetch is not None:
            # After a restart, a media URL still pending is fetched again from its address.
            photos.register(partners.CHANNEL, lambda ref, _size: fetch(ref))
        try:
            changed = (Path(config.city_dir) / "categories.yaml").stat().st_mtime
            self.changeset = datetime.fromtimestamp(changed, UTC)
        except OSError:
            self.changeset = clock()

    def router(self) -> APIRouter:
        router = APIRouter(prefix=PREFIX, include_in_schema=False)
        read = ["GET", "HEAD"]
        router.add_api_route("/discovery.{fmt}", self.discovery, methods=read)
        router.add_api_route("/services.{fmt}", self.services, methods=read)
        router.add_api_route("/services/{code}.{fmt}", self.service_definition, methods=read)
        router.add_api_route("/requests.{fmt}", self.requests, methods=read)
        router.add_api_route("/requests.{fmt}", self.post_request, methods=["POST"])
        router.add_api_route("/requests/{ticket}.{fmt}", self.one_request, methods=read)
        router.add_api_route("/tokens/{token}.{fmt}", self.token, methods=read)
        router.add_api_route("/{rest:path}", self.elsewhere,
                             methods=["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE",
                                      "OPTIONS"])
        return router

    # -- answering -----------------------------------------------------------------------------

    @staticmethod
    def _locale(request: Request) -> str:
        return accepted_language(request.headers.get("accept-language"))

    @staticmethod
    def _public(locale: str, max_age: int) -> dict[str, str]:
        return {"Cache-Control": f"public, max-age={max_age}", "Content-Language": locale,
                "Vary": "Accept-Language", "Access-Control-Allow-Origin": "*"}

    def _jurisdiction_refused(self, request: Request, fmt: str,
                              given: str | None = None) -> Response | None:
        """A jurisdiction_id other than the city's is not served here (404)."""
        given = (given or request.query_params.get("jurisdiction_id", "")).strip()
        if given and given.casefold() != self.city.open311.jurisdiction_id.casefold():
            return errors(fmt, 404, _("jurisdiction_id “{given}” is not served here; this is "
                                      "{jurisdiction} ({city}).").format(
                given=given[:64], jurisdiction=self.city.open311.jurisdiction_id,
                city=self.city.name))
        return None

    def _format_refused(self, fmt: str) -> Response | None:
        if fmt in FORMATS:
            return None
        return errors("json", 404, _("Unknown format “{format}”: use .json or .xml.").format(
            format=fmt[:16]))

    def _refused(self, request: Request, fmt: str) -> Response | None:
        return self._format_refused(fmt) or self._jurisdiction_refused(request, fmt)

    # -- the service list ----------------------------------------------------------------------

    async def discovery(self, request: Request, fmt: str) -> Response:
        if (refused := self._format_refused(fmt)) is not None:
            return refused
        with use_locale(self._locale(request)) as locale:
            changeset = rfc3339(self.changeset)
            body = {
                "changeset": changeset,
                "contact": self.city.open311.contact() or None,
                "key_service": self.city.open311.key_service() or None,
                "endpoints": [{
                    "specification": SPECIFICATION,
                    "url": self.base_url + PREFIX,
                    "changeset": changeset,
                    "type": "production" if self.production else "test",
                    "formats": ["application/json", "text/xml"],
                }],
            }
            return answer(fmt, body, root="discovery",
                          headers=self._public(locale, SERVICES_MAX_AGE))

    async def services(self, request: Request, fmt: str) -> Response:
        if (refused := self._refused(request, fmt)) is not None:
            return refused
        with use_locale(self._locale(request)) as locale:
            body = [service(c, self.city) for c in self.city.categories]
            return answer(fmt, body, root="services", item="service",
                          headers=self._public(locale, SERVICES_MAX_AGE))

    async def service_definition(self, request: Request, code: str, fmt: str) -> Response:
        if (refused := self._refused(request, fmt)) is not None:
            return refused
        with use_locale(self._locale(request)) as locale:
            category = self.city.category(code)
            if category is None:
                return errors(fmt, 404, _("service_code “{code}” is not a service of {city}: "
                                          "see services.json.").format(
                    code=code[:64], city=self.city.name))
            return answer(fmt, definition(category), root="service_definition",
                          headers=self._public(locale, SERVICES_MAX_AGE))

    # -- reading requests ----------------------------------------------------------------------

    async def _public_answers(self, reports: Iterable[Report], *,
                              listing: bool = False) -> list[dict[str, Any]]:
        """The public answer of each report; in a `listing`, only the reports the public may
        see in full (a report still being checked, or not processed, is answered only when
        asked for by its id)."""
        found = list(reports)
        async with self.db.reader() as session:
            views = await publishing.public_reports(session=session, city=self.city,
                                                    reports=found, as_of=self.clock())
        return [public_request(r, view, city=self.city, calendar=self.calendar,
                               base_url=self.base_url)
                for r, view in zip(found, views, strict=True)
                if not listing or view.stage == publishing.Stage.PUBLIC]

    async def requests(self, request: Request, fmt: str) -> Response:
        if (refused := self._refused(request, fmt)) is not None:
            return refused
        with use_locale(self._locale(request)) as locale:
            try:
                query = read_query(request.query_params, self.city, self.clock())
            except Refused as refusal:
                return errors(fmt, refusal.status, *refusal.problems)
            body = await self._listed(query) if query.tickets != [] else []
            return answer(fmt, body, root="service_requests", item="request",
                          headers=self._public(locale, LIST_MAX_AGE))

    async def _listed(self, query: Query) -> list[dict[str, Any]]:
        """The public answers of the newest matching reports the public may see, at most
        MAX_REQUESTS: reports still being checked or not processed take no place in the list
        (read past a batch at a time, each batch older than the last)."""
        listed: list[dict[str, Any]] = []
        seen: set[int] = set()
        until = query.end
        while len(listed) < MAX_REQUESTS:
            async with self.db.reader() as session:
                found = list(await repo_partners.list_reports_for_public(
                    session=session, tickets=query.tickets, created_from=query.start,
                    created_until=until, category_keys=query.services,
                    statuses=query.statuses, limit=MAX_REQUESTS))
            fresh = [r for r in found if r.id not in seen]
            if not fresh:
                break
            seen.update(r.id or 0 for r in fresh)
            listed += await self._public_answers(fresh, listing=True)
            if len(found) < MAX_REQUESTS:
                break
            # The next batch from the oldest moment read (those of it already read are skipped).
            until = found[-1].created_at
        return listed[:MAX_REQUESTS]

    async def one_request(self, request: Request, ticket: str, fmt: str) -> Response:
        if (refused := self._refused(request, fmt)) is not None:
            return refused
        with use_locale(self._locale(request)) as locale:
            found = None
            if re.fullmatch(r"[A-Za-z0-9-]{1,32}", ticket):
                async with self.db.reader() as session:
                    found = await repo.get_report_by_ticket(session=session, ticket=ticket)
            if found is None:
                return errors(fmt, 404, _("There is no service request “{id}”.").format(
                    id=ticket[:64]))
            body = await self._public_answers([found])
            return answer(fmt, body, root="service_requests", item="request",
                          headers=self._public(locale, LIST_MAX_AGE))

    async def token(self, request: Request, token: str, fmt: str) -> Response:
        if (refused := self._refused(request, fmt)) is not None:
            return refused
        with use_locale(self._locale(request)) as locale:
            ticket = None
            if re.fullmatch(r"[A-Za-z0-9_-]{1,32}", token):
                async with self.db.reader() as session:
                    ticket = await repo_partners.ticket_for_token(session=session, token=token)
            if ticket is None:
                return errors(fmt, 404, _("There is no request with the token “{token}”.").format(
                    token=token[:64]))
            return answer(fmt, [{"service_request_id": ticket, "token": token}],
                          root="service_requests", item="request",
                          headers=self._public(locale, LIST_MAX_AGE))

    # -- filing a request ----------------------------------------------------------------------

    async def _fields(self, request: Request) -> Fields:
        """The form body (application/x-www-form-urlencoded, as the specification says), then
        the query string; raises Refused for any other body."""
        kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
        body = bytearray()
        async for chunk in request.stream():
            body += chunk
            if len(body) > BODY_MAX:
                raise Refused(413, _("The request is larger than {n} KB.").format(
                    n=BODY_MAX // 1024))
        pairs: list[tuple[str, str]] = []
        if body.strip():
            if kind not in ("application/x-www-form-urlencoded", ""):
                raise Refused(415, _("Send the fields as application/x-www-form-urlencoded."))
            try:
                pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True,
                                  max_num_fields=FORM_FIELDS_MAX, errors="strict")
            except (UnicodeDecodeError, ValueError):
                raise Refused(400, _("The form could not be read (UTF-8, at most {n} "
                                     "fields).").format(n=FORM_FIELDS_MAX)) from None
        return Fields(pairs + list(request.query_params.multi_items()))

    async def post_request(self, request: Request, fmt: str) -> Response:
        if (refused := self._refused(request, fmt)) is not None:
            return refused
        with use_locale(self._locale(request)) as locale:
            try:
                fields = await self._fields(request)
                elsewhere = self._jurisdiction_refused(request, fmt,
                                                       fields.get("jurisdiction_id"))
                if elsewhere is not None:
                    return elsewhere
                if not await self._key_known(fields.get("api_key")):
                    return self._bad_key(fmt)
                intake = read_request(fields, self.city)
                answered = await self._file(fmt, intake, fields.get("api_key"), locale)
            except Refused as refusal:
                return errors(fmt, refusal.status, *refusal.problems,
                              headers={"Cache-Control": "no-store"})
            return answered

    def _bad_key(self, fmt: str) -> Response:
        return errors(fmt, 403, _("api_key is missing, wrong or revoked: posting requests "
                                  "needs a key from {office}.").format(office=self.city.name),
                      headers={"Cache-Control": "no-store"})

    async def _key_known(self, raw: str | None) -> bool:
        """A first look, before the request is read: an unknown key is refused without
        checking anything else."""
        if not raw or len(raw) > 200:
            return False
        async with self.db.reader() as session:
            key = await repo_partners.get_api_key_by_hash(
                session=session, key_hash=access.digest(raw.strip()))
        return key is not None and key.revoked_at is None

    async def _file(self, fmt: str, intake: Intake, raw_key: str | None,
                    locale: str) -> Response:
        """File the request in one transaction (the key held, its limit counted), then start
        the media download."""
        now = self.clock()
        fetch_id: int | None = None
        async with self.db.session() as session:
            key = await partners.authenticate(session=session, raw=raw_key, now=now)
            if key is None:
                return self._bad_key(fmt)
            wait = await partners.wait_before_next(session=session, key=key,
                                                   per_hour=self.posts_per_hour, now=now)
            if wait is not None:
                return errors(fmt, 429, _("This api_key has posted {n} requests in the last "
                                          "hour, its limit; try again in {seconds} "
                                          "seconds.").format(n=self.posts_per_hour,
                                                             seconds=wait),
                              headers={"Retry-After": str(wait), "Cache-Control": "no-store"})
            person = await partners.reporter_for(session=session, key=key,
                                                 contact=intake.contact, locale=locale)
            if intake.media_url and self.photos is not None and self.fetch is not None:
                fetch_id = await repo.add_photo_fetch(
                    session=session, identity_id=person.id or 0, channel=partners.CHANNEL,
                    ref=intake.media_url, declared_size=None, now=now)
            category = intake.category
            report = await ReportService(session=session, city=self.city, now=self.clock).submit(
                draft=DraftReport(
                    category=category.key, kelurahan=intake.kelurahan_code,
                    description=staff_description(intake, self.city), address=intake.address,
                    lat=intake.lat, lon=intake.lon,
                    anonymous=category.confidential or intake.contact.name is None,
                    pending_photos=[fetch_id] if fetch_id is not None else None),
                reporter=Filer(id=person.id or 0, channel=partners.CHANNEL, locale=locale))
            actions = ReportActions(session=session, city=self.city, settings=self.config,
                                    now=self.clock, words=RECORD_WORDS)
            await self.deliver(session, await actions.after_submit(report), now)
            row = await partners.record_request(
                session=session, report_id=report.id or 0, key=key, contact=intake.contact,
                now=now, media_url=intake.media_url, device_id=intake.device_id,
                account_id=intake.account_id, attributes=intake.attributes)
            body = [{"service_request_id": report.ticket, "token": row.token,
                     "service_notice": self._notice(report), "account_id": intake.account_id}]
            key_id = key.id
        logger.info("open311 request %s filed with key #%s", report.ticket, key_id)
        if fetch_id is not None and self.photos is not None and self.fetch is not None:
            url = intake.media_url or ""
            self.photos.adopt(fetch_id, Media(kind=Kind.PHOTO, content_type=None, size=None,
                                              fetch=self.fetch(url), ref=url))
        return answer(fmt, body, root="service_requests", item="request",
                      headers={"Cache-Control": "no-store"})

    def _notice(self, report: Report) -> str:
        """What happens next, for the partner to show the person who reported."""
        category = self.city.category(report.category_key)
        if report.status == Status.REFERRED:
            return (category.referral() if category and category.referral()
                    else _("This is handled outside the city government."))
        agency = self.city.agency_label(report.agency_key)
        expected = expected_at(report, self.city, self.calendar)
        when = format_date(expected - timedelta(seconds=1)) if expected is not None else None
        if report.status == Status.SUBMITTED:
            text = (_("Received. The city checks the report, then passes it to {agency}; an "
                      "answer is due by {date}.").format(agency=agency, date=when) if when
                    else _("Received. The city checks the report, then passes it to "
                           "{agency}.").format(agency=agency))
        else:
            text = (_("Received and passed to {agency}; an answer is due by {date}.").format(
                agency=agency, date=when) if when
                    else _("Received and passed to {agency}.").format(agency=agency))
        if category is not None and category.emergency_hint:
            text += " " + _("If anyone is in danger right now, call {number}.").format(
                number=self.city.emergency_number)
        return text

    # -- anything else -------------------------------------------------------------------------

    async def elsewhere(self, request: Request, rest: str) -> Response:
        fmt = "xml" if rest.endswith(".xml") else "json"
        if ENDPOINTS.match("/" + rest):
            allowed = "GET, POST" if re.match(r"^requests\.[^/]+$", rest) else "GET"
            with use_locale(self._locale(request)):
                return errors(fmt, 405, _("{method} is not allowed here; use {allowed}.").format(
                    method=request.method, allowed=allowed), headers={"Allow": allowed})
        with use_locale(self._locale(request)):
            return errors(fmt, 404, _("No such Open311 endpoint; see {url}.").format(
                url=self.base_url + PREFIX + "/discovery.json"))

