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


class FetchFirst(Exception):  # noqa: N818 - a signal to the engine, not an error
    """A flow wants a file the resident sent that is not downloaded yet. The engine rolls the
    event's transaction back, downloads outside any transaction (a slow photo holds no one's
    writes), and runs the event again with the file at hand."""


async def fetch_media(media: Media, store: MediaStore) -> None:
    """Download and store one file the resident sent; the outcome (the stored file, or why
    not) is kept on the Media for the flow to read."""
    if media.ready is not None:
        return
    try:
        if media.fetch is None:
            raise MediaRejected("not_image")
        if media.size is not None and media.size > store.max_bytes:
            raise MediaRejected("too_large")
        data = await media.fetch()
        # Decoding and re-encoding a 10 MB photo takes a while: not on the event loop.
        media.ready = await asyncio.to_thread(store.save_image, data)
    except Exception as exc:
        media.ready = exc


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
        """The photo, downloaded through its channel and kept in the media store (before the
        event's transaction: see FetchFirst); raises what stopped it."""
        if media.ready is None:
            raise FetchFirst()
        if isinstance(media.ready, Exception):
            raise media.ready
        return media.ready

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
