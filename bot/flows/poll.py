"""Answering polls and quizzes: a tap, a number, an option's word (small typos forgiven), or the
resident's own words where a question takes them; a quiz's questions one at a time, the school
or campus asked once, and the score at the end.

A number answers the poll that arrived since the resident last wrote (the newest thing in front
of them); later, an option's word answers it when the resident is not in the middle of
something else. A message that answers no option is handled as it would be without any poll.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from rapidfuzz import fuzz

from bot.flows.base import Ctx, Flow, Routes
from bot.flows.common import opt_cancel
from bot.flows.options import NO_WORDS, YES_WORDS, normalize
from bot.flows.router import leave_flow
from bot.flows.state import FlowState
from bot.i18n import _
from bot.messages import Kind, Option
from bot.poll_texts import (
    acknowledgement,
    answered_text,
    parse_option_id,
    question_options,
    question_text,
    score_text,
)
from broadcasts.polls import (
    Answered,
    AnswerStatus,
    PollService,
    Question,
    Waiting,
    card_of,
)
from storage.models.poll import PollKind, PollStatus

# A message from someone in one of these states is not in the middle of anything: an option's
# word answers a poll waiting for them.
AT_REST = {("menu", "main"), ("menu", "start"), ("poll", "quiz")}
# Negations as residents type them, read as "tidak" when matching an answer.
NEGATIONS = frozenset({"tdk", "gak", "ga", "g", "gk", "nggak", "enggak", "engga", "ngga",
                       "kagak", "ndak", "nda", "tak"})
LETTERS = "abcdef"
# A typo of a label: at least this similar (rapidfuzz ratio), and clearly nearer one label.
SIMILAR = 85.0
MARGIN = 5.0
# "JAWAB <words>": an answer in the resident's own words, typed in one message.
OWN_WORDS = re.compile(r"^(?:jawab(?:an)?|answer)(?:\s*[:\-]\s*|\s+)(.{2,})$",
                       re.IGNORECASE | re.DOTALL)
SKIP_SCHOOL = "qs:skip"
INSTITUTION_MIN = 3


class PollState(FlowState):
    """What the conversation keeps of polls."""

    key = "poll"

    # The newest poll delivery the resident has had in front of them when they wrote: a poll
    # delivered after it is the newest thing they see, so a bare number answers it.
    seen: int = 0
    # The quiz under way, or the poll whose answer is being written, and its question.
    poll: int | None = None
    question: int | None = None


def polls(ctx: Ctx) -> PollService:
    services = ctx.services
    return PollService(session=services.session, city=services.city,
                       catalog=services.catalog,
                       settings=services.settings, now=services.now)


def _canon(text: str) -> str:
    words = ["tidak" if w in NEGATIONS else w for w in normalize(text).split()]
    joined = " ".join(words)
    if joined in YES_WORDS:
        return "ya"
    if joined in NO_WORDS:
        return "tidak"
    return joined


def match_answer(text: str, choices: Sequence[Sequence[str]], *, numbers: bool) -> int | None:
    """Which option `text` answers (its index), given each option's labels (in every language
    it has): its number or letter (when `numbers`), its label, a label's first words, a short
    message holding one label ("saya setuju"), or a slip of the keyboard ("stuju"). None when it
    answers none: a message about something else is never taken for an answer."""
    cleaned = normalize(text)
    if not cleaned or not choices:
        return None
    if cleaned.isdigit():
        n = int(cleaned)
        return n - 1 if numbers and 1 <= n <= len(choices) else None
    if numbers and len(cleaned) == 1 and cleaned in LETTERS[:len(choices)]:
        return LETTERS.index(cleaned)
    canon = _canon(cleaned)
    labels = [[_canon(label) for label in group if label.strip()] for group in choices]
    exact = {i for i, group in enumerate(labels) if canon in group}
    if len(exact) == 1:
        return exact.pop()
    if len(canon) < 3 or exact:
        return None
    words = canon.split()
    starting = {i for i, group in enumerate(labels)
                if any(label.startswith(canon + " ") for label in group)}
    if len(starting) == 1 and len(canon) >= 4:
        return starting.pop()
    if len(words) <= 4:
        held = [(len(label), i) for i, group in enumerate(labels) for label in group
                if len(label) >= 4 and f" {label} " in f" {canon} "]
        if held:
            longest = max(held)[0]
            holders = {i for n, i in held if n == longest}
            return holders.pop() if len(holders) == 1 else None
    longest_label = max((len(label.split()) for group in labels for label in group), default=1)
    if len(words) > longest_label + 1:
        return None
    scores = sorted(((max((fuzz.ratio(canon, label) for label in group), default=0.0), i)
                     for i, group in enumerate(labels)), reverse=True)
    best, index = scores[0]
    runner_up = scores[1][0] if len(scores) > 1 else 0.0
    return index if best >= SIMILAR and best - runner_up >= MARGIN else None


def _choices(question: Question) -> list[list[str]]:
    """Each option's labels in every language, and "write my answer" last where allowed (it
    is the last number of the list)."""
    return [list(o.values()) for o in question.options]


def _numbered(question: Question) -> int:
    return len(question.options) + (1 if question.allow_text else 0)


class PollFlow(Flow):
    """A quiz's questions one at a time, an answer in the resident's own words, the school or
    campus asked once; the buttons and typed answers of every poll, whatever flow the resident
    is in."""

    name = "poll"
    first_state = "quiz"

    def routes(self) -> Routes:
        return Routes(buttons={"pl": poll_button}, typed_codes=(typed_answer,))

    # -- a quiz, one question at a time --------------------------------------------------------

    async def ask_quiz(self, ctx: Ctx) -> None:
        state = PollState.kept(ctx)
        service = polls(ctx)
        poll = await service.find(state.poll, open_only=True)
        questions = await service.questions(poll) if poll is not None else []
        question = next((q for q in questions if q.position == state.question), None)
        if poll is None or poll.id is None or question is None:
            state.poll = state.question = None
            ctx.say(_("Sorry, this quiz is no longer available."))
            ctx.goto("main", "menu")
            return
        card = await service.card(poll, question)
        ctx.say(question_text(card, ctx.person.locale),
                options=question_options(poll.id, question, ctx.person.locale))

    async def on_quiz(self, ctx: Ctx) -> None:
        # Not an answer (those are taken before the flow): handled as it would be at the menu.
        await _as_usual(ctx)

    # -- an answer in the resident's own words -------------------------------------------------

    async def ask_write(self, ctx: Ctx) -> None:
        ctx.say(_("Please write your answer in one message."), options=[opt_cancel()])

    async def on_write(self, ctx: Ctx) -> None:
        if ctx.needs_text(_("Please write your answer as a text message.")):
            return
        state = PollState.kept(ctx)
        if state.poll is None or state.question is None:
            ctx.goto("main", "menu")
            return
        poll_id, position = state.poll, state.question
        state.poll = state.question = None
        answered = await polls(ctx).answer(poll_id=poll_id, position=position,
                                           channel=ctx.person.channel,
                                           address=ctx.person.user_key, text=ctx.text)
        _seen(ctx, answered)
        ctx.say(acknowledgement(answered, ctx.person.locale))
        ctx.goto("main", "menu")

    async def on_cancel(self, ctx: Ctx) -> None:
        state = PollState.get(ctx)
        if state is not None:
            state.poll = state.question = None

    # -- the school or campus, once ------------------------------------------------------------

    async def ask_school(self, ctx: Ctx) -> None:
        ctx.say(_("One question before we go on: which school or campus are you at? Type its "
                  "name, for example “SMA Negeri 1 Binjai” or “Universitas Negeri Medan”, and "
                  "your points count for it on the leaderboard."),
                options=[Option(SKIP_SCHOOL, _("Skip: neither"))])

    async def on_school(self, ctx: Ctx) -> None:
        service = polls(ctx)
        person = ctx.person
        if ctx.choice() == SKIP_SCHOOL:
            await service.state_institution(person.channel, person.user_key, None)
            ctx.say(_("All right: your points count for your kelurahan."))
        else:
            if ctx.needs_text(_("Please type the name of your school or campus.")):
                return
            if len(ctx.text) < INSTITUTION_MIN or not any(c.isalpha() for c in ctx.text):
                ctx.say(_("Please type the name of your school or campus, for example “SMA "
                          "Negeri 1 Binjai”."))
                ctx.stay()
                return
            stated = await service.state_institution(person.channel, person.user_key,
                                                     ctx.text)
            ctx.say(_("Thank you! Your points count for {name}.").format(
                name=stated.institution if stated is not None else ctx.text))
        state = PollState.kept(ctx)
        if state.poll is None:
            ctx.goto("main", "menu")
            return
        await _continue_quiz(ctx, state.poll)


def _seen(ctx: Ctx, answered: Answered) -> None:
    if answered.delivery_id is not None:
        state = PollState.kept(ctx)
        state.seen = max(state.seen, answered.delivery_id)


async def _as_usual(ctx: Ctx) -> None:
    """Hand a message that answers nothing to the menu, which understands it as usual (a
    report, a question, the menu)."""
    PollState.kept(ctx).poll = None
    ctx.flow, ctx.state = "menu", "main"
    await ctx.services.flows["menu"].handle(ctx)


# --- entry points outside the flow --------------------------------------------------------------


async def poll_button(ctx: Ctx) -> bool:
    """A poll's option, tapped (or its number typed against the options last offered)."""
    if ctx.inbound.is_group:
        return False
    parsed = parse_option_id(ctx.inbound.option_id)
    if parsed is None:
        return False
    poll_id, position, index = parsed
    tapped = ctx.inbound.kind == Kind.OPTION
    if index is None:
        await _start_writing(ctx, poll_id, position, tapped=tapped)
    else:
        await _answer(ctx, poll_id, position, option=index, tapped=tapped)
    return True


