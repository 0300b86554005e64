"""Ask the city: FAQ articles by topic, free text understood, questions passed to staff."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable

from bot.flows.base import Ctx, Flow, Routes
from bot.flows.common import emergency_text, nav_options, opt_back, opt_menu
from bot.flows.menu import resumable_state
from bot.flows.notices import report_actions, tell
from bot.flows.options import NO_WORDS, YES_WORDS, is_stray, normalize
from bot.flows.outreach import note_question
from bot.flows.report import ReportFlow
from bot.flows.state import FlowState
from bot.i18n import _, format_datetime, get_locale, use_locale
from bot.messages import Kind, Option, Reply, split_text
from bot.notices import render
from faq.intent import Intent
from faq.library import FaqLibrary
from faq.service import QUESTION_MIN, FaqError, FaqService
from reports import access
from reports.notices import Recipient
from reports.roles import Role
from storage import repo_agencies
from storage.models.agency import StaffMember
from storage.models.faq import FaqQuestion

logger = logging.getLogger(__name__)

# Article text per message: with the title, the page note and the options drawn as a numbered
# list, a page stays within WhatsApp's 1600 characters.
PAGE_CHARS = 1100
SEE_ALSO_MAX = 3
# Only the start of a very long message is read; the rest rarely changes what it is about.
READ_MAX = 500
HOW_TO_REPORT = "cara-lapor"
_KEY = "faq"


# Typed answers to the FAQ's own questions, beyond the common ones (bot.flows.options).
YES = YES_WORDS | {"kirim", "ya kirim", "ya boleh"}
NO = NO_WORDS | {"nanti saja"}


def _typed_answer(ctx: Ctx) -> str | None:
    """"yes" or "no" when the resident typed one instead of choosing an option."""
    if ctx.inbound.option_id or ctx.inbound.kind != Kind.TEXT:
        return None
    typed = normalize(ctx.text)
    if typed in YES:
        return "yes"
    if typed in NO:
        return "no"
    return None


def _faq(ctx: Ctx) -> FaqService:
    """The FAQ's questions and feedback, over this event's session."""
    return FaqService(session=ctx.services.session, now=ctx.services.now)


class FaqState(FlowState):
    """Where the resident is in the FAQ, and what they asked."""

    key = _KEY

    topic: str | None = None
    # The article open, its page, and the articles suggested with it.
    slug: str | None = None
    page: int | None = None
    see: list[str] | None = None
    # The article whose opening was counted (so a page turn or a rating does not count again).
    counted: str | None = None
    # The resident's own question, to pass to staff if no article answers it.
    q: str | None = None
    # The category of a problem the resident described, to report.
    category: str | None = None


def _state(ctx: Ctx) -> FaqState:
    return FaqState.kept(ctx)


# How much of the question is repeated above the answer, so the resident knows which it is.
QUOTE_MAX = 200


def answer_reply(question: FaqQuestion) -> Reply:
    """The answer as the resident reads it, in their language (call inside their locale)."""
    asked = question.text if len(question.text) <= QUOTE_MAX else \
        question.text[:QUOTE_MAX - 1].rstrip() + "\u2026"
    text = _("💬 Kominfo staff answered your question #{id}:\n\u201c{question}\u201d\n\n"
             "{answer}").format(id=question.id, question=asked, answer=question.answer or "")
    return Reply(text=text, options=[opt_menu()],
                 kind="faq_answer",
                 template_vars={"1": str(question.id), "2": question.answer or ""})


def article_pages(body: str) -> list[str]:
    """The body in pages of at most PAGE_CHARS, of similar length where the text allows (no
    page of two lines after a full one)."""
    pages = split_text(body, PAGE_CHARS)
    if len(pages) > 1:
        even = split_text(body, min(PAGE_CHARS, int(len(body) / len(pages) * 1.2)))
        if len(even) == len(pages):
            return even
    return pages


class FaqFlow(Flow):
    name = "faq"
    first_state = "topics"

    def __init__(self, library: FaqLibrary) -> None:
        self.library = library

    def routes(self) -> Routes:
        # Staff answer in a private chat with the bot, or in Kominfo's triage group.
        staff = {"jawab": answer_command, "pertanyaan": questions_command}
        return Routes(commands=staff, group_commands=staff)

    async def on_cancel(self, ctx: Ctx) -> None:
        FaqState.drop(ctx)

    # -- topics and articles -----------------------------------------------------------------

    async def ask_topics(self, ctx: Ctx) -> None:
        locale = get_locale()
        options = [Option(f"t:{t.key}", t.name(locale)) for t in self.library.content.topics]
        options += [Option("q:new", _("✍️ Ask Kominfo staff")), opt_menu()]
        ctx.say(_("What would you like to know? Choose a topic, or simply type your question "
                  "in your own words."), options=options)

    async def on_topics(self, ctx: Ctx) -> None:
        picked = ctx.picked()
        topic = picked.after("t")
        if topic is not None and self.library.content.topic(topic) is not None:
            _state(ctx).topic = topic
            ctx.goto("articles")
            return
        if picked.after("q") == "new":
            ctx.goto("question")
            return
        await self._free_text(ctx, _("Please choose a topic, or type your question."))

    async def ask_articles(self, ctx: Ctx) -> None:
        content = self.library.content
        topic = content.topic(_state(ctx).topic or "")
        if topic is None:
            ctx.goto("topics", remember=False)
            return
        locale = get_locale()
        options = [Option(f"a:{a.slug}", a.title(locale)) for a in content.in_topic(topic.key)]
        ctx.say(topic.name(locale), options=options + [opt_back(), opt_menu()])

    async def on_articles(self, ctx: Ctx) -> None:
        if await self._picked_article(ctx):
            return
        await self._free_text(ctx, _("Please choose an article, or type your question."))

    async def ask_article(self, ctx: Ctx) -> None:
        state = _state(ctx)
        article = self.library.content.article(state.slug or "")
        if article is None:
            ctx.say(_("Sorry, that article is no longer available."))
            ctx.goto("topics", remember=False)
            return
        if state.counted != article.slug:
            state.counted = article.slug
            services = ctx.services
            await _faq(ctx).record_view(
                article=article.slug, day=services.now().astimezone(services.city.tz).date())
        locale = get_locale()
        text = article.text(locale)
        pages = article_pages(text.body)
        page = min(max(state.page or 0, 0), len(pages) - 1)
        last = page == len(pages) - 1
        parts = [f"📖 {text.title}", pages[page]]
        if len(pages) > 1:
            parts.append(_("(page {page} of {pages})").format(page=page + 1, pages=len(pages)))
        if last:
            parts.append(_("Was this helpful?"))
        options = []
        if not last:
            options.append(Option("pg:next", _("➡️ Next page")))
        else:
            options += [Option("fb:yes", _("👍 Yes")), Option("fb:no", _("👎 No"))]
        see = [s for s in state.see or article.related if s != article.slug]
        for slug in see[:SEE_ALSO_MAX]:
            other = self.library.content.article(slug)
            if other is not None:
                options.append(Option(f"a:{slug}", "📖 " + other.title(locale)))
        options += [Option("faq:topics", _("📚 Other topics")), opt_menu()]
        ctx.say("\n\n".join(parts), options=options)

    async def on_article(self, ctx: Ctx) -> None:
        state = _state(ctx)
        picked = ctx.choice()
        typed = _typed_answer(ctx)
        if typed is not None and not self._more_pages(ctx):
            picked = "fb:yes" if typed == "yes" else "fb:no"
        if picked == "pg:next":
            state.page = (state.page or 0) + 1
            ctx.stay()
            return
        if picked in ("fb:yes", "fb:no") and state.slug:
            await _faq(ctx).record_feedback(article=state.slug, identity_id=ctx.person.id,
                                            helpful=picked == "fb:yes")
            if picked == "fb:yes":
                ctx.say(_("Thank you for your feedback! 🙏"))
                state.q = None
                ctx.goto("main", "menu")
            else:
                ctx.say(_("Thank you for telling us; we will use it to improve the answers."))
                ctx.goto("offer")
            return
        if picked == "faq:topics":
            ctx.goto("topics")
            return
        if await self._picked_article(ctx):
            return
        await self._free_text(ctx, _("Please choose one of the options, or type your "
                                     "question."))

    def _more_pages(self, ctx: Ctx) -> bool:
        state = _state(ctx)
        article = self.library.content.article(state.slug or "")
        if article is None:
            return False
        pages = article_pages(article.text(get_locale()).body)
        return (state.page or 0) < len(pages) - 1

    # -- asking staff ------------------------------------------------------------------------

    async def ask_offer(self, ctx: Ctx) -> None:
        state = _state(ctx)
        question = state.q
        options: list[Option] = []
        if question:
            text = _("Shall I pass your question to Kominfo staff? Their answer will come to "
                     "this chat.\n\n\u201c{question}\u201d").format(question=question)
            options.append(Option("q:send", _("✍️ Yes, send it to staff")))
            options.append(Option("q:new", _("✏️ Write it differently")))
        else:
            text = _("Would you like to ask Kominfo staff? Their answer will come to this chat.")
            options.append(Option("q:new", _("✍️ Write my question")))
        locale = get_locale()
        for slug in (state.see or [])[:2]:
            article = self.library.content.article(slug)
            if article is not None:
                options.append(Option(f"a:{slug}", _("📖 Maybe: {title}").format(
                    title=article.title(locale))))
        ctx.say(text, options=options + [opt_menu()])

    async def on_offer(self, ctx: Ctx) -> None:
        picked = ctx.choice()
        question = _state(ctx).q
        typed = _typed_answer(ctx)
        if typed == "no":
            ctx.goto("main", "menu")
            return
        if typed == "yes":
            picked = "q:send"
        if picked == "q:send" and question:
            await self._submit(ctx, question)
            return
        if picked in ("q:new", "q:send"):
            ctx.goto("question")
            return
        if await self._picked_article(ctx):
            return
        await self._free_text(ctx, _("Please choose one of the options."))

    async def ask_question(self, ctx: Ctx) -> None:
        ctx.say(_("Type your question for Kominfo staff in one message. Please do not include "
                  "your NIK or other personal numbers."), options=nav_options())

    async def on_question(self, ctx: Ctx) -> None:
        if ctx.inbound.kind != Kind.TEXT or len(ctx.text) < QUESTION_MIN:
            ctx.say(_("Please type your question as a text message of at least {n} characters.")
                    .format(n=QUESTION_MIN))
            ctx.stay()
            return
        await note_question(ctx)
        await self._submit(ctx, ctx.text)

    async def _submit(self, ctx: Ctx, text: str) -> None:
        row = await _faq(ctx).ask(identity_id=ctx.person.id, channel=ctx.person.channel,
                                  user_key=ctx.person.user_key, locale=ctx.person.locale,
                                  text=text)
        logger.info("FAQ question #%s queued for staff", row.id)
        ctx.say(_("✅ Your question has been sent to Kominfo staff as number #{id}. Their answer "
                  "will be sent to this chat.").format(id=row.id))

        def alert(_recipient: Recipient) -> Reply:
            return Reply(_("❓ New question #{id} from a resident ({channel}):\n"
                           "\u201c{text}\u201d\n\nAnswer with: /jawab {id} your answer")
                         .format(id=row.id, channel=ctx.person.channel, text=row.text))

        # Kominfo's triage group, or else each Kominfo staff member, sees the question at once.
        tell(ctx, render(await report_actions(ctx).audience.kominfo(), alert))
        _state(ctx).q = None
        ctx.goto("main", "menu")

    # -- complaints --------------------------------------------------------------------------

    async def ask_complaint(self, ctx: Ctx) -> None:
        category = ctx.services.city.category(_state(ctx).category or "")
        if category is None:
            ctx.goto("main", "menu")
            return
        lines = [_("It sounds like a problem to report: {category}. I can file a report for you "
                   "now; it takes about two minutes.").format(category=category.name())]
        if resumable_state(ctx):
            lines.append(_("(This replaces your unfinished report.)"))
        options = [
            Option(f"rep:{category.key}", _("📝 Make a report: {category}").format(
                category=category.name())),
            Option("rep:other", _("📝 Report, choosing another category")),
        ]
        how = self.library.content.article(HOW_TO_REPORT)
        if how is not None:
            options.append(Option(f"a:{how.slug}", _("❓ How reporting works")))
        ctx.say("\n".join(lines), options=options + [opt_menu()])

    async def on_complaint(self, ctx: Ctx) -> None:
        picked = ctx.picked()
        typed = _typed_answer(ctx)
        if typed == "no":
            ctx.goto("main", "menu")
            return
        category = (_state(ctx).category or "") if typed == "yes" else picked.after("rep")
        report = ctx.services.flows["report"]
        described = _state(ctx).q
        if category is not None and category != "other" and isinstance(report, ReportFlow):
            await report.enter_with_category(ctx, category, description=described)
            return
        if category == "other" and isinstance(report, ReportFlow):
            await report.enter_described(ctx, described)
            return
        if await self._picked_article(ctx):
            return
        await self._free_text(ctx, _("Please choose one of the options."))

    # -- shared ------------------------------------------------------------------------------

    async def _picked_article(self, ctx: Ctx) -> bool:
        slug = ctx.picked().after("a")
        if slug is not None and self.library.content.article(slug) is not None:
            open_article(ctx, slug)
            return True
        return False

    async def _free_text(self, ctx: Ctx, prompt: str) -> None:
        if ctx.inbound.kind == Kind.TEXT and ctx.text:
            await understand(ctx, self.library)
            return
        ctx.say(prompt)
        ctx.stay()


def open_article(ctx: Ctx, slug: str, *, see: Iterable[str] = (),
                 question: str | None = None) -> None:
    state = _state(ctx)
    state.slug, state.page, state.see, state.counted = slug, 0, list(see), None
    if question is not None:
        state.q = question
    ctx.goto("article", FaqFlow.name)


async def understand(ctx: Ctx, library: FaqLibrary) -> None:
    """Free text outside a form: small talk, a problem to report, or a question."""
    if ctx.inbound.kind != Kind.TEXT or not ctx.text or is_stray(ctx.text):
        ctx.say(_("Sorry, I did not understand that. Please choose from the menu."))
        ctx.goto("main", "menu")
        return
    text = ctx.text[:READ_MAX]
    found = library.understand(text)
    logger.debug("free text understood as %s", found.label)
    intent = found.intent
    if intent == Intent.GREETING:
        ctx.say(_("Hello! 👋 How can I help? Choose from the menu, or simply type what you "
                  "need: a problem to report, or a question about the city's apps."))
        ctx.goto("main", "menu")
    elif intent == Intent.THANKS:
        ctx.say(_("You're welcome! 🙏 Is there anything else I can help with?"))
        ctx.goto("main", "menu")
    elif intent == Intent.HELP:
        ctx.say(_("I can help you report a problem in your neighbourhood, follow your reports, "
                  "and answer questions about the city's apps. Choose from the menu, or type "
                  "your question or the problem in your own words, for example \u201cjalan "
                  "berlubang di Jl. Sudirman\u201d or \u201cbagaimana cara bayar PBB?\u201d."))
        ctx.goto("main", "menu")
    elif intent == Intent.EMERGENCY:
        ctx.say(emergency_text(ctx.services.city))
        ctx.goto("main", "menu")
    elif intent == Intent.REPORT:
        await ctx.services.flows["report"].enter(ctx)
    elif intent == Intent.COMPLAINT:
        state = _state(ctx)
        state.category = found.category
        state.q = text  # the resident's words become the report's description
        ctx.goto("complaint", FaqFlow.name)
    elif intent == Intent.QUESTION:
        await note_question(ctx)
        best, *others = found.hits
        open_article(ctx, best.slug, see=[h.slug for h in others], question=text)
    else:
        await note_question(ctx)
        state = _state(ctx)
        state.q, state.see = text, [h.slug for h in found.hits]
        ctx.say(_("Sorry, I do not have an answer to that yet."))
        ctx.goto("offer", FaqFlow.name)


def make_understand(library: FaqLibrary) -> Callable[[Ctx], Awaitable[None]]:
    """The engine's reader of free text at the menu."""

    async def understand_text(ctx: Ctx) -> None:
        await understand(ctx, library)

    return understand_text


