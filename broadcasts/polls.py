"""Polls and quizzes: compose, send through the campaign machinery, answer, close.

A poll is sent as a campaign (the same audience, dispatcher, lanes, limits and durability): its
question campaign's deliveries are the people asked, and a delivery is what entitles someone
to answer. At the close, when the poll shares its results, a second campaign carries them to
the people who answered. The dispatcher words both in each recipient's language through the
bot layer (`CampaignWords.poll_message`, `poll_results`); this module deals in data only.

A quiz is a poll of several questions with a correct option and points each: the dispatcher
sends the first question, the bot asks the others one at a time as they are answered, and a
quiz's answers are final (the right answer is told at once).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from rapidfuzz import fuzz, process
from sqlmodel.ext.asyncio.session import AsyncSession

from broadcasts.audience import LANGUAGES, Audience
from broadcasts.campaigns import (
    EDITABLE,
    LIVE,
    CampaignDraft,
    CampaignError,
    CampaignService,
    channel_rate,
)
from broadcasts.config import BroadcastConfig
from broadcasts.groups import GroupCatalog
from broadcasts.poll_results import poll_results, shared_results
from broadcasts.problems import N_, Problem, ProblemsError, problem
from storage import repo_broadcasts, repo_polls
from storage.city import City
from storage.models.broadcast import Delivery, Subscriber
from storage.models.poll import (
    Poll,
    PollAnswer,
    PollKind,
    PollQuestion,
    PollStatus,
    QuizParticipant,
)
from storage.places import fold

TITLE_LIMIT = 200
# A question and six options at these lengths, with the words around them, fit one WhatsApp
# message (1,600 as WhatsApp counts, see `units`).
QUESTION_LIMIT = 600
OPTION_LIMIT = 80
MIN_OPTIONS, MAX_OPTIONS = 2, 6
MAX_QUESTIONS = 10
MAX_POINTS = 1000
TEXT_ANSWER_LIMIT = 500
INSTITUTION_LIMIT = 120
# An answer to a poll closed this recently is told so politely (a later one is not a reply).
RECENTLY_CLOSED = timedelta(days=7)
_TEMPLATE_SID = re.compile(r"^HX[0-9a-fA-F]{32}$")


class PollError(ProblemsError):
    """A poll cannot be created or moved; `problems` say why (worded by the bot layer)."""


@dataclass
class QuestionDraft:
    """A question as staff write it: texts and option labels by language ("id", "en")."""

    texts: dict[str, str]
    options: list[dict[str, str]] = field(default_factory=list)
    allow_text: bool = False
    correct: int | None = None  # a quiz: the index of the right option
    points: int = 0


@dataclass
class PollDraft:
    questions: list[QuestionDraft]
    audience: Audience
    kind: str = PollKind.POLL
    title: str = ""  # for staff; a poll without one is named by its question
    opens_at: datetime | None = None
    closes_at: datetime | None = None
    share_results: bool = False
    template_sid: str | None = None

    @classmethod
    def of(cls, poll: Poll, questions: Sequence[Question]) -> PollDraft:
        return cls(questions=[QuestionDraft(texts=dict(q.texts),
                                            options=[dict(o) for o in q.options],
                                            allow_text=q.allow_text, correct=q.correct,
                                            points=q.points) for q in questions],
                   audience=Audience.model_validate(poll.audience), kind=poll.kind,
                   title=poll.title, opens_at=poll.opens_at, closes_at=poll.closes_at,
                   share_results=poll.share_results, template_sid=poll.whatsapp_template_sid)


@dataclass(frozen=True)
class Question:
    """A stored question, as the flows, the dispatcher and the results read it."""

    id: int
    position: int
    texts: dict[str, str]
    options: list[dict[str, str]]
    allow_text: bool
    correct: int | None
    points: int

    @classmethod
    def of(cls, row: PollQuestion) -> Question:
        assert row.id is not None
        return cls(id=row.id, position=row.position, texts=dict(row.texts),
                   options=[dict(o) for o in row.options], allow_text=row.allow_text,
                   correct=row.correct, points=row.points)

    def text(self, locale: str) -> str:
        return self.texts.get(locale) or self.texts.get("id") or ""

    def label(self, index: int, locale: str) -> str:
        option = self.options[index]
        return option.get(locale) or option.get("id") or ""

    def labels(self, locale: str) -> list[str]:
        return [self.label(i, locale) for i in range(len(self.options))]


@dataclass(frozen=True)
class PollCard:
    """What a recipient is shown of a poll: one question, with what goes around it."""

    poll_id: int
    kind: str
    title: str
    question: Question
    questions: int  # how many the poll has (a quiz: several)
    closes_at: datetime | None
    share_results: bool


class AnswerStatus(StrEnum):
    RECORDED = "recorded"  # a first answer
    CHANGED = "changed"  # a different answer than before: the latest counts
    SAME = "same"  # the answer given before, again
    FINAL = "final"  # a quiz question answered before: the first answer stands
    CLOSED = "closed"  # the poll has closed: nothing changes
    NOT_RECIPIENT = "not_recipient"  # the poll was not sent to this person
    UNKNOWN = "unknown"  # no such poll, question or option


@dataclass
class Answered:
    """What answering did, for the bot to acknowledge."""

    status: AnswerStatus
    poll: Poll | None = None
    question: Question | None = None
    option: int | None = None
    text: str | None = None
    correct: bool | None = None
    points: int = 0
    first: bool = False  # the person's first answer in this poll
    delivery_id: int | None = None  # the delivery that entitles them to answer
    # A quiz, after this answer: the next question to ask, and the score so far.
    next_question: Question | None = None
    questions: int = 1
    score: int = 0
    total: int = 0
    right: int = 0


@dataclass
class Waiting:
    """A poll in front of someone: the question they can answer now."""

    poll: Poll
    question: Question
    questions: int
    delivery_id: int
    answer: PollAnswer | None  # their answer to it so far (a poll's answer can change)


def units(text: str) -> int:
    """A text's length as WhatsApp counts it (UTF-16 code units: most emoji count twice)."""
    return len(text.encode("utf-16-le")) // 2


