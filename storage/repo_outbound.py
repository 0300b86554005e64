"""Repository functions for outbound messages, messages waiting for a window, and opt-outs."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import Identity
from storage.models.outbound import (
    STATUS_RANK,
    OutboundMessage,
    OutboundStatus,
    PendingMessage,
)
from storage.types import utcnow


async def create_outbound(
    *,
    session: AsyncSession,
    channel: str,
    user_key: str,
    identity_id: int | None,
    kind: str,
    status: str = OutboundStatus.QUEUED,
    body_length: int = 0,
    error_code: int | None = None,
    delivery_id: int | None = None,
    provider_id: str | None = None,
    now: datetime | None = None,
) -> OutboundMessage:
    moment = now or utcnow()
    message = OutboundMessage(
        channel=channel,
        user_key=user_key,
        identity_id=identity_id,
        kind=kind,
        status=status,
        body_length=body_length,
        error_code=error_code,
        delivery_id=delivery_id,
        provider_id=provider_id,
        created_at=moment,
        updated_at=moment,
    )
    session.add(message)
    await session.flush()
    return message


async def advance_outbound(
    *,
    session: AsyncSession,
    status: str,
    outbound_id: int | None = None,
    provider_id: str | None = None,
    error_code: int | None = None,
    now: datetime | None = None,
) -> OutboundMessage | None:
    """Move a message forward to `status`; never backwards (callbacks arrive out of order).

    Found by our id when given (it then also learns `provider_id` if it lacks one), else by
    `provider_id`. None when no such message exists.
    """
    query = select(OutboundMessage).with_for_update()
    if outbound_id is not None:
        query = query.where(OutboundMessage.id == outbound_id)
    elif provider_id is not None:
        query = query.where(OutboundMessage.provider_id == provider_id)
    else:
        return None
    message = (await session.exec(query)).first()
    if message is None:
        return None
    if provider_id is not None and outbound_id is not None:
        if message.provider_id is None:
            message.provider_id = provider_id
        elif message.provider_id != provider_id:
            return None
    if STATUS_RANK.get(status, 0) > STATUS_RANK.get(message.status, 0):
        message.status = status
        if error_code is not None:
            message.error_code = error_code
    message.updated_at = now or utcnow()
    session.add(message)
    await session.flush()
    return message


async def set_outbound_status(
    *,
    session: AsyncSession,
    outbound_id: int,
    status: str,
    error_code: int | None = None,
    now: datetime | None = None,
) -> None:
    """Set a status regardless of rank (our own decisions: retry later, give up)."""
    await session.exec(
        update(OutboundMessage)  # type: ignore[call-overload]
        .where(col(OutboundMessage.id) == outbound_id)
        .values(status=status, error_code=error_code, updated_at=now or utcnow())
    )


# --- messages waiting for the resident's next message ------------------------------------------


async def add_pending(
    *, session: AsyncSession, outbound_id: int, identity_id: int, text: str,
    now: datetime | None = None,
) -> PendingMessage:
    pending = PendingMessage(outbound_id=outbound_id, identity_id=identity_id, text=text,
                             created_at=now or utcnow())
    session.add(pending)
    await session.flush()
    return pending


async def list_pending(
    *, session: AsyncSession, identity_id: int
) -> Sequence[tuple[PendingMessage, OutboundMessage]]:
    """Waiting messages for one person, oldest first."""
    result = await session.exec(
        select(PendingMessage, OutboundMessage)
        .join(OutboundMessage, col(OutboundMessage.id) == col(PendingMessage.outbound_id))
        .where(PendingMessage.identity_id == identity_id)
        .where(OutboundMessage.status == OutboundStatus.PENDING_WINDOW)
        .order_by(col(PendingMessage.id))
    )
    return result.all()


async def claim_pending(*, session: AsyncSession, outbound_id: int,
                        now: datetime | None = None) -> bool:
    """Take a waiting message for sending; False when another worker took it first."""
    result = await session.exec(
        update(OutboundMessage)  # type: ignore[call-overload]
        .where(col(OutboundMessage.id) == outbound_id)
        .where(col(OutboundMessage.status) == OutboundStatus.PENDING_WINDOW)
        .values(status=OutboundStatus.QUEUED, updated_at=now or utcnow())
    )
    return bool(result.rowcount)


async def delete_pending(*, session: AsyncSession, outbound_id: int) -> None:
    """Forget a waiting message's text once it was sent (or given up)."""
    await session.exec(
        delete(PendingMessage)  # type: ignore[call-overload]
        .where(col(PendingMessage.outbound_id) == outbound_id)
    )


# --- identities: the window and opting out ------------------------------------------------------


async def set_opted_out(*, session: AsyncSession, identity_id: int, opted_out: bool) -> bool:
    """Record whether a person wants messages other than replies; returns the previous value."""
    identity = await session.get(Identity, identity_id)
    if identity is None:
        return False
    previous = identity.opted_out
    identity.opted_out = opted_out
    session.add(identity)
    await session.flush()
    return previous
