"""The durable outbox: notices written down in the transaction that caused them.

The command line and the deadline scheduler have no live channel to talk through; they write
`notification` rows, worded in each recipient's language, and `emas serve` sends them
(bot.outbox).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.messages import Reply, reply_payload
from bot.notices import Notice, word_all
from reports.notices import Recipient, ReportNotice
from storage import repo_agencies
from storage.models.agency import Notification

if TYPE_CHECKING:
    from storage.city import City


async def enqueue(*, session: AsyncSession, notices: Iterable[Notice], now: datetime) -> int:
    """Write notices to the outbox; they go out when this transaction commits."""
    count = 0
    for notice in notices:
        recipient = notice.recipient
        await repo_agencies.enqueue_notification(session=session, notification=Notification(
            identity_id=recipient.identity_id, channel=recipient.channel,
            user_key=recipient.user_key, locale=recipient.locale, kind=notice.reply.kind,
            payload=reply_payload(notice.reply), created_at=now))
        count += 1
    return count


class NoticeOutbox:
    """Words the domain's notices and writes them to the outbox, in the caller's transaction
    (the deadline scheduler's `deliver`)."""

    def __init__(self, *, city: City, media_dir: Path) -> None:
        self.city = city
        self.media_dir = media_dir

    def word(self, notices: Iterable[ReportNotice]) -> list[Notice]:
        return word_all(notices, city=self.city, media_dir=self.media_dir)

    async def __call__(self, session: AsyncSession, notices: Iterable[ReportNotice],
                       now: datetime) -> int:
        return await enqueue(session=session, notices=self.word(notices), now=now)


async def tell_one(session: AsyncSession, *, channel: str, user_key: str, locale: str,
                   text: str, now: datetime) -> None:
    """One plain message to one person (a staff member's login link), written to the outbox in
    the caller's transaction."""
    await enqueue(session=session, now=now, notices=[Notice(
        recipient=Recipient(channel=channel, user_key=user_key, locale=locale),
        reply=Reply(text=text))])
