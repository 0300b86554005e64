"""The Telegram Bot API double refuses what Telegram refuses, as the real PTB Bot sees it."""

from __future__ import annotations

import asyncio
import datetime as dtm
import html
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
from telegram import (
    Bot,
    BotCommand,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputMediaPhoto,
    Message,
    Update,
)
from telegram.constants import ParseMode
from telegram.error import (
    BadRequest,
    Conflict,
    EndPointNotFound,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
)
from telegram.helpers import escape_markdown

from doubles.telegram_api import (
    ManualClock,
    TelegramDouble,
    bot_urls,
    create_bot_api,
    serve_bot_api,
)
from doubles.telegram_updates import (
    callback_update,
    contact_update,
    document_update,
    edited_text_update,
    group_text_update,
    location_update,
    photo_update,
    sticker_update,
    text_update,
    voice_update,
)

TOKEN = "123456:TEST-token_for_emas"
RESIDENT = 81_234_567
GROUP = -1_001_234_567_890


@pytest.fixture(autouse=True)
def _retry_after_as_timedelta(monkeypatch: pytest.MonkeyPatch) -> None:
    # PTB 22 warns (an error here) when RetryAfter.retry_after is read as int seconds.
    monkeypatch.setenv("PTB_TIMEDELTA", "true")


@pytest.fixture
def api_clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def double(api_clock: ManualClock) -> TelegramDouble:
    return create_bot_api(TOKEN, clock=api_clock)


@pytest.fixture
async def root(double: TelegramDouble) -> AsyncIterator[str]:
    async with serve_bot_api(double) as url:
        yield url


@pytest.fixture
async def bot(root: str) -> AsyncIterator[Bot]:
    async with Bot(TOKEN, **bot_urls(root)) as ptb_bot:
        yield ptb_bot


@pytest.fixture
async def raw(double: TelegramDouble) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=double.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://bot-api.test") as client:
        yield client


def _keyboard(*data: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(f"Pilihan {i}", callback_data=d)] for i, d in enumerate(data)]
    )


async def test_send_message_is_accepted_and_recorded(bot: Bot, double: TelegramDouble) -> None:
    message = await bot.send_message(
        RESIDENT,
        "<b>Laporan diterima</b>, nomor tiket BJI-0001",
        parse_mode=ParseMode.HTML,
        reply_markup=_keyboard("track:BJI-0001"),
    )

    assert message.text == "Laporan diterima, nomor tiket BJI-0001"
    assert message.chat.id == RESIDENT
    assert message.from_user is not None and message.from_user.is_bot
    assert message.entities[0].type == "bold" and message.entities[0].length == 16
    assert message.reply_markup == _keyboard("track:BJI-0001")
    record = double.messages_to(RESIDENT)[-1]
    assert record.method == "sendMessage"
    assert record.text == "<b>Laporan diterima</b>, nomor tiket BJI-0001"
    assert record.parse_mode == "HTML"
    assert record.reply_markup is not None
    assert record.reply_markup["inline_keyboard"][0][0]["callback_data"] == "track:BJI-0001"
    assert record.message_id == message.message_id
    assert double.last_text(RESIDENT) == record.text
    assert double.rejected == []


async def test_text_over_4096_utf16_units_is_too_long(bot: Bot, double: TelegramDouble) -> None:
    with pytest.raises(BadRequest, match="^Message is too long$"):
        await bot.send_message(RESIDENT, "a" * 4097)
    # An emoji outside the BMP counts twice, as on Telegram.
    with pytest.raises(BadRequest, match="^Message is too long$"):
        await bot.send_message(RESIDENT + 1, "😀" * 2049)
    await bot.send_message(RESIDENT + 2, "😀" * 2048)
    # The limit applies to the text left after markup is removed.
    await bot.send_message(RESIDENT + 3, "<b>" + "a" * 4096 + "</b>", parse_mode=ParseMode.HTML)

    assert [c.description for c in double.rejected] == ["Bad Request: message is too long"] * 2
    assert len(double.messages_to(RESIDENT + 3)) == 1


async def test_empty_text_is_refused(bot: Bot) -> None:
    with pytest.raises(BadRequest, match="^Message text is empty$"):
        await bot.send_message(RESIDENT, "<b></b>", parse_mode=ParseMode.HTML)


