"""Telegram's flood limits, enforced strictly by the Bot API double."""

from __future__ import annotations

import asyncio

import pytest

from bot.engine import Outgoing
from bot.messages import Reply
from conftest import TelegramEnv


@pytest.fixture
def double_options() -> dict[str, object]:
    return {}


async def test_flood_limits_are_respected_without_losing_messages(
    telegram: TelegramEnv,
) -> None:
    """40 replies to 40 residents at once: the 30/s bot limit answers 429, nothing is lost."""
    channel = telegram.box.channels["telegram"]
    outgoing = [Outgoing(channel="telegram", to=str(900_000 + i), reply=Reply(f"Halo {i}"),
                         locale="id") for i in range(40)]
    await asyncio.gather(*(channel.deliver([o]) for o in outgoing))
    delivered = {c.chat_id for c in telegram.double.sent if c.method == "sendMessage"}
    assert delivered == {900_000 + i for i in range(40)}
    # The limit really was reached (the rate limiter retried after Telegram's retry_after).
    assert any(c.status == 429 for c in telegram.double.rejected)
