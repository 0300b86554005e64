"""Helpers for poll and quiz tests: a poll in a few words, sent as the dispatcher sends it and
shown in a resident's chat on every channel."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select

from bot.app import Container
from bot.poll_texts import BROADCAST_WORDS
from broadcasting import PAHLAWAN, add_subscribers, running, wait_for_status
from broadcasts.audience import Audience
from broadcasts.groups import load_catalog
from broadcasts.polls import PollDraft, PollService, QuestionDraft
from chat import Chat, TelegramChat, WhatsAppChat
from storage.models.broadcast import Delivery, DeliveryStatus, Subscriber
from storage.models.poll import Poll

KIM_PAHLAWAN = "kim:" + PAHLAWAN


def service(box: Container, session: Any) -> PollService:
    return PollService(session=session, city=box.city,
                       catalog=load_catalog(box.city, box.settings.city_dir),
                       settings=box.settings, now=box.engine.clock)


def question(text: str, *options: str, en: str | None = None,
             options_en: Sequence[str] = (), allow_text: bool = False,
             correct: int | None = None, points: int = 0) -> QuestionDraft:
    labels = [{"id": o} for o in options]
    for label, english in zip(labels, options_en, strict=False):
        label["en"] = english
    texts = {"id": text}
    if en:
        texts["en"] = en
    return QuestionDraft(texts=texts, options=labels, allow_text=allow_text, correct=correct,
                         points=points)


async def create_poll(box: Container, *questions: QuestionDraft,
                      groups: Sequence[str] = (KIM_PAHLAWAN,), kind: str = "poll",
                      title: str = "", closes_at: datetime | None = None,
                      opens_at: datetime | None = None, share_results: bool = False,
                      audience: Audience | None = None, send: bool = True,
                      by: str = "operator") -> int:
    draft = PollDraft(questions=list(questions),
                      audience=audience or Audience(groups=list(groups)), kind=kind,
                      title=title, closes_at=closes_at, opens_at=opens_at,
                      share_results=share_results)
    async with box.db.session() as session:
        polls = service(box, session)
        poll = await polls.create(draft, created_by=by)
        assert poll.id is not None
        if send:
            await polls.send(poll.id, by=by)
        return poll.id


async def get_poll(box: Container, poll_id: int) -> Poll:
    async with box.db.reader() as session:
        poll = await session.get(Poll, poll_id)
        assert poll is not None
        return poll


async def subscribe(box: Container, chat: Chat, *, kelurahan: str | None = PAHLAWAN,
                    groups: Sequence[str] = (KIM_PAHLAWAN,)) -> None:
    """The chat's resident subscribed to KIM Pahlawan (as an import would leave them)."""
    await add_subscribers(box.db, box.city, box.settings, [chat.user_key],
                          channel=chat.channel, groups=groups, kelurahan=kelurahan)


async def dispatch(box: Container, campaign_id: int) -> None:
    """Run the dispatcher until the campaign has gone out."""
    async with running(box.broadcasts.build_dispatcher(idle_poll=0.05)) as task:
        await wait_for_status(box.db, campaign_id, "completed", task=task)


async def deliver(box: Container, chat: Chat, poll_id: int) -> None:
    """Send the poll's question out and show it in `chat`, as its channel shows it: through the
    dispatcher and the platform's double on Telegram and WhatsApp; on the terminal (which
    receives no broadcasts) its delivery is recorded and its message printed as the dispatcher
    words it."""
    poll = await get_poll(box, poll_id)
    assert poll.campaign_id is not None
    if isinstance(chat, TelegramChat):
        mark = len(chat.double.sent)
        await dispatch(box, poll.campaign_id)
        chat._collect(mark)
        return
    if isinstance(chat, WhatsAppChat):
        mark = len(chat.double.messages)
        await dispatch(box, poll.campaign_id)
        await chat.double.settle()
        chat.collect(mark)
        return
    async with box.db.session() as session:
        subscriber = (await session.exec(select(Subscriber.__table__.c.id).where(  # type: ignore[attr-defined]
            Subscriber.__table__.c.channel == chat.channel,  # type: ignore[attr-defined]
            Subscriber.__table__.c.address == chat.user_key))).scalar_one()  # type: ignore[attr-defined]
        await session.exec(insert(Delivery.__table__).values(  # type: ignore[attr-defined]
            campaign_id=poll.campaign_id, subscriber_id=subscriber, channel=chat.channel,
            address=chat.user_key, kelurahan_code=PAHLAWAN, locale="id", is_group=False,
            status=DeliveryStatus.DELIVERED.value, attempts=0, next_attempt_at=box.engine.clock(),
            sent_at=box.engine.clock()))
        card = await service(box, session).card(poll)
    text, options = BROADCAST_WORDS.poll_message("id", card)
    chat.texts = [text]
    chat.options = [label for _id, label in options]
