"""How many messages one account may send in a minute, before the bot stops answering it."""

from __future__ import annotations

from collections import deque
from datetime import UTC, datetime, timedelta

WINDOW = timedelta(minutes=1)


class FloodGate:
    """A sliding one-minute window per account, in this process (each web worker keeps its
    own: the limit holds per worker). Accounts that fall quiet are forgotten."""

    def __init__(self, per_minute: int) -> None:
        self.per_minute = per_minute
        self._seen: dict[str, deque[datetime]] = {}
        self._told: dict[str, datetime] = {}
        self._swept = datetime.min.replace(tzinfo=UTC)

    def admit(self, key: str, now: datetime) -> bool:
        """Count a message; False when the account is over its limit for the last minute
        (a limit of 0 admits everything)."""
        if self.per_minute <= 0:
            return True
        self._sweep(now)
        times = self._seen.setdefault(key, deque())
        while times and now - times[0] >= WINDOW:
            times.popleft()
        if len(times) >= self.per_minute:
            return False
        times.append(now)
        return True

    def tell_once(self, key: str, now: datetime) -> bool:
        """True the first time an account is over the limit in a window: it is told once."""
        told = self._told.get(key)
        if told is not None and now - told < WINDOW:
            return False
        self._told[key] = now
        return True

    def _sweep(self, now: datetime) -> None:
        if now - self._swept < WINDOW:
            return
        self._swept = now
        for key in [k for k, t in self._seen.items() if not t or now - t[-1] >= WINDOW]:
            del self._seen[key]
        for key in [k for k, t in self._told.items() if now - t >= WINDOW]:
            del self._told[key]