async def test_broken_html_is_refused_with_telegrams_reason(bot: Bot) -> None:
    with pytest.raises(BadRequest) as unsupported:
        await bot.send_message(RESIDENT, "Jalan <rusak> di Binjai", parse_mode=ParseMode.HTML)
    with pytest.raises(BadRequest) as unclosed:
        await bot.send_message(RESIDENT + 1, "<b>Status: diproses", parse_mode=ParseMode.HTML)
    with pytest.raises(BadRequest) as ampersand:
        await bot.send_message(RESIDENT + 2, "<b> a & b", parse_mode=ParseMode.HTML)

    assert str(unsupported.value) == (
        'Can\'t parse entities: unsupported start tag "rusak" at byte offset 6'
    )
    assert str(unclosed.value).startswith("Can't parse entities: can't find end tag")
    assert str(ampersand.value).startswith("Can't parse entities:")


async def test_escaped_html_is_shown_literally(bot: Bot, double: TelegramDouble) -> None:
    message = await bot.send_message(RESIDENT, html.escape("<b> a & b"), parse_mode=ParseMode.HTML)

    assert message.text == "<b> a & b"
    assert message.entities == ()
    assert double.sent[-1].plain_text == "<b> a & b"


async def test_markdown_v2_needs_reserved_characters_escaped(bot: Bot) -> None:
    with pytest.raises(BadRequest) as refused:
        await bot.send_message(RESIDENT, "Versi 1.0 sudah rilis", parse_mode=ParseMode.MARKDOWN_V2)
    message = await bot.send_message(
        RESIDENT + 1,
        "*Versi* " + escape_markdown("1.0 (baru)!", version=2),
        parse_mode=ParseMode.MARKDOWN_V2,
    )

    assert str(refused.value) == (
        "Can't parse entities: character '.' is reserved and must be escaped with the "
        "preceding '\\'"
    )
    assert message.text == "Versi 1.0 (baru)!"
    assert message.entities[0].type == "bold"


async def test_callback_data_over_64_bytes_is_refused(bot: Bot, double: TelegramDouble) -> None:
    with pytest.raises(BadRequest, match="(?i)^button_data_invalid$"):
        await bot.send_message(RESIDENT, "Pilih", reply_markup=_keyboard("x" * 65))
    # Bytes, not characters: 33 two-byte characters are 66 bytes.
    with pytest.raises(BadRequest, match="(?i)^button_data_invalid$"):
        await bot.send_message(RESIDENT + 1, "Pilih", reply_markup=_keyboard("é" * 33))
    await bot.send_message(RESIDENT + 2, "Pilih", reply_markup=_keyboard("é" * 32))

    assert double.rejected[0].description == "Bad Request: BUTTON_DATA_INVALID"


async def test_button_without_an_action_is_refused(bot: Bot) -> None:
    markup = InlineKeyboardMarkup([[InlineKeyboardButton("Lapor")]])

    with pytest.raises(BadRequest, match="(?i)text buttons are unallowed in the inline keyboard"):
        await bot.send_message(RESIDENT, "Pilih", reply_markup=markup)


async def test_31_messages_in_one_second_hit_flood_control(
    bot: Bot, double: TelegramDouble, api_clock: ManualClock
) -> None:
    for chat in range(30):
        await bot.send_message(RESIDENT + chat, "Pengumuman")
    with pytest.raises(RetryAfter) as flood:
        await bot.send_message(RESIDENT + 30, "Pengumuman")
    api_clock.advance(1.0)
    await bot.send_message(RESIDENT + 30, "Pengumuman")

    assert flood.value.retry_after == dtm.timedelta(seconds=1)
    assert double.rejected[-1].description == "Too Many Requests: retry after 1"
    assert len(double.sent) == 31


async def test_second_message_to_a_private_chat_within_a_second_waits(
    bot: Bot, api_clock: ManualClock
) -> None:
    await bot.send_message(RESIDENT, "Pesan pertama")
    api_clock.advance(0.5)
    with pytest.raises(RetryAfter) as flood:
        await bot.send_message(RESIDENT, "Pesan kedua")
    api_clock.advance(0.5)
    await bot.send_message(RESIDENT, "Pesan kedua")

    assert flood.value.retry_after == dtm.timedelta(seconds=1)


async def test_21st_message_to_a_group_in_a_minute_waits(
    bot: Bot, double: TelegramDouble, api_clock: ManualClock
) -> None:
    for _ in range(20):
        await bot.send_message(GROUP, "Info KIM")
        api_clock.advance(1.0)
    with pytest.raises(RetryAfter) as flood:
        await bot.send_message(GROUP, "Info KIM")
    api_clock.advance(40.0)
    await bot.send_message(GROUP, "Info KIM")

    assert flood.value.retry_after == dtm.timedelta(seconds=40)
    assert len(double.messages_to(GROUP)) == 21


