"""Test helpers for the public side: reports whose reporter has a name, a phone and a chat id,
with an exact address, a precise point and photos as residents send them; Kominfo working them
in the console (verify, start, resolve, publish) as staff do."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

from agencies_kit import KARTINI, file_report
from bot.app import Container
from console_kit import act
from factories import gps_exif, jpeg_bytes
from storage import repo, repo_agencies
from storage.models import Report, ReportPhoto


@dataclass(frozen=True, slots=True)
class Seeded:
    report: Report
    photos: list[ReportPhoto]


async def resident_report(box: Container, *, chat_id: int, name: str, phone: str,
                          description: str, category: str = "jalan_rusak",
                          kelurahan: str = KARTINI, address: str | None = None,
                          point: tuple[float, float] | None = None,
                          photos: int = 0) -> Seeded:
    """A report filed on Telegram by a resident with a name and a shared phone number, with
    photos as their phone took them (the owner's name and a GPS position in the EXIF)."""
    report = await file_report(box, user=str(chat_id), channel="telegram",
                               category=category, kelurahan=kelurahan,
                               description=description,
                               lat=point[0] if point else None, lon=point[1] if point else None)
    stored = []
    async with box.db.session() as session:
        reporter = await repo.get_identity_by_id(session=session, identity_id=report.reporter_id)
        assert reporter is not None
        reporter.display_name, reporter.phone = name, phone
        session.add(reporter)
        found = await session.get(Report, report.id)
        assert found is not None
        found.address = address
        session.add(found)
        for n in range(photos):
            kept = box.media.save_image(jpeg_bytes(3000 + n, exif=gps_exif()))
            stored.append(await repo_agencies.add_report_photo(session=session, photo=ReportPhoto(
                report_id=report.id or 0, path=kept.path, content_type=kept.content_type,
                size=kept.size, sha256=kept.sha256, created_at=box.engine.clock())))
        await session.flush()
        report = found
    return Seeded(report, stored)


async def done(client: httpx.AsyncClient, ticket: str, action: str, **fields: Any) -> None:
    """A console action that must succeed (303 back to the report)."""
    answer = await act(client, ticket, action, **fields)
    assert answer.status_code == 303, answer.text


async def pass_on(client: httpx.AsyncClient, report: Report) -> None:
    """Kominfo verifies the report and passes it to its agency."""
    await done(client, report.ticket, "verify", agency=report.agency_key or "putr")
