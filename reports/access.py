"""Who is signed in to the staff console, and what staff did: login links, sessions, audit.

Login links and session ids are random and shown once; the database keeps only their SHA-256,
so a copy of the database opens no one's console.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from storage import repo_console
from storage.models.agency import StaffMember
from storage.models.console import AuditEntry, ConsoleSession, LoginLink

LOGIN_LINK_TTL = timedelta(minutes=15)
SESSION_IDLE = timedelta(hours=12)
SESSION_ABSOLUTE = timedelta(days=7)
# A session's "last seen" is written at most this often (not on every page view).
TOUCH_EVERY = timedelta(minutes=1)


def digest(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


# Login links asked for in chat: at most this many per staff member in one link's lifetime.
LINKS_PER_TTL = 3


class TooManyLinks(Exception):  # noqa: N818 - a limit met, not a failure
    """Several login links were asked for within 15 minutes; the last ones still work."""


async def issue_login_link(*, session: AsyncSession, staff: StaffMember, now: datetime,
                           ttl: timedelta = LOGIN_LINK_TTL, limited: bool = True) -> str:
    """A fresh one-time token for `/console/login/<token>`; raises TooManyLinks when
    `limited` and LINKS_PER_TTL were already issued within `ttl`."""
    if staff.id is None or not staff.active:
        raise ValueError("only an active staff member gets a login link")
    if limited and await repo_console.count_login_links_since(
            session=session, staff_id=staff.id, since=now - ttl) >= LINKS_PER_TTL:
        raise TooManyLinks()
    token = secrets.token_urlsafe(32)
    await repo_console.add_login_link(session=session, link=LoginLink(
        staff_id=staff.id, token_hash=digest(token), created_at=now, expires_at=now + ttl))
    return token


@dataclass(frozen=True, slots=True)
class SignedIn:
    staff: StaffMember
    row: ConsoleSession


async def sign_in(*, session: AsyncSession, token: str, now: datetime) -> tuple[str, StaffMember] | None:
    """Spend a login link and open a session: (the raw session id for the cookie, who), or None
    when the link is unknown, used, expired, or its staff member is no longer active."""
    if not token or len(token) > 128:
        return None
    staff_id = await repo_console.spend_login_link(session=session, token_hash=digest(token),
                                                   now=now)
    if staff_id is None:
        return None
    staff = await repo_console.get_staff_by_id(session=session, staff_id=staff_id)
    if staff is None or not staff.active:
        return None
    raw = secrets.token_urlsafe(32)
    await repo_console.add_session(session=session, row=ConsoleSession(
        staff_id=staff_id, id_hash=digest(raw), created_at=now, last_seen_at=now,
        expires_at=now + SESSION_ABSOLUTE))
    await record(session=session, staff=staff, action="login", now=now)
    return raw, staff


async def signed_in(*, session: AsyncSession, raw: str | None, now: datetime,
                    touch: bool = True) -> SignedIn | None:
    """The live session a cookie names: not ended, not idle for 12 hours, not older than 7
    days, and its staff member still active (removing someone ends their sessions at once)."""
    if not raw or len(raw) > 128:
        return None
    row = await repo_console.get_session(session=session, id_hash=digest(raw))
    if row is None or row.ended_at is not None or row.expires_at <= now:
        return None
    if row.last_seen_at + SESSION_IDLE <= now:
        return None
    staff = await repo_console.get_staff_by_id(session=session, staff_id=row.staff_id)
    if staff is None or not staff.active:
        return None
    if touch and now - row.last_seen_at >= TOUCH_EVERY:
        await repo_console.touch_session(session=session, row_id=row.id or 0, now=now)
    return SignedIn(staff, row)


async def sign_out(*, session: AsyncSession, who: SignedIn, now: datetime) -> None:
    await repo_console.end_session(session=session, row_id=who.row.id or 0, now=now)
    await record(session=session, staff=who.staff, action="logout", now=now)


async def end_sessions(*, session: AsyncSession, staff: StaffMember, now: datetime) -> int:
    """Sign a staff member out everywhere (they were removed)."""
    return await repo_console.end_sessions_of(session=session, staff_id=staff.id or 0, now=now)


async def record(*, session: AsyncSession, staff: StaffMember | None, action: str, now: datetime,
                 target: str | None = None, source: str = "console",
                 detail: dict[str, Any] | None = None) -> None:
    """Append one line to the audit log, in the caller's transaction."""
    await repo_console.add_audit(session=session, entry=AuditEntry(
        at=now, staff_id=staff.id if staff is not None else None, source=source,
        action=action[:48], target=(target or None) and target[:64], detail=detail or {}))