async def test_flood_limits_can_be_lifted_for_benchmarks(api_clock: ManualClock) -> None:
    unlimited = create_bot_api(TOKEN, flood_limits=False, clock=api_clock)
    async with serve_bot_api(unlimited) as url, Bot(TOKEN, **bot_urls(url)) as fast_bot:
        for _ in range(35):
            await fast_bot.send_message(RESIDENT, "Tanpa batas")

    assert len(unlimited.messages_to(RESIDENT)) == 35


async def test_chat_action_does_not_count_as_a_message(bot: Bot, double: TelegramDouble) -> None:
    assert await bot.send_chat_action(RESIDENT, "typing")
    await bot.send_message(RESIDENT, "Sedang kami proses")

    assert [c.method for c in double.sent] == ["sendChatAction", "sendMessage"]


async def test_blocked_chat_is_forbidden(bot: Bot, double: TelegramDouble) -> None:
    double.block_chat(RESIDENT)

    with pytest.raises(Forbidden, match="^Forbidden: bot was blocked by the user$"):
        await bot.send_message(RESIDENT, "Status laporan Anda")
    assert double.messages_to(RESIDENT) == []
    assert double.rejected[-1].status == 403


async def test_get_file_then_download_returns_the_bytes(bot: Bot, double: TelegramDouble) -> None:
    content = b"\xff\xd8\xff\xe0 jalan berlubang di Binjai Kota"
    double.add_file("AgADBAAD-photo", content, "photos/file_7.jpg")

    telegram_file = await bot.get_file("AgADBAAD-photo")
    downloaded = await telegram_file.download_as_bytearray()

    assert bytes(downloaded) == content
    assert telegram_file.file_size == len(content)
    assert double.downloads == ["photos/file_7.jpg"]


async def test_get_file_over_20_mb_is_too_big(bot: Bot, double: TelegramDouble) -> None:
    double.add_file("BQADBAAD-video", b"\0" * (20 * 1024 * 1024 + 1), "documents/file_8.mp4")

    with pytest.raises(BadRequest, match="^File is too big$"):
        await bot.get_file("BQADBAAD-video")


async def test_unknown_file_id_is_refused(bot: Bot) -> None:
    with pytest.raises(BadRequest, match="^Invalid file_id$"):
        await bot.get_file("does-not-exist")


async def test_uploaded_photo_can_be_fetched_again(bot: Bot, double: TelegramDouble) -> None:
    message = await bot.send_photo(RESIDENT, photo=b"\x89PNG fake image", caption="Bukti foto")

    telegram_file = await bot.get_file(message.photo[-1].file_id)

    assert bytes(await telegram_file.download_as_bytearray()) == b"\x89PNG fake image"
    assert message.caption == "Bukti foto"
    assert double.last_text(RESIDENT) == "Bukti foto"


async def test_caption_over_1024_is_too_long(bot: Bot) -> None:
    with pytest.raises(BadRequest, match="^Message caption is too long$"):
        await bot.send_photo(RESIDENT, photo=b"\x89PNG", caption="k" * 1025)


async def test_media_group_is_one_message_per_item(bot: Bot, double: TelegramDouble) -> None:
    messages = await bot.send_media_group(
        RESIDENT, [InputMediaPhoto(b"one", caption="Sebelum"), InputMediaPhoto(b"two")]
    )

    assert len(messages) == 2
    assert messages[0].media_group_id == messages[1].media_group_id
    assert messages[0].caption == "Sebelum"


async def test_wrong_token_and_unknown_method(root: str, bot: Bot) -> None:
    with pytest.raises(InvalidToken):
        async with Bot("999:WRONG", **bot_urls(root)):
            pass
    with pytest.raises(EndPointNotFound):
        await bot.do_api_request("sendTelepathy", api_kwargs={"chat_id": RESIDENT})


