"""Routing outgoing messages to the channel each recipient is on."""

from __future__ import annotations

import logging
from typing import Any, Protocol

from bot.engine import Outgoing

logger = logging.getLogger(__name__)


class Sender(Protocol):
    """A channel adapter's sending side."""

    async def deliver(self, outgoing: list[Outgoing], *, edit_message: Any = None) -> None: ...


class Outbound:
    """Hands each Outgoing to its channel's sender; unknown channels are logged, not fatal."""

    def __init__(self) -> None:
        self.senders: dict[str, Sender] = {}

    def register(self, channel: str, sender: Sender) -> None:
        self.senders[channel] = sender

    async def deliver(self, outgoing: list[Outgoing], *, source: str | None = None,
                      edit_message: Any = None) -> None:
        by_channel: dict[str, list[Outgoing]] = {}
        for item in outgoing:
            by_channel.setdefault(item.channel, []).append(item)
        for channel, items in by_channel.items():
            sender = self.senders.get(channel)
            if sender is None:
                logger.warning("no sender for channel %s; %d message(s) dropped", channel,
                               len(items))
                continue
            await sender.deliver(items, edit_message=edit_message if channel == source else None)
