"""Who may compose, approve and send campaigns from chat: Kominfo staff."""

from __future__ import annotations

from sqlmodel.ext.asyncio.session import AsyncSession

from emas.storage import repo_broadcasts as repo

KOMINFO_ROLES = ("kominfo",)


async def is_kominfo_staff(session: AsyncSession, *, channel: str, user_key: str) -> bool:
    """True for an active Kominfo staff account on this channel; nobody else broadcasts."""
    found = await repo.is_staff(session=session, channel=channel, user_key=user_key,
                                roles=KOMINFO_ROLES)
    return bool(found)
