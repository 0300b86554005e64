"""Filing a report, as a transcript, on every channel."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlmodel import select

from chat import KARTINI, Chat, conversation_of, stored_reports
from conftest import Clock
from factories import png_bytes, same_picture
from storage.models import Conversation, Identity, ReportPhoto


async def start_report(chat: Chat) -> None:
    await chat.say("/start")
    assert "e-Masyarakat" in chat.text
    await chat.tap("Make a report")
    assert "Describe the problem" in chat.text


async def test_resident_files_report_with_location_and_photo(
    channel_env: object, en_chat: Chat
) -> None:
    chat = en_chat
    await start_report(chat)
    await chat.say("Lampu jalan mati sejak tiga hari, jalan gelap <b>bahaya</b> & rawan")
    assert "Which of these fits the problem best?" in chat.text
    assert chat.options[0] == "Street light out"  # proposed first, from the words
    await chat.tap("Street light out")
    assert "Where is the problem" in chat.text
    await chat.share_location(*KARTINI)
    assert "Kel. Kartini, Binjai Kota" in chat.text
    await chat.tap("Yes, that's right")
    assert "landmark" in chat.text
    await chat.say("Jl. T. Amir Hamzah, depan Masjid Raya")
    assert "photos" in chat.text
    await chat.send_photo(png_bytes(seed=1))
    assert "1 photo received" in chat.text
    await chat.tap("Done")
    assert "see your name" in chat.text
    await chat.tap("No, keep me anonymous")
    assert "Please check your report" in chat.text
    assert "Kartini, Binjai Kota" in chat.text
    assert "<b>bahaya</b> & rawan" in chat.text  # shown exactly as typed
    await chat.tap("Send report")
    ticket = chat.ticket()
    assert ticket.startswith("BJI-2026-")
    assert "Dinas Perumahan dan Kawasan Permukiman" in chat.text
    assert "3 working days" in chat.text

    [report] = await stored_reports(channel_env.box)  # type: ignore[attr-defined]
    assert report.ticket == ticket
    assert report.status == "submitted"
    assert report.category_key == "pju" and report.agency_key == "perkim"
    assert report.kelurahan_code == "12.75.02.1004"
    assert (report.latitude, report.longitude) == KARTINI
    assert report.anonymous is True
    assert report.channel == chat.channel
    async with channel_env.box.db.reader() as session:  # type: ignore[attr-defined]
        photos = (await session.exec(select(ReportPhoto))).all()
    assert len(photos) == 1
    stored = Path(channel_env.box.settings.media_dir) / photos[0].path  # type: ignore[attr-defined]
    assert same_picture(stored.read_bytes(), png_bytes(seed=1))

    await chat.tap("Check a report's status")
    await chat.say(ticket.lower())
    assert f"Report {ticket}" in chat.text
    assert "Submitted, awaiting verification" in chat.text
    assert "Kartini" in chat.text


async def test_location_outside_binjai_is_refused_then_name_is_typed(en_chat: Chat) -> None:
    chat = en_chat
    await start_report(chat)
    await chat.say("Sampah menumpuk di pinggir jalan sudah seminggu")
    await chat.tap("Uncollected garbage")
    await chat.share_location(3.5952, 98.6722)  # Medan
    assert "outside Kota Binjai" in chat.text
    await chat.say("SM Rejo")  # residents' short form of Sumber Mulyorejo
    assert "landmark" in chat.text
    await chat.tap("Skip")
    await chat.tap("Skip photos")
    await chat.tap("Yes, show my name")
    assert "Sumber Mulyorejo, Binjai Timur" in chat.text


@pytest.mark.parametrize("typed,expected", [
    ("jatinegara", "Jati Negara"),
    ("kel. kebun lada", "Kebun Lada"),
    ("Payaroba", "Paya Roba"),
])
async def test_typed_kelurahan_names_and_aliases(en_chat: Chat, typed: str, expected: str) -> None:
    await start_report(en_chat)
    await en_chat.say("Parit tersumbat, air meluap ke jalan")
    await en_chat.tap("Blocked drain")
    await en_chat.say(typed)
    await en_chat.tap("Skip")
    await en_chat.tap("Skip photos")
    await en_chat.tap("Yes, show my name")
    assert f"Kelurahan: {expected}," in en_chat.text


async def test_ambiguous_kelurahan_asks_which(en_chat: Chat) -> None:
    await start_report(en_chat)
    await en_chat.say("Parit tersumbat, air meluap ke jalan")
    await en_chat.tap("Blocked drain")
    await en_chat.say("binjai")
    assert "Did you mean" in en_chat.text
    assert any("Pekan Binjai" in o for o in en_chat.options)
    await en_chat.tap("Pekan Binjai")
    assert "landmark" in en_chat.text


async def test_description_must_be_at_most_1000_characters(en_chat: Chat) -> None:
    await start_report(en_chat)
    await en_chat.say("rusak")
    assert "a little more" in en_chat.text and "Describe the problem" in en_chat.text
    await en_chat.say("x" * 1001)
    assert "too long (1001 characters)" in en_chat.text
    await en_chat.say("Jalan berlubang dalam di depan sekolah")
    assert "Which of these fits" in en_chat.text


async def test_wrong_media_is_refused_politely_and_nothing_is_lost(
    channel_env: object, en_chat: Chat
) -> None:
    chat = en_chat
    await chat.to_photos("Jalan berlubang dalam di depan sekolah")
    await chat.send_sticker()
    assert "sticker is not a photo" in chat.text
    await chat.send_voice()  # kept for the officers; the photo question is asked again
    assert "Voice note received" in chat.text and "Send up to" in chat.text
    await chat.send_document(b"%PDF-1.4 not a photo", "application/pdf")
    assert "not a photo" in chat.text
    await chat.send_photo(png_bytes(seed=2), declared_size=20 * 1024 * 1024)
    assert "too large" in chat.text and "10 MB" in chat.text
    await chat.send_document(png_bytes(seed=3), "image/png")  # a photo sent as a file is fine
    assert "1 photo received" in chat.text
    await chat.tap("Done")
    await chat.tap("Yes, show my name")
    assert "Photos: 1" in chat.text
    await chat.tap("Send report")
    assert len(await stored_reports(channel_env.box)) == 1  # type: ignore[attr-defined]


async def test_three_photos_at_most(en_chat: Chat) -> None:
    await en_chat.to_photos("Jalan berlubang dalam di depan sekolah")
    for seed in range(3):
        await en_chat.send_photo(png_bytes(seed=10 + seed))
    assert "see your name" in en_chat.text  # the third photo moves on by itself


async def test_cancel_discards_and_back_steps_back(channel_env: object, en_chat: Chat) -> None:
    chat = en_chat
    await start_report(chat)
    await chat.say("Jalan berlubang dalam di depan sekolah")
    await chat.tap("Damaged road")
    await chat.say("Tangsi")
    assert "landmark" in chat.text
    await chat.say("kembali")
    assert "Where is the problem" in chat.text
    await chat.tap("Cancel")
    assert "will be deleted. Are you sure?" in chat.text
    await chat.tap("Yes, delete it")
    assert "Cancelled" in chat.text and "What would you like to do?" in chat.text
    assert await stored_reports(channel_env.box) == []  # type: ignore[attr-defined]
    await chat.tap("Make a report")
    assert "unfinished" not in chat.text


async def test_draft_is_offered_later_and_expires_after_48_hours(
    en_chat: Chat, clock: Clock
) -> None:
    chat = en_chat
    await start_report(chat)
    await chat.say("Jalan berlubang dalam di depan sekolah")
    await chat.tap("Damaged road")
    await chat.say("Tangsi")
    await chat.say("menu")
    assert any("Continue my unfinished report" in o for o in chat.options)
    clock.advance(hours=20)
    await chat.tap("Continue my unfinished report")
    assert "landmark" in chat.text
    await chat.say("/menu")
    clock.advance(hours=49)
    await chat.say("halo")
    assert "not completed within 48 hours" in chat.text
    assert not any("Continue my unfinished report" in o for o in chat.options)


async def test_change_one_field_from_the_summary(en_chat: Chat) -> None:
    chat = en_chat
    await chat.file_to_summary("Jalan berlubang dalam di depan sekolah")
    await chat.tap("Change something")
    await chat.tap("Description")
    await chat.say("Jalan amblas sepanjang lima meter")
    assert "Please check your report" in chat.text
    assert "amblas sepanjang lima meter" in chat.text


async def test_other_residents_see_only_the_public_view(channel_env: object) -> None:
    alice = channel_env.chat(chat_id=800_001, language_code="en")  # type: ignore[attr-defined]
    bob = channel_env.chat(chat_id=800_002, language_code="en")  # type: ignore[attr-defined]
    await alice.file_to_summary("Lubang besar dekat rumah Bu Sari nomor 12")
    await alice.tap("Send report")
    ticket = alice.ticket()
    await bob.say("/start")
    await bob.tap("Check a report's status")
    await bob.say(ticket)
    assert ticket in bob.text and "Tangsi" in bob.text
    assert "Bu Sari" not in bob.text and "Budi" not in bob.text
    await bob.tap("Main menu")
    await bob.tap("My reports")
    assert "not filed any reports" in bob.text
    await alice.say("/menu")
    await alice.tap("My reports")
    assert ticket in alice.text


async def test_pungli_is_confidential_by_default(en_chat: Chat) -> None:
    await start_report(en_chat)
    await en_chat.say("Diminta uang tambahan saat mengurus surat")
    await en_chat.pick_category("Extortion")
    await en_chat.say("Setia")
    await en_chat.tap("Skip")
    await en_chat.tap("Skip photos")
    assert "confidential by default" in en_chat.text
    await en_chat.tap("Keep my name hidden")
    assert "hidden from the agency" in en_chat.text


async def test_emergency_shows_112_first(en_chat: Chat) -> None:
    await start_report(en_chat)
    assert "112" in en_chat.text
    await en_chat.tap("Emergency")
    assert "112" in en_chat.text and "113" in en_chat.text
    await en_chat.tap("Continue the report")
    assert "Describe the problem" in en_chat.text


async def test_wrong_choice_repeats_the_question(en_chat: Chat) -> None:
    await start_report(en_chat)
    await en_chat.say("Sampah tidak diangkut sudah seminggu")
    await en_chat.say("99")
    assert "choose one of the categories" in en_chat.text
    await en_chat.say("")
    await en_chat.tap("Uncollected garbage")
    assert "Where is the problem" in en_chat.text


async def test_language_choice_is_remembered(en_chat: Chat) -> None:
    await en_chat.say("/start")
    await en_chat.tap("Language")
    await en_chat.tap("Bahasa Indonesia")
    await en_chat.say("menu")
    assert "What would you like to do?" not in en_chat.text
    assert any("laporan" in o.lower() for o in en_chat.options)


async def test_indonesian_is_the_default(channel_env: object) -> None:
    chat = channel_env.chat(language_code="id")  # type: ignore[attr-defined]
    await chat.say("/start")
    assert "Pemerintah Kota Binjai" in chat.text or "Kota Binjai" in chat.text
    assert "Buat laporan" in " ".join(chat.options)


async def _store_as_before(env: object, chat: Chat, data: dict[str, Any], *,
                           flow: str | None = None, state: str | None = None) -> None:
    """Put the chat's conversation in the database as an earlier version stored it."""
    async with env.box.db.session() as session:  # type: ignore[attr-defined]
        identity = (await session.exec(select(Identity).where(
            Identity.channel == chat.channel, Identity.user_key == chat.user_key))).one()
        conversation = (await session.exec(select(Conversation).where(
            Conversation.identity_id == identity.id))).one()
        conversation.data = data
        conversation.flow = flow or conversation.flow
        conversation.state = state or conversation.state
        session.add(conversation)


