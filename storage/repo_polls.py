"""Repository functions for polls and quizzes: the polls, their questions and answers, the
counts their results are made of, and quiz participants' schools and campuses.

Counts are made in SQL (grouped), so a poll answered by tens of thousands is never held in
memory; free-text answers are read in bounded pages.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, and_, func, or_, select, update
from sqlmodel import col
from sqlmodel import select as sm_select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models.broadcast import Delivery, DeliveryStatus, Subscriber, Subscription
from storage.models.poll import Poll, PollAnswer, PollQuestion, PollStatus, QuizParticipant


def _table(model: Any) -> Table:
    return cast(Table, model.__table__)


T_POLL = _table(Poll)
T_ANSWER = _table(PollAnswer)
T_DEL = _table(Delivery)
T_SUBN = _table(Subscription)
T_PART = _table(QuizParticipant)

# A delivery its recipient can have read: on the wire, or sent.
RECEIVED = (DeliveryStatus.SENDING, DeliveryStatus.SENT, DeliveryStatus.DELIVERED,
            DeliveryStatus.READ)
SENT = (DeliveryStatus.SENT, DeliveryStatus.DELIVERED, DeliveryStatus.READ)


async def _run(session: AsyncSession, statement: Any) -> Any:
    return await session.exec(statement)


# --- polls and questions ---------------------------------------------------------------------


async def create_poll(*, session: AsyncSession, poll: Poll,
                      questions: Sequence[PollQuestion]) -> Poll:
    session.add(poll)
    await session.flush()
    assert poll.id is not None
    for question in questions:
        question.poll_id = poll.id
        session.add(question)
    await session.flush()
    return poll


async def get_poll(*, session: AsyncSession, poll_id: int) -> Poll | None:
    return await session.get(Poll, poll_id)


async def save_poll(*, session: AsyncSession, poll: Poll) -> Poll:
    session.add(poll)
    await session.flush()
    return poll


async def refresh_poll(*, session: AsyncSession, poll: Poll) -> Poll:
    """Reload a poll's row (after a Core UPDATE moved it)."""
    await session.refresh(poll)
    return poll


async def list_polls(*, session: AsyncSession, limit: int = 50,
                     kind: str | None = None) -> Sequence[Poll]:
    query = sm_select(Poll).order_by(col(Poll.id).desc()).limit(limit)
    if kind is not None:
        query = query.where(Poll.kind == kind)
    return (await session.exec(query)).all()


async def list_questions(*, session: AsyncSession, poll_id: int) -> list[PollQuestion]:
    result = await session.exec(sm_select(PollQuestion).where(PollQuestion.poll_id == poll_id)
                                .order_by(col(PollQuestion.position)))
    return list(result.all())


async def move_poll(*, session: AsyncSession, poll_id: int, from_status: Sequence[str],
                    to_status: str, **values: Any) -> bool:
    """Change a poll's status only if it is in one of `from_status` (a race-free step)."""
    result = await _run(session,
        update(T_POLL).where(T_POLL.c.id == poll_id, T_POLL.c.status.in_(list(from_status)))
        .values(status=to_status, **values))
    return bool(result.rowcount)


async def due_to_close(*, session: AsyncSession, now: datetime) -> list[int]:
    result = await _run(session, select(T_POLL.c.id).where(
        T_POLL.c.status == PollStatus.OPEN, T_POLL.c.closes_at.is_not(None),
        T_POLL.c.closes_at <= now).order_by(T_POLL.c.id))
    return [int(r[0]) for r in result.all()]


async def waiting_for(*, session: AsyncSession, channel: str, address: str,
                      closed_since: datetime) -> list[tuple[Poll, Delivery]]:
    """The polls open, or closed since `closed_since` (their late answers are told so), whose
    question reached this person, each with the delivery that carried it: one statement, which
    finds nothing at once for the many who were sent no poll."""
    result = await session.exec(
        sm_select(Poll, Delivery)
        .join(Delivery, col(Delivery.campaign_id) == col(Poll.campaign_id))
        .join(Subscriber, col(Subscriber.id) == col(Delivery.subscriber_id))
        .where(col(Subscriber.channel) == channel, col(Subscriber.address) == address,
               col(Delivery.status).in_(list(RECEIVED)),
               or_(col(Poll.status) == PollStatus.OPEN,
                   and_(col(Poll.status) == PollStatus.CLOSED,
                        col(Poll.closed_at) >= closed_since))))
    return [(poll, delivery) for poll, delivery in result.all()]


