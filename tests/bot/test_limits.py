"""Per-account limits: reports per hour and messages per minute, answered politely, lifted by
staff for one person; nothing a resident wrote is lost."""

from __future__ import annotations

from typing import Any

import pytest
from sqlmodel import func, select

from bot.app import Container
from chat import Chat, TerminalChat
from cli_kit import acli
from conftest import Clock
from storage.models import Report


async def _count_reports(box: Container) -> int:
    async with box.db.reader() as session:
        return int((await session.exec(select(func.count()).select_from(Report))).one())


@pytest.fixture
def two_an_hour(channel_env: Any) -> Any:
    channel_env.box.settings.report_limit_per_hour = 2
    return channel_env


async def test_a_third_report_in_an_hour_waits_and_is_kept(two_an_hour: Any,
                                                          clock: Clock) -> None:
    chat: Chat = two_an_hour.chat(language_code="en")
    for n in range(2):
        await chat.file_to_summary(f"Jalan berlubang nomor {n} di depan sekolah")
        await chat.tap("Send report")
        assert "Ticket number" in chat.text
    await chat.file_to_summary("Jalan berlubang lagi di gang sebelah")
    await chat.tap("Send report")
    assert "You have sent 2 reports in the last hour" in chat.text
    assert await _count_reports(two_an_hour.box) == 2
    clock.advance(minutes=61)  # an hour later the same draft goes through
    await chat.tap("Send report")
    assert "Ticket number" in chat.text
    assert await _count_reports(two_an_hour.box) == 3


async def test_staff_lift_the_limit_for_one_person(telegram: Any, settings: Any) -> None:
    box = telegram.box
    box.settings.report_limit_per_hour = 1
    office = telegram.chat(chat_id=760_001, language_code="en")  # a kelurahan office
    await office.file_to_summary("Drainase tersumbat di Jl. Gatot Subroto")
    await office.tap("Send report")
    await office.file_to_summary("Lampu jalan mati di Jl. Samanhudi")
    await office.tap("Send report")
    assert "You have sent 1 report in the last hour" in office.text
    code, out = await acli(settings, "report", "lift-limit", "--telegram-id", "760001",
                           "--by", "Rina (Kominfo)")
    assert code == 0 and "limits lifted for 760001 on telegram until" in out
    await office.tap("Send report")
    assert "Ticket number" in office.text
    assert await _count_reports(box) == 2
    code, out = await acli(settings, "report", "lift-limit", "--telegram-id", "769999")
    assert code == 1 and "nobody has written to the bot from 769999" in out


async def test_a_message_flood_is_paused_and_told_once(container: Container,
                                                       clock: Clock) -> None:
    container.engine.flood.per_minute = 5
    chat = TerminalChat(container.engine, user_key="warga-banjir", locale="en")
    for _ in range(5):
        await chat.say("menu")
    told = []
    for _ in range(10):
        await chat.say("menu")
        told += chat.texts
    assert len(told) == 1 and "You sent many messages in a short time" in told[0]
    clock.advance(seconds=61)
    await chat.say("menu")
    assert "What would you like to do?" in chat.text
