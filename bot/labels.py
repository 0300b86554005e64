"""The report domain's codes as people read them: statuses, roles, rejection reasons,
refusals and deadlines, in the current locale."""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.i18n import N_, _, format_date, gettext, ngettext, use_locale
from reports.lifecycle import Status, TransitionRefused, next_statuses
from reports.sla import CONFIRM, VERIFY, StageClock
from reports.workdays import WorkCalendar

# The language a report's history is written in when staff pick a reason from a list.
RECORD_LOCALE = "id"

STATUS_LABELS = {
    Status.SUBMITTED: N_("Submitted, awaiting verification"),
    Status.VERIFIED: N_("Verified"),
    Status.ASSIGNED: N_("Passed to the agency"),
    Status.IN_PROGRESS: N_("Being handled"),
    Status.RESOLVED: N_("Resolved by the agency"),
    Status.CLOSED: N_("Closed"),
    Status.REJECTED: N_("Not processed"),
    Status.REFERRED: N_("Referred to another office"),
    Status.DUPLICATE: N_("Merged with an earlier report"),
    Status.REOPENED: N_("Reopened"),
}

REJECT_REASONS = {
    "info": N_("Not enough information to act on"),
    "not_complaint": N_("Not a complaint about a public service"),
    "abusive": N_("Abusive or offensive content"),
}


def status_label(status: str) -> str:
    """The status as residents read it."""
    try:
        return gettext(STATUS_LABELS[Status(status)])
    except ValueError:
        return status


def reject_reason(code: str) -> str:
    """A rejection reason code ("info", "not_complaint", "abusive") in words."""
    return gettext(REJECT_REASONS[code]) if code in REJECT_REASONS else code


def refusal_text(refused: TransitionRefused) -> str:
    """Why the lifecycle refused a move, for the staff member who tried."""
    if refused.problem == "note":
        return _("Report {ticket}: moving it to “{target}” needs a note.").format(
            ticket=refused.ticket, target=refused.target)
    if refused.problem == "original":
        return _("Report {ticket}: marking it a duplicate needs the ticket of the "
                 "original report.").format(ticket=refused.ticket)
    if refused.problem == "window":
        return _("Report {ticket} can no longer be reopened: the time to do so has "
                 "passed.").format(ticket=refused.ticket)
    if refused.current == Status.SUBMITTED and refused.target == Status.ASSIGNED:
        return _("Report {ticket} has not been verified yet: verify it first, then pass it to "
                 "the agency.").format(ticket=refused.ticket)
    allowed = sorted(next_statuses(refused.current))
    text = _("Report {ticket} is “{current}”; it cannot move to “{target}”.").format(
        ticket=refused.ticket, current=refused.current, target=refused.target)
    if allowed:
        text += " " + _("Allowed next: {statuses}.").format(statuses=", ".join(allowed))
    else:
        text += " " + _("It is final.")
    return text


def remaining_text(clock: StageClock, now: datetime, *, calendar: WorkCalendar) -> str:
    """"3 working days left", "due today" or "overdue by 2 working days"."""
    return remaining_until(clock.deadline, now, calendar=calendar)


def remaining_until(deadline: datetime, now: datetime, *, calendar: WorkCalendar) -> str:
    """The same from a deadline alone (the end of its due day, as `Report.due_at` keeps it)."""
    due_day = calendar.local_date(deadline - timedelta(seconds=1))
    left = calendar.working_days_left(now, due_day)
    if now >= deadline:
        late = max(-left, 1)
        return ngettext("overdue by {n} working day", "overdue by {n} working days",
                        late).format(n=late)
    if left == 0:
        return _("due today")
    return ngettext("{n} working day left", "{n} working days left", left).format(n=left)


def due_date_text(clock: StageClock, *, calendar: WorkCalendar) -> str:
    return format_date(calendar.at(clock.due_day, 12))


def deadline_text(clock: StageClock, now: datetime, *, calendar: WorkCalendar,
                  agency: str | None = None) -> str:
    """One line for residents: who acts next, and by when (in working days)."""
    when = due_date_text(clock, calendar=calendar)
    if clock.stage == CONFIRM:
        return _("Next: if it is not fixed, tell us by {date}; otherwise the report closes "
                 "then.").format(date=when)
    rest = remaining_text(clock, now, calendar=calendar)
    if clock.stage == VERIFY:
        return _("Next: Kominfo verifies the report by {date} ({rest}).").format(
            date=when, rest=rest)
    return _("Next: {agency} responds by {date} ({rest}).").format(
        agency=agency or _("the agency"), date=when, rest=rest)


def auto_closed_note(days: int) -> str:
    """The note a report is closed with when the resident did not answer in time."""
    return ngettext(
        "Closed automatically: no reply within {n} working day of the answer.",
        "Closed automatically: no reply within {n} working days of the answer.",
        days).format(n=days)


class RecordWords:
    """The notes the report domain writes into a report's history, in the city's record
    language (reports.actions.RecordWords)."""

    def __init__(self, locale: str = RECORD_LOCALE) -> None:
        self.locale = locale

    def rejection(self, code: str) -> str:
        with use_locale(self.locale):
            return reject_reason(code)

    def auto_closed(self, days: int) -> str:
        with use_locale(self.locale):
            return auto_closed_note(days)


RECORD_WORDS = RecordWords()


def login_link_text(url: str, minutes: int) -> str:
    """A console sign-in link as a staff member reads it in their chat."""
    return _("Your sign-in link for the staff console (it works once, within {minutes} "
             "minutes; do not share it):\n{url}").format(minutes=minutes, url=url)