async def typed_answer(ctx: Ctx) -> bool:
    """A typed answer to a poll waiting for the resident: its number or letter, if the poll is
    the newest thing in front of them; an option's word when they are not in the middle of
    something else; "JAWAB ..." for a question that takes their own words."""
    inbound = ctx.inbound
    if inbound.is_group or inbound.kind != Kind.TEXT or not ctx.text:
        return False
    waiting = await polls(ctx).waiting(ctx.person.channel, ctx.person.user_key)
    if not waiting:
        return False
    state = PollState.kept(ctx)
    fresh = [w for w in waiting if w.delivery_id > state.seen]
    state.seen = max(state.seen, max(w.delivery_id for w in waiting))
    own = OWN_WORDS.match(ctx.text)
    if own is not None:
        target = next((w for w in (fresh or waiting) if w.question.allow_text), None)
        if target is not None:
            await _answer(ctx, target.poll.id or 0, target.question.position,
                          text=own.group(1), tapped=False)
            return True
    if fresh:
        return await _typed(ctx, fresh[0], numbers=True)
    if (ctx.flow, ctx.state) not in AT_REST or ctx.choice() is not None:
        return False
    for each in waiting:
        if await _typed(ctx, each, numbers=False):
            return True
    return False


async def _typed(ctx: Ctx, waiting: Waiting, *, numbers: bool) -> bool:
    question = waiting.question
    poll_id = waiting.poll.id or 0
    cleaned = normalize(ctx.text)
    if numbers and question.allow_text and cleaned.isdigit() \
            and int(cleaned) == _numbered(question):
        await _start_writing(ctx, poll_id, question.position, tapped=False)
        return True
    index = match_answer(ctx.text, _choices(question), numbers=numbers)
    if index is None:
        return False
    await _answer(ctx, poll_id, question.position, option=index, tapped=False)
    return True


