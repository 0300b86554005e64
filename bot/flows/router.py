"""What happens before a flow sees an event: commands, navigation words, groups, stale buttons."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta

from bot.flows.base import Claim, Ctx, Flow
from bot.flows.common import BACK_WORDS, CANCEL_WORDS, MENU_WORDS
from bot.flows.menu import MenuFlow, draft_is_live, menu_flow_for
from bot.flows.options import OptionId, normalize
from bot.flows.state import ReportDraft
from bot.i18n import _
from bot.messages import Inbound, Kind, Reply

# Bare words (typed, not /commands) that stop or resume every message that is not a reply.
STOP_WORDS = frozenset({"stop", "berhenti", "unsubscribe"})
RESUME_WORDS = frozenset({"mulai", "start"})
# In a group, the pointer to a private chat is given at most once in this time: thirty /start
# in a group get one answer, and a noisy group cannot spend the bot's sending limits.
GROUP_HINT_INTERVAL = timedelta(hours=1)
# A draft untouched this long is not continued by whatever the resident types next (a greeting
# would become its address): they are asked whether to continue it first.
RESUME_AFTER = timedelta(hours=3)
# Commands residents guess for sending a photo or a location: none is needed.
MEDIA_COMMANDS = frozenset({"foto", "photo", "gambar", "lokasi", "location", "alamat", "peta"})
# Commands that, in a group, only ever get that pointer.
HINT_COMMANDS = frozenset({"start", "menu", "help", "lapor"})


def _merge(into: dict[str, Claim], more: Mapping[str, Claim], what: str) -> None:
    for key, claim in more.items():
        if key in into:
            raise ValueError(f"two flows answer the {what} {key!r}")
        into[key] = claim


class Router:
    """The flows of the bot, and the commands, buttons and codes they answer, collected once
    from the list the composition root gives (see `bot.flows.build_flows`)."""

    def __init__(self, flows: Iterable[Flow]) -> None:
        self.flows: dict[str, Flow] = {}
        self.commands: dict[str, Claim] = {}
        self.group_commands: dict[str, Claim] = {}
        self.buttons: dict[str, Claim] = {}
        self.group_messages: list[Claim] = []
        self.start_args: list[Claim] = []
        self.typed_codes: list[Claim] = []
        self._hinted: dict[str, datetime] = {}  # group chat → when it was last pointed away
        for flow in flows:
            if flow.name in self.flows:
                raise ValueError(f"two flows are named {flow.name!r}")
            self.flows[flow.name] = flow
            routes = flow.routes()
            _merge(self.commands, routes.commands, "command")
            _merge(self.group_commands, routes.group_commands, "group command")
            _merge(self.buttons, routes.buttons, "button prefix")
            self.group_messages += routes.group_messages
            self.start_args += routes.start_args
            self.typed_codes += routes.typed_codes

    async def route(self, ctx: Ctx) -> None:
        """Run one event: the router's own answers first, else the person's current flow."""
        if ctx.inbound.is_group:
            await self._group(ctx)
        else:
            await self._private(ctx)

    async def _private(self, ctx: Ctx) -> None:
        inbound = ctx.inbound
        if inbound.edited:
            ctx.replies.append(Reply(_("I saw that you edited a message. Edits are not applied; "
                                       "please send the corrected message again.")))
            return
        if await self._button(ctx):
            return
        words = normalize(ctx.text) if inbound.kind == Kind.TEXT else ""
        if words in STOP_WORDS or words in RESUME_WORDS:
            await _opt_out_or_in(ctx, stop=words in STOP_WORDS)
            return
        if inbound.kind == Kind.TEXT:
            for claim in self.typed_codes:
                if await claim(ctx):
                    return
        if _expire_draft(ctx):
            return
        if _returning_to_draft(ctx):
            ctx.goto("resume", "report", remember=False)
            return
        command = inbound.command
        option = inbound.option_id
        if option is None and inbound.kind == Kind.TEXT:
            typed = ctx.choice()  # "7" or "Cancel" typed against a numbered list
            if OptionId.parse(typed).part(0) in ("nav", "m"):
                option = typed
        if command == "start":
            leave_flow(ctx)
            if inbound.command_arg:
                for handler in self.start_args:
                    if await handler(ctx):
                        return
            MenuFlow.welcome(ctx)
            ctx.goto("main", "menu")
            return
        if command == "menu" or option == "nav:menu" or words in MENU_WORDS:
            await go_menu(ctx)
            return
        if command in ("batal", "cancel") or option == "nav:cancel" or words in CANCEL_WORDS:
            current = ctx.services.flows[ctx.flow]
            if await current.confirm_cancel(ctx):
                return
            await current.on_cancel(ctx)
            if ctx.flow != "menu":
                ctx.say(_("Cancelled. Nothing was sent."))
            ctx.goto("main", "menu")
            return
        if command in ("kembali", "back") or option == "nav:back" or words in BACK_WORDS:
            if not ctx.back():
                await go_menu(ctx)
            return
        if command in ("bahasa", "language"):
            leave_flow(ctx)
            await ctx.services.flows["language"].enter(ctx)
            return
        if command == "help" or command == "bantuan":
            ctx.say(_("Choose from the menu below. At any step you can type \u201cback\u201d to go "
                      "one step back, \u201ccancel\u201d to stop, or \u201cmenu\u201d for the main "
                      "menu."))
            await go_menu(ctx)
            return
        if command:
            extra = self.commands.get(command)
            if extra is not None and await extra(ctx):
                return
            if command in MEDIA_COMMANDS:
                _media_command(ctx)
                return
            ctx.say(_("Sorry, I do not know that command."))
            ctx.stay()
            return
        if option and OptionId.parse(option).part(0) == "m" and ctx.flow != "menu":
            # A button from an earlier menu: honour it, keeping any draft.
            target = menu_flow_for(option)
            if target is not None or option == "m:resume":
                await go_menu(ctx)
                ctx.flow, ctx.state = "menu", "main"
                ctx.next_flow = ctx.next_state = None
                await ctx.services.flows["menu"].handle(ctx)
                return
        if option and not _offered(ctx, option):
            ctx.say(_("That button belongs to an earlier message. Here is where we are now:"))
            ctx.stay()
            return
        flow = ctx.services.flows.get(ctx.flow)
        if flow is None or not flow.has_state(ctx.state):
            if ctx.flow == "menu" and ctx.state == "start":
                # A first message that is not /start (on WhatsApp, say "halo"): greet first.
                MenuFlow.welcome(ctx)
            ctx.goto("main", "menu")
            return
        await flow.handle(ctx)

    async def _button(self, ctx: Ctx) -> bool:
        """A button on a notification, answered whatever flow the person is in; in a private
        chat also its number or label typed against the list last offered (WhatsApp)."""
        option = ctx.inbound.option_id
        if option is None and not ctx.inbound.is_group and ctx.inbound.kind == Kind.TEXT:
            typed = ctx.choice()
            if typed is not None and OptionId.parse(typed).part(0) in self.buttons:
                ctx.inbound.option_id = option = typed
        prefix = OptionId.parse(option).part(0)
        handler = self.buttons.get(prefix) if prefix is not None else None
        return handler is not None and await handler(ctx)

    async def _group(self, ctx: Ctx) -> None:
        inbound = ctx.inbound
        if await self._button(ctx):
            return
        for claim in self.group_messages:
            if await claim(ctx):
                return
        if inbound.command:
            handler = self.group_commands.get(inbound.command)
            if handler is not None and await handler(ctx):
                return
        hint = self.group_hint(inbound, ctx.services.now())
        if hint is not None:
            ctx.replies.append(hint)

    @staticmethod
    def quiet_in_group(inbound: Inbound) -> bool:
        """Whether a group event can do no more than get the pointer to a private chat: no
        button, no command a flow answers in groups. (From anyone but staff, whose message may
        answer the bot's question, the engine answers it without opening a transaction.)"""
        return not inbound.option_id and (not inbound.command or inbound.command in HINT_COMMANDS)

    def group_hint(self, inbound: Inbound, now: datetime) -> Reply | None:
        """The pointer to a private chat, for a group that addressed the bot, once an hour."""
        if not (inbound.mentioned or inbound.command in HINT_COMMANDS):
            return None
        if not self._may_hint(inbound.chat_key or inbound.user_key, now):
            return None
        return Reply(
            _("Hello! To file or check a report, please chat with me privately. Your report "
              "stays between you and the city."),
            url_button=(_("Open a private chat"), "private:"),
        )

    def _may_hint(self, chat: str, now: datetime) -> bool:
        """Whether the group may be told (again) to chat privately; notes that it was."""
        last = self._hinted.get(chat)
        if last is not None and now - last < GROUP_HINT_INTERVAL:
            return False
        if len(self._hinted) > 10_000:
            self._hinted = {c: t for c, t in self._hinted.items()
                            if now - t < GROUP_HINT_INTERVAL}
        self._hinted[chat] = now
        return True


def leave_flow(ctx: Ctx) -> None:
    """Leaving a report half-way keeps it as a draft to continue later."""
    draft = ReportDraft.get(ctx)
    if ctx.flow == "report" and draft is not None:
        draft.state = ctx.state


async def go_menu(ctx: Ctx) -> None:
    leave_flow(ctx)
    ctx.goto("main", "menu")


async def _opt_out_or_in(ctx: Ctx, *, stop: bool) -> None:
    """The bare words STOP / MULAI: messages that are not replies stop or resume, on every
    channel (replies to the person's own messages always go out)."""
    was_out = await ctx.services.set_opted_out(ctx, stop)
    if stop:
        ctx.say(_("Done: we will no longer send you announcements or updates on your reports. "
                  "You can still write to us at any time and we will answer. To receive them "
                  "again, send START."))
        return
    if was_out:
        ctx.say(_("Welcome back! You will receive announcements and updates on your reports "
                  "again. To stop them, send STOP."))
    await go_menu(ctx)


def _offered(ctx: Ctx, option: str) -> bool:
    offered = {o.id for o in ctx.offered()}
    return not offered or option in offered or OptionId.parse(option).part(0) == "m"


def _returning_to_draft(ctx: Ctx) -> bool:
    """A resident back, hours later, in the middle of a report, typing something that answers
    none of the options in front of them."""
    draft = ReportDraft.get(ctx)
    if (ctx.flow != "report" or ctx.state in ("resume", "discard") or draft is None
            or draft.saved_at is None or ctx.inbound.kind != Kind.TEXT or ctx.inbound.command
            or ctx.choice() is not None):
        return False
    words = normalize(ctx.text)
    if words in CANCEL_WORDS or words in BACK_WORDS or words in MENU_WORDS:
        return False
    if ctx.services.now() - draft.saved_at < RESUME_AFTER:
        return False
    draft.state = ctx.state
    return True


def _media_command(ctx: Ctx) -> None:
    """/foto or /lokasi: photos and locations are simply sent, within a report."""
    if ctx.flow == "report":
        ctx.say(_("No command is needed: simply send the photo or share the location in this "
                  "chat when I ask for it."))
        ctx.stay()
        return
    ctx.say(_("Photos and locations are sent as part of a report: choose \u201cMake a "
              "report\u201d and I will ask for them."))
    leave_flow(ctx)
    ctx.goto("main", "menu")


def _expire_draft(ctx: Ctx) -> bool:
    """Drop a draft older than the time limit; True when that ended the report in progress."""
    if ReportDraft.get(ctx) is None or draft_is_live(ctx):
        return False
    ReportDraft.drop(ctx)
    ctx.say(_("Your unfinished report was deleted because it was not completed within "
              "{hours} hours.").format(hours=ctx.services.settings.draft_ttl_hours))
    if ctx.flow == "report":
        ctx.goto("main", "menu")
        return True
    return False
