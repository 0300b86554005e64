"""What a resident sees of a report in chat: the receipt, and the status anyone with the ticket
may see (never the reporter's identity)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.i18n import _, format_datetime, ngettext
from bot.labels import deadline_text, status_label
from reports.lifecycle import Status
from reports.service import count_supporters
from reports.sla import ANSWER, VERIFY, calendar_for, current_clock, stage_days
from storage import repo
from storage.city import City
from storage.models import Report, ReportEvent

# The latest steps of a report's history shown in chat (a long one keeps within one message).
HISTORY_LINES = 8


def receipt_text(city: City, report: Report, *, public_url: str | None = None) -> str:
    """What the resident reads once a report is filed; with the server's public address
    (EMAS_PUBLIC_URL), a link to the report's public page."""
    agency = city.agency(report.agency_key or "")
    lines = [
        _("✅ Thank you, your report has been received."),
        _("Ticket number: {ticket}").format(ticket=report.ticket),
        "",
    ]
    if agency is not None and agency.external:
        lines.append(_("This matter is handled by {agency}, outside the city government. "
                       "We keep your report and pass it on.").format(agency=agency.name))
        if agency.contact:
            lines.append(_("Please contact: {contact}").format(contact=agency.contact))
    elif agency is not None:
        lines.append(_("It will be handled by {agency}.").format(agency=agency.name))
    if report.status == Status.ASSIGNED:
        lines.append(
            _("It has gone straight to the agency, which responds within {days} working "
              "days. We will tell you here at every step.").format(
                days=stage_days(city, report, ANSWER))
        )
    elif report.status != Status.REFERRED:
        lines.append(
            _("Kominfo verifies it within {days} working days, then the agency follows it "
              "up. We will tell you here at every step.").format(
                days=stage_days(city, report, VERIFY))
        )
    lines.append(_("Keep the ticket number to check the status from the menu."))
    if public_url:
        lines.append(_("Follow it online: {url}").format(
            url=f"{public_url.rstrip('/')}/t/{report.ticket}"))
    return "\n".join(lines)


async def public_text(session: AsyncSession, city: City, report: Report, *, now: datetime,
                      viewer_id: int | None = None) -> str:
    """The view anyone with the ticket may see; never the reporter's identity."""
    category = city.category(report.category_key)
    kel = city.kelurahan(report.kelurahan_code) if report.kelurahan_code else None
    kec = city.kecamatan_by_code(report.kecamatan_code) if report.kecamatan_code else None
    agency = city.agency(report.agency_key or "")
    events = await repo.list_report_events(session=session, report_id=report.id or 0)
    lines = [
        _("Report {ticket}").format(ticket=report.ticket),
        _("Status: {status}").format(status=status_label(report.status)),
        _("Category: {value}").format(value=category.name() if category else "-"),
        _("Kelurahan: {value}").format(
            value=f"{kel.name}, {kec.name}" if kel and kec else "-"),
        _("Handled by: {value}").format(value=agency.short_name if agency else "-"),
        "",
        _("History:"),
    ]
    shown = events[-HISTORY_LINES:]
    if len(events) > len(shown):
        lines.append("• …")
    lines += [f"• {format_datetime(e.at)}: {status_label(e.status)}" for e in shown]
    lines.append("")
    lines += await _agency_side_lines(session, city, report, events, now)
    if viewer_id is not None and viewer_id == report.reporter_id:
        lines.append("")
        lines.append(_("Your description: {text}").format(text=report.description))
    public_notes = [e for e in events if e.note and e.status != Status.SUBMITTED]
    if public_notes:
        last = public_notes[-1]
        lines.append(_("Latest note: {note}").format(note=last.note))
    return "\n".join(lines)


async def _agency_side_lines(
    session: AsyncSession, city: City, report: Report, events: Sequence[ReportEvent],
    now: datetime,
) -> list[str]:
    """Supporters and the current deadline, in working days, for the public view."""
    lines = []
    supporters = await count_supporters(session, report)
    if supporters:
        lines.append(ngettext("Supported by {n} other resident",
                              "Supported by {n} other residents", supporters).format(n=supporters))
    calendar = calendar_for(city)
    clock = current_clock(report, events, city=city, calendar=calendar)
    if clock is not None:
        agency = city.agency(report.agency_key or "")
        lines.append(deadline_text(clock, now, calendar=calendar,
                                   agency=agency.short_name if agency else None))
    return lines
