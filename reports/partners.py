"""The city's partners on Open311: their API keys, their rate limit, and who a request they post
is filed as.

A key is random (256 bits) and shown once, when it is made; the database keeps only its
SHA-256, so a copy of the database posts nothing. Making and revoking a key is audited like
any other staff action. A request a partner posts is filed as a person of the `open311`
channel: one per contact the partner gives (an email or a phone number), else one per partner.
That person has no chat: what the lifecycle would tell them cannot be delivered, and the
contact details stay with the request, for staff only.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from reports import access
from storage import repo, repo_partners
from storage.models import Identity
from storage.models.partner import ApiKey, ServiceRequest

# The channel of reports posted through Open311 (Report.channel, Identity.channel).
CHANNEL = "open311"
KEY_PREFIX = "o311_"
NAME_MAX = 80
WINDOW = timedelta(hours=1)


class ApiKeyError(ValueError):
    """A key operation that cannot be done; the message is for the operator."""


def new_key() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(32)


def new_token() -> str:
    """The token a partner may follow a request by (public, like the ticket it stands for)."""
    return secrets.token_urlsafe(12)


def _clean_name(name: str) -> str:
    cleaned = " ".join(name.split())
    if not cleaned:
        raise ApiKeyError("a key needs a name (the partner's, e.g. --name \"Aplikasi Qlue\")")
    if len(cleaned) > NAME_MAX:
        raise ApiKeyError(f"the name is longer than {NAME_MAX} characters")
    if cleaned.isdigit():
        raise ApiKeyError("a name cannot be only digits (revoke takes an id or a name)")
    return cleaned


async def create_key(*, session: AsyncSession, name: str, now: datetime) -> tuple[ApiKey, str]:
    """A new key for a partner: (its row, the key itself, to be shown once)."""
    cleaned = _clean_name(name)
    if await repo_partners.get_api_key_by_name(session=session, name=cleaned) is not None:
        raise ApiKeyError(f"there is already a key named {cleaned!r} (revoked keys keep their "
                          "names); choose another name")
    raw = new_key()
    key = await repo_partners.add_api_key(session=session, key=ApiKey(
        name=cleaned, key_hash=access.digest(raw), created_at=now))
    await access.record(session=session, staff=None, action="apikey.create", now=now,
                        target=f"apikey:{key.id}", source="cli", detail={"name": cleaned})
    return key, raw


async def find_key(*, session: AsyncSession, id_or_name: str) -> ApiKey | None:
    """A key by its id ("3") or its name."""
    text = id_or_name.strip()
    if text.isdigit():
        found = await repo_partners.get_api_key(session=session, key_id=int(text))
        if found is not None:
            return found
    return await repo_partners.get_api_key_by_name(session=session, name=" ".join(text.split()))


async def revoke_key(*, session: AsyncSession, id_or_name: str, now: datetime) -> ApiKey:
    """Revoke a key at once: the next request posted with it is refused (403)."""
    key = await find_key(session=session, id_or_name=id_or_name)
    if key is None:
        raise ApiKeyError(f"no key {id_or_name!r} (see `emas apikey list`)")
    if key.revoked_at is not None:
        raise ApiKeyError(f"key #{key.id} ({key.name}) was revoked already")
    key.revoked_at = now
    await repo_partners.save_api_key(session=session, key=key)
    await access.record(session=session, staff=None, action="apikey.revoke", now=now,
                        target=f"apikey:{key.id}", source="cli", detail={"name": key.name})
    return key


async def list_keys(*, session: AsyncSession) -> list[dict[str, Any]]:
    """Every key (never the key itself): id, name, its times, and how many requests it posted."""
    keys = list(await repo_partners.list_api_keys(session=session))
    posted = await repo_partners.count_requests(session=session,
                                                api_key_ids=[k.id or 0 for k in keys])
    return [{"id": k.id, "name": k.name, "created_at": k.created_at,
             "last_used_at": k.last_used_at, "revoked_at": k.revoked_at,
             "active": k.revoked_at is None, "requests": posted.get(k.id or 0, 0)}
            for k in keys]


async def authenticate(*, session: AsyncSession, raw: str | None, now: datetime) -> ApiKey | None:
    """The active key `raw` is, held for this transaction and marked used; None when it is
    missing, unknown or revoked."""
    if not raw or len(raw) > 200:
        return None
    wanted = access.digest(raw.strip())
    key = await repo_partners.get_api_key_by_hash(session=session, key_hash=wanted, lock=True)
    # The lookup is by hash; the comparison is constant-time all the same.
    if key is None or not hmac.compare_digest(key.key_hash, wanted) or key.revoked_at is not None:
        return None
    key.last_used_at = now
    await repo_partners.save_api_key(session=session, key=key)
    return key


async def wait_before_next(*, session: AsyncSession, key: ApiKey, per_hour: int,
                           now: datetime) -> int | None:
    """Seconds until the key may post again when it posted `per_hour` requests in the last
    hour; None when it may post now (a limit of 0 is none)."""
    if per_hour <= 0:
        return None
    count, oldest = await repo_partners.requests_since(session=session, api_key_id=key.id or 0,
                                                       since=now - WINDOW)
    if count < per_hour:
        return None
    free_at = (oldest or now) + WINDOW
    return max(1, math.ceil((free_at - now).total_seconds()))


@dataclass(frozen=True, slots=True)
class Contact:
    """Who the partner says reported it; for staff only."""

    email: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    phone: str | None = None

    @property
    def name(self) -> str | None:
        full = " ".join(p for p in (self.first_name, self.last_name) if p)
        return full[:128] or None


async def reporter_for(*, session: AsyncSession, key: ApiKey, contact: Contact,
                       locale: str) -> Identity:
    """The person a partner's request is filed as: one per contact (email, else phone) of
    that partner, or the partner itself when it names no contact."""
    handle = (contact.email or "").casefold() or contact.phone
    user_key = str(key.id)
    if handle:
        user_key += ":" + hashlib.sha256(handle.encode()).hexdigest()[:40]
    identity = await repo.get_or_create_identity(session=session, channel=CHANNEL,
                                                 user_key=user_key, locale=locale)
    changed = False
    if contact.name and identity.display_name != contact.name:
        identity.display_name, changed = contact.name, True
    # The number the partner gave is the reporter's, as a chat reporter's is: a note or a text
    # naming it is not published (reports.publishing.names_reporter).
    if contact.phone and identity.phone != contact.phone:
        identity.phone, changed = contact.phone, True
    if identity.locale is None:
        identity.locale, changed = locale, True
    if changed:
        session.add(identity)
        await session.flush()
    return identity


async def record_request(*, session: AsyncSession, report_id: int, key: ApiKey,
                         contact: Contact, now: datetime, media_url: str | None = None,
                         device_id: str | None = None, account_id: str | None = None,
                         attributes: dict[str, Any] | None = None) -> ServiceRequest:
    """Keep what the partner sent with the report it became, and the token to follow it by."""
    return await repo_partners.add_service_request(session=session, row=ServiceRequest(
        report_id=report_id, api_key_id=key.id or 0, token=new_token(), email=contact.email,
        first_name=contact.first_name, last_name=contact.last_name, phone=contact.phone,
        device_id=device_id, account_id=account_id, media_url=media_url,
        attributes=attributes or {}, created_at=now))


async def request_source(*, session: AsyncSession, report_id: int) -> dict[str, Any] | None:
    """For staff: the partner a report came from and everything it sent with it."""
    row = await repo_partners.get_service_request(session=session, report_id=report_id)
    if row is None:
        return None
    key = await repo_partners.get_api_key(session=session, key_id=row.api_key_id)
    return {"api_key": row.api_key_id, "partner": key.name if key else None,
            "token": row.token, "email": row.email, "first_name": row.first_name,
            "last_name": row.last_name, "phone": row.phone, "device_id": row.device_id,
            "account_id": row.account_id, "media_url": row.media_url,
            "attributes": row.attributes}
