"""The dispatcher: turns campaigns into deliveries and drains them under the platforms' limits.

Durable by construction: a delivery is claimed in the database before it is sent and its
outcome written right after, so a crash loses nothing and repeats at most the messages that
were on the wire; a dispatcher that stops beating has its claims taken over by the others.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
import logging
import os
import random
import secrets
import socket
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol, TypeVar

from sqlmodel.ext.asyncio.session import AsyncSession

from broadcasts.audience import Audience
from broadcasts.campaigns import CampaignService, channel_enabled, tracked_url
from broadcasts.config import BroadcastConfig
from broadcasts.groups import GroupCatalog
from broadcasts.limiter import GUARD, Limiter, SenderLimiter
from broadcasts.links import join_code
from broadcasts.polls import PollCard, PollService, card_for_campaign
from broadcasts.reach import campaign_reach
from broadcasts.sending import BulkMessage, BulkSender, Outcome, SendResult
from storage import repo_broadcasts as repo
from storage.city import City
from storage.db import Database
from storage.media import MediaStore
from storage.models.broadcast import CampaignStatus, DeliveryStatus
from storage.types import utcnow

logger = logging.getLogger(__name__)

T = TypeVar("T")

# Notify(channel, address, locale, text): a message to a staff member (the reach summary).
Notify = Callable[[str, str, str, str], Awaitable[None]]


class CampaignWords(Protocol):
    """The words around an announcement and the staff's reach summary, in a recipient's
    language (the bot layer's bot.broadcast_texts.CampaignWords)."""

    def open_link(self, locale: str) -> str: ...
    def join_invitation(self, locale: str, link: str) -> str: ...
    def relay_kit(self, locale: str) -> str: ...
    def forwarded_button(self, locale: str) -> str: ...
    def summary(self, locale: str, reach: dict[str, Any]) -> str: ...
    # A poll's question with its options as (option id, label), the same as plain text with
    # the options numbered (for a WhatsApp template), and its results sent back at the close.
    def poll_message(self, locale: str, card: PollCard) -> tuple[str, list[tuple[str, str]]]: ...
    def poll_plain(self, locale: str, card: PollCard) -> str: ...
    def poll_results(self, locale: str, results: dict[str, Any]) -> str: ...

EXPAND_BATCH = 5_000
FLUSH_EVERY = 0.05
FLUSH_SIZE = 200
WINDOW = timedelta(hours=24)


@dataclass
class _Content:
    """What every delivery of one campaign shares."""

    id: int
    status: str
    title: str
    texts: dict[str, str]
    image_path: str | None
    link_url: str | None
    link_label: str | None
    salt: str
    template_sid: str | None
    # A poll's question campaign carries its card; its results campaign, the results.
    poll: PollCard | None = None
    results: dict[str, Any] | None = None
    # The poll's message per (locale, as a template), worded once for every recipient.
    worded: dict[tuple[str, bool], tuple[str, list[tuple[str, str]]]] = field(
        default_factory=dict)

    def text(self, locale: str) -> str:
        return self.texts.get(locale) or self.texts.get("id") or next(iter(self.texts.values()))


@dataclass
class _Job:
    delivery: repo.ClaimedDelivery
    parts: list[BulkMessage] = field(default_factory=list)
    part: int = 0
    tries: int = 0  # sends refused (5xx, timeout) in this dispatcher
    provider_id: str | None = None
    slot: float = 0.0  # when the part on the wire took its slot of the limit


class _Writer:
    """Outcomes go to the database in small batches: one transaction per ~50 ms."""

    def __init__(self, dispatcher: Dispatcher) -> None:
        self.dispatcher = dispatcher
        self.outcomes: list[dict[str, Any]] = []
        self.released: list[int] = []
        self.stops: dict[str, list[int]] = {}
        self.event = asyncio.Event()

    def add(self, outcome: dict[str, Any], *, stop: str | None = None,
            subscriber_id: int | None = None) -> None:
        self.outcomes.append(outcome)
        if stop and subscriber_id is not None:
            self.stops.setdefault(stop, []).append(subscriber_id)
        if len(self.outcomes) >= FLUSH_SIZE:
            self.event.set()

    def release(self, delivery_id: int) -> None:
        self.released.append(delivery_id)
        self.event.set()

    async def run(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.event.wait(), FLUSH_EVERY)
            self.event.clear()
            await self.flush()

    async def flush(self) -> None:
        if not (self.outcomes or self.released or self.stops):
            return
        outcomes, released, stops = self.outcomes, self.released, self.stops
        self.outcomes, self.released, self.stops = [], [], {}
        d = self.dispatcher

        async def work(session: AsyncSession) -> None:
            await repo.record_outcomes(session=session, dispatcher_id=d.id, outcomes=outcomes)
            await repo.release_deliveries(session=session, dispatcher_id=d.id, ids=released)
            for reason, ids in stops.items():
                await repo.stop_subscribers(session=session, ids=ids, reason=reason,
                                            now=d.now())

        try:
            await d.tx(work)
        except Exception:
            logger.exception("could not record %d delivery outcomes; retrying", len(outcomes))
            self.outcomes[:0] = outcomes
            self.released[:0] = released
            for reason, ids in stops.items():
                self.stops.setdefault(reason, []).extend(ids)
            await asyncio.sleep(0.5)


class _Pump:
    """Drains one channel: claims deliveries, takes slots from the limiter, sends, records."""

    def __init__(self, dispatcher: Dispatcher, sender: BulkSender,
                 limiter: SenderLimiter) -> None:
        self.d = dispatcher
        self.sender = sender
        self.limiter = limiter
        self.channel = sender.channel
        self.ready: deque[_Job] = deque()
        self.later: list[tuple[float, int, _Job]] = []
        self.held = 0  # claimed and not finished
        self.seq = itertools.count()
        self.tasks: set[asyncio.Task[None]] = set()
        self.sem = asyncio.Semaphore(dispatcher.concurrency)
        self.wake = asyncio.Event()
        self.claim_cursor = 0

    @property
    def batch(self) -> int:
        return max(20, min(1000, int(self.limiter.rate * 1.0)))

    async def run(self) -> None:
        # A dispatcher starting (or taking over from one that died) cannot know what was sent
        # in the last second: it lets one window pass before its first broadcast message.
        self.limiter.paused_until = max(self.limiter.paused_until,
                                        self.limiter.clock() + 1.0 + GUARD)
        refill = asyncio.create_task(self._refill_loop(), name=f"refill-{self.channel}")
        try:
            await self._send_loop()
        finally:
            refill.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await refill

    async def _refill_loop(self) -> None:
        while True:
            if self.held < self.batch:
                got = await self._claim()
                if got:
                    self.wake.set()
                    continue
                await asyncio.sleep(self.d.idle_poll)
            else:
                await asyncio.sleep(0.05)

    async def _claim(self) -> int:
        campaigns = [c for c in self.d.sending_ids()]
        if not campaigns:
            return 0
        # Round robin over running campaigns, so a small one is not stuck behind a big one.
        start = self.claim_cursor % len(campaigns)
        self.claim_cursor += 1
        order = campaigns[start:] + campaigns[:start]
        want = self.batch - self.held
        total = 0
        for campaign_id in order:
            if want <= 0:
                break
            async def work(session: AsyncSession, campaign_id: int = campaign_id,
                           want: int = want) -> tuple[list[repo.ClaimedDelivery],
                                                      dict[str, datetime | None]]:
                rows = await repo.claim_deliveries(
                    session=session, campaign_id=campaign_id, channel=self.channel,
                    dispatcher_id=self.d.id, now=self.d.now(), limit=want)
                missing = {r.relay_id for r in rows
                           if r.relay_id is not None and r.relay_id not in self.d.relay_codes}
                if missing:
                    self.d.relay_codes.update(await repo.relay_codes(
                        session=session, relay_ids=sorted(missing)))
                inbound: dict[str, datetime | None] = {}
                if rows and self.sender.needs_template_window:
                    inbound = await repo.last_inbound(
                        session=session, channel=self.channel,
                        addresses=[r.address for r in rows if not r.is_group])
                return rows, inbound

            try:
                rows, inbound = await self.d.tx(work)
            except Exception:
                logger.exception("claiming deliveries failed")
                await asyncio.sleep(0.5)
                return total
            if not rows:
                continue
            want -= len(rows)
            total += len(rows)
            for row in rows:
                self.held += 1
                self._admit(row, inbound.get(row.address))
        return total

    def _admit(self, row: repo.ClaimedDelivery, last_inbound: datetime | None) -> None:
        content = self.d.content.get(row.campaign_id)
        if content is None:
            self._release(_Job(row))
            return
        job = _Job(row)
        outside = self.sender.needs_template_window and not row.is_group and (
            last_inbound is None or last_inbound < self.d.now() - WINDOW)
        if outside and not content.template_sid:
            self._finish(job, DeliveryStatus.SKIPPED, "no_template")
            return
        if content.poll is not None and row.is_group:
            # A poll asks people, one answer each: a group chat is not asked.
            self._finish(job, DeliveryStatus.SKIPPED, "group_chat")
            return
        job.parts = self.d.compose(content, row, self.sender, template=outside)
        self.ready.append(job)

    # -- sending ------------------------------------------------------------------------------

    def _next(self) -> _Job | None:
        now = self.limiter.clock()
        if self.later and self.later[0][0] <= now:
            return heapq.heappop(self.later)[2]
        if self.ready:
            return self.ready.popleft()
        return None

    def _defer(self, job: _Job, delay: float) -> None:
        heapq.heappush(self.later, (self.limiter.clock() + delay, next(self.seq), job))

    async def _send_loop(self) -> None:
        while True:
            job = self._next()
            if job is None:
                self.wake.clear()
                timeout = self.d.idle_poll
                if self.later:
                    timeout = max(0.0, min(timeout, self.later[0][0] - self.limiter.clock()))
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.wake.wait(), timeout)
                continue
            content = self.d.content.get(job.delivery.campaign_id)
            # A paused or cancelled campaign's messages go back, except the rest of a relay's
            # kit already half-sent.
            if (content is None or content.status != CampaignStatus.SENDING) and job.part == 0:
                self._release(job)
                continue
            message = job.parts[job.part]
            wait = self.limiter.chat_wait(message.address, message.is_group)
            if wait > 0:
                self._defer(job, wait)
                continue
            try:
                job.slot = await self.limiter.bulk_slot()
                if self.limiter.chat_wait(message.address, message.is_group) > 0:
                    self._defer(job, 0.0)  # a reply took this chat meanwhile
                    continue
                await self.sem.acquire()
            except asyncio.CancelledError:
                self.ready.appendleft(job)  # not on the wire: shutdown gives it back
                raise
            self.limiter.note_chat(message.address, message.is_group)
            task = asyncio.create_task(self._send(job, message))
            self.tasks.add(task)
            task.add_done_callback(self.tasks.discard)

    async def _send(self, job: _Job, message: BulkMessage) -> None:
        try:
            try:
                result = await self.sender.send(message)
            except Exception as exc:  # a sender bug must not stop the campaign
                logger.exception("bulk send raised")
                result = SendResult(Outcome.RETRY, reason=type(exc).__name__[:32])
        finally:
            self.sem.release()
        self._handle(job, result)

    def _handle(self, job: _Job, result: SendResult) -> None:
        outcome = result.outcome
        if outcome is Outcome.OK:
            if job.part == 0:
                job.provider_id = result.provider_id
            job.part += 1
            if job.part < len(job.parts):
                self.ready.appendleft(job)
                self.wake.set()
                return
            status = DeliveryStatus.SENT if self.sender.has_receipts else DeliveryStatus.DELIVERED
            self._finish(job, status, None, provider_id=job.provider_id)
        elif outcome is Outcome.RETRY_AFTER:
            # Flood control: nothing is lost, the message waits with the whole bulk lane.
            self.limiter.penalize(result.retry_after)
            self.d.stats["retry_after"] += 1
            self._defer(job, result.retry_after)
            self.wake.set()
        elif outcome is Outcome.RETRY:
            if result.reason == "server_error":
                # Refused, not sent: the slot goes to the next message, and this one is tried
                # again later without holding anyone back.
                self.limiter.refund(job.slot)
            job.tries += 1
            self.d.stats["retries"] += 1
            used = job.delivery.attempts + job.tries
            if used >= self.d.settings.broadcast_max_attempts:
                self._finish(job, DeliveryStatus.FAILED, result.reason or "server_error")
                return
            delay = min(30.0, self.d.backoff * 2 ** (job.tries - 1)) \
                * (0.75 + random.random() / 2)
            self._defer(job, delay)
            self.wake.set()
        elif outcome is Outcome.BLOCKED:
            self._finish(job, DeliveryStatus.FAILED, "blocked", stop="blocked")
        elif outcome is Outcome.OPTED_OUT:
            self._finish(job, DeliveryStatus.FAILED, "opted_out", stop="opted_out")
        else:
            self._finish(job, DeliveryStatus.FAILED, result.reason or "bad_request")

    def _finish(self, job: _Job, status: str, reason: str | None, *,
                provider_id: str | None = None, stop: str | None = None) -> None:
        self.held -= 1
        now = self.d.now()
        self.d.writer.add(
            {"id": job.delivery.id, "status": status, "reason": reason,
             "sent_at": now if status in (DeliveryStatus.SENT, DeliveryStatus.DELIVERED) else None,
             "provider_id": provider_id, "next_attempt_at": now, "failed": job.tries},
            stop=stop, subscriber_id=job.delivery.subscriber_id)

    def _release(self, job: _Job) -> None:
        self.held -= 1
        self.d.writer.release(job.delivery.id)

    def release_all(self) -> None:
        """Give back everything claimed but not on the wire (shutdown)."""
        jobs = list(self.ready) + [j for _t, _s, j in self.later]
        self.ready.clear()
        self.later.clear()
        for job in jobs:
            if job.part == 0:
                self._release(job)


