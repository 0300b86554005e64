"""Fuzzing the webhooks: 10,000 generated Telegram updates and Twilio forms, valid and broken.

Whatever arrives, the bot answers the platform with no server error, leaves no conversation
without a way out (every resident touched gets the menu back with /start), and a redelivered
update or message has no second effect. The examples are split over several tests so that
pytest-xdist runs them side by side.
"""

from __future__ import annotations

import itertools
import json
import os
from typing import Any

from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st

from conftest import TelegramEnv
from doubles.telegram_updates import (
    callback_update,
    document_update,
    group_text_update,
    location_update,
    photo_update,
    sticker_update,
    text_update,
    voice_update,
)
from whatsapp_fixtures import WhatsAppEnv

# 10,000 in all (5,000 updates, 5,000 forms), over eight tests; the PostgreSQL pass of CI
# runs a tenth of them (the parsing is the same, only the database differs).
EXAMPLES = int(os.environ.get("EMAS_TEST_FUZZ_EXAMPLES", "10000"))
TELEGRAM_EXAMPLES = WHATSAPP_EXAMPLES = max(1, EXAMPLES // 8)
PEOPLE = [700_100 + i for i in range(12)]
FUZZ = settings(max_examples=TELEGRAM_EXAMPLES, deadline=None, database=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture,
                                       HealthCheck.too_slow, HealthCheck.data_too_large])

# What residents type, and what breaks parsers.
words = st.sampled_from(["/start", "/menu", "/lapor", "/cek", "/bantuan", "/link 123456",
                         "/konsol", "ya", "tidak", "batal", "kembali", "1", "2", "7", "99",
                         "0", "STOP", "MULAI", "jalan rusak depan sekolah", "Tangsi",
                         "BJI-2026-000001", "Lewati", "Skip", "Kirim", "<b>x</b>", "a & b"])
noise = st.text(max_size=300)
texts = st.one_of(words, noise, st.text(min_size=4000, max_size=5000),
                  st.builds(lambda a, b: f"{a} {b}", words, noise))
callback_data = st.one_of(
    st.sampled_from(["m:report", "m:track", "m:faq", "skip", "done", "submit", "anon", "named",
                     "nav:back", "nav:cancel", "nav:menu", "cat:road", "st:take:1",
                     "st:done:999999", "r:5:1", "sub:kim", "lang:en", "lang:id"]),
    st.text(max_size=64))
numbers = st.one_of(st.integers(-2**70, 2**70), st.floats(allow_nan=True),
                    st.text(max_size=5000, alphabet="0123456789"))
json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), numbers, noise),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(noise, inner, max_size=4),
    max_leaves=12)


def _person() -> st.SearchStrategy[int]:
    return st.sampled_from(PEOPLE)


valid_updates = st.one_of(
    st.builds(lambda p, t: text_update(p, t), _person(), texts),
    st.builds(lambda p, d: callback_update(p, d, 1), _person(), callback_data),
    st.builds(lambda p, la, lo: location_update(p, la, lo), _person(),
              st.floats(-90, 90), st.floats(-180, 180)),
    st.builds(lambda p, size: photo_update(p, f"AgAC-missing-{size}", size), _person(),
              st.one_of(st.none(), st.integers(0, 2**40))),
    st.builds(lambda p: document_update(p, "BQAC-missing", "x.pdf", "application/pdf", 10),
              _person()),
    st.builds(sticker_update, _person()),
    st.builds(voice_update, _person()),
    st.builds(lambda g, t: group_text_update(g, t), st.sampled_from([-100_1, -100_2]), texts),
)


def _break(update: dict[str, Any], path: list[str], value: Any) -> dict[str, Any]:
    """The update with the field at ``path`` (as deep as it goes) replaced by ``value``."""
    node: Any = update
    for key in path[:-1]:
        if not isinstance(node, dict) or key not in node:
            break
        node = node[key]
    if isinstance(node, dict):
        node[path[-1]] = value
    return update


field_paths = st.sampled_from([
    ["update_id"], ["message"], ["message", "text"], ["message", "chat"],
    ["message", "chat", "id"], ["message", "from"], ["message", "from", "id"],
    ["message", "date"], ["message", "photo"], ["message", "location", "latitude"],
    ["callback_query", "data"], ["callback_query", "from"], ["message", "entities"],
    ["message", "message_id"], ["edited_message"], ["channel_post"], ["my_chat_member"],
])
broken_updates = st.builds(_break, valid_updates, field_paths, json_values)
bodies = st.one_of(valid_updates.map(json.dumps), broken_updates.map(json.dumps),
                   json_values.map(json.dumps), st.binary(max_size=200).map(repr))


async def _fuzz_telegram(telegram: TelegramEnv, body: str, again: bool) -> None:
    headers = {"X-Telegram-Bot-Api-Secret-Token": "s3cret-webhook-token",
               "Content-Type": "application/json"}
    response = await telegram.client.post("/webhooks/telegram", content=body, headers=headers)
    assert response.status_code < 500, (response.status_code, body[:300])
    await telegram.box.outbound.drain(10)
    if again and response.status_code == 200:
        mark = len(telegram.double.sent)
        repeat = await telegram.client.post("/webhooks/telegram", content=body, headers=headers)
        assert repeat.status_code < 500
        await telegram.box.outbound.drain(10)
        assert telegram.double.sent[mark:] == [], "a redelivered update had a second effect"


