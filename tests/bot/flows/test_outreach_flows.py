"""Outreach in chat, on every channel: suggestions to the city, the once-asked "how did you hear
of this service?" (answered, skipped, or ignored for what the resident came for), and a tracked
source's code arriving by Telegram deep link or WhatsApp text."""

from __future__ import annotations

from typing import Any

from sqlmodel import select

from bot.app import Container
from broadcasts.outreach import OutreachService
from chat import Chat, TelegramChat, conversation_of, stored_reports
from doubles.telegram_updates import callback_update
from storage import repo
from storage.models import Report
from storage.models.outreach import QuestionAsked, ResidentOrigin, Suggestion

TANGSI = "12.75.02.1005"


async def _identity_id(box: Container, chat: Chat) -> int:
    conversation = await conversation_of(box, chat)
    return conversation.identity_id


async def _origin(box: Container, chat: Chat) -> ResidentOrigin | None:
    identity_id = await _identity_id(box, chat)
    async with box.db.reader() as session:
        return await session.get(ResidentOrigin, identity_id)


async def _suggestions(box: Container) -> list[Suggestion]:
    async with box.db.reader() as session:
        return list((await session.exec(select(Suggestion))).all())


async def _a_report_in(box: Container, chat: Chat, kelurahan: str, ticket: str) -> None:
    """A report the resident filed before, in `kelurahan` (so the bot knows where they live)."""
    async with box.db.session() as session:
        identity = await repo.get_or_create_identity(session=session, channel=chat.channel,
                                                     user_key=chat.user_key)
        await repo.create_report(session=session, report=Report(
            ticket=ticket, category_key="sampah", kelurahan_code=kelurahan,
            kecamatan_code=kelurahan.rsplit(".", 1)[0], description="Sampah menumpuk",
            channel=chat.channel, reporter_id=identity.id or 0, created_at=box.engine.clock()))


async def _new_source(box: Container, name: str = "Spanduk Lapangan Merdeka",
                      kind: str = "poster") -> str:
    async with box.db.session() as session:
        made = await OutreachService(session=session, now=box.engine.clock).create_source(
            name, kind, created_by="test")
        return made.code


async def _press_heard(chat: TelegramChat, key: str) -> None:
    """Press a button under the "how did you hear" message (not the last message: the menu
    comes after it)."""
    for call in reversed(chat.double.sent):
        buttons = [b for row in (call.reply_markup or {}).get("inline_keyboard", [])
                   for b in row if b.get("callback_data", "").startswith("hh:")]
        if call.chat_id in (chat.chat_id, str(chat.chat_id)) and buttons:
            message_id = call.message_id or call.params.get("message_id")
            await chat.post(callback_update(chat.chat_id, f"hh:{key}", message_id or 1))
            return
    raise AssertionError("no 'how did you hear' buttons were sent")


async def _answer_heard(chat: Chat, letter: str, key: str) -> None:
    if isinstance(chat, TelegramChat):
        await _press_heard(chat, key)
    else:
        await chat.say(letter)


# --- suggestions -----------------------------------------------------------------------------


async def test_a_resident_sends_a_suggestion_about_an_app_and_is_thanked(
        channel_env: Any, chat: Chat) -> None:
    box = channel_env.box
    await _a_report_in(box, chat, TANGSI, "BJI-2026-000901")
    await chat.say("/start")
    await chat.tap("Saran untuk Pemkot")
    assert "Saran Bapak/Ibu tentang apa?" in chat.text
    assert {"🏛 Layanan Pemkot", "📱 Aplikasi kota", "🤖 Bot ini", "💬 Lainnya"} <= set(
        chat.options)
    await chat.tap("Aplikasi kota")
    assert "Aplikasi yang mana?" in chat.text and "e-PBB" in chat.options
    await chat.tap("e-PBB")
    assert "tulis saran" in chat.text
    await chat.say("Mohon e-PBB bisa dibayar lewat QRIS di minimarket")
    assert "Terima kasih! Saran Bapak/Ibu #1 sudah diterima" in chat.text
    # Not a report: no ticket, and the resident is back at the menu.
    assert "BJI-" not in chat.text and "Buat laporan" in " ".join(chat.options)
    [kept] = await _suggestions(box)
    assert (kept.theme, kept.app, kept.kelurahan_code, kept.channel) == (
        "app", "e-pbb", TANGSI, chat.channel)
    assert kept.text == "Mohon e-PBB bisa dibayar lewat QRIS di minimarket"
    assert len(await stored_reports(box)) == 1  # only the one filed before


