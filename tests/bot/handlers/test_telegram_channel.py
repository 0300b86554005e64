"""The Telegram adapter against the Bot API double: auth, idempotency, rendering, Telegram's rules."""

from __future__ import annotations

import asyncio
import json

import pytest
from sqlmodel import func, select

from bot.engine import Outgoing
from bot.messages import Option, Reply
from conftest import WEBHOOK_SECRET, TelegramEnv
from doubles.telegram_updates import (
    callback_update,
    edited_text_update,
    group_text_update,
    text_update,
)
from storage.models import Identity, InboundEvent, Report


async def count(env: TelegramEnv, model: type) -> int:
    async with env.box.db.reader() as session:
        return int((await session.exec(select(func.count()).select_from(model))).one())


@pytest.mark.parametrize("secret", [None, "", "wrong-secret"])
async def test_webhook_without_the_right_secret_is_refused_and_stores_nothing(
    telegram: TelegramEnv, secret: str | None
) -> None:
    headers = {} if secret is None else {"X-Telegram-Bot-Api-Secret-Token": secret}
    response = await telegram.client.post(
        "/webhooks/telegram", json=text_update(700_001, "/start"), headers=headers
    )
    assert response.status_code == 403
    assert await count(telegram, Identity) == 0
    assert await count(telegram, InboundEvent) == 0
    assert telegram.double.sent == []


@pytest.mark.parametrize("body", [b"{not json", b"[]", b'{"message": {}}', b'{"update_id": "x"}'])
async def test_malformed_webhook_gets_400(telegram: TelegramEnv, body: bytes) -> None:
    response = await telegram.client.post(
        "/webhooks/telegram", content=body,
        headers={"X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET,
                 "Content-Type": "application/json"},
    )
    assert response.status_code == 400
    assert await count(telegram, InboundEvent) == 0


def _strange_updates() -> list[bytes]:
    """Authenticated but malformed updates, as a broken or hostile sender makes them."""
    message = {"message_id": 1, "chat": {"id": 700_001, "type": "private"},
               "from": {"id": 700_001, "is_bot": False, "first_name": "Budi"}, "text": "halo"}
    return [
        json.dumps({"update_id": 1, "message": {**message, "date": 10 ** 30}}).encode(),
        json.dumps({"update_id": 2, "message": {**message, "chat": {"id": 10 ** 40,
                                                                   "type": "private"}}}).encode(),
        json.dumps({"update_id": 3, "message": {**message, "date": "kemarin"}}).encode(),
        json.dumps({"update_id": 4, "callback_query": {"id": 5, "data": ["x"]}}).encode(),
        b'{"update_id": 5, "message": ' + b"9" * 5000 + b"}",
        json.dumps({"update_id": 6, "message": {**message, "entities": "bold"}}).encode(),
        json.dumps({"update_id": 7, "edited_message": None, "message": None}).encode(),
    ]


@pytest.mark.parametrize("body", _strange_updates())
async def test_a_strange_update_never_gets_a_server_error(
    telegram: TelegramEnv, body: bytes, caplog: pytest.LogCaptureFixture,
) -> None:
    response = await telegram.client.post(
        "/webhooks/telegram", content=body,
        headers={"X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET,
                 "Content-Type": "application/json"},
    )
    assert response.status_code in (200, 400)
    assert not [r for r in caplog.records if r.exc_info], "no traceback per request"
    assert all("halo" not in r.getMessage() for r in caplog.records)
    # The bot still answers the next resident.
    chat = telegram.chat(chat_id=700_077)
    await chat.say("/start")
    assert chat.texts


async def test_same_update_three_times_has_one_effect(telegram: TelegramEnv) -> None:
    chat = telegram.chat(language_code="en")
    await chat.file_to_summary("Jalan berlubang dalam di depan sekolah")
    submit = text_update(chat.chat_id, "1", language_code="en")  # 1 = Send report
    statuses = [await chat.post(submit) for _ in range(3)]
    assert statuses == [200, 200, 200]
    assert await count(telegram, Report) == 1
    tickets = [t for t in telegram.double.texts_to(chat.chat_id) if "Ticket number" in t]
    assert len(tickets) == 1


async def test_two_messages_at_the_same_moment_leave_a_consistent_state(
    telegram: TelegramEnv,
) -> None:
    chat = telegram.chat(language_code="en")
    await chat.say("/start")
    await chat.tap("Make a report")
    await asyncio.gather(
        chat.post(text_update(chat.chat_id, "Jalan berlubang di depan sekolah",
                              language_code="en")),
        chat.post(text_update(chat.chat_id, "Jalan amblas di depan pasar lama",
                              language_code="en")),
    )
    # One became the description, the other was taken at the category step (as a wrong
    # input); neither was lost and the conversation is not stuck.
    texts = telegram.double.texts_to(chat.chat_id)[-2:]
    assert any("Which of these fits the problem best?" in t for t in texts)
    assert any("choose one of the categories" in t for t in texts)
    await chat.tap("Damaged road")
    await chat.place_to_summary()
    assert "Please check your report" in chat.text


