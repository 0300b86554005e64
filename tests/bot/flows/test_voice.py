"""A voice note with a report: kept for the officers to hear (never shown to the public), the
resident asked for a few written words too, on every channel; the agency's Telegram group
gets it played under the report."""

from __future__ import annotations

from typing import Any

from sqlmodel import select

from chat import VOICE_NOTE, Chat
from storage.models import Report, ReportVoice


async def test_a_voice_note_first_then_a_few_words(channel_env: Any) -> None:
    chat: Chat = channel_env.chat(language_code="id")
    await chat.say("/start")
    await chat.say("1")  # Buat laporan
    await chat.send_voice()
    assert "Pesan suara diterima" in chat.text
    assert "tuliskan juga dalam beberapa kata" in chat.text
    await chat.say("Lampu jalan mati di depan masjid sejak minggu lalu")
    await chat.say("1")
    await chat.say("Tangsi")
    await chat.say("lewati")
    await chat.say("lewati")
    await chat.say("1")
    assert "Pesan suara: ada (hanya untuk petugas)" in chat.text
    await chat.say("1")
    chat.ticket()
    box = channel_env.box
    async with box.db.reader() as session:
        report, = (await session.exec(select(Report))).all()
        voice, = (await session.exec(select(ReportVoice))).all()
    assert voice.report_id == report.id and voice.content_type == "audio/ogg"
    assert (box.settings.media_dir / voice.path).read_bytes() == VOICE_NOTE


async def test_kominfo_hears_the_voice_note_under_the_report(telegram: Any, clock: Any) -> None:
    from agencies_kit import link, staff
    from storage.types import utcnow

    kominfo_group, rina = -1001000000009, 5_550_009

    env, box = telegram, telegram.box
    clock.now = utcnow()  # link codes come from the command line, on the real clock
    await staff(box, str(rina), role="kominfo", name="Rina", channel="telegram")
    await link(env, "diskominfo", kominfo_group, rina)
    chat: Chat = env.chat(language_code="id")
    await chat.say("/start")
    await chat.say("1")
    await chat.send_voice()
    await chat.say("Jalan berlubang dalam di depan sekolah dasar")
    await chat.say("1")
    await chat.say("Tangsi")
    for line in ("lewati", "lewati", "1", "1"):
        await chat.say(line)
    ticket = chat.ticket()
    sent = env.double.messages_to(kominfo_group)
    triage = next(c for c in sent if ticket in (c.plain_text or ""))
    assert "pesan suara" in (triage.plain_text or "")
    assert sent[-1].method == "sendVoice"  # played right under the report
    detail = await _detail(box, ticket)
    assert detail["voice_notes"] == 1 and detail["photos"] == 0


async def _detail(box: Any, ticket: str) -> dict[str, Any]:
    from reports.service import report_detail
    from storage import repo

    async with box.db.reader() as session:
        report = await repo.get_report_by_ticket(session=session, ticket=ticket)
        assert report is not None
        return await report_detail(session=session, city=box.city, report=report)
