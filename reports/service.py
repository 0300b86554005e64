"""Filing and reading reports: tickets, routing to the agency, and the staff view of one."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol

from pydantic import BaseModel, ConfigDict, Field
from sqlmodel.ext.asyncio.session import AsyncSession

from reports.lifecycle import Status
from reports.partners import request_source
from reports.sla import current_clock
from storage import repo, repo_agencies
from storage.models import Report, ReportEvent, ReportPhoto, ReportVoice

if TYPE_CHECKING:
    from storage.city import City


class DraftReport(BaseModel):
    """What a resident filled in before sending (a chat draft, an Open311 request)."""

    model_config = ConfigDict(extra="ignore")

    category: str
    kelurahan: str
    description: str
    kecamatan: str | None = None
    address: str | None = None
    lat: float | None = None
    lon: float | None = None
    anonymous: bool = False
    photos: list[dict[str, Any]] = Field(default_factory=list)
    # Photos still downloading when the report was sent (`photo_fetch` ids): attached when
    # they arrive.
    pending_photos: list[int] | None = None
    # A voice note (path, content_type, size, sha256 in the media store), for staff to hear.
    voice: dict[str, Any] | None = None


def format_ticket(city_code: str, year: int, number: int) -> str:
    return f"{city_code}-{year}-{number:06d}"


def parse_ticket(text: str, *, city_code: str, year: int) -> str | None:
    """Accept "BJI-2026-000123", "bji 2026 123" or just "123" (this year)."""
    import re

    cleaned = text.strip().upper().replace(" ", "-").replace("/", "-")
    m = re.fullmatch(rf"(?:#?{city_code}-?)?(?:(\d{{4}})-)?0*(\d{{1,9}})", cleaned)
    if not m:
        m = re.fullmatch(rf"{city_code}-?(\d{{4}})-?0*(\d{{1,9}})", cleaned)
        if not m:
            return None
    y = int(m.group(1)) if m.group(1) else year
    return format_ticket(city_code, y, int(m.group(2)))


class Reporter(Protocol):
    """Who files a report: any record with these fields (a chat person, an API client)."""

    @property
    def id(self) -> int: ...
    @property
    def channel(self) -> str: ...
    @property
    def locale(self) -> str: ...


class ReportService:
    """The reports domain as the flows and the command line use it, bound to one session."""

    def __init__(self, *, session: AsyncSession, city: City, now: Callable[[], datetime]) -> None:
        self.session = session
        self.city = city
        self.now = now

    async def submit(self, *, draft: DraftReport, reporter: Reporter) -> Report:
        now = self.now()
        year = now.astimezone(self.city.tz).year
        number = await repo.next_ticket_number(
            session=self.session, city_code=self.city.code, year=year
        )
        kel = self.city.kelurahan(draft.kelurahan)
        agency_key = self.city.agency_for(draft.category, kel.kecamatan_code)
        report = Report(
            ticket=format_ticket(self.city.code, year, number),
            status=Status.SUBMITTED,
            category_key=draft.category,
            agency_key=agency_key,
            kecamatan_code=kel.kecamatan_code,
            kelurahan_code=kel.code,
            address=draft.address,
            description=draft.description,
            latitude=draft.lat,
            longitude=draft.lon,
            channel=reporter.channel,
            reporter_id=reporter.id,
            anonymous=draft.anonymous,
            locale=reporter.locale,
            created_at=now,
            updated_at=now,
        )
        photos = [
            ReportPhoto(report_id=0, path=p["path"], content_type=p["content_type"],
                        size=p["size"], sha256=p["sha256"], created_at=now)
            for p in draft.photos
        ]
        voices = [ReportVoice(report_id=0, path=v["path"], content_type=v["content_type"],
                              size=v["size"], sha256=v["sha256"], created_at=now)
                  for v in ([draft.voice] if draft.voice else [])]
        created = await repo.create_report(session=self.session, report=report, photos=photos,
                                           voices=voices)
        await repo.attach_photo_fetches(session=self.session, report_id=created.id or 0,
                                        ids=draft.pending_photos or [], now=now)
        return created

    async def over_limit(self, *, reporter_id: int, per_hour: int) -> bool:
        """Whether this person filed `per_hour` reports in the last hour already (staff may
        lift the limit for one person); a limit of 0 is none."""
        if per_hour <= 0:
            return False
        now = self.now()
        filed = await repo.count_reports_since(session=self.session, reporter_id=reporter_id,
                                               since=now - timedelta(hours=1))
        if filed < per_hour:
            return False
        return not await repo.limits_lifted(session=self.session, identity_id=reporter_id,
                                            now=now)

    async def get(self, ticket: str) -> Report | None:
        return await repo.get_report_by_ticket(session=self.session, ticket=ticket)

    async def mine(self, reporter_id: int, *, limit: int = 10) -> list[Report]:
        return list(await repo.list_reports(session=self.session, reporter_id=reporter_id,
                                            limit=limit))


async def count_supporters(session: AsyncSession, report: Report) -> int:
    """How many residents support (follow) a report besides its reporter."""
    counts = await repo_agencies.count_supporters(session=session, report_ids=[report.id or 0])
    return counts.get(report.id or 0, 0)


async def _agency_side_detail(
    session: AsyncSession, city: City, report: Report, events: Sequence[ReportEvent]
) -> dict[str, Any]:
    """Supporters, the original of a duplicate and the running deadline, for staff."""
    supporters = await count_supporters(session, report)
    original = None
    if report.duplicate_of is not None:
        found = await repo_agencies.get_report(session=session, report_id=report.duplicate_of)
        original = found.ticket if found else None
    clock = current_clock(report, events, city=city)
    return {
        "supporters": supporters,
        "duplicate_of": original,
        "deadline": clock.deadline.isoformat() if clock else None,
        "deadline_stage": clock.stage if clock else None,
    }


async def report_detail(*, session: AsyncSession, city: City, report: Report) -> dict[str, Any]:
    """The staff view of a report (CONTRACT.md: `emas report show --json`)."""
    category = city.category(report.category_key)
    agency = city.agency(report.agency_key or "")
    kel = city.kelurahan(report.kelurahan_code) if report.kelurahan_code else None
    kec = city.kecamatan_by_code(report.kecamatan_code)
    photos = await repo.list_report_photos(session=session, report_id=report.id or 0)
    voices = await repo.list_report_voices(session=session, report_id=report.id or 0)
    events = await repo.list_report_events(session=session, report_id=report.id or 0)
    return {
        "ticket": report.ticket,
        "status": report.status,
        "category": report.category_key,
        "category_name": category.names.get("id") if category else None,
        "agency": report.agency_key,
        "agency_name": agency.name if agency else None,
        "kecamatan": kec.name if kec else None,
        "kecamatan_code": report.kecamatan_code,
        "kelurahan": kel.name if kel else None,
        "kelurahan_code": report.kelurahan_code,
        "address": report.address,
        "description": report.description,
        "latitude": report.latitude,
        "longitude": report.longitude,
        "photos": len(photos),
        "photo_paths": [p.path for p in photos],
        "voice_notes": len(voices),
        "voice_paths": [v.path for v in voices],
        "channel": report.channel,
        "anonymous": report.anonymous,
        "created_at": report.created_at.isoformat(),
        "updated_at": report.updated_at.isoformat(),
        **await _agency_side_detail(session, city, report, events),
        # A request a partner posted through Open311: the partner, the contact it gave and its
        # media URL, for staff (None for a chat report).
        "open311": await request_source(session=session, report_id=report.id or 0),
        "history": [
            {"status": e.status, "at": e.at.isoformat(), "note": e.note} for e in events
        ],
    }
