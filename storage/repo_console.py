"""Repository functions for the staff console: login links, sessions, audit log, the inbox."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import func, or_, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.db import is_postgres
from storage.models import Identity, Report
from storage.models.agency import StaffMember
from storage.models.console import AuditEntry, ConsoleSession, LoginLink, ReportNote

# --- login links and sessions ----------------------------------------------------------------


async def add_login_link(*, session: AsyncSession, link: LoginLink) -> None:
    session.add(link)
    await session.flush()


async def spend_login_link(*, session: AsyncSession, token_hash: str,
                           now: datetime) -> int | None:
    """Mark an unused, unexpired link used and return its staff id; None when it is unknown,
    spent or expired. One UPDATE, so two browsers opening the same link cannot both get in."""
    found = (await session.exec(select(LoginLink).where(LoginLink.token_hash == token_hash))
             ).first()
    if found is None or found.used_at is not None or found.expires_at <= now:
        return None
    result = await session.exec(  # type: ignore[call-overload]
        update(LoginLink)
        .where(col(LoginLink.id) == found.id, col(LoginLink.used_at).is_(None))
        .values(used_at=now))
    return found.staff_id if result.rowcount == 1 else None


async def add_session(*, session: AsyncSession, row: ConsoleSession) -> None:
    session.add(row)
    await session.flush()


async def get_session(*, session: AsyncSession, id_hash: str) -> ConsoleSession | None:
    return (await session.exec(select(ConsoleSession).where(ConsoleSession.id_hash == id_hash))
            ).first()


async def touch_session(*, session: AsyncSession, row_id: int, now: datetime) -> None:
    await session.exec(  # type: ignore[call-overload]
        update(ConsoleSession).where(col(ConsoleSession.id) == row_id).values(last_seen_at=now))


async def end_session(*, session: AsyncSession, row_id: int, now: datetime) -> None:
    await session.exec(  # type: ignore[call-overload]
        update(ConsoleSession)
        .where(col(ConsoleSession.id) == row_id, col(ConsoleSession.ended_at).is_(None))
        .values(ended_at=now))


async def end_sessions_of(*, session: AsyncSession, staff_id: int, now: datetime) -> int:
    result = await session.exec(  # type: ignore[call-overload]
        update(ConsoleSession)
        .where(col(ConsoleSession.staff_id) == staff_id, col(ConsoleSession.ended_at).is_(None))
        .values(ended_at=now))
    return int(result.rowcount or 0)


async def get_staff_by_id(*, session: AsyncSession, staff_id: int) -> StaffMember | None:
    return await session.get(StaffMember, staff_id)


# --- audit -----------------------------------------------------------------------------------


async def add_audit(*, session: AsyncSession, entry: AuditEntry) -> None:
    session.add(entry)
    await session.flush()


async def list_audit(*, session: AsyncSession, target: str | None = None,
                     staff_id: int | None = None, action: str | None = None,
                     limit: int = 100) -> Sequence[AuditEntry]:
    query = select(AuditEntry).order_by(col(AuditEntry.at).desc(), col(AuditEntry.id).desc())
    if target is not None:
        query = query.where(AuditEntry.target == target)
    if action is not None:
        query = query.where(col(AuditEntry.action).startswith(action, autoescape=True))
    if staff_id is not None:
        query = query.where(AuditEntry.staff_id == staff_id)
    return (await session.exec(query.limit(limit))).all()


# --- the inbox -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class InboxFilter:
    """What the console's inbox shows: every field optional; `agency_key` also scopes an
    agency's staff to their own reports."""

    statuses: tuple[str, ...] = ()
    agency_key: str | None = None
    kecamatan_code: str | None = None
    kelurahan_code: str | None = None
    category_key: str | None = None
    channel: str | None = None
    overdue_at: datetime | None = None  # only reports whose deadline passed before this
    created_from: datetime | None = None
    created_until: datetime | None = None
    text: str | None = None  # a ticket or words of the description


