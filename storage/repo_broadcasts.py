"""Repository functions for broadcasts: subscribers, campaigns, the delivery outbox, reach.

Deliveries are created in SQL (`INSERT ... SELECT`, in subscriber-id ranges) and claimed in
SQL (`UPDATE ... RETURNING`, with `FOR UPDATE SKIP LOCKED` on PostgreSQL so several
dispatchers share the work), so no audience is ever held in memory.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import (
    Table,
    and_,
    bindparam,
    case,
    delete,
    exists,
    false,
    func,
    insert,
    literal,
    not_,
    null,
    or_,
    select,
    true,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import col
from sqlmodel import select as sm_select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.db import is_postgres, live_presence
from storage.models import Identity, Report
from storage.models.broadcast import (
    BroadcastCode,
    BroadcastGroup,
    Campaign,
    CampaignStatus,
    CampaignText,
    Delivery,
    DeliveryStatus,
    Dispatcher,
    LinkClick,
    Relay,
    RelayForward,
    RelayJoin,
    Subscriber,
    Subscription,
)
from storage.models.outbound import OutboundMessage, OutboundStatus
from storage.models.poll import PollAnswer
from storage.types import UTCDateTime, utcnow


def _table(model: Any) -> Table:
    return cast(Table, model.__table__)


T_SUB = _table(Subscriber)
T_SUBN = _table(Subscription)
T_ID = _table(Identity)
T_RELAY = _table(Relay)
T_DEL = _table(Delivery)
T_DISP = _table(Dispatcher)
T_CAMP = _table(Campaign)

OPEN = (DeliveryStatus.QUEUED, DeliveryStatus.SENDING)
SENT = (DeliveryStatus.SENT, DeliveryStatus.DELIVERED, DeliveryStatus.READ)


async def _run(session: AsyncSession, statement: Any, params: Any = None) -> Any:
    """Core statements through SQLModel's `exec` (its `execute` is deprecated)."""
    return await session.exec(statement, params=params)


def _ts(value: datetime) -> Any:
    return literal(value, UTCDateTime())


# --- groups ----------------------------------------------------------------------------------


async def sync_groups(*, session: AsyncSession, rows: Sequence[dict[str, Any]]) -> int:
    """Insert or update the city's groups; returns how many rows changed."""
    existing = {g.key: g for g in (await session.exec(sm_select(BroadcastGroup))).all()}
    changed = 0
    for values in rows:
        row = existing.get(values["key"])
        if row is None:
            session.add(BroadcastGroup(**values))
            changed += 1
            continue
        if any(getattr(row, k) != v for k, v in values.items()):
            for k, v in values.items():
                setattr(row, k, v)
            session.add(row)
            changed += 1
    await session.flush()
    return changed


async def count_groups(*, session: AsyncSession) -> int:
    return int((await _run(session, select(func.count()).select_from(
        _table(BroadcastGroup)))).scalar_one())


# --- subscribers -----------------------------------------------------------------------------


async def get_subscriber(*, session: AsyncSession, channel: str,
                         address: str) -> Subscriber | None:
    result = await session.exec(
        sm_select(Subscriber).where(Subscriber.channel == channel, Subscriber.address == address)
    )
    return result.first()


async def save_subscriber(*, session: AsyncSession, subscriber: Subscriber) -> Subscriber:
    subscriber.updated_at = utcnow()
    session.add(subscriber)
    await session.flush()
    return subscriber


async def list_subscriptions(*, session: AsyncSession, subscriber_id: int) -> list[str]:
    result = await _run(session,
        select(T_SUBN.c.group_key).where(T_SUBN.c.subscriber_id == subscriber_id)
        .order_by(T_SUBN.c.group_key)
    )
    return [row[0] for row in result.all()]


async def set_subscriptions(*, session: AsyncSession, subscriber_id: int,
                            add: Iterable[str] = (), remove: Iterable[str] = ()) -> int:
    """Add and remove group subscriptions; returns how many changed."""
    have = set(await list_subscriptions(session=session, subscriber_id=subscriber_id))
    changed = 0
    for key in sorted(set(add) - have):
        session.add(Subscription(subscriber_id=subscriber_id, group_key=key))
        changed += 1
    gone = sorted(set(remove) & have)
    if gone:
        await _run(session, delete(T_SUBN).where(T_SUBN.c.subscriber_id == subscriber_id,
                                                   T_SUBN.c.group_key.in_(gone)))
        changed += len(gone)
    await session.flush()
    return changed


