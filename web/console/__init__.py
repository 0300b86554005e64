"""The staff console: Kominfo and the agencies work the city's reports in a browser.

Server-rendered pages (Jinja2, the bot's gettext catalogs), htmx for partial updates, no inline
script or style. Every action goes through the report domain exactly as a chat button does
(same lifecycle, same notices to residents through the outbox, same history) and is written to
the audit log in the same transaction.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.i18n import N_, _, use_locale
from bot.labels import (
    RECORD_WORDS,
    refusal_text,
    reject_reason,
    remaining_text,
    remaining_until,
    status_label,
)
from broadcasts.config import BroadcastConfig
from broadcasts.groups import GroupCatalog
from reports import access
from reports.actions import ActionError, ReportActions
from reports.config import ReportsConfig
from reports.duplicates import nearby_for_staff
from reports.lifecycle import (
    OPEN,
    REJECT_REASONS,
    WITH_AGENCY,
    WITH_KOMINFO,
    Status,
    TransitionRefused,
)
from reports.notices import ReportNotice
from reports.publishing import Unpublishable
from reports.roles import Role, can_act, can_see, works_reports
from reports.sla import calendar_for, current_clock
from storage import repo, repo_agencies, repo_console
from storage.city import City
from storage.db import Database
from storage.media import MediaRejected, MediaStore
from storage.models import Report
from storage.models.agency import StaffMember
from storage.repo_console import InboxFilter
from web.console.campaigns import CampaignPages
from web.console.faq import FaqPages
from web.console.figures import FIGURE_READERS, FigurePages
from web.console.outreach import OUTREACH_READERS, OutreachPages
from web.console.polls import PollPages
from web.console.publishing import PUBLISH_ACTIONS, PublishingPanel, publish_problem
from web.console.staff_pages import StaffPages, Tell
from web.console.subscribers import SubscriberPages
from web.fresh import Fresh
from web.maps import CityMap
from web.media import MediaLinks
from web.security import csrf_ok, csrf_token
from web.templating import make_templates

logger = logging.getLogger(__name__)

COOKIE = "emas_console"
TEMPLATES = Path(__file__).parent / "templates"
PAGE_SIZE = 50
# How long the inbox's tab counts are reused (see Console._counts).
COUNTS_FRESH = timedelta(seconds=10)


class Deliver(Protocol):
    """Words the domain's notices for their recipients and writes them to the outbox, in the
    caller's transaction (bot.notice_outbox.NoticeOutbox)."""

    def __call__(self, session: AsyncSession, notices: Iterable[ReportNotice],
                 now: datetime) -> Awaitable[int]: ...


@dataclass(frozen=True, slots=True)
class Tab:
    key: str
    label: str  # an English msgid, translated where shown
    statuses: tuple[str, ...]


TABS = (
    Tab("verify", N_("To verify"), (Status.SUBMITTED, Status.VERIFIED)),
    Tab("agency", N_("With the agency"), (Status.ASSIGNED, Status.REOPENED)),
    Tab("progress", N_("In progress"), (Status.IN_PROGRESS,)),
    Tab("resolved", N_("Resolved"), (Status.RESOLVED,)),
    Tab("closed", N_("Closed"), (Status.CLOSED, Status.REJECTED, Status.REFERRED,
                             Status.DUPLICATE)),
)
AGENCY_STATUSES = tuple(s for tab in TABS[1:] for s in tab.statuses)

# What a form's `action` does, and the permission (reports.roles) it needs.
PERMISSION = {"verify": "verify", "reject": "reject", "reassign": "assign",
              "progress": "progress", "resolve": "resolve", "handback": "notours",
              "duplicate": "duplicate"}
PHOTO_MAX = 10 * 1024 * 1024
# Staff's words on a report: an internal note, or a message to the reporter.
WORDS = ("note", "message")
NOTE_MAX = 2000