def problem_list(draft: PollDraft, catalog: GroupCatalog, city: City,
                 now: datetime) -> list[Problem]:
    """What is wrong with a draft poll; empty when it can be saved."""
    out = list(draft.audience.problems(catalog, city))
    quiz = draft.kind == PollKind.QUIZ
    if draft.kind not in (PollKind.POLL, PollKind.QUIZ):
        out.append(problem(N_("A poll is a poll or a quiz.")))
    if quiz and not draft.title.strip():
        out.append(problem(N_("A quiz needs a title.")))
    if len(draft.title) > TITLE_LIMIT:
        out.append(problem(N_("The title is longer than {n} characters."), n=TITLE_LIMIT))
    if not draft.questions:
        out.append(problem(N_("Write the question.")))
    elif not quiz and len(draft.questions) > 1:
        out.append(problem(N_("A poll asks one question; a quiz asks several.")))
    elif len(draft.questions) > MAX_QUESTIONS:
        out.append(problem(N_("A quiz asks at most {n} questions."), n=MAX_QUESTIONS))
    for number, question in enumerate(draft.questions, 1):
        out += _question_problems(question, number, quiz=quiz)
    for name, moment in (("opens", draft.opens_at), ("closes", draft.closes_at)):
        if moment is not None and moment.tzinfo is None:
            out.append(problem(N_("The {which} time needs a time zone."), which=name))
            return out
    if draft.closes_at is not None:
        if draft.closes_at <= now:
            out.append(problem(N_("The closing time has passed; choose a later time.")))
        elif draft.opens_at is not None and draft.closes_at <= draft.opens_at:
            out.append(problem(N_("The poll must close after it opens.")))
    if draft.opens_at is not None and draft.opens_at <= now - timedelta(minutes=1):
        out.append(problem(N_("The opening time has passed; choose a later time, or none to "
                              "open it when it is sent.")))
    if draft.template_sid and not _TEMPLATE_SID.match(draft.template_sid):
        out.append(problem(N_("A WhatsApp template id looks like HX followed by 32 hexadecimal "
                              "characters.")))
    return out


