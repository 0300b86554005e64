"""Resident flows on WhatsApp, end to end: webhook → engine → twilio SDK → the Twilio double."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlmodel import select

from bot.app import Container
from bot.i18n import _, ngettext, use_locale
from chat import KARTINI, Chat, TerminalChat, WhatsAppChat, id_, stored_reports
from conftest import Clock
from factories import jpeg_bytes, png_bytes, same_picture
from storage.models import Identity, ReportPhoto
from storage.models.outbound import OutboundMessage
from whatsapp_fixtures import WhatsAppEnv


async def _identity(box: Container, user_key: str) -> Identity:
    async with box.db.reader() as session:
        found = (await session.exec(select(Identity).where(Identity.user_key == user_key))).one()
    return found


async def test_resident_files_a_report_with_photo_and_location_then_checks_and_opts_out(
    whatsapp: WhatsAppEnv, clock: Clock
) -> None:
    double = whatsapp.double
    chat = whatsapp.chat(chat_id=700_123, profile_name="Siti")

    await chat.say("halo")  # a first message that is not /start still gets the welcome
    assert chat.status_codes == [200]
    assert "e-Masyarakat" in chat.text and "Siti" in chat.text
    assert id_("Reply with a number:") in chat.text
    assert chat.options[0] == id_("📝 Make a report")

    await chat.say("1")  # answered with the option's number
    assert id_("Describe the problem: what is wrong, since when, and how it affects residents "
               "({min} to {max} characters).").format(min=10, max=1000) in chat.text
    await chat.say("Lampu jalan mati sejak tiga hari, jalan gelap dan rawan kecelakaan")
    assert id_("Which of these fits the problem best?") in chat.text
    assert all(len(t) <= 1600 for t in chat.texts) and len(chat.texts) == 1  # one message
    await chat.say("lampu jalan mati")  # ... answered with the option's text (from the city pack)
    assert id_("Where is the problem? Share your location with the button below, choose the "
               "kecamatan, or type the name of the kelurahan.") in chat.text
    assert "📎" in chat.text  # how to share a location in WhatsApp

    await chat.post(chat.form(latitude=KARTINI[0], longitude=KARTINI[1],
                              address="Jl. T. Amir Hamzah", label="Masjid Raya"))
    assert "Lokasi Bapak/Ibu di Kel. Kartini, Kec. Binjai Kota. Benar?" in chat.text
    await chat.say("iya")  # typed, as people answer
    await chat.tap(id_("Skip"))  # the shared location's address is already kept

    photo = jpeg_bytes(4096)
    await chat.send_photo(photo)
    assert len(double.media_requests) == 1  # fetched with the account's credentials
    await chat.tap(id_("Done"))
    await chat.tap(id_("No, keep me anonymous"))
    assert id_("Please check your report:") in chat.text
    await chat.tap(id_("✅ Send report"))
    ticket = chat.ticket()
    assert id_("Ticket number: {ticket}", ticket=ticket) in chat.text
    # No template for status updates is configured: the resident learns they may wait.
    assert id_("On WhatsApp we can only write to you within 24 hours of your last message. If "
               "there is news about your report after that, it will wait here until you next "
               "write to us; any message will do.") in chat.text

    [report] = await stored_reports(whatsapp.box)
    assert report.ticket == ticket and report.channel == "whatsapp"
    assert (report.latitude, report.longitude) == KARTINI
    assert report.address == "Jl. T. Amir Hamzah"
    assert report.kelurahan_code == "12.75.02.1004" and report.anonymous is True
    async with whatsapp.box.db.reader() as session:
        [stored] = (await session.exec(select(ReportPhoto))).all()
    kept = (Path(whatsapp.box.settings.media_dir) / stored.path).read_bytes()
    # The same picture, stored again without whatever metadata it carried.
    assert same_picture(kept, photo)
    assert all(len(body) <= 1600 for body in double.bodies_to(chat.address))

    await chat.tap(id_("🔎 Check a report's status"))
    await chat.say(ticket)
    assert id_("Report {ticket}", ticket=ticket) in chat.text
    assert "Kartini" in chat.text

    await chat.say("STOP")
    assert id_("Done: we will no longer send you announcements or updates on your reports. "
               "You can still write to us at any time and we will answer. To receive them "
               "again, send START.") in chat.text
    assert (await _identity(whatsapp.box, chat.user_key)).opted_out is True
    await chat.say("MULAI")
    assert id_("Welcome back! You will receive announcements and updates on your reports "
               "again. To stop them, send STOP.") in chat.text
    assert id_("What would you like to do?") in chat.text
    assert (await _identity(whatsapp.box, chat.user_key)).opted_out is False

    async with whatsapp.box.db.reader() as session:
        records = (await session.exec(select(OutboundMessage))).all()
    assert len(records) == len(double.messages_to(chat.address))
    assert {r.provider_id for r in records} == {m.sid for m in double.messages_to(chat.address)}


@pytest.fixture(params=["terminal", "whatsapp"])
def resident(request: pytest.FixtureRequest) -> Chat:
    """The same resident on the terminal and on WhatsApp, for the same transcript."""
    if request.param == "terminal":
        box: Container = request.getfixturevalue("container")
        return TerminalChat(box.engine, user_key="warga-1", locale="en")
    env: WhatsAppEnv = request.getfixturevalue("whatsapp")
    return env.chat(language_code="en")


async def test_the_same_report_transcript_runs_on_every_channel(resident: Chat) -> None:
    chat = resident
    await chat.say("/start")
    assert "e-Masyarakat" in chat.text
    await chat.tap("Make a report")
    await chat.say("Jalan berlubang dalam di depan sekolah")
    await chat.tap("Damaged road")
    await chat.share_location(*KARTINI)
    assert "Kel. Kartini, Binjai Kota" in chat.text
    await chat.tap("Yes, that's right")
    await chat.say("Jl. Sudirman, depan Masjid Raya")
    await chat.send_photo(png_bytes(seed=4))
    assert "1 photo received" in chat.text
    await chat.tap("Done")
    await chat.tap("Yes, show my name")
    assert "Kartini, Binjai Kota (location shared)" in chat.text
    await chat.tap("Send report")
    ticket = chat.ticket()
    await chat.tap("Check a report's status")
    await chat.say(ticket)
    assert "Submitted, awaiting verification" in chat.text


async def test_options_are_understood_by_number_text_or_a_near_miss(
    whatsapp_chat: WhatsAppChat,
) -> None:
    chat = whatsapp_chat
    await chat.say("halo")
    await chat.say(id_("📝 Make a report").lower())
    await chat.say("sampah udh seminggu gak diangkut")
    await chat.say("Sampah tidak diangkt")  # a slip of the thumb
    assert id_("Where is the problem? Share your location with the button below, choose the "
               "kecamatan, or type the name of the kelurahan.") in chat.text
    assert len(chat.options) < 20
    await chat.say("20")  # no such number in this list: the question is asked again
    assert id_("Where is the problem? Share your location with the button below, choose the "
               "kecamatan, or type the name of the kelurahan.") in chat.text
    assert "Binjai Kota" in chat.options  # asked again, still as a numbered list


async def test_first_contact_from_an_english_number_is_in_english(whatsapp: WhatsAppEnv) -> None:
    chat = whatsapp.chat(chat_id=555_001, language_code="en")
    assert chat.user_key.startswith("+44")
    await chat.say("hello")
    assert "Reply with a number:" in chat.text
    assert "Make a report" in chat.text


async def test_media_the_flow_cannot_use_is_refused_politely(whatsapp_chat: WhatsAppChat) -> None:
    chat = whatsapp_chat
    await chat.say("/start")
    await chat.tap(id_("📝 Make a report"))
    await chat.say("Jalan berlubang dalam di depan sekolah")
    await chat.tap("Jalan rusak")
    await chat.say("Tangsi")
    await chat.tap(id_("Skip"))
    with use_locale("id"):
        sticker = _("Thank you, but a sticker is not a photo of the problem. Please send a "
                    "photo, or tap Skip.")
        voice = _("🎙️ Voice note received: the officers handling the report can listen to it.")
        large = _("That file is too large (the limit is {mb} MB). Please send a smaller "
                  "photo.").format(mb=10)
    await chat.send_sticker()
    assert sticker in chat.text
    await chat.send_voice()
    assert voice in chat.text
    await chat.send_photo(png_bytes(seed=5), declared_size=11 * 1024 * 1024)
    assert large in chat.text
    await chat.send_document(png_bytes(seed=6), "image/png")
    with use_locale("id"):
        received = ngettext("{count} photo received. Send another, or tap Done.",
                            "{count} photos received. Send another, or tap Done.", 1)
    assert received.format(count=1) in chat.text


async def test_a_replayed_message_has_no_second_effect(whatsapp: WhatsAppEnv) -> None:
    chat = whatsapp.chat()
    await chat.say("/start")
    form = chat.form(body="1")
    assert await chat.post(form) == 200
    first = list(chat.texts)
    assert await chat.post(form) == 200  # Twilio retried the same MessageSid
    assert chat.texts == []
    assert first and id_("Describe the problem: what is wrong, since when, and how it affects "
                         "residents ({min} to {max} characters).").format(min=10, max=1000) \
        in first[0]