async def stop_subscribers(*, session: AsyncSession, ids: Sequence[int], reason: str,
                           now: datetime) -> None:
    if not ids:
        return
    await _run(session,
        update(T_SUB).where(T_SUB.c.id.in_(list(ids)), T_SUB.c.stopped == false())
        .values(stopped=True, stopped_at=now, stop_reason=reason, updated_at=now)
    )


async def last_report_kelurahan(*, session: AsyncSession, identity_id: int) -> str | None:
    result = await _run(session,
        select(_table(Report).c.kelurahan_code)
        .where(_table(Report).c.reporter_id == identity_id,
               _table(Report).c.kelurahan_code.is_not(None))
        .order_by(_table(Report).c.created_at.desc()).limit(1)
    )
    return result.scalar_one_or_none()


# Whether a subscriber said STOP: on the subscriber row (a list, a relay) or in chat, on the
# person's identity. Every count and every audience reads this one rule.
_IDENTITY_OF_SUBSCRIBER = and_(T_ID.c.channel == T_SUB.c.channel,
                               T_ID.c.user_key == T_SUB.c.address)
_WITH_IDENTITY = T_SUB.outerjoin(T_ID, _IDENTITY_OF_SUBSCRIBER)
STOPPED = or_(T_SUB.c.stopped == true(), func.coalesce(T_ID.c.opted_out, false()) == true())


async def count_subscribers(*, session: AsyncSession) -> dict[str, int]:
    stopped = STOPPED.label("stopped")
    rows = await _run(session,
        select(T_SUB.c.channel, stopped, func.count()).select_from(_WITH_IDENTITY)
        .group_by(T_SUB.c.channel, stopped)
    )
    out: dict[str, int] = {}
    for channel, stopped, n in rows.all():
        key = f"{channel}_stopped" if stopped else channel
        out[key] = out.get(key, 0) + int(n)
    return out


# --- relays ----------------------------------------------------------------------------------


async def get_relay_by_code(*, session: AsyncSession, code: str) -> Relay | None:
    return (await session.exec(sm_select(Relay).where(Relay.code == code))).first()


async def get_relay_for(*, session: AsyncSession, subscriber_id: int) -> Relay | None:
    return (await session.exec(
        sm_select(Relay).where(Relay.subscriber_id == subscriber_id))).first()


async def save_relay(*, session: AsyncSession, relay: Relay) -> Relay:
    session.add(relay)
    await session.flush()
    return relay


async def list_relays(*, session: AsyncSession) -> Sequence[tuple[Relay, Subscriber]]:
    result = await session.exec(
        sm_select(Relay, Subscriber).join(Subscriber, col(Subscriber.id) == col(Relay.subscriber_id))
        .order_by(col(Relay.kelurahan_code), col(Relay.id))
    )
    return result.all()


async def record_relay_join(*, session: AsyncSession, relay_id: int, campaign_id: int | None,
                            subscriber_id: int) -> bool:
    try:
        async with session.begin_nested():
            session.add(RelayJoin(relay_id=relay_id, campaign_id=campaign_id,
                                  subscriber_id=subscriber_id))
            await session.flush()
    except IntegrityError:
        return False
    return True


async def record_relay_forward(*, session: AsyncSession, delivery_id: int, channel: str,
                               address: str) -> tuple[bool, Delivery | None]:
    """Record that a relay forwarded a campaign; (new, the delivery) or (False, None)."""
    delivery = await session.get(Delivery, delivery_id)
    if (delivery is None or delivery.relay_id is None or delivery.channel != channel
            or delivery.address != address):
        return False, None
    try:
        async with session.begin_nested():
            session.add(RelayForward(campaign_id=delivery.campaign_id, relay_id=delivery.relay_id,
                                     delivery_id=delivery_id))
            await session.flush()
    except IntegrityError:
        return False, delivery
    return True, delivery


# --- one-time codes --------------------------------------------------------------------------


async def create_code(*, session: AsyncSession, code: BroadcastCode) -> BroadcastCode:
    session.add(code)
    await session.flush()
    return code


