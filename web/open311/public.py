"""What of a report an Open311 answer may carry: `public_request`, on the one projection of
what the public may see (`reports.publishing`), the same the public report page reads.

Open311's GET answers are public: anyone may read them. A report Kominfo has passed on carries
the ticket, the service, the agency, the status with the agency's public note, the dates, the
kelurahan and kecamatan, and for a category that is not confidential the point rounded to about
100 m; the description and photos only once staff approved them for publishing. A report still
being checked, or not processed, carries only its ticket, service, status and date. Never the
reporter, the contact a partner gave, the exact address or staff's internal notes.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from bot.i18n import _
from bot.labels import status_label
from reports.lifecycle import OPEN, WITH_KOMINFO, Status
from reports.publishing import PublicReport, Stage
from reports.workdays import WorkCalendar
from storage.models import Report
from web.public.base import public_status, rfc3339

if TYPE_CHECKING:
    from storage.city import City

# The history notes that may be public: the agency's words to the resident as it works.
NOTE_STATUSES = (Status.IN_PROGRESS, Status.RESOLVED)


def open311_status(status: str) -> str:
    """Open311 knows two statuses: a report the city still works on is open; one resolved,
    closed, referred elsewhere, merged into another or not processed is closed."""
    return "open" if status in OPEN else "closed"


def expected_at(report: Report, city: City, calendar: WorkCalendar) -> datetime | None:
    """When the city's service levels say the request is answered: the agency's deadline; while
    Kominfo still verifies, its deadline plus the agency's working days. None once closed."""
    if report.status not in OPEN or report.due_at is None:
        return None
    if report.status not in WITH_KOMINFO:
        return report.due_at
    category = city.category(report.category_key)
    answer_days = category.answer_days if category else city.answer_days
    verify_day = calendar.local_date(report.due_at - timedelta(seconds=1))
    return calendar.end_of(calendar.shift(verify_day, answer_days))


def public_note(view: PublicReport) -> str | None:
    """The agency's latest public note on the report's current step (a closed report keeps its
    resolution's): which notes are public is the projection's (and Kominfo's) decision."""
    wanted = Status.RESOLVED if view.status == Status.CLOSED else view.status
    if wanted not in NOTE_STATUSES:
        return None
    return next((step.note for step in reversed(view.history)
                 if step.status == wanted and step.note), None)


def public_request(report: Report, view: PublicReport, *, city: City, calendar: WorkCalendar,
                   base_url: str) -> dict[str, Any]:
    """The public fields of one report, as Open311 names them (in the current locale)."""
    category = city.category(report.category_key)
    answer: dict[str, Any] = {
        "service_request_id": report.ticket,
        "status": open311_status(report.status),
        "status_notes": public_status(view),
        "service_name": category.name() if category else None,
        "service_code": report.category_key,
        "requested_datetime": rfc3339(report.created_at),
        "updated_datetime": rfc3339(report.updated_at),
    }
    if view.stage != Stage.PUBLIC:
        return answer
    kel = (city.kelurahan(view.kelurahan_code)
           if view.kelurahan_code and city.has_kelurahan(view.kelurahan_code) else None)
    kec = city.kecamatan_by_code(view.kecamatan_code)
    note = public_note(view)
    label = status_label(report.status)
    photo = next((p for p in view.photos if p.stage == "before"), None) or \
        next(iter(view.photos), None)
    answer.update({
        "status_notes": _("{status}: {note}").format(status=label, note=note) if note
        else label,
        "description": view.description,
        "agency_responsible": city.agency_label(view.agency_key) if view.agency_key else None,
        "expected_datetime": rfc3339(expected_at(report, city, calendar)),
        "address": ", ".join(p.name for p in (kel, kec) if p is not None) or None,
        "lat": view.latitude,
        "long": view.longitude,
        "media_url": f"{base_url}/t/{report.ticket}/foto/{photo.id}" if photo else None,
    })
    return answer