async def poll_for_campaign(*, session: AsyncSession, campaign_id: int) -> Poll | None:
    """The poll a campaign carries the question or the results of, if any."""
    result = await session.exec(sm_select(Poll).where(or_(
        col(Poll.campaign_id) == campaign_id, col(Poll.results_campaign_id) == campaign_id)))
    return result.first()


# --- answers ---------------------------------------------------------------------------------


async def received(*, session: AsyncSession, campaign_ids: Sequence[int],
                   subscriber_id: int) -> dict[int, Delivery]:
    """The deliveries of these campaigns that reached the subscriber, by campaign."""
    if not campaign_ids:
        return {}
    result = await session.exec(sm_select(Delivery).where(
        col(Delivery.campaign_id).in_(list(campaign_ids)),
        Delivery.subscriber_id == subscriber_id, col(Delivery.status).in_(list(RECEIVED))))
    return {d.campaign_id: d for d in result.all()}


async def answers_of(*, session: AsyncSession, poll_id: int,
                     subscriber_id: int) -> dict[int, PollAnswer]:
    """One person's answers to a poll, by question id."""
    result = await session.exec(sm_select(PollAnswer).where(
        PollAnswer.poll_id == poll_id, PollAnswer.subscriber_id == subscriber_id))
    return {a.question_id: a for a in result.all()}


async def save_answer(*, session: AsyncSession, answer: PollAnswer) -> PollAnswer:
    session.add(answer)
    await session.flush()
    return answer


# --- counts for the results ------------------------------------------------------------------


async def delivery_counts(*, session: AsyncSession,
                          campaign_id: int) -> list[tuple[str | None, str, bool, int]]:
    """(kelurahan, channel, sent, count) of a campaign's deliveries to people."""
    sent = T_DEL.c.status.in_([s.value for s in SENT])
    result = await _run(session,
        select(T_DEL.c.kelurahan_code, T_DEL.c.channel, sent, func.count())
        .where(T_DEL.c.campaign_id == campaign_id, T_DEL.c.is_group.is_(False))
        .group_by(T_DEL.c.kelurahan_code, T_DEL.c.channel, sent))
    return [(r[0], str(r[1]), bool(r[2]), int(r[3])) for r in result.all()]


async def answer_counts(*, session: AsyncSession,
                        poll_id: int) -> list[tuple[int, int | None, str | None, str, int]]:
    """(question id, option or None for own words, kelurahan, channel, count)."""
    result = await _run(session,
        select(T_ANSWER.c.question_id, T_ANSWER.c.option, T_ANSWER.c.kelurahan_code,
               T_ANSWER.c.channel, func.count())
        .where(T_ANSWER.c.poll_id == poll_id)
        .group_by(T_ANSWER.c.question_id, T_ANSWER.c.option, T_ANSWER.c.kelurahan_code,
                  T_ANSWER.c.channel))
    return [(int(r[0]), r[1], r[2], str(r[3]), int(r[4])) for r in result.all()]


async def answer_counts_by_group(*, session: AsyncSession,
                                 poll_id: int) -> list[tuple[int, int | None, str, int]]:
    """(question id, option, group key, count): answers by the groups respondents are in."""
    result = await _run(session,
        select(T_ANSWER.c.question_id, T_ANSWER.c.option, T_SUBN.c.group_key, func.count())
        .select_from(T_ANSWER.join(T_SUBN, T_SUBN.c.subscriber_id == T_ANSWER.c.subscriber_id))
        .where(T_ANSWER.c.poll_id == poll_id)
        .group_by(T_ANSWER.c.question_id, T_ANSWER.c.option, T_SUBN.c.group_key))
    return [(int(r[0]), r[1], str(r[2]), int(r[3])) for r in result.all()]