class Refusal(Exception):  # noqa: N818 - a refusal shown to staff, not a failure
    """An action the console refuses; `status` is the HTTP code of the page that says why."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


class Console:
    """The console's routes, built once by the composition root with what they need."""

    def __init__(self, *, db: Database, city: City, reports_config: ReportsConfig,
                 broadcast_config: BroadcastConfig, catalog: GroupCatalog, deliver: Deliver,
                 tell: Tell, media: MediaLinks, media_store: MediaStore, secret_key: str,
                 base_url: str, clock: Callable[[], datetime]) -> None:
        self.db = db
        self.city = city
        self.reports_config = reports_config
        self.deliver = deliver
        self.media = media
        self.media_store = media_store
        self.secret_key = secret_key
        # Behind https the session cookie is Secure (sent over https only).
        self.secure_cookies = base_url.startswith("https://")
        self.clock = clock
        self.calendar = calendar_for(city)
        self.templates = make_templates(TEMPLATES)
        self.figures = FigurePages(self, CityMap(city.gazetteer.boundaries.shapes))
        self._counted: Fresh[InboxFilter, dict[str, int]] = Fresh(COUNTS_FRESH, most=500)
        self.kelurahan_names = {k.code: k.name for k in city.all_kelurahan()}
        self.faq = FaqPages(self)
        self.campaigns = CampaignPages(self, catalog=catalog, config=broadcast_config)
        self.polls = PollPages(self, catalog=catalog, config=broadcast_config)
        self.staff = StaffPages(self, tell=tell, base_url=base_url)
        self.subscribers = SubscriberPages(self, catalog=catalog)
        self.outreach = OutreachPages(self, tell=tell, city_dir=reports_config.city_dir)
        self.publishing = PublishingPanel(self)

    # -- rendering -----------------------------------------------------------------------------

    def page(self, request: Request, name: str, context: dict[str, Any], *,
             status: int = 200, who: access.SignedIn | None = None,
             raw: str | None = None) -> HTMLResponse:
        locale = who.staff.locale if who is not None else "id"
        with use_locale(locale):
            html = self.templates.get_template(name).render({
                "request": request, "who": who.staff if who is not None else None,
                "csrf": csrf_token(self.secret_key, raw) if raw else "",
                "locale": locale, "city": self.city, "status_label": status_label,
                "Role": Role, "nav": _nav(who.staff) if who is not None else [],
                "here": request.url.path, **context})
        return HTMLResponse(html, status_code=status, headers={
            "Cache-Control": "no-store", "Content-Language": locale})

    # -- who is there --------------------------------------------------------------------------

    async def _who(self, request: Request,
                   session: AsyncSession) -> tuple[access.SignedIn | None, str | None]:
        raw = request.cookies.get(COOKIE)
        who = await access.signed_in(session=session, raw=raw, now=self.clock())
        return who, raw if who is not None else None

    def _to_signin(self) -> RedirectResponse:
        return RedirectResponse("/console/masuk", status_code=303)

    async def gate(self, request: Request, session: AsyncSession, *,
                   roles: tuple[str, ...] = (), form: Any = None
                   ) -> tuple[Response | None, access.SignedIn | None, str | None]:
        """Who is there, and whether they may go on: (a refusal to answer with, or None; who;
        the raw session id). No session: to the sign-in page; a role not in `roles`: not found;
        a `form` without this session's token: refused."""
        who, raw = await self._who(request, session)
        if who is None or raw is None:
            return self._to_signin(), None, None
        if roles and who.staff.role not in roles:
            return self.hidden(request, who, raw), who, raw
        if form is not None:
            token = form.get("csrf")
            if not csrf_ok(self.secret_key, raw, token if isinstance(token, str) else None):
                return self.expired(request, who, raw), who, raw
        return None, who, raw

    # -- routes --------------------------------------------------------------------------------

    def router(self) -> APIRouter:
        router = APIRouter(prefix="/console")
        router.add_api_route("/masuk", self.signin_help, methods=["GET"],
                             response_class=HTMLResponse)
        router.add_api_route("/login/{token}", self.login, methods=["GET"])
        router.add_api_route("/keluar", self.logout, methods=["POST"])
        router.add_api_route("/", self.inbox, methods=["GET"])
        router.add_api_route("/reports/{ticket}", self.report, methods=["GET"])
        router.add_api_route("/reports/{ticket}", self.act, methods=["POST"])
        router.add_api_route("/massal", self.bulk, methods=["POST"])
        router.add_api_route("/bahasa", self.language, methods=["POST"])
        self.figures.add_routes(router)
        self.faq.add_routes(router)
        self.campaigns.add_routes(router)
        self.polls.add_routes(router)
        self.staff.add_routes(router)
        self.subscribers.add_routes(router)
        self.outreach.add_routes(router)
        return router

    async def signin_help(self, request: Request) -> Response:
        return self.page(request, "signin.html", {"problem": None})

    async def login(self, request: Request, token: str) -> Response:
        now = self.clock()
        async with self.db.session() as session:
            opened = await access.sign_in(session=session, token=token, now=now)
        if opened is None:
            return self.page(request, "signin.html", {"problem": "link"}, status=410)
        raw, _staff = opened
        response = RedirectResponse("/console/", status_code=303)
        response.set_cookie(COOKIE, raw, max_age=int(access.SESSION_ABSOLUTE.total_seconds()),
                            path="/", httponly=True, samesite="lax",
                            secure=self.secure_cookies)
        return response

    async def logout(self, request: Request) -> Response:
        form = await request.form(max_files=0, max_fields=300)
        async with self.db.session() as session:
            refused, who, _raw = await self.gate(request, session, form=form)
            if refused is not None or who is None:
                return refused or self._to_signin()
            await access.sign_out(session=session, who=who, now=self.clock())
        response = self._to_signin()
        response.delete_cookie(COOKIE, path="/")
        return response

    # -- the inbox -----------------------------------------------------------------------------

    def _scope(self, staff: StaffMember) -> InboxFilter:
        """What this staff member may see at all."""
        if staff.role == Role.KOMINFO:
            return InboxFilter()
        return InboxFilter(agency_key=staff.agency_key or "-", statuses=AGENCY_STATUSES)

    def _tabs(self, staff: StaffMember) -> list[Tab]:
        return list(TABS) if staff.role == Role.KOMINFO else list(TABS[1:])

    async def inbox(self, request: Request) -> Response:
        params = request.query_params
        now = self.clock()
        async with self.db.session() as session:
            who, raw = await self._who(request, session)
        if who is None:
            return self._to_signin()
        if not works_reports(who.staff):
            # Leadership reads the figures: their console opens on the evaluation.
            return RedirectResponse("/console/evaluasi", status_code=303)
        tabs = self._tabs(who.staff)
        tab = next((t for t in tabs if t.key == params.get("tab")), tabs[0])
        scope = self._scope(who.staff)
        where = self._filter(params, scope, tab, now)
        # A search reads every report's words: off the event loop (Database.reader).
        async with self.db.reader(offload=where.text is not None) as session:
            counts = await self._counts(session, where, now)
            rows = await repo_console.inbox_page(session=session, where=where,
                                                 after=_cursor(params.get("after")),
                                                 limit=PAGE_SIZE + 1,
                                                 newest_first=tab.key == "closed")
        kelurahan = self.kelurahan_names
        more = len(rows) > PAGE_SIZE
        rows = rows[:PAGE_SIZE]
        allowed = set(scope.statuses) if scope.statuses else None
        tab_counts = {t.key: sum(n for s, n in counts.items() if s in t.statuses
                                 and (allowed is None or s in allowed)) for t in tabs}
        following = None
        if more and rows:
            last = rows[-1]
            following = _query(params, after=_cursor_text(last))
        context = {
            "tabs": tabs, "tab": tab, "tab_counts": tab_counts,
            "rows": [self._row(r, kelurahan, now) for r in rows],
            "following": following, "params": params,
            "filters": self._filter_choices(who.staff),
            "tab_link": lambda key: _query(params, tab=key, after=None),
        }
        context["bulk"] = who.staff.role == Role.KOMINFO and tab.key == "verify"
        context["agencies"] = sorted((a for a in self.city.agencies.values() if not a.external),
                                     key=lambda a: a.short_name)
        done = params.get("done")
        context["done"] = ({"n": int(params.get("n") or 0), "skipped": params.get("skipped")}
                           if done == "bulk" else None)
        name = "inbox_rows.html" if request.headers.get("HX-Request") else "inbox.html"
        return self.page(request, name, context, who=who, raw=raw)

    async def _counts(self, session: AsyncSession, where: InboxFilter,
                      now: datetime) -> dict[str, int]:
        """Reports per status under the filter, reused for COUNTS_FRESH (the tabs' numbers of
        a busy office need not be recounted over the whole city at each page view); cleared
        when this console moves a report."""
        key = replace(where, statuses=(), overdue_at=(
            where.overdue_at.replace(second=0, microsecond=0) if where.overdue_at else None))
        return await self._counted.get(key, now, lambda: repo_console.count_by_status(
            session=session, where=where))

    def _filter(self, params: Any, scope: InboxFilter, tab: Tab, now: datetime) -> InboxFilter:
        statuses = tuple(s for s in tab.statuses
                         if not scope.statuses or s in scope.statuses)
        agency = scope.agency_key or (params.get("agency") or None)
        return InboxFilter(
            statuses=statuses, agency_key=agency,
            kecamatan_code=params.get("kecamatan") or None,
            kelurahan_code=params.get("kelurahan") or None,
            category_key=params.get("category") or None,
            channel=params.get("channel") or None,
            overdue_at=now if params.get("overdue") else None,
            created_from=self._day_start(params.get("from")),
            created_until=self._day_start(params.get("until"), plus_days=1),
            text=(params.get("q") or "").strip()[:100] or None,
        )

    def _day_start(self, text: str | None, *, plus_days: int = 0) -> datetime | None:
        if not text:
            return None
        try:
            day = date.fromisoformat(text)
        except ValueError:
            return None
        return self.calendar.at(day + timedelta(days=plus_days), 0)

    def _filter_choices(self, staff: StaffMember) -> dict[str, Any]:
        return {
            "agencies": [] if staff.role != Role.KOMINFO else sorted(
                (a for a in self.city.agencies.values() if not a.external),
                key=lambda a: a.short_name),
            "kecamatan": self.city.kecamatan,
            "kelurahan": sorted(self.city.all_kelurahan(), key=lambda k: k.name),
            "categories": self.city.categories,
            "channels": ("telegram", "whatsapp", "terminal", "open311"),
        }

    def _row(self, report: Report, kelurahan: dict[str, str], now: datetime) -> dict[str, Any]:
        category = self.city.category(report.category_key)
        return {
            "ticket": report.ticket, "status": report.status,
            "category": category.name() if category else report.category_key,
            "agency": self.city.agency_label(report.agency_key, short=True),
            "kelurahan": kelurahan.get(report.kelurahan_code or "", ""),
            "channel": report.channel, "created_at": report.created_at,
            "summary": _summary(report.description),
            "overdue": report.due_at is not None and report.due_at <= now,
            "due": (remaining_until(report.due_at, now, calendar=self.calendar)
                    if report.due_at is not None else ""),
        }

    # -- one report ----------------------------------------------------------------------------

    async def _visible(self, session: AsyncSession, who: access.SignedIn,
                       ticket: str, *, lock: bool = False) -> Report | None:
        """The report if this staff member may see it; another agency's report is not found,
        so its existence is not revealed."""
        if len(ticket) > 32:
            return None
        if lock:
            found = await repo_console.lock_report(session=session, ticket=ticket)
        else:
            found = await repo.get_report_by_ticket(session=session, ticket=ticket)
        if found is None or not can_see(who.staff, found):
            return None
        if who.staff.role != Role.KOMINFO and found.status in WITH_KOMINFO:
            return None
        return found

    async def report(self, request: Request, ticket: str) -> Response:
        async with self.db.session() as session:
            who, raw = await self._who(request, session)
            if who is None:
                return self._to_signin()
            found = await self._visible(session, who, ticket)
            if found is None:
                return self._not_found(request, who, raw)
            context = await self._report_context(session, who, found)
        done = request.query_params.get("done")
        context["done"] = (done if done in PERMISSION or done in WORDS
                           or done in PUBLISH_ACTIONS else None)
        return self.page(request, "report.html", context, who=who, raw=raw)

    def expired(self, request: Request, who: access.SignedIn, raw: str | None) -> Response:
        """A form without this session's token (forged, or from an old page): refused."""
        return self.page(request, "message.html", {
            "title": _("The form has expired"),
            "text": _("Nothing was changed. Reload the page and try again.")},
            status=403, who=who, raw=raw)

    def hidden(self, request: Request, who: access.SignedIn, raw: str | None) -> Response:
        """A page this staff member's role does not have: not found, like a wrong address."""
        return self.page(request, "message.html", {
            "title": _("Page not found"),
            "text": _("This page is not part of your role's console.")},
            status=404, who=who, raw=raw)

    def _not_found(self, request: Request, who: access.SignedIn, raw: str | None) -> Response:
        return self.page(request, "message.html", {
            "title": _("Report not found"),
            "text": _("There is no report with that number among the reports you can see.")},
            status=404, who=who, raw=raw)

    async def _report_context(self, session: AsyncSession, who: access.SignedIn,
                              report: Report) -> dict[str, Any]:
        now = self.clock()
        rid = report.id or 0
        events = list(await repo.list_report_events(session=session, report_id=rid))
        photos = list(await repo.list_report_photos(session=session, report_id=rid))
        voices = list(await repo.list_report_voices(session=session, report_id=rid))
        actors = await repo_console.identities_by_id(
            session=session, ids=sorted({e.actor_id for e in events if e.actor_id}))
        everyone = await repo_agencies.list_staff(session=session, active_only=False)
        staff = {(s.channel, s.user_key): s.name for s in everyone}
        staff_names = {s.id: s.name for s in everyone}
        notes = list(await repo_console.list_notes(session=session, report_id=rid))
        reporter = await repo.get_identity_by_id(session=session, identity_id=report.reporter_id)
        category = self.city.category(report.category_key)
        kelurahan = (self.city.kelurahan(report.kelurahan_code)
                     if report.kelurahan_code and self.city.has_kelurahan(report.kelurahan_code)
                     else None)
        clock = current_clock(report, events, city=self.city, calendar=self.calendar)
        nearby = [n for n in await nearby_for_staff(session=session, report=report)
                  if can_see(who.staff, n.report)
                  and (who.staff.role == Role.KOMINFO or n.report.status not in WITH_KOMINFO)]

        def actor(identity_id: int | None) -> str:
            if identity_id is None:
                return _("the system")
            who_did = actors.get(identity_id)
            if who_did is None:
                return "-"
            if identity_id == report.reporter_id:
                return _("the resident")
            return staff.get((who_did.channel, who_did.user_key), _("staff"))

        return {
            "report": report,
            "category": category.name() if category else report.category_key,
            "confidential": bool(category and category.confidential),
            "agency": self.city.agency_label(report.agency_key),
            "kelurahan": kelurahan.name if kelurahan else "",
            "kecamatan": (self.city.kecamatan_by_code(report.kecamatan_code).name  # type: ignore[union-attr]
                          if self.city.kecamatan_by_code(report.kecamatan_code) else ""),
            "reporter": (None if report.anonymous or reporter is None
                         else reporter.display_name),
            "timeline": sorted(
                [{"kind": "event", "status": e.status, "at": e.at, "note": e.note,
                  "actor": actor(e.actor_id)} for e in events]
                + [{"kind": "message" if n.to_resident else "note", "at": n.created_at,
                    "note": n.text, "actor": staff_names.get(n.staff_id, _("staff"))}
                   for n in notes],
                key=lambda item: item["at"]),
            "photos": [{"url": self.media.url(p.path, now=now), "stage": p.stage}
                       for p in photos],
            "voices": [{"url": self.media.url(v.path, now=now), "type": v.content_type}
                       for v in voices],
            "deadline": (remaining_text(clock, now, calendar=self.calendar)
                         if clock is not None else None),
            "overdue": clock is not None and clock.overdue(now),
            "version": _version(report, events,
                                await self.publishing.revision(session, report)),
            "publishing": await self.publishing.context(session, who.staff, report, photos,
                                                        events),
            "publish_actions": PUBLISH_ACTIONS,
            "allowed": self._allowed(who.staff, report),
            "agencies": sorted((a for a in self.city.agencies.values()),
                               key=lambda a: (a.external, a.short_name)),
            "reasons": [(code, reject_reason(code)) for code in REJECT_REASONS],
            "nearby": [{"ticket": n.report.ticket, "status": n.report.status,
                        "summary": _summary(n.report.description, 90),
                        "metres": round(n.distance_m) if n.distance_m is not None else None,
                        "supporters": n.supporters, "created_at": n.report.created_at}
                       for n in nearby],
            "notice": None,
        }

    def _allowed(self, staff: StaffMember, report: Report) -> list[str]:
        status = report.status
        possible = []
        if status in WITH_KOMINFO:
            possible += ["verify", "reject"]
        if status in WITH_AGENCY:
            possible += ["reassign", "handback"]
        if status in (Status.ASSIGNED, Status.REOPENED):
            possible.append("progress")
        if status in WITH_AGENCY:
            possible.append("resolve")
        if status in OPEN and status != Status.RESOLVED:
            possible.append("duplicate")
        allowed = [a for a in possible if can_act(staff, report, PERMISSION[a])]
        allowed += self.publishing.allowed(staff)
        # Whoever may see the report may write an internal note or to its reporter.
        return [*allowed, *WORDS] if can_see(staff, report) else allowed

    async def act(self, request: Request, ticket: str) -> Response:
        # A form holds at most one file (an "after" photo); uploads are closed afterwards.
        async with request.form(max_files=1, max_fields=20) as form:
            return await self._act(request, ticket, form)

    async def _act(self, request: Request, ticket: str, form: Any) -> Response:
        now = self.clock()
        action = _field(form, "action") or ""
        who: access.SignedIn | None = None
        raw: str | None = None
        try:
            async with self.db.session() as session:
                refused, who, raw = await self.gate(request, session, form=form)
                if refused is not None or who is None:
                    return refused or self._to_signin()
                found = await self._visible(session, who, ticket, lock=True)
                if found is None:
                    return self._not_found(request, who, raw)
                await self._checked(session, who, found, action, form, now)
                self._counted.forget()
                return RedirectResponse(f"/console/reports/{found.ticket}?done={action}",
                                        status_code=303)
        except Refusal as refusal:
            # Refused: the transaction was rolled back, so nothing of this request stays; the
            # page shows the report as it is now, with the reason on top.
            async with self.db.reader() as session:
                # Read again: the rollback let go of what the transaction had loaded.
                who = await access.signed_in(session=session, raw=raw, now=now, touch=False)
                fresh = await repo.get_report_by_ticket(session=session, ticket=ticket)
                assert who is not None and fresh is not None
                context = await self._report_context(session, who, fresh)
            context["notice"] = refusal.message
            context["done"] = None
            return self.page(request, "report.html", context, status=refusal.status, who=who,
                             raw=raw)

    async def language(self, request: Request) -> Response:
        """The console's language, saved for this staff member (Indonesian unless chosen)."""
        form = await request.form(max_files=0, max_fields=10)
        async with self.db.session() as session:
            refused, who, _raw = await self.gate(request, session, form=form)
            if refused is not None or who is None:
                return refused or self._to_signin()
            chosen = _field(form, "locale")
            if chosen in ("id", "en"):
                who.staff.locale = chosen
                await repo_agencies.save_staff(session=session, staff=who.staff)
        back = _field(form, "back") or "/console/"
        return RedirectResponse(back if back.startswith("/console/") else "/console/",
                                status_code=303)

    async def bulk(self, request: Request) -> Response:
        """Kominfo verifies several reports at once and passes them to one agency; a report
        someone else moved meanwhile is skipped and named."""
        form = await request.form(max_files=0, max_fields=300)
        now = self.clock()
        tickets = [t for t in form.getlist("tickets") if isinstance(t, str)][:PAGE_SIZE]
        agency = _field(form, "agency") or ""
        done: list[str] = []
        skipped: list[str] = []
        async with self.db.session() as session:
            refused, who, raw = await self.gate(request, session, roles=(Role.KOMINFO,),
                                                form=form)
            if refused is not None:
                return refused
        if self.city.agency(agency) is None or not tickets:
            return RedirectResponse("/console/?tab=verify", status_code=303)
        for ticket in tickets:
            try:
                async with self.db.session() as session:
                    who = await access.signed_in(session=session, raw=raw, now=now,
                                                 touch=False)
                    found = await self._visible(session, who, ticket, lock=True) \
                        if who is not None else None
                    if who is None or found is None or found.status not in WITH_KOMINFO:
                        raise Refusal(ticket)
                    await self._apply(session, who, found, "verify",
                                      {"agency": agency}, now)
                    done.append(found.ticket)
            except (Refusal, TransitionRefused, ActionError):
                skipped.append(ticket[:24])
        self._counted.forget()
        query = f"?tab=verify&done=bulk&n={len(done)}"
        if skipped:
            query += "&skipped=" + ",".join(skipped)
        return RedirectResponse("/console/" + query, status_code=303)

    async def _after_photo(self, form: Any) -> dict[str, Any]:
        """The "after" photo uploaded with a resolution: checked, re-encoded without its
        metadata (place, camera) off the event loop, and stored."""
        upload = form.get("photo")
        data = await upload.read(PHOTO_MAX + 1)
        if len(data) > PHOTO_MAX:
            raise Refusal(_("The photo is larger than 10 MB."), 413)
        try:
            stored = await self.media_store.save_image_later(data)
        except MediaRejected:
            raise Refusal(_("That file is not a photo we can use (JPEG, PNG or WebP)."),
                          415) from None
        return {"path": stored.path, "content_type": stored.content_type,
                "size": stored.size, "sha256": stored.sha256}

    async def _checked(self, session: AsyncSession, who: access.SignedIn, report: Report,
                       action: str, form: Any, now: datetime) -> None:
        """Apply an action if it is allowed now and the page was current; raise Refusal."""
        if action not in WORDS:  # words do not move the report: no stale-page check
            events = list(await repo.list_report_events(session=session,
                                                        report_id=report.id or 0))
            revision = await self.publishing.revision(session, report)
            if _field(form, "version") != _version(report, events, revision):
                raise Refusal(_("This report was just changed by someone else. Here is what "
                                "it looks like now; nothing you sent was applied."), 409)
        if action not in self._allowed(who.staff, report):
            raise Refusal(_("That action is not possible for this report now."), 409)
        try:
            await self._apply(session, who, report, action, form, now)
        except TransitionRefused as refused:
            raise Refusal(refusal_text(refused), 409) from None
        except Unpublishable as refused:
            raise Refusal(*publish_problem(refused)) from None
        except ActionError as error:
            raise Refusal(str(error), 400) from None

    async def _apply(self, session: AsyncSession, who: access.SignedIn, report: Report,
                     action: str, form: Any, now: datetime) -> None:
        actions = ReportActions(session=session, city=self.city, settings=self.reports_config,
                                now=self.clock, words=RECORD_WORDS)
        staff = who.staff
        if action in PUBLISH_ACTIONS:
            decided = await self.publishing.apply(session, staff, report, action, form)
            await access.record(session=session, staff=staff, action=f"report.{action}",
                                now=now, target=report.ticket, detail=decided)
            return
        me = await repo.get_or_create_identity(session=session, channel=staff.channel,
                                               user_key=staff.user_key)
        note = (_field(form, "note") or "").strip()[:NOTE_MAX] or None
        detail: dict[str, Any] = {}
        if action == "verify":
            agency = _field(form, "agency") or report.agency_key or ""
            if self.city.agency(agency) is None:
                raise Refusal(_("Choose an agency."))
            outcome = await actions.verify(report, actor_id=me.id, agency_key=agency, note=note)
            detail = {"agency": agency}
        elif action == "reassign":
            agency = _field(form, "agency") or ""
            if self.city.agency(agency) is None:
                raise Refusal(_("Choose an agency."))
            outcome = await actions.assign(report, agency, actor_id=me.id, note=note)
            detail = {"agency": agency}
        elif action == "reject":
            reason = _field(form, "reason") or ""
            if reason not in REJECT_REASONS:
                raise Refusal(_("Choose a reason."))
            outcome = await actions.reject(report, actor_id=me.id, reason=reason)
            detail = {"reason": reason}
        elif action == "progress":
            outcome = await actions.progress(report, actor_id=me.id, note=note)
        elif action == "resolve":
            if not note or len(note) < 5:
                raise Refusal(_("Write what was done (a few words) for the resident."))
            photos = [await self._after_photo(form)] if _has_file(form, "photo") else []
            outcome = await actions.resolve(report, actor_id=me.id, note=note, photos=photos)
            detail = {"photos": len(photos)}
        elif action == "duplicate":
            original = await self._visible(session, who, _field(form, "original") or "")
            if original is None or original.id == report.id:
                raise Refusal(_("Choose the earlier report this one repeats."))
            outcome = await actions.mark_duplicate(report, original, actor_id=me.id)
            detail = {"original": original.ticket}
        elif action in WORDS:
            text = (_field(form, "text") or "").strip()[:NOTE_MAX]
            if len(text) < 2:
                raise Refusal(_("Write the message first."))
            outcome = await actions.note(report, staff_id=staff.id or 0, text=text,
                                         to_resident=action == "message")
            detail = {"length": len(text)}
        elif action == "handback":
            if not note or len(note) < 5:
                raise Refusal(_("Write why this report is not for your agency."))
            outcome = await actions.hand_back(report, actor_id=me.id, reason=note,
                                              suggested=_field(form, "agency") or None)
        else:
            raise Refusal(_("That action is not possible for this report now."), 409)
        await self.deliver(session, outcome.notices, now)
        await access.record(session=session, staff=staff, action=f"report.{action}", now=now,
                            target=report.ticket, detail={**detail, "status": report.status})


