"""What people are told about a report, each in their own language: the domain's notices
(reports.notices) worded as chat messages."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from bot.i18n import _, use_locale
from bot.labels import due_date_text, reject_reason, remaining_text, status_label
from bot.messages import Option, Reply
from reports.lifecycle import Status
from reports.notices import (
    RESIDENT_KIND,
    STAFF_KIND,
    AgencyPost,
    HandedBack,
    Recipient,
    Reminder,
    ReportFacts,
    ReportNotice,
    ResidentUpdate,
    StaffMessage,
    TriagePost,
)
from reports.sla import ANSWER, VERIFY, StageClock, calendar_for
from reports.workdays import WorkCalendar
from storage.models import Report

if TYPE_CHECKING:
    from storage.city import City

DESCRIPTION_PREVIEW = 600


@dataclass(slots=True)
class Notice:
    """One message for one recipient, already written in the recipient's language."""

    recipient: Recipient
    reply: Reply


def render(recipients: Iterable[Recipient], compose: Callable[[Recipient], Reply | None]
           ) -> list[Notice]:
    """Compose one message per recipient (each once), in the recipient's language."""
    notices: list[Notice] = []
    seen: set[tuple[str, str]] = set()
    for recipient in recipients:
        if recipient.key in seen:
            continue
        seen.add(recipient.key)
        with use_locale(recipient.locale):
            reply = compose(recipient)
        if reply is not None:
            notices.append(Notice(recipient=recipient, reply=reply))
    return notices


# --- what is said ----------------------------------------------------------------------------


def map_link(report: Report) -> str | None:
    if report.latitude is None or report.longitude is None:
        return None
    return f"https://maps.google.com/?q={report.latitude:.6f},{report.longitude:.6f}"


def due_text(clock: StageClock | None, now: datetime, calendar: WorkCalendar) -> str | None:
    if clock is None or clock.stage not in (VERIFY, ANSWER):
        return None
    return _("Deadline: {date} ({rest})").format(
        date=due_date_text(clock, calendar=calendar),
        rest=remaining_text(clock, now, calendar=calendar))


def details(facts: ReportFacts, *, city: City, now: datetime, calendar: WorkCalendar) -> list[str]:
    """The lines staff need to act: what, where, who, how many, by when."""
    report = facts.report
    category = city.category(report.category_key)
    kel = city.kelurahan(report.kelurahan_code) if report.kelurahan_code else None
    kec = city.kecamatan_by_code(report.kecamatan_code)
    description = report.description
    if len(description) > DESCRIPTION_PREVIEW:
        description = description[:DESCRIPTION_PREVIEW].rstrip() + "…"
    lines = [
        _("Category: {value}").format(value=category.name() if category else "-"),
        _("Kelurahan: {value}").format(value=f"{kel.name}, {kec.name}" if kel and kec else "-"),
    ]
    if report.address:
        lines.append(_("Address/landmark: {value}").format(value=report.address))
    lines.append(_("Description: {value}").format(value=description))
    if facts.voices:
        lines.append(_("🎙️ The resident also sent a voice note (played below on Telegram; "
                       "`emas report show {ticket}` lists the file).").format(
                           ticket=report.ticket))
    link = map_link(report)
    if link:
        lines.append(_("Map: {url}").format(url=link))
    if report.anonymous or facts.reporter is None or not facts.reporter.display_name:
        lines.append(_("Reporter: anonymous"))
    else:
        lines.append(_("Reporter: {name}").format(name=facts.reporter.display_name))
    lines.append(_("Supporters (residents saying “me too”): {n}").format(
        n=len(facts.supporters)))
    due = due_text(facts.clock, now, calendar)
    if due:
        lines.append(due)
    return lines