async def take_code(*, session: AsyncSession, code: str, purpose: str,
                    now: datetime) -> dict[str, Any] | None:
    """Use a one-time code: its payload, or None when unknown, used or expired."""
    t = _table(BroadcastCode)
    result = await _run(session,
        update(t).where(t.c.code == code, t.c.purpose == purpose, t.c.used_at.is_(None),
                        t.c.expires_at > now)
        .values(used_at=now).returning(t.c.payload)
    )
    row = result.first()
    return dict(row[0]) if row is not None else None


# --- campaigns -------------------------------------------------------------------------------


async def create_campaign(*, session: AsyncSession, campaign: Campaign,
                          texts: dict[str, str]) -> Campaign:
    session.add(campaign)
    await session.flush()
    assert campaign.id is not None
    for locale, text in texts.items():
        session.add(CampaignText(campaign_id=campaign.id, locale=locale, text=text))
    await session.flush()
    return campaign


async def get_campaign(*, session: AsyncSession, campaign_id: int) -> Campaign | None:
    return await session.get(Campaign, campaign_id)


async def get_campaign_texts(*, session: AsyncSession, campaign_id: int) -> dict[str, str]:
    result = await session.exec(
        sm_select(CampaignText).where(CampaignText.campaign_id == campaign_id)
    )
    return {t.locale: t.text for t in result.all()}


async def list_campaigns(*, session: AsyncSession, statuses: Sequence[str] | None = None,
                         limit: int = 20) -> Sequence[Campaign]:
    query = sm_select(Campaign).order_by(col(Campaign.id).desc()).limit(limit)
    if statuses:
        query = query.where(col(Campaign.status).in_(list(statuses)))
    return (await session.exec(query)).all()


async def save_campaign(*, session: AsyncSession, campaign: Campaign) -> Campaign:
    session.add(campaign)
    await session.flush()
    return campaign


async def refresh_campaign(*, session: AsyncSession, campaign: Campaign) -> Campaign:
    """Reload a campaign's row (after a Core UPDATE moved it)."""
    await session.refresh(campaign)
    return campaign