async def test_a_suggestion_typed_first_is_kept_until_its_theme_is_chosen(
        channel_env: Any, chat: Chat) -> None:
    box = channel_env.box
    await chat.say("/start")
    await chat.tap("Saran untuk Pemkot")
    await chat.say("Tolong tambah tempat sampah di taman kota")
    assert "Mohon pilih dulu sarannya tentang apa" in chat.text
    await chat.tap("Layanan Pemkot")
    assert "Saran Bapak/Ibu #1 sudah diterima" in chat.text
    [kept] = await _suggestions(box)
    assert (kept.theme, kept.app, kept.kelurahan_code) == ("service", None, None)
    assert kept.text == "Tolong tambah tempat sampah di taman kota"


async def test_a_too_short_suggestion_is_asked_again_and_cancel_keeps_nothing(
        channel_env: Any, chat: Chat) -> None:
    box = channel_env.box
    await chat.say("/start")
    await chat.tap("Saran untuk Pemkot")
    await chat.tap("Bot ini")
    await chat.say("bagus")
    assert "paling sedikit 10 karakter" in chat.text
    await chat.say("batal")
    assert "dibatalkan" in chat.text
    assert await _suggestions(box) == []


async def test_five_suggestions_a_day_at_most(container: Container, clock: Any) -> None:
    from chat import TerminalChat

    chat = TerminalChat(container.engine, user_key="warga-saran")
    await chat.say("/start")
    for n in range(5):
        await chat.tap("Saran untuk Pemkot")
        await chat.tap("Lainnya")
        await chat.say(f"Saran nomor {n + 1} untuk kota Binjai")
        if n == 0:
            await chat.say("lewati")  # the question after the first completed action
    await chat.tap("Saran untuk Pemkot")
    assert "sudah mengirim 5 saran dalam 24 jam terakhir" in chat.text
    assert len(await _suggestions(container)) == 5
    clock.advance(hours=25)
    await chat.tap("Saran untuk Pemkot")
    assert "Saran Bapak/Ibu tentang apa?" in chat.text


# --- how they heard --------------------------------------------------------------------------


async def test_how_they_heard_is_asked_once_after_the_first_completed_action(
        channel_env: Any, chat: Chat) -> None:
    box = channel_env.box
    await chat.say("/start")
    assert "dari mana Bapak/Ibu mengetahui layanan ini" not in chat.text  # not at the welcome
    await chat.tap("Saran untuk Pemkot")
    await chat.tap("Lainnya")
    await chat.say("Perbanyak lampu jalan di gang-gang kecil")
    assert "Saran Bapak/Ibu #1 sudah diterima" in chat.text
    assert "dari mana Bapak/Ibu mengetahui layanan ini" in chat.text
    if not isinstance(chat, TelegramChat):
        assert "A. KIM" in chat.text and "B. Kepala lingkungan" in chat.text
    # The menu is still the last thing offered: nothing waits on the answer.
    assert any("Buat laporan" in o for o in chat.options)
    await _answer_heard(chat, "B", "kepling")
    assert "Terima kasih atas jawabannya" in chat.text
    origin = await _origin(box, chat)
    assert origin is not None and origin.heard == "kepling" and origin.heard_asked_at
    # Asked once: the next completed action brings no question.
    await chat.tap("Saran untuk Pemkot")
    await chat.tap("Lainnya")
    await chat.say("Jadwal angkut sampah diumumkan di bot ini")
    assert "Saran Bapak/Ibu #2 sudah diterima" in chat.text
    assert "dari mana Bapak/Ibu mengetahui layanan ini" not in chat.text


async def test_the_question_can_be_skipped(channel_env: Any, chat: Chat) -> None:
    box = channel_env.box
    await chat.say("/start")
    await chat.say("bagaimana cara bayar pbb?")  # a question is a completed action too
    await chat.say("menu")
    assert "dari mana Bapak/Ibu mengetahui layanan ini" in chat.text
    if isinstance(chat, TelegramChat):
        await _press_heard(chat, "skip")
    else:
        await chat.say("LEWATI")
    assert "Baik. Terima kasih!" in chat.text
    origin = await _origin(box, chat)
    assert origin is not None and origin.heard is None and origin.heard_asked_at is not None
    await chat.say("menu")
    assert "dari mana Bapak/Ibu mengetahui layanan ini" not in chat.text


