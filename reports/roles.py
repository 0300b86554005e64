"""Staff roles and what each may do to a report."""

from __future__ import annotations

from enum import StrEnum

from storage.models import Report
from storage.models.agency import StaffMember


class Role(StrEnum):
    KOMINFO = "kominfo"  # verifies and routes reports, administers the bot
    OFFICER = "officer"  # acts on the reports of one agency
    HEAD = "head"  # an agency's head: acts like an officer and receives escalations
    LEADERSHIP = "leadership"  # the mayor's office: reads the evaluation and maps, acts on nothing


# What an agency does with its reports; Kominfo may do these too. Everything else (verifying,
# rejecting, routing, assigning) belongs to Kominfo alone.
AGENCY_ACTIONS = frozenset({"take", "progress", "resolve", "notours", "duplicate"})


def can_see(staff: StaffMember | None, report: Report) -> bool:
    """Kominfo sees every report; an agency's staff their agency's; leadership none one by one
    (they read the figures)."""
    if staff is None or not staff.active:
        return False
    if staff.role == Role.KOMINFO:
        return True
    if staff.role in (Role.OFFICER, Role.HEAD):
        return staff.agency_key is not None and staff.agency_key == report.agency_key
    return False


def works_reports(staff: StaffMember) -> bool:
    """Whether the staff member has an inbox of reports (leadership reads figures only)."""
    return staff.active and staff.role in (Role.KOMINFO, Role.OFFICER, Role.HEAD)


def can_act(staff: StaffMember | None, report: Report, action: str) -> bool:
    """Only staff of the report's agency, or Kominfo, may act on it."""
    if staff is None or not staff.active:
        return False
    if staff.role == Role.KOMINFO:
        return True
    if staff.role not in (Role.OFFICER, Role.HEAD) or action not in AGENCY_ACTIONS:
        return False
    return staff.agency_key is not None and staff.agency_key == report.agency_key
