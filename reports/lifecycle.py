"""Report statuses, which moves between them are allowed, and the move itself."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sqlmodel.ext.asyncio.session import AsyncSession

    from storage.models import Report, ReportEvent


class Status(StrEnum):
    SUBMITTED = "submitted"
    VERIFIED = "verified"
    ASSIGNED = "assigned"
    IN_PROGRESS = "in_progress"
    RESOLVED = "resolved"
    CLOSED = "closed"
    REJECTED = "rejected"
    REFERRED = "referred"
    DUPLICATE = "duplicate"
    REOPENED = "reopened"


OPEN = frozenset(
    {Status.SUBMITTED, Status.VERIFIED, Status.ASSIGNED, Status.IN_PROGRESS, Status.REOPENED}
)
FINAL = frozenset({Status.CLOSED, Status.REJECTED, Status.DUPLICATE})


# Where each status may go next. Kominfo verifies and passes a report to an agency (SP4N-LAPOR!
# disposition); the agency answers; the resident confirms or reopens. "assigned" → "assigned"
# is a re-route to another agency; "assigned" → "verified" is an agency handing a report back
# to Kominfo ("not ours").
TRANSITIONS: dict[Status, frozenset[Status]] = {
    Status.SUBMITTED: frozenset(
        {Status.VERIFIED, Status.REJECTED, Status.REFERRED, Status.DUPLICATE}
    ),
    Status.VERIFIED: frozenset(
        {Status.ASSIGNED, Status.REJECTED, Status.REFERRED, Status.DUPLICATE}
    ),
    Status.ASSIGNED: frozenset(
        {Status.ASSIGNED, Status.IN_PROGRESS, Status.RESOLVED, Status.VERIFIED,
         Status.REJECTED, Status.REFERRED, Status.DUPLICATE}
    ),
    Status.IN_PROGRESS: frozenset(
        {Status.RESOLVED, Status.ASSIGNED, Status.VERIFIED, Status.REFERRED, Status.DUPLICATE}
    ),
    Status.RESOLVED: frozenset({Status.CLOSED, Status.REOPENED}),
    Status.REOPENED: frozenset(
        {Status.IN_PROGRESS, Status.RESOLVED, Status.ASSIGNED, Status.VERIFIED,
         Status.DUPLICATE}
    ),
    Status.CLOSED: frozenset({Status.REOPENED}),
    Status.REFERRED: frozenset({Status.VERIFIED}),
    Status.REJECTED: frozenset(),
    Status.DUPLICATE: frozenset(),
}

# A report the agency holds: it must answer within the agency's deadline.
WITH_AGENCY = frozenset({Status.ASSIGNED, Status.IN_PROGRESS, Status.REOPENED})
# A report Kominfo holds: verify it and pass it on within the verification deadline.
WITH_KOMINFO = frozenset({Status.SUBMITTED, Status.VERIFIED})

# Why Kominfo may reject a report (worded by the bot layer).
REJECT_REASONS = ("info", "not_complaint", "abusive")


class TransitionRefused(ValueError):
    """A move the lifecycle does not allow, or one missing what it needs (a note, an original)."""

    def __init__(self, *, ticket: str, current: str, target: str, problem: str = "") -> None:
        self.ticket = ticket
        self.current = current
        self.target = target
        self.problem = problem
        super().__init__(f"{ticket}: {current} -> {target} refused ({problem or 'not allowed'})")


def next_statuses(current: str) -> frozenset[Status]:
    try:
        return TRANSITIONS[Status(current)]
    except ValueError:
        return frozenset()


def needs_note(current: str, target: str) -> bool:
    """Resolving, rejecting and handing a report back to Kominfo must say why."""
    if target in (Status.RESOLVED, Status.REJECTED):
        return True
    return target == Status.VERIFIED and current in WITH_AGENCY


def check_transition(
    *, ticket: str, current: str, target: str, note: str | None = None,
    duplicate_of: int | None = None,
) -> Status:
    """The target status if the move is allowed; raises TransitionRefused otherwise."""
    try:
        goal = Status(target)
    except ValueError:
        raise TransitionRefused(ticket=ticket, current=current, target=target) from None
    if goal not in next_statuses(current):
        raise TransitionRefused(ticket=ticket, current=current, target=target)
    if needs_note(current, goal) and not (note or "").strip():
        raise TransitionRefused(ticket=ticket, current=current, target=target, problem="note")
    if goal == Status.DUPLICATE and duplicate_of is None:
        raise TransitionRefused(ticket=ticket, current=current, target=target,
                                problem="original")
    return goal


async def transition(
    *,
    session: AsyncSession,
    report: Report,
    target: str,
    now: datetime,
    actor_id: int | None = None,
    note: str | None = None,
    duplicate_of: int | None = None,
) -> ReportEvent:
    """Move a report to `target` and record who did it, when and why.

    Raises TransitionRefused (with a message for the person who tried) when the lifecycle does
    not allow the move or the move lacks its note or original report.
    """
    from storage import repo

    goal = check_transition(ticket=report.ticket, current=report.status, target=target,
                            note=note, duplicate_of=duplicate_of)
    if goal == Status.DUPLICATE:
        report.duplicate_of = duplicate_of
    cleaned = (note or "").strip() or None
    return await repo.add_report_event(session=session, report=report, status=goal,
                                       note=cleaned, actor_id=actor_id, at=now)