async def test_a_draft_saved_before_typed_state_is_continued_and_sent(
    channel_env: object, en_chat: Chat, clock: Clock
) -> None:
    """A conversation stored by an earlier version (the draft as a plain dict) still loads."""
    chat = en_chat
    await chat.say("/start")
    old_draft = {
        "photos": [], "saved_at": clock.now.isoformat(), "category": "jalan_rusak",
        "kecamatan": "12.75.02", "kelurahan": "12.75.02.1005", "similar_seen": True,
        "description": "Jalan berlubang besar di depan sekolah, sudah dua minggu",
        "state": "identity",
    }
    await _store_as_before(channel_env, chat, {"draft": old_draft,
                                               "_stack": ["category", "place"]})
    await chat.say("menu")
    await chat.tap("Continue my unfinished report")
    assert "see your name" in chat.text
    await chat.tap("Yes, show my name")
    assert "Please check your report" in chat.text
    assert "Tangsi, Binjai Kota" in chat.text
    assert "Jalan berlubang besar" in chat.text
    await chat.tap("Send report")
    assert chat.ticket().startswith("BJI-2026-")


async def test_a_conversation_with_the_old_router_keys_resumes_mid_flow(
    channel_env: object, en_chat: Chat, clock: Clock
) -> None:
    """A resident mid-report whose conversation an earlier version stored, with the options
    last shown and the way back as the raw keys "_options" and "_stack": a typed number still
    means the option it numbered, and Back still retraces the steps."""
    chat = en_chat
    await chat.say("/start")
    draft = {
        "photos": [], "saved_at": clock.now.isoformat(), "category": "jalan_rusak",
        "kecamatan": "12.75.02", "kelurahan": "12.75.02.1005", "similar_seen": True,
        "description": "Jalan berlubang besar di depan sekolah, sudah dua minggu",
    }
    await _store_as_before(channel_env, chat, {
        "draft": draft,
        "_options": [["skip", "Skip"], ["nav:back", "⬅️ Back"], ["nav:cancel", "✖️ Cancel"]],
        "_stack": ["description", "category", "place"],
    }, flow="report", state="address")
    await chat.say("2")  # "⬅️ Back" in the list shown before
    assert "Where is the problem?" in chat.text
    stored = (await conversation_of(channel_env.box, chat)).data  # type: ignore[attr-defined]
    assert "_options" not in stored and "_stack" not in stored
    assert stored["nav"]["stack"] == ["description", "category"]
    assert ["nav:back", "⬅️ Back"] in stored["nav"]["options"]
    await chat.say("back")
    assert "Which of these fits the problem best?" in chat.text
    await chat.say("back")
    assert "Describe the problem" in chat.text
    await chat.say("back")  # nothing left to go back to: the menu
    assert any("Continue my unfinished report" in o for o in chat.options)


