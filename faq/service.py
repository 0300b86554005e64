"""Residents' feedback on articles and their questions to staff, over one database session."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from storage import repo_faq
from storage.models.faq import FaqQuestion, QuestionStatus
from storage.types import utcnow

QUESTION_MIN = 5
QUESTION_MAX = 1000
ANSWER_MAX = 3000


class FaqError(ValueError):
    """A request that cannot be carried out; the message says why (for staff, in English)."""


class FaqService:
    def __init__(self, *, session: AsyncSession, now: Callable[[], datetime] = utcnow) -> None:
        self.session = session
        self.now = now

    async def record_view(self, *, article: str, day: date) -> None:
        """Count one opening of an article (no record of who opened it)."""
        await repo_faq.count_view(session=self.session, article=article, day=day)

    async def views(self, *, since: date | None = None) -> dict[str, int]:
        return await repo_faq.view_counts(session=self.session, since=since)

    async def record_feedback(self, *, article: str, identity_id: int, helpful: bool) -> None:
        await repo_faq.add_feedback(session=self.session, article=article,
                                    identity_id=identity_id, helpful=helpful, at=self.now())

    async def ask(self, *, identity_id: int, channel: str, user_key: str, locale: str,
                  text: str) -> FaqQuestion:
        """Queue a resident's question for Kominfo staff."""
        text = text.strip()[:QUESTION_MAX]
        return await repo_faq.add_question(
            session=self.session, identity_id=identity_id, channel=channel, user_key=user_key,
            locale=locale, text=text, at=self.now())

    async def answer(self, *, question_id: int, text: str, by: str) -> FaqQuestion:
        """Record staff's answer; raises FaqError when there is no such question or no text."""
        text = text.strip()
        if not text:
            raise FaqError("the answer is empty")
        if len(text) > ANSWER_MAX:
            raise FaqError(f"the answer is too long ({len(text)} characters; at most "
                           f"{ANSWER_MAX})")
        row = await repo_faq.answer_question(session=self.session, question_id=question_id,
                                             answer=text, answered_by=by[:128], at=self.now())
        if row is None:
            raise FaqError(f"no question #{question_id}")
        return row

    async def mark_delivered(self, question: FaqQuestion) -> bool:
        assert question.id is not None and question.answered_at is not None
        return await repo_faq.claim_delivery(session=self.session, question_id=question.id,
                                             answered_at=question.answered_at, at=self.now())

    async def questions(self, *, status: str | None = QuestionStatus.OPEN,
                        limit: int = 50) -> Sequence[FaqQuestion]:
        return await repo_faq.list_questions(session=self.session, status=status, limit=limit)

    async def feedback(self) -> list[tuple[str, int, int]]:
        return await repo_faq.feedback_counts(session=self.session)


def question_summary(row: FaqQuestion) -> dict[str, object]:
    """A question as the command line prints it (--json)."""
    return {
        "id": row.id,
        "status": row.status,
        "channel": row.channel,
        "locale": row.locale,
        "text": row.text,
        "created_at": row.created_at.isoformat(),
        "answer": row.answer,
        "answered_by": row.answered_by,
        "answered_at": row.answered_at.isoformat() if row.answered_at else None,
        "delivered_at": row.delivered_at.isoformat() if row.delivered_at else None,
    }
