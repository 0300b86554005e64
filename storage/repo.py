"""Repository functions for the foundation tables; the only place the bot's SQL lives."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Table, bindparam, func, or_, text
from sqlalchemy import insert as core_insert
from sqlalchemy import select as core_select
from sqlalchemy import update as core_update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.db import is_postgres, live_presence
from storage.models import (
    Conversation,
    Identity,
    InboundEvent,
    Kelurahan,
    LimitLift,
    PhotoFetch,
    Report,
    ReportEvent,
    ReportPhoto,
    ReportVoice,
)
from storage.types import utcnow


class VersionConflict(RuntimeError):
    """Another worker saved the conversation first; the event must be processed again."""


# --- inbound events --------------------------------------------------------------------------


_EVENTS: Table = InboundEvent.__table__  # type: ignore[attr-defined]
_IDENTITIES: Table = Identity.__table__  # type: ignore[attr-defined]
_CONVERSATIONS: Table = Conversation.__table__  # type: ignore[attr-defined]

# The statements every inbound event runs are built once per dialect, as Core statements:
# the ORM's per-statement bookkeeping was most of an event's database cost.
_RECORD_EVENT: dict[str, Any] = {}


def _record_event_statement(dialect: str) -> Any:
    statement = _RECORD_EVENT.get(dialect)
    if statement is None:
        # The dialect's own INSERT ... ON CONFLICT, imported only by a process that records
        # events (a command-line run never loads the PostgreSQL dialect it does not use).
        if dialect == "postgresql":
            from sqlalchemy.dialects import postgresql as chosen
        else:
            from sqlalchemy.dialects import sqlite as chosen  # type: ignore[no-redef]
        statement = chosen.insert(_EVENTS).on_conflict_do_nothing(
            index_elements=["channel", "event_id"])
        _RECORD_EVENT[dialect] = statement
    return statement


async def record_inbound_event(*, session: AsyncSession, channel: str, event_id: str) -> bool:
    """Record an event id; False when it was seen before (a redelivery)."""
    # One INSERT ... ON CONFLICT DO NOTHING rather than a savepoint around an INSERT that may
    # fail: every inbound event runs this inside the write transaction.
    conn = await session.connection()
    result = await conn.execute(_record_event_statement(conn.dialect.name),
                                {"channel": channel, "event_id": event_id,
                                 "received_at": utcnow()})
    return bool(result.rowcount)


# --- identities and conversations ------------------------------------------------------------


async def get_identity(*, session: AsyncSession, channel: str, user_key: str) -> Identity | None:
    result = await session.exec(
        select(Identity).where(Identity.channel == channel, Identity.user_key == user_key)
    )
    return result.first()


async def get_identity_by_id(*, session: AsyncSession, identity_id: int) -> Identity | None:
    return await session.get(Identity, identity_id)


async def get_or_create_identity(
    *, session: AsyncSession, channel: str, user_key: str, locale: str | None = None
) -> Identity:
    found = await get_identity(session=session, channel=channel, user_key=user_key)
    if found is not None:
        return found
    identity = Identity(channel=channel, user_key=user_key, locale=locale)
    session.add(identity)
    await session.flush()
    return identity


async def get_or_create_conversation(*, session: AsyncSession, identity_id: int) -> Conversation:
    result = await session.exec(
        select(Conversation).where(Conversation.identity_id == identity_id)
    )
    conv = result.first()
    if conv is None:
        conv = Conversation(identity_id=identity_id, data={})
        session.add(conv)
        await session.flush()
    return conv


@dataclass(slots=True)
class Arrival:
    """What the engine needs of the person an event came from, read in one statement."""

    identity_id: int
    locale: str | None
    locale_chosen: bool
    display_name: str | None
    phone: str | None
    last_inbound_at: datetime | None
    conversation_id: int
    flow: str
    state: str
    data: dict[str, Any]
    version: int


_ARRIVAL = (
    core_select(
        _IDENTITIES.c.id, _IDENTITIES.c.locale, _IDENTITIES.c.locale_chosen,
        _IDENTITIES.c.display_name, _IDENTITIES.c.phone, _IDENTITIES.c.last_inbound_at,
        _CONVERSATIONS.c.id.label("conversation_id"), _CONVERSATIONS.c.flow,
        _CONVERSATIONS.c.state, _CONVERSATIONS.c.data, _CONVERSATIONS.c.version,
    )
    .select_from(_IDENTITIES.outerjoin(
        _CONVERSATIONS, _CONVERSATIONS.c.identity_id == _IDENTITIES.c.id))
    .where(_IDENTITIES.c.channel == bindparam("channel"),
           _IDENTITIES.c.user_key == bindparam("user_key"))
)


async def load_arrival(*, session: AsyncSession, channel: str, user_key: str) -> Arrival:
    """The identity and conversation of ``channel:user_key``, created on first contact."""
    conn = await session.connection()
    row = (await conn.execute(_ARRIVAL, {"channel": channel, "user_key": user_key})).first()
    if row is None or row.conversation_id is None:
        identity = await get_or_create_identity(session=session, channel=channel,
                                                user_key=user_key)
        conv = await get_or_create_conversation(session=session, identity_id=identity.id or 0)
        # The engine changes these rows with Core statements; let later ORM reads load them
        # afresh instead of meeting these copies in the identity map.
        session.expunge(identity)
        session.expunge(conv)
        return Arrival(identity.id or 0, identity.locale, identity.locale_chosen,
                       identity.display_name, identity.phone, identity.last_inbound_at,
                       conv.id or 0, conv.flow, conv.state, dict(conv.data or {}), conv.version)
    return Arrival(row.id, row.locale, row.locale_chosen, row.display_name, row.phone,
                   row.last_inbound_at, row.conversation_id, row.flow, row.state,
                   dict(row.data or {}), row.version)


# The last inbound time serves the 24-hour WhatsApp window; rewriting it for every message of
# a conversation buys nothing, so it moves once a minute at most (a stale value is earlier,
# which only makes the window look shorter).
INBOUND_TOUCH_INTERVAL = timedelta(minutes=1)


async def update_identity(*, session: AsyncSession, identity_id: int,
                          values: dict[str, Any]) -> None:
    """Set some of an identity's columns (a Core UPDATE; nothing when ``values`` is empty)."""
    if not values:
        return
    conn = await session.connection()
    await conn.execute(core_update(_IDENTITIES).where(_IDENTITIES.c.id == identity_id)
                       .values(**values))


