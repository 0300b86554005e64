"""Suggestions for the city government ("Saran untuk Pemkot"): what it is about, then the
resident's words; thanked, kept with their kelurahan when the bot knows it. Not a report: no
ticket, no agency, no deadline; Kominfo may answer it once, in this chat."""

from __future__ import annotations

from bot.flows.base import Ctx, Flow
from bot.flows.common import more_option, nav_options, opt_back, opt_cancel, screen
from bot.flows.heard import pack_of
from bot.flows.options import OptionId
from bot.flows.state import FlowState
from bot.i18n import _, ngettext
from bot.messages import Kind, Option
from bot.outreach_texts import theme_option
from broadcasts.suggestions import (
    PER_DAY,
    TEXT_MAX,
    TEXT_MIN,
    THEMES,
    SuggestionError,
    SuggestionService,
)

APPS_PER_SCREEN = 8
OTHER_APP = "other"


class SuggestionDraft(FlowState):
    """The suggestion being written."""

    key = "saran"

    theme: str | None = None
    app: str | None = None
    app_page: int | None = None
    # Words typed before the theme was chosen: kept, and sent once it is.
    text: str | None = None


def _service(ctx: Ctx) -> SuggestionService:
    return SuggestionService(session=ctx.services.session, now=ctx.services.now)


class SuggestionFlow(Flow):
    name = "suggestion"
    first_state = "theme"

    async def enter(self, ctx: Ctx) -> None:
        if await _service(ctx).over_limit(ctx.person.id):
            ctx.say(ngettext(
                "You have already sent {n} suggestion in the last 24 hours. Thank you! Please "
                "send the next one tomorrow.",
                "You have already sent {n} suggestions in the last 24 hours. Thank you! Please "
                "send the next one tomorrow.", PER_DAY).format(n=PER_DAY))
            ctx.goto("main", "menu")
            return
        SuggestionDraft.start(ctx)
        ctx.goto(self.first_state, self.name)

    async def on_cancel(self, ctx: Ctx) -> None:
        SuggestionDraft.drop(ctx)

    # -- what it is about ----------------------------------------------------------------------

    async def ask_theme(self, ctx: Ctx) -> None:
        ctx.say(_("💡 Suggestions for the Binjai city government\n\nYour ideas help the city "
                  "improve. What is your suggestion about?"),
                options=[*(Option(f"th:{t}", theme_option(t)) for t in THEMES), opt_cancel()])

    async def on_theme(self, ctx: Ctx) -> None:
        draft = SuggestionDraft.kept(ctx)
        theme = ctx.picked().after("th")
        if theme not in THEMES:
            if ctx.inbound.kind == Kind.TEXT and len(ctx.text) >= TEXT_MIN:
                # The suggestion itself, typed at once: kept until its theme is chosen.
                draft.text = ctx.text[:TEXT_MAX]
                ctx.say(_("Thank you! First, please choose what it is about."))
            else:
                ctx.say(_("Please choose one of the options."))
            ctx.stay()
            return
        draft.theme, draft.app, draft.app_page = theme, None, None
        if theme == "app" and pack_of(ctx).apps:
            ctx.goto("app")
            return
        await self._written_or_ask(ctx)

    async def ask_app(self, ctx: Ctx) -> None:
        draft = SuggestionDraft.kept(ctx)
        apps, following = screen(pack_of(ctx).apps, draft.app_page, APPS_PER_SCREEN)
        options = [Option(f"app:{a.key}", a.name()) for a in apps]
        if following is not None:
            options.append(more_option("app:more", following))
        options.append(Option(f"app:{OTHER_APP}", _("📱 Another app")))
        ctx.say(_("Which app?"), options=[*options, opt_back(), opt_cancel()])

    async def on_app(self, ctx: Ctx) -> None:
        draft = SuggestionDraft.kept(ctx)
        picked = OptionId.parse(ctx.choice()).after("app")
        if picked == "more":
            draft.app_page = (draft.app_page or 0) + 1
            ctx.stay()
            return
        if picked != OTHER_APP and (picked is None or pack_of(ctx).app(picked) is None):
            ctx.say(_("Please choose one of the options."))
            ctx.stay()
            return
        draft.app = None if picked == OTHER_APP else picked
        await self._written_or_ask(ctx)

    async def _written_or_ask(self, ctx: Ctx) -> None:
        """The words, when the resident typed them before choosing the theme; else ask."""
        draft = SuggestionDraft.kept(ctx)
        if draft.text:
            await self._submit(ctx, draft.text)
            return
        ctx.goto("text")

    # -- the words -----------------------------------------------------------------------------

    async def ask_text(self, ctx: Ctx) -> None:
        ctx.say(_("Please write your suggestion in one message. Please do not include your NIK "
                  "or other personal numbers."), options=nav_options())

    async def on_text(self, ctx: Ctx) -> None:
        if ctx.needs_text(_("Please type your suggestion as a text message.")):
            return
        if len(ctx.text) < TEXT_MIN:
            ctx.say(_("Please write a little more (at least {n} characters), so that the city "
                      "understands your suggestion.").format(n=TEXT_MIN))
            ctx.stay()
            return
        if len(ctx.text) > TEXT_MAX:
            ctx.say(_("Your message is longer than {n} characters; please shorten it.").format(
                n=TEXT_MAX))
            ctx.stay()
            return
        await self._submit(ctx, ctx.text)

    async def _submit(self, ctx: Ctx, text: str) -> None:
        draft = SuggestionDraft.kept(ctx)
        try:
            row = await _service(ctx).submit(
                identity_id=ctx.person.id, channel=ctx.person.channel,
                theme=draft.theme or "other", app=draft.app, text=text)
        except SuggestionError as error:
            if error.code == "limit":
                ctx.say(_("You have sent many suggestions today. Thank you! Please send the "
                          "next one tomorrow."))
                SuggestionDraft.drop(ctx)
                ctx.goto("main", "menu")
                return
            ctx.say(_("Please write your suggestion again (between {low} and {high} "
                      "characters).").format(low=TEXT_MIN, high=TEXT_MAX))
            draft.text = None
            ctx.goto("text", remember=False)
            return
        SuggestionDraft.drop(ctx)
        ctx.say(_("🙏 Thank you! Your suggestion #{id} has reached Diskominfo Kota Binjai and "
                  "will be read by the city government. If there is an answer, it will come to "
                  "this chat.").format(id=row.id))
        ctx.goto("main", "menu")
