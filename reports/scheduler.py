"""Deadlines at work: due-soon reminders, escalation on a breach, and closing answered reports.

`tick(now)` looks at every report with a running clock once; `emas serve` calls it every
minute. Each ladder step is recorded in `reminder_sent` in the same transaction as the messages
it writes to the outbox, so a step is taken once, across restarts and processes.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from reports.actions import RecordWords, ReportActions
from reports.lifecycle import WITH_KOMINFO, Status
from reports.notices import Recipient, Reminder, ReportNotice
from reports.sla import AWAITING_ANSWER, CONFIRM, VERIFY, StageClock, current_clock
from reports.workdays import WorkCalendar
from reports.workflow import LadderStep, Workflow, load_workflow
from storage import repo_agencies
from storage.db import Database
from storage.models import Report

if TYPE_CHECKING:
    from sqlmodel.ext.asyncio.session import AsyncSession

    from reports.config import ReportsConfig
    from storage.city import City

logger = logging.getLogger(__name__)

AUTO_CLOSE = "auto_close"


@dataclass(slots=True)
class TickResult:
    reminders: int = 0  # due-soon messages
    escalations: int = 0  # overdue messages
    closed: int = 0
    notices: list[ReportNotice] = field(default_factory=list)


# Writes the notices of one tick in its transaction (bot.notice_outbox.NoticeOutbox).
Deliver = Callable[["AsyncSession", Iterable[ReportNotice], datetime], Awaitable[object]]


def step_time(step: LadderStep, clock: StageClock, *, calendar: WorkCalendar,
              send_hour: int) -> datetime:
    """When a ladder step falls due: `send_hour` on the working day `step.day` days from the
    deadline (-1 the last day, 0 the first day after it)."""
    day = calendar.shift(clock.due_day, step.day + 1)
    return max(calendar.at(day, send_hour), clock.anchor.at)


async def _reminder_notices(
    actions: ReportActions, report: Report, clock: StageClock, step: LadderStep, now: datetime,
) -> list[ReportNotice]:
    audience = actions.audience
    targets: list[tuple[Recipient, bool]] = []
    for target in step.notify:
        if target == "kominfo" or (target == "agency" and clock.stage == VERIFY):
            targets += [(r, clock.stage == VERIFY) for r in await audience.kominfo()]
        elif target == "agency":
            targets += [(r, True) for r in await audience.agency(report.agency_key)]
        elif target == "agency_head":
            targets += [(r, True) for r in await audience.heads(report.agency_key)]
    buttons: dict[tuple[str, str], bool] = {}
    for recipient, with_buttons in targets:
        key = (recipient.channel, recipient.user_key)
        buttons[key] = buttons.get(key, False) or with_buttons
    facts = await actions.facts(report)
    if not targets:
        return []
    return [ReportNotice(facts=facts, recipients=[r for r, _b in targets], at=now,
                         what=Reminder(stage=clock.stage, overdue=step.overdue,
                                       with_buttons=frozenset(k for k, b in buttons.items()
                                                              if b)))]


async def tick(
    *, db: Database, city: City, settings: ReportsConfig, now: datetime, deliver: Deliver,
    words: RecordWords, workflow: Workflow | None = None,
) -> TickResult:
    """Take every ladder step that has fallen due, and close reports nobody answered; the
    notices go to `deliver` in the same transaction."""
    flow = workflow or load_workflow(settings.city_dir)
    result = TickResult()
    async with db.session() as session:
        actions = ReportActions(session=session, city=city, settings=settings,
                                now=lambda: now, words=words, workflow=flow)
        reports = await repo_agencies.list_reports_by_status(
            session=session, statuses=[*WITH_KOMINFO, *AWAITING_ANSWER, Status.RESOLVED])
        ids = [r.id or 0 for r in reports]
        events = await repo_agencies.list_events_for(session=session, report_ids=ids)
        taken = await repo_agencies.list_reminders(session=session, report_ids=ids)
        for report in reports:
            clock = current_clock(report, events.get(report.id or 0, []), city=city,
                                  calendar=actions.calendar)
            if clock is None:
                continue
            anchor_id = clock.anchor.id or 0
            if clock.stage == CONFIRM:
                if not clock.overdue(now) or not await repo_agencies.record_reminder(
                        session=session, report_id=report.id or 0, stage=CONFIRM,
                        step=AUTO_CLOSE, anchor_event_id=anchor_id, delivered=True, now=now):
                    continue
                note = words.auto_closed(clock.days)
                outcome = await actions.close(report, actor_id=None, note=note)
                result.notices += outcome.notices
                result.closed += 1
                continue
            due = [
                step for step in flow.steps(clock.stage)
                if now >= step_time(step, clock, calendar=actions.calendar,
                                    send_hour=flow.send_hour)
                and (report.id, clock.stage, step.step, anchor_id) not in taken
            ]
            if not due:
                continue
            # After downtime several steps may be due at once: only the latest is sent.
            latest = due[-1]
            for step in due[:-1]:
                await repo_agencies.record_reminder(
                    session=session, report_id=report.id or 0, stage=clock.stage,
                    step=step.step, anchor_event_id=anchor_id, delivered=False, now=now)
            if not await repo_agencies.record_reminder(
                    session=session, report_id=report.id or 0, stage=clock.stage,
                    step=latest.step, anchor_event_id=anchor_id, delivered=True, now=now):
                continue
            result.notices += await _reminder_notices(actions, report, clock, latest, now)
            if latest.overdue:
                result.escalations += 1
            else:
                result.reminders += 1
        await deliver(session, result.notices, now)
    if result.reminders or result.escalations or result.closed:
        logger.info("deadlines: %d reminders, %d escalations, %d closed", result.reminders,
                    result.escalations, result.closed)
    return result