async def _start_writing(ctx: Ctx, poll_id: int, position: int, *, tapped: bool) -> None:
    person = ctx.person
    checked = await polls(ctx).can_answer(poll_id=poll_id, position=position,
                                          channel=person.channel, address=person.user_key)
    _seen(ctx, checked)
    if checked.status != AnswerStatus.RECORDED or checked.question is None \
            or not checked.question.allow_text:
        ctx.say(acknowledgement(checked, person.locale))
        return
    leave_flow(ctx)
    state = PollState.kept(ctx)
    state.poll, state.question = poll_id, position
    ctx.goto("write", "poll")


async def _answer(ctx: Ctx, poll_id: int, position: int, *, option: int | None = None,
                  text: str | None = None, tapped: bool) -> None:
    person = ctx.person
    service = polls(ctx)
    answered = await service.answer(poll_id=poll_id, position=position, channel=person.channel,
                                    address=person.user_key, option=option, text=text)
    _seen(ctx, answered)
    ack = acknowledgement(answered, person.locale)
    poll, question = answered.poll, answered.question
    at_rest = (ctx.flow, ctx.state) in AT_REST
    if answered.status in (AnswerStatus.CLOSED, AnswerStatus.NOT_RECIPIENT,
                           AnswerStatus.UNKNOWN) or poll is None or question is None:
        ctx.say(ack)
        if not tapped and not at_rest:
            ctx.stay()
        return
    if poll.kind == PollKind.QUIZ:
        await _quiz_answered(ctx, service, answered, ack)
        return
    if answered.status == AnswerStatus.SAME:
        ctx.say(ack)  # nothing changed: the message showing the answer stays as it is
        if not tapped and not at_rest:
            ctx.stay()
        return
    if at_rest and question.options:
        # The options stay in front of the resident, the chosen one marked: another tap, number
        # or word changes the answer (on Telegram, the poll's own message shows it).
        card = card_of(poll, question, answered.questions)
        marked = answered.option
        ctx.say(answered_text(card, ack, person.locale) if tapped else ack,
                options=question_options(poll.id or 0, question, person.locale,
                                         marked=marked), edit=tapped)
        return
    ctx.say(ack)
    if not tapped and not at_rest:
        ctx.stay()  # back to where the resident was


async def _quiz_answered(ctx: Ctx, service: PollService, answered: Answered,
                         ack: str) -> None:
    poll = answered.poll
    assert poll is not None and poll.id is not None
    ctx.say(ack)
    person = ctx.person
    if answered.first and answered.status == AnswerStatus.RECORDED \
            and await service.participant(person.channel, person.user_key) is None:
        leave_flow(ctx)
        state = PollState.kept(ctx)
        state.poll, state.question = poll.id, None
        ctx.goto("school", "poll")
        return
    await _continue_quiz(ctx, poll.id)


async def _continue_quiz(ctx: Ctx, poll_id: int) -> None:
    """The next question of the quiz, or the score when there is none."""
    person = ctx.person
    progress = await polls(ctx).progress(poll_id=poll_id, channel=person.channel,
                                         address=person.user_key)
    state = PollState.kept(ctx)
    following = progress.next_question
    if following is None or progress.poll is None or progress.poll.status != PollStatus.OPEN:
        state.poll = state.question = None
        if progress.poll is not None:
            ctx.say(score_text(progress))
        ctx.goto("main", "menu")
        return
    if ctx.flow != "poll":
        leave_flow(ctx)
    state.poll, state.question = poll_id, following.position
    ctx.goto("quiz", "poll", remember=False)
