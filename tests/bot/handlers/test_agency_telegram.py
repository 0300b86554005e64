"""An agency works a report from its Telegram group, end to end through the Bot API double:
Kominfo verifies it, an officer takes it and resolves it with a photo, the resident is told at
each step and reopens it, and an overdue report escalates once."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlmodel import select

from agencies_kit import flush_outbox, link, post, reload, run_deadlines, staff
from conftest import Clock, TelegramEnv
from doubles.telegram_updates import callback_update, group_text_update, photo_update
from factories import jpeg_bytes
from storage import repo_agencies, repo_console
from storage.models import Report
from storage.types import utcnow

WIB = ZoneInfo("Asia/Jakarta")
KOMINFO_GROUP = -1001000000009
PUTR_GROUP = -1001000000001
RINA, ANDI, KEPALA, STRANGER = 5_550_009, 5_550_001, 5_550_002, 5_550_077


def buttons(env: TelegramEnv, chat_id: int) -> tuple[int, dict[str, str]]:
    """The latest message with buttons in a chat: its id and {label: callback data}."""
    for call in reversed(env.double.messages_to(chat_id)):
        markup = call.reply_markup or {}
        if "inline_keyboard" in markup:
            found = {b["text"]: b["callback_data"] for row in markup["inline_keyboard"]
                     for b in row if "callback_data" in b}
            return int(call.result["message_id"]), found
    raise AssertionError(f"no buttons in {chat_id}")


async def press(env: TelegramEnv, chat_id: int, user_id: int, label: str,
                language: str = "id") -> str:
    message_id, found = buttons(env, chat_id)
    data = next(d for text, d in found.items() if label in text)
    update = callback_update(chat_id, data, message_id, user_id=user_id,
                             language_code=language)
    await post(env, update)
    return str(update["callback_query"]["id"])


async def reply_in_group(env: TelegramEnv, chat_id: int, user_id: int, text: str) -> None:
    update = group_text_update(chat_id, text, user_id=user_id, mention_bot=False)
    bot_message = env.double.messages_to(chat_id)[-1]
    update["message"]["reply_to_message"] = {
        "message_id": bot_message.result["message_id"], "date": 0,
        "chat": update["message"]["chat"],
        "from": {"id": 123456, "is_bot": True, "first_name": "e-Masyarakat"},
        "text": "?"}
    await post(env, update)


async def test_an_officer_works_a_report_from_the_agency_group(
    telegram: TelegramEnv, clock: Clock
) -> None:
    env, box, double = telegram, telegram.box, telegram.double
    clock.now = utcnow()  # link codes come from the command line, on the real clock
    await staff(box, str(RINA), role="kominfo", name="Rina", channel="telegram")
    await staff(box, str(ANDI), role="officer", agency="putr", name="Andi", channel="telegram")
    await staff(box, str(KEPALA), role="head", agency="putr", name="Pak Kepala",
                channel="telegram")
    await link(env, "diskominfo", KOMINFO_GROUP, RINA)
    await link(env, "putr", PUTR_GROUP, ANDI)

    # A resident files a road report with a photo, in English.
    resident = env.chat(chat_id=700_001, language_code="en")
    ticket = await resident.file_at_kartini(
        "Jalan berlubang besar, motor sering jatuh di sini", "Damaged road",
        "Jl. Sudirman, depan SD Negeri 5", photo_seed=3)
    assert "Kominfo verifies it within 3 working days" in resident.text

    # Kominfo's group gets it with the photo and the triage buttons; a stranger cannot verify.
    triage = double.messages_to(KOMINFO_GROUP)[-1]
    assert triage.method == "sendPhoto" and ticket in (triage.plain_text or "")
    assert "maps.google.com/?q=3.603960,98.486020" in (triage.plain_text or "")
    query = await press(env, KOMINFO_GROUP, STRANGER, "Verifikasi")
    answered = double.answered_callbacks()[query]
    assert answered.get("show_alert") and "Hanya petugas" in answered.get("text", "")
    async with box.db.reader() as session:
        report = (await session.exec(select(Report).where(Report.ticket == ticket))).one()
    assert report.status == "submitted"

    await press(env, KOMINFO_GROUP, RINA, "Verifikasi")
    assert (await reload(box, report.id or 0)).status == "assigned"
    assert "verified and passed to Dinas Pekerjaan Umum" in (double.last_text(700_001) or "")

    # The agency's group gets the report: photo, map, deadline, buttons.
    agency_post = double.messages_to(PUTR_GROUP)[-1]
    assert agency_post.method == "sendPhoto"
    assert f"Laporan baru untuk Dinas PUTR: {ticket}" in (agency_post.plain_text or "")
    assert "Batas waktu:" in (agency_post.plain_text or "")

    await press(env, PUTR_GROUP, ANDI, "Ambil")
    assert f"Andi menangani laporan {ticket}" in (double.last_text(PUTR_GROUP) or "")

    await press(env, PUTR_GROUP, ANDI, "Selesai")
    assert "Andi, balas pesan ini" in (double.last_text(PUTR_GROUP) or "")
    await reply_in_group(env, PUTR_GROUP, ANDI, "Lubang sudah ditambal dengan aspal")
    assert "foto hasil pekerjaan" in (double.last_text(PUTR_GROUP) or "")
    double.add_file("AgAC-after-1", jpeg_bytes(4096))
    photo = photo_update(PUTR_GROUP, "AgAC-after-1", 4096, user_id=ANDI)
    await post(env, photo)
    assert f"Laporan {ticket} diselesaikan (Andi)" in (double.last_text(PUTR_GROUP) or "")
    # Every step from the group chats is in the audit log, with who did it.
    async with box.db.reader() as session:
        audit = list(reversed(await repo_console.list_audit(session=session, target=ticket)))
        everyone = {s.id: s.name for s in await repo_agencies.list_staff(session=session)}
    assert [(a.action, a.source, everyone[a.staff_id or 0]) for a in audit] == [
        ("report.assigned", "chat", "Rina"), ("report.take", "chat", "Andi"),
        ("report.resolved", "chat", "Andi")]

    # The resident sees the after-photo and is asked whether it is fixed.
    told = double.messages_to(700_001)[-1]
    assert told.method == "sendPhoto"
    assert "reports that your report" in (told.plain_text or "")
    assert "Lubang sudah ditambal dengan aspal" in (told.plain_text or "")
    _mid, choices = buttons(env, 700_001)
    assert set(choices) == {"👍 Yes, it is fixed", "👎 No, not fixed"}

    await press(env, 700_001, 700_001, "No, not fixed", language="en")
    assert (await reload(box, report.id or 0)).status == "reopened"
    assert "How well did the agency handle it?" in (double.last_text(700_001) or "")
    assert "Dibuka kembali dan dieskalasi" in (double.last_text(PUTR_GROUP) or "")
    assert "Dibuka kembali dan dieskalasi" in (double.last_text(KEPALA) or "")
    assert "Dibuka kembali dan dieskalasi" in (double.last_text(KOMINFO_GROUP) or "")

    # Nobody answers the reopened report: it escalates once, to the head and Kominfo.
    reopened_at = (await reload(box, report.id or 0)).updated_at
    late = datetime.combine(reopened_at.astimezone(WIB).date(), datetime.min.time(),
                            tzinfo=WIB)
    late = late.replace(year=late.year + 1)  # far past any deadline
    double.clear()
    first = await run_deadlines(box, late)
    second = await run_deadlines(box, late)
    assert (first.escalations, second.escalations) == (1, 0)
    await flush_outbox(box)
    assert await flush_outbox(box) == 0
    heads = [t for t in double.texts_to(KEPALA) if "Terlambat" in t]
    assert len(heads) == 1 and ticket in heads[0]
