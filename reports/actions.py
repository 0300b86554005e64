"""What staff and residents do to a report, and the messages each step sends."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from sqlmodel.ext.asyncio.session import AsyncSession

from reports.lifecycle import (
    REJECT_REASONS,
    WITH_AGENCY,
    WITH_KOMINFO,
    Status,
    TransitionRefused,
    transition,
)
from reports.notices import (
    AgencyPost,
    Audience,
    HandedBack,
    Recipient,
    ReporterComment,
    ReportFacts,
    ReportNotice,
    ResidentUpdate,
    StaffMessage,
    TriagePost,
    What,
)
from reports.sla import calendar_for, current_clock
from reports.workflow import Workflow, load_workflow
from storage import repo, repo_agencies, repo_console
from storage.models import Report, ReportEvent, ReportPhoto
from storage.models.agency import Rating
from storage.models.console import ReportNote

if TYPE_CHECKING:
    from reports.config import ReportsConfig
    from storage.city import City


class RecordWords(Protocol):
    """The notes the domain writes into a report's history, in the city's own language
    (the bot layer words them; bot.labels.RECORD_WORDS)."""

    def rejection(self, code: str) -> str: ...
    def auto_closed(self, days: int) -> str: ...


class ActionError(ValueError):
    """An action that cannot be done now; the message is for the person who tried."""


@dataclass(slots=True)
class Outcome:
    """What an action changed, and whom it tells about it."""

    report: Report
    event: ReportEvent | None = None
    notices: list[ReportNotice] = field(default_factory=list)


class ReportActions:
    """The agencies' side of the report domain, bound to one session."""

    def __init__(self, *, session: AsyncSession, city: City, settings: ReportsConfig,
                 now: Callable[[], datetime], words: RecordWords,
                 workflow: Workflow | None = None) -> None:
        self.session = session
        self.city = city
        self.settings = settings
        self.now = now
        self.words = words
        self.workflow = workflow or load_workflow(settings.city_dir)
        self.calendar = calendar_for(city)
        self.audience = Audience(session=session, workflow=self.workflow)

    # -- reading -------------------------------------------------------------------------------

    async def get(self, report_id: int) -> Report | None:
        return await repo_agencies.get_report(session=self.session, report_id=report_id)

    async def facts(self, report: Report) -> ReportFacts:
        return await self.audience.facts(report, city=self.city, calendar=self.calendar)

    # -- moving --------------------------------------------------------------------------------

    async def _move(self, report: Report, target: str, *, actor_id: int | None,
                    note: str | None = None, duplicate_of: int | None = None) -> ReportEvent:
        event = await transition(session=self.session, report=report, target=target,
                                 now=self.now(), actor_id=actor_id, note=note,
                                 duplicate_of=duplicate_of)
        await self._keep_deadline(report)
        return event

    async def _keep_deadline(self, report: Report) -> None:
        """Write down the deadline of the stage the report is in now (`Report.due_at`)."""
        events = await repo.list_report_events(session=self.session, report_id=report.id or 0)
        clock = current_clock(report, list(events), city=self.city, calendar=self.calendar)
        report.due_at = clock.deadline if clock is not None else None
        await repo_agencies.save_report(session=self.session, report=report)

    def _notice(self, facts: ReportFacts, recipients: Sequence[Recipient],
                what: What) -> list[ReportNotice]:
        if not recipients:
            return []
        return [ReportNotice(facts=facts, recipients=list(recipients), what=what,
                             at=self.now())]

    async def _tell_residents(self, facts: ReportFacts, status: str, *, note: str | None = None,
                              reason_code: str | None = None,
                              original_ticket: str | None = None,
                              skip: int | None = None) -> list[ReportNotice]:
        """The reporter and supporters; a `reason_code` is worded in each one's language."""
        people = [(r, is_reporter) for r, is_reporter in await self.audience.residents(facts)
                  if r.identity_id != skip]
        reporters = frozenset(r.key for r, is_reporter in people if is_reporter)
        return self._notice(facts, [r for r, _is in people], ResidentUpdate(
            status=status, reporters=reporters, note=note, reason_code=reason_code,
            original_ticket=original_ticket))

    async def _post_to_agency(self, facts: ReportFacts, *, reopened: bool = False,
                              note: str | None = None) -> list[ReportNotice]:
        targets = await self.audience.agency(facts.report.agency_key)
        return self._notice(facts, targets, AgencyPost(reopened=reopened, note=note))

    async def _post_to_triage(self, facts: ReportFacts) -> list[ReportNotice]:
        return self._notice(facts, await self.audience.kominfo(), TriagePost())

    # -- filing --------------------------------------------------------------------------------

    async def after_submit(self, report: Report) -> list[ReportNotice]:
        """Route a just-filed report: refer it, pass it straight on, or queue it for Kominfo."""
        agency = self.city.agency(report.agency_key or "")
        if agency is not None and agency.external:
            await self._move(report, Status.REFERRED, actor_id=None, note=agency.contact)
            return []
        if report.category_key in self.workflow.auto_verify:
            await self._move(report, Status.VERIFIED, actor_id=None)
            await self._move(report, Status.ASSIGNED, actor_id=None)
            return await self._post_to_agency(await self.facts(report))
        await self._keep_deadline(report)
        return await self._post_to_triage(await self.facts(report))

    # -- Kominfo -------------------------------------------------------------------------------

    async def verify(self, report: Report, *, actor_id: int | None,
                     agency_key: str | None = None, note: str | None = None) -> Outcome:
        """Verify and pass to the agency (the one routing chose unless another is given)."""
        if report.status not in WITH_KOMINFO:
            raise TransitionRefused(ticket=report.ticket, current=report.status,
                                    target=Status.VERIFIED)
        return await self.assign(report, agency_key or report.agency_key or "",
                                 actor_id=actor_id, note=note, verifying=True)

    async def verify_only(self, report: Report, *, actor_id: int | None,
                          note: str | None = None) -> Outcome:
        event = await self._move(report, Status.VERIFIED, actor_id=actor_id, note=note)
        return Outcome(report, event, await self._tell_residents(await self.facts(report),
                                                                 Status.VERIFIED))

    async def assign(self, report: Report, agency_key: str, *, actor_id: int | None,
                     note: str | None = None, verifying: bool = False) -> Outcome:
        """Pass a report to an agency; an agency outside the city government refers it. A
        report still awaiting verification is passed on only by someone `verifying` it (Kominfo
        choosing the agency); otherwise the lifecycle refuses, so no one skips verification."""
        agency = self.city.agency(agency_key)
        if agency is None:
            raise ActionError(f"unknown agency {agency_key!r}")
        if agency.external:
            report.agency_key = agency.key
            return await self.refer(report, actor_id=actor_id, note=agency.contact)
        if report.status == Status.SUBMITTED and not verifying:
            raise TransitionRefused(ticket=report.ticket, current=report.status,
                                    target=Status.ASSIGNED)
        if report.status == Status.SUBMITTED:
            await self._move(report, Status.VERIFIED, actor_id=actor_id)
        previous = report.agency_key
        if report.status not in (Status.VERIFIED, *WITH_AGENCY):
            raise TransitionRefused(ticket=report.ticket, current=report.status,
                                    target=Status.ASSIGNED)
        if report.status in WITH_AGENCY and previous != agency.key and not note:
            note = f"{self.city.agency_label(previous, short=True)} → {agency.short_name}"
        report.agency_key = agency.key
        report.handler_id = None
        event = await self._move(report, Status.ASSIGNED, actor_id=actor_id, note=note)
        facts = await self.facts(report)
        notices = await self._tell_residents(facts, Status.ASSIGNED)
        notices += await self._post_to_agency(facts)
        return Outcome(report, event, notices)

    async def refer(self, report: Report, *, actor_id: int | None,
                    note: str | None = None) -> Outcome:
        agency = self.city.agency(report.agency_key or "")
        text = note or (agency.contact if agency is not None and agency.external else None)
        event = await self._move(report, Status.REFERRED, actor_id=actor_id, note=text)
        return Outcome(report, event, await self._tell_residents(await self.facts(report),
                                                                 Status.REFERRED, note=text))

    async def reject(self, report: Report, *, actor_id: int | None, reason: str) -> Outcome:
        """Reject with a reason code ("info", "not_complaint", "abusive") or a free text."""
        recorded = self.words.rejection(reason)
        event = await self._move(report, Status.REJECTED, actor_id=actor_id, note=recorded)
        # A reason from the list is worded again in each resident's language.
        notices = await self._tell_residents(
            await self.facts(report), Status.REJECTED,
            reason_code=reason if reason in REJECT_REASONS else None,
            note=None if reason in REJECT_REASONS else recorded)
        return Outcome(report, event, notices)

    # -- the agency ----------------------------------------------------------------------------

    async def take(self, report: Report, *, actor_id: int) -> Outcome:
        """An officer claims the report; the resident hears when the work starts."""
        if report.status not in WITH_AGENCY:
            raise TransitionRefused(ticket=report.ticket, current=report.status,
                                    target=Status.IN_PROGRESS)
        report.handler_id = actor_id
        await repo_agencies.save_report(session=self.session, report=report)
        return Outcome(report)

    async def progress(self, report: Report, *, actor_id: int | None,
                       note: str | None = None) -> Outcome:
        if report.handler_id is None and actor_id is not None:
            report.handler_id = actor_id
        event = await self._move(report, Status.IN_PROGRESS, actor_id=actor_id, note=note)
        return Outcome(report, event, await self._tell_residents(await self.facts(report),
                                                                 Status.IN_PROGRESS, note=note))

    async def resolve(self, report: Report, *, actor_id: int | None, note: str,
                      photos: Sequence[dict[str, Any]] = ()) -> Outcome:
        """Resolved, with the agency's note and after-photos; the reporter is asked to confirm."""
        event = await self._move(report, Status.RESOLVED, actor_id=actor_id, note=note)
        for photo in photos:
            await repo_agencies.add_report_photo(session=self.session, photo=ReportPhoto(
                report_id=report.id or 0, path=photo["path"], content_type=photo["content_type"],
                size=photo["size"], sha256=photo["sha256"], stage="after", created_at=self.now()))
        return Outcome(report, event, await self._tell_residents(await self.facts(report),
                                                                 Status.RESOLVED, note=event.note))

    async def hand_back(self, report: Report, *, actor_id: int | None, reason: str,
                        suggested: str | None = None) -> Outcome:
        """"Not ours": back to Kominfo with the reason and, if known, the right agency."""
        by_agency = report.agency_key
        name = self.city.agency_label(by_agency, short=True)
        event = await self._move(report, Status.VERIFIED, actor_id=actor_id,
                                 note=f"{name}: {reason.strip()}" if reason.strip() else None)
        report.handler_id = None
        facts = await self.facts(report)
        if suggested and self.city.agency(suggested) is None:
            suggested = None
        notices = self._notice(facts, await self.audience.kominfo(), HandedBack(
            by_agency=by_agency, reason=reason.strip(), suggested=suggested))
        return Outcome(report, event, notices)

    async def mark_duplicate(self, report: Report, original: Report, *,
                             actor_id: int | None) -> Outcome:
        """Merge into an earlier report: its reporter and supporters now follow the original."""
        while original.duplicate_of is not None:
            earlier = await self.get(original.duplicate_of)
            if earlier is None:
                break
            original = earlier
        if original.id == report.id:
            raise ActionError("a report cannot duplicate itself")
        event = await self._move(report, Status.DUPLICATE, actor_id=actor_id,
                                 note=original.ticket, duplicate_of=original.id)
        notices = await self._tell_residents(await self.facts(report), Status.DUPLICATE,
                                             original_ticket=original.ticket)
        followers = [report.reporter_id, *await repo_agencies.list_supporter_ids(
            session=self.session, report_id=report.id or 0)]
        for identity_id in followers:
            if identity_id != original.reporter_id:
                await repo_agencies.add_supporter(session=self.session,
                                                  report_id=original.id or 0,
                                                  identity_id=identity_id, now=self.now())
        return Outcome(report, event, notices)

    # -- the resident --------------------------------------------------------------------------

    def _latest(self, events: Sequence[ReportEvent], status: str) -> ReportEvent | None:
        return next((e for e in reversed(events) if e.status == status), None)

    async def reopen(self, report: Report, *, actor_id: int | None, note: str | None = None,
                     by_reporter: bool = False) -> Outcome:
        """Not fixed: back to the agency with a fresh deadline, escalated to its head and
        Kominfo."""
        events = list(await repo.list_report_events(session=self.session,
                                                    report_id=report.id or 0))
        self._check_reopen_window(report, events)
        return await self._reopen(report, actor_id=actor_id, note=note, by_reporter=by_reporter)

    async def _reopen(self, report: Report, *, actor_id: int | None, note: str | None,
                      by_reporter: bool) -> Outcome:
        """Reopen once the reopen window has been checked."""
        report.handler_id = None
        event = await self._move(report, Status.REOPENED, actor_id=actor_id, note=note)
        facts = await self.facts(report)
        notices = await self._post_to_agency(facts, reopened=True, note=note)
        escalate = (await self.audience.heads(report.agency_key)
                    + await self.audience.kominfo())
        notices += self._notice(facts, escalate, AgencyPost(reopened=True, note=note))
        notices += await self._tell_residents(
            facts, Status.REOPENED, skip=report.reporter_id if by_reporter else None)
        return Outcome(report, event, notices)

    def _check_reopen_window(self, report: Report, events: Sequence[ReportEvent]) -> None:
        """A closed report may be reopened within the reopen period after its answer."""
        resolved = self._latest(events, Status.RESOLVED)
        if report.status != Status.CLOSED or resolved is None:
            return
        last_day = self.calendar.shift(self.calendar.local_date(resolved.at),
                                       self.city.reopen_days)
        if self.calendar.local_date(self.now()) > last_day:
            raise TransitionRefused(ticket=report.ticket, current=report.status,
                                    target=Status.REOPENED, problem="window")

    async def close(self, report: Report, *, actor_id: int | None, note: str | None = None,
                    by_reporter: bool = False) -> Outcome:
        event = await self._move(report, Status.CLOSED, actor_id=actor_id, note=note)
        notices = await self._tell_residents(
            await self.facts(report), Status.CLOSED,
            skip=report.reporter_id if by_reporter else None)
        return Outcome(report, event, notices)

    async def support(self, report: Report, *, identity_id: int) -> bool:
        """"Me too": False when the person already follows the report (or filed it)."""
        if identity_id == report.reporter_id:
            return False
        return await repo_agencies.add_supporter(session=self.session,
                                                 report_id=report.id or 0,
                                                 identity_id=identity_id, now=self.now())

    async def answer_fixed(self, report: Report, *, identity_id: int, fixed: bool) -> Outcome:
        """The reporter's "is it fixed?": yes closes the report, no reopens it."""
        if identity_id != report.reporter_id:
            raise ActionError("only the reporter can confirm")
        events = list(await repo.list_report_events(session=self.session,
                                                    report_id=report.id or 0))
        resolved = self._latest(events, Status.RESOLVED)
        if resolved is None or report.status not in (Status.RESOLVED, Status.CLOSED):
            raise ActionError("not resolved")
        if not fixed:
            self._check_reopen_window(report, events)
        rating = await repo_agencies.add_rating(session=self.session, rating=Rating(
            report_id=report.id or 0, identity_id=identity_id,
            resolved_event_id=resolved.id or 0, fixed=fixed, created_at=self.now()))
        if rating is None:
            raise ActionError("answered already")
        if fixed:
            if report.status == Status.RESOLVED:
                return await self.close(report, actor_id=identity_id, by_reporter=True,
                                        note=None)
            return Outcome(report)
        # The reopen window was checked above, against the same events.
        return await self._reopen(report, actor_id=identity_id, note=None, by_reporter=True)

    async def rate(self, report: Report, *, identity_id: int, stars: int | None = None,
                   comment: str | None = None) -> list[ReportNotice]:
        """Stars and a comment on the latest answer; a comment on an unfixed report goes to the
        agency."""
        events = list(await repo.list_report_events(session=self.session,
                                                    report_id=report.id or 0))
        resolved = self._latest(events, Status.RESOLVED)
        if resolved is None:
            return []
        rating = await repo_agencies.get_rating(session=self.session, report_id=report.id or 0,
                                                identity_id=identity_id,
                                                resolved_event_id=resolved.id or 0)
        if rating is None:
            return []
        if stars is not None:
            rating.stars = max(1, min(5, stars))
        if comment:
            rating.comment = comment.strip()[:1000]
        await repo_agencies.save_rating(session=self.session, rating=rating)
        if not comment or rating.fixed:
            return []
        facts = await self.facts(report)
        targets = await self.audience.agency(report.agency_key)
        return self._notice(facts, targets, ReporterComment(comment=comment.strip(),
                                                            stars=rating.stars))

    # -- staff's words -------------------------------------------------------------------------

    async def note(self, report: Report, *, staff_id: int, text: str,
                   to_resident: bool) -> Outcome:
        """An internal note (staff only), or a message to the reporter through their chat;
        both stay in the report's record."""
        cleaned = text.strip()
        if not cleaned:
            raise ActionError("empty note")
        await repo_console.add_note(session=self.session, note=ReportNote(
            report_id=report.id or 0, staff_id=staff_id, text=cleaned[:2000],
            to_resident=to_resident, created_at=self.now()))
        if not to_resident:
            return Outcome(report)
        facts = await self.facts(report)
        reporter = [r for r, is_reporter in await self.audience.residents(facts) if is_reporter]
        return Outcome(report, None, self._notice(facts, reporter, StaffMessage(cleaned[:2000])))

    # -- from the command line -----------------------------------------------------------------

    async def set_status(self, report: Report, target: str, *, actor_id: int | None = None,
                         note: str | None = None, original: Report | None = None) -> Outcome:
        """Any move the lifecycle allows, with the same messages as in chat."""
        if target == Status.VERIFIED and report.status in WITH_AGENCY:
            return await self.hand_back(report, actor_id=actor_id, reason=note or "")
        if target == Status.VERIFIED:
            return await self.verify_only(report, actor_id=actor_id, note=note)
        if target == Status.ASSIGNED:
            if not report.agency_key:
                raise ActionError("the report has no agency; use `emas report assign`")
            if report.status == Status.SUBMITTED:
                raise TransitionRefused(ticket=report.ticket, current=report.status,
                                        target=target)
            return await self.assign(report, report.agency_key, actor_id=actor_id, note=note)
        if target == Status.IN_PROGRESS:
            return await self.progress(report, actor_id=actor_id, note=note)
        if target == Status.RESOLVED:
            return await self.resolve(report, actor_id=actor_id, note=note or "")
        if target == Status.CLOSED:
            return await self.close(report, actor_id=actor_id, note=note)
        if target == Status.REJECTED:
            return await self.reject(report, actor_id=actor_id, reason=note or "")
        if target == Status.REFERRED:
            return await self.refer(report, actor_id=actor_id, note=note)
        if target == Status.REOPENED:
            return await self.reopen(report, actor_id=actor_id, note=note)
        if target == Status.DUPLICATE:
            if original is None:
                raise TransitionRefused(ticket=report.ticket, current=report.status,
                                        target=target, problem="original")
            return await self.mark_duplicate(report, original, actor_id=actor_id)
        raise TransitionRefused(ticket=report.ticket, current=report.status, target=target)
