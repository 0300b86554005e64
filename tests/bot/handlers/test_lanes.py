"""Replies leave through the outbox, in lanes: a flooded group, a 429 or a crash between the
commit and the send never holds or loses anyone else's answer (ARCHITECTURE rules 5 and 7)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy import text

from bot.app import build_container, create_app
from bot.engine import Outgoing
from bot.messages import Reply
from bot.outbox import deliver_pending, recover
from chat import replies_to, until
from conftest import TelegramEnv
from doubles.telegram_updates import callback_update, group_text_update, text_update
from storage import repo, repo_agencies

GROUP = -100_555_000_111


@pytest.fixture
def double_options() -> dict[str, object]:
    # Telegram's own limits, strictly: 1 message a second to a private chat, 20 a minute to a
    # group, 30 a second for the bot.
    return {}


def _to(telegram: TelegramEnv, chat: int) -> list[Any]:
    return replies_to(telegram.double, chat)


async def test_thirty_starts_in_a_group_get_one_answer(telegram: TelegramEnv) -> None:
    statuses = [(await telegram.post_now(group_text_update(GROUP, "/start", user_id=800_000 + i,
                                                         mention_bot=False))).status_code
                for i in range(30)]
    await telegram.box.outbound.drain(10)
    assert statuses == [200] * 30
    [pointer] = _to(telegram, GROUP)
    assert "chat pribadi" in (pointer.plain_text or "")
    assert not telegram.double.rejected
    # A flood that changes nothing costs the database nothing: no one's writes wait for it.
    async with telegram.box.db.reader() as session:
        for table in ("inbound_event", "identity", "conversation", "notification"):
            rows = (await session.exec(text(f"SELECT count(*) FROM {table}"))).one()[0]
            assert rows == 0, table


async def test_a_staff_members_plain_answer_in_a_group_still_counts(
        telegram: TelegramEnv) -> None:
    """Outside that quiet path: a registered staff member's plain message in a group goes
    through the flows (it may answer the bot's question there)."""
    from agencies_kit import staff

    await staff(telegram.box, "800123", role="officer", agency="putr", name="Andi",
                channel="telegram")
    await telegram.post_now(group_text_update(GROUP, "sudah ditangani", user_id=800_123,
                                              mention_bot=False))
    async with telegram.box.db.reader() as session:
        seen = (await session.exec(text("SELECT count(*) FROM inbound_event"))).one()[0]
    assert seen == 1


async def test_a_busy_group_waits_in_its_own_lane_and_a_resident_does_not(
    telegram: TelegramEnv,
) -> None:
    """An agency's group gets 30 messages at once: 20 go in the minute, the rest wait for the
    group's next minute (no 429), while a resident's /start is answered meanwhile."""
    outbound = telegram.box.outbound
    for i in range(30):  # thirty events, thirty messages
        outbound.submit([Outgoing("telegram", str(GROUP), Reply(f"Laporan baru {i}"), "id")])
    await until(lambda: len(_to(telegram, GROUP)) >= 20)
    response = await telegram.post_now(text_update(700_001, "/start"))
    assert response.status_code == 200
    await until(lambda: bool(_to(telegram, 700_001)))
    assert len(_to(telegram, GROUP)) == 20  # the group's next minute has not come
    assert outbound.lanes == 1  # only the group's lane still waits
    assert not telegram.double.rejected


async def test_a_429_holds_only_the_chat_it_names(telegram: TelegramEnv) -> None:
    """Telegram answers the first reply with 429 retry_after 2: that resident gets it after the
    pause, exactly once; a second resident writing meanwhile is answered at once. The webhook
    answered before any reply was sent."""
    telegram.double.fail_next(1, 429, retry_after=2, methods=["sendMessage"])
    first = await telegram.post_now(text_update(700_001, "/start"))
    assert first.status_code == 200
    await asyncio.sleep(0.3)
    assert _to(telegram, 700_001) == []  # waiting out its retry_after; the webhook did not
    second = await telegram.post_now(text_update(700_002, "/start"))
    assert second.status_code == 200
    await until(lambda: bool(_to(telegram, 700_002)))
    assert _to(telegram, 700_001) == []
    await telegram.box.outbound.drain(10)
    assert len(_to(telegram, 700_001)) == 1
    first_sent = telegram.double.sent.index(_to(telegram, 700_001)[0])
    assert telegram.double.sent.index(_to(telegram, 700_002)[0]) < first_sent


async def test_a_receipt_written_before_a_crash_arrives_after_the_restart_once(
    telegram: TelegramEnv, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The process dies after the final "Kirim" committed the report, before anything was
    sent: the redelivered update changes nothing, and the next start sends the receipt,
    exactly once."""
    box = telegram.box
    await box.db.hold_presence()  # as `emas serve` does before its first event
    chat = telegram.chat(language_code="en")
    await chat.file_to_summary("A deep pothole near the school")
    died: list[list[Outgoing]] = []
    monkeypatch.setattr(box.outbound, "submit", lambda outgoing, **_kw: died.append(outgoing))
    assert chat.keyboard is not None
    [send] = [b["callback_data"] for row in chat.keyboard["inline_keyboard"] for b in row
              if "Send" in b["text"]]
    press = callback_update(chat.chat_id, send, chat.keyboard_message_id or 1,
                            language_code="en")
    assert await chat.post(press) == 200
    assert died and chat.texts == []  # committed, not sent
    async with box.db.reader() as session:
        [report] = await repo.list_reports(session=session)
    monkeypatch.undo()
    # Telegram delivers the same update again: already recorded, no second effect.
    assert await chat.post(press) == 200
    assert chat.texts == []

    # The restart: a new process on the same database and the same bot.
    again = build_container(box.settings, clock=box.engine.clock)
    app = create_app(again.settings, container=again, start_channels=False)
    channel = again.channels["telegram"]
    await channel.start()
    try:
        assert app is not None
        if again.db.is_sqlite:
            # SQLite: the new process owns the database alone and takes the rows back at once.
            assert await recover(db=again.db) >= 1
        else:
            # PostgreSQL: other servers may share the database. While the first process
            # lives, its claims are its own, whatever their age short of the timeout...
            await again.db.hold_presence()
            assert await deliver_pending(db=again.db, outbound=again.outbound,
                                         now=again.engine.clock()) == 0
            # ...and the moment it dies (its connection, and so its lock, gone) they are free.
            await box.db.dispose()
        assert await deliver_pending(db=again.db, outbound=again.outbound,
                                     now=again.engine.clock()) >= 1
        await again.outbound.drain(10)
        assert await deliver_pending(db=again.db, outbound=again.outbound,
                                     now=again.engine.clock()) == 0
    finally:
        await again.outbound.aclose()
        await channel.stop()
        await again.db.dispose()
    receipts = [c for c in _to(telegram, chat.chat_id) if report.ticket in (c.plain_text or "")]
    assert len(receipts) == 1
    async with box.db.reader() as session:
        rows = await repo_agencies.list_notifications(session=session)
    assert rows and {r.status for r in rows} == {"sent"}


async def test_every_reply_is_marked_sent_once_it_went_out(telegram: TelegramEnv) -> None:
    chat = telegram.chat()
    await chat.say("/start")
    await chat.say("halo")
    async with telegram.box.db.reader() as session:
        rows = await repo_agencies.list_notifications(session=session)
    assert len(rows) >= 2
    assert {r.status for r in rows} == {"sent"} and all(r.payload == {} for r in rows)
