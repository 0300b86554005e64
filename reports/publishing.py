"""What of a report the public may see, in one place (the public pages, the city page, the open
data and Open311 all read this projection), and the staff decisions that widen it.

The rules:
- Never public: the reporter (name, phone, chat), the exact address, staff's internal notes and
  messages to the reporter, voice notes, anything staff have not approved.
- A report Kominfo has not passed on yet (awaiting verification) shows only that it was received
  and is being checked: its category and place are the resident's own, unchecked. A rejected
  report shows only that it was not processed (spam and abuse publish nothing).
- Otherwise: category, kelurahan and kecamatan, agency, the status history with its dates, the
  agency's public notes, supporters; the description only as staff approved it (possibly edited
  to remove names or plates); photos only once approved; the point rounded to about 100 m.
- A confidential category never has its description, photos or point published: approving them
  is refused, and the projection leaves them out whatever is stored. Its notes are hidden unless
  staff show one.
- Notes: the agency's progress and resolution notes (what the resident reads in chat) are public
  by default unless they name the reporter (name, phone or chat number); staff hide or show each.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING

from sqlmodel.ext.asyncio.session import AsyncSession

from reports.actions import ActionError
from reports.evaluation import answered_on_time
from reports.lifecycle import Status
from reports.sla import AWAITING_ANSWER, Moment, calendar_for
from reports.workdays import WorkCalendar
from storage import repo, repo_agencies, repo_console, repo_public
from storage.models import Identity, Report, ReportEvent, ReportPhoto
from storage.models.public import PublicPhoto, ReportPublication
from storage.repo_public import EventRow

if TYPE_CHECKING:
    from storage.city import City

LICENCE = "CC BY 4.0"
LICENCE_URL = "https://creativecommons.org/licenses/by/4.0/"
# Decimal places of a published point: 3 is about 110 m, a street, not a house.
POINT_DECIMALS = 3
# The history notes that may be public: the agency's words to the resident as it works.
NOTE_STATUSES = frozenset({Status.IN_PROGRESS, Status.RESOLVED})
DESCRIPTION_MAX = 2000
# Statuses that say nothing about a report having been checked: one that never left them is
# still with Kominfo (or was rejected there).
_TRIAGE = frozenset({Status.SUBMITTED, Status.VERIFIED, Status.REJECTED})


class Stage(StrEnum):
    CHECKING = "checking"  # received; Kominfo has not passed it on yet
    REJECTED = "rejected"  # not processed
    PUBLIC = "public"


class Unpublishable(ActionError):
    """A publishing decision the rules refuse. `reason`: "confidential" (the category is
    confidential), "names_reporter" (the text names the reporter), "empty", "not_found"."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class PublicStep:
    status: str
    at: datetime
    note: str | None = None


@dataclass(frozen=True, slots=True)
class PublicImage:
    id: int
    stage: str  # before | after (the agency's photo of its work)
    content_type: str


@dataclass(frozen=True, slots=True)
class PublicReport:
    """A report as the public may see it; every field here may be published."""

    ticket: str
    stage: Stage
    status: str
    created_at: datetime
    updated_at: datetime
    category_key: str | None = None
    confidential: bool = False
    agency_key: str | None = None
    kecamatan_code: str | None = None
    kelurahan_code: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    description: str | None = None
    photos: tuple[PublicImage, ...] = ()
    history: tuple[PublicStep, ...] = ()
    resolved_at: datetime | None = None
    on_time: bool | None = None  # the agency's first answer before its deadline (None: not due)
    due_at: datetime | None = None  # while the agency owes an answer
    supporters: int = 0
    duplicate_of: str | None = None  # the earlier report's ticket


def confidential(city: City, category_key: str) -> bool:
    """A confidential category, or one the city pack no longer knows (kept out, to be safe)."""
    category = city.category(category_key)
    return category is None or category.confidential


def stage_of(report: Report, events: Sequence[Moment]) -> Stage:
    if report.status == Status.REJECTED:
        return Stage.REJECTED
    if all(e.status in _TRIAGE for e in events) and report.status in _TRIAGE:
        return Stage.CHECKING
    return Stage.PUBLIC


def names_reporter(text: str, reporter: Identity | None) -> bool:
    """Whether the text names the reporter: their display name, or their phone or chat number
    (its last nine digits, however the text spaces them)."""
    if reporter is None or not text:
        return False
    name = " ".join((reporter.display_name or "").split()).casefold()
    if len(name) >= 3 and re.search(rf"(?<!\w){re.escape(name)}(?!\w)",
                                    " ".join(text.split()).casefold()):
        return True
    digits = re.sub(r"\D", "", text)
    for number in (reporter.phone, reporter.user_key):
        tail = re.sub(r"\D", "", number or "")[-9:]
        if len(tail) >= 7 and tail in digits:
            return True
    return False