def _question_problems(question: QuestionDraft, number: int, *, quiz: bool) -> list[Problem]:
    out: list[Problem] = []
    text = (question.texts.get("id") or "").strip()
    if not text:
        out.append(problem(N_("Question {n}: the Indonesian text is required."), n=number))
    for locale, value in question.texts.items():
        if locale not in LANGUAGES:
            out.append(problem(N_("Texts may be in Indonesian (id) or English (en) only.")))
        elif units(value) > QUESTION_LIMIT:
            out.append(problem(N_("Question {n}: the {locale} text is longer than {limit} "
                                  "characters."), n=number, locale=locale,
                               limit=QUESTION_LIMIT))
    options = question.options
    if (options or not question.allow_text) and not MIN_OPTIONS <= len(options) <= MAX_OPTIONS:
        out.append(problem(N_("Question {n}: give from {low} to {high} options, or none for an "
                              "answer in the resident's own words."), n=number,
                           low=MIN_OPTIONS, high=MAX_OPTIONS))
    seen: set[str] = set()
    unlabelled = too_long = alike = False
    for option in options:
        label = (option.get("id") or "").strip()
        if not label:
            unlabelled = True
            continue
        too_long = too_long or any(units(v) > OPTION_LIMIT for v in option.values())
        alike = alike or fold(label) in seen or label.isdigit()
        seen.add(fold(label))
    if unlabelled:
        out.append(problem(N_("Question {n}: every option needs an Indonesian label."),
                           n=number))
    if too_long:
        out.append(problem(N_("Question {n}: an option is longer than {limit} characters."),
                           n=number, limit=OPTION_LIMIT))
    if alike:
        out.append(problem(N_("Question {n}: options must differ from each other and not be "
                              "numbers alone (residents answer with their number)."),
                           n=number))
    english = [o for o in options if o.get("en")]
    if english and len(english) != len(options):
        out.append(problem(N_("Question {n}: give the English labels of every option or of "
                              "none."), n=number))
    if quiz:
        if question.allow_text or not options:
            out.append(problem(N_("Question {n}: a quiz question needs options, one of them "
                                  "correct."), n=number))
        elif question.correct is None or not 0 <= question.correct < len(options):
            out.append(problem(N_("Question {n}: choose which option is correct."), n=number))
        if not 1 <= question.points <= MAX_POINTS:
            out.append(problem(N_("Question {n}: points are a whole number from 1 to {high}."),
                               n=number, high=MAX_POINTS))
    return out


def _clean_texts(texts: dict[str, str]) -> dict[str, str]:
    return {k: v.strip() for k, v in texts.items() if v and v.strip()}


def _clean_option(option: dict[str, str]) -> dict[str, str]:
    return {k: " ".join(v.split()) for k, v in option.items() if v and v.strip()}


