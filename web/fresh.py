"""Figures kept in memory for a while: the tabs' counts, a period's evaluation, the city page's
month. Computed again once they are older than their lifetime; one computation per key at a
time (the readers who ask meanwhile wait for it and share its result)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable
from datetime import datetime, timedelta
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class Fresh(Generic[K, V]):
    def __init__(self, lifetime: timedelta, *, most: int) -> None:
        self.lifetime = lifetime
        self.most = most  # keys kept at most; past that, all are forgotten
        self._kept: dict[K, tuple[datetime, V]] = {}
        self._computing: dict[K, asyncio.Lock] = {}

    def _fresh(self, key: K, now: datetime) -> tuple[datetime, V] | None:
        kept = self._kept.get(key)
        return kept if kept is not None and now - kept[0] < self.lifetime else None

    async def get(self, key: K, now: datetime, compute: Callable[[], Awaitable[V]]) -> V:
        """The value of `key`, computed by `compute` unless one from the last `lifetime` is
        kept."""
        kept = self._fresh(key, now)
        if kept is not None:
            return kept[1]
        async with self._computing.setdefault(key, asyncio.Lock()):
            kept = self._fresh(key, now)
            if kept is not None:
                return kept[1]
            value = await compute()
            if len(self._kept) > self.most:
                self._kept.clear()
                self._computing = {key: self._computing[key]}
            self._kept[key] = (now, value)
            return value

    def forget(self) -> None:
        """Everything is computed again on its next reading (the data just changed)."""
        self._kept.clear()