async def test_the_question_never_stands_in_the_way_of_a_report(
        channel_env: Any, chat: Chat) -> None:
    box = channel_env.box
    await chat.say("/start")
    await chat.say("apa itu KIM?")
    await chat.say("menu")
    assert "dari mana Bapak/Ibu mengetahui layanan ini" in chat.text
    # The resident types their complaint instead of answering: it is handled as usual.
    await chat.say("jalan depan rumah rusak parah dan berlubang")
    assert "dari mana" not in chat.text
    assert "laporan" in chat.text.lower()
    origin = await _origin(box, chat)
    assert origin is not None and origin.heard is None
    conversation = await conversation_of(box, chat)
    assert conversation.flow in ("faq", "report")


async def test_a_resident_who_has_reported_before_is_asked_at_the_menu(
        container: Container) -> None:
    from chat import TerminalChat

    chat = TerminalChat(container.engine, user_key="warga-lama")
    await _a_report_in(container, chat, TANGSI, "BJI-2026-000902")
    await chat.say("/start")
    assert "dari mana Bapak/Ibu mengetahui layanan ini" in chat.text
    await chat.say("teman")  # the answer's name works as well as its letter
    origin = await _origin(container, chat)
    assert origin is not None and origin.heard == "family"


# --- tracked sources -------------------------------------------------------------------------


async def test_a_telegram_deep_link_attributes_the_join_report_and_question(
        telegram: Any, clock: Any) -> None:
    box = telegram.box
    code = await _new_source(box)
    other = await _new_source(box, "Kunjungan SMA Negeri 1 Binjai", "school")
    newcomer = telegram.chat(chat_id=710_001, language_code="en")
    await newcomer.say(f"/start {code}")
    assert "official e-Masyarakat assistant" in newcomer.text
    origin = await _origin(box, newcomer)
    assert origin is not None and origin.joined and origin.source_id is not None
    first_source = origin.source_id
    clock.advance(minutes=5)
    await newcomer.file_to_summary("Lampu jalan mati di depan sekolah sejak kemarin",
                                   category="Street light out")
    await newcomer.tap("Send report")
    await newcomer.say("how do I pay the PBB tax?")
    # A later source never takes the resident over.
    await newcomer.say(f"/start {other}")
    origin = await _origin(box, newcomer)
    assert origin is not None and origin.source_id == first_source

    # Someone who already used the bot is attributed, but not as a join.
    regular = telegram.chat(chat_id=710_002, language_code="en")
    await regular.say("/start")
    await regular.say(f"/start {other}")
    regular_origin = await _origin(box, regular)
    assert regular_origin is not None and not regular_origin.joined

    async with box.db.reader() as session:
        figures = {f.source.code: f for f in await OutreachService(
            session=session, now=box.engine.clock).figures()}
    assert (figures[code].residents, figures[code].joined, figures[code].first_reports,
            figures[code].first_questions) == (1, 1, 1, 1)
    assert (figures[other].residents, figures[other].joined) == (1, 0)


async def test_an_unknown_code_is_just_a_start(telegram: Any) -> None:
    chat = telegram.chat(chat_id=710_003)
    await chat.say("/start src-zzzzzz")
    assert "Halo" in chat.text and any("Buat laporan" in o for o in chat.options)
    assert await _origin(telegram.box, chat) is None


async def test_a_whatsapp_link_text_attributes_the_join(whatsapp: Any) -> None:
    from bot.outreach_texts import whatsapp_join_text

    box = whatsapp.box
    code = await _new_source(box, "Instagram Diskominfo", "social")
    chat = whatsapp.chat(chat_id=720_001)
    await chat.say(whatsapp_join_text(code))  # what the wa.me link fills in
    assert "layanan resmi e-Masyarakat" in chat.text
    origin = await _origin(box, chat)
    assert origin is not None and origin.joined and origin.source_id is not None
    # The code retyped in capitals, inside other words, is found as well.
    other = whatsapp.chat(chat_id=720_002)
    await other.say("halo")
    await other.say(f"saya lihat di instagram kode {code.upper()}")
    other_origin = await _origin(box, other)
    assert other_origin is not None and not other_origin.joined
    assert other_origin.source_id == origin.source_id


async def test_questions_are_counted_with_the_residents_kelurahan(container: Container) -> None:
    from chat import TerminalChat

    chat = TerminalChat(container.engine, user_key="warga-tanya")
    await _a_report_in(container, chat, TANGSI, "BJI-2026-000903")
    await chat.say("/start")
    await chat.say("lewati")
    await chat.say("bagaimana cara mengurus izin usaha?")
    async with container.db.reader() as session:
        [asked] = (await session.exec(select(QuestionAsked))).all()
    assert asked.kelurahan_code == TANGSI and asked.identity_id == await _identity_id(
        container, chat)
