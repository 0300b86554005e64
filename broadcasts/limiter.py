"""Platform send limits, shared by two lanes: replies to residents first, broadcasts after.

One `SenderLimiter` per sending account (a Telegram bot, a WhatsApp sender) spaces messages
evenly at a little under the platform's rate, so no one-second window ever holds more than the
limit, and keeps per-chat limits for broadcasts (one message a second to a private chat, twenty
a minute to a group on Telegram). While a broadcast runs, replies take the next free slot and
broadcasts only a slot no reply is waiting for; a 429 stops broadcasts for `retry_after` and
lowers their rate.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

# Messages are spaced for this share of the platform's rate: the margin absorbs network jitter
# between our clock and the platform's, so the platform never counts one message too many.
HEADROOM = 0.985
# Extra seconds kept on the per-chat and group windows.
GUARD = 0.02
# Extra seconds kept on the bot's one-second window: with the spacing above, 30 messages span
# 0.98 s, so this check only stops a burst (after a pause, or credits); a guard as long as the
# spacing's own margin would make it the limit itself, and cost 2% of the rate.
WINDOW_GUARD = 0.01
# How late a send may be and still keep the even grid (catching up at most this much).
SLACK = 0.005
# After a 429: the rate falls to this share, and climbs back by RECOVERY of the limit per second.
# A 429 at this spacing mostly means the platform saw our messages bunched by network jitter,
# not that the limit was misjudged: a small step down, a quick climb back.
PENALTY = 0.9
FLOOR = 0.3
RECOVERY = 0.02


@dataclass(frozen=True)
class ChannelLimits:
    """A platform's limits for one sender."""

    per_second: float
    chat_interval: float = 0.0  # seconds between two messages to one private chat
    group_per_minute: int = 0  # messages a minute to one group chat (0: no limit)
    group_of: Callable[[str], bool] = field(default=lambda _chat: False)


def telegram_limits(per_second: float = 30.0) -> ChannelLimits:
    return ChannelLimits(per_second=per_second, chat_interval=1.0, group_per_minute=20,
                         group_of=lambda chat: chat.startswith("-"))


def whatsapp_limits(per_second: float = 80.0) -> ChannelLimits:
    return ChannelLimits(per_second=per_second)


Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]


