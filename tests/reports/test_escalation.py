"""Deadlines at work: a due-soon reminder, escalation on a breach, each sent once and only once."""

from __future__ import annotations

import asyncio
from datetime import datetime

from sqlmodel import select

from agencies_kit import (
    actions,
    capture,
    file_report,
    flush_outbox,
    history,
    reload,
    run_deadlines,
    staff,
)
from bot.app import Container, build_container
from bot.settings import Settings
from conftest import Clock
from factories import wib
from storage import repo_agencies
from storage.models.agency import ReminderSent

GROUP = "-1002000000002"


async def _setup(box: Container, *, at: datetime, clock: Clock) -> int:
    """A road report assigned to PUTR at `at`; PUTR has a group and a head, Kominfo a member."""
    clock.now = at
    async with box.db.session() as session:
        await repo_agencies.link_group(session=session, agency_key="putr", channel="telegram",
                                       chat_key=GROUP, linked_by=None, now=at)
    await staff(box, "kepala-putr", role="head", agency="putr", name="Pak Kepala")
    await staff(box, "kominfo-1", role="kominfo", name="Rina")
    report = await file_report(box)
    async with box.db.session() as session:
        found = await repo_agencies.get_report(session=session, report_id=report.id or 0)
        assert found is not None
        await actions(box, session).assign(found, "putr", actor_id=None, verifying=True)
    return report.id or 0


async def run(box: Container, when: datetime) -> tuple[int, int, int]:
    result = await run_deadlines(box, when)
    return result.reminders, result.escalations, result.closed


async def test_due_soon_then_escalation_each_once(container: Container, clock: Clock) -> None:
    box = container
    report_id = await _setup(box, at=wib(12, 7), clock=clock)  # Monday; due Monday 14th
    sent = capture(box)

    assert await run(box, wib(12, 11, 17)) == (0, 0, 0)
    assert await run(box, wib(12, 14, 7, 59)) == (0, 0, 0)
    assert await run(box, wib(12, 14, 8, 0)) == (1, 0, 0)
    assert await run(box, wib(12, 14, 8, 1)) == (0, 0, 0)
    await flush_outbox(box)
    reminder, = sent.items
    # The group reads Indonesian, the city's working language.
    assert reminder.to == GROUP and "perlu ditanggapi Dinas PUTR hari ini" in reminder.reply.text
    assert "jatuh tempo hari ini" in reminder.reply.text
    assert reminder.reply.options[0].id == f"st:take:{report_id}"
    sent.clear()

    assert await run(box, wib(12, 14, 23, 59)) == (0, 0, 0)
    assert await run(box, wib(12, 15, 8, 0)) == (0, 1, 0)
    assert await run(box, wib(12, 15, 8, 5)) == (0, 0, 0)
    await flush_outbox(box)
    assert sorted(o.to for o in sent.items) == [GROUP, "kepala-putr", "kominfo-1"]
    assert all("Terlambat: Dinas PUTR belum menanggapi" in o.reply.text for o in sent.items)
    assert all("terlambat 1 hari kerja" in o.reply.text for o in sent.items)
    kominfo, = sent.to("kominfo-1")
    assert kominfo.reply.options == []  # Kominfo is told; the agency acts
    sent.clear()

    # A restarted server (a new process) does not send them again.
    again = build_container(box.settings, clock=clock)
    try:
        assert await run(again, wib(12, 15, 9, 0)) == (0, 0, 0)
    finally:
        await again.db.dispose()
    assert await flush_outbox(box) == 0
    assert (await reload(box, report_id)).status == "assigned"


async def test_the_ladder_waits_over_a_holiday(container: Container, clock: Clock) -> None:
    box = container
    await _setup(box, at=wib(12, 22), clock=clock)  # Tuesday; Christmas Friday: due Wed 30th
    assert await run(box, wib(12, 29, 12)) == (0, 0, 0)
    assert await run(box, wib(12, 30, 8)) == (1, 0, 0)
    assert await run(box, wib(12, 31, 7)) == (0, 0, 0)
    assert await run(box, wib(12, 31, 8)) == (0, 1, 0)


async def test_after_downtime_only_the_latest_step_is_sent(
    container: Container, clock: Clock
) -> None:
    box = container
    report_id = await _setup(box, at=wib(12, 7), clock=clock)
    sent = capture(box)
    # The server was down all week: due-soon, overdue and overdue-again have all fallen due.
    assert await run(box, wib(12, 18, 9)) == (0, 1, 0)
    await flush_outbox(box)
    assert sorted(o.to for o in sent.items) == ["kepala-putr", "kominfo-1"]  # overdue_again
    assert all("terlambat 4 hari kerja" in o.reply.text for o in sent.items)
    async with box.db.reader() as session:
        rows = (await session.exec(select(ReminderSent).where(
            ReminderSent.report_id == report_id))).all()
    assert sorted((r.step, r.delivered) for r in rows) == [
        ("due_soon", False), ("overdue", False), ("overdue_again", True)]


