"""A slow or oversized photo holds no one else: downloads happen outside every database
transaction, and a file without a declared size stops at the limit (ARCHITECTURE rule 6)."""

from __future__ import annotations

import asyncio
from typing import Any

from chat import replies_to, until
from conftest import TelegramEnv
from doubles.telegram_updates import photo_update, text_update
from factories import jpeg_bytes
from storage import repo


def _texts(telegram: TelegramEnv, chat: int) -> list[str]:
    return [c.plain_text or "" for c in replies_to(telegram.double, chat)]


async def _at_photo_step(telegram: TelegramEnv) -> Any:
    chat = telegram.chat(language_code="en")
    await chat.to_photos("Jalan berlubang dalam di depan sekolah")
    assert "photo" in chat.text.lower()
    return chat


async def test_a_slowly_downloading_photo_holds_no_other_resident(telegram: TelegramEnv) -> None:
    telegram.box.engine.photo_wait = 1.0
    chat = await _at_photo_step(telegram)
    data = jpeg_bytes(200_000)
    telegram.double.add_file("AgAC-slow", data, seconds=4.0)
    sending = asyncio.create_task(
        telegram.post_now(photo_update(chat.chat_id, "AgAC-slow", len(data), language_code="en")))
    await until(lambda: "photos/" in " ".join(telegram.double.downloads), timeout=20)  # under way
    # Another resident, and the same resident's neighbour on the database, meanwhile.
    other = 700_777
    answered = await telegram.post_now(text_update(other, "/start", language_code="en"))
    assert answered.status_code == 200
    await until(lambda: bool(_texts(telegram, other)), timeout=20)
    assert not sending.done()  # the photo is still arriving
    # The resident is answered after the engine's moment, long before the download ends.
    assert (await sending).status_code == 200
    assert telegram.box.media.root.exists() is False or not any(
        telegram.box.media.root.rglob("*.jpg"))
    await until(lambda: any("still arriving" in t for t in _texts(telegram, chat.chat_id)), 10)
    assert "1 photo received" in _texts(telegram, chat.chat_id)[-1]
    async with telegram.box.db.reader() as session:
        assert await repo.list_reports(session=session) == []  # nothing half-written
    # It goes on downloading after the answer, and is kept with the draft.
    await until(lambda: telegram.box.media.root.exists() and any(
        telegram.box.media.root.rglob("*.jpg")), timeout=20)


async def test_a_photo_cut_off_by_a_crash_is_fetched_again_and_joins_its_report(
        telegram: TelegramEnv) -> None:
    """The process dies while a late photo downloads, after the report was sent: the next start
    fetches it again by its file id and attaches it, once. On PostgreSQL, where other servers
    may share the database, the download is another's while its process lives, and free the
    moment it dies (not when its claim times out)."""
    from bot.photos import PhotoFetcher
    from storage.db import Database

    box = telegram.box
    await box.db.hold_presence()  # as `emas serve` does before its first event
    box.engine.photo_wait = 0.0
    chat = await _at_photo_step(telegram)
    data = jpeg_bytes(50_000)
    telegram.double.add_file("AgAC-cut", data, seconds=30.0)  # never finishes in this life
    await chat.post(photo_update(chat.chat_id, "AgAC-cut", len(data), language_code="en"))
    assert "still arriving" in chat.text
    await chat.tap("Done")
    await chat.tap("Yes, show my name")
    await chat.tap("Send report")
    ticket = chat.ticket()
    # The crash: the download under way is lost with its process.
    box.engine.photos.close_now()
    telegram.double.add_file("AgAC-cut", data)  # Telegram serves it at once this time
    db = box.db if box.db.is_sqlite else Database(box.settings.database_url)
    try:
        after = PhotoFetcher(db=db, store=box.media, clock=box.engine.clock)
        after.register("telegram", box.telegram.files.fetcher)  # type: ignore[union-attr]
        if db.is_sqlite:
            # The new process owns the database alone: everything pending was its own.
            assert await after.recover(everything=True) == 1
        else:
            await db.hold_presence()
            assert await after.recover() == 0  # the first process lives: its claim holds
            await box.db.dispose()  # it dies, and its presence lock with its connection
            assert await after.recover() == 1
        await after.aclose()
        async with db.reader() as session:
            report = await repo.get_report_by_ticket(session=session, ticket=ticket)
            assert report is not None
            photos = await repo.list_report_photos(session=session, report_id=report.id or 0)
        assert len(photos) == 1
        assert await after.recover(everything=True) == 0  # nothing left to fetch
    finally:
        if db is not box.db:
            await db.dispose()


async def test_a_photo_without_a_declared_size_stops_at_the_limit(telegram: TelegramEnv) -> None:
    chat = await _at_photo_step(telegram)
    huge = b"\xff\xd8\xff\xe0" + bytes(19 * 1024 * 1024)
    stored = telegram.double.add_file("AgAC-huge", huge, size_known=False, seconds=2.0)
    await chat.post(photo_update(chat.chat_id, "AgAC-huge", None, language_code="en"))
    assert "too large" in chat.text and "10 MB" in chat.text
    # The download stopped soon after the limit, not at the file's 19 MB.
    limit = telegram.box.settings.max_photo_bytes
    assert limit < stored.served < limit + 4 * 1024 * 1024
    await chat.tap("Skip photos")
    assert "name" in chat.text.lower()  # the conversation goes on


async def test_a_declared_oversized_photo_is_refused_without_downloading(
    telegram: TelegramEnv,
) -> None:
    chat = await _at_photo_step(telegram)
    telegram.double.add_file("AgAC-big", jpeg_bytes(4096), file_size=11 * 1024 * 1024)
    await chat.post(photo_update(chat.chat_id, "AgAC-big", 11 * 1024 * 1024,
                                 language_code="en"))
    assert "too large" in chat.text
    assert telegram.double.downloads == []
    assert not [c for c in telegram.double.requests if c.method == "getFile"]
