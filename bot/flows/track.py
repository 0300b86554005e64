"""Checking a report by ticket number, and the resident's own list of reports."""

from __future__ import annotations

from bot.flows.base import Ctx, Flow
from bot.flows.common import opt_cancel, opt_menu
from bot.flows.options import OptionId
from bot.flows.rating import verdict_options
from bot.i18n import _, format_date
from bot.labels import status_label
from bot.messages import Kind, Option
from bot.report_views import public_text
from reports.lifecycle import Status
from reports.service import parse_ticket
from storage.models import Report


def _verdict(ctx: Ctx, report: Report) -> list[Option]:
    """On the reporter's own resolved report: is it fixed? (the same buttons as the notice)."""
    if report.reporter_id == ctx.person.id and report.status == Status.RESOLVED:
        return verdict_options(report)
    return []


class TrackFlow(Flow):
    name = "track"
    first_state = "ticket"

    async def ask_ticket(self, ctx: Ctx) -> None:
        ctx.say(_("Send the ticket number, for example {example}.").format(
            example=f"{ctx.services.city.code}-{ctx.services.now().year}-000123"),
            options=[Option("m:mine", _("📋 My reports")), opt_cancel()])

    async def on_ticket(self, ctx: Ctx) -> None:
        if ctx.choice() == "m:mine":
            await ctx.services.flows["mine"].enter(ctx)
            return
        if ctx.needs_text(_("Please type the ticket number.")):
            return
        city = ctx.services.city
        ticket = parse_ticket(ctx.text, city_code=city.code, year=ctx.services.now().year)
        report = await ctx.services.reports.get(ticket) if ticket else None
        if report is None:
            ctx.say(_("We could not find a report with the number \u201c{ticket}\u201d. Please "
                      "check it and try again.").format(ticket=ctx.text[:40]))
            ctx.stay()
            return
        text = await public_text(ctx.services.session, ctx.services.city, report,
                               now=ctx.services.now(), viewer_id=ctx.person.id)
        ctx.say(text, options=[*_verdict(ctx, report), Option("again", _("Check another ticket")),
                               opt_menu()])
        ctx.goto("after", remember=False)

    async def ask_after(self, ctx: Ctx) -> None:
        """The result was just shown with its options; nothing more to ask."""

    async def on_after(self, ctx: Ctx) -> None:
        if ctx.choice() == "again":
            ctx.goto("ticket", remember=False)
            return
        if ctx.inbound.kind == Kind.TEXT and ctx.text:
            ctx.state = "ticket"
            await self.on_ticket(ctx)
            return
        ctx.goto("main", "menu")


class MyReportsFlow(Flow):
    name = "mine"
    first_state = "list"

    async def ask_list(self, ctx: Ctx) -> None:
        reports = await ctx.services.reports.mine(ctx.person.id, limit=10)
        if not reports:
            ctx.say(_("You have not filed any reports yet."),
                    options=[Option("m:report", _("📝 Make a report")), opt_menu()])
            return
        lines = [_("Your latest reports:"), ""]
        options = []
        city = ctx.services.city
        for r in reports:
            category = city.category(r.category_key)
            name = category.name() if category else r.category_key
            lines.append(f"• {r.ticket} · {name} · {status_label(r.status)} · "
                         f"{format_date(r.created_at, fmt='medium')}")
            options.append(Option(f"t:{r.ticket}", r.ticket))
        lines.append("")
        lines.append(_("Choose a ticket to see its details."))
        ctx.say("\n".join(lines), options=options + [opt_menu()])

    async def on_list(self, ctx: Ctx) -> None:
        picked = ctx.choice()
        if picked == "m:report":
            await ctx.services.flows["report"].enter(ctx)
            return
        ticket = OptionId.parse(picked).after("t")
        if ticket is not None:
            report = await ctx.services.reports.get(ticket)
            if report is not None and report.reporter_id == ctx.person.id:
                text = await public_text(ctx.services.session, ctx.services.city, report,
                               now=ctx.services.now(), viewer_id=ctx.person.id)
                verdict = _verdict(ctx, report)
                if verdict:  # its buttons, not the list again, are what to answer
                    ctx.say(text, options=[*verdict, Option("m:mine", _("📋 My reports")),
                                           opt_menu()])
                    return
                ctx.say(text)
                ctx.stay()
                return
        ctx.goto("main", "menu")


class LanguageFlow(Flow):
    name = "language"
    first_state = "choose"

    async def ask_choose(self, ctx: Ctx) -> None:
        ctx.say(_("Choose your language:"), options=[
            Option("lang:id", "Bahasa Indonesia"), Option("lang:en", "English"), opt_cancel()])

    async def on_choose(self, ctx: Ctx) -> None:
        locale = ctx.picked().after("lang")
        if locale in ("id", "en"):
            ctx.services.set_locale(ctx, locale)
            ctx.say(_("Done. I will write to you in English from now on."))
            ctx.goto("main", "menu")
            return
        ctx.say(_("Please choose one of the languages."))
        ctx.stay()
