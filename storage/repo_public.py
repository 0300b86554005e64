"""Repository functions for the public side: publishing decisions, and the reports the public
pages and the open data read."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import delete
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import Report, ReportEvent, ReportPhoto
from storage.models.public import PublicNote, PublicPhoto, ReportPublication

# Rows per IN (...) list: under every database's parameter limit.
_CHUNK = 500


def _chunks(ids: Iterable[int]) -> list[list[int]]:
    unique = sorted(set(ids))
    return [unique[n:n + _CHUNK] for n in range(0, len(unique), _CHUNK)]


# --- decisions -------------------------------------------------------------------------------


async def get_publication(*, session: AsyncSession, report_id: int) -> ReportPublication | None:
    return await session.get(ReportPublication, report_id)


async def save_publication(*, session: AsyncSession,
                           publication: ReportPublication) -> ReportPublication:
    session.add(publication)
    await session.flush()
    return publication


async def publications_for(*, session: AsyncSession,
                           report_ids: Iterable[int]) -> dict[int, ReportPublication]:
    found: dict[int, ReportPublication] = {}
    for chunk in _chunks(report_ids):
        rows = await session.exec(select(ReportPublication)
                                  .where(col(ReportPublication.report_id).in_(chunk)))
        found.update({row.report_id: row for row in rows.all()})
    return found


async def get_public_photo(*, session: AsyncSession, photo_id: int) -> PublicPhoto | None:
    return await session.get(PublicPhoto, photo_id)


async def add_public_photo(*, session: AsyncSession, photo: PublicPhoto) -> None:
    session.add(photo)
    await session.flush()


async def remove_public_photo(*, session: AsyncSession, photo_id: int) -> None:
    await session.exec(delete(PublicPhoto)  # type: ignore[call-overload]
                       .where(col(PublicPhoto.photo_id) == photo_id))


async def public_photos_for(*, session: AsyncSession,
                            report_ids: Iterable[int]) -> dict[int, list[ReportPhoto]]:
    """The approved photos of each report, in the order they were sent."""
    found: dict[int, list[ReportPhoto]] = {}
    for chunk in _chunks(report_ids):
        rows = await session.exec(
            select(ReportPhoto)
            .join(PublicPhoto, col(PublicPhoto.photo_id) == col(ReportPhoto.id))
            .where(col(ReportPhoto.report_id).in_(chunk))
            .order_by(col(ReportPhoto.id)))
        for photo in rows.all():
            found.setdefault(photo.report_id, []).append(photo)
    return found


async def note_decisions_for(*, session: AsyncSession,
                             report_ids: Iterable[int]) -> dict[int, bool]:
    """Staff's decisions on history notes: event id → shown to the public or not."""
    found: dict[int, bool] = {}
    for chunk in _chunks(report_ids):
        rows = await session.exec(select(PublicNote).where(col(PublicNote.report_id).in_(chunk)))
        found.update({row.event_id: row.public for row in rows.all()})
    return found


async def decide_note(*, session: AsyncSession, event: ReportEvent, public: bool,
                      staff_id: int, now: datetime) -> None:
    row = await session.get(PublicNote, event.id)
    if row is None:
        row = PublicNote(event_id=event.id or 0, report_id=event.report_id, public=public,
                         decided_by=staff_id, decided_at=now)
    else:
        row.public, row.decided_by, row.decided_at = public, staff_id, now
    session.add(row)
    await session.flush()


# --- reading reports -------------------------------------------------------------------------


class EventRow(NamedTuple):
    """A report_event row read without the ORM's bookkeeping (several times cheaper than a
    ReportEvent when a whole city's reports are read): the same fields, read-only."""

    id: int
    report_id: int
    status: str
    at: datetime
    note: str | None
    actor_id: int | None


async def event_rows_for(*, session: AsyncSession,
                         report_ids: Iterable[int]) -> dict[int, list[EventRow]]:
    """Each report's history, oldest first."""
    ids = sorted(set(report_ids))
    found: dict[int, list[EventRow]] = {i: [] for i in ids}
    columns = (ReportEvent.id, ReportEvent.report_id, ReportEvent.status, ReportEvent.at,
               ReportEvent.note, ReportEvent.actor_id)
    for chunk in _chunks(ids):
        rows = await session.exec(select(*columns)  # type: ignore[call-overload]
                                  .where(col(ReportEvent.report_id).in_(chunk))
                                  .order_by(col(ReportEvent.at), col(ReportEvent.id)))
        for row in rows.all():
            found[row[1]].append(EventRow(*row))
    return found


async def photo_with_report(*, session: AsyncSession,
                            photo_id: int) -> tuple[ReportPhoto, Report] | None:
    photo = await session.get(ReportPhoto, photo_id)
    if photo is None:
        return None
    report = await session.get(Report, photo.report_id)
    return (photo, report) if report is not None else None


async def tickets_by_id(*, session: AsyncSession, report_ids: Iterable[int]) -> dict[int, str]:
    found: dict[int, str] = {}
    for chunk in _chunks(report_ids):
        rows = await session.exec(select(Report.id, Report.ticket)
                                  .where(col(Report.id).in_(chunk)))
        found.update({report_id: ticket for report_id, ticket in rows.all() if report_id})
    return found


async def list_reports_after(*, session: AsyncSession, after_id: int, limit: int,
                             created_from: datetime | None = None,
                             created_until: datetime | None = None) -> Sequence[Report]:
    """Reports by id after `after_id` (keyset paging for the open data), filed in
    [created_from, created_until) when given."""
    query = select(Report).where(col(Report.id) > after_id)
    if created_from is not None:
        query = query.where(col(Report.created_at) >= created_from)
    if created_until is not None:
        query = query.where(col(Report.created_at) < created_until)
    return (await session.exec(query.order_by(col(Report.id)).limit(limit))).all()


async def list_recently_resolved(*, session: AsyncSession, resolved: str,
                                 statuses: Sequence[str], limit: int) -> list[Report]:
    """Reports now in `statuses` (resolved or closed), the latest move to `resolved` first.

    The latest `resolved` moves are taken first (a top-N read, no grouping of the whole
    history), a few more than asked, since some were reopened since."""
    latest = (await session.exec(
        select(ReportEvent.report_id).where(ReportEvent.status == resolved)
        .order_by(col(ReportEvent.at).desc(), col(ReportEvent.id).desc())
        .limit(limit * 4))).all()
    order = list(dict.fromkeys(latest))
    if not order:
        return []
    found = {r.id: r for r in (await session.exec(
        select(Report).where(col(Report.id).in_(order), col(Report.status).in_(list(statuses)))
    )).all()}
    return [found[i] for i in order if i in found][:limit]
