"""Repository functions for the agencies' side: staff, groups, supporters, ratings, reminders."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import func, insert, or_, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.db import is_postgres, live_presence
from storage.models import Identity, Report, ReportEvent, ReportPhoto
from storage.models.agency import (
    AgencyGroup,
    LinkCode,
    Notification,
    Rating,
    ReminderSent,
    StaffMember,
    Supporter,
)


async def _add_unless_duplicate(session: AsyncSession, row: SQLModel) -> bool:
    """Insert a row in a savepoint; False (and nothing added) when a unique key already has it."""
    try:
        async with session.begin_nested():
            session.add(row)
            await session.flush()
    except IntegrityError:
        return False
    return True


# --- staff -----------------------------------------------------------------------------------


async def get_staff(*, session: AsyncSession, channel: str, user_key: str) -> StaffMember | None:
    result = await session.exec(
        select(StaffMember).where(StaffMember.channel == channel,
                                  StaffMember.user_key == user_key)
    )
    return result.first()


async def save_staff(*, session: AsyncSession, staff: StaffMember) -> StaffMember:
    session.add(staff)
    await session.flush()
    return staff


async def list_staff(
    *,
    session: AsyncSession,
    agency_key: str | None = None,
    roles: Iterable[str] | None = None,
    active_only: bool = True,
) -> Sequence[StaffMember]:
    query = select(StaffMember).order_by(col(StaffMember.agency_key), col(StaffMember.id))
    if agency_key is not None:
        query = query.where(StaffMember.agency_key == agency_key)
    if roles is not None:
        query = query.where(col(StaffMember.role).in_(list(roles)))
    if active_only:
        query = query.where(col(StaffMember.active).is_(True))
    return (await session.exec(query)).all()


# --- groups and link codes -------------------------------------------------------------------


async def create_link_code(
    *, session: AsyncSession, agency_key: str, code_hash: str, now: datetime,
    expires_at: datetime,
) -> LinkCode:
    code = LinkCode(agency_key=agency_key, code_hash=code_hash, created_at=now,
                    expires_at=expires_at)
    session.add(code)
    await session.flush()
    return code


async def get_link_code(
    *, session: AsyncSession, code_hash: str, now: datetime
) -> LinkCode | None:
    """A code that can still be spent (unused, unexpired), without spending it."""
    result = await session.exec(select(LinkCode).where(
        col(LinkCode.code_hash) == code_hash, col(LinkCode.used_at).is_(None),
        col(LinkCode.expires_at) > now))
    return result.first()


async def use_link_code(
    *, session: AsyncSession, code_hash: str, now: datetime
) -> LinkCode | None:
    """Spend a code: the first caller gets it, later callers (or expired codes) get None."""
    result = await session.exec(
        update(LinkCode)
        .where(
            col(LinkCode.code_hash) == code_hash,
            col(LinkCode.used_at).is_(None),
            col(LinkCode.expires_at) > now,
        )
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        return None
    found = await session.exec(select(LinkCode).where(LinkCode.code_hash == code_hash))
    return found.first()


async def link_group(
    *, session: AsyncSession, agency_key: str, channel: str, chat_key: str,
    linked_by: int | None, now: datetime,
) -> AgencyGroup:
    """Link a group chat to an agency; a group already linked moves to the new agency."""
    group = await get_group(session=session, channel=channel, chat_key=chat_key)
    if group is None:
        group = AgencyGroup(agency_key=agency_key, channel=channel, chat_key=chat_key)
    group.agency_key = agency_key
    group.linked_by = linked_by
    group.linked_at = now
    session.add(group)
    await session.flush()
    return group


async def get_group(*, session: AsyncSession, channel: str, chat_key: str) -> AgencyGroup | None:
    result = await session.exec(
        select(AgencyGroup).where(AgencyGroup.channel == channel,
                                  AgencyGroup.chat_key == chat_key)
    )
    return result.first()


async def list_groups(
    *, session: AsyncSession, agency_key: str | None = None
) -> Sequence[AgencyGroup]:
    query = select(AgencyGroup).order_by(col(AgencyGroup.agency_key), col(AgencyGroup.id))
    if agency_key is not None:
        query = query.where(AgencyGroup.agency_key == agency_key)
    return (await session.exec(query)).all()


async def unlink_groups(*, session: AsyncSession, agency_key: str) -> int:
    groups = await list_groups(session=session, agency_key=agency_key)
    for group in groups:
        await session.delete(group)
    await session.flush()
    return len(groups)


# --- identities ------------------------------------------------------------------------------


async def get_identities(
    *, session: AsyncSession, identity_ids: Iterable[int]
) -> dict[int, Identity]:
    ids = sorted(set(identity_ids))
    if not ids:
        return {}
    rows = (await session.exec(select(Identity).where(col(Identity.id).in_(ids)))).all()
    return {row.id or 0: row for row in rows}


# --- reports ---------------------------------------------------------------------------------


async def get_report(*, session: AsyncSession, report_id: int) -> Report | None:
    return await session.get(Report, report_id)


async def save_report(*, session: AsyncSession, report: Report) -> Report:
    session.add(report)
    await session.flush()
    return report


async def add_report_photo(*, session: AsyncSession, photo: ReportPhoto) -> ReportPhoto:
    session.add(photo)
    await session.flush()
    return photo


async def list_reports_by_status(
    *, session: AsyncSession, statuses: Iterable[str], without_deadline: bool = False
) -> Sequence[Report]:
    query = (
        select(Report)
        .where(col(Report.status).in_(list(statuses)))
        .order_by(col(Report.id))
    )
    if without_deadline:
        query = query.where(col(Report.due_at).is_(None))
    return (await session.exec(query)).all()


async def count_overdue(*, session: AsyncSession, statuses: Iterable[str],
                        as_of: datetime) -> list[tuple[str, str | None, int]]:
    """(status, agency, count) of the reports in `statuses` whose deadline passed by `as_of`."""
    query = (select(Report.status, Report.agency_key, func.count())
             .where(col(Report.status).in_(list(statuses)), col(Report.due_at) <= as_of)
             .group_by(col(Report.status), col(Report.agency_key)))
    return [(status, agency, int(n)) for status, agency, n in (await session.exec(query)).all()]


async def list_reports_created(
    *, session: AsyncSession, start: datetime, end: datetime
) -> Sequence[Report]:
    """Reports filed in [start, end)."""
    query = (
        select(Report)
        .where(col(Report.created_at) >= start, col(Report.created_at) < end)
        .order_by(col(Report.id))
    )
    return (await session.exec(query)).all()


async def list_events_for(
    *, session: AsyncSession, report_ids: Iterable[int]
) -> dict[int, list[ReportEvent]]:
    ids = sorted(set(report_ids))
    found: dict[int, list[ReportEvent]] = {i: [] for i in ids}
    # Chunks keep the IN list under every database's parameter limit.
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        rows = (
            await session.exec(
                select(ReportEvent)
                .where(col(ReportEvent.report_id).in_(chunk))
                .order_by(col(ReportEvent.at), col(ReportEvent.id))
            )
        ).all()
        for row in rows:
            found[row.report_id].append(row)
    return found


class ReportFacts(NamedTuple):
    """What a period's figures read of one report: plain values rather than ORM objects (a
    week's thousands of reports and their histories load several times faster)."""

    id: int
    status: str
    category_key: str
    agency_key: str | None
    kecamatan_code: str | None
    kelurahan_code: str | None


