"""Outgoing messages in lanes (ARCHITECTURE rule 7).

Every chat has its own lane: a queue sent in order by a task of its own, which starts with the
chat's first message and ends when the queue is empty. A 429 or a slow send holds only the lane
it happened in (the channel's sender waits inside it), so a resident in a private chat never
waits behind a flooded group or behind another resident. The global rate of a bot is kept by
the channel's limiter, where replies take slots ahead of broadcasts.

What an event says to one chat travels as one parcel. A parcel from the durable outbox carries
the ids of its `notification` rows: the journal marks them sent (or to be tried again) after
the parcel went out, a batch at a time, and keeps the claim of rows still waiting fresh.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from bot.engine import Outgoing
from storage import repo_agencies
from storage.db import Database

logger = logging.getLogger(__name__)

# How often sent rows are marked in the database (one statement for all of them).
JOURNAL_INTERVAL = 0.5
# A claim of an outbox row older than this belongs to a process that died: the rows are taken
# again. The journal renews the claims of rows still waiting in a lane long before that.
CLAIM_TIMEOUT = timedelta(seconds=60)
RENEW_AFTER = 20.0


class Sender(Protocol):
    """A channel adapter's sending side: sends one chat's messages in order; waits (inside the
    lane) for the chat's own limits and 429s, and raises only when the messages cannot go."""

    async def deliver(self, outgoing: list[Outgoing], *, edit_message: Any = None) -> None: ...


@dataclass(slots=True)
class Parcel:
    items: list[Outgoing]
    edit_message: Any = None
    done: asyncio.Future[None] | None = None


@dataclass(slots=True)
class Lane:
    parcels: deque[Parcel] = field(default_factory=deque)
    task: asyncio.Task[None] | None = None


