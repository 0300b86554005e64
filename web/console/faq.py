"""The console's FAQ page: residents' questions the bot could not answer, with an answer box
(the running server relays each answer to the resident's chat), and how often each article was
opened and how residents rated it."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from bot.i18n import _
from faq.service import ANSWER_MAX, FaqError, FaqService
from reports import access
from reports.roles import Role
from storage.models.faq import QuestionStatus

if TYPE_CHECKING:
    from web.console import Console


# The "opened lately" column counts this many days, today included.
RECENT_DAYS = 30


class FaqPages:
    def __init__(self, console: Console) -> None:
        self.console = console

    def add_routes(self, router: APIRouter) -> None:
        router.add_api_route("/faq", self.questions, methods=["GET"])
        router.add_api_route("/faq/{question_id}", self.answer, methods=["POST"])

    async def questions(self, request: Request) -> Response:
        console = self.console
        async with console.db.session() as session:
            refused, who, raw = await console.gate(request, session, roles=(Role.KOMINFO,))
            if refused is not None:
                return refused
            service = FaqService(session=session, now=console.clock)
            waiting = list(await service.questions(status=QuestionStatus.OPEN, limit=200))
            answered = [q for q in await service.questions(status=None, limit=200)
                        if q.status != QuestionStatus.OPEN][:30]
            ratings = {article: (yes, no) for article, yes, no in await service.feedback()}
            today = console.clock().astimezone(console.city.tz).date()
            recent = await service.views(since=today - timedelta(days=RECENT_DAYS - 1))
            ever = await service.views()
        articles = [(article, recent.get(article, 0), ever.get(article, 0),
                     *ratings.get(article, (0, 0)))
                    for article in set(ratings) | set(ever)]
        done = request.query_params.get("done")
        return console.page(request, "faq.html", {
            "waiting": waiting, "answered": answered,
            "articles": sorted(articles, key=lambda r: (-r[1], -r[2], r[0])),
            "recent_days": RECENT_DAYS,
            "answer_max": ANSWER_MAX, "done": done if done and done.isdigit() else None,
            "problem": None}, who=who, raw=raw)

    async def answer(self, request: Request, question_id: int) -> Response:
        console = self.console
        form = await request.form(max_files=0, max_fields=300)
        text = form.get("answer")
        async with console.db.session() as session:
            refused, who, raw = await console.gate(request, session, roles=(Role.KOMINFO,),
                                                   form=form)
            if refused is not None or who is None:
                return refused or console._to_signin()
            service = FaqService(session=session, now=console.clock)
            try:
                await service.answer(question_id=question_id,
                                     text=text if isinstance(text, str) else "",
                                     by=who.staff.name)
            except FaqError:
                problem = _("Write an answer of at most {n} characters.").format(n=ANSWER_MAX)
                return console.page(request, "message.html", {
                    "title": _("The answer was not sent"), "text": problem},
                    status=400, who=who, raw=raw)
            await access.record(session=session, staff=who.staff, action="faq.answer",
                                now=console.clock(), target=f"question:{question_id}")
        return RedirectResponse(f"/console/faq?done={question_id}", status_code=303)
