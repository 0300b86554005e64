"""Repository functions for Open311 partners: API keys, the requests they posted, and the
reports the public API lists."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import Report
from storage.models.partner import ApiKey, ServiceRequest

# --- keys ------------------------------------------------------------------------------------


async def add_api_key(*, session: AsyncSession, key: ApiKey) -> ApiKey:
    session.add(key)
    await session.flush()
    return key


async def save_api_key(*, session: AsyncSession, key: ApiKey) -> ApiKey:
    session.add(key)
    await session.flush()
    return key


async def get_api_key_by_hash(*, session: AsyncSession, key_hash: str,
                              lock: bool = False) -> ApiKey | None:
    """The key with this hash; `lock` holds its row until the transaction ends (one key's
    posts are counted against its limit one at a time)."""
    query = select(ApiKey).where(ApiKey.key_hash == key_hash)
    if lock:
        query = query.with_for_update()
    return (await session.exec(query)).first()


async def get_api_key(*, session: AsyncSession, key_id: int) -> ApiKey | None:
    return await session.get(ApiKey, key_id)


async def get_api_key_by_name(*, session: AsyncSession, name: str) -> ApiKey | None:
    return (await session.exec(select(ApiKey).where(ApiKey.name == name))).first()


async def list_api_keys(*, session: AsyncSession) -> Sequence[ApiKey]:
    return (await session.exec(select(ApiKey).order_by(col(ApiKey.id)))).all()


async def requests_since(*, session: AsyncSession, api_key_id: int,
                         since: datetime) -> tuple[int, datetime | None]:
    """How many requests a key posted after `since`, and when the oldest of them was."""
    query = (select(func.count(), func.min(ServiceRequest.created_at))
             .where(ServiceRequest.api_key_id == api_key_id,
                    col(ServiceRequest.created_at) > since))
    count, oldest = (await session.exec(query)).one()  # type: ignore[call-overload]
    if oldest is not None and oldest.tzinfo is None:  # SQLite returns the aggregate naive
        from datetime import UTC

        oldest = oldest.replace(tzinfo=UTC)
    return int(count), oldest


async def count_requests(*, session: AsyncSession, api_key_ids: Sequence[int]) -> dict[int, int]:
    """How many requests each key posted, ever."""
    if not api_key_ids:
        return {}
    rows = await session.exec(
        select(ServiceRequest.api_key_id, func.count())  # type: ignore[call-overload]
        .where(col(ServiceRequest.api_key_id).in_(list(api_key_ids)))
        .group_by(col(ServiceRequest.api_key_id)))
    return {int(key_id): int(n) for key_id, n in rows.all()}


# --- requests --------------------------------------------------------------------------------


async def add_service_request(*, session: AsyncSession, row: ServiceRequest) -> ServiceRequest:
    session.add(row)
    await session.flush()
    return row


async def get_service_request(*, session: AsyncSession, report_id: int) -> ServiceRequest | None:
    return (await session.exec(
        select(ServiceRequest).where(ServiceRequest.report_id == report_id))).first()


async def ticket_for_token(*, session: AsyncSession, token: str) -> str | None:
    """The ticket of the report a request token stands for."""
    row = (await session.exec(
        select(Report.ticket).join(ServiceRequest, col(ServiceRequest.report_id) == col(Report.id))
        .where(ServiceRequest.token == token))).first()
    return row


# --- the public list -------------------------------------------------------------------------


async def list_reports_for_public(
    *, session: AsyncSession, tickets: Sequence[str] | None = None,
    created_from: datetime | None = None, created_until: datetime | None = None,
    category_keys: Sequence[str] | None = None, statuses: Sequence[str] | None = None,
    limit: int = 1000,
) -> Sequence[Report]:
    """Reports by ticket, or filed in a window (of some categories and statuses); newest
    first."""
    query = select(Report).order_by(col(Report.created_at).desc(), col(Report.id).desc())
    if tickets is not None:
        query = query.where(col(Report.ticket).in_([t.upper() for t in tickets]))
    if created_from is not None:
        query = query.where(col(Report.created_at) >= created_from)
    if created_until is not None:
        query = query.where(col(Report.created_at) <= created_until)
    if category_keys:
        query = query.where(col(Report.category_key).in_(list(category_keys)))
    if statuses:
        query = query.where(col(Report.status).in_(list(statuses)))
    return (await session.exec(query.limit(limit))).all()