def agency_options(report: Report) -> list[Option]:
    rid = report.id
    return [
        Option(f"st:take:{rid}", _("✋ Take it")),
        Option(f"st:prog:{rid}", _("🔧 In progress")),
        Option(f"st:res:{rid}", _("✅ Resolved")),
        Option(f"st:nobj:{rid}", _("↩️ Not ours")),
        Option(f"st:dup:{rid}", _("🔁 Duplicate")),
    ]


def triage_options(report: Report, city: City) -> list[Option]:
    rid = report.id
    return [
        Option(f"st:ver:{rid}", _("✅ Verify → {agency}").format(
            agency=city.agency_label(report.agency_key, short=True))),
        Option(f"st:route:{rid}", _("🔀 Another agency")),
        Option(f"st:rej:{rid}", _("❌ Reject")),
        Option(f"st:dup:{rid}", _("🔁 Duplicate")),
    ]


# Outside WhatsApp's 24-hour window a notification goes out as the approved template of its
# kind, filled with these numbered variables:
#   report_status: {{1}} ticket, {{2}} the new status, {{3}} the agency handling it
#   staff_alert:   {{1}} ticket, {{2}} the first line of the message
def staff_reply(text: str, facts: ReportFacts, options: list[Option] | None = None,
                media_paths: list[str] | None = None,
                audio_paths: list[str] | None = None) -> Reply:
    return Reply(text=text, options=options or [], media_paths=media_paths or [],
                 audio_paths=audio_paths or [], kind=STAFF_KIND,
                 template_vars={"1": facts.report.ticket, "2": text.split("\n", 1)[0][:500]})


def resident_reply(text: str, facts: ReportFacts, status: str, city: City, *,
                   options: list[Option] | None = None,
                   media_paths: list[str] | None = None) -> Reply:
    return Reply(
        text=text, options=options or [], media_paths=media_paths or [], kind=RESIDENT_KIND,
        template_vars={
            "1": facts.report.ticket,
            "2": status_label(status),
            "3": city.agency_label(facts.report.agency_key),
        },
    )


def resident_update(
    facts: ReportFacts, status: str, *, city: City, now: datetime, calendar: WorkCalendar,
    note: str | None, is_reporter: bool, media_dir: Path, original_ticket: str | None = None,
) -> Reply | None:
    """What a reporter or supporter is told when their report moves."""
    report = facts.report
    ticket = report.ticket
    agency = city.agency_label(report.agency_key)
    # Sentences start with the subject; the first letter is raised once the text is complete.
    if is_reporter:
        subject = _("your report {ticket}").format(ticket=ticket)
    else:
        subject = _("the report {ticket} you support").format(ticket=ticket)
    options: list[Option] = []
    media: list[str] = []
    if status == Status.VERIFIED:
        text = _("{report} has been verified by Kominfo and will be passed to the agency."
                 ).format(report=subject)
    elif status == Status.ASSIGNED:
        text = _("{report} has been verified and passed to {agency}.").format(
            report=subject, agency=agency)
        due = due_text(facts.clock, now, calendar)
        if due:
            text += "\n" + due
    elif status == Status.IN_PROGRESS:
        text = _("🔧 {agency} is now working on {report}.").format(agency=agency,
                                                                  report=subject)
        if note:
            text += "\n" + _("Note from the agency: {note}").format(note=note)
    elif status == Status.RESOLVED:
        text = _("✅ {agency} reports that {report} has been resolved.").format(
            agency=agency, report=subject)
        if note:
            text += "\n" + _("Note from the agency: {note}").format(note=note)
        media = facts.photo_paths(media_dir, "after")
        if is_reporter:
            text += "\n\n" + _("Is the problem fixed?")
            options = [Option(f"rate:yes:{report.id}", _("👍 Yes, it is fixed")),
                       Option(f"rate:no:{report.id}", _("👎 No, not fixed"))]
    elif status == Status.CLOSED:
        text = _("{report} is now closed. Thank you for helping improve the city.").format(
            report=subject)
    elif status == Status.REJECTED:
        text = _("{report} could not be processed.").format(report=subject)
        if note:
            text += "\n" + _("Reason: {reason}").format(reason=note)
        if is_reporter:
            text += "\n" + _("You are welcome to file a new report with more details.")
    elif status == Status.REFERRED:
        text = _("{report} is about a matter outside the city government's hands.").format(
            report=subject)
        if note:
            text += "\n" + _("Please contact: {contact}").format(contact=note)
        text += "\n" + _("We keep the report on file.")
    elif status == Status.DUPLICATE:
        text = _("{report} is about the same problem as report {original}, which is already "
                 "being followed up. We will tell you about its progress.").format(
            report=subject, original=original_ticket or "-")
    elif status == Status.REOPENED:
        text = _("{report} has been reopened and sent back to {agency}.").format(
            report=subject, agency=agency)
    else:
        return None
    text = text[:1].upper() + text[1:]
    return resident_reply(text, facts, status, city, options=options, media_paths=media)


