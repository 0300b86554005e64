"""The console's polls and quizzes (Kominfo): compose a poll or a quiz, see whom it reaches and
the question as Telegram and WhatsApp show it, send or schedule it, watch the results fill in
per kecamatan and kelurahan while it is open (bar charts, the kelurahan map of response
rates, the words residents used most), close it, download the counts as CSV; a quiz's
leaderboards per school, campus, kelurahan and community. The same poll domain and dispatcher
as `emas poll`."""

from __future__ import annotations

import csv
import io
from datetime import datetime
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from bot.broadcast_texts import describe_audience, problem_texts
from bot.i18n import TZ, _, format_number, ngettext, use_locale
from bot.poll_texts import (
    cell,
    kind_label,
    numbered,
    phase_label,
    question_options,
    question_text,
    results_csv,
)
from broadcasts.audience import CHANNELS, Audience
from broadcasts.campaigns import CampaignError
from broadcasts.config import BroadcastConfig
from broadcasts.groups import GroupCatalog
from broadcasts.poll_results import LEADERBOARDS, answer_rows, leaderboard, poll_results
from broadcasts.polls import (
    MAX_QUESTIONS,
    PollCard,
    PollDraft,
    PollError,
    PollService,
    QuestionDraft,
)
from reports import access
from reports.roles import Role
from reports.staff import signature
from storage import repo_polls
from storage.models.poll import PollKind, PollStatus
from web.charts import Bar, bar_chart, share_bars
from web.forms import form_list
from web.forms import form_text as _text
from web.maps import legend

if TYPE_CHECKING:
    from sqlmodel.ext.asyncio.session import AsyncSession

    from web.console import Console

MOVES = ("send", "close")
# Own-words answers shown on the page (the CSV has them all).
LATEST_TEXTS = 20
TEXTS_CSV_MAX = 100_000


def _lines(text: str) -> list[str]:
    return [" ".join(line.split()) for line in text.splitlines() if line.strip()]


def percent(share: float | None) -> str:
    return "-" if share is None else f"{format_number(round(share * 100))}%"


def board_label(by: str) -> str:
    return {"school": _("Schools"), "campus": _("Campuses"), "kelurahan": _("Kelurahan"),
            "group": _("Communities")}.get(by, by)


