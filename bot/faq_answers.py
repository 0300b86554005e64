"""Staff answers to residents' questions: the message, and the loop that delivers answers given
from the command line (`emas faq answer`) inside `emas serve`."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from datetime import datetime
from typing import TYPE_CHECKING, Any

from bot.engine import Outgoing
from bot.flows.faq import answer_reply
from bot.i18n import use_locale
from bot.outbound import Outbound
from faq.library import FaqLibrary
from faq.service import FaqService
from storage import repo_faq
from storage.db import Database
from storage.models.faq import FaqQuestion
from storage.types import utcnow

if TYPE_CHECKING:
    from bot.app import Container

logger = logging.getLogger(__name__)

def answer_outgoing(question: FaqQuestion) -> Outgoing:
    with use_locale(question.locale):
        reply = answer_reply(question)
    return Outgoing(channel=question.channel, to=question.user_key, reply=reply,
                    locale=question.locale)


async def deliver_answers(*, db: Database, outbound: Outbound,
                          now: Callable[[], datetime] = utcnow, limit: int = 50) -> int:
    """Send answered questions that have not reached the resident yet, on channels this
    process can send on; returns how many went out. Each answer is claimed first, so two
    servers never send the same one; a failed send is released and tried again later."""
    channels = list(outbound.senders)
    if not channels:
        return 0
    async with db.reader() as session:
        rows = list(await repo_faq.list_undelivered(session=session, channels=channels,
                                                    limit=limit))
    sent = 0
    for row in rows:
        assert row.id is not None and row.answered_at is not None
        async with db.session() as session:
            mine = await FaqService(session=session, now=now).mark_delivered(row)
        if not mine:
            continue
        try:
            await outbound.deliver([answer_outgoing(row)])
        except Exception:
            logger.warning("answer to question %s not sent; will retry", row.id, exc_info=True)
            async with db.session() as session:
                await repo_faq.release_delivery(session=session, question_id=row.id)
            continue
        sent += 1
    if sent:
        logger.info("delivered %d FAQ answer(s)", sent)
    return sent


async def answer_loop(*, db: Database, outbound: Outbound, interval: float,
                      now: Callable[[], datetime] = utcnow) -> None:
    """Background task of `emas serve`: deliver answers every `interval` seconds."""
    while True:
        try:
            await deliver_answers(db=db, outbound=outbound, now=now)
        except Exception:
            logger.exception("delivering FAQ answers failed; trying again")
        await asyncio.sleep(interval)


def faq_jobs(box: Container, library: FaqLibrary) -> list[Callable[[], Coroutine[Any, Any, None]]]:
    """The FAQ's background tasks in `emas serve`: reload edited content, deliver answers."""
    settings = box.settings

    async def faq_reload() -> None:
        await library.watch(settings.faq_reload_seconds)

    async def faq_answers() -> None:
        await answer_loop(db=box.db, outbound=box.outbound,
                          interval=settings.faq_answer_poll_seconds, now=box.engine.clock)

    return [faq_reload, faq_answers]