class PollService:
    """Polls as staff run them (CLI, console) and as the dispatcher and the bot need them."""

    def __init__(self, *, session: AsyncSession, city: City, catalog: GroupCatalog,
                 settings: BroadcastConfig, now: Callable[[], datetime]) -> None:
        self.session = session
        self.city = city
        self.catalog = catalog
        self.settings = settings
        self.now = now

    def campaigns(self) -> CampaignService:
        return CampaignService(session=self.session, city=self.city, catalog=self.catalog,
                               settings=self.settings, now=self.now)

    # -- composing ----------------------------------------------------------------------------

    def problems(self, draft: PollDraft) -> list[Problem]:
        return problem_list(draft, self.catalog, self.city, self.now())

    async def create(self, draft: PollDraft, *, created_by: str) -> Poll:
        problems = self.problems(draft)
        if problems:
            raise PollError(problems)
        first = _clean_texts(draft.questions[0].texts)
        title = " ".join(draft.title.split()) or _shorten(first["id"], TITLE_LIMIT)
        audience = draft.audience.model_copy(update={"relays": False, "poll_respondents": None})
        poll = Poll(kind=draft.kind, title=title, status=PollStatus.DRAFT,
                    audience=audience.model_dump(), share_results=draft.share_results,
                    whatsapp_template_sid=draft.template_sid, opens_at=draft.opens_at,
                    closes_at=draft.closes_at, created_by=created_by[:128],
                    created_at=self.now())
        quiz = draft.kind == PollKind.QUIZ
        questions = [
            PollQuestion(poll_id=0, position=position, texts=_clean_texts(q.texts),
                         options=[_clean_option(o) for o in q.options],
                         allow_text=q.allow_text and not quiz,
                         correct=q.correct if quiz else None,
                         points=q.points if quiz else 0)
            for position, q in enumerate(draft.questions)
        ]
        return await repo_polls.create_poll(session=self.session, poll=poll, questions=questions)

    async def get(self, poll_id: int) -> Poll:
        poll = await repo_polls.get_poll(session=self.session, poll_id=poll_id)
        if poll is None:
            raise PollError([problem(N_("There is no poll #{id}."), id=poll_id)])
        return poll

    async def find(self, poll_id: int | None, *, open_only: bool = False) -> Poll | None:
        """The poll, if there is one (and it is open, with `open_only`)."""
        if poll_id is None:
            return None
        poll = await repo_polls.get_poll(session=self.session, poll_id=poll_id)
        if poll is None or (open_only and poll.status != PollStatus.OPEN):
            return None
        return poll

    async def questions(self, poll: Poll) -> list[Question]:
        assert poll.id is not None
        rows = await repo_polls.list_questions(session=self.session, poll_id=poll.id)
        return [Question.of(r) for r in rows]

    async def recent(self, limit: int = 50) -> list[Poll]:
        return list(await repo_polls.list_polls(session=self.session, limit=limit))

    def phase(self, poll: Poll) -> str:
        """draft, scheduled (sent, not open yet), open, closed or cancelled."""
        if poll.status == PollStatus.OPEN and poll.opens_at is not None \
                and poll.opens_at > self.now():
            return "scheduled"
        return poll.status

    def _campaign_draft(self, poll: Poll, questions: Sequence[Question]) -> CampaignDraft:
        audience = Audience.model_validate(poll.audience)
        return CampaignDraft(title=poll.title, texts=dict(questions[0].texts),
                             audience=audience.model_copy(update={"relays": False}),
                             template_sid=poll.whatsapp_template_sid,
                             send_at=poll.opens_at if poll.opens_at and poll.opens_at >
                             self.now() else None)

    async def preview(self, poll: Poll | PollDraft) -> dict[str, Any]:
        """Whom the poll reaches per channel and how long sending takes at the platforms'
        limits (a campaign's preview: group chats are not asked, so they are left out)."""
        if isinstance(poll, Poll):
            draft = self._campaign_draft(poll, await self.questions(poll))
        else:
            draft = CampaignDraft(title=poll.title or "-", texts=dict(poll.questions[0].texts)
                                  if poll.questions else {"id": "-"},
                                  audience=poll.audience.model_copy(update={"relays": False}),
                                  template_sid=poll.template_sid)
        try:
            figures = await self.campaigns().preview(draft)
        except CampaignError as error:
            raise PollError(error.problems) from None
        for channel, each in figures["channels"].items():
            each["recipients"] -= each["group_chats"]
            each["messages"] = max(0, each["messages"] - each["group_chats"])
            rate = channel_rate(self.settings, channel)
            each["seconds"] = math.ceil(each["messages"] / rate) if each["messages"] else 0
            each["group_chats_left_out"], each["group_chats"] = each["group_chats"], 0
        channels = figures["channels"].values()
        figures["recipients"] = sum(c["recipients"] for c in channels)
        figures["seconds"] = max((c["seconds"] for c in channels), default=0)
        return figures

    # -- sending and closing ------------------------------------------------------------------

    async def send(self, poll_id: int, *, by: str,
                   notify: tuple[str, str, str] | None = None) -> Poll:
        """Send the poll now, or at its opening time: its question goes out as a campaign (which
        waits for a second staff member's approval where the city requires it)."""
        poll = await self.get(poll_id)
        if poll.status != PollStatus.DRAFT:
            raise PollError([problem(N_("Poll #{id} was sent already."), id=poll_id)])
        questions = await self.questions(poll)
        problems = self.problems(PollDraft.of(poll, questions))
        if problems:
            raise PollError(problems)
        campaigns = self.campaigns()
        try:
            campaign = await campaigns.create(self._campaign_draft(poll, questions),
                                              created_by=by, notify=notify)
            assert campaign.id is not None
            if not await repo_polls.move_poll(
                    session=self.session, poll_id=poll_id, from_status=(PollStatus.DRAFT,),
                    to_status=PollStatus.OPEN, campaign_id=campaign.id, sent_at=self.now(),
                    opens_at=poll.opens_at or self.now()):
                raise PollError([problem(N_("Poll #{id} was sent already."), id=poll_id)])
            await campaigns.send(campaign.id, by=by)
        except CampaignError as error:
            raise PollError(error.problems) from None
        return await repo_polls.refresh_poll(session=self.session, poll=poll)

    async def close(self, poll_id: int, *, by: str) -> Poll:
        """Close a poll now (a draft is cancelled): answers stop counting, what is still to be
        sent of its question is not, and when it shares its results they go to the people who
        answered."""
        poll = await self.get(poll_id)
        now = self.now()
        if poll.status == PollStatus.DRAFT:
            await repo_polls.move_poll(session=self.session, poll_id=poll_id,
                                       from_status=(PollStatus.DRAFT,),
                                       to_status=PollStatus.CANCELLED, closed_at=now,
                                       closed_by=by[:128])
            return await repo_polls.refresh_poll(session=self.session, poll=poll)
        if not await repo_polls.move_poll(session=self.session, poll_id=poll_id,
                                          from_status=(PollStatus.OPEN,),
                                          to_status=PollStatus.CLOSED, closed_at=now,
                                          closed_by=by[:128]):
            raise PollError([problem(N_("Poll #{id} has closed already."), id=poll_id)])
        poll = await repo_polls.refresh_poll(session=self.session, poll=poll)
        campaigns = self.campaigns()
        if poll.campaign_id is not None:
            question = await repo_broadcasts.get_campaign(session=self.session,
                                                          campaign_id=poll.campaign_id)
            if question is not None and question.status in (*EDITABLE, *LIVE):
                await campaigns.cancel(poll.campaign_id)
        figures = await poll_results(session=self.session, city=self.city, catalog=self.catalog,
                                     poll=poll, questions=await self.questions(poll),
                                     phase=self.phase(poll))
        poll.results = shared_results(figures)
        await repo_polls.save_poll(session=self.session, poll=poll)
        if poll.share_results and figures["responses"]:
            await self._send_results(poll, figures, by=by)
        return await repo_polls.refresh_poll(session=self.session, poll=poll)

    async def _send_results(self, poll: Poll, figures: dict[str, Any], *, by: str) -> None:
        """The results campaign: to everyone who answered, with no second approval (what it
        says is the poll's own figures, and the poll went out approved)."""
        assert poll.id is not None
        audience = Audience(poll_respondents=poll.id, relays=False,
                            channels=Audience.model_validate(poll.audience).channels)
        texts = {k: v for k, v in figures["texts"].items() if v}
        campaigns = self.campaigns()
        campaign = await campaigns.create(CampaignDraft(
            title=poll.title, texts=texts, audience=audience,
            template_sid=poll.whatsapp_template_sid), created_by=by)
        assert campaign.id is not None
        campaign.requires_approval = False
        await repo_broadcasts.save_campaign(session=self.session, campaign=campaign)
        poll.results_campaign_id = campaign.id
        await repo_polls.save_poll(session=self.session, poll=poll)
        await campaigns.send(campaign.id, by=by)

    async def close_due(self) -> list[int]:
        """Polls whose closing time has come are closed; returns their ids."""
        closed = []
        for poll_id in await repo_polls.due_to_close(session=self.session, now=self.now()):
            try:
                await self.close(poll_id, by="schedule")
            except PollError:
                continue  # closed meanwhile by someone else
            closed.append(poll_id)
        return closed

    # -- answering ----------------------------------------------------------------------------

    async def waiting(self, channel: str, address: str) -> list[Waiting]:
        """The polls sent to this person that they can answer now (or answered, or that closed
        lately), newest first, each with its question to answer now."""
        out: list[Waiting] = []
        for poll, delivery in await repo_polls.waiting_for(
                session=self.session, channel=channel, address=address,
                closed_since=self.now() - RECENTLY_CLOSED):
            assert poll.id is not None
            questions = await self.questions(poll)
            answers = await repo_polls.answers_of(session=self.session, poll_id=poll.id,
                                                  subscriber_id=delivery.subscriber_id)
            if poll.kind == PollKind.QUIZ:
                question = next((q for q in questions if q.id not in answers), None)
                if question is None:
                    continue  # the quiz is done
            else:
                question = questions[0]
            out.append(Waiting(poll=poll, question=question, questions=len(questions),
                               delivery_id=delivery.id or 0,
                               answer=answers.get(question.id)))
        out.sort(key=lambda w: -w.delivery_id)
        return out

    async def _entitled(self, poll_id: int, position: int, channel: str,
                        address: str) -> tuple[Answered, Subscriber | None, Delivery | None]:
        """Whether this person may answer this question now: an outcome whose status is
        RECORDED when they may (else why not), their subscriber row and the delivery that
        entitles them."""
        poll = await repo_polls.get_poll(session=self.session, poll_id=poll_id)
        if poll is None or poll.id is None or poll.status in (PollStatus.DRAFT,
                                                               PollStatus.CANCELLED):
            return Answered(AnswerStatus.UNKNOWN), None, None
        questions = await self.questions(poll)
        question = next((q for q in questions if q.position == position), None)
        outcome = Answered(AnswerStatus.UNKNOWN, poll=poll, question=question,
                           questions=len(questions))
        if question is None:
            return outcome, None, None
        subscriber = await repo_broadcasts.get_subscriber(session=self.session, channel=channel,
                                                          address=address)
        delivery = None
        if subscriber is not None and subscriber.id is not None and poll.campaign_id:
            delivery = (await repo_polls.received(
                session=self.session, campaign_ids=[poll.campaign_id],
                subscriber_id=subscriber.id)).get(poll.campaign_id)
        if subscriber is None or delivery is None:
            outcome.status = AnswerStatus.NOT_RECIPIENT
            return outcome, None, None
        outcome.delivery_id = delivery.id
        if poll.status == PollStatus.CLOSED or (poll.closes_at is not None
                                                and poll.closes_at <= self.now()):
            outcome.status = AnswerStatus.CLOSED
            return outcome, subscriber, delivery
        outcome.status = AnswerStatus.RECORDED
        return outcome, subscriber, delivery

    async def can_answer(self, *, poll_id: int, position: int, channel: str,
                         address: str) -> Answered:
        """Whether this person may answer now (status RECORDED), before they write an answer
        in their own words; else why not."""
        outcome, _subscriber, _delivery = await self._entitled(poll_id, position, channel,
                                                               address)
        return outcome

    async def answer(self, *, poll_id: int, position: int, channel: str, address: str,
                     option: int | None = None, text: str | None = None) -> Answered:
        """Record someone's answer (an option, or their own words where the question takes
        them): one per person and question, a poll's latest counting until it closes; a
        quiz's first answer counts."""
        base, subscriber, delivery = await self._entitled(poll_id, position, channel, address)
        question, poll = base.question, base.poll
        if question is not None and text is not None:
            text = " ".join(text.split())[:TEXT_ANSWER_LIMIT]
            if not question.allow_text or not text:
                base.status = AnswerStatus.UNKNOWN
        elif question is not None and (option is None
                                       or not 0 <= option < len(question.options)):
            base.status = AnswerStatus.UNKNOWN
        base.option, base.text = option, text
        if base.status != AnswerStatus.RECORDED:
            return base
        assert poll is not None and poll.id is not None and question is not None
        assert subscriber is not None and subscriber.id is not None and delivery is not None
        now = self.now()
        answers = await repo_polls.answers_of(session=self.session, poll_id=poll.id,
                                              subscriber_id=subscriber.id)
        base.first = not answers
        before = answers.get(question.id)
        quiz = poll.kind == PollKind.QUIZ
        if quiz:
            base.correct = option == question.correct
            base.points = question.points if base.correct else 0
        if before is None:
            answers[question.id] = await repo_polls.save_answer(
                session=self.session, answer=PollAnswer(
                    poll_id=poll.id, question_id=question.id, subscriber_id=subscriber.id,
                    delivery_id=delivery.id, channel=delivery.channel,
                    kelurahan_code=delivery.kelurahan_code or subscriber.kelurahan_code,
                    option=option, text=text, correct=base.correct, points=base.points,
                    answered_at=now, updated_at=now))
        elif quiz:
            base.status = AnswerStatus.FINAL
            base.option, base.text = before.option, before.text
            base.correct, base.points = before.correct, before.points
        elif before.option == option and before.text == text:
            base.status = AnswerStatus.SAME
        else:
            before.option, before.text = option, text
            before.changes += 1
            before.updated_at = now
            await repo_polls.save_answer(session=self.session, answer=before)
            base.status = AnswerStatus.CHANGED
        if quiz:
            self._progress(base, await self.questions(poll), answers)
        return base

    async def progress(self, *, poll_id: int, channel: str, address: str) -> Answered:
        """Where someone stands in a quiz: the next question to ask (None: done) and their
        score so far."""
        poll = await repo_polls.get_poll(session=self.session, poll_id=poll_id)
        subscriber = await repo_broadcasts.get_subscriber(session=self.session, channel=channel,
                                                          address=address)
        if poll is None or poll.id is None or subscriber is None or subscriber.id is None:
            return Answered(AnswerStatus.UNKNOWN)
        questions = await self.questions(poll)
        answers = await repo_polls.answers_of(session=self.session, poll_id=poll.id,
                                              subscriber_id=subscriber.id)
        outcome = Answered(AnswerStatus.RECORDED, poll=poll, questions=len(questions))
        self._progress(outcome, questions, answers)
        return outcome

    @staticmethod
    def _progress(outcome: Answered, questions: Sequence[Question],
                  answers: dict[int, PollAnswer]) -> None:
        outcome.questions = len(questions)
        outcome.next_question = next((q for q in questions if q.id not in answers), None)
        outcome.total = sum(q.points for q in questions)
        outcome.score = sum(a.points for a in answers.values())
        outcome.right = sum(1 for a in answers.values() if a.correct)

    async def card(self, poll: Poll, question: Question | None = None) -> PollCard:
        """What a recipient is shown of `poll` (its first question, or `question`)."""
        questions = await self.questions(poll)
        return card_of(poll, question or questions[0], len(questions))

    # -- quiz participants --------------------------------------------------------------------

    async def participant(self, channel: str, address: str) -> QuizParticipant | None:
        subscriber = await repo_broadcasts.get_subscriber(session=self.session, channel=channel,
                                                          address=address)
        if subscriber is None or subscriber.id is None:
            return None
        return await repo_polls.get_participant(session=self.session,
                                                subscriber_id=subscriber.id)

    async def state_institution(self, channel: str, address: str,
                                name: str | None) -> QuizParticipant | None:
        """Keep the school or campus someone stated (None: neither; they are not asked
        again). A spelling close to one stated before joins it on the leaderboard."""
        subscriber = await repo_broadcasts.get_subscriber(session=self.session, channel=channel,
                                                          address=address)
        if subscriber is None or subscriber.id is None:
            return None
        found = await repo_polls.get_participant(session=self.session,
                                                 subscriber_id=subscriber.id)
        row = found or QuizParticipant(subscriber_id=subscriber.id)
        cleaned = " ".join((name or "").split())[:INSTITUTION_LIMIT] or None
        row.institution = cleaned
        row.institution_key = row.institution_kind = None
        if cleaned:
            key = institution_key(cleaned)
            known = await repo_polls.institution_keys(session=self.session)
            row.institution_key = snap_key(key, known)
            row.institution_kind = institution_kind(row.institution_key)
        row.stated_at = self.now()
        return await repo_polls.save_participant(session=self.session, participant=row)


