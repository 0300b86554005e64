"""What residents tell the bot stays out of the logs, and out of other residents' sight."""

from __future__ import annotations

import logging

import pytest

from chat import Chat
from conftest import TelegramEnv
from doubles.telegram_updates import contact_update


async def test_no_chat_id_or_complaint_text_in_info_logs(
    telegram: TelegramEnv, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    chat = telegram.chat(chat_id=612_345_678, language_code="en")
    await chat.file_to_summary("Rahasia: jalan rusak di depan rumah Pak Rahmat")
    await chat.tap("Send report")
    await chat.post(contact_update(chat.chat_id, "+6281234567890", language_code="en"))
    logged = "\n".join(r.getMessage() for r in caplog.records if r.levelno >= logging.INFO)
    assert "612345678" not in logged
    assert "Pak Rahmat" not in logged
    assert "81234567890" not in logged
    assert telegram.box.settings.telegram_token not in logged  # type: ignore[operator]


async def test_any_message_kind_at_the_menu_gets_an_answer(channel_env: object) -> None:
    chat: Chat = channel_env.chat(language_code="en")  # type: ignore[attr-defined]
    await chat.say("/start")
    for send in (chat.send_sticker, chat.send_voice):
        await send()
        assert chat.text, "never silence"
        assert "menu" in chat.text.lower() or chat.options
    await chat.share_location(3.6, 98.48)
    assert chat.text