def note_is_public(event: ReportEvent | EventRow, *, secret: bool, decision: bool | None,
                   reporter: Identity | None) -> bool:
    """An agency's progress or resolution note: staff's decision, else public unless the
    category is confidential or the note names the reporter."""
    if event.status not in NOTE_STATUSES or not event.note:
        return False
    if decision is not None:
        return decision
    return not secret and not names_reporter(event.note, reporter)


@dataclass(frozen=True, slots=True)
class _Known:
    """What the projection of a batch of reports reads, loaded once for all of them."""

    events: dict[int, list[EventRow]]  # ReportEvent's fields, read without the ORM
    publications: dict[int, ReportPublication]
    photos: dict[int, list[ReportPhoto]]
    supporters: dict[int, int]
    tickets: dict[int, str]
    decisions: dict[int, bool]
    reporters: dict[int, Identity]


def _project(report: Report, known: _Known, *, city: City, calendar: WorkCalendar,
             as_of: datetime, with_history: bool) -> PublicReport:
    rid = report.id or 0
    events = known.events.get(rid, [])
    stage = stage_of(report, events)
    base = PublicReport(ticket=report.ticket, stage=stage, status=report.status,
                        created_at=report.created_at, updated_at=report.updated_at)
    if stage != Stage.PUBLIC:
        # Only that it was received (and, if so, not processed): nothing the resident said.
        steps = events[:1] + [e for e in events if e.status == Status.REJECTED][-1:]
        return replace(base, history=tuple(PublicStep(e.status, e.at) for e in steps)
                       if with_history else ())
    secret = confidential(city, report.category_key)
    publication = known.publications.get(rid)
    resolved = [e.at for e in events if e.status == Status.RESOLVED]
    history: tuple[PublicStep, ...] = ()
    if with_history:
        reporter = known.reporters.get(report.reporter_id)
        history = tuple(
            PublicStep(e.status, e.at, e.note if note_is_public(
                e, secret=secret, decision=known.decisions.get(e.id or 0), reporter=reporter)
                else None)
            for e in events)
    point = (None if secret or report.latitude is None or report.longitude is None
             else (round(report.latitude, POINT_DECIMALS),
                   round(report.longitude, POINT_DECIMALS)))
    return replace(
        base, category_key=report.category_key, confidential=secret,
        agency_key=report.agency_key, kecamatan_code=report.kecamatan_code,
        kelurahan_code=report.kelurahan_code,
        latitude=point[0] if point else None, longitude=point[1] if point else None,
        description=None if secret or publication is None else publication.description,
        photos=() if secret else tuple(PublicImage(p.id or 0, p.stage, p.content_type)
                                       for p in known.photos.get(rid, [])),
        history=history,
        resolved_at=(resolved[-1] if resolved and report.status in (Status.RESOLVED,
                                                                    Status.CLOSED) else None),
        on_time=answered_on_time(report, events, city=city, calendar=calendar, as_of=as_of),
        due_at=report.due_at if report.status in AWAITING_ANSWER else None,
        supporters=known.supporters.get(rid, 0),
        duplicate_of=known.tickets.get(report.duplicate_of or 0))


async def public_reports(*, session: AsyncSession, city: City, reports: Sequence[Report],
                         as_of: datetime, with_history: bool = True) -> list[PublicReport]:
    """The public projection of each report (in the same order), read in a few queries for the
    whole batch; `with_history` adds the status history with its public notes."""
    ids = [r.id or 0 for r in reports]
    known = _Known(
        events=await repo_public.event_rows_for(session=session, report_ids=ids),
        publications=await repo_public.publications_for(session=session, report_ids=ids),
        photos=await repo_public.public_photos_for(session=session, report_ids=ids),
        supporters=await repo_agencies.count_supporters(session=session, report_ids=ids),
        tickets=await repo_public.tickets_by_id(
            session=session, report_ids=[r.duplicate_of for r in reports if r.duplicate_of]),
        decisions=(await repo_public.note_decisions_for(session=session, report_ids=ids)
                   if with_history else {}),
        reporters=(await repo_console.identities_by_id(
            session=session, ids=sorted({r.reporter_id for r in reports}))
                   if with_history else {}))
    calendar = calendar_for(city)
    return [_project(r, known, city=city, calendar=calendar, as_of=as_of,
                     with_history=with_history) for r in reports]


async def public_report(*, session: AsyncSession, city: City, ticket: str,
                        as_of: datetime) -> PublicReport | None:
    """One report by its ticket, as the public may see it; None when there is no such report."""
    found = await repo.get_report_by_ticket(session=session, ticket=ticket)
    if found is None:
        return None
    [view] = await public_reports(session=session, city=city, reports=[found], as_of=as_of)
    return view


