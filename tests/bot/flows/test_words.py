"""Residents who write like people: stray input at the menu, cancelling with care, tickets
typed loosely, descriptions too short to act on, commands out of place. Every channel."""

from __future__ import annotations

from typing import Any

import pytest

from chat import Chat, stored_reports
from factories import jpeg_bytes


def _menu_labels(chat: Chat) -> list[str]:
    return [o for o in chat.options if o]


async def test_the_main_menu_keeps_its_numbering_when_a_draft_exists(en_chat: Chat) -> None:
    await en_chat.say("/start")
    before = list(en_chat.options)
    await en_chat.tap("Make a report")
    await en_chat.say("Lampu jalan mati sudah seminggu di gang kami")
    await en_chat.say("menu")
    assert any("Continue my unfinished report" in o for o in en_chat.options)
    # Every item the resident learned keeps its place; the draft's entry comes after them.
    assert en_chat.options[:len(before)] == before
    await en_chat.tap("Continue my unfinished report")
    assert "fits the problem best" in en_chat.text


@pytest.mark.parametrize("stray", ["42", "👍", "...", "satu"])
async def test_stray_input_at_the_menu_gets_the_menu_again(
        channel_env: Any, en_chat: Chat, stray: str) -> None:
    await en_chat.say("/start")
    menu = list(en_chat.options)
    await en_chat.say(stray)
    assert "What would you like to do?" in en_chat.text
    assert en_chat.options == menu
    assert "do not have an answer" not in en_chat.text  # nothing offered to staff
    assert "Step" not in en_chat.text and "article" not in en_chat.text.lower()


async def test_a_sticker_at_the_menu_gets_the_menu_again(en_chat: Chat) -> None:
    await en_chat.say("/start")
    menu = list(en_chat.options)
    await en_chat.send_sticker()
    assert "What would you like to do?" in en_chat.text and en_chat.options == menu


async def test_a_real_question_at_the_menu_still_reaches_the_faq(en_chat: Chat) -> None:
    await en_chat.say("/start")
    await en_chat.say("gimana cara bayar pbb online?")
    assert "PBB" in en_chat.text


@pytest.mark.parametrize("typed", ["000001", "BJI-2026-1", "bji 2026 1", "#1"])
async def test_a_loosely_typed_ticket_is_found(en_chat: Chat, typed: str) -> None:
    await en_chat.file_to_summary("Jalan berlubang dalam di depan sekolah")
    await en_chat.tap("Send report")
    ticket = en_chat.ticket()
    assert ticket.endswith("-000001")
    await en_chat.say("menu")
    await en_chat.tap("Check a report")
    await en_chat.say(typed)
    assert ticket in en_chat.text and "could not find" not in en_chat.text


async def test_cancel_asks_before_a_draft_with_content_is_lost(
        channel_env: Any, en_chat: Chat) -> None:
    await en_chat.to_photos("Jalan berlubang dalam di depan sekolah")
    await en_chat.say("batal")
    assert "The report you have not sent will be deleted. Are you sure?" in en_chat.text
    await en_chat.say("tidak")  # keeps the draft where it was
    assert "Send up to" in en_chat.text
    await en_chat.tap("Skip photos")
    await en_chat.tap("Yes, show my name")
    await en_chat.say("cancel")
    await en_chat.tap("Yes, delete it")
    assert "Cancelled. Nothing was sent." in en_chat.text
    assert not any("Continue my unfinished report" in o for o in en_chat.options)
    assert await stored_reports(channel_env.box) == []


async def test_cancel_before_anything_was_written_needs_no_confirmation(en_chat: Chat) -> None:
    await en_chat.say("/start")
    await en_chat.tap("Make a report")
    await en_chat.say("batal")
    assert "Cancelled. Nothing was sent." in en_chat.text
    assert "Are you sure" not in en_chat.text


@pytest.mark.parametrize("short", ["😡😡😡", "rusak", "jalan"])
async def test_a_one_word_description_is_asked_for_more_then_accepted(
        channel_env: Any, en_chat: Chat, short: str) -> None:
    await en_chat.say("/start")
    await en_chat.tap("Make a report")
    await en_chat.say(short)
    assert "a little more" in en_chat.text and "fits the problem best" not in en_chat.text
    await en_chat.say(short)  # the second try is accepted as it is
    assert "fits the problem best" in en_chat.text