class Dispatcher:
    """One dispatcher process' worth of broadcasting: housekeeping plus a pump per channel."""

    def __init__(self, *, db: Database, settings: BroadcastConfig, city: City, catalog: GroupCatalog,
                 limiter: Limiter, senders: dict[str, BulkSender], words: CampaignWords,
                 now: Callable[[], datetime] = utcnow, notify: Notify | None = None,
                 dispatcher_id: str | None = None, concurrency: int = 64,
                 idle_poll: float = 0.5, backoff: float = 1.0) -> None:
        self.db = db
        self.settings = settings
        self.city = city
        self.catalog = catalog
        self.limiter = limiter
        self.senders = senders
        self.now = now
        self.notify = notify
        self.words = words
        self.host = socket.gethostname()
        self.id = dispatcher_id or f"{self.host[:20]}-{os.getpid()}-{secrets.token_hex(3)}"
        self.concurrency = concurrency
        self.idle_poll = idle_poll
        self.backoff = backoff  # seconds before the first retry; doubles each time
        self.media = MediaStore(settings.media_dir, max_bytes=settings.max_photo_bytes)
        self.content: dict[int, _Content] = {}
        self.writer = _Writer(self)
        self.pumps: dict[str, _Pump] = {}
        self.stats: dict[str, int] = {"retry_after": 0, "retries": 0}
        self._expanding: set[int] = set()
        self._transactions: set[asyncio.Future[Any]] = set()
        self._join_links: dict[tuple[str, int, int | None], str | None] = {}
        self.relay_codes: dict[int, str] = {}

    async def tx(self, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
        """Run `work` in one transaction that a cancellation (shutdown) cannot cut in half:
        SQLite would otherwise keep the write lock of an interrupted transaction."""

        async def run() -> T:
            async with self.db.session() as session:
                return await work(session)

        task = asyncio.ensure_future(run())
        self._transactions.add(task)
        task.add_done_callback(self._transactions.discard)
        return await asyncio.shield(task)

    def sending_ids(self) -> list[int]:
        return [c.id for c in self.content.values() if c.status == CampaignStatus.SENDING]

    # -- the loop -----------------------------------------------------------------------------

    async def run(self) -> None:
        """Run until cancelled."""
        tasks: list[asyncio.Task[Any]] = []
        try:
            # Inside the try: a sender started before a cancellation is stopped again.
            for sender in self.senders.values():
                await sender.start()
            tasks.append(asyncio.create_task(self.writer.run(), name="dispatch-writer"))
            for channel, sender in self.senders.items():
                limiter = (self.limiter.get(channel)
                           or self.limiter.configure(channel, sender.limits))
                self.pumps[channel] = _Pump(self, sender, limiter)
            await self.housekeeping()
            tasks += [asyncio.create_task(p.run(), name=f"pump-{c}")
                      for c, p in self.pumps.items()]
            while True:
                await asyncio.sleep(self.idle_poll)
                await self.housekeeping()
        finally:
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            await self._shutdown()

    async def _shutdown(self) -> None:
        try:
            for pump in self.pumps.values():
                pump.release_all()
                if pump.tasks:
                    await asyncio.wait(list(pump.tasks), timeout=5)
            if self._transactions:
                await asyncio.gather(*self._transactions, return_exceptions=True)
            try:
                await self.writer.flush()

                async def forget(session: AsyncSession) -> None:
                    await repo.forget_dispatcher(session=session, dispatcher_id=self.id)

                await self.tx(forget)
            except Exception:
                logger.exception("dispatcher shutdown could not record everything")
        finally:
            # Whatever happened above (even a second cancellation), the senders' clients close.
            for sender in self.senders.values():
                try:
                    await sender.stop()
                except Exception:
                    logger.exception("stopping the %s bulk sender failed", sender.channel)

    async def housekeeping(self) -> None:
        """Heartbeat, take over dead dispatchers' claims, start due campaigns, create deliveries,
        finish campaigns."""
        try:
            await self._housekeeping()
        except Exception:
            logger.exception("broadcast housekeeping failed")

    async def _housekeeping(self) -> None:
        now = self.now()
        lease = timedelta(seconds=self.settings.broadcast_lease_seconds)

        async def work(session: AsyncSession) -> None:
            await repo.heartbeat(session=session, dispatcher_id=self.id, now=now,
                                 host=self.host, pid=os.getpid(), presence=self.db.presence)
            await self._close_polls(session)
            seen = await repo.dispatcher_liveness(session=session, lease=lease, now=now)
            # Dispatchers sharing one account share its limit.
            for pump in self.pumps.values():
                pump.limiter.share = 1.0 / max(1, len(seen.live))
            service = self._service(session)
            for campaign_id in await service.begin_due():
                logger.info("campaign %d starts sending", campaign_id)
            running = await repo.campaigns_in(session=session,
                                              statuses=(CampaignStatus.SENDING, CampaignStatus.PAUSED,
                                                        CampaignStatus.CANCELLED))
            for campaign in running:
                assert campaign.id is not None
                if campaign.status == CampaignStatus.CANCELLED:
                    self.content.pop(campaign.id, None)
                    continue
                await repo.reclaim_stale(session=session, campaign_id=campaign.id,
                                         channels=("telegram", "whatsapp"), lease=lease,
                                         now=now, dead=seen.dead)
                if campaign.id not in self.content:
                    texts = await repo.get_campaign_texts(session=session,
                                                          campaign_id=campaign.id)
                    poll, results = await card_for_campaign(session=session,
                                                            campaign_id=campaign.id)
                    self.content[campaign.id] = _Content(
                        id=campaign.id, status=campaign.status, title=campaign.title,
                        texts=texts, image_path=campaign.image_path,
                        link_url=campaign.link_url, link_label=campaign.link_label,
                        salt=campaign.link_salt, template_sid=campaign.whatsapp_template_sid,
                        poll=poll, results=results)
                self.content[campaign.id].status = campaign.status
                if campaign.status == CampaignStatus.SENDING and not campaign.expanded:
                    self._expanding.add(campaign.id)
            live_ids = {c.id for c in running if c.status != CampaignStatus.CANCELLED}
            if live_ids:
                await repo.forget_stale_dispatchers(session=session, now=now)
            for gone in set(self.content) - live_ids:
                self.content.pop(gone, None)

        await self.tx(work)
        for campaign_id in sorted(self._expanding):
            await self._expand(campaign_id)
        await self._skip_switched_off()
        await self._finish_done()

    def _service(self, session: Any) -> CampaignService:
        return CampaignService(session=session, city=self.city, catalog=self.catalog,
                               settings=self.settings, now=self.now)

    async def _close_polls(self, session: AsyncSession) -> None:
        """Polls whose closing time has come are closed (their results campaign, if any, is
        then sent like any other); a failure here is rolled back alone and holds no campaign
        back."""
        try:
            async with session.begin_nested():
                closed = await PollService(session=session, city=self.city,
                                           catalog=self.catalog, settings=self.settings,
                                           now=self.now).close_due()
        except Exception:
            logger.exception("closing due polls failed")
            return
        for poll_id in closed:
            logger.info("poll %d closed at its closing time", poll_id)

    async def _expand(self, campaign_id: int) -> None:
        """Create the campaign's deliveries, a batch of subscribers per transaction."""
        async def work(session: AsyncSession) -> tuple[int, bool]:
            campaign = await repo.get_campaign(session=session, campaign_id=campaign_id)
            if campaign is None or campaign.status != CampaignStatus.SENDING or campaign.expanded:
                return 0, True
            query = self._service(session).audience_query(Audience.model_validate(campaign.audience))
            return await repo.expand_campaign(session=session, campaign_id=campaign_id,
                                              audience=query, now=self.now(),
                                              batch=EXPAND_BATCH)

        while True:
            added, done = await self.tx(work)
            if added:
                for pump in self.pumps.values():
                    pump.wake.set()
            if done:
                self._expanding.discard(campaign_id)
                return
            await asyncio.sleep(0)

    async def _skip_switched_off(self) -> None:
        """Deliveries on a channel this installation does not run cannot ever go out."""
        off = [c for c in ("telegram", "whatsapp")
               if not channel_enabled(self.settings, c) and c not in self.senders]
        if not off:
            return
        async def work(session: AsyncSession) -> None:
            for campaign_id in self.sending_ids():
                for channel in off:
                    await repo.skip_queued(session=session, campaign_id=campaign_id,
                                           reason="channel_off", channel=channel)

        await self.tx(work)

    async def _finish_done(self) -> None:
        def finish(campaign_id: int) -> Callable[[AsyncSession], Awaitable[bool]]:
            return lambda session: work(session, campaign_id)

        async def work(session: AsyncSession, campaign_id: int) -> bool:
            campaign = await repo.get_campaign(session=session, campaign_id=campaign_id)
            if campaign is None or not campaign.expanded:
                return False
            if await repo.open_deliveries(session=session, campaign_id=campaign_id):
                return False
            return await repo.move_campaign(session=session, campaign_id=campaign_id,
                                            from_status=(CampaignStatus.SENDING,), to_status=CampaignStatus.COMPLETED,
                                            finished_at=self.now())

        for campaign_id in self.sending_ids():
            if campaign_id in self._expanding:
                continue
            finished = await self.tx(finish(campaign_id))
            if finished:
                self.content.pop(campaign_id, None)
                logger.info("campaign %d completed", campaign_id)
                await self._send_summary(campaign_id)

    async def _send_summary(self, campaign_id: int) -> None:
        async def work(session: AsyncSession) -> tuple[str, str, str, str] | None:
            campaign = await repo.get_campaign(session=session, campaign_id=campaign_id)
            if campaign is None or not await repo.mark_summary_sent(session=session,
                                                                    campaign_id=campaign_id):
                return None
            # Marked sent either way; the figures are only worked out for someone to tell.
            if self.notify is None or not campaign.notify_channel \
                    or not campaign.notify_address:
                return None
            locale = campaign.notify_locale or "id"
            reach = await campaign_reach(session=session, city=self.city, campaign=campaign)
            text = self.words.summary(locale, reach)
            return campaign.notify_channel, campaign.notify_address, locale, text

        found = await self.tx(work)
        if found is None or self.notify is None:
            return
        channel, address, locale, text = found
        try:
            await self.notify(channel, address, locale, text)
        except Exception:
            logger.exception("could not send the reach summary of campaign %d", campaign_id)

    # -- composing messages ------------------------------------------------------------------

    def compose(self, content: _Content, row: repo.ClaimedDelivery, sender: BulkSender, *,
                template: bool) -> list[BulkMessage]:
        """The messages one delivery consists of: the announcement, then a relay's kit (or a
        poll's question, or its results)."""
        if content.poll is not None or content.results is not None:
            return self._compose_poll(content, row, template=template)
        words, locale = self.words, row.locale
        text = content.text(locale)
        link = None
        if content.link_url:
            url = tracked_url(self.settings.public_url, content.salt, row.id,
                              content.link_url)
            link = (content.link_label or words.open_link(locale), url)
        if template:
            return [BulkMessage(address=row.address, text=text, is_group=row.is_group,
                                template_sid=content.template_sid,
                                template_vars={"1": text[:1000], "2": content.title},
                                delivery_id=row.id, locale=row.locale)]
        join = self._join_link(sender, row) if row.relay_id else None
        if join:
            text = text + "\n\n" + words.join_invitation(locale, join)
        image = self.media.absolute(content.image_path) if content.image_path else None
        parts: list[BulkMessage] = []
        if image is not None and len(text) > sender.caption_limit:
            parts.append(BulkMessage(address=row.address, text="", is_group=row.is_group,
                                     image_path=str(image), delivery_id=row.id,
                                     locale=row.locale))
            image = None
        parts.append(BulkMessage(address=row.address, text=text, is_group=row.is_group,
                                 image_path=str(image) if image else None, link=link,
                                 delivery_id=row.id, locale=row.locale))
        if row.relay_id:
            kit = words.relay_kit(locale)
            parts.append(BulkMessage(address=row.address, text=kit, is_group=row.is_group,
                                     button=(f"fw:{row.id}", words.forwarded_button(locale)),
                                     delivery_id=row.id, locale=row.locale))
        return parts

    def _compose_poll(self, content: _Content, row: repo.ClaimedDelivery, *,
                      template: bool) -> list[BulkMessage]:
        """A poll's question with its options (a numbered list in a template's text), or its
        results; worded once per language."""
        key = (row.locale, template)
        worded = content.worded.get(key)
        if worded is None:
            if content.results is not None:
                worded = self.words.poll_results(row.locale, content.results), []
            elif template:
                assert content.poll is not None
                worded = self.words.poll_plain(row.locale, content.poll), []
            else:
                assert content.poll is not None
                worded = self.words.poll_message(row.locale, content.poll)
            content.worded[key] = worded
        text, options = worded
        if template:
            return [BulkMessage(address=row.address, text=text, is_group=row.is_group,
                                template_sid=content.template_sid,
                                template_vars={"1": text[:1000], "2": content.title},
                                delivery_id=row.id, locale=row.locale)]
        return [BulkMessage(address=row.address, text=text, is_group=row.is_group,
                            options=list(options), delivery_id=row.id, locale=row.locale)]

    def _join_link(self, sender: BulkSender, row: repo.ClaimedDelivery) -> str | None:
        assert row.relay_id is not None
        key = (sender.channel, row.relay_id, row.campaign_id)
        if key not in self._join_links:
            code = self.relay_codes.get(row.relay_id)
            self._join_links[key] = sender.join_link(join_code(code, row.campaign_id)) \
                if code else None
        return self._join_links[key]
