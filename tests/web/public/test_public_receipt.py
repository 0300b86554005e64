"""The resident's receipt in chat links to the report's public page when the server has a
public address (EMAS_PUBLIC_URL); a local server's address would reach no one."""

from __future__ import annotations

from conftest import TelegramEnv, TerminalEnv


async def test_the_receipt_links_to_the_public_page(telegram: TelegramEnv) -> None:
    chat = telegram.chat(chat_id=700_501, language_code="en")
    await chat.file_to_summary("Lubang besar dekat sekolah")
    await chat.tap("Send report")
    ticket = chat.ticket()
    link = f"https://emas.binjaikota.test/t/{ticket}"
    assert f"Follow it online: {link}" in chat.text
    page = await telegram.client.get(link.removeprefix("https://emas.binjaikota.test"))  # type: ignore[attr-defined]
    assert page.status_code == 200 and ticket in page.text


async def test_the_receipt_in_indonesian_says_where_to_follow_it(telegram: TelegramEnv) -> None:
    chat = telegram.chat(chat_id=700_502, language_code="id")
    await chat.say("/start")
    await chat.tap("Buat laporan")
    await chat.say("Lampu jalan mati di depan masjid")
    await chat.pick_category("Lampu jalan")
    await chat.say("Tangsi")
    await chat.tap("Lewati")
    await chat.tap("Lewati foto")
    await chat.tap("Ya, tampilkan nama saya")
    await chat.tap("Kirim laporan")
    assert f"Pantau perkembangannya secara daring: https://emas.binjaikota.test/t/{chat.ticket()}" \
        in chat.text


async def test_without_a_public_address_the_receipt_has_no_link(container) -> None:
    chat = TerminalEnv(container).chat(language_code="en")
    await chat.file_to_summary("Lubang besar dekat sekolah")
    await chat.tap("Send report")
    assert chat.ticket() and "/t/" not in chat.text and "Follow it online" not in chat.text