class EventFacts(NamedTuple):
    report_id: int
    status: str
    at: datetime
    actor_id: int | None


async def report_facts_created(*, session: AsyncSession, start: datetime,
                               end: datetime) -> list[ReportFacts]:
    """The reports filed in [start, end), in filing order."""
    query = (select(Report.id, Report.status, Report.category_key,  # type: ignore[call-overload]
                    Report.agency_key, Report.kecamatan_code, Report.kelurahan_code)
             .where(col(Report.created_at) >= start, col(Report.created_at) < end)
             .order_by(col(Report.id)))
    return [ReportFacts(*row) for row in (await session.exec(query)).all()]


async def event_facts_created(*, session: AsyncSession, start: datetime,
                              end: datetime) -> dict[int, list[EventFacts]]:
    """The histories of the reports filed in [start, end), each in order: one query."""
    query = (select(ReportEvent.report_id, ReportEvent.status, ReportEvent.at,
                    ReportEvent.actor_id)
             .join(Report, col(Report.id) == col(ReportEvent.report_id))
             .where(col(Report.created_at) >= start, col(Report.created_at) < end)
             .order_by(col(ReportEvent.report_id), col(ReportEvent.at), col(ReportEvent.id)))
    found: dict[int, list[EventFacts]] = {}
    for row in (await session.exec(query)).all():
        found.setdefault(row[0], []).append(EventFacts(*row))
    return found