_SAVE_CONVERSATION = (
    core_update(_CONVERSATIONS)
    .where(_CONVERSATIONS.c.id == bindparam("b_id"),
           _CONVERSATIONS.c.version == bindparam("b_expected"))
    .values(flow=bindparam("b_flow"), state=bindparam("b_state"),
            data=bindparam("b_data", type_=_CONVERSATIONS.c.data.type),
            version=bindparam("b_version"),
            updated_at=bindparam("b_now", type_=_CONVERSATIONS.c.updated_at.type))
)


async def save_conversation(
    *,
    session: AsyncSession,
    conversation_id: int,
    expected_version: int,
    flow: str,
    state: str,
    data: dict[str, Any],
) -> int:
    """Write the state only if nobody else did since it was read; returns the new version."""
    conn = await session.connection()
    result = await conn.execute(_SAVE_CONVERSATION, {
        "b_id": conversation_id, "b_expected": expected_version, "b_flow": flow,
        "b_state": state, "b_data": data, "b_version": expected_version + 1,
        "b_now": utcnow()})
    if result.rowcount != 1:
        raise VersionConflict(str(conversation_id))
    return expected_version + 1


# --- reference data --------------------------------------------------------------------------


# --- reports ---------------------------------------------------------------------------------


async def next_ticket_number(*, session: AsyncSession, city_code: str, year: int) -> int:
    """Atomically take the next sequence number for the city and year."""
    result = await session.exec(  # type: ignore[call-overload]
        text(
            "INSERT INTO ticket_counter (city_code, year, value) VALUES (:c, :y, 1) "
            "ON CONFLICT (city_code, year) DO UPDATE SET value = ticket_counter.value + 1 "
            "RETURNING value"
        ),
        params={"c": city_code, "y": year},
    )
    return int(result.scalar_one())


async def create_report(
    *,
    session: AsyncSession,
    report: Report,
    photos: Sequence[ReportPhoto] = (),
    voices: Sequence[ReportVoice] = (),
    note: str | None = None,
) -> Report:
    session.add(report)
    await session.flush()
    assert report.id is not None
    for attachment in (*photos, *voices):
        attachment.report_id = report.id
        session.add(attachment)
    session.add(ReportEvent(report_id=report.id, status=report.status, at=report.created_at,
                            note=note, actor_id=report.reporter_id))
    await session.flush()
    return report


async def get_report_by_ticket(*, session: AsyncSession, ticket: str) -> Report | None:
    result = await session.exec(select(Report).where(Report.ticket == ticket.upper()))
    return result.first()