def agency_post(facts: ReportFacts, *, city: City, now: datetime, calendar: WorkCalendar,
                media_dir: Path, reopened: bool = False, note: str | None = None) -> Reply:
    """A report arriving at an agency: the details, the photos and the action buttons."""
    report = facts.report
    agency = city.agency_label(report.agency_key, short=True)
    if reopened:
        head = _("🔺 Reopened and escalated: the resident says report {ticket} is not "
                 "fixed.").format(ticket=report.ticket)
    else:
        head = _("🆕 New report for {agency}: {ticket}").format(agency=agency,
                                                              ticket=report.ticket)
    lines = [head]
    if note:
        lines.append(_("Note: {note}").format(note=note))
    lines += details(facts, city=city, now=now, calendar=calendar)
    return staff_reply("\n".join(lines), facts, agency_options(report),
                       facts.photo_paths(media_dir, "before"), facts.voice_paths(media_dir))


def triage_post(facts: ReportFacts, *, city: City, now: datetime, calendar: WorkCalendar,
                media_dir: Path) -> Reply:
    """A new report waiting for Kominfo to verify and route it."""
    report = facts.report
    lines = [_("📥 New report to verify: {ticket}").format(ticket=report.ticket)]
    lines += details(facts, city=city, now=now, calendar=calendar)
    lines.append(_("Routing suggests: {agency}").format(
        agency=city.agency_label(report.agency_key)))
    return staff_reply("\n".join(lines), facts, triage_options(report, city),
                       facts.photo_paths(media_dir, "before"), facts.voice_paths(media_dir))


def handed_back_post(facts: ReportFacts, *, city: City, by_agency: str | None, reason: str,
                     suggested: str | None) -> Reply:
    """An agency says a report is not theirs: Kominfo re-routes it."""
    report = facts.report
    lines = [
        _("↩️ {agency} handed report {ticket} back: it is not theirs.").format(
            agency=city.agency_label(by_agency, short=True), ticket=report.ticket),
        _("Reason: {reason}").format(reason=reason),
    ]
    options: list[Option] = []
    if suggested:
        lines.append(_("Suggested agency: {agency}").format(
            agency=city.agency_label(suggested)))
        options.append(Option(f"st:asg:{report.id}:{suggested}", _("➡️ Pass to {agency}").format(
            agency=city.agency_label(suggested, short=True))))
    options += [Option(f"st:route:{report.id}", _("🔀 Another agency")),
                Option(f"st:rej:{report.id}", _("❌ Reject"))]
    return staff_reply("\n".join(lines), facts, options)


