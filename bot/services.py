"""What flows may use for one event: the city, the report domain, media, the clock."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from bot.i18n import set_locale
from bot.messages import Media
from bot.settings import Settings
from reports.service import ReportService
from storage import repo_outbound
from storage.city import City
from storage.media import MediaRejected, MediaStore, StoredMedia

if TYPE_CHECKING:
    from sqlmodel.ext.asyncio.session import AsyncSession

    from bot.flows.base import Ctx, Flow


@dataclass(slots=True)
class Services:
    settings: Settings
    city: City
    media: MediaStore
    session: AsyncSession
    reports: ReportService
    flows: dict[str, Flow]
    now: Callable[[], datetime]
    understand: Callable[[Ctx], Awaitable[None]]

    async def save_photo(self, media: Media) -> StoredMedia:
        """Download a photo through its channel and keep it in the media store."""
        if media.fetch is None:
            raise MediaRejected("not_image")
        data = await media.fetch()
        # Decoding and re-encoding a 10 MB photo takes a while: not on the event loop.
        return await asyncio.to_thread(self.media.save_image, data)

    async def set_opted_out(self, ctx: Ctx, opted_out: bool) -> bool:
        """Stop (True) or resume (False) every message to this person that is not a reply to
        them; returns the previous setting."""
        return await repo_outbound.set_opted_out(
            session=self.session, identity_id=ctx.person.id, opted_out=opted_out
        )

    def set_locale(self, ctx: Ctx, locale: str) -> None:
        ctx.person.locale = locale
        ctx.locale_changed = locale
        set_locale(locale)