async def test_user_text_is_escaped_for_html(telegram: TelegramEnv) -> None:
    chat = telegram.chat(language_code="en")
    await chat.say("/start")
    await chat.tap("Make a report")
    await chat.say("Jalan rusak <i>parah</i> & berbahaya")
    await chat.tap("Damaged road")
    await chat.say("Tangsi")
    await chat.say("Gg. <Mawar> & Jl. <b>Sudirman</b> a_b *c*")
    await chat.tap("Skip photos")
    await chat.tap("Yes, show my name")
    assert telegram.double.rejected == []
    assert "Gg. <Mawar> & Jl. <b>Sudirman</b> a_b *c*" in chat.text
    assert "Jalan rusak <i>parah</i> & berbahaya" in chat.text


async def test_every_button_press_is_answered(telegram: TelegramEnv) -> None:
    chat = telegram.chat(language_code="en")
    await chat.say("/start")
    await chat.tap("Make a report")
    await chat.tap("Emergency")
    await chat.tap("Cancel")
    assert len(telegram.double.answered_callbacks()) == 3
    assert telegram.double.unanswered_callbacks() == []
    # Through the webhook, each answer rides in the answer to Telegram's POST: no extra request.
    answers = telegram.double.calls("answerCallbackQuery")
    assert len(answers) == 3 and all(call.in_webhook_answer for call in answers)


async def test_a_button_press_is_answered_in_the_webhook_response(telegram: TelegramEnv) -> None:
    chat = telegram.chat(language_code="en")
    await chat.say("/start")
    buttons = [b for row in chat.keyboard["inline_keyboard"] for b in row]  # type: ignore[index]
    update = callback_update(chat.chat_id, buttons[0]["callback_data"],
                             chat.keyboard_message_id or 1, language_code="en")
    response = await telegram.post(update)
    assert response.status_code == 200
    assert response.json() == {"method": "answerCallbackQuery",
                               "callback_query_id": update["callback_query"]["id"]}
    # A text message needs no answer: the response carries no call.
    response = await telegram.post(text_update(chat.chat_id, "menu", language_code="en"))
    assert response.json() == {}


async def test_menu_is_edited_in_place_when_a_button_leads_back_to_it(
    telegram: TelegramEnv,
) -> None:
    chat = telegram.chat(language_code="en")
    await chat.say("/start")
    await chat.tap("Make a report")
    await chat.tap("Cancel")
    assert telegram.double.calls("editMessageText"), "the menu should replace the old message"
    assert "What would you like to do?" in chat.text


async def test_group_mention_gets_a_private_chat_button(telegram: TelegramEnv) -> None:
    group_id = -100_123
    update = group_text_update(group_id, "@emas_binjai_bot mau lapor jalan rusak")
    response = await telegram.post(update)
    assert response.status_code == 200
    [call] = telegram.double.messages_to(group_id)
    buttons = [b for row in call.reply_markup["inline_keyboard"] for b in row]
    assert buttons[0]["url"].startswith("https://t.me/")
    assert "?start=" in buttons[0]["url"]
    assert await count(telegram, Report) == 0


async def test_group_chatter_without_mention_is_ignored(telegram: TelegramEnv) -> None:
    update = group_text_update(-100_124, "selamat pagi semua", mention_bot=False)
    await telegram.post(update)
    assert telegram.double.messages_to(-100_124) == []


async def test_edited_message_gets_a_helpful_reply(telegram: TelegramEnv) -> None:
    chat = telegram.chat(language_code="en")
    await chat.say("/start")
    await chat.post(edited_text_update(chat.chat_id, "ralat", message_id=5, language_code="en"))
    assert "edited a message" in chat.text


async def test_unknown_command_is_answered(telegram: TelegramEnv) -> None:
    chat = telegram.chat(language_code="en")
    await chat.say("/start")
    await chat.say("/foobar")
    assert "do not know that command" in chat.text


async def test_long_text_is_split_under_4096_characters(telegram: TelegramEnv) -> None:
    channel = telegram.box.channels["telegram"]
    paragraph = ("Informasi penting untuk warga Binjai. " * 30).strip()
    long_text = "\n\n".join([paragraph] * 8)  # about 9,000 characters
    await channel.deliver([Outgoing(channel="telegram", to="700009",
                                    reply=Reply(long_text, options=[Option("x", "OK")]),
                                    locale="id")])
    calls = telegram.double.messages_to(700_009)
    assert len(calls) >= 3
    assert all(len(c.plain_text or "") <= 4096 for c in calls)
    assert calls[-1].reply_markup is not None  # the buttons stay on the last piece
    assert telegram.double.rejected == []


async def test_unknown_command_as_the_very_first_message(telegram: TelegramEnv) -> None:
    chat = telegram.chat(chat_id=700_777, language_code="en")
    await chat.say("/foobar")
    assert "do not know that command" in chat.text
    assert any("Make a report" in o for o in chat.options)


async def test_polling_stops_at_once_while_telegram_holds_a_long_poll(
    telegram: TelegramEnv,
) -> None:
    telegram.double.max_poll_seconds = 30.0
    channel = telegram.box.channels["telegram"]
    await channel.start_polling()
    telegram.double.push_update(text_update(700_002, "/start"))
    for _ in range(100):
        if telegram.double.texts_to(700_002):
            break
        await asyncio.sleep(0.05)
    await asyncio.sleep(0.1)  # the next getUpdates is now waiting at Telegram
    async with asyncio.timeout(3):
        await channel.stop()
    assert telegram.double.calls("deleteWebhook")
    assert telegram.double.texts_to(700_002)