def _nav(staff: StaffMember) -> list[tuple[str, str]]:
    """The console's pages this staff member has, as (path, label)."""
    pages = []
    if works_reports(staff):
        pages.append(("/console/", _("Inbox")))
    if staff.role in FIGURE_READERS:
        pages.append(("/console/evaluasi", _("Evaluation")))
    pages.append(("/console/peta", _("Map")))
    if staff.role == Role.KOMINFO:
        pages.append(("/console/kampanye", _("Campaigns")))
        pages.append(("/console/jajak", _("Polls")))
        pages.append(("/console/faq", _("Questions")))
        pages.append(("/console/pelanggan", _("Subscribers")))
        pages.append(("/console/petugas", _("Staff")))
    if staff.role in OUTREACH_READERS:
        pages.append(("/console/saran", _("Suggestions")))
        pages.append(("/console/sumber", _("Residents' sources")))
    return pages


def _has_file(form: Any, name: str) -> bool:
    upload = form.get(name)
    return upload is not None and not isinstance(upload, str) and bool(upload.filename)


def _field(form: Any, name: str) -> str | None:
    value = form.get(name)
    return value if isinstance(value, str) else None


def _version(report: Report, events: list[Any], revision: int) -> str:
    """Changes whenever the report moves or is taken, or a publishing decision is made
    (`revision`): the form carries it, so a second staff member acting on a page that is no
    longer current is told instead of moving it twice."""
    last = events[-1].id if events else 0
    return f"{last}-{report.handler_id or 0}-{revision}"


def _summary(text: str, limit: int = 120) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


def _cursor_text(report: Report) -> str:
    due = report.due_at.isoformat() if report.due_at is not None else "-"
    return f"{due}~{report.id}"


def _cursor(text: str | None) -> tuple[datetime | None, int] | None:
    if not text or "~" not in text:
        return None
    due, _sep, last_id = text.rpartition("~")
    try:
        return (None if due == "-" else datetime.fromisoformat(due)), int(last_id)
    except ValueError:
        return None


def _query(params: Any, **changes: str | None) -> str:
    from urllib.parse import urlencode

    merged = {k: v for k, v in params.items() if v}
    for key, value in changes.items():
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = value
    return "?" + urlencode(merged) if merged else "?"
