"""Sending the outbox: notices the command line and the scheduler wrote, and the loops that
run the scheduler and the sender inside `emas serve`."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from bot.engine import Outgoing
from bot.labels import RECORD_WORDS
from bot.notice_outbox import reply_from_payload
from bot.outbound import Outbound
from reports.scheduler import tick
from storage import repo_agencies
from storage.db import Database

if TYPE_CHECKING:
    from bot.app import Container

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
# A claim older than this belongs to a sender that died mid-way: the rows are taken again.
CLAIM_TIMEOUT = timedelta(minutes=5)
OUTBOX_INTERVAL = 2.0
SCHEDULER_INTERVAL = 60.0


async def deliver_pending(*, db: Database, outbound: Outbound, now: datetime,
                          limit: int = 50) -> int:
    """Send what the outbox holds; returns how many went out."""
    async with db.session() as session:
        rows = await repo_agencies.claim_notifications(
            session=session, now=now, stale_before=now - CLAIM_TIMEOUT, limit=limit)
    if not rows:
        return 0
    sent: list[int] = []
    retry: list[int] = []
    failed: list[tuple[int, str]] = []
    for row in rows:
        if row.channel not in outbound.senders:
            failed.append((row.id or 0, f"no sender for channel {row.channel}"))
            continue
        item = Outgoing(channel=row.channel, to=row.user_key,
                        reply=reply_from_payload(row.payload), locale=row.locale)
        try:
            await outbound.deliver([item])
        except Exception as exc:
            logger.warning("notification %s not sent (attempt %d)", row.id, row.attempts,
                           exc_info=True)
            if row.attempts >= MAX_ATTEMPTS:
                failed.append((row.id or 0, type(exc).__name__))
            else:
                retry.append(row.id or 0)
            continue
        sent.append(row.id or 0)
    async with db.session() as session:
        await repo_agencies.finish_notifications(session=session, ids=sent, now=now)
        await repo_agencies.finish_notifications(session=session, ids=retry, now=now,
                                                 status="pending")
        for row_id, error in failed:
            await repo_agencies.finish_notifications(session=session, ids=[row_id], now=now,
                                                     status="failed", error=error[:200])
    return len(sent)


def agency_jobs(box: Container) -> list[Callable[[], Coroutine[Any, Any, None]]]:
    """The background tasks of the agencies' side: the deadline scheduler and the sender."""
    clock = box.engine.clock

    async def report_deadlines() -> None:
        while True:
            try:
                await tick(db=box.db, city=box.city, settings=box.settings, now=clock(),
                           deliver=box.notice_outbox, words=RECORD_WORDS)
            except Exception:
                logger.exception("deadline scheduler failed; trying again in a minute")
            await asyncio.sleep(SCHEDULER_INTERVAL)

    async def notification_outbox() -> None:
        while True:
            try:
                while await deliver_pending(db=box.db, outbound=box.outbound, now=clock()):
                    pass
            except Exception:
                logger.exception("outbox sender failed; trying again shortly")
            await asyncio.sleep(OUTBOX_INTERVAL)

    return [report_deadlines, notification_outbox]
