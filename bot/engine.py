"""The engine: dedupe an event, serialise per user, run the flow, save state, return replies."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.flood import FloodGate
from bot.flows.base import Ctx, Flow, Person
from bot.flows.router import Router
from bot.flows.state import Navigation
from bot.i18n import DEFAULT_LOCALE, _, normalize_locale, use_locale
from bot.locks import KeyedLocks
from bot.messages import Inbound, Reply, reply_payload
from bot.photos import PhotoFetcher
from bot.services import FetchFirst, Services
from bot.settings import Settings
from broadcasts.groups import GroupCatalog
from reports.service import ReportService
from storage import repo, repo_agencies
from storage.city import City
from storage.db import Database
from storage.media import MediaStore
from storage.types import utcnow

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 4
MAX_HOPS = 6


@dataclass(slots=True)
class Outgoing:
    """A reply bound for one recipient on one channel."""

    channel: str
    to: str
    reply: Reply
    locale: str
    # The durable outbox's row, when the message was written down before it was sent.
    outbox_id: int | None = None
    # An answer to the recipient's own message (WhatsApp: inside the window, no template).
    direct: bool = False


Understand = Callable[[Ctx], Awaitable[None]]


def apology(inbound: Inbound) -> Outgoing:
    """What the sender is told when their message could not be handled (nothing of it was
    kept, so sending it again is safe)."""
    with use_locale(inbound.locale_hint) as locale:
        text = _("Sorry, something went wrong on our side. Please try again in a moment.")
    return Outgoing(inbound.channel, inbound.chat_key or inbound.user_key, Reply(text), locale,
                    direct=True)


# How long an event waits for a resident's photo before it goes on without it (the photo is
# then attached in the background when it arrives).
PHOTO_WAIT = 2.0
# How long the engine trusts what it read about a group member being staff.
STAFF_LOOKUP_TTL = 60.0


class Engine:
    def __init__(
        self,
        *,
        db: Database,
        settings: Settings,
        city: City,
        catalog: GroupCatalog,
        media: MediaStore,
        flows: dict[str, Flow],
        understand: Understand,
        clock: Callable[[], datetime] = utcnow,
        durable: frozenset[str] = frozenset(),
        photos: PhotoFetcher,
        photo_wait: float = PHOTO_WAIT,
    ) -> None:
        """``durable``: the channels whose replies are written to the outbox in the event's
        transaction and sent after it commits (the terminal prints at once)."""
        self.db = db
        self.settings = settings
        self.city = city
        self.catalog = catalog
        self.media = media
        # The flows' commands, buttons and codes, collected once from the composition's list.
        self.router = Router(flows.values())
        self.flows = self.router.flows
        self.understand = understand
        self.clock = clock
        self.locks = KeyedLocks()
        self.flood = FloodGate(settings.message_limit_per_minute)
        self.durable = durable
        self.photos = photos
        self.photo_wait = photo_wait
        self._staff: dict[tuple[str, str], tuple[bool, float]] = {}

    async def process(self, inbound: Inbound) -> list[Outgoing]:
        """Handle one inbound event; a redelivered event id yields no effect and no reply."""
        key = f"{inbound.channel}:{inbound.user_key}"
        if not inbound.is_group and not self.flood.admit(key, self.clock()) \
                and not await self._lifted(inbound):
            return self._flooded(inbound, key)
        if inbound.is_group and self.router.quiet_in_group(inbound) \
                and not await self._staff_in_group(inbound):
            return self._quiet_group(inbound)
        lock = await self.locks.acquire(key)
        try:
            attempt = 1
            while True:
                for media in inbound.media:
                    media.fetch_id = None
                try:
                    outgoing = await self._process_once(inbound)
                except FetchFirst:
                    await self._fetch_first(inbound)  # not a failed attempt: run it again
                    continue
                except (repo.VersionConflict, IntegrityError):
                    if attempt == MAX_ATTEMPTS:
                        raise
                    logger.info("conversation changed concurrently; retrying (%d)", attempt)
                    await asyncio.sleep(0.01 * attempt)
                    attempt += 1
                    continue
                except DBAPIError as exc:
                    # The database dropped the connection (PostgreSQL restarted, say): the
                    # transaction is gone, the pool is refreshed; do it again on a new one.
                    if not exc.connection_invalidated or attempt == MAX_ATTEMPTS:
                        raise
                    logger.warning("database connection lost; retrying (%d)", attempt)
                    attempt += 1
                    continue
                # Committed: the photos the event went on without are the fetcher's now.
                for media in inbound.media:
                    if media.fetch_id is not None:
                        self.photos.adopt(media.fetch_id, media)
                return outgoing
        finally:
            self.locks.release(key, lock)
            if inbound.is_group:
                # A button or command in a group: the sender is looked up afresh next time.
                self._staff.pop((inbound.channel, inbound.user_key), None)

    async def _fetch_first(self, inbound: Inbound) -> None:
        """The event was rolled back for its files: fetch them with no transaction open. A
        moment's wait usually brings them in; after that, the event goes on without them where
        its flow can (`Services.photo_or_later`), and waits for the rest otherwise."""
        waiting = [m for m in inbound.media if m.ready is None]
        if not waiting:
            raise RuntimeError("FetchFirst with every file at hand")
        downloads = [self.photos.begin(m) for m in waiting]
        if any(m.late for m in waiting):
            await asyncio.wait(downloads)  # the flow cannot go on without them
            return
        await asyncio.wait(downloads, timeout=self.photo_wait)
        for media in waiting:
            media.late = media.ready is None

    async def _staff_in_group(self, inbound: Inbound) -> bool:
        """Whether the sender is staff (whose plain message in a group may answer the bot's
        question there); read once a minute per person, not in a transaction."""
        key = (inbound.channel, inbound.user_key)
        now = time.monotonic()
        known = self._staff.get(key)
        if known is not None and known[1] > now:
            return known[0]
        async with self.db.reader() as session:
            member = await repo_agencies.get_staff(session=session, channel=key[0],
                                                   user_key=key[1])
        if len(self._staff) > 10_000:
            self._staff = {k: v for k, v in self._staff.items() if v[1] > now}
        self._staff[key] = (member is not None and member.active, now + STAFF_LOOKUP_TTL)
        return self._staff[key][0]

    def _quiet_group(self, inbound: Inbound) -> list[Outgoing]:
        """A group message that changes nothing (a flood of /start in a group, chatter where
        the bot is a member): no transaction, no record; at most the hourly pointer to a
        private chat, which need not survive a crash."""
        locale = normalize_locale(inbound.locale_hint) or DEFAULT_LOCALE
        with use_locale(locale):
            hint = self.router.group_hint(inbound, self.clock())
        if hint is None:
            return []
        return [Outgoing(channel=inbound.channel, to=inbound.chat_key or inbound.user_key,
                         reply=hint, locale=locale, direct=True)]

    async def _lifted(self, inbound: Inbound) -> bool:
        """Whether staff lifted this account's limits (read only when it is over one)."""
        async with self.db.reader() as session:
            who = await repo.get_identity(session=session, channel=inbound.channel,
                                          user_key=inbound.user_key)
            return who is not None and who.id is not None and await repo.limits_lifted(
                session=session, identity_id=who.id, now=self.clock())

    def _flooded(self, inbound: Inbound, key: str) -> list[Outgoing]:
        """Over the per-minute limit: the message is not handled (nothing is recorded, so a
        redelivery later is), and the account is told once per minute."""
        logger.warning("%s account over %d messages a minute; messages dropped",
                       inbound.channel, self.flood.per_minute)
        if not self.flood.tell_once(key, self.clock()):
            return []
        locale = normalize_locale(inbound.locale_hint) or DEFAULT_LOCALE
        with use_locale(locale):
            text = _("You sent many messages in a short time, so we paused for a moment. "
                     "Please wait a minute, then continue.")
        return [Outgoing(channel=inbound.channel, to=inbound.user_key, reply=Reply(text=text),
                         locale=locale)]

    async def _process_once(self, inbound: Inbound) -> list[Outgoing]:
        now = self.clock()
        async with self.db.session() as session:
            fresh = await repo.record_inbound_event(
                session=session, channel=inbound.channel, event_id=inbound.event_id
            )
            if not fresh:
                logger.info("duplicate %s event ignored", inbound.channel)
                return []
            who = await repo.load_arrival(session=session, channel=inbound.channel,
                                          user_key=inbound.user_key)
            changed: dict[str, object] = {}
            locale = who.locale
            hint = normalize_locale(inbound.locale_hint)
            if hint and locale != hint and (inbound.locale_explicit or not who.locale_chosen):
                locale = changed["locale"] = hint
            if who.last_inbound_at is None or \
                    now - who.last_inbound_at >= repo.INBOUND_TOUCH_INTERVAL:
                changed["last_inbound_at"] = now
            display_name = who.display_name
            if inbound.display_name and not inbound.is_group \
                    and inbound.display_name[:128] != display_name:
                display_name = changed["display_name"] = inbound.display_name[:128]
            # Written before the flows run, so that what they read of this person is current.
            await repo.update_identity(session=session, identity_id=who.identity_id,
                                       values=changed)
            version = who.version
            person = Person(
                id=who.identity_id,
                channel=inbound.channel,
                user_key=inbound.user_key,
                locale=locale or DEFAULT_LOCALE,
                display_name=display_name,
                phone=who.phone,
            )
            services = Services(
                settings=self.settings,
                city=self.city,
                catalog=self.catalog,
                media=self.media,
                session=session,
                reports=ReportService(session=session, city=self.city, now=self.clock),
                flows=self.flows,
                now=self.clock,
                understand=self.understand,
                presence=self.db.presence,
            )
            ctx = Ctx(
                inbound=inbound,
                person=person,
                flow=who.flow,
                state=who.state,
                nav=Navigation.take(who.data),
                data=who.data,
                services=services,
            )
            with use_locale(person.locale):
                await self.router.route(ctx)
                await self._ask_next(ctx)
            ctx.remember_options()
            ctx.flush()
            if ctx.locale_changed:
                await repo.update_identity(
                    session=session, identity_id=who.identity_id,
                    values={"locale": ctx.locale_changed, "locale_chosen": True})
            await repo.save_conversation(
                session=session,
                conversation_id=who.conversation_id,
                expected_version=version,
                flow=ctx.flow,
                state=ctx.state,
                data=ctx.data,
            )
            target = inbound.chat_key or inbound.user_key
            outgoing = [
                Outgoing(channel=r.channel or inbound.channel, to=r.to or target, reply=r,
                         locale=ctx.reply_locales.get(id(r), person.locale),
                         direct=r.to is None and (r.channel or inbound.channel) == inbound.channel)
                for r in ctx.replies
            ]
            await self._write_down(session, outgoing, now)
        return outgoing

    async def _write_down(self, session: AsyncSession, outgoing: list[Outgoing],
                          now: datetime) -> None:
        """The transactional outbox: what this event says is written with its new state, so a
        crash after the commit still sends it (on the next start); this process claims the
        rows and sends them itself right after the commit."""
        durable = [item for item in outgoing
                   if item.channel in self.durable and (item.reply.text or item.reply.media_paths)]
        if not durable:
            return
        ids = await repo_agencies.write_outbox(session=session, rows=[
            {"channel": item.channel, "user_key": item.to, "locale": item.locale,
             "kind": item.reply.kind, "status": "sending", "attempts": 1, "claimed_at": now,
             "claimed_by": self.db.presence, "created_at": now,
             "payload": reply_payload(item.reply) | ({"direct": True} if item.direct else {})}
            for item in durable
        ])
        for item, row_id in zip(durable, ids, strict=True):
            item.outbox_id = row_id

    async def _ask_next(self, ctx: Ctx) -> None:
        """Ask the question of the state the handler moved to (a state may move on again)."""
        for _hop in range(MAX_HOPS):
            if ctx.next_state is None:
                return
            flow_name, state = ctx.next_flow or ctx.flow, ctx.next_state
            ctx.next_flow = ctx.next_state = None
            if flow_name != ctx.flow:
                ctx.nav.stack.clear()
            if not hasattr(self.flows[flow_name], f"ask_{state}"):
                # e.g. "ask again" before any question was asked: the menu is the safe place.
                flow_name, state = "menu", "main"
            ctx.flow, ctx.state = flow_name, state
            await self.flows[flow_name].ask(ctx, state)
        logger.error("flow %s did not settle after %d hops", ctx.flow, MAX_HOPS)
