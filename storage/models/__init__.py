"""The tables, one module per part of the city's work.

A table module is imported when one of its names is first used, so a command loads only the
tables it needs (each module imports the modules its foreign keys point to); `metadata` loads
them all, for migrations and tests.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

MODULES = ("report", "agency", "broadcast", "faq", "outbound", "console")
_WHERE = {
    "Agency": "report",
    "AuditEntry": "console",
    "ConsoleSession": "console",
    "LoginLink": "console",
    "AgencyGroup": "agency",
    "BroadcastCode": "broadcast",
    "BroadcastGroup": "broadcast",
    "Campaign": "broadcast",
    "CampaignStatus": "broadcast",
    "CampaignText": "broadcast",
    "Category": "report",
    "Conversation": "report",
    "Delivery": "broadcast",
    "DeliveryStatus": "broadcast",
    "Dispatcher": "broadcast",
    "FaqFeedback": "faq",
    "FaqQuestion": "faq",
    "FaqView": "faq",
    "Identity": "report",
    "InboundEvent": "report",
    "Kecamatan": "report",
    "Kelurahan": "report",
    "LimitLift": "report",
    "LinkClick": "broadcast",
    "LinkCode": "agency",
    "Notification": "agency",
    "OutboundMessage": "outbound",
    "OutboundStatus": "outbound",
    "PendingMessage": "outbound",
    "QuestionStatus": "faq",
    "Rating": "agency",
    "PhotoFetch": "report",
    "Relay": "broadcast",
    "RelayForward": "broadcast",
    "RelayJoin": "broadcast",
    "ReminderSent": "agency",
    "Report": "report",
    "ReportEvent": "report",
    "ReportNote": "console",
    "ReportPhoto": "report",
    "ReportVoice": "report",
    "RoutingOverride": "report",
    "StaffMember": "agency",
    "Subscriber": "broadcast",
    "Subscription": "broadcast",
    "Supporter": "agency",
    "TicketCounter": "report",
}

if TYPE_CHECKING:
    from sqlalchemy import MetaData

    from storage.models.agency import (
        AgencyGroup,
        LinkCode,
        Notification,
        Rating,
        ReminderSent,
        StaffMember,
        Supporter,
    )
    from storage.models.broadcast import (
        BroadcastCode,
        BroadcastGroup,
        Campaign,
        CampaignStatus,
        CampaignText,
        Delivery,
        DeliveryStatus,
        Dispatcher,
        LinkClick,
        Relay,
        RelayForward,
        RelayJoin,
        Subscriber,
        Subscription,
    )
    from storage.models.console import (
        AuditEntry,
        ConsoleSession,
        LoginLink,
        ReportNote,
    )
    from storage.models.faq import (
        FaqFeedback,
        FaqQuestion,
        FaqView,
        QuestionStatus,
    )
    from storage.models.outbound import (
        OutboundMessage,
        OutboundStatus,
        PendingMessage,
    )
    from storage.models.report import (
        Agency,
        Category,
        Conversation,
        Identity,
        InboundEvent,
        Kecamatan,
        Kelurahan,
        LimitLift,
        PhotoFetch,
        Report,
        ReportEvent,
        ReportPhoto,
        ReportVoice,
        RoutingOverride,
        TicketCounter,
    )

    metadata: MetaData


def __getattr__(name: str) -> Any:
    if name == "metadata":
        from sqlmodel import SQLModel

        for each in MODULES:
            importlib.import_module(f"storage.models.{each}")
        return SQLModel.metadata
    where = _WHERE.get(name)
    if where is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"storage.models.{where}"), name)


__all__ = [
    "Agency",
    "AgencyGroup",
    "AuditEntry",
    "BroadcastCode",
    "BroadcastGroup",
    "Campaign",
    "CampaignStatus",
    "CampaignText",
    "Category",
    "ConsoleSession",
    "Conversation",
    "Delivery",
    "DeliveryStatus",
    "Dispatcher",
    "FaqFeedback",
    "FaqQuestion",
    "FaqView",
    "Identity",
    "InboundEvent",
    "Kecamatan",
    "Kelurahan",
    "LimitLift",
    "LinkClick",
    "LinkCode",
    "LoginLink",
    "Notification",
    "OutboundMessage",
    "OutboundStatus",
    "PendingMessage",
    "PhotoFetch",
    "QuestionStatus",
    "Rating",
    "Relay",
    "RelayForward",
    "RelayJoin",
    "ReminderSent",
    "Report",
    "ReportEvent",
    "ReportNote",
    "ReportPhoto",
    "ReportVoice",
    "RoutingOverride",
    "StaffMember",
    "Subscriber",
    "Subscription",
    "Supporter",
    "TicketCounter",
    "metadata",
]