class Journal:
    """Marks the durable outbox's rows once their messages went out, in batches."""

    def __init__(self, db: Database, clock: Callable[[], datetime]) -> None:
        self.db = db
        self.clock = clock
        self._sent: list[int] = []
        self._failed: list[tuple[int, str, bool]] = []
        self._held: dict[int, float] = {}  # row id → when its claim was last renewed
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def hold(self, ids: list[int]) -> None:
        now = time.monotonic()
        for row_id in ids:
            self._held[row_id] = now
        self._ensure_running()

    def sent(self, ids: list[int]) -> None:
        for row_id in ids:
            self._held.pop(row_id, None)
        self._sent.extend(ids)
        self._ensure_running()

    def failed(self, ids: list[int], error: str, *, final: bool = False) -> None:
        """Not sent: tried again later by the outbox, unless ``final`` (or tried too often)."""
        for row_id in ids:
            self._held.pop(row_id, None)
        self._failed.extend((row_id, error, final) for row_id in ids)
        self._ensure_running()

    def _ensure_running(self) -> None:
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._run(), name="journal")

    async def _run(self) -> None:
        while self._sent or self._failed or self._held:
            await asyncio.sleep(JOURNAL_INTERVAL)
            try:
                await self.flush()
            except Exception:
                logger.exception("outbox journal not written; trying again")
                await asyncio.sleep(1.0)

    async def flush(self) -> None:
        sent, failed = self._sent, self._failed
        due = time.monotonic() - RENEW_AFTER
        renew = [row_id for row_id, at in self._held.items() if at < due]
        if not (sent or failed or renew):
            return
        self._sent, self._failed = [], []
        try:
            async with self.db.session() as session:
                now = self.clock()
                await repo_agencies.finish_notifications(session=session, ids=sent, now=now)
                for row_id, error, final in failed:
                    await repo_agencies.fail_notification(session=session, row_id=row_id,
                                                          error=error[:200], final=final)
                await repo_agencies.renew_claims(session=session, ids=renew, now=now)
        except BaseException:
            self._sent, self._failed = sent + self._sent, failed + self._failed
            raise
        stamp = time.monotonic()
        for row_id in renew:
            if row_id in self._held:
                self._held[row_id] = stamp

    async def aclose(self) -> None:
        """Write what is left; rows still waiting in a lane go back to the outbox, for the
        next start to send."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        left, self._held = list(self._held), {}
        await self.flush()
        if left:
            async with self.db.session() as session:
                await repo_agencies.release_notifications(session=session, ids=left)


class Outbound:
    """Sends what the bot says, each chat in its own lane, through the channel's sender."""

    def __init__(self, journal: Journal | None = None, *,
                 chatless: frozenset[str] = frozenset()) -> None:
        """``chatless``: channels whose people have no chat to send to (Open311): their
        messages are recorded as undeliverable, without a warning."""
        self.senders: dict[str, Sender] = {}
        self.journal = journal
        self.chatless = chatless
        self._lanes: dict[tuple[str, str], Lane] = {}
        self._idle = asyncio.Event()
        self._idle.set()

    def register(self, channel: str, sender: Sender) -> None:
        self.senders[channel] = sender

    @property
    def lanes(self) -> int:
        """Chats with messages on their way."""
        return len(self._lanes)

    def submit(self, outgoing: list[Outgoing], *, source: str | None = None,
               edit_message: Any = None, wait: bool = False) -> list[asyncio.Future[None]]:
        """Queue messages in their chats' lanes and return at once (with ``wait``, futures
        that finish when each parcel went out or failed). ``edit_message`` (the message whose
        button was pressed, on the ``source`` channel) may be edited instead of sent anew."""
        by_chat: dict[tuple[str, str], list[Outgoing]] = {}
        for item in outgoing:
            by_chat.setdefault((item.channel, item.to), []).append(item)
        futures: list[asyncio.Future[None]] = []
        for key, items in by_chat.items():
            ids = [i.outbox_id for i in items if i.outbox_id is not None]
            if key[0] in self.chatless:
                logger.debug("%d message(s) for a %s person: undeliverable", len(items), key[0])
                if ids and self.journal is not None:
                    self.journal.failed(ids, f"undeliverable: no chat on {key[0]}", final=True)
                continue
            if key[0] not in self.senders:
                logger.warning("no sender for channel %s; %d message(s) not sent", key[0],
                               len(items))
                if ids and self.journal is not None:
                    self.journal.failed(ids, f"no sender for channel {key[0]}", final=True)
                continue
            if ids and self.journal is not None:
                self.journal.hold(ids)
            done = asyncio.get_running_loop().create_future() if wait else None
            parcel = Parcel(items, edit_message if key[0] == source else None, done)
            if done is not None:
                futures.append(done)
            lane = self._lanes.get(key)
            if lane is None:
                lane = self._lanes[key] = Lane()
            lane.parcels.append(parcel)
            if lane.task is None:
                self._idle.clear()
                lane.task = asyncio.get_running_loop().create_task(
                    self._run(key, lane), name=f"lane-{key[0]}")
        return futures

    async def deliver(self, outgoing: list[Outgoing], *, source: str | None = None,
                      edit_message: Any = None) -> None:
        """Queue and wait until they went out; raises what the first failed parcel raised."""
        futures = self.submit(outgoing, source=source, edit_message=edit_message, wait=True)
        results = await asyncio.gather(*futures, return_exceptions=True)
        for result in results:
            if isinstance(result, BaseException):
                raise result

    async def _run(self, key: tuple[str, str], lane: Lane) -> None:
        sender = self.senders[key[0]]
        try:
            while lane.parcels:
                parcel = lane.parcels[0]
                ids = [i.outbox_id for i in parcel.items if i.outbox_id is not None]
                try:
                    await sender.deliver(parcel.items, edit_message=parcel.edit_message)
                except asyncio.CancelledError:
                    raise
                except Exception as exc:
                    logger.warning("%s message(s) not sent (%s)", key[0], type(exc).__name__)
                    if ids and self.journal is not None:
                        self.journal.failed(ids, type(exc).__name__)
                    if parcel.done is not None and not parcel.done.done():
                        parcel.done.set_exception(exc)
                else:
                    if ids and self.journal is not None:
                        self.journal.sent(ids)
                    if parcel.done is not None and not parcel.done.done():
                        parcel.done.set_result(None)
                lane.parcels.popleft()
        finally:
            for parcel in lane.parcels:  # cancelled: whoever waits is told
                if parcel.done is not None and not parcel.done.done():
                    parcel.done.cancel()
            del self._lanes[key]
            if not self._lanes:
                self._idle.set()

    async def drain(self, timeout: float | None = None) -> None:  # noqa: ASYNC109
        """Wait until every lane is empty and the journal has written what they sent."""
        async with asyncio.timeout(timeout):
            await self._idle.wait()
            if self.journal is not None:
                await self.journal.flush()

    async def aclose(self, timeout: float = 5.0) -> None:  # noqa: ASYNC109
        """Let the lanes finish what they are sending (at most ``timeout`` seconds); what is
        left goes back to the outbox, for the next start."""
        try:
            await self.drain(timeout)
        except TimeoutError:
            logger.warning("%d chat(s) still had messages at shutdown; left in the outbox",
                           len(self._lanes))
            tasks = [lane.task for lane in self._lanes.values() if lane.task is not None]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        if self.journal is not None:
            await self.journal.aclose()
