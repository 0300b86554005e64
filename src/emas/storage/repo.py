"""Repository functions for the foundation tables; the only place the bot's SQL lives."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from emas.storage.models import (
    Agency,
    Category,
    Conversation,
    Identity,
    InboundEvent,
    Kecamatan,
    Kelurahan,
    Report,
    ReportEvent,
    ReportPhoto,
    RoutingOverride,
)
from emas.storage.types import utcnow


class VersionConflict(RuntimeError):
    """Another worker saved the conversation first; the event must be processed again."""


# --- inbound events --------------------------------------------------------------------------


async def record_inbound_event(*, session: AsyncSession, channel: str, event_id: str) -> bool:
    """Record an event id; False when it was seen before (a redelivery)."""
    # One INSERT ... ON CONFLICT DO NOTHING rather than a savepoint around an INSERT that may
    # fail: every inbound event runs this inside the write transaction, so two round trips
    # fewer there shorten the time SQLite's single write lock is held.
    build = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    result = await session.exec(
        build(InboundEvent)
        .values(channel=channel, event_id=event_id, received_at=utcnow())
        .on_conflict_do_nothing(index_elements=["channel", "event_id"])
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


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
    result = await session.exec(
        update(Conversation)
        .where(
            col(Conversation.id) == conversation_id,
            col(Conversation.version) == expected_version,
        )
        .values(flow=flow, state=state, data=data, version=expected_version + 1,
                updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise VersionConflict(str(conversation_id))
    return expected_version + 1


# --- reference data --------------------------------------------------------------------------


async def list_categories(*, session: AsyncSession) -> Sequence[Category]:
    result = await session.exec(select(Category).order_by(col(Category.position)))
    return result.all()


async def list_agencies(*, session: AsyncSession) -> Sequence[Agency]:
    return (await session.exec(select(Agency))).all()


async def list_kecamatan(*, session: AsyncSession) -> Sequence[Kecamatan]:
    return (await session.exec(select(Kecamatan).order_by(col(Kecamatan.code)))).all()


async def list_kelurahan(*, session: AsyncSession) -> Sequence[Kelurahan]:
    return (await session.exec(select(Kelurahan).order_by(col(Kelurahan.code)))).all()


async def list_routing_overrides(*, session: AsyncSession) -> Sequence[RoutingOverride]:
    return (await session.exec(select(RoutingOverride))).all()


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
    note: str | None = None,
) -> Report:
    session.add(report)
    await session.flush()
    assert report.id is not None
    for photo in photos:
        photo.report_id = report.id
        session.add(photo)
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


async def count_reports(*, session: AsyncSession, reporter_id: int | None = None) -> int:
    query = select(func.count()).select_from(Report)
    if reporter_id is not None:
        query = query.where(Report.reporter_id == reporter_id)
    return int((await session.exec(query)).one())


async def list_report_photos(*, session: AsyncSession, report_id: int) -> Sequence[ReportPhoto]:
    result = await session.exec(
        select(ReportPhoto).where(ReportPhoto.report_id == report_id).order_by(col(ReportPhoto.id))
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
