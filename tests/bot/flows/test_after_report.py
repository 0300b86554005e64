"""After the report: the status screen says what happened when (WIB, as people write dates) and
who acts next by when; a resident who types "belum" after a resolution reopens the report, on
every channel, without ever tapping a button."""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlmodel import select

from agencies_kit import actions, reload
from chat import Chat
from storage import repo
from storage.models.agency import Rating


async def _file(chat: Chat) -> str:
    await chat.say("/start")
    await chat.say("1")  # Buat laporan, typed
    await chat.say("Jalan berlubang dalam di depan sekolah, sudah dua minggu")
    await chat.say("1")  # the first category proposed
    await chat.say("Tangsi")
    await chat.say("lewati")
    await chat.say("lewati")
    await chat.say("1")  # name shown
    await chat.say("1")  # Kirim laporan
    return chat.ticket()


async def _assign_and_resolve(env: Any, ticket: str, *, resolve: bool = True) -> int:
    box = env.box
    async with box.db.session() as session:
        report = await repo.get_report_by_ticket(session=session, ticket=ticket)
        assert report is not None
        await actions(box, session).assign(report, "putr", actor_id=None, verifying=True)
        if resolve:
            await actions(box, session).resolve(report, actor_id=None, note="Sudah ditambal")
        return report.id or 0


async def test_the_status_shows_history_in_wib_and_who_acts_next(
        channel_env: Any, chat: Chat, clock: Any) -> None:
    ticket = await _file(chat)
    clock.advance(hours=5, minutes=5)  # 14.05 WIB
    await _assign_and_resolve(channel_env, ticket, resolve=False)
    await chat.say("menu")
    await chat.say("2")  # Cek status laporan
    await chat.say(ticket)
    text = chat.text
    assert "Senin, 7 Des 2026 09.00 WIB" in text and "Senin, 7 Des 2026 14.05 WIB" in text
    assert "UTC" not in text and ":00:00" not in text
    # Assigned on Monday: the agency has five working days, to Monday the 14th.
    assert re.search(r"Selanjutnya: \S.* menanggapi paling lambat Senin, 14 Des 2026 "
                     r"\(sisa 5 hari kerja\)", text), text


async def test_typing_belum_after_a_resolution_reopens_the_report(
        channel_env: Any, chat: Chat) -> None:
    ticket = await _file(chat)
    report_id = await _assign_and_resolve(channel_env, ticket)
    await chat.say("masih rusak")
    assert f"Laporan {ticket} telah dibuka kembali" in chat.text
    assert (await reload(channel_env.box, report_id)).status == "reopened"
    await chat.say("4")  # four stars, typed
    await chat.say("Tolong ditambal yang benar")
    assert "Terima kasih atas penilaian" in chat.text
    async with channel_env.box.db.reader() as session:
        rating, = (await session.exec(select(Rating))).all()
    assert (rating.fixed, rating.stars, rating.comment) == (False, 4, "Tolong ditambal yang benar")


async def test_the_status_of_a_resolved_report_offers_not_resolved_yet(
        channel_env: Any, chat: Chat) -> None:
    ticket = await _file(chat)
    report_id = await _assign_and_resolve(channel_env, ticket)
    await chat.say("menu")
    await chat.say("2")
    await chat.say(ticket)
    assert any("Belum teratasi" in o for o in chat.options)
    await chat.tap("Belum teratasi")
    assert (await reload(channel_env.box, report_id)).status == "reopened"


async def test_belum_with_nothing_resolved_is_not_a_verdict(
        channel_env: Any, chat: Chat) -> None:
    ticket = await _file(chat)
    report_id = await _assign_and_resolve(channel_env, ticket, resolve=False)
    await chat.say("belum")
    assert (await reload(channel_env.box, report_id)).status == "assigned"
    assert "dibuka kembali" not in chat.text


async def test_one_form_of_address_and_channel_words_through_a_whole_report(
        channel_env: Any, chat: Chat) -> None:
    seen: list[str] = []
    for line in ["/start", "1", "Lampu jalan mati sudah seminggu di depan masjid", "1",
                 "Tangsi", "lewati", "lewati", "1", "1", "menu", "2"]:
        await chat.say(line)
        seen.append(chat.text)
    everything = "\n".join(seen)
    assert "Bapak/Ibu" in everything and not re.search(r"\bAnda\b", everything)
    assert not re.search(r"\bketuk\b", everything, re.IGNORECASE)
    assert everything.count("Selamat datang") == 1  # one greeting
    if chat.channel == "whatsapp":
        assert "Balas dengan angka" in everything


@pytest.mark.parametrize(("typed", "status"), [("ya", "closed"), ("gak", "reopened")])
async def test_a_plain_yes_or_no_answers_is_it_fixed(
        channel_env: Any, chat: Chat, typed: str, status: str) -> None:
    ticket = await _file(chat)
    report_id = await _assign_and_resolve(channel_env, ticket)
    await chat.say(typed)
    assert ticket in chat.text
    assert (await reload(channel_env.box, report_id)).status == status
