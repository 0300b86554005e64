"""Residents and staff hear about each move of a report, in their language, on their channel."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path

from agencies_kit import (
    actions,
    capture,
    file_report,
    flush_outbox,
    person,
    press,
    send,
    staff,
)
from bot.app import Container
from bot.messages import Kind, Media
from bot.settings import Settings
from cli_kit import ainvoke
from conftest import Clock
from factories import png_bytes
from storage import repo_agencies
from storage.models import Identity
from storage.types import utcnow
from whatsapp_fixtures import WhatsAppEnv

GROUP = "-1001000000001"


async def _supported_report(box: Container) -> int:
    """Reporter on Telegram in English; one supporter on the terminal in Indonesian; one who
    said STOP."""
    report = await file_report(box, user="700001", channel="telegram", locale="en")
    fan = await person(box, "warga-2", locale="id")
    quiet = await person(box, "warga-3", locale="id")
    async with box.db.session() as session:
        found = await repo_agencies.get_report(session=session, report_id=report.id or 0)
        assert found is not None
        for who in (fan, quiet):
            assert await actions(box, session).support(found, identity_id=who.id)
        identity = await session.get(Identity, quiet.id)
        assert identity is not None
        identity.opted_out = True
        session.add(identity)
    return report.id or 0


async def _assigned_to_andi(box: Container) -> int:
    """The supported report, passed to PUTR, where Andi (on Telegram) is an officer."""
    report_id = await _supported_report(box)
    await staff(box, "5550001", role="officer", agency="putr", name="Andi", channel="telegram")
    async with box.db.session() as session:
        report = await repo_agencies.get_report(session=session, report_id=report_id)
        assert report is not None
        await actions(box, session).assign(report, "putr", actor_id=None, verifying=True)
    return report_id


async def test_a_move_from_the_command_line_reaches_reporter_and_supporters_via_the_outbox(
    container: Container, settings: Settings, clock: Clock
) -> None:
    clock.now = utcnow()  # the command line runs on the real clock
    box = container
    report_id = await _supported_report(box)
    await staff(box, "+6281200000001", role="officer", agency="putr", name="Andi",
                channel="whatsapp")
    async with box.db.reader() as session:
        report = await repo_agencies.get_report(session=session, report_id=report_id)
        assert report is not None
    result = await ainvoke(settings, "report", "set-status", report.ticket, "verified")
    assert result.exit_code == 0, result.output
    capture(box)
    await flush_outbox(box)  # the resident hears it was verified
    result = await ainvoke(settings, "report", "assign", report.ticket, "putr")
    assert result.exit_code == 0, result.output

    sent = capture(box)
    assert await flush_outbox(box) == 3
    to_reporter, = sent.to("700001")
    assert (to_reporter.channel, to_reporter.locale) == ("telegram", "en")
    assert to_reporter.reply.text.startswith(f"Your report {report.ticket} has been verified "
                                             "and passed to Dinas Pekerjaan Umum")
    assert "Deadline:" in to_reporter.reply.text and "5 working days left" in to_reporter.reply.text
    assert to_reporter.reply.kind == "report_status"
    assert to_reporter.reply.template_vars == {
        "1": report.ticket, "2": "Passed to the agency",
        "3": "Dinas Pekerjaan Umum dan Tata Ruang"}
    to_fan, = sent.to("warga-2")
    assert (to_fan.channel, to_fan.locale) == ("terminal", "id")
    assert to_fan.reply.text.startswith(f"Laporan {report.ticket} yang Bapak/Ibu dukung telah "
                                        "diverifikasi dan diteruskan ke Dinas Pekerjaan Umum")
    assert sent.to("warga-3") == []  # said STOP
    to_officer, = sent.to("+6281200000001")
    assert to_officer.channel == "whatsapp" and to_officer.reply.kind == "staff_alert"
    assert "Laporan baru untuk Dinas PUTR" in to_officer.reply.text
    assert "st:take:" in to_officer.reply.options[0].id

    # Sent once; the text is not kept after sending.
    assert await flush_outbox(box) == 0
    async with box.db.reader() as session:
        rows = await repo_agencies.list_notifications(session=session)
    assert {r.status for r in rows} == {"sent"} and all(r.payload == {} for r in rows)


async def test_a_notification_for_a_channel_that_is_not_running_is_marked_failed(
    container: Container, clock: Clock
) -> None:
    box = container
    report_id = await _supported_report(box)
    async with box.db.session() as session:
        report = await repo_agencies.get_report(session=session, report_id=report_id)
        assert report is not None
        outcome = await actions(box, session).assign(report, "dlh", actor_id=None, verifying=True)
        await box.notice_outbox(session, outcome.notices, clock())
    sent = capture(box, "terminal")  # no Telegram sender in this process
    assert await flush_outbox(box) == 1
    async with box.db.reader() as session:
        rows = await repo_agencies.list_notifications(session=session)
    assert sorted(r.status for r in rows) == ["failed", "sent"]
    assert [o.to for o in sent.items] == ["warga-2"]


async def test_staff_acting_in_chat_tell_the_resident_at_once(
    container: Container, clock: Clock
) -> None:
    box = container
    report_id = await _assigned_to_andi(box)

    out = await press(box, "5550001", f"st:prog:{report_id}", channel="telegram", group=GROUP)
    by_target = {o.to: o for o in out}
    assert "in progress (Andi)" in by_target[GROUP].reply.text
    assert by_target["700001"].channel == "telegram" and by_target["700001"].locale == "en"
    assert "Dinas Pekerjaan Umum dan Tata Ruang is now working on your report" in \
        by_target["700001"].reply.text
    assert "Dinas Pekerjaan Umum dan Tata Ruang sedang menangani laporan" in \
        by_target["warga-2"].reply.text
    assert "warga-3" not in by_target


async def test_resolution_reaches_the_reporter_with_the_photo_and_the_question(
    container: Container, clock: Clock
) -> None:
    box = container
    report_id = await _assigned_to_andi(box)

    out = await press(box, "5550001", f"st:res:{report_id}", channel="telegram", group=GROUP)
    assert "Andi, reply to this message" in out[0].reply.text and out[0].to == GROUP
    out = await send(box, "5550001", "Lubang sudah ditambal dengan aspal", channel="telegram",
                     group=GROUP)
    assert "photo of the result" in out[0].reply.text

    async def fetch() -> bytes:
        return png_bytes(seed=9)

    photo = Media(kind=Kind.PHOTO, content_type="image/png", size=100, fetch=fetch)
    out = await send(box, "5550001", channel="telegram", group=GROUP, media=[photo])
    by_target = {o.to: o for o in out}
    assert f"Report {(await _ticket(box, report_id))} resolved (Andi)" in \
        by_target[GROUP].reply.text
    to_reporter = by_target["700001"].reply
    assert "Note from the agency: Lubang sudah ditambal dengan aspal" in to_reporter.text
    assert "Is the problem fixed?" in to_reporter.text
    assert [o.id for o in to_reporter.options] == [f"rate:yes:{report_id}",
                                                   f"rate:no:{report_id}"]
    assert len(to_reporter.media_paths) == 1
    assert await asyncio.to_thread(Path(to_reporter.media_paths[0]).is_file)
    to_fan = by_target["warga-2"].reply
    assert to_fan.options == [] and to_fan.media_paths == to_reporter.media_paths
    # The officer's conversation is back where it was: the next group message is not captured.
    assert await send(box, "5550001", "terima kasih semua", channel="telegram",
                      group=GROUP) == []


async def _ticket(box: Container, report_id: int) -> str:
    async with box.db.reader() as session:
        report = await repo_agencies.get_report(session=session, report_id=report_id)
        assert report is not None
        return report.ticket


async def test_the_server_sends_the_outbox_in_the_background(
    container: Container, clock: Clock
) -> None:
    box = container
    jobs = {job.__name__: job for job in box.background}
    assert {"report_deadlines", "notification_outbox"} <= set(jobs)
    sent = capture(box)
    task = asyncio.create_task(jobs["notification_outbox"]())
    try:
        report_id = await _supported_report(box)
        async with box.db.session() as session:
            report = await repo_agencies.get_report(session=session, report_id=report_id)
            assert report is not None
            outcome = await actions(box, session).assign(report, "dlh", actor_id=None, verifying=True)
            await box.notice_outbox(session, outcome.notices, clock())
        async with asyncio.timeout(10):
            await sent.wait_for(2)
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    assert sorted(o.to for o in sent.items) == ["700001", "warga-2"]


async def test_a_whatsapp_resident_outside_the_window_gets_the_status_template(
    whatsapp: WhatsAppEnv, clock: Clock
) -> None:
    box = whatsapp.box
    sid = whatsapp.double.add_template("Laporan {{1}}: {{2}} ({{3}}).")
    whatsapp.configure(twilio_templates={"report_status": sid})
    chat = whatsapp.chat()
    await chat.say("halo")  # the resident wrote once: the identity exists, the window opens
    report = await file_report(box, user=chat.user_key, channel="whatsapp", locale="id")
    clock.advance(days=2)  # the 24-hour window has closed
    async with box.db.session() as session:
        found = await repo_agencies.get_report(session=session, report_id=report.id or 0)
        assert found is not None
        outcome = await actions(box, session).assign(found, "putr", actor_id=None, verifying=True)
        await box.notice_outbox(session, outcome.notices, clock())
    mark = len(whatsapp.double.messages)
    assert await flush_outbox(box) == 1
    await whatsapp.double.settle()
    chat.collect(mark)
    message, = chat.sent
    assert message.content_sid == sid
    assert chat.texts == [f"Laporan {report.ticket}: Diteruskan ke instansi terkait "
                          "(Dinas Pekerjaan Umum dan Tata Ruang)."]