async def list_reports(
    *,
    session: AsyncSession,
    status: str | None = None,
    reporter_id: int | None = None,
    limit: int = 100,
    offset: int = 0,
) -> Sequence[Report]:
    query = select(Report).order_by(col(Report.created_at).desc(), col(Report.id).desc())
    if status:
        query = query.where(Report.status == status)
    if reporter_id is not None:
        query = query.where(Report.reporter_id == reporter_id)
    return (await session.exec(query.limit(limit).offset(offset))).all()


async def count_reports_since(*, session: AsyncSession, reporter_id: int,
                              since: datetime) -> int:
    """How many reports one person filed since `since`."""
    query = select(func.count()).select_from(Report).where(
        Report.reporter_id == reporter_id, col(Report.created_at) >= since)
    return int((await session.exec(query)).one())


async def limits_lifted(*, session: AsyncSession, identity_id: int, now: datetime) -> bool:
    lift = await session.get(LimitLift, identity_id)
    return lift is not None and lift.until > now


async def lift_limits(*, session: AsyncSession, identity_id: int, until: datetime,
                      lifted_by: str) -> None:
    lift = await session.get(LimitLift, identity_id)
    if lift is None:
        session.add(LimitLift(identity_id=identity_id, until=until, lifted_by=lifted_by))
    else:
        lift.until, lift.lifted_by = until, lifted_by
        session.add(lift)
    await session.flush()


async def kelurahan_names(*, session: AsyncSession) -> dict[str, str]:
    """Every kelurahan's name by code (the seeded reference table)."""
    rows = await session.exec(select(Kelurahan.code, Kelurahan.name))
    return dict(rows.all())


async def list_report_photos(*, session: AsyncSession, report_id: int) -> Sequence[ReportPhoto]:
    result = await session.exec(
        select(ReportPhoto).where(ReportPhoto.report_id == report_id).order_by(col(ReportPhoto.id))
    )
    return result.all()


async def list_report_voices(*, session: AsyncSession, report_id: int) -> Sequence[ReportVoice]:
    result = await session.exec(
        select(ReportVoice).where(ReportVoice.report_id == report_id).order_by(col(ReportVoice.id))
    )
    return result.all()


async def list_report_events(*, session: AsyncSession, report_id: int) -> Sequence[ReportEvent]:
    result = await session.exec(
        select(ReportEvent)
        .where(ReportEvent.report_id == report_id)
        .order_by(col(ReportEvent.at), col(ReportEvent.id))
    )
    return result.all()


async def add_report_event(
    *,
    session: AsyncSession,
    report: Report,
    status: str,
    note: str | None = None,
    actor_id: int | None = None,
    at: datetime | None = None,
) -> ReportEvent:
    assert report.id is not None
    when = at or utcnow()
    report.status = status
    report.updated_at = when
    session.add(report)
    event = ReportEvent(report_id=report.id, status=status, at=when, note=note, actor_id=actor_id)
    session.add(event)
    await session.flush()
    return event


# --- photos fetched in the background ------------------------------------------------------------

_FETCHES: Table = PhotoFetch.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True, slots=True)
class FetchedPhoto:
    """A background photo fetch as its draft or report sees it."""

    id: int
    status: str  # pending | done | failed
    reason: str | None
    report_id: int | None
    path: str | None
    content_type: str | None
    size: int | None
    sha256: str | None
    identity_id: int
    channel: str
    ref: str
    declared_size: int | None
    attempts: int

    def as_photo(self, report_id: int, now: datetime) -> ReportPhoto:
        assert self.path and self.content_type and self.size is not None and self.sha256
        return ReportPhoto(report_id=report_id, path=self.path, content_type=self.content_type,
                           size=self.size, sha256=self.sha256, created_at=now)


async def _core(session: AsyncSession, statement: Any) -> Any:
    conn = await session.connection()
    return await conn.execute(statement)


_FETCH_COLUMNS = (_FETCHES.c.id, _FETCHES.c.status, _FETCHES.c.reason, _FETCHES.c.report_id,
                  _FETCHES.c.path, _FETCHES.c.content_type, _FETCHES.c.size, _FETCHES.c.sha256,
                  _FETCHES.c.identity_id, _FETCHES.c.channel, _FETCHES.c.ref,
                  _FETCHES.c.declared_size, _FETCHES.c.attempts)