# -- schools and campuses -----------------------------------------------------------------------

# Abbreviations in the names residents type, and what they stand for.
_EXPAND = {"sman": "sma negeri", "smpn": "smp negeri", "smkn": "smk negeri", "sdn": "sd negeri",
           "mtsn": "mts negeri", "man": "ma negeri", "negri": "negeri", "univ": "universitas",
           "unv": "universitas", "poltek": "politeknik", "pol": "politeknik",
           "swt": "swasta", "it": "islam terpadu"}
_SCHOOLS = frozenset({"sd", "smp", "sma", "smk", "ma", "mts", "slb", "sekolah"})
_CAMPUS_WORDS = ("universitas", "politeknik", "institut", "sekolah tinggi", "akademi",
                 "kampus", "stikes", "stie", "stmik", "stkip", "stih", "akbid", "akper", "uin",
                 "iain", "unimed", "usu", "umsu", "uisu", "uma", "unpab", "polmed")


def institution_key(name: str) -> str:
    """A school's or campus's name in one form, whatever the spelling: "SMAN 1 Binjai",
    "SMA N 1 Binjai" and "sma negeri 1 binjai" are one school."""
    words = fold(name).split()
    out: list[str] = []
    for i, word in enumerate(words):
        if word == "n" and i > 0 and words[i - 1] in _SCHOOLS:
            out.append("negeri")
        else:
            out.extend(_EXPAND.get(word, word).split())
    return " ".join(out)[:INSTITUTION_LIMIT]


