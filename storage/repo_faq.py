"""Repository functions for the FAQ tables: views, feedback, and questions passed to staff."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

from sqlalchemy import case, func, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models.faq import FaqFeedback, FaqQuestion, FaqView, QuestionStatus

_VIEWS = FaqView.__table__  # type: ignore[attr-defined]


async def count_view(*, session: AsyncSession, article: str, day: date) -> None:
    """One more opening of `article` on `day`: a single INSERT ... ON CONFLICT DO UPDATE."""
    conn = await session.connection()
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert  # type: ignore[assignment]
    statement = insert(_VIEWS).values(article=article, day=day, shown=1)
    statement = statement.on_conflict_do_update(
        index_elements=["article", "day"], set_={"shown": _VIEWS.c.shown + 1})
    await conn.execute(statement)


async def view_counts(*, session: AsyncSession, since: date | None = None) -> dict[str, int]:
    """How many times each article was opened, from `since` (every day when None)."""
    query = select(FaqView.article, func.sum(FaqView.shown)).group_by(col(FaqView.article))
    if since is not None:
        query = query.where(col(FaqView.day) >= since)
    result = await session.exec(query)
    return {article: int(total or 0) for article, total in result.all()}


async def add_feedback(*, session: AsyncSession, article: str, identity_id: int,
                       helpful: bool, at: datetime) -> FaqFeedback:
    row = FaqFeedback(article=article, identity_id=identity_id, helpful=helpful, at=at)
    session.add(row)
    await session.flush()
    return row


async def feedback_counts(*, session: AsyncSession) -> list[tuple[str, int, int]]:
    """(article, helpful answers, not helpful answers) for every article with feedback."""
    helpful = func.sum(case((col(FaqFeedback.helpful), 1), else_=0))
    result = await session.exec(
        select(FaqFeedback.article, func.count(), helpful)
        .group_by(col(FaqFeedback.article))
        .order_by(col(FaqFeedback.article))
    )
    return [(article, int(yes or 0), int(total) - int(yes or 0))
            for article, total, yes in result.all()]


async def add_question(*, session: AsyncSession, identity_id: int, channel: str, user_key: str,
                       locale: str, text: str, at: datetime) -> FaqQuestion:
    row = FaqQuestion(identity_id=identity_id, channel=channel, user_key=user_key,
                      locale=locale, text=text, created_at=at)
    session.add(row)
    await session.flush()
    return row


async def list_questions(*, session: AsyncSession, status: str | None = None,
                         limit: int = 50) -> Sequence[FaqQuestion]:
    """Oldest first: staff answer in the order residents asked."""
    query = select(FaqQuestion)
    if status is not None:
        query = query.where(FaqQuestion.status == status)
    query = query.order_by(col(FaqQuestion.created_at), col(FaqQuestion.id)).limit(limit)
    return (await session.exec(query)).all()


async def answer_question(*, session: AsyncSession, question_id: int, answer: str,
                          answered_by: str, at: datetime) -> FaqQuestion | None:
    """Record (or replace) the answer; the question is delivered again if it was before."""
    row = await session.get(FaqQuestion, question_id)
    if row is None:
        return None
    row.answer = answer
    row.answered_by = answered_by
    row.answered_at = at
    row.status = QuestionStatus.ANSWERED
    row.delivered_at = None
    session.add(row)
    await session.flush()
    return row


async def list_undelivered(*, session: AsyncSession, channels: Sequence[str] | None = None,
                           limit: int = 50) -> Sequence[FaqQuestion]:
    """Answered questions whose answer has not reached the resident yet."""
    query = select(FaqQuestion).where(
        FaqQuestion.status == QuestionStatus.ANSWERED,
        col(FaqQuestion.delivered_at).is_(None),
    )
    if channels is not None:
        query = query.where(col(FaqQuestion.channel).in_(list(channels)))
    query = query.order_by(col(FaqQuestion.answered_at), col(FaqQuestion.id)).limit(limit)
    return (await session.exec(query)).all()


async def claim_delivery(*, session: AsyncSession, question_id: int, answered_at: datetime,
                         at: datetime) -> bool:
    """Mark one answer delivered, unless another process did first or the answer changed
    since it was read; True when this caller should send it."""
    result = await session.exec(
        update(FaqQuestion)
        .where(col(FaqQuestion.id) == question_id,
               col(FaqQuestion.delivered_at).is_(None),
               col(FaqQuestion.answered_at) == answered_at)
        .values(delivered_at=at)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


async def release_delivery(*, session: AsyncSession, question_id: int) -> None:
    """Undo a claim whose sending failed, so it is tried again."""
    await session.exec(
        update(FaqQuestion)
        .where(col(FaqQuestion.id) == question_id)
        .values(delivered_at=None)
        .execution_options(synchronize_session=False)
    )
