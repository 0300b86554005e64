"""The reporter's verdict on a resolved report: fixed or not, 1-5 stars, an optional comment."""

from __future__ import annotations

from bot.flows.base import Ctx, Flow, Routes
from bot.flows.notices import report_actions, send_notices
from bot.flows.options import OptionId, normalize, yes_or_no
from bot.flows.router import leave_flow
from bot.flows.state import FlowState
from bot.i18n import _
from bot.labels import refusal_text
from bot.messages import Option
from reports.actions import ActionError
from reports.lifecycle import Status, TransitionRefused
from storage.models import Report

RATING = "rating"
COMMENT_MAX = 1000


class RatingState(FlowState):
    """The resolved report the resident is rating."""

    key = RATING

    report: int
    ticket: str


# Typed after a resolution instead of tapping: the report is not fixed, or it is.
NOT_FIXED_WORDS = frozenset({
    "belum", "blm", "belum selesai", "blm selesai", "masih rusak", "belum teratasi",
    "belum beres", "blm beres", "belum diperbaiki", "masih belum", "belum juga", "tidak beres",
    "gak beres", "masih", "not fixed", "still broken"})
FIXED_WORDS = frozenset({
    "sudah", "sdh", "udah", "sudah selesai", "sudah beres", "udah beres", "sdh beres",
    "sudah diperbaiki", "sudah teratasi", "sudah bagus", "fixed", "it is fixed"})
# Where such a word is read as the verdict: not in the middle of a form, where it answers the
# form's question.
VERDICT_FLOWS = frozenset({"menu", "track", "mine"})


def verdict_options(report: Report) -> list[Option]:
    """The resident's verdict on their resolved report, offered again on its status screen."""
    return [Option(f"rate:no:{report.id}", _("👎 Not resolved yet")),
            Option(f"rate:yes:{report.id}", _("👍 Yes, it is fixed"))]


async def rate_button(ctx: Ctx) -> bool:
    """"rate:yes:<id>" / "rate:no:<id>" on the resolution message, whatever flow the resident
    is in."""
    button = OptionId.parse(ctx.inbound.option_id)
    answer = button.part(1)
    report_id = button.number_after("rate", answer or "")
    report = await report_actions(ctx).get(report_id) if report_id is not None else None
    if report is None or report.reporter_id != ctx.person.id or answer not in ("yes", "no"):
        ctx.say(_("This button is no longer valid."))
        return True
    await _verdict(ctx, report, fixed=answer == "yes")
    return True


async def typed_verdict(ctx: Ctx) -> bool:
    """"belum", "masih rusak" (or "sudah") typed after the resident's report was resolved: the
    same as the buttons, for the latest such report. At the menu, where nothing else asks a
    yes or no, a plain "ya" or "gak" answers "is it fixed?" too."""
    if ctx.flow not in VERDICT_FLOWS:
        return False
    words = normalize(ctx.text)
    answer = yes_or_no(words) if ctx.flow == "menu" else None
    fixed = words in FIXED_WORDS or answer == "yes"
    if not fixed and words not in NOT_FIXED_WORDS and answer != "no":
        return False
    resolved = [r for r in await ctx.services.reports.mine(ctx.person.id, limit=20)
                if r.status == Status.RESOLVED]
    if not resolved:
        return False
    report = max(resolved, key=lambda r: r.updated_at)
    await _verdict(ctx, report, fixed=fixed)
    return True


async def _verdict(ctx: Ctx, report: Report, *, fixed: bool) -> None:
    actions = report_actions(ctx)
    try:
        outcome = await actions.answer_fixed(report, identity_id=ctx.person.id, fixed=fixed)
    except TransitionRefused as refused:
        ctx.say(refusal_text(refused))
        return
    except ActionError:
        ctx.say(_("You have already answered about report {ticket}. Thank you!").format(
            ticket=report.ticket))
        return
    send_notices(ctx, outcome.notices)
    if fixed:
        ctx.say(_("Thank you! We are glad it is fixed. Report {ticket} is now closed.").format(
            ticket=report.ticket))
    else:
        ctx.say(_("We are sorry it is not fixed. Report {ticket} has been reopened and sent "
                  "back to {agency}; its head and Kominfo have been alerted.").format(
            ticket=report.ticket, agency=ctx.services.city.agency_label(report.agency_key)))
    leave_flow(ctx)
    RatingState.start(ctx, report=report.id, ticket=report.ticket)
    ctx.goto("stars", RatingFlow.name, remember=False)


class RatingFlow(Flow):
    name = RATING
    # The reporter's verdict, after "is it fixed?": stars, then a comment; both can be skipped.
    steps = ("stars", "comment")
    first_state = steps[0]

    def routes(self) -> Routes:
        return Routes(buttons={"rate": rate_button}, typed_codes=(typed_verdict,))

    def _report_id(self, ctx: Ctx) -> int:
        state = RatingState.get(ctx)
        return state.report if state is not None else 0

    async def on_cancel(self, ctx: Ctx) -> None:
        RatingState.drop(ctx)

    async def ask_stars(self, ctx: Ctx) -> None:
        options = [Option(f"star:{n}", "⭐" * n) for n in range(1, 6)]
        ctx.say(_("How well did the agency handle it? Choose from 1 (poor) to 5 (excellent)."),
                options=[*options, Option("skip", _("Skip"))])

    async def on_stars(self, ctx: Ctx) -> None:
        if ctx.choice() == "skip":
            ctx.goto(self.steps[1], remember=False)
            return
        stars = ctx.picked().number_after("star")
        if stars is not None:
            actions = report_actions(ctx)
            report = await actions.get(self._report_id(ctx))
            if report is not None:
                await actions.rate(report, identity_id=ctx.person.id, stars=stars)
            ctx.goto(self.steps[1], remember=False)
            return
        ctx.say(_("Please choose from 1 to 5 stars, or tap Skip."))
        ctx.stay()

    async def ask_comment(self, ctx: Ctx) -> None:
        ctx.say(_("Would you like to add a comment for the agency? Type it, or tap Skip."),
                options=[Option("skip", _("Skip"))])

    async def on_comment(self, ctx: Ctx) -> None:
        if ctx.choice() == "skip":
            self._thank(ctx)
            return
        if ctx.needs_text(_("Please type your comment, or tap Skip.")):
            return
        actions = report_actions(ctx)
        report = await actions.get(self._report_id(ctx))
        if report is not None:
            send_notices(ctx, await actions.rate(report, identity_id=ctx.person.id,
                                                 comment=ctx.text[:COMMENT_MAX]))
        self._thank(ctx)

    def _thank(self, ctx: Ctx) -> None:
        RatingState.drop(ctx)
        ctx.say(_("Thank you for your feedback. It helps the city serve residents better."))
        ctx.goto("main", "menu")
