"""Figures kept in memory: computed once for readers who come together, again once stale or
after the data changed."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from web.fresh import Fresh

NOW = datetime(2026, 12, 7, 2, 0, tzinfo=UTC)


async def test_readers_who_come_together_share_one_computation() -> None:
    fresh: Fresh[str, int] = Fresh(timedelta(minutes=5), most=8)
    computed = 0

    async def compute() -> int:
        nonlocal computed
        computed += 1
        await asyncio.sleep(0.01)
        return computed

    values = await asyncio.gather(*(fresh.get("week", NOW, compute) for _ in range(12)))
    assert values == [1] * 12 and computed == 1
    # Still fresh a minute later; stale after five; computed again after forget().
    assert await fresh.get("week", NOW + timedelta(minutes=1), compute) == 1
    assert await fresh.get("week", NOW + timedelta(minutes=5), compute) == 2
    fresh.forget()
    assert await fresh.get("week", NOW + timedelta(minutes=5), compute) == 3
    assert await fresh.get("month", NOW + timedelta(minutes=5), compute) == 4
