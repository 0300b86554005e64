"""The main menu: what the bot is for and where each conversation starts."""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.flows.base import Ctx, Flow
from bot.i18n import N_, _
from bot.messages import Option

# (option id, label msgid, flow to enter); other flows add theirs with `add_menu_item`.
MENU_ITEMS: list[tuple[str, str, str]] = [
    ("m:report", N_("📝 Make a report"), "report"),
    ("m:track", N_("🔎 Check a report's status"), "track"),
    ("m:mine", N_("📋 My reports"), "mine"),
    ("m:faq", N_("❓ Ask about the city's apps"), "faq"),
    ("m:subscribe", N_("📢 Subscribe to announcements"), "subscribe"),
    ("m:language", N_("🌐 Language / Bahasa"), "language"),
]


def add_menu_item(option_id: str, label: str, flow: str, *, position: int | None = None) -> None:
    """Register (or replace) a menu entry for a flow."""
    for i, (existing, _label, _flow) in enumerate(MENU_ITEMS):
        if existing == option_id:
            MENU_ITEMS[i] = (option_id, label, flow)
            return
    MENU_ITEMS.insert(len(MENU_ITEMS) if position is None else position,
                      (option_id, label, flow))


def menu_flow_for(option_id: str) -> str | None:
    for existing, _label, flow in MENU_ITEMS:
        if existing == option_id:
            return flow
    return None


def draft_is_live(ctx: Ctx) -> bool:
    draft = ctx.data.get("draft")
    if not draft:
        return False
    try:
        saved = datetime.fromisoformat(draft["saved_at"])
    except (KeyError, ValueError):
        return False
    ttl = timedelta(hours=ctx.services.settings.draft_ttl_hours)
    return ctx.services.now() - saved < ttl


class MenuFlow(Flow):
    name = "menu"
    first_state = "main"

    async def ask_main(self, ctx: Ctx) -> None:
        options = []
        if draft_is_live(ctx) and ctx.data["draft"].get("state"):
            options.append(Option("m:resume", _("▶️ Continue my unfinished report")))
        options += [Option(oid, _(label)) for oid, label, _flow in MENU_ITEMS]
        ctx.say(_("What would you like to do?"), options=options, edit=True)

    async def on_main(self, ctx: Ctx) -> None:
        picked = ctx.choice()
        if picked == "m:resume" and draft_is_live(ctx) and ctx.data["draft"].get("state"):
            ctx.goto(ctx.data["draft"]["state"], "report")
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


class PlaceholderFlow(Flow):
    """A menu entry whose feature is not switched on yet: a polite note, then the menu."""

    first_state = "main"

    def __init__(self, name: str, message: str) -> None:
        self.name = name  # type: ignore[misc]
        self._message = message

    async def enter(self, ctx: Ctx) -> None:
        ctx.say(_(self._message))
        ctx.goto("main", "menu")