async def list_events_between(
    *, session: AsyncSession, status: str, start: datetime, end: datetime
) -> Sequence[ReportEvent]:
    query = select(ReportEvent).where(
        ReportEvent.status == status,
        col(ReportEvent.at) >= start,
        col(ReportEvent.at) < end,
    )
    return (await session.exec(query)).all()


async def list_open_candidates(
    *,
    session: AsyncSession,
    category_key: str,
    statuses: Iterable[str],
    kelurahan_code: str | None,
    box: tuple[float, float, float, float] | None,
    limit: int = 200,
) -> Sequence[Report]:
    """Open reports of one category in a kelurahan or inside a lat/lon box (min, max pairs)."""
    places: list[Any] = []
    if kelurahan_code:
        places.append(col(Report.kelurahan_code) == kelurahan_code)
    if box is not None:
        lat_min, lat_max, lon_min, lon_max = box
        places.append(
            (col(Report.latitude) >= lat_min) & (col(Report.latitude) <= lat_max)
            & (col(Report.longitude) >= lon_min) & (col(Report.longitude) <= lon_max)
        )
    if not places:
        return []
    query = (
        select(Report)
        .where(Report.category_key == category_key, col(Report.status).in_(list(statuses)),
               or_(*places))
        .order_by(col(Report.created_at).desc())
        .limit(limit)
    )
    return (await session.exec(query)).all()


# --- supporters ------------------------------------------------------------------------------


async def add_supporter(
    *, session: AsyncSession, report_id: int, identity_id: int, now: datetime
) -> bool:
    """Add a supporter; False when they already support the report."""
    return await _add_unless_duplicate(
        session, Supporter(report_id=report_id, identity_id=identity_id, created_at=now)
    )


async def list_supporter_ids(*, session: AsyncSession, report_id: int) -> list[int]:
    rows = await session.exec(
        select(Supporter.identity_id).where(Supporter.report_id == report_id)
        .order_by(col(Supporter.id))
    )
    return list(rows.all())


async def count_supporters(
    *, session: AsyncSession, report_ids: Iterable[int]
) -> dict[int, int]:
    ids = sorted(set(report_ids))
    if not ids:
        return {}
    rows = await session.exec(
        select(Supporter.report_id, func.count())
        .where(col(Supporter.report_id).in_(ids))
        .group_by(col(Supporter.report_id))
    )
    counts = {i: 0 for i in ids}
    for report_id, count in rows.all():
        counts[report_id] = int(count)
    return counts


# --- ratings ---------------------------------------------------------------------------------


async def add_rating(*, session: AsyncSession, rating: Rating) -> Rating | None:
    """Record an answer to "is it fixed?"; None when this resolution was answered already."""
    return rating if await _add_unless_duplicate(session, rating) else None


async def get_rating(
    *, session: AsyncSession, report_id: int, identity_id: int, resolved_event_id: int
) -> Rating | None:
    result = await session.exec(
        select(Rating).where(
            Rating.report_id == report_id,
            Rating.identity_id == identity_id,
            Rating.resolved_event_id == resolved_event_id,
        )
    )
    return result.first()


async def save_rating(*, session: AsyncSession, rating: Rating) -> Rating:
    session.add(rating)
    await session.flush()
    return rating


async def list_ratings_between(
    *, session: AsyncSession, start: datetime, end: datetime
) -> Sequence[Rating]:
    query = select(Rating).where(col(Rating.created_at) >= start, col(Rating.created_at) < end)
    return (await session.exec(query.order_by(col(Rating.id)))).all()


# --- reminders -------------------------------------------------------------------------------


async def record_reminder(
    *, session: AsyncSession, report_id: int, stage: str, step: str, anchor_event_id: int,
    delivered: bool, now: datetime,
) -> bool:
    """Take a ladder step; False when it was taken before (by this or another process)."""
    return await _add_unless_duplicate(
        session, ReminderSent(report_id=report_id, stage=stage, step=step,
                              anchor_event_id=anchor_event_id, delivered=delivered, sent_at=now)
    )


async def list_reminders(
    *, session: AsyncSession, report_ids: Iterable[int]
) -> set[tuple[int, str, str, int]]:
    ids = sorted(set(report_ids))
    taken: set[tuple[int, str, str, int]] = set()
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        rows = await session.exec(
            select(ReminderSent).where(col(ReminderSent.report_id).in_(chunk))
        )
        for row in rows.all():
            taken.add((row.report_id, row.stage, row.step, row.anchor_event_id))
    return taken


