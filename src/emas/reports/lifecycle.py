"""Report statuses, their labels, and which are open, public and final."""

from __future__ import annotations

from enum import StrEnum

from emas.i18n import N_, gettext


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


_LABELS = {
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

OPEN = frozenset(
    {Status.SUBMITTED, Status.VERIFIED, Status.ASSIGNED, Status.IN_PROGRESS, Status.REOPENED}
)
FINAL = frozenset({Status.CLOSED, Status.REJECTED, Status.DUPLICATE})


def status_label(status: str) -> str:
    """The status as residents read it, in the current locale."""
    try:
        return gettext(_LABELS[Status(status)])
    except ValueError:
        return status