def reminder_post(facts: ReportFacts, *, city: City, now: datetime, calendar: WorkCalendar,
                  stage: str, overdue: bool, with_buttons: bool) -> Reply:
    """A due-soon reminder or an escalation on a breached deadline."""
    report = facts.report
    agency = city.agency_label(report.agency_key, short=True)
    if stage == VERIFY:
        if overdue:
            head = _("🔺 Overdue: report {ticket} has not been verified and passed to an agency "
                     "in time.").format(ticket=report.ticket)
        else:
            head = _("⏰ Report {ticket} must be verified and passed to an agency today."
                     ).format(ticket=report.ticket)
    elif overdue:
        head = _("🔺 Overdue: {agency} has not responded to report {ticket} in time.").format(
            agency=agency, ticket=report.ticket)
    else:
        head = _("⏰ Report {ticket} needs {agency}'s response today.").format(
            ticket=report.ticket, agency=agency)
    lines = [head, *details(facts, city=city, now=now, calendar=calendar)]
    options: list[Option] = []
    if with_buttons:
        options = triage_options(report, city) if stage == VERIFY else agency_options(report)
    return staff_reply("\n".join(lines), facts, options)


def comment_post(facts: ReportFacts, *, comment: str, stars: int | None) -> Reply:
    """The reporter's comment on a resolution, passed to the agency."""
    report = facts.report
    lines = [_("💬 The reporter of {ticket} commented: {comment}").format(
        ticket=report.ticket, comment=comment)]
    if stars:
        lines.append(_("Rating: {stars}/5").format(stars=stars))
    return staff_reply("\n".join(lines), facts)


def staff_message(facts: ReportFacts, *, city: City, text: str) -> Reply:
    """Staff's message to the reporter, with who sends it and about which report."""
    report = facts.report
    head = _("💬 Message from {agency} about your report {ticket}:").format(
        agency=city.agency_label(report.agency_key) if report.agency_key else "Kominfo",
        ticket=report.ticket)
    return resident_reply(f"{head}\n{text}", facts, report.status, city)


def word(notice: ReportNotice, *, city: City, media_dir: Path) -> list[Notice]:
    """A domain notice as one message per recipient, each in the recipient's language."""
    calendar = calendar_for(city)
    facts, what, now = notice.facts, notice.what, notice.at
    compose: Callable[[Recipient], Reply | None]
    if isinstance(what, ResidentUpdate):
        update = what

        def compose(r: Recipient) -> Reply | None:
            note = reject_reason(update.reason_code) if update.reason_code else update.note
            return resident_update(facts, update.status, city=city, now=now, calendar=calendar,
                                   note=note, is_reporter=r.key in update.reporters,
                                   media_dir=media_dir, original_ticket=update.original_ticket)
    elif isinstance(what, AgencyPost):
        post = what

        def compose(r: Recipient) -> Reply | None:
            return agency_post(facts, city=city, now=now, calendar=calendar, media_dir=media_dir,
                               reopened=post.reopened, note=post.note)
    elif isinstance(what, TriagePost):
        def compose(r: Recipient) -> Reply | None:
            return triage_post(facts, city=city, now=now, calendar=calendar, media_dir=media_dir)
    elif isinstance(what, HandedBack):
        back = what

        def compose(r: Recipient) -> Reply | None:
            return handed_back_post(facts, city=city, by_agency=back.by_agency,
                                    reason=back.reason, suggested=back.suggested)
    elif isinstance(what, Reminder):
        reminder = what

        def compose(r: Recipient) -> Reply | None:
            return reminder_post(facts, city=city, now=now, calendar=calendar,
                                 stage=reminder.stage, overdue=reminder.overdue,
                                 with_buttons=r.key in reminder.with_buttons)
    elif isinstance(what, StaffMessage):
        message = what

        def compose(r: Recipient) -> Reply | None:
            return staff_message(facts, city=city, text=message.text)
    else:
        comment = what

        def compose(r: Recipient) -> Reply | None:
            return comment_post(facts, comment=comment.comment, stars=comment.stars)
    return render(notice.recipients, compose)


def word_all(notices: Iterable[ReportNotice], *, city: City, media_dir: Path) -> list[Notice]:
    return [n for notice in notices for n in word(notice, city=city, media_dir=media_dir)]