async def _has_a_way_out(telegram: TelegramEnv, person: int) -> None:
    chat = telegram.chat(chat_id=person)
    await chat.say("/start")
    assert "Buat laporan" in " ".join(chat.options), (person, chat.texts)


def _telegram_fuzz(number: int) -> Any:
    @seed(number)
    @FUZZ
    @given(body=bodies, again=st.booleans(), check=st.sampled_from(PEOPLE + [None] * 108))
    async def test(telegram: TelegramEnv, body: str, again: bool, check: int | None) -> None:
        await _fuzz_telegram(telegram, body, again)
        if check is not None:
            await _has_a_way_out(telegram, check)

    return test


# Four tests of their own, so that pytest-xdist runs them side by side.
test_telegram_updates_never_break_the_bot_1 = _telegram_fuzz(1)
test_telegram_updates_never_break_the_bot_2 = _telegram_fuzz(2)
test_telegram_updates_never_break_the_bot_3 = _telegram_fuzz(3)
test_telegram_updates_never_break_the_bot_4 = _telegram_fuzz(4)


# --- WhatsApp ------------------------------------------------------------------------------------

senders = st.one_of(st.sampled_from([f"whatsapp:+62812007{i:05d}" for i in range(12)]),
                    st.sampled_from(["+6281200700001", "sms:+6281200700001", "whatsapp:",
                                     "whatsapp:+1", "whatsapp:+14155238886", ""]), noise)
form_fields = st.fixed_dictionaries(
    {"Body": st.one_of(texts, st.just(""))},
    optional={
        "NumMedia": st.one_of(st.sampled_from(["0", "1", "2", "99", "-1", "x"]), noise),
        "MediaUrl0": st.one_of(st.just("https://evil.example/x.jpg"), noise),
        "MediaContentType0": st.sampled_from(["image/jpeg", "application/pdf", "", "x"]),
        "Latitude": st.one_of(st.floats().map(str), noise),
        "Longitude": st.one_of(st.floats().map(str), noise),
        "ButtonPayload": callback_data,
        "ProfileName": noise,
        "MessageType": st.sampled_from(["text", "image", "location", "interactive", "x"]),
        "WaId": noise,
        "SmsStatus": st.sampled_from(["received", "failed", ""]),
    })


WA_PEOPLE = [f"+62812007{i:05d}" for i in range(12)]
sequence = itertools.count(1)
WA_FUZZ = settings(max_examples=WHATSAPP_EXAMPLES, deadline=None, database=None,
                   suppress_health_check=[HealthCheck.function_scoped_fixture,
                                          HealthCheck.too_slow, HealthCheck.data_too_large])


async def _fuzz_whatsapp(whatsapp: WhatsAppEnv, sender: str, fields: dict[str, str],
                         again: bool, mangle: bool, check: str | None) -> None:
    form = whatsapp.double.make_inbound_form("whatsapp:+6281200700001")
    form.update(fields)
    form["From"] = sender
    form["MessageSid"] = f"SM{next(sequence):032d}"
    url = whatsapp.double.webhook_url("/webhooks/whatsapp")
    headers = whatsapp.double.signed_headers(url, form)
    if mangle:
        form["Body"] = form.get("Body", "") + "!"  # the signature no longer matches
    response = await whatsapp.post(url, form, headers)
    assert response.status_code < 500, (response.status_code, form)
    if mangle:
        assert response.status_code == 403
    elif again and response.status_code == 200:
        mark = len(whatsapp.double.messages)
        repeat = await whatsapp.post(url, form, whatsapp.double.signed_headers(url, form))
        assert repeat.status_code < 500
        assert whatsapp.double.messages[mark:] == [], "a redelivered message had an effect"
    if check is not None:
        mark = len(whatsapp.double.messages)
        menu = whatsapp.double.make_inbound_form(f"whatsapp:{check}", body="MENU")
        menu["MessageSid"] = f"SM{next(sequence):032d}"
        await whatsapp.post(url, menu, whatsapp.double.signed_headers(url, menu))
        answers = [m.body or "" for m in whatsapp.double.messages[mark:]
                   if m.to == f"whatsapp:{check}"]
        assert any("Buat laporan" in body for body in answers), (check, answers)


def _whatsapp_fuzz(number: int) -> Any:
    @seed(10 + number)
    @WA_FUZZ
    @given(sender=senders, fields=form_fields, again=st.booleans(), mangle=st.booleans(),
           check=st.sampled_from(WA_PEOPLE + [None] * 108))
    async def test(whatsapp: WhatsAppEnv, sender: str, fields: dict[str, str], again: bool,
                   mangle: bool, check: str | None) -> None:
        await _fuzz_whatsapp(whatsapp, sender, fields, again, mangle, check)

    return test


test_whatsapp_messages_never_break_the_bot_1 = _whatsapp_fuzz(1)
test_whatsapp_messages_never_break_the_bot_2 = _whatsapp_fuzz(2)
test_whatsapp_messages_never_break_the_bot_3 = _whatsapp_fuzz(3)
test_whatsapp_messages_never_break_the_bot_4 = _whatsapp_fuzz(4)