async def add_photo_fetch(*, session: AsyncSession, identity_id: int, channel: str, ref: str,
                          declared_size: int | None, now: datetime,
                          claimed_by: int | None = None) -> int:
    """A photo still downloading, claimed by this process (``claimed_by``: its presence token
    on PostgreSQL) from the start."""
    result = await _core(session, core_insert(_FETCHES).values(
        identity_id=identity_id, channel=channel, ref=ref, declared_size=declared_size,
        status="pending", attempts=1, created_at=now, claimed_at=now, claimed_by=claimed_by,
    ).returning(_FETCHES.c.id))
    return int(result.scalar_one())


async def photo_fetches(*, session: AsyncSession, ids: Sequence[int]) -> list[FetchedPhoto]:
    if not ids:
        return []
    result = await _core(session, core_select(*_FETCH_COLUMNS)
                                .where(_FETCHES.c.id.in_(list(ids))).order_by(_FETCHES.c.id))
    return [FetchedPhoto(*row) for row in result.all()]


async def finish_photo_fetch(*, session: AsyncSession, fetch_id: int, now: datetime,
                             stored: dict[str, Any] | None, reason: str | None
                             ) -> FetchedPhoto | None:
    """Record a download's outcome (``stored``: path, content_type, size, sha256; or the
    ``reason`` it failed); None when it was recorded already. A report the photo was attached
    to meanwhile gets it now."""
    values: dict[str, Any] = {"finished_at": now, "claimed_at": None, "claimed_by": None}
    if stored is not None:
        values |= {"status": "done", **stored}
    else:
        values |= {"status": "failed", "reason": (reason or "unavailable")[:32]}
    result = await _core(session, core_update(_FETCHES)
                                .where(_FETCHES.c.id == fetch_id, _FETCHES.c.status == "pending")
                                .values(**values).returning(*_FETCH_COLUMNS))
    row = result.first()
    if row is None:
        return None
    fetched = FetchedPhoto(*row)
    if fetched.status == "done" and fetched.report_id is not None:
        await _attach(session, fetched.report_id, [fetched], now)
    return fetched


async def attach_photo_fetches(*, session: AsyncSession, report_id: int, ids: Sequence[int],
                               now: datetime) -> int:
    """A report sent with photos still downloading (or just arrived): the ones done are
    attached now, the ones pending when they arrive. Returns how many were attached."""
    if not ids:
        return 0
    result = await _core(session, core_update(_FETCHES)
                                .where(_FETCHES.c.id.in_(list(ids)),
                                       _FETCHES.c.report_id.is_(None))
                                .values(report_id=report_id).returning(*_FETCH_COLUMNS))
    done = [f for f in (FetchedPhoto(*row) for row in result.all()) if f.status == "done"]
    return await _attach(session, report_id, done, now)


async def _attach(session: AsyncSession, report_id: int, fetched: Sequence[FetchedPhoto],
                  now: datetime) -> int:
    if not fetched:
        return 0
    have: set[str | None] = {
        p.sha256 for p in await list_report_photos(session=session, report_id=report_id)}
    added = 0
    for each in sorted(fetched, key=lambda f: f.id):
        if each.sha256 in have:
            continue  # the same photo sent twice is kept once
        have.add(each.sha256)
        session.add(each.as_photo(report_id, now))
        added += 1
    await session.flush()
    return added


async def stale_photo_fetches(*, session: AsyncSession, now: datetime,
                              stale_before: datetime | None, limit: int = 50,
                              claimed_by: int | None = None) -> list[FetchedPhoto]:
    """Pending downloads no process is working on (its process stopped; ``stale_before`` None:
    all of them, which on SQLite at start are this process's own previous life), claimed
    for this process (``claimed_by``: its presence token). On PostgreSQL a claim whose process
    no longer holds its presence lock is free at once, whatever its age."""
    where: list[Any] = [_FETCHES.c.status == "pending"]
    if stale_before is not None:
        expired = _FETCHES.c.claimed_at < stale_before
        if is_postgres(session):
            expired = or_(expired, _FETCHES.c.claimed_by.not_in(live_presence()))
        where.append(expired)
    ids = [int(r[0]) for r in (await _core(session,
        core_select(_FETCHES.c.id).where(*where)
        .order_by(_FETCHES.c.id).limit(limit))).all()]
    if not ids:
        return []
    # The same conditions again: of two processes claiming at once, only one gets each row.
    result = await _core(session, core_update(_FETCHES)
                                .where(_FETCHES.c.id.in_(ids), *where)
                                .values(claimed_at=now, claimed_by=claimed_by,
                                        attempts=_FETCHES.c.attempts + 1)
                                .returning(*_FETCH_COLUMNS))
    return sorted((FetchedPhoto(*row) for row in result.all()), key=lambda f: f.id)