async def test_two_schedulers_at_once_still_send_once(container: Container, clock: Clock) -> None:
    box = container
    await _setup(box, at=wib(12, 7), clock=clock)
    other = build_container(box.settings, clock=clock)
    try:
        results = await asyncio.gather(run(box, wib(12, 15, 8)), run(other, wib(12, 15, 8)))
    finally:
        await other.db.dispose()
    assert sorted(results) == [(0, 0, 0), (0, 1, 0)]


async def test_an_answer_in_time_stops_the_ladder(container: Container, clock: Clock) -> None:
    box = container
    report_id = await _setup(box, at=wib(12, 7), clock=clock)
    clock.now = wib(12, 11, 10)
    async with box.db.session() as session:
        found = await repo_agencies.get_report(session=session, report_id=report_id)
        assert found is not None
        await actions(box, session).progress(found, actor_id=None)
    assert await run(box, wib(12, 14, 8)) == (0, 0, 0)
    assert await run(box, wib(12, 22, 8)) == (0, 0, 0)


async def test_kominfo_is_reminded_to_verify_and_escalated_when_late(
    container: Container, clock: Clock
) -> None:
    box = container
    clock.now = wib(12, 7)
    await staff(box, "kominfo-1", role="kominfo", name="Rina")
    report = await file_report(box)  # waits for verification: due Thursday 10th
    sent = capture(box)
    assert await run(box, wib(12, 9, 12)) == (0, 0, 0)
    assert await run(box, wib(12, 10, 8)) == (1, 0, 0)
    assert await run(box, wib(12, 11, 8)) == (0, 1, 0)
    await flush_outbox(box)
    due, late = sent.to("kominfo-1")
    assert "harus diverifikasi dan diteruskan ke dinas hari ini" in due.reply.text
    assert due.reply.options[0].id == f"st:ver:{report.id}"
    assert "belum diverifikasi dan diteruskan ke dinas tepat waktu" in late.reply.text


async def test_a_reopened_report_runs_a_fresh_ladder(container: Container, clock: Clock) -> None:
    box = container
    report_id = await _setup(box, at=wib(12, 7), clock=clock)
    assert await run(box, wib(12, 15, 8)) == (0, 1, 0)
    clock.now = wib(12, 15, 10)
    async with box.db.session() as session:
        found = await repo_agencies.get_report(session=session, report_id=report_id)
        assert found is not None
        await actions(box, session).resolve(found, actor_id=None, note="Sudah ditambal")
        await actions(box, session).reopen(found, actor_id=None, note="Masih berlubang")
    # Reopened Tuesday 15th: a new 5-day clock, due Tuesday 22nd.
    assert await run(box, wib(12, 21, 8)) == (0, 0, 0)
    assert await run(box, wib(12, 22, 8)) == (1, 0, 0)
    assert await run(box, wib(12, 23, 8)) == (0, 1, 0)


async def test_an_answered_report_closes_itself_after_ten_working_days(
    container: Container, clock: Clock
) -> None:
    box = container
    report_id = await _setup(box, at=wib(12, 7), clock=clock)
    clock.now = wib(12, 8, 10)  # resolved Tuesday 8th: closes after Tuesday 22nd
    async with box.db.session() as session:
        found = await repo_agencies.get_report(session=session, report_id=report_id)
        assert found is not None
        await actions(box, session).resolve(found, actor_id=None, note="Sudah ditambal")
    sent = capture(box)
    assert await run(box, wib(12, 22, 23, 59)) == (0, 0, 0)
    assert await run(box, wib(12, 23, 0, 0)) == (0, 0, 1)
    assert await run(box, wib(12, 23, 0, 1)) == (0, 0, 0)
    assert (await reload(box, report_id)).status == "closed"
    closed = (await history(box, report_id))[-1]
    assert closed.status == "closed" and "10 hari kerja" in (closed.note or "")
    await flush_outbox(box)
    told, = sent.to("warga-1")
    assert "kini ditutup" in told.reply.text


async def test_settings_fixture_is_the_one_the_scheduler_reads(settings: Settings) -> None:
    from reports.workflow import load_workflow

    flow = load_workflow(settings.city_dir)
    assert [s.step for s in flow.steps("answer")] == ["due_soon", "overdue", "overdue_again"]
    assert flow.triage_agency == "diskominfo"
