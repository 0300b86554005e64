"""What happens before a flow sees an event: commands, navigation words, groups, stale buttons."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from bot.flows.base import Ctx
from bot.flows.common import BACK_WORDS, CANCEL_WORDS, MENU_WORDS
from bot.flows.menu import MenuFlow, draft_is_live, menu_flow_for
from bot.flows.options import normalize
from bot.i18n import _
from bot.messages import Kind, Reply

# Extra commands (e.g. staff commands) and deep-link start arguments, registered by features.
CommandHandler = Callable[[Ctx], Awaitable[bool]]
COMMANDS: dict[str, CommandHandler] = {}
START_ARGS: list[CommandHandler] = []
# Bare words (typed, not /commands) that stop or resume every message that is not a reply.
STOP_WORDS = frozenset({"stop", "berhenti", "unsubscribe"})
RESUME_WORDS = frozenset({"mulai", "start"})
GROUP_COMMANDS: dict[str, CommandHandler] = {}
# Buttons on notifications (staff actions, "is it fixed?") work whatever flow the person is in:
# option id prefix ("st", "rate") -> handler. GROUP_HANDLERS may claim any other group message.
OPTION_HANDLERS: dict[str, CommandHandler] = {}
GROUP_HANDLERS: list[CommandHandler] = []
# Codes typed as plain text (a relay's join code pre-filled by a WhatsApp link).
TEXT_CODES: list[CommandHandler] = []


def leave_flow(ctx: Ctx) -> None:
    """Leaving a report half-way keeps it as a draft to continue later."""
    draft = ctx.data.get("draft")
    if ctx.flow == "report" and draft is not None:
        draft["state"] = ctx.state


async def go_menu(ctx: Ctx) -> None:
    leave_flow(ctx)
    ctx.goto("main", "menu")


async def route(ctx: Ctx) -> None:
    inbound = ctx.inbound
    if inbound.is_group:
        await _group(ctx)
        return
    if inbound.edited:
        ctx.replies.append(Reply(_("I saw that you edited a message. Edits are not applied; "
                                   "please send the corrected message again.")))
        return
    if await _notification_button(ctx):
        return
    words = normalize(ctx.text) if inbound.kind == Kind.TEXT else ""
    if words in STOP_WORDS or words in RESUME_WORDS:
        await _opt_out_or_in(ctx, stop=words in STOP_WORDS)
        return
    if inbound.kind == Kind.TEXT:
        for claim in TEXT_CODES:
            if await claim(ctx):
                return
    if _expire_draft(ctx):
        return
    command = inbound.command
    option = inbound.option_id
    if option is None and inbound.kind == Kind.TEXT:
        typed = ctx.choice()  # "7" or "Cancel" typed against a numbered list
        if typed and typed.startswith(("nav:", "m:")):
            option = typed

    if command == "start":
        leave_flow(ctx)
        if inbound.command_arg:
            for handler in START_ARGS:
                if await handler(ctx):
                    return
        MenuFlow.welcome(ctx)
        ctx.goto("main", "menu")
        return
    if command == "menu" or option == "nav:menu" or words in MENU_WORDS:
        await go_menu(ctx)
        return
    if command in ("batal", "cancel") or option == "nav:cancel" or words in CANCEL_WORDS:
        await ctx.services.flows[ctx.flow].on_cancel(ctx)
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
        extra = COMMANDS.get(command)
        if extra is not None and await extra(ctx):
            return
        ctx.say(_("Sorry, I do not know that command."))
        ctx.stay()
        return
    if option and option.startswith("m:") and ctx.flow != "menu":
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
    return not offered or option in offered or option.startswith("m:")


def _expire_draft(ctx: Ctx) -> bool:
    """Drop a draft older than the time limit; True when that ended the report in progress."""
    draft = ctx.data.get("draft")
    if not draft or draft_is_live(ctx):
        return False
    ctx.data.pop("draft", None)
    ctx.say(_("Your unfinished report was deleted because it was not completed within "
              "{hours} hours.").format(hours=ctx.services.settings.draft_ttl_hours))
    if ctx.flow == "report":
        ctx.goto("main", "menu")
        return True
    return False


async def _notification_button(ctx: Ctx) -> bool:
    option = ctx.inbound.option_id
    handler = OPTION_HANDLERS.get(option.split(":", 1)[0]) if option else None
    return handler is not None and await handler(ctx)


async def _group(ctx: Ctx) -> None:
    inbound = ctx.inbound
    if await _notification_button(ctx):
        return
    for claim in GROUP_HANDLERS:
        if await claim(ctx):
            return
    if inbound.command:
        handler = GROUP_COMMANDS.get(inbound.command)
        if handler is not None and await handler(ctx):
            return
    if inbound.mentioned or inbound.command in ("start", "menu", "help", "lapor"):
        ctx.replies.append(Reply(
            _("Hello! To file or check a report, please chat with me privately. Your report "
              "stays between you and the city."),
            url_button=(_("Open a private chat"), "private:"),
        ))
