"""Who is to be told what about a report: the domain's notices, before any wording.

A status change or a deadline produces `ReportNotice`s: the facts of one report, the people or
group chats to tell, and what happened. The bot layer (bot.notices) words each one in its
recipient's language and channel; nothing here builds a message.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from sqlmodel.ext.asyncio.session import AsyncSession

from reports.roles import Role
from reports.sla import StageClock, current_clock
from reports.workdays import WorkCalendar
from reports.workflow import Workflow
from storage import repo, repo_agencies
from storage.models import Identity, Report, ReportEvent, ReportPhoto, ReportVoice

if TYPE_CHECKING:
    from storage.city import City

RESIDENT_KIND = "report_status"
STAFF_KIND = "staff_alert"


@dataclass(frozen=True, slots=True)
class Recipient:
    """Someone to tell: a person or a group chat, on a channel, in a language."""

    channel: str
    user_key: str
    locale: str = "id"
    identity_id: int | None = None

    @property
    def key(self) -> tuple[str, str]:
        return self.channel, self.user_key


@dataclass(slots=True)
class ReportFacts:
    """What the notices about one report draw on, read once per action."""

    report: Report
    events: list[ReportEvent]
    photos: list[ReportPhoto]
    supporters: list[int]
    reporter: Identity | None
    clock: StageClock | None
    voices: list[ReportVoice] = field(default_factory=list)

    def photo_paths(self, media_dir: Path, stage: str) -> list[str]:
        return [str(media_dir / p.path) for p in self.photos if p.stage == stage]

    def voice_paths(self, media_dir: Path) -> list[str]:
        return [str(media_dir / v.path) for v in self.voices]


# --- what happened, for whom -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ResidentUpdate:
    """The reporter and supporters: their report moved to `status`."""

    status: str
    reporters: frozenset[tuple[str, str]] = frozenset()  # which recipients filed the report
    note: str | None = None
    reason_code: str | None = None  # a rejection reason, worded in each resident's language
    original_ticket: str | None = None


@dataclass(frozen=True, slots=True)
class AgencyPost:
    """A report arriving at its agency (or coming back to it, reopened)."""

    reopened: bool = False
    note: str | None = None


@dataclass(frozen=True, slots=True)
class TriagePost:
    """A new report waiting for Kominfo to verify and route it."""


@dataclass(frozen=True, slots=True)
class HandedBack:
    """An agency says a report is not theirs: Kominfo routes it again."""

    by_agency: str | None
    reason: str
    suggested: str | None = None


@dataclass(frozen=True, slots=True)
class Reminder:
    """A due-soon reminder, or an escalation on a breached deadline."""

    stage: str
    overdue: bool
    with_buttons: frozenset[tuple[str, str]] = frozenset()  # recipients who may act on it


@dataclass(frozen=True, slots=True)
class ReporterComment:
    """The reporter's comment on a resolution, passed to the agency."""

    comment: str
    stars: int | None = None


@dataclass(frozen=True, slots=True)
class StaffMessage:
    """Staff write to the reporter about their report (from the console)."""

    text: str


What = (ResidentUpdate | AgencyPost | TriagePost | HandedBack | Reminder | ReporterComment
        | StaffMessage)


@dataclass(slots=True)
class ReportNotice:
    """One thing to tell some recipients about one report."""

    facts: ReportFacts
    recipients: list[Recipient]
    what: What
    at: datetime


def recipient_of(identity: Identity) -> Recipient:
    return Recipient(channel=identity.channel, user_key=identity.user_key,
                     locale=identity.locale or "id", identity_id=identity.id)


class Audience:
    """Finds the people and groups to tell about a report."""

    def __init__(self, *, session: AsyncSession, workflow: Workflow) -> None:
        self.session = session
        self.workflow = workflow
        # An Audience lives for one event or one scheduler tick, in which Kominfo's group and
        # staff do not change: they are looked up once.
        self._kominfo: list[Recipient] | None = None

    async def facts(self, report: Report, *, city: City, calendar: WorkCalendar) -> ReportFacts:
        assert report.id is not None
        events = list(await repo.list_report_events(session=self.session, report_id=report.id))
        photos = list(await repo.list_report_photos(session=self.session, report_id=report.id))
        supporters = await repo_agencies.list_supporter_ids(session=self.session,
                                                            report_id=report.id)
        reporter = await repo.get_identity_by_id(session=self.session,
                                                 identity_id=report.reporter_id)
        clock = current_clock(report, events, city=city, calendar=calendar)
        voices = list(await repo.list_report_voices(session=self.session, report_id=report.id))
        return ReportFacts(report=report, events=events, photos=photos, supporters=supporters,
                           reporter=reporter, clock=clock, voices=voices)

    async def residents(self, facts: ReportFacts) -> list[tuple[Recipient, bool]]:
        """The reporter (flag True) and the supporters, except those who said STOP."""
        ids = [facts.report.reporter_id, *facts.supporters]
        people = await repo_agencies.get_identities(session=self.session, identity_ids=ids)
        found: list[tuple[Recipient, bool]] = []
        for index, identity_id in enumerate(ids):
            identity = people.get(identity_id)
            if identity is None or identity.opted_out:
                continue
            if index > 0 and identity_id == facts.report.reporter_id:
                continue
            found.append((recipient_of(identity), index == 0))
        return found

    async def _staff(self, agency_key: str | None, roles: Iterable[str]) -> list[Recipient]:
        staff = await repo_agencies.list_staff(session=self.session, agency_key=agency_key,
                                               roles=list(roles))
        recipients = []
        for member in staff:
            identity = await repo.get_identity(session=self.session, channel=member.channel,
                                               user_key=member.user_key)
            locale = (identity.locale if identity else None) or "id"
            recipients.append(Recipient(channel=member.channel, user_key=member.user_key,
                                        locale=locale,
                                        identity_id=identity.id if identity else None))
        return recipients

    async def groups(self, agency_key: str) -> list[Recipient]:
        groups = await repo_agencies.list_groups(session=self.session, agency_key=agency_key)
        return [Recipient(channel=g.channel, user_key=g.chat_key, locale=g.locale)
                for g in groups]

    async def agency(self, agency_key: str | None) -> list[Recipient]:
        """An agency's group chats; without one, its officers (or else its heads) in private."""
        if not agency_key:
            return await self.kominfo()
        if agency_key == self.workflow.triage_agency:
            return await self.kominfo()
        found = await self.groups(agency_key)
        if not found:
            found = await self._staff(agency_key, [Role.OFFICER])
        if not found:
            found = await self._staff(agency_key, [Role.HEAD])
        return found

    async def heads(self, agency_key: str | None) -> list[Recipient]:
        if not agency_key:
            return []
        return await self._staff(agency_key, [Role.HEAD])

    async def kominfo(self) -> list[Recipient]:
        """Kominfo's triage group; without one, every Kominfo staff member in private."""
        if self._kominfo is None:
            found = await self.groups(self.workflow.triage_agency)
            if not found:
                found = await self._staff(None, [Role.KOMINFO])
            self._kominfo = found
        return list(self._kominfo)