async def move_campaign(*, session: AsyncSession, campaign_id: int, from_status: Sequence[str],
                        to_status: str, **values: Any) -> bool:
    """Change a campaign's status only if it is in one of `from_status` (a race-free step)."""
    result = await _run(session,
        update(T_CAMP).where(T_CAMP.c.id == campaign_id, T_CAMP.c.status.in_(list(from_status)))
        .values(status=to_status, **values)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def due_campaigns(*, session: AsyncSession, now: datetime) -> list[int]:
    result = await _run(session,
        select(T_CAMP.c.id).where(T_CAMP.c.status == CampaignStatus.SCHEDULED, T_CAMP.c.send_at <= now)
    )
    return [row[0] for row in result.all()]


async def campaigns_in(*, session: AsyncSession, statuses: Sequence[str]) -> list[Campaign]:
    result = await session.exec(
        sm_select(Campaign).where(col(Campaign.status).in_(list(statuses)))
        .order_by(col(Campaign.id))
    )
    return list(result.all())


async def mark_summary_sent(*, session: AsyncSession, campaign_id: int) -> bool:
    result = await _run(session,
        update(T_CAMP).where(T_CAMP.c.id == campaign_id, T_CAMP.c.summary_sent == false())
        .values(summary_sent=True)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


# --- audience --------------------------------------------------------------------------------


@dataclass(frozen=True)
class AudienceQuery:
    """An audience, resolved to codes and keys the SQL needs."""

    group_keys: Sequence[str] = ()
    area_kelurahan: Sequence[str] = ()
    roles: Sequence[str] = ()
    channels: Sequence[str] = ()
    languages: Sequence[str] = ()
    relays: bool = True
    relay_kelurahan: Sequence[str] | None = None  # None: every relay
    poll_respondents: int | None = None  # the people who answered this poll

    def _chosen(self) -> ColumnElement[bool]:
        s = T_SUB
        has_any = exists(select(literal(1)).where(T_SUBN.c.subscriber_id == s.c.id))
        selectors: list[ColumnElement[bool]] = []
        if self.poll_respondents is not None:
            answers = _table(PollAnswer)
            selectors.append(exists(select(literal(1)).where(
                answers.c.poll_id == self.poll_respondents, answers.c.subscriber_id == s.c.id)))
        if self.group_keys:
            selectors.append(exists(select(literal(1)).where(
                T_SUBN.c.subscriber_id == s.c.id, T_SUBN.c.group_key.in_(list(self.group_keys)))))
        if self.area_kelurahan:
            selectors.append(and_(s.c.kelurahan_code.in_(list(self.area_kelurahan)), has_any))
        if not selectors:
            return s.c.role.in_(list(self.roles)) if self.roles else false()
        chosen = or_(*selectors)
        if self.roles:
            chosen = and_(chosen, s.c.role.in_(list(self.roles)))
        return chosen

    def _relay(self) -> ColumnElement[bool]:
        if not self.relays:
            return false()
        cond = and_(T_RELAY.c.id.is_not(None), T_RELAY.c.active == true())
        if self.relay_kelurahan is not None:
            cond = and_(cond, T_RELAY.c.kelurahan_code.in_(list(self.relay_kelurahan)))
        return cond

    def _locale(self) -> ColumnElement[str]:
        return func.coalesce(T_ID.c.locale, T_SUB.c.locale, literal("id"))

    def _opted_out(self) -> ColumnElement[bool]:
        return STOPPED

    def _where(self) -> ColumnElement[bool]:
        cond = or_(self._chosen(), self._relay())
        if self.channels:
            cond = and_(cond, T_SUB.c.channel.in_(list(self.channels)))
        if self.languages:
            cond = and_(cond, self._locale().in_(list(self.languages)))
        return cond

    def _from(self) -> Any:
        return _WITH_IDENTITY.outerjoin(T_RELAY, T_RELAY.c.subscriber_id == T_SUB.c.id)


async def max_subscriber_id(*, session: AsyncSession) -> int:
    return int((await _run(session, select(func.coalesce(func.max(T_SUB.c.id), 0)))).scalar_one())


async def expand_campaign(*, session: AsyncSession, campaign_id: int, audience: AudienceQuery,
                          now: datetime, batch: int = 20_000) -> tuple[int, bool]:
    """Create the deliveries for the next range of subscribers; (rows added, finished).

    Locks the campaign row so two dispatchers never expand the same range.
    """
    query = select(T_CAMP.c.expanded_upto, T_CAMP.c.expanded).where(T_CAMP.c.id == campaign_id)
    if is_postgres(session):
        query = query.with_for_update()
    row = (await _run(session, query)).first()
    if row is None or row.expanded:
        return 0, True
    lo = int(row.expanded_upto)
    top = await max_subscriber_id(session=session)
    hi = min(lo + batch, top)
    added = 0
    relay = func.coalesce(audience._relay(), false())
    if lo == 0 and audience.relays:
        # The kepala lingkungan first, whatever their subscriber ids: they forward the news by
        # hand, so their copies lead the queue (deliveries are sent in id order).
        added += await _insert_deliveries(session, campaign_id, audience, now, relay)
    if hi > lo:
        added += await _insert_deliveries(
            session, campaign_id, audience, now,
            and_(T_SUB.c.id > lo, T_SUB.c.id <= hi, not_(relay)))
    done = hi >= top
    await _run(session,
        update(T_CAMP).where(T_CAMP.c.id == campaign_id)
        .values(expanded_upto=hi, expanded=done)
    )
    return added, done


async def _insert_deliveries(session: AsyncSession, campaign_id: int, audience: AudienceQuery,
                             now: datetime, which: ColumnElement[bool]) -> int:
    opted = audience._opted_out()
    relay = audience._relay()
    source = (
        select(
            literal(campaign_id), T_SUB.c.id, T_SUB.c.channel, T_SUB.c.address,
            T_SUB.c.kelurahan_code, audience._locale(),
            case((relay, T_RELAY.c.id), else_=null()), T_SUB.c.is_group,
            case((opted, literal(DeliveryStatus.SKIPPED.value)),
                 else_=literal(DeliveryStatus.QUEUED.value)),
            case((opted, literal("opted_out")), else_=null()),
            literal(0), _ts(now),
        )
        .select_from(audience._from())
        .where(which, audience._where())
        .order_by(T_SUB.c.id)
    )
    result = await _run(session,
        insert(T_DEL).from_select(
            ["campaign_id", "subscriber_id", "channel", "address", "kelurahan_code",
             "locale", "relay_id", "is_group", "status", "reason", "attempts",
             "next_attempt_at"],
            source,
        )
    )
    return max(int(result.rowcount or 0), 0)  # type: ignore[attr-defined]


@dataclass
class PreviewRow:
    channel: str
    is_group: bool
    relay: bool
    opted_out: bool
    outside_window: bool
    count: int


async def preview_audience(*, session: AsyncSession, audience: AudienceQuery,
                           window_start: datetime) -> list[PreviewRow]:
    """Audience size by channel and kind, counted in SQL."""
    relay = case((audience._relay(), literal(1)), else_=literal(0))
    opted = case((audience._opted_out(), literal(1)), else_=literal(0))
    outside = case(
        (or_(T_ID.c.last_inbound_at.is_(None), T_ID.c.last_inbound_at < window_start),
         literal(1)), else_=literal(0))
    query = (
        select(T_SUB.c.channel, T_SUB.c.is_group, relay, opted, outside, func.count())
        .select_from(audience._from()).where(audience._where())
        .group_by(T_SUB.c.channel, T_SUB.c.is_group, relay, opted, outside)
    )
    rows = (await _run(session, query)).all()
    return [PreviewRow(channel=r[0], is_group=bool(r[1]), relay=bool(r[2]), opted_out=bool(r[3]),
                       outside_window=bool(r[4]), count=int(r[5])) for r in rows]


# --- the outbox: claiming and recording ------------------------------------------------------


@dataclass(frozen=True)
class ClaimedDelivery:
    id: int
    campaign_id: int
    subscriber_id: int
    channel: str
    address: str
    kelurahan_code: str | None
    locale: str
    relay_id: int | None
    is_group: bool
    attempts: int


async def heartbeat(*, session: AsyncSession, dispatcher_id: str, now: datetime,
                    host: str | None = None, pid: int | None = None,
                    presence: int | None = None) -> None:
    """The dispatcher is alive now; `host` and `pid`: its machine and process."""
    values = {"seen_at": now, "host": host and host[:64], "pid": pid, "presence": presence}
    result = await _run(session, update(T_DISP).where(T_DISP.c.id == dispatcher_id).values(values))
    if not result.rowcount:  # type: ignore[attr-defined]
        await _run(session, insert(T_DISP).values(id=dispatcher_id, started_at=now, **values))


def _process_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # another user's process, say: it exists
    return True


@dataclass(frozen=True)
class Liveness:
    """The dispatchers seen within the lease: those alive, and those known dead already."""

    live: list[str]
    dead: list[str]


async def dispatcher_liveness(*, session: AsyncSession, lease: timedelta,
                              now: datetime) -> Liveness:
    """The dispatchers seen within the lease, alive or known dead: where that can be told, one
    whose process stopped is dead at once, not only when its lease runs out (PostgreSQL: the
    server no longer holds its process's presence lock; SQLite: its process, on this machine,
    no longer exists). A process id used again meanwhile only makes it wait for the lease, as
    before."""
    rows = (await _run(session, select(T_DISP.c.id, T_DISP.c.host, T_DISP.c.pid,
                                       T_DISP.c.presence)
                       .where(T_DISP.c.seen_at > now - lease))).all()
    if is_postgres(session):
        tokens: set[int] = set()
        if any(r.presence is not None for r in rows):
            tokens = {int(t) for t in (await _run(session, live_presence())).scalars()}
        alive = [r.presence is None or r.presence in tokens for r in rows]
    else:
        here = socket.gethostname()[:64]
        alive = [r.pid is None or r.host != here or _process_exists(r.pid) for r in rows]
    return Liveness(live=[r.id for r, a in zip(rows, alive, strict=True) if a],
                    dead=[r.id for r, a in zip(rows, alive, strict=True) if not a])


async def forget_dispatcher(*, session: AsyncSession, dispatcher_id: str) -> None:
    """A dispatcher leaving: every delivery it still holds goes back to the queue (the last
    claim may have been cut off by the shutdown before the rows reached its queue), and its
    heartbeat row goes."""
    await _run(session,
        update(T_DEL).where(T_DEL.c.claimed_by == dispatcher_id,
                            T_DEL.c.status == DeliveryStatus.SENDING)
        .values(status=DeliveryStatus.QUEUED, claimed_by=None, claimed_at=None))
    await _run(session, delete(T_DISP).where(T_DISP.c.id == dispatcher_id))


async def forget_stale_dispatchers(*, session: AsyncSession, now: datetime) -> None:
    """Drop the rows of dispatchers not seen for a day."""
    await _run(session, delete(T_DISP).where(T_DISP.c.seen_at < now - timedelta(days=1)))


async def reclaim_stale(*, session: AsyncSession, campaign_id: int, channels: Sequence[str],
                        lease: timedelta, now: datetime, dead: Sequence[str] = ()) -> int:
    """Put back deliveries claimed by dispatchers that stopped beating, or that are known
    `dead` (dispatcher_liveness); returns how many. Which dispatchers beat is read in this
    statement, so one that started a moment ago keeps its first claims."""
    if not channels:
        return 0
    live = select(T_DISP.c.id).where(T_DISP.c.seen_at > now - lease)
    if dead:
        live = live.where(T_DISP.c.id.not_in(list(dead)))
    result = await _run(session,
        update(T_DEL).where(
            T_DEL.c.campaign_id == campaign_id, T_DEL.c.channel.in_(list(channels)),
            T_DEL.c.status == DeliveryStatus.SENDING,
            or_(T_DEL.c.claimed_by.is_(None), T_DEL.c.claimed_by.not_in(live)),
        ).values(status=DeliveryStatus.QUEUED, claimed_by=None, claimed_at=None)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


async def claim_deliveries(*, session: AsyncSession, campaign_id: int, channel: str,
                           dispatcher_id: str, now: datetime,
                           limit: int) -> list[ClaimedDelivery]:
    """Take up to `limit` due deliveries; on PostgreSQL rows others hold are skipped."""
    pick = (
        select(T_DEL.c.id)
        .where(T_DEL.c.campaign_id == campaign_id, T_DEL.c.channel == channel,
               T_DEL.c.status == DeliveryStatus.QUEUED, T_DEL.c.next_attempt_at <= now)
        .order_by(T_DEL.c.next_attempt_at, T_DEL.c.id)
        .limit(limit)
    )
    if is_postgres(session):
        pick = pick.with_for_update(skip_locked=True)
    result = await _run(session,
        update(T_DEL).where(T_DEL.c.id.in_(pick.scalar_subquery()))
        .values(status=DeliveryStatus.SENDING, claimed_by=dispatcher_id, claimed_at=now)
        .returning(T_DEL.c.id, T_DEL.c.campaign_id, T_DEL.c.subscriber_id, T_DEL.c.channel,
                   T_DEL.c.address, T_DEL.c.kelurahan_code, T_DEL.c.locale, T_DEL.c.relay_id,
                   T_DEL.c.is_group, T_DEL.c.attempts)
    )
    rows = [ClaimedDelivery(*row) for row in result.all()]
    rows.sort(key=lambda r: r.id)
    return rows


async def record_outcomes(*, session: AsyncSession, dispatcher_id: str,
                          outcomes: Sequence[dict[str, Any]]) -> None:
    """Write final or retry states: each dict has id, status, reason, sent_at, provider_id,
    next_attempt_at and failed (the sends refused meanwhile, added to ``attempts``). Rows
    another dispatcher took over meanwhile are left alone."""
    if not outcomes:
        return
    stmt = (
        update(T_DEL)
        .where(T_DEL.c.id == bindparam("b_id"), T_DEL.c.claimed_by == dispatcher_id)
        .values(status=bindparam("b_status"), reason=bindparam("b_reason"),
                sent_at=bindparam("b_sent_at", type_=UTCDateTime()),
                provider_id=bindparam("b_provider_id"),
                next_attempt_at=bindparam("b_next", type_=UTCDateTime()),
                attempts=T_DEL.c.attempts + bindparam("b_failed"),
                claimed_by=None)
    )
    await _run(session, stmt, [
        {"b_id": o["id"], "b_status": o["status"], "b_reason": o.get("reason"),
         "b_sent_at": o.get("sent_at"), "b_provider_id": o.get("provider_id"),
         "b_next": o["next_attempt_at"], "b_failed": o.get("failed", 0)}
        for o in outcomes
    ])


async def release_deliveries(*, session: AsyncSession, dispatcher_id: str,
                             ids: Sequence[int]) -> None:
    """Give claimed deliveries back untouched (a pause, a shutdown)."""
    if not ids:
        return
    values: dict[str, Any] = {"status": DeliveryStatus.QUEUED, "claimed_by": None, "claimed_at": None}
    for start in range(0, len(ids), 500):
        await _run(session,
            update(T_DEL).where(T_DEL.c.id.in_(list(ids[start:start + 500])),
                                T_DEL.c.claimed_by == dispatcher_id,
                                T_DEL.c.status == DeliveryStatus.SENDING).values(**values)
        )


async def open_deliveries(*, session: AsyncSession, campaign_id: int) -> int:
    """Deliveries still to be sent (queued or being sent)."""
    return int((await _run(session,
        select(func.count()).select_from(T_DEL)
        .where(T_DEL.c.campaign_id == campaign_id, T_DEL.c.status.in_(OPEN))
    )).scalar_one())


async def skip_queued(*, session: AsyncSession, campaign_id: int, reason: str,
                      channel: str | None = None) -> int:
    """Mark a campaign's queued deliveries skipped (on one channel, or on every one)."""
    cond = and_(T_DEL.c.campaign_id == campaign_id, T_DEL.c.status == DeliveryStatus.QUEUED)
    if channel is not None:
        cond = and_(cond, T_DEL.c.channel == channel)
    result = await _run(session,
        update(T_DEL).where(cond).values(status=DeliveryStatus.SKIPPED, reason=reason)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


async def relay_codes(*, session: AsyncSession, relay_ids: Sequence[int]) -> dict[int, str]:
    if not relay_ids:
        return {}
    result = await _run(session,
        select(T_RELAY.c.id, T_RELAY.c.code).where(T_RELAY.c.id.in_(list(relay_ids)))
    )
    return {int(r[0]): str(r[1]) for r in result.all()}


async def last_inbound(*, session: AsyncSession, channel: str,
                       addresses: Sequence[str]) -> dict[str, datetime | None]:
    """When each address last wrote to the bot (the WhatsApp 24-hour window)."""
    out: dict[str, datetime | None] = {}
    for start in range(0, len(addresses), 500):
        chunk = list(addresses[start:start + 500])
        result = await session.exec(
            sm_select(Identity.user_key, Identity.last_inbound_at)
            .where(Identity.channel == channel, col(Identity.user_key).in_(chunk))
        )
        out.update({key: at for key, at in result.all()})
    return out


async def get_delivery(*, session: AsyncSession, delivery_id: int) -> Delivery | None:
    return await session.get(Delivery, delivery_id)


async def record_click(*, session: AsyncSession, delivery: Delivery, now: datetime) -> bool:
    """Count a recipient's click once: False (nothing written) when their copy's link was
    clicked before."""
    t = _table(LinkClick)
    seen = await _run(session, select(t.c.id).where(t.c.delivery_id == delivery.id).limit(1))
    if seen.first() is not None:
        return False
    session.add(LinkClick(campaign_id=delivery.campaign_id, delivery_id=delivery.id,
                          kelurahan_code=delivery.kelurahan_code, at=now))
    await session.flush()
    return True


# --- reach -----------------------------------------------------------------------------------


def _receipt_status() -> tuple[Any, Any]:
    """The delivery status with WhatsApp receipts applied, and the join that brings them."""
    om = _table(OutboundMessage)
    sent, delivered = DeliveryStatus.SENT.value, DeliveryStatus.DELIVERED.value
    read, failed = DeliveryStatus.READ.value, DeliveryStatus.FAILED.value
    status = case(
        (and_(T_DEL.c.status.in_([sent, delivered]), om.c.status == OutboundStatus.READ), read),
        (and_(T_DEL.c.status == sent, om.c.status == OutboundStatus.DELIVERED), delivered),
        (and_(T_DEL.c.status == sent,
              om.c.status.in_([OutboundStatus.FAILED, OutboundStatus.UNDELIVERED])), failed),
        else_=T_DEL.c.status,
    )
    return status, T_DEL.outerjoin(om, and_(T_DEL.c.provider_id.is_not(None),
                                            om.c.provider_id == T_DEL.c.provider_id))


async def reach_rows(*, session: AsyncSession,
                     campaign_id: int) -> list[tuple[str | None, str, str | None, int]]:
    """(kelurahan, status, reason, count) for one campaign."""
    status, source = _receipt_status()
    reason = case((status == DeliveryStatus.FAILED.value,
                   func.coalesce(T_DEL.c.reason, literal("undelivered"))),
                  else_=T_DEL.c.reason)
    result = await _run(session,
        select(T_DEL.c.kelurahan_code, status, reason, func.count())
        .select_from(source).where(T_DEL.c.campaign_id == campaign_id)
        .group_by(T_DEL.c.kelurahan_code, status, reason)
    )
    return [(r[0], str(r[1]), r[2], int(r[3])) for r in result.all()]


async def click_rows(*, session: AsyncSession, campaign_id: int) -> list[tuple[str | None, int]]:
    t = _table(LinkClick)
    result = await _run(session,
        select(t.c.kelurahan_code, func.count()).where(t.c.campaign_id == campaign_id)
        .group_by(t.c.kelurahan_code)
    )
    return [(r[0], int(r[1])) for r in result.all()]


async def _relay_rows(session: AsyncSession, model: Any,
                      campaign_id: int) -> list[tuple[str | None, int]]:
    """(kelurahan, count) of one campaign's rows of a relay table, by the relay's kelurahan."""
    t = _table(model)
    result = await _run(session,
        select(T_RELAY.c.kelurahan_code, func.count())
        .select_from(t.join(T_RELAY, T_RELAY.c.id == t.c.relay_id))
        .where(t.c.campaign_id == campaign_id).group_by(T_RELAY.c.kelurahan_code)
    )
    return [(r[0], int(r[1])) for r in result.all()]


async def forward_rows(*, session: AsyncSession,
                       campaign_id: int) -> list[tuple[str | None, int]]:
    return await _relay_rows(session, RelayForward, campaign_id)


async def join_rows(*, session: AsyncSession, campaign_id: int) -> list[tuple[str | None, int]]:
    return await _relay_rows(session, RelayJoin, campaign_id)


async def sending_rate(*, session: AsyncSession, campaign_id: int) -> tuple[
        datetime | None, datetime | None, int]:
    """First and last send time and the number sent, for the achieved rate."""
    result = await _run(session,
        select(func.min(T_DEL.c.sent_at), func.max(T_DEL.c.sent_at), func.count(T_DEL.c.sent_at))
        .where(T_DEL.c.campaign_id == campaign_id)
    )
    # MIN and MAX keep the column's type, so the values come back as UTC datetimes already.
    first, last, n = result.one()
    return first, last, int(n)


# --- the console's subscribers page ----------------------------------------------------------


async def subscriber_counts_by_kelurahan(
        *, session: AsyncSession) -> dict[str | None, tuple[int, int]]:
    """Per kelurahan: (reachable, stopped) subscribers, by the one STOPPED rule."""
    stopped = STOPPED.label("stopped")
    rows = await _run(session, select(T_SUB.c.kelurahan_code, stopped, func.count())
                      .select_from(_WITH_IDENTITY).group_by(T_SUB.c.kelurahan_code, stopped))
    out: dict[str | None, tuple[int, int]] = {}
    for code, is_stopped, n in rows.all():
        active, off = out.get(code, (0, 0))
        out[code] = (active, off + int(n)) if is_stopped else (active + int(n), off)
    return out


async def subscriber_counts_by_group(*, session: AsyncSession) -> dict[str, int]:
    """Reachable subscribers per group."""
    rows = await _run(session, select(T_SUBN.c.group_key, func.count())
                      .select_from(_WITH_IDENTITY.join(T_SUBN,
                                                       T_SUBN.c.subscriber_id == T_SUB.c.id))
                      .where(~STOPPED).group_by(T_SUBN.c.group_key))
    return {key: int(n) for key, n in rows.all()}


async def relay_figures(*, session: AsyncSession) -> dict[int, tuple[int, int, int]]:
    """Per relay: (announcements received, forwarded, people who joined through them)."""
    t_fwd, t_join = _table(RelayForward), _table(RelayJoin)
    counted: list[dict[Any, Any]] = []
    for statement in (
        select(T_DEL.c.relay_id, func.count()).where(T_DEL.c.relay_id.is_not(None),
                                                     T_DEL.c.status.in_(SENT))
        .group_by(T_DEL.c.relay_id),
        select(t_fwd.c.relay_id, func.count()).group_by(t_fwd.c.relay_id),
        select(t_join.c.relay_id, func.count()).group_by(t_join.c.relay_id),
    ):
        counted.append(dict((await _run(session, statement)).all()))
    received, forwards, joins = counted
    ids = set(received) | set(forwards) | set(joins)
    return {int(i): (int(received.get(i, 0)), int(forwards.get(i, 0)), int(joins.get(i, 0)))
            for i in ids}