def _filtered(query: Any, where: InboxFilter, session: AsyncSession) -> Any:
    if where.statuses:
        query = query.where(col(Report.status).in_(where.statuses))
    if where.agency_key:
        query = query.where(Report.agency_key == where.agency_key)
    if where.kecamatan_code:
        query = query.where(Report.kecamatan_code == where.kecamatan_code)
    if where.kelurahan_code:
        query = query.where(Report.kelurahan_code == where.kelurahan_code)
    if where.category_key:
        query = query.where(Report.category_key == where.category_key)
    if where.channel:
        query = query.where(Report.channel == where.channel)
    if where.overdue_at is not None:
        query = query.where(col(Report.due_at) < where.overdue_at)
    if where.created_from is not None:
        query = query.where(col(Report.created_at) >= where.created_from)
    if where.created_until is not None:
        query = query.where(col(Report.created_at) < where.created_until)
    if where.text:
        words = where.text.strip()
        pattern = "%" + words.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        query = query.where(or_(_contains(col(Report.ticket), pattern, session),
                                _contains(col(Report.description), pattern, session)))
    return query


def _contains(column: Any, pattern: str, session: AsyncSession) -> Any:
    """`column` matches the LIKE `pattern` whatever the case. SQLite's LIKE already ignores
    the case of ASCII letters (and its lower() folds no others), so the lower() on both sides
    that ILIKE becomes there would only cost a function call per row: half the time of a search
    over 100,000 descriptions."""
    if is_postgres(session):
        return column.ilike(pattern, escape="\\")
    return column.like(pattern, escape="\\")


async def inbox_page(*, session: AsyncSession, where: InboxFilter,
                     after: tuple[datetime | None, int] | None, limit: int,
                     newest_first: bool = False) -> list[Report]:
    """One page of reports, by deadline (the nearest first, those without one last), then id;
    `after` is the (deadline, id) of the last report of the previous page (keyset paging).
    `newest_first` (closed reports, which have no deadline): the latest filed first."""
    query = _filtered(select(Report), where, session)
    if newest_first:
        if after is not None:
            query = query.where(col(Report.id) < after[1])
        query = query.order_by(col(Report.id).desc())
        return list((await session.exec(query.limit(limit))).all())
    if after is not None:
        due, last_id = after
        if due is None:
            query = query.where(col(Report.due_at).is_(None), col(Report.id) > last_id)
        else:
            query = query.where(or_(
                col(Report.due_at) > due,
                (col(Report.due_at) == due) & (col(Report.id) > last_id),
                col(Report.due_at).is_(None)))
    query = query.order_by(col(Report.due_at).is_(None), col(Report.due_at), col(Report.id))
    return list((await session.exec(query.limit(limit))).all())


async def count_by_status(*, session: AsyncSession, where: InboxFilter) -> dict[str, int]:
    """Reports per status under the filter (the statuses themselves not applied)."""
    query = _filtered(select(Report.status, func.count()), replace(where, statuses=()),
                      session)
    return {status: int(n) for status, n in (await session.exec(query.group_by(Report.status)))
            .all()}


async def identities_by_id(*, session: AsyncSession, ids: Sequence[int]) -> dict[int, Identity]:
    if not ids:
        return {}
    rows = (await session.exec(select(Identity).where(col(Identity.id).in_(list(ids))))).all()
    return {row.id or 0: row for row in rows}


async def lock_report(*, session: AsyncSession, ticket: str) -> Report | None:
    """The report, its row locked until the transaction ends (PostgreSQL; SQLite's writer is
    one at a time anyway): two staff acting at once act one after the other."""
    query = select(Report).where(Report.ticket == ticket.upper()).with_for_update()
    return (await session.exec(query)).first()


async def count_login_links_since(*, session: AsyncSession, staff_id: int,
                                  since: datetime) -> int:
    query = select(func.count()).select_from(LoginLink).where(
        LoginLink.staff_id == staff_id, col(LoginLink.created_at) >= since)
    return int((await session.exec(query)).one())


async def count_by_kelurahan(*, session: AsyncSession, where: InboxFilter) -> dict[str, int]:
    """Reports per kelurahan under the filter (for the map)."""
    query = _filtered(select(Report.kelurahan_code, func.count()), where, session)
    rows = (await session.exec(query.group_by(Report.kelurahan_code))).all()
    return {code: int(n) for code, n in rows if code}


async def add_note(*, session: AsyncSession, note: ReportNote) -> ReportNote:
    session.add(note)
    await session.flush()
    return note


async def list_notes(*, session: AsyncSession, report_id: int) -> Sequence[ReportNote]:
    query = select(ReportNote).where(ReportNote.report_id == report_id).order_by(
        col(ReportNote.created_at), col(ReportNote.id))
    return (await session.exec(query)).all()
