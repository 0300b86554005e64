"""Photos fetched in the background (ARCHITECTURE rule 6).

A resident's photo is downloaded outside every transaction. When it is in within a moment
(``Engine.photo_wait``), the conversation goes on as if it had been there all along. When it is
not (a slow connection, an 8 MB photo), the bot answers at once and the download goes on here:
the draft keeps a `photo_fetch` row, the report takes the photo when it arrives (also after it
was sent), and a photo that cannot be received is told to the resident, in their language.

Pending rows outlive the process: after a crash they are fetched again by their channel
reference (a Telegram file id, a Twilio media URL).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from bot.i18n import gettext as _
from bot.i18n import use_locale
from bot.messages import Kind, Media, Reply, reply_payload
from storage import repo, repo_agencies
from storage.db import Database
from storage.media import MediaRejected, MediaStore, StoredMedia

if TYPE_CHECKING:
    from sqlmodel.ext.asyncio.session import AsyncSession

logger = logging.getLogger(__name__)

# A download another process started and did not finish in this time is taken over (it died).
CLAIM_TIMEOUT = timedelta(minutes=3)
RECOVER_EVERY = 60.0
# A photo that could not be fetched this many times is given up, and the resident told.
MAX_ATTEMPTS = 3
# At shutdown, downloads under way get this long; the rest are fetched again at the next start.
SHUTDOWN_WAIT = 5.0

Refetch = Callable[[str, int | None], Callable[[], Awaitable[bytes]]]


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
        if media.kind == Kind.VOICE:
            media.ready = await asyncio.to_thread(store.save_audio, data)
            return
        # Decoding and re-encoding a 10 MB photo takes a while: not on the event loop.
        media.ready = await store.save_image_later(data)
    except Exception as exc:
        media.ready = exc


def _reason(error: object) -> str:
    if isinstance(error, MediaRejected):
        return error.reason
    return "unavailable"


def failure_text(reason: str, *, ticket: str | None, limit_mb: int) -> str:
    """What the resident is told about a photo that did not arrive (in the current locale)."""
    if reason == "too_large":
        why = _("the file is too large (the limit is {mb} MB)").format(mb=limit_mb)
    elif reason in ("not_image", "empty"):
        why = _("the file is not a photo")
    else:
        why = _("it could not be downloaded")
    if ticket:
        return _("Sorry, the photo you sent for report {ticket} could not be received: {why}. "
                 "The report itself was received.").format(ticket=ticket, why=why)
    return _("Sorry, the photo you sent could not be received: {why}. Please send it again, "
             "or another photo.").format(why=why)


class PhotoFetcher:
    """The downloads that outlast the event they came with."""

    def __init__(self, *, db: Database, store: MediaStore,
                 clock: Callable[[], datetime]) -> None:
        self.db = db
        self.store = store
        self.clock = clock
        self.refetch: dict[str, Refetch] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._working: set[int] = set()  # fetch ids this process is downloading
        self._downloads: set[asyncio.Future[None]] = set()

    def register(self, channel: str, refetch: Refetch) -> None:
        """How a channel fetches a file again from its reference (after a restart)."""
        self.refetch[channel] = refetch

    def begin(self, media: Media) -> asyncio.Future[None]:
        """Start downloading (once per Media); the future completes when it is stored."""
        if media.task is None:
            media.task = task = asyncio.ensure_future(fetch_media(media, self.store))
            self._downloads.add(task)
            task.add_done_callback(self._downloads.discard)
        return media.task

    def adopt(self, fetch_id: int, media: Media) -> None:
        """The event that kept ``fetch_id`` committed: record its download when it ends."""
        self._spawn(self._record_when_done(fetch_id, media))

    def _spawn(self, work: Awaitable[None]) -> None:
        task = asyncio.ensure_future(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _record_when_done(self, fetch_id: int, media: Media) -> None:
        self._working.add(fetch_id)
        try:
            await asyncio.shield(self.begin(media))
            await self.record(fetch_id, media.ready, attempts_left=True)
        finally:
            self._working.discard(fetch_id)

    async def record(self, fetch_id: int, outcome: object, *, attempts_left: bool) -> None:
        """Write a download's outcome; a failure the resident cannot fix by waiting (or the
        last attempt) is told to them."""
        stored = outcome if isinstance(outcome, StoredMedia) else None
        if stored is None and not isinstance(outcome, MediaRejected) and attempts_left:
            # A network failure: tried again by the recovery pass, with the same reference.
            logger.warning("photo download %d failed (%s); trying again later", fetch_id,
                           type(outcome).__name__)
            return
        reason = None if stored is not None else _reason(outcome)
        async with self.db.session() as session:
            fetched = await repo.finish_photo_fetch(
                session=session, fetch_id=fetch_id, now=self.clock(), reason=reason,
                stored=None if stored is None else {
                    "path": stored.path, "content_type": stored.content_type,
                    "size": stored.size, "sha256": stored.sha256})
            if fetched is None or fetched.status == "done":
                return
            await self._tell(session, fetched)

    async def _tell(self, session: AsyncSession, fetched: repo.FetchedPhoto) -> None:
        person = await repo.get_identity_by_id(session=session, identity_id=fetched.identity_id)
        if person is None:
            return
        ticket = None
        if fetched.report_id is not None:
            report = await repo_agencies.get_report(session=session, report_id=fetched.report_id)
            ticket = report.ticket if report else None
        locale = person.locale or "id"
        with use_locale(locale):
            text = failure_text(fetched.reason or "unavailable", ticket=ticket,
                                limit_mb=self.store.max_bytes // (1024 * 1024))
        await repo_agencies.write_outbox(session=session, rows=[{
            "identity_id": person.id, "channel": person.channel, "user_key": person.user_key,
            "locale": locale, "kind": "photo_failed", "status": "pending", "attempts": 0,
            "created_at": self.clock(), "payload": reply_payload(Reply(text=text)),
        }])

    # -- after a crash -----------------------------------------------------------------------

    async def recover(self, *, everything: bool = False) -> int:
        """Fetch again the pending photos no process is working on: all of them at start on
        SQLite (``everything``: one process, so they were its own), else those whose claim
        expired or, on PostgreSQL, whose process died. Returns how many were taken up."""
        now = self.clock()
        async with self.db.session() as session:
            rows = await repo.stale_photo_fetches(
                session=session, now=now, stale_before=None if everything else now - CLAIM_TIMEOUT,
                claimed_by=self.db.presence)
        rows = [r for r in rows if r.id not in self._working]
        for row in rows:
            self._spawn(self._refetch(row))
        if rows:
            logger.info("%d photo download(s) left unfinished are fetched again", len(rows))
        return len(rows)

    async def _refetch(self, row: repo.FetchedPhoto) -> None:
        refetch = self.refetch.get(row.channel)
        media = Media(kind=Kind.PHOTO, content_type=None, size=row.declared_size,
                      fetch=refetch(row.ref, row.declared_size) if refetch else None, ref=row.ref)
        self._working.add(row.id)
        try:
            await fetch_media(media, self.store)
            await self.record(row.id, media.ready, attempts_left=row.attempts < MAX_ATTEMPTS)
        finally:
            self._working.discard(row.id)

    async def run(self) -> None:
        """The recovery pass, at start and then every minute (a background job of serve)."""
        first = True
        while True:
            try:
                await self.recover(everything=first and self.db.is_sqlite)
                first = False
            except Exception:
                logger.exception("photo recovery failed; trying again shortly")
            await asyncio.sleep(RECOVER_EVERY)

    def close_now(self) -> None:
        """Drop every download under way (a crash, in tests); their rows stay pending."""
        for task in [*self._tasks, *self._downloads]:
            task.cancel()

    async def aclose(self) -> None:
        """At shutdown: downloads under way get a moment; what does not finish stays pending
        and is fetched again at the next start."""
        if not self._tasks:
            return
        _done, pending = await asyncio.wait(list(self._tasks), timeout=SHUTDOWN_WAIT)
        for task in [*pending, *self._downloads]:
            task.cancel()
        for task in pending:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