async def test_errors_have_telegrams_json_shape(
    raw: httpx.AsyncClient, double: TelegramDouble
) -> None:
    empty = await raw.post(f"/bot{TOKEN}/sendMessage", json={"chat_id": RESIDENT, "text": ""})
    wrong_token = await raw.post("/bot123456:WRONG/getMe")
    unknown = await raw.post(f"/bot{TOKEN}/sendTelepathy")
    await raw.post(f"/bot{TOKEN}/sendMessage", json={"chat_id": RESIDENT, "text": "satu"})
    flood = await raw.post(f"/bot{TOKEN}/sendMessage", json={"chat_id": RESIDENT, "text": "dua"})

    assert (empty.status_code, empty.json()) == (
        400,
        {"ok": False, "error_code": 400, "description": "Bad Request: message text is empty"},
    )
    assert wrong_token.json() == {"ok": False, "error_code": 401, "description": "Unauthorized"}
    assert unknown.json() == {"ok": False, "error_code": 404, "description": "Not Found"}
    assert (flood.status_code, flood.json()) == (
        429,
        {
            "ok": False,
            "error_code": 429,
            "description": "Too Many Requests: retry after 1",
            "parameters": {"retry_after": 1},
        },
    )


async def test_form_bodies_are_accepted_like_json(raw: httpx.AsyncClient) -> None:
    markup = '{"inline_keyboard": [[{"text": "Lacak", "callback_data": "track"}]]}'
    response = await raw.post(
        f"/bot{TOKEN}/sendMessage",
        data={"chat_id": str(RESIDENT), "text": "Halo", "reply_markup": markup},
    )

    assert response.json()["result"]["reply_markup"] == {
        "inline_keyboard": [[{"text": "Lacak", "callback_data": "track"}]]
    }


async def test_callback_query_can_be_answered_once(
    bot: Bot, double: TelegramDouble, api_clock: ManualClock
) -> None:
    first = double.push_update(callback_update(RESIDENT, "menu:lapor", message_id=10))
    late = double.push_update(callback_update(RESIDENT + 1, "menu:faq", message_id=11))
    first_id = first["callback_query"]["id"]
    late_id = late["callback_query"]["id"]

    assert set(double.unanswered_callbacks()) == {first_id, late_id}
    assert await bot.answer_callback_query(first_id, text="Baik")
    with pytest.raises(BadRequest, match="^Query is too old"):
        await bot.answer_callback_query(first_id)
    api_clock.advance(16.0)
    with pytest.raises(BadRequest, match="^Query is too old"):
        await bot.answer_callback_query(late_id)
    with pytest.raises(BadRequest, match="^Query is too old"):
        await bot.answer_callback_query("never-sent")
    assert double.answered_callbacks()[first_id]["text"] == "Baik"
    assert double.unanswered_callbacks() == [late_id]


async def test_edit_rules(bot: Bot, double: TelegramDouble, api_clock: ManualClock) -> None:
    sent = await bot.send_message(RESIDENT, "Pilih layanan", reply_markup=_keyboard("a"))
    api_clock.advance(1.0)
    edited = await bot.edit_message_text("Layanan: Lapor", RESIDENT, sent.message_id)
    api_clock.advance(1.0)
    with pytest.raises(BadRequest, match="^Message is not modified"):
        await bot.edit_message_text("Layanan: Lapor", RESIDENT, sent.message_id)
    with pytest.raises(BadRequest, match="^Message to edit not found$"):
        await bot.edit_message_text("x", RESIDENT, 424242)
    assert await bot.delete_message(RESIDENT, sent.message_id)
    with pytest.raises(BadRequest, match="^Message to delete not found$"):
        await bot.delete_message(RESIDENT, sent.message_id)

    assert isinstance(edited, Message)
    assert edited.text == "Layanan: Lapor"
    # An edit without reply_markup removes the keyboard.
    assert edited.reply_markup is None
    assert double.last_text(RESIDENT) == "Layanan: Lapor"
    assert double.visible_messages(RESIDENT) == []


async def test_callback_message_can_be_edited(bot: Bot, double: TelegramDouble) -> None:
    double.push_update(callback_update(RESIDENT, "menu:lapor", message_id=55))

    await bot.edit_message_reply_markup(RESIDENT, 55, reply_markup=_keyboard("next"))

    assert (
        double.visible_messages(RESIDENT)[0]["reply_markup"]["inline_keyboard"][0][0][
            "callback_data"
        ]
        == "next"
    )


async def test_get_updates_honours_offset(bot: Bot, double: TelegramDouble) -> None:
    first = double.push_update(text_update(RESIDENT, "/start"))
    double.push_update(text_update(RESIDENT, "Jalan rusak"))

    updates = await bot.get_updates(timeout=0)
    confirmed = await bot.get_updates(offset=updates[-1].update_id + 1, timeout=0)

    assert [u.update_id for u in updates][0] == first["update_id"]
    assert [u.message.text for u in updates if u.message] == ["/start", "Jalan rusak"]
    assert confirmed == ()
    assert double.pending_updates == []


