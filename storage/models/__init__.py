"""The tables, one module per part of the city's work.

A table module is imported when one of its names is first used, so a command loads only the
tables it needs (each module imports the modules its foreign keys point to); `metadata` loads
them all, for migrations and tests.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

MODULES = ("report", "agency", "broadcast", "faq", "outbound", "console", "public", "poll", "partner",
           "outreach")
_WHERE = {
    "Agency": "report",
    "ApiKey": "partner",
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
    "OutreachSource": "outreach",
    "OutboundStatus": "outbound",
    "PendingMessage": "outbound",
    "Poll": "poll",
    "PollAnswer": "poll",
    "PollKind": "poll",
    "PollQuestion": "poll",
    "PollStatus": "poll",
    "QuestionAsked": "outreach",
    "QuestionStatus": "faq",
    "QuizParticipant": "poll",
    "Rating": "agency",
    "PhotoFetch": "report",
    "PublicNote": "public",
    "PublicPhoto": "public",
    "Relay": "broadcast",
    "RelayForward": "broadcast",
    "RelayJoin": "broadcast",
    "ReminderSent": "agency",
    "Report": "report",
    "ReportEvent": "report",
    "ReportNote": "console",
    "ReportPhoto": "report",
    "ReportPublication": "public",
    "ReportVoice": "report",
    "ResidentOrigin": "outreach",
    "RoutingOverride": "report",
    "ServiceRequest": "partner",
    "StaffMember": "agency",
    "Subscriber": "broadcast",
    "Subscription": "broadcast",
    "Suggestion": "outreach",
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
    from storage.models.outreach import (
        OutreachSource,
        QuestionAsked,
        ResidentOrigin,
        Suggestion,
    )
    from storage.models.partner import ApiKey, ServiceRequest
    from storage.models.poll import (
        Poll,
        PollAnswer,
        PollKind,
        PollQuestion,
        PollStatus,
        QuizParticipant,
    )
    from storage.models.public import (
        PublicNote,
        PublicPhoto,
        ReportPublication,
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
    "ApiKey",
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
    "OutreachSource",
    "OutboundStatus",
    "PendingMessage",
    "PhotoFetch",
    "Poll",
    "PollAnswer",
    "PollKind",
    "PollQuestion",
    "PollStatus",
    "PublicNote",
    "PublicPhoto",
    "QuestionAsked",
    "QuestionStatus",
    "QuizParticipant",
    "Rating",
    "Relay",
    "RelayForward",
    "RelayJoin",
    "ReminderSent",
    "Report",
    "ReportEvent",
    "ReportNote",
    "ReportPhoto",
    "ReportPublication",
    "ReportVoice",
    "ResidentOrigin",
    "RoutingOverride",
    "ServiceRequest",
    "StaffMember",
    "Subscriber",
    "Subscription",
    "Suggestion",
    "Supporter",
    "TicketCounter",
    "metadata",
]