async def test_a_one_word_address_is_asked_for_more_then_accepted(
        channel_env: Any, en_chat: Chat) -> None:
    await en_chat.say("/start")
    await en_chat.tap("Make a report")
    await en_chat.say("Jalan berlubang dalam di depan sekolah")
    await en_chat.pick_category("Damaged road")
    await en_chat.say("Tangsi")
    await en_chat.say("sini")
    assert "a little more" in en_chat.text
    await en_chat.say("sini")
    assert "Send up to" in en_chat.text
    await en_chat.tap("Skip photos")
    await en_chat.tap("Yes, show my name")
    await en_chat.tap("Send report")
    [report] = await stored_reports(channel_env.box)
    assert report.address == "sini"


@pytest.mark.parametrize("command", ["/foto", "/lokasi"])
async def test_a_command_out_of_place_says_what_can_be_done_now(
        en_chat: Chat, command: str) -> None:
    await en_chat.say("/start")
    await en_chat.say(command)
    assert "do not know that command" not in en_chat.text
    assert "Make a report" in en_chat.text  # how to get to where photos/locations are taken
    await en_chat.to_photos("Jalan berlubang dalam di depan sekolah")
    await en_chat.say(command)
    assert "Send up to" in en_chat.text or "send a photo" in en_chat.text.lower()


async def test_a_fourth_photo_is_refused_clearly(en_chat: Chat) -> None:
    await en_chat.to_photos("Jalan berlubang dalam di depan sekolah")
    for _ in range(3):
        await en_chat.send_photo(jpeg_bytes())
    await en_chat.send_photo(jpeg_bytes())
    assert "At most 3 photos; photo 4 was not kept." in en_chat.text


async def test_a_photo_first_then_the_words(channel_env: Any, en_chat: Chat) -> None:
    await en_chat.say("/start")
    await en_chat.tap("Make a report")
    await en_chat.send_photo(jpeg_bytes())
    assert "Photo received (1 of 3)" in en_chat.text
    assert "tell us in a few words" in en_chat.text
    await en_chat.say("Jalan berlubang dalam di depan sekolah")
    await en_chat.pick_category("Damaged road")
    await en_chat.say("Tangsi")
    await en_chat.tap("Skip")
    assert "1 photo received" in en_chat.text
    await en_chat.tap("Done")
    await en_chat.tap("Yes, show my name")
    assert "Photos: 1" in en_chat.text
    await en_chat.tap("Send report")
    [report] = await stored_reports(channel_env.box)
    assert report.description == "Jalan berlubang dalam di depan sekolah"


async def test_back_hours_later_the_resident_is_asked_before_anything_is_filled_in(
        channel_env: Any, en_chat: Chat, clock: Any) -> None:
    await en_chat.say("/start")
    await en_chat.tap("Make a report")
    await en_chat.say("Jalan berlubang dalam di depan sekolah")
    await en_chat.pick_category("Damaged road")
    await en_chat.say("Tangsi")
    assert "landmark" in en_chat.text
    clock.advance(hours=24)
    await en_chat.say("halo")  # not the landmark
    assert "You have an unfinished report" in en_chat.text
    assert "Continue the unfinished report?" in en_chat.text
    await en_chat.say("ya")
    assert "landmark" in en_chat.text
    await en_chat.tap("Skip")
    await en_chat.tap("Skip photos")
    await en_chat.tap("Yes, show my name")
    await en_chat.tap("Send report")
    [report] = await stored_reports(channel_env.box)
    assert report.address is None and report.kelurahan_code == "12.75.02.1005"


async def test_changing_the_photos_loses_none_by_one_tap(channel_env: Any, en_chat: Chat) -> None:
    await en_chat.to_photos("Jalan berlubang dalam di depan sekolah")
    await en_chat.send_photo(jpeg_bytes())
    await en_chat.tap("Done")
    await en_chat.tap("Yes, show my name")
    await en_chat.tap("Change something")
    await en_chat.tap("Photos")
    assert "1 photo received" in en_chat.text
    await en_chat.say("kembali")  # changed their mind: the photo stays
    await en_chat.say("kembali")
    assert "Photos: 1" in en_chat.text
    await en_chat.tap("Change something")
    await en_chat.tap("Photos")
    await en_chat.tap("Remove the photos")
    assert "photos were removed" in en_chat.text
    await en_chat.tap("Skip photos")
    assert "Photos: 0" in en_chat.text


async def test_a_number_word_in_a_list_of_articles_opens_none(en_chat: Chat) -> None:
    await en_chat.say("/start")
    await en_chat.tap("Ask about the city's apps")
    topics = list(en_chat.options)
    await en_chat.say("satu")
    assert en_chat.options != topics or "What would you like to do?" in en_chat.text
    assert "Was this helpful" not in en_chat.text