async def recently_resolved(*, session: AsyncSession, city: City, as_of: datetime,
                            limit: int = 10) -> list[PublicReport]:
    """The latest resolved (or since closed) reports, the latest resolution first."""
    found = await repo_public.list_recently_resolved(
        session=session, resolved=Status.RESOLVED, statuses=(Status.RESOLVED, Status.CLOSED),
        limit=limit)
    views = await public_reports(session=session, city=city, reports=found, as_of=as_of,
                                 with_history=False)
    return [v for v in views if v.stage == Stage.PUBLIC]


async def public_photo(*, session: AsyncSession, city: City, ticket: str,
                       photo_id: int) -> ReportPhoto | None:
    """An approved photo of a public, non-confidential report with this ticket; else None."""
    found = await repo_public.photo_with_report(session=session, photo_id=photo_id)
    if found is None:
        return None
    photo, report = found
    if report.ticket != ticket.upper() or confidential(city, report.category_key):
        return None
    if await repo_public.get_public_photo(session=session, photo_id=photo_id) is None:
        return None
    events = await repo.list_report_events(session=session, report_id=report.id or 0)
    return photo if stage_of(report, events) == Stage.PUBLIC else None


# --- staff decisions -------------------------------------------------------------------------


class Publishing:
    """Staff's publishing decisions on one report, bound to one session (the caller audits
    them). Every decision counts in the report's publication revision."""

    def __init__(self, *, session: AsyncSession, city: City,
                 now: Callable[[], datetime]) -> None:
        self.session = session
        self.city = city
        self.now = now

    async def revision(self, report: Report) -> int:
        found = await repo_public.get_publication(session=self.session,
                                                  report_id=report.id or 0)
        return found.revision if found is not None else 0

    async def decisions(self, report: Report) -> ReportPublication | None:
        return await repo_public.get_publication(session=self.session,
                                                 report_id=report.id or 0)

    async def _decided(self, report: Report) -> ReportPublication:
        row = await repo_public.get_publication(session=self.session, report_id=report.id or 0)
        if row is None:
            row = ReportPublication(report_id=report.id or 0, updated_at=self.now())
        row.revision += 1
        row.updated_at = self.now()
        return await repo_public.save_publication(session=self.session, publication=row)

    def _refuse_if_confidential(self, report: Report) -> None:
        if confidential(self.city, report.category_key):
            raise Unpublishable("confidential")

    async def approve_description(self, report: Report, *, staff_id: int,
                                  text: str | None = None) -> ReportPublication:
        """Publish the description: the resident's words, or `text` (staff's edit of them).
        Refused for a confidential category, and while the text names the reporter."""
        self._refuse_if_confidential(report)
        public = (text if text is not None else report.description).strip()[:DESCRIPTION_MAX]
        if not public:
            raise Unpublishable("empty")
        reporter = await repo.get_identity_by_id(session=self.session,
                                                 identity_id=report.reporter_id)
        if names_reporter(public, reporter):
            raise Unpublishable("names_reporter")
        row = await self._decided(report)
        row.description = public
        row.description_edited = public != report.description.strip()
        row.description_by, row.description_at = staff_id, self.now()
        return await repo_public.save_publication(session=self.session, publication=row)

    async def withdraw_description(self, report: Report, *, staff_id: int) -> None:
        row = await self._decided(report)
        row.description, row.description_edited = None, False
        row.description_by, row.description_at = staff_id, self.now()
        await repo_public.save_publication(session=self.session, publication=row)

    async def _photo_of(self, report: Report, photo_id: int) -> ReportPhoto:
        photos = await repo.list_report_photos(session=self.session, report_id=report.id or 0)
        found = next((p for p in photos if p.id == photo_id), None)
        if found is None:
            raise Unpublishable("not_found")
        return found

    async def approve_photo(self, report: Report, photo_id: int, *, staff_id: int) -> None:
        """Publish one photo (staff looked at it: no faces, no plates). Refused for a
        confidential category."""
        self._refuse_if_confidential(report)
        await self._photo_of(report, photo_id)
        await self._decided(report)
        if await repo_public.get_public_photo(session=self.session, photo_id=photo_id) is None:
            await repo_public.add_public_photo(session=self.session, photo=PublicPhoto(
                photo_id=photo_id, report_id=report.id or 0, approved_by=staff_id,
                approved_at=self.now()))

    async def withdraw_photo(self, report: Report, photo_id: int, *, staff_id: int) -> None:
        await self._photo_of(report, photo_id)
        await self._decided(report)
        await repo_public.remove_public_photo(session=self.session, photo_id=photo_id)

    async def set_note(self, report: Report, event_id: int, *, public: bool,
                       staff_id: int) -> None:
        """Show or hide one of the agency's progress or resolution notes."""
        events = await repo.list_report_events(session=self.session, report_id=report.id or 0)
        event = next((e for e in events if e.id == event_id), None)
        if event is None or event.status not in NOTE_STATUSES or not event.note:
            raise Unpublishable("not_found")
        await self._decided(report)
        await repo_public.decide_note(session=self.session, event=event, public=public,
                                      staff_id=staff_id, now=self.now())
