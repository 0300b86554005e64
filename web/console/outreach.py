"""The console's outreach pages (Kominfo; leadership reads them): residents' suggestions to the
city by theme and kelurahan, each answered once through the resident's chat; and where
residents come from: the tracked sources (QR codes, school visits, events, social posts) and the
answers to "how did you hear of this service?", with the joins, first reports and questions
each brought."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from bot.i18n import _, use_locale
from bot.outreach_texts import (
    source_kind_name,
    suggestion_reply_text,
    theme_choices,
    theme_name,
)
from broadcasts.outreach import OutreachService, load_outreach
from broadcasts.suggestions import REPLY_MAX, THEMES, SuggestionError, SuggestionService, theme_key
from reports import access
from reports.roles import Role
from storage import repo, repo_agencies
from storage.models.outreach import Suggestion
from storage.repo_outreach import SuggestionFilter
from web.forms import form_text

if TYPE_CHECKING:
    from pathlib import Path

    from sqlmodel.ext.asyncio.session import AsyncSession

    from web.console import Console
    from web.console.staff_pages import Tell

# Who reads residents' suggestions and where residents come from; only Kominfo answers.
OUTREACH_READERS = (Role.KOMINFO, Role.LEADERSHIP)
PAGE_SIZE = 50
CSV_ROWS = 10_000


class OutreachPages:
    def __init__(self, console: Console, *, tell: Tell, city_dir: Path) -> None:
        self.console = console
        self.tell = tell
        self.city_dir = city_dir

    def add_routes(self, router: APIRouter) -> None:
        router.add_api_route("/saran", self.suggestions, methods=["GET"])
        router.add_api_route("/saran.csv", self.suggestions_csv, methods=["GET"])
        router.add_api_route("/saran/{suggestion_id}", self.reply, methods=["POST"])
        router.add_api_route("/sumber", self.sources, methods=["GET"])

    def _pack(self) -> Any:
        return load_outreach(self.city_dir, self.console.city.reader)

    # -- suggestions ---------------------------------------------------------------------------

    def _filter(self, params: Any) -> tuple[SuggestionFilter, dict[str, str]]:
        """The filter the page's form asks for; unknown values are left out."""
        city = self.console.city
        chosen: dict[str, str] = {}
        theme = params.get("theme") or ""
        kind, _sep, app = theme.partition(":")
        if kind not in THEMES or (app and (kind != "app" or self._pack().app(app) is None)):
            kind, app = "", ""
        if kind:
            chosen["theme"] = theme_key(kind, app or None)
        codes: tuple[str, ...] | None = None
        place = params.get("kelurahan") or ""
        if place == "-":
            codes, chosen["kelurahan"] = (), "-"
        elif city.has_kelurahan(place):
            codes, chosen["kelurahan"] = (place,), place
        elif city.kecamatan_by_code(place) is not None:
            codes = tuple(k.code for k in city.kelurahan_in(place))
            chosen["kelurahan"] = place
        replied = {"yes": True, "no": False}.get(params.get("replied") or "")
        if replied is not None:
            chosen["replied"] = params.get("replied")
        start = end = None
        for name in ("from", "to"):
            try:
                day = date.fromisoformat(params.get(name) or "")
            except ValueError:
                continue
            chosen[name] = day.isoformat()
            if name == "from":
                start = self.console.calendar.at(day, 0)
            else:
                end = self.console.calendar.at(day + timedelta(days=1), 0)
        where = SuggestionFilter(theme=kind or None, app=app or None, kelurahan_codes=codes,
                                 replied=replied, start=start, end=end)
        return where, chosen

    def _place(self, code: str | None) -> str:
        city = self.console.city
        if not code or not city.has_kelurahan(code):
            return ""
        kel = city.kelurahan(code)
        kec = city.kecamatan_by_code(kel.kecamatan_code)
        return f"{kel.name} ({kec.name})" if kec else kel.name

    def _row(self, suggestion: Suggestion, pack: Any, staff: dict[int, str]) -> dict[str, Any]:
        return {"id": suggestion.id, "theme": theme_name(
                    theme_key(suggestion.theme, suggestion.app), pack),
                "kelurahan": self._place(suggestion.kelurahan_code),
                "channel": suggestion.channel, "text": suggestion.text,
                "created_at": suggestion.created_at, "reply": suggestion.reply,
                "replied_at": suggestion.replied_at,
                "replied_by": staff.get(suggestion.replied_by or 0, "")}

    async def _context(self, session: AsyncSession, params: Any,
                       who: access.SignedIn) -> dict[str, Any]:
        city = self.console.city
        pack = self._pack()
        where, chosen = self._filter(params)
        service = SuggestionService(session=session, now=self.console.clock)
        before = params.get("before") or ""
        rows = await service.listing(where, before_id=int(before) if before.isdigit() else None,
                                     limit=PAGE_SIZE + 1)
        by_theme = await service.by_theme(where)
        by_kelurahan = await service.by_kelurahan(where)
        staff = {s.id or 0: s.name for s in await repo_agencies.list_staff(
            session=session, active_only=False)}
        following = None
        if len(rows) > PAGE_SIZE:
            rows = rows[:PAGE_SIZE]
            following = "?" + urlencode({**chosen, "before": str(rows[-1].id)})
        with use_locale(who.staff.locale):
            themes = sorted(((theme_name(k, pack), n) for k, n in by_theme.items()),
                            key=lambda item: (-item[1], item[0]))
            places = sorted(((self._place(k) or _("Kelurahan not known"), n)
                             for k, n in by_kelurahan.items()),
                            key=lambda item: (-item[1], item[0]))
            shown = [self._row(r, pack, staff) for r in rows]
            choices = theme_choices(pack)
        return {
            "rows": shown, "following": following,
            "themes": themes, "places": places, "total": sum(by_theme.values()),
            "chosen": chosen, "query": urlencode(chosen),
            "theme_choices": choices,
            "kecamatan": [(k, sorted(city.kelurahan_in(k.code), key=lambda x: x.name))
                          for k in city.kecamatan],
            "can_reply": who.staff.role == Role.KOMINFO, "reply_max": REPLY_MAX,
            "done": None, "problem": None,
        }

    async def suggestions(self, request: Request) -> Response:
        console = self.console
        async with console.db.session() as session:
            refused, who, raw = await console.gate(request, session, roles=OUTREACH_READERS)
            if refused is not None or who is None:
                return refused or console._to_signin()
            context = await self._context(session, request.query_params, who)
        done = request.query_params.get("done") or ""
        context["done"] = done if done.isdigit() else None
        return console.page(request, "suggestions.html", context, who=who, raw=raw)

    async def suggestions_csv(self, request: Request) -> Response:
        """The suggestions under the page's filter, newest first, for a spreadsheet."""
        console = self.console
        async with console.db.session() as session:
            refused, who, _raw = await console.gate(request, session, roles=OUTREACH_READERS)
            if refused is not None or who is None:
                return refused or console._to_signin()
            where, _chosen = self._filter(request.query_params)
            rows = await SuggestionService(session=session, now=console.clock).listing(
                where, limit=CSV_ROWS)
        pack = self._pack()
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        with use_locale(who.staff.locale):
            writer.writerow([_("Number"), _("Received"), _("Theme"), _("Kelurahan"),
                             _("Channel"), _("Suggestion"), _("Answer"), _("Answered")])
            for row in rows:
                writer.writerow([row.id, row.created_at.astimezone(console.city.tz).strftime(
                    "%Y-%m-%d %H:%M"), theme_name(theme_key(row.theme, row.app), pack),
                    self._place(row.kelurahan_code), row.channel, row.text, row.reply or "",
                    row.replied_at.astimezone(console.city.tz).strftime("%Y-%m-%d %H:%M")
                    if row.replied_at else ""])
        return Response(out.getvalue(), media_type="text/csv; charset=utf-8", headers={
            "Content-Disposition": 'attachment; filename="saran.csv"',
            "Cache-Control": "no-store"})

    async def reply(self, request: Request, suggestion_id: int) -> Response:
        """Kominfo answers a suggestion, once; the answer goes to the resident's chat through
        the outbox, in the same transaction."""
        console = self.console
        form = await request.form(max_files=0, max_fields=20)
        now = console.clock()
        problem: str | None = None
        status = 400
        async with console.db.session() as session:
            refused, who, raw = await console.gate(request, session, roles=(Role.KOMINFO,),
                                                   form=form)
            if refused is not None or who is None:
                return refused or console._to_signin()
            service = SuggestionService(session=session, now=console.clock)
            try:
                replied = await service.reply(suggestion_id, text=form_text(form, "reply"),
                                              staff_id=who.staff.id or 0)
            except SuggestionError as error:
                problem, status = _reply_problem(error.code)
            else:
                resident = await repo.get_identity_by_id(session=session,
                                                         identity_id=replied.identity_id)
                if resident is not None:
                    locale = resident.locale or "id"
                    suggestion = replied.suggestion
                    with use_locale(locale):
                        text = suggestion_reply_text(
                            number=suggestion.id or 0, sent=suggestion.created_at,
                            suggestion=suggestion.text, reply=suggestion.reply or "")
                    await self.tell(session, channel=resident.channel,
                                    user_key=resident.user_key, locale=locale, text=text,
                                    now=now)
                await access.record(session=session, staff=who.staff, action="suggestion.reply",
                                    now=now, target=f"suggestion:{suggestion_id}",
                                    detail={"length": len(replied.suggestion.reply or "")})
                return RedirectResponse(f"/console/saran?done={suggestion_id}", status_code=303)
        async with console.db.reader() as session:
            who = await access.signed_in(session=session, raw=raw, now=now, touch=False)
            if who is None:
                return console._to_signin()
            context = await self._context(session, request.query_params, who)
        context["problem"] = problem
        return console.page(request, "suggestions.html", context, status=status, who=who,
                            raw=raw)

    # -- where residents come from -------------------------------------------------------------

    async def sources(self, request: Request) -> Response:
        console = self.console
        async with console.db.session() as session:
            refused, who, raw = await console.gate(request, session, roles=OUTREACH_READERS)
            if refused is not None or who is None:
                return refused or console._to_signin()
            service = OutreachService(session=session, now=console.clock)
            figures = await service.figures()
            with use_locale(who.staff.locale):
                heard = await service.heard_figures(self._pack())
        return console.page(request, "sources.html", {
            "sources": [{"code": f.source.code, "name": f.source.name,
                         "kind": source_kind_name(f.source.kind),
                         "created_at": f.source.created_at, "residents": f.residents,
                         "joined": f.joined, "first_reports": f.first_reports,
                         "first_questions": f.first_questions} for f in figures],
            "heard": heard,
        }, who=who, raw=raw)


def _reply_problem(code: str) -> tuple[str, int]:
    """Why a reply was refused, for staff, with the page's status."""
    if code == "replied":
        return _("This suggestion has already been answered; a suggestion is answered only "
                 "once."), 409
    if code == "missing":
        return _("There is no such suggestion."), 404
    if code == "long":
        return _("Write an answer of at most {n} characters.").format(n=REPLY_MAX), 400
    return _("Write the answer first."), 400