async def respondents(*, session: AsyncSession, poll_id: int) -> int:
    """People who answered at least one question."""
    result = await _run(session, select(func.count(func.distinct(T_ANSWER.c.subscriber_id)))
                        .where(T_ANSWER.c.poll_id == poll_id))
    return int(result.scalar_one())


async def text_answers(*, session: AsyncSession, question_id: int, limit: int,
                       offset: int = 0) -> list[tuple[str, str | None, datetime]]:
    """(text, kelurahan, when) of answers in residents' own words, the latest first."""
    result = await _run(session,
        select(T_ANSWER.c.text, T_ANSWER.c.kelurahan_code, T_ANSWER.c.updated_at)
        .where(T_ANSWER.c.question_id == question_id, T_ANSWER.c.text.is_not(None))
        .order_by(T_ANSWER.c.updated_at.desc(), T_ANSWER.c.id.desc())
        .limit(limit).offset(offset))
    return [(str(r[0]), r[1], r[2]) for r in result.all()]


async def scores(*, session: AsyncSession, poll_ids: Sequence[int] | None, by: str,
                 group_keys: Sequence[str] = ()) -> list[tuple[str | None, int, int]]:
    """(what participants are grouped by, participants, points) over the quizzes `poll_ids`
    (None: every quiz). `by`: school, campus, kelurahan, or group (among `group_keys`)."""
    where = [T_ANSWER.c.poll_id.in_(list(poll_ids))] if poll_ids is not None else []
    people = func.count(func.distinct(T_ANSWER.c.subscriber_id))
    points = func.coalesce(func.sum(T_ANSWER.c.points), 0)
    if by in ("school", "campus"):
        query = (select(T_PART.c.institution_key, people, points)
                 .select_from(T_ANSWER.join(T_PART,
                                            T_PART.c.subscriber_id == T_ANSWER.c.subscriber_id))
                 .where(*where, T_PART.c.institution_kind == by)
                 .group_by(T_PART.c.institution_key))
    elif by == "kelurahan":
        query = (select(T_ANSWER.c.kelurahan_code, people, points).where(*where)
                 .group_by(T_ANSWER.c.kelurahan_code))
    else:
        query = (select(T_SUBN.c.group_key, people, points)
                 .select_from(T_ANSWER.join(T_SUBN,
                                            T_SUBN.c.subscriber_id == T_ANSWER.c.subscriber_id))
                 .where(*where, T_SUBN.c.group_key.in_(list(group_keys)))
                 .group_by(T_SUBN.c.group_key))
    result = await _run(session, query)
    return [(r[0], int(r[1]), int(r[2])) for r in result.all()]


async def institution_names(*, session: AsyncSession, keys: Sequence[str]) -> dict[str, str]:
    """For each institution key, its most common spelling (the fuller one on a tie: "SMA
    Negeri 1 Binjai" rather than "SMAN 1 Binjai")."""
    if not keys:
        return {}
    result = await _run(session,
        select(T_PART.c.institution_key, T_PART.c.institution, func.count())
        .where(T_PART.c.institution_key.in_(list(keys)))
        .group_by(T_PART.c.institution_key, T_PART.c.institution))
    best: dict[str, tuple[int, str]] = {}
    for key, name, n in result.all():
        if key not in best or (int(n), len(name)) > (best[key][0], len(best[key][1])):
            best[key] = (int(n), str(name))
    return {k: v[1] for k, v in best.items()}


async def quiz_ids(*, session: AsyncSession) -> list[int]:
    result = await _run(session, select(T_POLL.c.id).where(T_POLL.c.kind == "quiz"))
    return [int(r[0]) for r in result.all()]


# --- quiz participants -----------------------------------------------------------------------


async def get_participant(*, session: AsyncSession,
                          subscriber_id: int) -> QuizParticipant | None:
    return await session.get(QuizParticipant, subscriber_id)


async def save_participant(*, session: AsyncSession,
                           participant: QuizParticipant) -> QuizParticipant:
    session.add(participant)
    await session.flush()
    return participant


async def institution_keys(*, session: AsyncSession) -> list[str]:
    result = await _run(session, select(T_PART.c.institution_key).where(
        T_PART.c.institution_key.is_not(None)).distinct())
    return [str(r[0]) for r in result.all()]