async def test_long_poll_wakes_when_an_update_arrives(bot: Bot, double: TelegramDouble) -> None:
    double.max_poll_seconds = 5.0

    async def resident_writes() -> None:
        await asyncio.sleep(0.1)
        double.push_update(text_update(RESIDENT, "Halo"))

    writer = asyncio.create_task(resident_writes())
    started = time.monotonic()
    updates = await bot.get_updates(timeout=5, read_timeout=10)
    await writer

    assert [u.message.text for u in updates if u.message] == ["Halo"]
    assert time.monotonic() - started < 2.0


async def test_a_second_poller_ends_the_first(root: str, bot: Bot, double: TelegramDouble) -> None:
    double.max_poll_seconds = 5.0
    async with Bot(TOKEN, **bot_urls(root)) as second_instance:
        first = asyncio.create_task(bot.get_updates(timeout=5, read_timeout=10))
        await asyncio.sleep(0.2)
        second = asyncio.create_task(second_instance.get_updates(timeout=5, read_timeout=10))
        with pytest.raises(Conflict, match="only one bot instance"):
            await first
        double.push_update(text_update(RESIDENT, "Halo"))
        assert [u.message.text for u in await second if u.message] == ["Halo"]


async def test_webhook_and_polling_exclude_each_other(bot: Bot, double: TelegramDouble) -> None:
    with pytest.raises(BadRequest, match="(?i)https url must be provided"):
        await bot.set_webhook("http://emas.binjaikota.go.id/webhooks/telegram")
    assert await bot.set_webhook(
        "https://emas.binjaikota.go.id/webhooks/telegram", secret_token="s3cret_Token"
    )
    with pytest.raises(Conflict, match="webhook is active"):
        await bot.get_updates(timeout=0)
    info = await bot.get_webhook_info()
    assert info.url == "https://emas.binjaikota.go.id/webhooks/telegram"
    assert double.webhook.secret_token == "s3cret_Token"
    assert await bot.delete_webhook()
    assert await bot.get_updates(timeout=0) == ()


async def test_fail_next_then_recover(bot: Bot, double: TelegramDouble) -> None:
    double.fail_next(1, status=500)
    with pytest.raises(NetworkError, match="Internal Server Error"):
        await bot.send_message(RESIDENT, "Coba lagi")
    double.fail_next(1, status=429, retry_after=7, methods=["sendMessage"])
    with pytest.raises(RetryAfter) as flood:
        await bot.send_message(RESIDENT, "Coba lagi")
    await bot.send_message(RESIDENT, "Coba lagi")

    assert flood.value.retry_after == dtm.timedelta(seconds=7)
    assert len(double.messages_to(RESIDENT)) == 1


