"""A photo that takes longer than a moment to arrive: the resident goes on at once, and the
report takes the photo when it is in, even after it was sent (ARCHITECTURE rule 6). Every
channel; the engine here waits no moment, so every photo arrives late."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sqlmodel import select

from chat import Chat
from factories import gps_exif, jpeg_bytes, png_bytes, same_picture
from storage.media import MediaStore, StoredMedia
from storage.models import Notification, PhotoFetch, Report, ReportPhoto


class Gate:
    """Holds every photo between its download and its storing until opened."""

    def __init__(self, store: MediaStore) -> None:
        self.open = threading.Event()
        self.store = store
        self.original: Callable[[bytes], StoredMedia] = store.save_image

    def __call__(self, data: bytes) -> StoredMedia:
        # Runs in a worker thread (asyncio.to_thread): waiting here holds no one.
        if not self.open.wait(timeout=20):
            raise TimeoutError("gate never opened")
        return self.original(data)


@pytest.fixture
def late(channel_env: Any) -> Iterator[tuple[Any, Gate]]:
    box = channel_env.box
    box.engine.photo_wait = 0.0
    gate = Gate(box.media)
    box.media.save_image = gate  # type: ignore[method-assign]
    try:
        yield channel_env, gate
    finally:
        gate.open.set()


async def _rows(env: Any, model: Any) -> list[Any]:
    async with env.box.db.reader() as session:
        return list((await session.exec(select(model))).all())


async def _report_photos(env: Any) -> list[ReportPhoto]:
    return await _rows(env, ReportPhoto)


async def test_a_late_photo_joins_the_report_sent_before_it_arrived(
        late: tuple[Any, Gate]) -> None:
    env, gate = late
    chat: Chat = env.chat(language_code="en")
    await chat.to_photos("Jalan berlubang dalam di depan sekolah")
    photo = jpeg_bytes(6000, exif=gps_exif())
    await chat.send_photo(photo)
    assert "still arriving" in chat.text and "1 photo received" in chat.text
    await chat.tap("Done")
    await chat.tap("Yes, show my name")
    assert "Photos: 0 (and 1 still arriving" in chat.text
    await chat.tap("Send report")
    ticket = chat.ticket()
    assert await _report_photos(env) == []  # sent before the photo was in
    gate.open.set()
    for _ in range(200):
        if await _report_photos(env):
            break
        await asyncio.sleep(0.05)
    [kept] = await _report_photos(env)
    [report] = await _rows(env, Report)
    assert report.ticket == ticket and kept.report_id == report.id
    data = env.box.media.absolute(kept.path).read_bytes()
    assert b"Budi Santoso" not in data and same_picture(data, photo)  # stored without EXIF
    assert [f.status for f in await _rows(env, PhotoFetch)] == ["done"]


async def test_a_late_photo_that_arrived_before_sending_is_in_the_report(
        late: tuple[Any, Gate]) -> None:
    env, gate = late
    chat: Chat = env.chat(language_code="en")
    await chat.to_photos("Jalan berlubang dalam di depan sekolah")
    await chat.send_photo(png_bytes(seed=21))
    gate.open.set()
    for _ in range(100):
        if [f for f in await _rows(env, PhotoFetch) if f.status == "done"]:
            break
        await asyncio.sleep(0.05)
    await chat.tap("Done")
    await chat.tap("Yes, show my name")
    assert "Photos: 1" in chat.text and "arriving" not in chat.text
    await chat.tap("Send report")
    assert len(await _report_photos(env)) == 1


async def test_a_late_photo_that_is_not_a_photo_is_told_and_the_report_stands(
        late: tuple[Any, Gate]) -> None:
    env, gate = late
    chat: Chat = env.chat(language_code="en")
    await chat.to_photos("Jalan berlubang dalam di depan sekolah")
    await chat.send_document(b"\x89PNG\r\n\x1a\n but nothing of an image follows", "image/png")
    assert "still arriving" in chat.text
    await chat.tap("Done")
    await chat.tap("Yes, show my name")
    await chat.tap("Send report")
    ticket = chat.ticket()
    gate.open.set()
    told: list[Notification] = []
    for _ in range(200):
        told = [n for n in await _rows(env, Notification) if n.kind == "photo_failed"]
        if told:
            break
        await asyncio.sleep(0.05)
    [notice] = told
    text = notice.payload["text"]
    assert ticket in text and "not a photo" in text and "report itself was received" in text
    assert notice.locale == "en"
    assert await _report_photos(env) == []
    assert len(await _rows(env, Report)) == 1

