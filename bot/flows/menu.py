"""The main menu: what the bot is for and where each conversation starts."""

from __future__ import annotations

from datetime import timedelta

from bot.flows.base import Ctx, Flow
from bot.flows.heard import ask_if_due
from bot.flows.state import ReportDraft
from bot.i18n import N_, _
from bot.messages import Option

# (option id, label msgid, flow to enter)
MENU_ITEMS: tuple[tuple[str, str, str], ...] = (
    ("m:report", N_("📝 Make a report"), "report"),
    ("m:track", N_("🔎 Check a report's status"), "track"),
    ("m:mine", N_("📋 My reports"), "mine"),
    ("m:faq", N_("❓ Ask about the city's apps"), "faq"),
    ("m:subscribe", N_("📢 Subscribe to announcements"), "subscribe"),
    ("m:suggest", N_("💡 Suggestions for the city"), "suggestion"),
    ("m:language", N_("🌐 Language / Bahasa"), "language"),
)


def menu_flow_for(option_id: str) -> str | None:
    for existing, _label, flow in MENU_ITEMS:
        if existing == option_id:
            return flow
    return None


def draft_is_live(ctx: Ctx) -> bool:
    draft = ReportDraft.get(ctx)
    if draft is None or draft.saved_at is None:
        return False
    ttl = timedelta(hours=ctx.services.settings.draft_ttl_hours)
    return ctx.services.now() - draft.saved_at < ttl


def resumable_state(ctx: Ctx) -> str | None:
    """Where the resident left a report that can still be continued."""
    draft = ReportDraft.get(ctx)
    return draft.state if draft is not None and draft_is_live(ctx) else None


class MenuFlow(Flow):
    name = "menu"
    first_state = "main"

    async def ask_main(self, ctx: Ctx) -> None:
        # The items keep their numbers whether or not a draft waits: it comes last.
        options = [Option(oid, _(label)) for oid, label, _flow in MENU_ITEMS]
        if resumable_state(ctx):
            options.append(Option("m:resume", _("▶️ Continue my unfinished report")))
        # Once, after the resident's first completed action: how they heard of the service.
        await ask_if_due(ctx)
        ctx.say(_("What would you like to do?"), options=options, edit=True)

    async def on_main(self, ctx: Ctx) -> None:
        picked = ctx.choice()
        resume = resumable_state(ctx)
        if picked == "m:resume" and resume:
            ctx.goto(resume, "report")
            return
        flow = menu_flow_for(picked) if picked else None
        if flow is not None:
            await ctx.services.flows[flow].enter(ctx)
            return
        await ctx.services.understand(ctx)

    @staticmethod
    def welcome(ctx: Ctx) -> None:
        name = ctx.person.display_name
        ctx.say(
            _("Hello{name}! 👋 This is the official e-Masyarakat assistant of the Binjai City "
              "Government (Diskominfo Kota Binjai).\n\nHere you can report problems in your "
              "neighbourhood (damaged roads, street lights, garbage, drainage and more) and "
              "follow them until they are fixed, learn how to use the city's apps, and receive "
              "announcements from the city.").format(name=f", {name}" if name else "")
        )