async def test_random_faults_repeat_with_the_same_seed(api_clock: ManualClock) -> None:
    async def pattern(seed: int) -> list[int]:
        fake = create_bot_api(TOKEN, flood_limits=False, clock=api_clock)
        fake.fail_randomly(0.3, status=502, seed=seed)
        transport = httpx.ASGITransport(app=fake.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            codes = []
            for _ in range(40):
                reply = await client.post(
                    f"/bot{TOKEN}/sendMessage", json={"chat_id": RESIDENT, "text": "x"}
                )
                codes.append(reply.status_code)
        return codes

    first, again, other = await pattern(7), await pattern(7), await pattern(8)

    assert first == again
    assert first != other
    assert 502 in first and 200 in first


async def test_commands_are_stored_per_language(bot: Bot, double: TelegramDouble) -> None:
    await bot.set_my_commands([BotCommand("lapor", "Buat laporan")], language_code="id")
    with pytest.raises(BadRequest, match="(?i)bot_command_invalid"):
        await bot.set_my_commands([BotCommand("Lapor Baru", "x")])

    assert double.commands(language_code="id") == [
        {"command": "lapor", "description": "Buat laporan"}
    ]
    assert await bot.get_my_commands(language_code="id") == (BotCommand("lapor", "Buat laporan"),)


BUILDERS: list[tuple[str, Callable[[], dict[str, Any]]]] = [
    ("text", lambda: text_update(RESIDENT, "/lapor jalan rusak")),
    ("edited", lambda: edited_text_update(RESIDENT, "Jalan rusak parah", message_id=3)),
    ("group", lambda: group_text_update(GROUP, "jadwal posyandu?")),
    ("callback", lambda: callback_update(RESIDENT, "menu:faq", message_id=9)),
    ("photo", lambda: photo_update(RESIDENT, "AgAD-photo", 120_000, caption="Lubang")),
    ("document", lambda: document_update(RESIDENT, "BQAD-doc", "ktp.pdf", "application/pdf", 9000)),
    ("location", lambda: location_update(RESIDENT, 3.6001, 98.4854)),
    ("sticker", lambda: sticker_update(RESIDENT)),
    ("voice", lambda: voice_update(RESIDENT)),
    ("contact", lambda: contact_update(RESIDENT, "+6281234567890")),
]


@pytest.mark.parametrize(("kind", "build"), BUILDERS, ids=[kind for kind, _ in BUILDERS])
async def test_built_updates_reach_ptb_intact(
    kind: str, build: Callable[[], dict[str, Any]], bot: Bot, double: TelegramDouble
) -> None:
    pushed = double.push_update(build())

    (update,) = await bot.get_updates(timeout=0)

    assert isinstance(update, Update)
    assert update.update_id == pushed["update_id"]
    assert update.effective_chat is not None
    assert update.effective_user is not None and not update.effective_user.is_bot
    message = update.effective_message
    assert message is not None
    if kind == "text":
        assert message.text == "/lapor jalan rusak"
        assert message.parse_entities(["bot_command"]) != {}
    elif kind == "group":
        assert update.effective_chat.type == "supergroup"
        assert message.text is not None and message.text.startswith("@emas_binjai_bot ")
    elif kind == "callback":
        assert update.callback_query is not None and update.callback_query.data == "menu:faq"
    elif kind == "photo":
        assert message.photo[-1].file_id == "AgAD-photo"
    elif kind == "document":
        assert message.document is not None and message.document.mime_type == "application/pdf"
    elif kind == "location":
        assert message.location is not None and message.location.latitude == pytest.approx(3.6001)
    elif kind == "contact":
        assert message.contact is not None
        assert message.contact.user_id == update.effective_user.id
    elif kind == "edited":
        assert update.edited_message is not None


TELEGRAM_PARSE_ERRORS = [
    ("HTML", "🏟 🏟&lt;<abacaba", "Unclosed start tag at byte offset 13"),
    ("HTML", "a < b", 'Unsupported start tag "" at byte offset 2'),
    ("HTML", "<i>a</em   >", 'Unmatched end tag at byte offset 4, expected "</i>", found "</em>"'),
    ("HTML", "<span>x</span>", 'Tag "span" must have class "tg-spoiler" at byte offset 0'),
    ("HTML", "<a href=x/>y</a>", "Unexpected end of name token at byte offset 8"),
    ("MarkdownV2", "🏟 🏟_abacaba", "Can't find end of Italic entity at byte offset 9"),
    ("MarkdownV2", "[telegram\\.org](asd", "Can't find end of a URL at byte offset 16"),
    (
        "MarkdownV2",
        ">\n*a*>2",
        "Character '>' is reserved and must be escaped with the preceding '\\'",
    ),
    ("Markdown", "a *b", "Can't find end of the entity starting at byte offset 2"),
]


@pytest.mark.parametrize(("mode", "text", "reason"), TELEGRAM_PARSE_ERRORS)
async def test_parse_errors_read_as_telegrams(
    raw: httpx.AsyncClient, mode: str, text: str, reason: str
) -> None:
    reply = await raw.post(
        f"/bot{TOKEN}/sendMessage", json={"chat_id": RESIDENT, "text": text, "parse_mode": mode}
    )

    assert reply.json()["description"] == f"Bad Request: can't parse entities: {reason}"


async def test_formatting_becomes_entities_in_utf16_units(raw: httpx.AsyncClient) -> None:
    text = "🏟 <b>Jalan</b> <a href='binjaikota.go.id'>situs</a> <tg-spoiler>rahasia</tg-spoiler>"
    reply = await raw.post(
        f"/bot{TOKEN}/sendMessage", json={"chat_id": RESIDENT, "text": text, "parse_mode": "HTML"}
    )

    result = reply.json()["result"]
    assert result["text"] == "🏟 Jalan situs rahasia"
    assert result["entities"] == [
        {"type": "bold", "offset": 3, "length": 5},
        {"type": "text_link", "offset": 9, "length": 5, "url": "http://binjaikota.go.id/"},
        {"type": "spoiler", "offset": 15, "length": 7},
    ]
