"""The "me too" step of filing a report: support an open report about the same problem."""

from __future__ import annotations

from bot.flows.base import Ctx
from bot.flows.common import nav_options
from bot.flows.notices import report_actions
from bot.flows.options import OptionId
from bot.flows.state import ReportDraft
from bot.i18n import _, format_date, ngettext
from bot.labels import status_label
from bot.messages import Option
from reports.duplicates import find_similar
from reports.lifecycle import OPEN


class SupportStep:
    """ReportFlow's states `similar`: shown after the description, before the photos."""

    def next_step(self, state: str) -> str:
        raise NotImplementedError  # ReportFlow's order of steps

    async def ask_similar(self, ctx: Ctx) -> None:
        draft = ReportDraft.get(ctx) or ReportDraft.start(ctx)
        matches = []
        if not draft.similar_seen and draft.category and draft.description:
            matches = await find_similar(
                session=ctx.services.session, city=ctx.services.city,
                category_key=draft.category, kelurahan_code=draft.kelurahan,
                description=draft.description, lat=draft.lat, lon=draft.lon,
                exclude_reporter=ctx.person.id)
        if not matches:
            ctx.goto(self.next_step("similar"), remember=False)
            return
        city = ctx.services.city
        draft.similar = [m.report.id for m in matches if m.report.id is not None]
        lines = [_("Residents have already reported what looks like the same problem:"), ""]
        options = []
        for match in matches:
            # Another resident's report: what, where (the kelurahan only), how far along and
            # since when. Never its words, address, photos or reporter (UU 27/2022).
            report = match.report
            category = city.category(report.category_key)
            kel = city.kelurahan(report.kelurahan_code) if report.kelurahan_code else None
            lines.append(" · ".join([
                report.ticket, category.name() if category else "-",
                _("Kel. {name}").format(name=kel.name) if kel else "-",
                status_label(report.status), format_date(report.created_at, fmt="medium")]))
            options.append(Option(f"sup:{report.id}", _("👍 Support {ticket}").format(
                ticket=report.ticket)))
        lines += ["", _("Support it instead of filing a new report: you will be told of its "
                        "progress like its reporter, and the agency sees how many residents "
                        "are affected.")]
        options.append(Option("own", _("📝 File mine anyway")))
        ctx.say("\n".join(lines), options=options + nav_options())

    async def on_similar(self, ctx: Ctx) -> None:
        draft = ReportDraft.get(ctx) or ReportDraft.start(ctx)
        picked = ctx.choice()
        report_id = OptionId.parse(picked).number_after("sup")
        if picked == "own":
            draft.similar_seen = True
            ctx.goto(self.next_step("similar"), remember=False)
            return
        if report_id is not None:
            actions = report_actions(ctx)
            report = await actions.get(report_id) if report_id in (draft.similar or []) \
                else None
            if report is None or report.status not in OPEN:
                ctx.say(_("That report has just been closed. Let us continue with yours."))
                draft.similar_seen = True
                ctx.goto(self.next_step("similar"), remember=False)
                return
            await actions.support(report, identity_id=ctx.person.id)
            facts = await actions.facts(report)
            count = len(facts.supporters)
            ReportDraft.drop(ctx)
            ctx.say(_("👍 Thank you! You now support report {ticket}. We will tell you here at "
                      "every step.").format(ticket=report.ticket) + "\n" +
                    ngettext("{n} resident supports it.", "{n} residents support it.",
                             count).format(n=count))
            ctx.goto("main", "menu")
            return
        ctx.say(_("Please choose one of the options."))
        ctx.stay()
