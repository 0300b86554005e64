"""What flows may use for one event: the city, the report domain, media, the clock."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from bot.i18n import set_locale
from bot.messages import Media
from bot.settings import Settings
from broadcasts.groups import GroupCatalog
from reports.service import ReportService
from storage import repo, repo_outbound
from storage.city import City
from storage.media import MediaStore, StoredMedia

if TYPE_CHECKING:
    from sqlmodel.ext.asyncio.session import AsyncSession

    from bot.flows.base import Ctx, Flow


class FetchFirst(Exception):  # noqa: N818 - a signal to the engine, not an error
    """A flow wants a file the resident sent that is not downloaded yet. The engine rolls the
    event's transaction back, downloads outside any transaction (a slow photo holds no one's
    writes), and runs the event again with the file at hand, or, for a flow that can go on
    without it (`Services.photo_or_later`), marked late after a moment's wait."""


@dataclass(frozen=True, slots=True)
class LatePhoto:
    """A photo still downloading when the event went on: `photo_fetch` row ``fetch_id``."""

    fetch_id: int


@dataclass(slots=True)
class Services:
    settings: Settings
    city: City
    catalog: GroupCatalog  # the city's broadcast groups, built once per process
    media: MediaStore
    session: AsyncSession
    reports: ReportService
    flows: dict[str, Flow]
    now: Callable[[], datetime]
    understand: Callable[[Ctx], Awaitable[None]]
    presence: int | None = None  # this process's presence token (PostgreSQL; storage.db)

    async def save_media(self, media: Media) -> StoredMedia:
        """A file the person sent (a photo, a voice note), downloaded through its channel and
        kept in the media store (before the event's transaction: see FetchFirst); raises what
        stopped it."""
        if media.ready is None:
            raise FetchFirst()
        if isinstance(media.ready, Exception):
            raise media.ready
        return media.ready

    async def photo_or_later(self, ctx: Ctx, media: Media) -> StoredMedia | LatePhoto:
        """The stored photo; or, when it did not arrive in a moment, a row that receives it in
        the background (the resident need not wait for a slow download)."""
        if media.ready is None and media.late and media.ref:
            media.fetch_id = await repo.add_photo_fetch(
                session=self.session, identity_id=ctx.person.id, channel=ctx.person.channel,
                ref=media.ref, declared_size=media.size, now=self.now(),
                claimed_by=self.presence)
            return LatePhoto(media.fetch_id)
        return await self.save_media(media)

    async def photo_fetches(self, ids: list[int]) -> list[repo.FetchedPhoto]:
        return await repo.photo_fetches(session=self.session, ids=ids)

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
