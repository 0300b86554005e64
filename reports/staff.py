"""Managing staff accounts and agency group links (the command line and /link use this)."""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlmodel.ext.asyncio.session import AsyncSession

from reports import access
from reports.roles import Role
from storage import repo_agencies
from storage.models.agency import StaffMember
from storage.phone import to_e164
from storage.types import utcnow

if TYPE_CHECKING:
    from storage.city import City

# No 0/O, 1/I/L: codes are read aloud and typed on phones.
_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"


class StaffError(ValueError):
    """A staff command that cannot be carried out; the message says why (in English, for the
    command line). `code` names the problem for the layers that word it in the reader's
    language, with the offending `value`."""

    def __init__(self, message: str, *, code: str = "", value: str = "") -> None:
        super().__init__(message)
        self.code = code
        self.value = value


@dataclass(frozen=True, slots=True)
class Account:
    channel: str
    user_key: str


def account_for(*, telegram_id: str | None = None, phone: str | None = None,
                terminal: str | None = None) -> Account:
    """The channel account a staff member acts from."""
    given = [v for v in (telegram_id, phone, terminal) if v]
    if len(given) != 1:
        raise StaffError("give exactly one of --telegram-id or --phone")
    if telegram_id:
        if not re.fullmatch(r"-?\d{1,20}", telegram_id.strip()):
            raise StaffError(f"not a Telegram user id: {telegram_id!r} (digits only)",
                             code="telegram_id", value=telegram_id)
        return Account("telegram", telegram_id.strip())
    if phone:
        e164 = to_e164(phone)
        if e164 is None:
            raise StaffError(f"not a phone number: {phone!r}", code="phone", value=phone)
        return Account("whatsapp", e164)
    assert terminal
    return Account("terminal", terminal.strip())


def signature(staff: StaffMember) -> str:
    """Who wrote, approved or sent a campaign or a poll, the same from the chat (any channel)
    and from the console: the name and the account number, so that two staff with one name are
    still two people for the approval rule, and one person is one wherever they act."""
    return f"{staff.name} (#{staff.id})"


async def staff_for(*, session: AsyncSession, channel: str, user_key: str) -> StaffMember | None:
    """The staff account of a channel account, if it has one (active or not)."""
    return await repo_agencies.get_staff(session=session, channel=channel, user_key=user_key)


def _check_city_agency(city: City, agency_key: str) -> None:
    """Refuse a key that is not one of the city government's own agencies."""
    agency = city.agency(agency_key)
    if agency is None:
        raise StaffError(f"unknown agency {agency_key!r}", code="agency", value=agency_key)
    if agency.external:
        raise StaffError(f"{agency_key!r} is not a city agency", code="external_agency",
                         value=agency.short_name)


async def add_staff(
    *, session: AsyncSession, city: City, role: str, name: str, account: Account,
    agency_key: str | None = None,
) -> StaffMember:
    """Create (or update and reactivate) the staff account of one channel account."""
    try:
        parsed = Role(role)
    except ValueError:
        raise StaffError(f"unknown role {role!r}; use one of "
                         f"{', '.join(r.value for r in Role)}") from None
    if parsed == Role.LEADERSHIP and agency_key:
        raise StaffError("leadership reads the whole city; leave out --agency")
    if parsed in (Role.OFFICER, Role.HEAD):
        if not agency_key:
            raise StaffError(f"a {parsed.value} needs --agency")
        _check_city_agency(city, agency_key)
    elif agency_key and city.agency(agency_key) is None:
        raise StaffError(f"unknown agency {agency_key!r}", code="agency", value=agency_key)
    if not name.strip():
        raise StaffError("a name is required")
    staff = await repo_agencies.get_staff(session=session, channel=account.channel,
                                          user_key=account.user_key)
    clean_name = name.strip()[:128]
    if staff is None:
        staff = StaffMember(channel=account.channel, user_key=account.user_key, role=parsed,
                            name=clean_name, agency_key=agency_key, active=True)
    else:
        staff.role = parsed
        staff.name = clean_name
        staff.agency_key = agency_key
        staff.active = True
    return await repo_agencies.save_staff(session=session, staff=staff)


async def remove_staff(*, session: AsyncSession, account: Account,
                       now: datetime | None = None) -> StaffMember:
    """Deactivate a staff account (kept, so the history still says who did what) and end its
    console sessions at once."""
    staff = await repo_agencies.get_staff(session=session, channel=account.channel,
                                          user_key=account.user_key)
    if staff is None or not staff.active:
        raise StaffError("no active staff member with that account", code="not_active")
    staff.active = False
    await access.end_sessions(session=session, staff=staff, now=now or utcnow())
    return await repo_agencies.save_staff(session=session, staff=staff)


async def login_link(*, session: AsyncSession, account: Account, now: datetime) -> str:
    """A one-time console login token for an active staff member (`emas staff login-link`)."""
    staff = await repo_agencies.get_staff(session=session, channel=account.channel,
                                          user_key=account.user_key)
    if staff is None or not staff.active:
        raise StaffError("no active staff member with that account", code="not_active")
    token = await access.issue_login_link(session=session, staff=staff, now=now,
                                          limited=False)
    await access.record(session=session, staff=None, action="login_link", now=now,
                        target=f"staff:{staff.id}", source="cli")
    return token


def _hash(code: str) -> str:
    cleaned = re.sub(r"[^0-9A-Z]", "", code.upper())
    return hashlib.sha256(cleaned.encode()).hexdigest()


async def make_link_code(
    *, session: AsyncSession, city: City, agency_key: str, now: datetime, hours: int
) -> tuple[str, datetime]:
    """A fresh one-time code for `/link CODE`; only its hash is stored."""
    _check_city_agency(city, agency_key)
    raw = "".join(secrets.choice(_ALPHABET) for _ in range(8))
    code = f"{raw[:4]}-{raw[4:]}"
    expires = now + timedelta(hours=hours)
    await repo_agencies.create_link_code(session=session, agency_key=agency_key,
                                         code_hash=_hash(code), now=now, expires_at=expires)
    return code, expires


class LinkNotAllowed(PermissionError):
    """Only the agency's own staff, or Kominfo, may link a group to it; the code stays unspent."""


def may_link(staff: StaffMember | None, agency_key: str) -> bool:
    return staff is not None and staff.active and (
        staff.role == Role.KOMINFO or staff.agency_key == agency_key)


async def redeem_link_code(
    *, session: AsyncSession, code: str, channel: str, chat_key: str, linked_by: int | None,
    staff: StaffMember | None, now: datetime,
) -> str | None:
    """Link the group to the code's agency; None when the code is unknown, used or expired.
    Raises LinkNotAllowed, spending nothing, when `staff` (who sent it) is not active staff of
    that agency or Kominfo: a group member who saw the code cannot link their own group."""
    pending = await repo_agencies.get_link_code(session=session, code_hash=_hash(code), now=now)
    if pending is None:
        return None
    if not may_link(staff, pending.agency_key):
        raise LinkNotAllowed(pending.agency_key)
    found = await repo_agencies.use_link_code(session=session, code_hash=_hash(code), now=now)
    if found is None:
        return None
    await repo_agencies.link_group(session=session, agency_key=found.agency_key,
                                   channel=channel, chat_key=chat_key, linked_by=linked_by,
                                   now=now)
    return found.agency_key
