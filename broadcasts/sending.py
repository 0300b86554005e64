"""The channel-neutral seam between the dispatcher and each channel's bulk sender."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol

from broadcasts.limiter import ChannelLimits


@dataclass(slots=True)
class BulkMessage:
    """One message of a campaign to one recipient, as plain text (the sender escapes it)."""

    address: str
    text: str
    is_group: bool = False
    image_path: str | None = None
    link: tuple[str, str] | None = None  # (label, url): a button where the channel has them
    button: tuple[str, str] | None = None  # (option id, label): a reply button
    # (option id, label) to choose from (a poll): buttons, or a numbered list to answer.
    options: list[tuple[str, str]] = field(default_factory=list)
    # WhatsApp outside the 24-hour window: a pre-approved template instead of free text.
    template_sid: str | None = None
    template_vars: dict[str, str] = field(default_factory=dict)
    delivery_id: int | None = None
    locale: str = "id"


class Outcome(StrEnum):
    OK = "ok"
    RETRY = "retry"  # a server error or a timeout: try again later
    RETRY_AFTER = "retry_after"  # the platform's flood control
    BLOCKED = "blocked"  # the person blocked the bot / left; stop sending to them
    OPTED_OUT = "opted_out"  # the platform says the person opted out (WhatsApp 21610)
    FAILED = "failed"  # will not work however often it is tried


@dataclass(frozen=True, slots=True)
class SendResult:
    outcome: Outcome
    provider_id: str | None = None
    retry_after: float = 0.0
    reason: str | None = None

    @classmethod
    def ok(cls, provider_id: str | None = None) -> SendResult:
        return cls(Outcome.OK, provider_id=provider_id)


class BulkSender(Protocol):
    """What the dispatcher needs from a channel to send broadcasts."""

    channel: str
    limits: ChannelLimits
    # The longest caption an image may carry; longer texts go in a second message.
    caption_limit: int
    # Whether the first message to someone who has not written lately needs a template.
    needs_template_window: bool
    # Whether delivery and read receipts arrive later (then "sent" is not yet "delivered").
    has_receipts: bool

    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    async def send(self, message: BulkMessage) -> SendResult: ...

    def join_link(self, code: str) -> str | None:
        """The link that opens a chat with the bot carrying `code` (a relay's join link)."""
        ...