class SenderLimiter:
    """The limits of one sender, for both lanes."""

    def __init__(self, limits: ChannelLimits, *, clock: Clock = time.monotonic,
                 sleep: Sleep = asyncio.sleep) -> None:
        self.limits = limits
        self.clock = clock
        self.sleep = sleep
        self.factor = 1.0
        # Several dispatchers on one account each take their share of the limit.
        self.share = 1.0
        self._penalty_factor = 1.0
        self.paused_until = 0.0
        self.penalties = 0
        self._next_at = 0.0
        self._credits = 0  # slots given back by refused messages
        self._last_penalty = -math.inf
        self._replies_waiting = 0
        self._last_bulk = -math.inf
        # A hard check on top of the spacing: never more than the limit within one second.
        self._window_size = int(limits.per_second) if limits.per_second <= 5000 else 0
        self._window: deque[float] = deque()
        self._private: dict[str, float] = {}
        self._groups: dict[str, deque[float]] = {}
        self._pruned_at = 0.0

    # -- the rate -------------------------------------------------------------------------

    @property
    def rate(self) -> float:
        """Messages per second this sender aims at now."""
        self._recover(self.clock())
        return self.limits.per_second * HEADROOM * self.factor * self.share

    def _recover(self, now: float) -> None:
        if self.factor < 1.0:
            self.factor = min(1.0, self._penalty_factor
                              + RECOVERY * max(0.0, now - self._last_penalty))

    def penalize(self, retry_after: float) -> None:
        """The platform said 429: broadcasts stop for `retry_after`, then go slower."""
        now = self.clock()
        self._recover(now)
        self.penalties += 1
        self._penalty_factor = max(FLOOR, self.factor * PENALTY)
        self.factor = self._penalty_factor
        self._last_penalty = now
        self.paused_until = max(self.paused_until, now + max(retry_after, 0.0))

    def refund(self, taken_at: float) -> None:
        """The platform answered the message whose slot was taken at ``taken_at`` with a
        server error: it was not sent and did not count against the limit, so its slot is
        free for the next one (a credit taken at once, within the one-second window's
        check)."""
        if taken_at in self._window:
            self._window.remove(taken_at)
        self._credits += 1

    def _slot_at(self, now: float) -> float:
        at = now if self._credits else self._next_at
        if self._window_size and len(self._window) >= self._window_size:
            at = max(at, self._window[-self._window_size] + 1.0 + WINDOW_GUARD)
        return at

    def _take(self, now: float) -> None:
        if self._credits:
            self._credits -= 1
            if self._window_size:
                self._window.append(now)
                while len(self._window) > self._window_size:
                    self._window.popleft()
            return
        interval = 1.0 / self.rate
        base = self._next_at if now - self._next_at <= SLACK else now
        self._next_at = base + interval
        if self._window_size:
            self._window.append(now)
            while len(self._window) > self._window_size:
                self._window.popleft()

    # -- chats ----------------------------------------------------------------------------

    def chat_wait(self, chat: str, is_group: bool | None = None) -> float:
        """Seconds until `chat` may receive another message (0: now)."""
        now = self.clock()
        group = self.limits.group_of(chat) if is_group is None else is_group
        if group:
            if not self.limits.group_per_minute:
                return 0.0
            sent = self._groups.get(chat)
            if not sent or len(sent) < self.limits.group_per_minute:
                return 0.0
            return max(0.0, sent[-self.limits.group_per_minute] + 60.0 + GUARD - now)
        if not self.limits.chat_interval:
            return 0.0
        last = self._private.get(chat)
        if last is None:
            return 0.0
        return max(0.0, last + self.limits.chat_interval + GUARD - now)

    def note_chat(self, chat: str, is_group: bool | None = None) -> None:
        now = self.clock()
        group = self.limits.group_of(chat) if is_group is None else is_group
        if group:
            if self.limits.group_per_minute:
                sent = self._groups.setdefault(chat, deque())
                sent.append(now)
                while len(sent) > self.limits.group_per_minute:
                    sent.popleft()
        elif self.limits.chat_interval:
            self._private[chat] = now
        if now - self._pruned_at > 5.0:
            self._prune(now)

    def _prune(self, now: float) -> None:
        self._pruned_at = now
        horizon = self.limits.chat_interval + GUARD
        self._private = {c: t for c, t in self._private.items() if now - t < horizon}
        self._groups = {c: d for c, d in self._groups.items() if d and now - d[-1] < 60 + GUARD}

    @property
    def tracked_chats(self) -> int:
        return len(self._private) + len(self._groups)

    # -- the two lanes --------------------------------------------------------------------

    @property
    def bulk_active(self) -> bool:
        """Whether a broadcast took a slot in the last two seconds."""
        return self.clock() - self._last_bulk < 2.0

    async def acquire_reply(self, chat: str | None = None, is_group: bool | None = None) -> None:
        """Take a slot for a reply; while a broadcast runs, replies go before it.

        With no broadcast running a reply goes at once (Telegram tolerates a resident's short
        bursts, and a 429 holds only the lane of its chat); it still counts, so a broadcast
        starting next leaves room for it. A group's reply first waits for the group's own
        limit (twenty a minute on Telegram).
        """
        if chat is not None and (self.limits.group_of(chat) if is_group is None else is_group):
            # A group's twenty a minute hold its own lane only.
            while (wait := self.chat_wait(chat, True)) > 0:
                await self.sleep(wait)
        if not self.bulk_active:
            self._take(self.clock())
            if chat is not None:
                self.note_chat(chat, is_group)
            return
        self._replies_waiting += 1
        try:
            while True:
                now = self.clock()
                at = self._slot_at(now)
                if at <= now:
                    self._take(now)
                    break
                await self.sleep(at - now)
            if chat is not None:
                self.note_chat(chat, is_group)
        finally:
            self._replies_waiting -= 1

    async def bulk_slot(self) -> float:
        """Wait for a slot no reply wants and outside a 429 pause; take it; returns when."""
        while True:
            now = self.clock()
            if now < self.paused_until:
                await self.sleep(self.paused_until - now)
                continue
            at = self._slot_at(now)
            if self._replies_waiting:
                await self.sleep(max(at - now, 0.0) + 1.0 / self.rate)
                continue
            if at <= now:
                self._take(now)
                self._last_bulk = now
                return now
            await self.sleep(at - now)

    async def acquire_bulk(self, chat: str | None = None, is_group: bool | None = None) -> float:
        """A broadcast message's slot: waits for the chat, then for a free slot; returns when
        it was taken."""
        while True:
            if chat is not None:
                while (wait := self.chat_wait(chat, is_group)) > 0:
                    await self.sleep(wait)
            taken = await self.bulk_slot()
            if chat is None or self.chat_wait(chat, is_group) <= 0:
                break
        if chat is not None:
            self.note_chat(chat, is_group)
        return taken


class Limiter:
    """The limiters of every sender, by channel; handlers and the dispatcher share it."""

    def __init__(self, *, clock: Clock = time.monotonic, sleep: Sleep = asyncio.sleep) -> None:
        self.clock = clock
        self.sleep = sleep
        self._senders: dict[str, SenderLimiter] = {}

    def configure(self, channel: str, limits: ChannelLimits) -> SenderLimiter:
        limiter = SenderLimiter(limits, clock=self.clock, sleep=self.sleep)
        self._senders[channel] = limiter
        return limiter

    def get(self, channel: str) -> SenderLimiter | None:
        return self._senders.get(channel)

    async def acquire_reply(self, channel: str, chat: str | None = None) -> None:
        limiter = self._senders.get(channel)
        if limiter is not None:
            await limiter.acquire_reply(chat)
