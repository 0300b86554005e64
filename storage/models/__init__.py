"""The tables, one module per part of the city's work; importing this package registers them all
with `SQLModel.metadata` (migrations, tests)."""

from sqlmodel import SQLModel

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
    CampaignText,
    Delivery,
    Dispatcher,
    LinkClick,
    Relay,
    RelayForward,
    RelayJoin,
    Subscriber,
    Subscription,
)
from storage.models.faq import (
    FaqFeedback,
    FaqQuestion,
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
    Report,
    ReportEvent,
    ReportPhoto,
    RoutingOverride,
    TicketCounter,
)

metadata = SQLModel.metadata

__all__ = [
    "Agency",
    "AgencyGroup",
    "BroadcastCode",
    "BroadcastGroup",
    "Campaign",
    "CampaignText",
    "Category",
    "Conversation",
    "Delivery",
    "Dispatcher",
    "FaqFeedback",
    "FaqQuestion",
    "Identity",
    "InboundEvent",
    "Kecamatan",
    "Kelurahan",
    "LinkClick",
    "LinkCode",
    "Notification",
    "OutboundMessage",
    "OutboundStatus",
    "PendingMessage",
    "QuestionStatus",
    "Rating",
    "Relay",
    "RelayForward",
    "RelayJoin",
    "ReminderSent",
    "Report",
    "ReportEvent",
    "ReportPhoto",
    "RoutingOverride",
    "StaffMember",
    "Subscriber",
    "Subscription",
    "Supporter",
    "TicketCounter",
    "metadata",
]
