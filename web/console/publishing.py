"""The console's part of a report's public page: Kominfo approves or withdraws each photo,
publishes the description (as written, or edited to remove names and plates) and shows or hides
the agency's notes. The rules (confidential categories, the reporter never named) are the
domain's (reports.publishing); the console offers only what they allow."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from bot.i18n import _
from reports.publishing import (
    NOTE_STATUSES,
    Publishing,
    Stage,
    Unpublishable,
    confidential,
    note_is_public,
    stage_of,
)
from reports.roles import Role
from storage import repo, repo_public
from storage.models import Report, ReportEvent, ReportPhoto
from storage.models.agency import StaffMember
from web.forms import form_text

if TYPE_CHECKING:
    from sqlmodel.ext.asyncio.session import AsyncSession

    from web.console import Console

PUBLISH_ACTIONS = ("publish_text", "withdraw_text", "publish_photo", "withdraw_photo",
                   "show_note", "hide_note")


def publish_problem(refused: Unpublishable) -> tuple[str, int]:
    """Why a publishing decision was refused, for the staff member, and the page's status."""
    if refused.reason == "confidential":
        return _("This report's category is confidential: its description, photos and place "
                 "are never published."), 403
    if refused.reason == "names_reporter":
        return _("The text still names the reporter (their name or number). Remove it, then "
                 "publish."), 400
    if refused.reason == "empty":
        return _("Write the text to publish first."), 400
    return _("That photo or note is not part of this report."), 400


def _number(text: str) -> int:
    return int(text) if text.isdigit() and len(text) < 12 else -1


class PublishingPanel:
    def __init__(self, console: Console) -> None:
        self.console = console

    def _publishing(self, session: AsyncSession) -> Publishing:
        return Publishing(session=session, city=self.console.city, now=self.console.clock)

    @staticmethod
    def allowed(staff: StaffMember) -> list[str]:
        """Publishing is Kominfo's call (the city's public channel), for every report."""
        return list(PUBLISH_ACTIONS) if staff.active and staff.role == Role.KOMINFO else []

    async def revision(self, session: AsyncSession, report: Report) -> int:
        return await self._publishing(session).revision(report)

    async def context(self, session: AsyncSession, staff: StaffMember, report: Report,
                      photos: Sequence[ReportPhoto],
                      events: Sequence[ReportEvent]) -> dict[str, Any] | None:
        """What the report page shows of the public page, with its forms (Kominfo only)."""
        if not self.allowed(staff):
            return None
        console = self.console
        rid = report.id or 0
        now = console.clock()
        publication = await self._publishing(session).decisions(report)
        approved = {p.id for p in (await repo_public.public_photos_for(
            session=session, report_ids=[rid])).get(rid, [])}
        decisions = await repo_public.note_decisions_for(session=session, report_ids=[rid])
        reporter = await repo.get_identity_by_id(session=session,
                                                 identity_id=report.reporter_id)
        secret = confidential(console.city, report.category_key)
        text = publication.description if publication is not None else None
        return {
            "link": f"/t/{report.ticket}",
            "stage": stage_of(report, events),
            "Stage": Stage,
            "confidential": secret,
            "text": text,
            "edited": publication is not None and publication.description_edited,
            "draft": text or report.description,
            "photos": [{"id": p.id, "url": console.media.url(p.path, now=now),
                        "stage": p.stage, "public": p.id in approved} for p in photos],
            "notes": [{"id": e.id, "status": e.status, "at": e.at, "note": e.note,
                       "public": note_is_public(e, secret=secret,
                                                decision=decisions.get(e.id or 0),
                                                reporter=reporter)}
                      for e in events if e.status in NOTE_STATUSES and e.note],
        }

    async def apply(self, session: AsyncSession, staff: StaffMember, report: Report,
                    action: str, form: Any) -> dict[str, Any]:
        """Make one decision; returns what the audit log keeps of it. Raises Unpublishable."""
        publishing = self._publishing(session)
        staff_id = staff.id or 0
        if action == "publish_text":
            row = await publishing.approve_description(report, staff_id=staff_id,
                                                       text=form_text(form, "text"))
            return {"edited": row.description_edited, "length": len(row.description or "")}
        if action == "withdraw_text":
            await publishing.withdraw_description(report, staff_id=staff_id)
            return {}
        if action in ("publish_photo", "withdraw_photo"):
            photo = _number(form_text(form, "photo_id"))
            if action == "publish_photo":
                await publishing.approve_photo(report, photo, staff_id=staff_id)
            else:
                await publishing.withdraw_photo(report, photo, staff_id=staff_id)
            return {"photo": photo}
        event = _number(form_text(form, "event_id"))
        await publishing.set_note(report, event, public=action == "show_note",
                                  staff_id=staff_id)
        return {"event": event}