class PollPages:
    def __init__(self, console: Console, *, catalog: GroupCatalog,
                 config: BroadcastConfig) -> None:
        self.console = console
        self.catalog = catalog
        self.config = config

    def add_routes(self, router: APIRouter) -> None:
        router.add_api_route("/jajak", self.listing, methods=["GET"])
        router.add_api_route("/jajak/baru", self.compose, methods=["GET"])
        router.add_api_route("/jajak/baru", self.create, methods=["POST"])
        router.add_api_route("/jajak/peringkat", self.leaderboard, methods=["GET"])
        router.add_api_route("/jajak/{poll_id}", self.show, methods=["GET"])
        router.add_api_route("/jajak/{poll_id}", self.move, methods=["POST"])
        router.add_api_route("/jajak/{poll_id}/hasil", self.results_block, methods=["GET"])
        router.add_api_route("/jajak/{poll_id}/hasil.csv", self.results_csv, methods=["GET"])
        router.add_api_route("/jajak/{poll_id}/jawaban.csv", self.texts_csv, methods=["GET"])

    def _service(self, session: AsyncSession) -> PollService:
        console = self.console
        return PollService(session=session, city=console.city, catalog=self.catalog,
                           settings=self.config, now=console.clock)

    async def _kominfo(self, request: Request, session: AsyncSession,
                       form: Any = None) -> Any:
        return await self.console.gate(request, session, roles=(Role.KOMINFO,), form=form)

    # -- the list ------------------------------------------------------------------------------

    async def listing(self, request: Request) -> Response:
        console = self.console
        async with console.db.session() as session:
            refused, who, raw = await self._kominfo(request, session)
            if refused is not None:
                return refused
            service = self._service(session)
            polls = await service.recent(limit=100)
            rows = []
            for poll in polls:
                assert poll.id is not None
                rows.append({"poll": poll, "phase": phase_label(service.phase(poll)),
                             "kind": kind_label(poll.kind),
                             "responses": await repo_polls.respondents(session=session,
                                                                       poll_id=poll.id)})
        return console.page(request, "polls.html", {"rows": rows}, who=who, raw=raw)

    # -- composing -----------------------------------------------------------------------------

    def _form_context(self, values: dict[str, Any], kind: str) -> dict[str, Any]:
        city = self.console.city
        return {
            "values": values, "kind": kind, "max_questions": MAX_QUESTIONS,
            "groups": sorted(self.catalog.groups, key=lambda g: (g.kind, g.position, g.key)),
            "kecamatan": city.kecamatan,
            "kelurahan": sorted(city.all_kelurahan(), key=lambda k: k.name),
            "channels": CHANNELS, "preview": None, "problems": [], "cards": [],
            "preview_of": message_preview,
        }

    async def compose(self, request: Request) -> Response:
        console = self.console
        async with console.db.session() as session:
            refused, who, raw = await self._kominfo(request, session)
        if refused is not None:
            return refused
        kind = PollKind.QUIZ if request.query_params.get("jenis") == "kuis" else PollKind.POLL
        values: dict[str, Any] = {"channels": list(CHANNELS), "questions": []}
        return console.page(request, "poll_compose.html", self._form_context(values, kind),
                            who=who, raw=raw)

    def _draft(self, form: Any) -> tuple[PollDraft, dict[str, Any], list[str]]:
        """The form as a draft; times are typed in WIB."""
        kind = PollKind.QUIZ if _text(form, "kind") == PollKind.QUIZ else PollKind.POLL
        problems: list[str] = []
        values: dict[str, Any] = {
            "title": _text(form, "title"), "groups": form_list(form, "groups"),
            "kecamatan": form_list(form, "kecamatan"), "kelurahan": form_list(form, "kelurahan"),
            "channels": [c for c in form_list(form, "channels") if c in CHANNELS],
            "opens_at": _text(form, "opens_at"), "closes_at": _text(form, "closes_at"),
            "share_results": bool(form.get("share_results")), "questions": [],
        }
        moments: dict[str, datetime | None] = {}
        for name in ("opens_at", "closes_at"):
            moments[name] = None
            if values[name]:
                try:
                    moments[name] = datetime.fromisoformat(values[name]).replace(tzinfo=TZ)
                except ValueError:
                    problems.append(_("The opening or closing time is not a date and time."))
        blocks = 1 if kind == PollKind.POLL else MAX_QUESTIONS
        questions: list[QuestionDraft] = []
        for number in range(1, blocks + 1):
            raw = {key: _text(form, f"q{number}_{key}") for key in
                   ("text", "text_en", "options", "options_en", "correct", "points")}
            raw["free_text"] = "1" if form.get(f"q{number}_free_text") else ""
            values["questions"].append(raw)
            options, english = _lines(raw["options"]), _lines(raw["options_en"])
            if kind == PollKind.QUIZ and not (raw["text"] or options):
                continue  # an empty block of the quiz form
            labels = [{"id": o} for o in options]
            if english and len(english) != len(options):
                problems.append(_("Question {n}: give one English label per line for each "
                                  "option, or none.").format(n=number))
            for label, en in zip(labels, english, strict=False):
                label["en"] = en
            texts = {"id": raw["text"]}
            if raw["text_en"]:
                texts["en"] = raw["text_en"]
            correct = int(raw["correct"]) - 1 if raw["correct"].isdigit() else None
            points = int(raw["points"]) if raw["points"].isdigit() else 0
            questions.append(QuestionDraft(texts=texts, options=labels,
                                           allow_text=bool(raw["free_text"]),
                                           correct=correct, points=points))
        audience = Audience(groups=values["groups"], kecamatan=values["kecamatan"],
                            kelurahan=values["kelurahan"], channels=values["channels"],
                            relays=False)
        draft = PollDraft(questions=questions, audience=audience, kind=kind,
                          title=values["title"], opens_at=moments["opens_at"],
                          closes_at=moments["closes_at"], share_results=values["share_results"])
        return draft, values, problems

    async def create(self, request: Request) -> Response:
        console = self.console
        form = await request.form(max_files=0, max_fields=500)
        async with console.db.session() as session:
            refused, who, raw = await self._kominfo(request, session, form)
            if refused is not None:
                return refused
            service = self._service(session)
            draft, values, problems = self._draft(form)
            problems += problem_texts(service.problems(draft))
            context = self._form_context(values, draft.kind)
            if not problems:
                try:
                    context["preview"] = await service.preview(draft)
                except PollError as error:
                    problems += problem_texts(error.problems)
            if problems or form.get("intent") != "save":
                context["problems"] = problems
                if not problems:
                    context["cards"] = _cards_of(draft)
                return console.page(request, "poll_compose.html", context,
                                    status=400 if problems else 200, who=who, raw=raw)
            poll = await service.create(draft, created_by=signature(who.staff))
            await access.record(session=session, staff=who.staff, action="poll.create",
                                now=console.clock(), target=f"poll:{poll.id}")
        return RedirectResponse(f"/console/jajak/{poll.id}", status_code=303)

    # -- one poll ------------------------------------------------------------------------------

    async def _context(self, session: AsyncSession, poll_id: int) -> dict[str, Any] | None:
        service = self._service(session)
        poll = await service.find(poll_id)
        if poll is None:
            return None
        questions = await service.questions(poll)
        phase = service.phase(poll)
        figures = await poll_results(session=session, city=self.console.city,
                                     catalog=self.catalog, poll=poll, questions=questions,
                                     phase=phase)
        preview = None
        if poll.status == PollStatus.DRAFT:
            try:
                preview = await service.preview(poll)
            except PollError:
                preview = None  # the audience no longer exists: sending says why
        moves = []
        if poll.status == PollStatus.DRAFT:
            moves += ["send", "close"]
        elif poll.status == PollStatus.OPEN:
            moves.append("close")
        latest = []
        for question in questions:
            if question.allow_text:
                rows = await repo_polls.text_answers(session=session, question_id=question.id,
                                                     limit=LATEST_TEXTS)
                names = self.console.kelurahan_names
                latest.append({"position": question.position, "rows": [
                    {"text": text, "kelurahan": names.get(kel or "", ""), "at": at}
                    for text, kel, at in rows]})
        cards = [await service.card(poll, q) for q in questions]
        return {
            "poll": poll, "phase": phase, "phase_label": phase_label(phase),
            "kind_label": kind_label(poll.kind), "questions": questions, "cards": cards,
            "audience": describe_audience(Audience.model_validate(poll.audience),
                                          self.catalog, self.console.city),
            "figures": figures, "preview": preview, "moves": moves, "latest": latest,
            "live": poll.status == PollStatus.OPEN, "preview_of": message_preview,
            **self._drawn(figures),
        }

    def _drawn(self, figures: dict[str, Any]) -> dict[str, Any]:
        """The charts and the map of a poll's results."""
        charts = []
        for question in figures["questions"]:
            rows = [(o["label"], o["count"], o["share"]) for o in question["options"]]
            charts.append(share_bars(rows, title=_("Answers to question {n}").format(
                n=question["position"] + 1), percent=percent, marked=question.get("correct")))
        rates = [r for r in figures["kelurahan_rates"] if r["code"]]
        kecamatan = self._kecamatan_rates(figures)
        rate_chart = bar_chart([
            Bar(name, share or 0.0, f"{percent(share)} ({answered}/{delivered})")
            for name, answered, delivered, share in kecamatan],
            title=_("Response rate per kecamatan"), full=1.0)
        city_map = self.console.figures.map.draw(
            {r["code"]: round((r["rate"] or 0) * 100) for r in rates},
            self.console.kelurahan_names, title=_("Response rate per kelurahan"),
            describe=lambda name, pct: _("{name}: {pct}% answered").format(name=name, pct=pct))
        return {"charts": charts, "rate_chart": rate_chart if kecamatan else None,
                "map": city_map, "legend": legend(max((round((r["rate"] or 0) * 100)
                                                        for r in rates), default=0)),
                "kecamatan_rates": kecamatan}

    def _kecamatan_rates(self, figures: dict[str, Any]) -> list[tuple[str, int, int,
                                                                      float | None]]:
        city = self.console.city
        totals: dict[str, list[int]] = {}
        for row in figures["kelurahan_rates"]:
            if not row["code"] or not city.has_kelurahan(row["code"]):
                continue
            kec = city.kecamatan_by_code(city.kelurahan(row["code"]).kecamatan_code)
            pair = totals.setdefault(kec.name if kec else "-", [0, 0])
            pair[0] += row["responses"]
            pair[1] += row["delivered"]
        return [(name, answered, delivered, answered / delivered if delivered else None)
                for name, (answered, delivered) in sorted(totals.items())]

    async def show(self, request: Request, poll_id: int) -> Response:
        done = request.query_params.get("done")
        return await self._shown(request, poll_id, "poll.html",
                                 done=done if done in MOVES else None, problems=[])

    async def results_block(self, request: Request, poll_id: int) -> Response:
        """The results alone, for the page to refresh while the poll is open."""
        return await self._shown(request, poll_id, "poll_results.html")

    async def _shown(self, request: Request, poll_id: int, template: str,
                     **more: Any) -> Response:
        console = self.console
        async with console.db.session() as session:
            refused, who, raw = await self._kominfo(request, session)
            if refused is not None:
                return refused
            context = await self._context(session, poll_id)
        if context is None:
            return console.hidden(request, who, raw)
        return console.page(request, template, {**context, **more}, who=who, raw=raw)

    async def move(self, request: Request, poll_id: int) -> Response:
        console = self.console
        form = await request.form(max_files=0, max_fields=50)
        action = _text(form, "action")
        async with console.db.session() as session:
            refused, who, raw = await self._kominfo(request, session, form)
            if refused is not None:
                return refused
            context = await self._context(session, poll_id)
            if context is None:
                return console.hidden(request, who, raw)
            service = self._service(session)
            problems: list[str] = []
            if action not in context["moves"]:
                problems.append(_("That is not possible for this poll now."))
            else:
                staff = who.staff
                try:
                    if action == "send":
                        await service.send(poll_id, by=signature(staff),
                                           notify=(staff.channel, staff.user_key,
                                                   staff.locale))
                    else:
                        await service.close(poll_id, by=signature(staff))
                except (PollError, CampaignError) as error:
                    problems += problem_texts(error.problems)
            if not problems:
                await access.record(session=session, staff=who.staff, action=f"poll.{action}",
                                    now=console.clock(), target=f"poll:{poll_id}")
                return RedirectResponse(f"/console/jajak/{poll_id}?done={action}",
                                        status_code=303)
        # Refused: the transaction was rolled back; the page shows the poll as it is now.
        async with console.db.reader() as session:
            who = await access.signed_in(session=session, raw=raw, now=console.clock(),
                                         touch=False)
            assert who is not None
            context = await self._context(session, poll_id)
        assert context is not None
        return console.page(request, "poll.html", {**context, "problems": problems,
                                                   "done": None}, status=409, who=who, raw=raw)

    # -- downloads -----------------------------------------------------------------------------

    async def results_csv(self, request: Request, poll_id: int) -> Response:
        console = self.console
        async with console.db.session() as session:
            refused, who, raw = await self._kominfo(request, session)
            if refused is not None:
                return refused
            service = self._service(session)
            poll = await service.find(poll_id)
            if poll is None:
                return console.hidden(request, who, raw)
            rows = await answer_rows(session=session, city=console.city, poll=poll,
                                     questions=await service.questions(poll))
        with use_locale(who.staff.locale):
            body = results_csv(rows)
        return _csv(body, f"jajak-{poll_id}.csv")

    async def texts_csv(self, request: Request, poll_id: int) -> Response:
        """The answers in residents' own words (no names, numbers or chats: what they wrote,
        their kelurahan and when)."""
        console = self.console
        async with console.db.session() as session:
            refused, who, raw = await self._kominfo(request, session)
            if refused is not None:
                return refused
            service = self._service(session)
            poll = await service.find(poll_id)
            if poll is None:
                return console.hidden(request, who, raw)
            out = io.StringIO()
            writer = csv.writer(out, lineterminator="\r\n")
            with use_locale(who.staff.locale):
                writer.writerow([_("Question"), _("Answer"), _("Kelurahan"), _("Time")])
                names = console.kelurahan_names
                for question in await service.questions(poll):
                    if not question.allow_text:
                        continue
                    for text, kel, at in await repo_polls.text_answers(
                            session=session, question_id=question.id, limit=TEXTS_CSV_MAX):
                        writer.writerow([question.position + 1, cell(text),
                                         names.get(kel or "", ""),
                                         at.astimezone(TZ).strftime("%Y-%m-%d %H:%M")])
        return _csv(out.getvalue(), f"jajak-{poll_id}-jawaban.csv")

    # -- a quiz's leaderboards -----------------------------------------------------------------

    async def leaderboard(self, request: Request) -> Response:
        console = self.console
        params = request.query_params
        asked = params.get("by") or ""
        by = asked if asked in LEADERBOARDS else "school"
        chosen = params.get("kuis") or ""
        async with console.db.session() as session:
            refused, who, raw = await self._kominfo(request, session)
            if refused is not None:
                return refused
            quizzes = await repo_polls.list_polls(session=session, limit=100,
                                                  kind=PollKind.QUIZ)
            quiz_id = int(chosen) if chosen.isdigit() and any(
                q.id == int(chosen) for q in quizzes) else None
            rows = await leaderboard(session=session, city=console.city, catalog=self.catalog,
                                     poll_id=quiz_id, by=by)
        chart = bar_chart([Bar(f"{r['rank']}. {r['name']}", r["points"], ngettext(
            "%(num)s point", "%(num)s points", r["points"]) % {"num": r["points"]})
            for r in rows[:15]], title=_("Points per {what}").format(what=board_label(by)))
        return console.page(request, "poll_leaderboard.html", {
            "quizzes": quizzes, "quiz_id": quiz_id, "by": by, "rows": rows, "chart": chart,
            "boards": [(key, board_label(key)) for key in LEADERBOARDS],
        }, who=who, raw=raw)


def _cards_of(draft: PollDraft) -> list[PollCard]:
    """The draft's questions as residents would see them (for the compose page's preview)."""
    from broadcasts.polls import Question

    cards = []
    for position, q in enumerate(draft.questions):
        question = Question(id=0, position=position, texts=q.texts, options=q.options,
                            allow_text=q.allow_text, correct=q.correct, points=q.points)
        cards.append(PollCard(poll_id=0, kind=draft.kind, title=draft.title, question=question,
                              questions=len(draft.questions), closes_at=draft.closes_at,
                              share_results=draft.share_results))
    return cards


def message_preview(card: PollCard) -> dict[str, Any]:
    """A question as Telegram and WhatsApp show it to a resident (in Indonesian)."""
    with use_locale("id"):
        text = question_text(card, "id")
        options = [(o.id, o.label) for o in question_options(card.poll_id, card.question, "id")]
        return {"text": text, "buttons": [label for _id, label in options],
                "whatsapp": text + "\n\n" + numbered(options)}


def _csv(body: str, name: str) -> Response:
    return Response("\ufeff" + body, media_type="text/csv; charset=utf-8", headers={
        "Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"})
