"""STOP / BERHENTI / UNSUBSCRIBE and MULAI / START work on every channel, as bare words only."""

from __future__ import annotations

import pytest
from sqlmodel import select

from bot.app import Container
from chat import TerminalChat
from storage.models import Identity


async def _opted_out(box: Container, user_key: str) -> bool:
    async with box.db.reader() as session:
        identity = (await session.exec(
            select(Identity).where(Identity.user_key == user_key))).one()
    return identity.opted_out


@pytest.mark.parametrize("word", ["STOP", "berhenti", "Unsubscribe", "stop!"])
async def test_stop_words_opt_out_and_are_confirmed(container: Container, word: str) -> None:
    chat = TerminalChat(container.engine, locale="en")
    await chat.say("/start")
    await chat.say(word)
    assert "we will no longer send you announcements" in chat.text
    assert "send START" in chat.text
    assert await _opted_out(container, chat.user_key)


async def test_the_start_command_does_not_resume_but_the_word_does(container: Container) -> None:
    chat = TerminalChat(container.engine, locale="en")
    await chat.say("stop")
    await chat.say("/start")  # Telegram's start button: a command, not the word
    assert "e-Masyarakat" in chat.text
    assert await _opted_out(container, chat.user_key)
    await chat.say("Mulai")
    assert "Welcome back!" in chat.text and "send STOP" in chat.text
    assert "What would you like to do?" in chat.text
    assert not await _opted_out(container, chat.user_key)


async def test_mulai_without_having_stopped_just_shows_the_menu(container: Container) -> None:
    chat = TerminalChat(container.engine, locale="id")
    await chat.say("/start")
    await chat.say("mulai")
    assert "Welcome back" not in chat.text and "Selamat datang kembali" not in chat.text
    assert chat.options and not await _opted_out(container, chat.user_key)


async def test_stop_inside_a_sentence_is_not_an_opt_out(container: Container) -> None:
    chat = TerminalChat(container.engine, locale="en")
    await chat.say("/start")
    await chat.say("stop the noise please")
    assert not await _opted_out(container, chat.user_key)
