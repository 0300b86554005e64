"""Sending the outbox: notices the command line and the scheduler wrote, and the loops that
run the scheduler and the sender inside `emas serve`."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from datetime import datetime
from typing import TYPE_CHECKING, Any

from bot.engine import Outgoing
from bot.labels import RECORD_WORDS
from bot.messages import reply_from_payload
from bot.outbound import CLAIM_TIMEOUT, Outbound
from reports.scheduler import tick
from storage import repo_agencies
from storage.db import Database

if TYPE_CHECKING:
    from bot.app import Container

logger = logging.getLogger(__name__)

OUTBOX_INTERVAL = 2.0
SCHEDULER_INTERVAL = 60.0


async def deliver_pending(*, db: Database, outbound: Outbound, now: datetime,
                          limit: int = 200) -> int:
    """Hand what the outbox holds to the lanes (notices of the command line and the scheduler,
    replies a stopped or crashed process did not send); returns how many were handed to a
    channel's sender (a row for a channel this process does not run is marked failed). The
    lanes mark each row once it went out."""
    async with db.session() as session:
        rows = await repo_agencies.claim_notifications(
            session=session, now=now, stale_before=now - CLAIM_TIMEOUT, limit=limit,
            owner=db.presence)
    outbound.submit([
        Outgoing(channel=row.channel, to=row.user_key, reply=reply_from_payload(row.payload),
                 locale=row.locale, outbox_id=row.id, direct=bool(row.payload.get("direct")))
        for row in rows
    ])
    return sum(1 for row in rows if row.channel in outbound.senders)


async def recover(*, db: Database) -> int:
    """At start: on SQLite this process is the only sender, so rows claimed by its previous
    life (stopped or killed before they went out) are sent again now rather than when their
    claim expires."""
    if not db.is_sqlite:
        return 0
    async with db.session() as session:
        count = await repo_agencies.release_notifications(session=session, ids=None)
    if count:
        logger.info("%d message(s) left by the previous run go out now", count)
    return count


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
        await recover(db=box.db)
        while True:
            try:
                while await deliver_pending(db=box.db, outbound=box.outbound, now=clock()):
                    pass
            except Exception:
                logger.exception("outbox sender failed; trying again shortly")
            await asyncio.sleep(OUTBOX_INTERVAL)

    return [report_deadlines, notification_outbox]