# --- the outbox ------------------------------------------------------------------------------


async def enqueue_notification(
    *, session: AsyncSession, notification: Notification
) -> Notification:
    session.add(notification)
    await session.flush()
    return notification


async def claim_notifications(
    *, session: AsyncSession, now: datetime, stale_before: datetime, limit: int = 50,
    owner: int | None = None,
) -> list[Notification]:
    """Take pending notifications for sending, and ones a crashed sender left half-way: on
    PostgreSQL at once when the claimer's presence lock is gone (Database.hold_presence),
    otherwise once the claim is older than ``stale_before``. ``owner`` is this process's
    presence token, written on the rows it takes."""
    postgres = is_postgres(session)
    stale = col(Notification.claimed_at) < stale_before
    if postgres:
        stale = or_(stale, col(Notification.claimed_by).is_not(None)
                    & col(Notification.claimed_by).not_in(live_presence()))
    query = (
        select(Notification)
        .where(
            or_(
                col(Notification.status) == "pending",
                (col(Notification.status) == "sending") & stale,
            )
        )
        .order_by(col(Notification.id))
        .limit(limit)
    )
    if postgres:
        query = query.with_for_update(skip_locked=True)
    rows = list((await session.exec(query)).all())
    for row in rows:
        row.status = "sending"
        row.claimed_at = now
        row.claimed_by = owner
        row.attempts += 1
        session.add(row)
    await session.flush()
    return rows


async def finish_notifications(
    *, session: AsyncSession, ids: Iterable[int], now: datetime, status: str = "sent",
    error: str | None = None,
) -> None:
    """Mark notifications done; the text is dropped once sent (only its kind is kept)."""
    wanted = list(ids)
    if not wanted:
        return
    values: dict[str, Any] = {"status": status, "error": error}
    if status == "sent":
        values.update(sent_at=now, payload={})
    await session.exec(
        update(Notification)
        .where(col(Notification.id).in_(wanted))
        .values(**values)
        .execution_options(synchronize_session=False)
    )


async def write_outbox(*, session: AsyncSession, rows: list[dict[str, Any]]) -> list[int]:
    """Write messages to the outbox in one statement; their ids, in the order given."""
    result = await session.exec(
        insert(Notification).returning(col(Notification.id), sort_by_parameter_order=True),
        params=rows)
    return [row_id for (row_id,) in result.all()]


# A message the outbox failed to send this many times is given up.
MAX_SEND_ATTEMPTS = 5


async def fail_notification(*, session: AsyncSession, row_id: int, error: str,
                            final: bool = False) -> None:
    """A send failed: the row is tried again by the outbox, or given up when ``final`` or
    after MAX_SEND_ATTEMPTS."""
    row = await session.get(Notification, row_id)
    if row is None or row.status == "sent":
        return
    row.status = "failed" if final or row.attempts >= MAX_SEND_ATTEMPTS else "pending"
    row.error = error
    session.add(row)


async def renew_claims(*, session: AsyncSession, ids: Iterable[int], now: datetime) -> None:
    """Rows still waiting in this process's lanes: their claim is still alive."""
    wanted = list(ids)
    if wanted:
        await session.exec(
            update(Notification)
            .where(col(Notification.id).in_(wanted), col(Notification.status) == "sending")
            .values(claimed_at=now)
            .execution_options(synchronize_session=False)
        )


async def release_notifications(*, session: AsyncSession, ids: Iterable[int] | None) -> int:
    """Claimed rows back to the outbox (``None``: every claimed row; for a process that owns
    the database alone, at start, the claims of its previous life)."""
    query = update(Notification).where(col(Notification.status) == "sending")
    if ids is not None:
        wanted = list(ids)
        if not wanted:
            return 0
        query = query.where(col(Notification.id).in_(wanted))
    result = await session.exec(
        query.values(status="pending").execution_options(synchronize_session=False))
    return int(getattr(result, "rowcount", 0) or 0)


async def list_notifications(
    *, session: AsyncSession, status: str | None = None
) -> Sequence[Notification]:
    query = select(Notification).order_by(col(Notification.id))
    if status is not None:
        query = query.where(Notification.status == status)
    return (await session.exec(query)).all()