def institution_kind(key: str) -> str:
    """"campus" for a university, polytechnic or college; "school" otherwise."""
    padded = f" {key} "
    return "campus" if any(f" {w} " in padded for w in _CAMPUS_WORDS) else "school"


def snap_key(key: str, known: Sequence[str]) -> str:
    """`key`, or a known key that differs from it by a slip of the keyboard (never by a
    number: "SMA Negeri 1" and "SMA Negeri 2" are two schools)."""
    if key in known or not known:
        return key
    numbers = _DIGITS.findall(key)
    alike = [k for k in known if _DIGITS.findall(k) == numbers]
    best = process.extractOne(key, alike, scorer=fuzz.ratio, score_cutoff=92) if alike else None
    return str(best[0]) if best is not None else key


_DIGITS = re.compile(r"\d+")


def _shorten(text: str, limit: int) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


def card_of(poll: Poll, question: Question, questions: int) -> PollCard:
    """What a recipient is shown of one of the poll's `questions` questions."""
    assert poll.id is not None
    return PollCard(poll_id=poll.id, kind=poll.kind, title=poll.title, question=question,
                    questions=questions, closes_at=poll.closes_at,
                    share_results=poll.share_results)


async def card_for_campaign(*, session: AsyncSession,
                            campaign_id: int) -> tuple[PollCard | None, dict[str, Any] | None]:
    """What the dispatcher sends for a campaign that belongs to a poll: (the poll's first
    question, None) for its question campaign, (None, its results) for its results campaign,
    (None, None) for any other campaign."""
    poll = await repo_polls.poll_for_campaign(session=session, campaign_id=campaign_id)
    if poll is None or poll.id is None:
        return None, None
    if poll.results_campaign_id == campaign_id:
        return None, dict(poll.results or {})
    rows = await repo_polls.list_questions(session=session, poll_id=poll.id)
    if not rows:
        return None, None
    return card_of(poll, Question.of(rows[0]), len(rows)), None