async def test_starting_a_new_report_over_a_draft_asks_for_the_description_first(
        channel_env: object, en_chat: Chat) -> None:
    chat = en_chat
    await start_report(chat)
    await chat.say("Jalan berlubang dalam di depan sekolah")
    await chat.tap("Damaged road")
    await chat.say("menu")
    await chat.tap("Make a report")
    await chat.tap("Start a new report")
    assert "will be deleted. Are you sure?" in chat.text  # the old one had words in it
    await chat.say("ya")
    assert "Describe the problem" in chat.text
    await chat.say("Sampah tidak diangkut sudah seminggu di gang kami")
    assert chat.options[0] == "Uncollected garbage"
    await chat.tap("Uncollected garbage")
    await chat.place_to_summary()
    assert "Sampah tidak diangkut" in chat.text
    await chat.tap("Send report")
    [report] = await stored_reports(channel_env.box)  # type: ignore[attr-defined]
    assert report.category_key == "sampah" and report.description.startswith("Sampah")


async def test_other_leads_to_every_category_in_short_screens(en_chat: Chat) -> None:
    await start_report(en_chat)
    await en_chat.say("Anjing liar berkeliaran di gang kami setiap malam")
    assert "Other ›" in en_chat.options
    await en_chat.tap("Other ›")
    assert "Choose the category" in en_chat.text
    nav = {"Other ›", "⬅️ Back", "✖️ Cancel"}
    first = [o for o in en_chat.options if o not in nav]
    assert 1 <= len(first) <= 8, en_chat.options
    await en_chat.tap("Other ›")
    second = [o for o in en_chat.options if o not in nav]
    assert second and not set(first) & set(second)
    await en_chat.pick_category("Other")
    assert "Where is the problem" in en_chat.text