# -- staff: answering from chat --------------------------------------------------------------


async def kominfo_staff(ctx: Ctx) -> StaffMember | None:
    """The Kominfo staff account of whoever wrote, if they have one (`emas staff add`)."""
    staff = await repo_agencies.get_staff(session=ctx.services.session,
                                          channel=ctx.person.channel,
                                          user_key=ctx.person.user_key)
    if staff is None or not staff.active or staff.role != Role.KOMINFO:
        return None
    return staff


def _carry_on(ctx: Ctx) -> None:
    """After a staff command in a private chat, ask again whatever the staff member was
    answering; in a group, say nothing more."""
    if ctx.inbound.is_group:
        return
    flow = ctx.services.flows.get(ctx.flow)
    if flow is not None and flow.has_state(ctx.state):
        ctx.stay()
    else:
        ctx.goto("main", "menu")


async def answer_command(ctx: Ctx) -> bool:
    """/jawab ID TEXT: answer a resident's question; the answer goes to them at once."""
    staff = await kominfo_staff(ctx)
    if staff is None:
        return False
    number, _sep, text = (ctx.inbound.command_arg or "").strip().partition(" ")
    if not number.lstrip("#").isdigit() or not text.strip():
        ctx.say(_("Usage: /jawab NUMBER ANSWER, for example: /jawab 12 The e-PBB app ..."))
        _carry_on(ctx)
        return True
    service = _faq(ctx)
    try:
        row = await service.answer(question_id=int(number.lstrip("#")), text=text,
                                   by=staff.name)
    except FaqError:
        ctx.say(_("There is no question #{id}, or the answer is empty or too long.")
                .format(id=number.lstrip("#")))
        _carry_on(ctx)
        return True
    with use_locale(row.locale):
        reply = answer_reply(row)
    ctx.notify(channel=row.channel, user_key=row.user_key, locale=row.locale, reply=reply)
    await service.mark_delivered(row)
    await access.record(session=ctx.services.session, staff=staff, action="faq.answer",
                        now=ctx.services.now(), source="chat", target=f"question:{row.id}")
    logger.info("FAQ question #%s answered from chat", row.id)
    ctx.say(_("Your answer to question #{id} was sent to the resident.").format(id=row.id))
    _carry_on(ctx)
    return True


async def questions_command(ctx: Ctx) -> bool:
    """/pertanyaan: the oldest open questions, for staff."""
    if await kominfo_staff(ctx) is None:
        return False
    rows = await _faq(ctx).questions(limit=10)
    if not rows:
        ctx.say(_("No open questions. 🎉"))
    else:
        lines = [_("Open questions (oldest first); answer with /jawab NUMBER ANSWER:")]
        for row in rows:
            lines.append(f"#{row.id} · {format_datetime(row.created_at)} · "
                         f"{row.channel}\n\u201c{row.text[:300]}\u201d")
        ctx.say("\n\n".join(lines))
    _carry_on(ctx)
    return True
