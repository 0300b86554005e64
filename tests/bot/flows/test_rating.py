"""The resident's verdict: is it fixed? yes closes, no reopens and escalates; stars and a comment."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlmodel import select

from agencies_kit import (
    actions,
    file_report,
    history,
    person,
    press,
    reload,
    run_deadlines,
    send,
    staff,
    texts,
    worded,
)
from bot.app import Container
from conftest import Clock
from storage import repo_agencies
from storage.models.agency import Rating

WIB = ZoneInfo("Asia/Jakarta")


async def resolved_report(box: Container, *, user: str = "warga-1") -> int:
    await staff(box, "petugas-putr", role="officer", agency="putr", name="Andi")
    await staff(box, "kepala-putr", role="head", agency="putr", name="Pak Kepala")
    await staff(box, "kominfo-1", role="kominfo", name="Rina")
    report = await file_report(box, user=user, locale="en")
    async with box.db.session() as session:
        found = await repo_agencies.get_report(session=session, report_id=report.id or 0)
        assert found is not None
        await actions(box, session).assign(found, "putr", actor_id=None, verifying=True)
        outcome = await actions(box, session).resolve(found, actor_id=None,
                                                      note="Lubang sudah ditambal")
    question, = [n.reply for n in worded(box, outcome.notices) if n.recipient.user_key == user]
    assert [o.id for o in question.options] == [f"rate:yes:{report.id}", f"rate:no:{report.id}"]
    return report.id or 0


async def ratings(box: Container) -> list[Rating]:
    async with box.db.reader() as session:
        return list((await session.exec(select(Rating))).all())


async def test_fixed_closes_the_report_then_stars_and_a_comment(container: Container) -> None:
    box = container
    report_id = await resolved_report(box)
    out = await press(box, "warga-1", f"rate:yes:{report_id}")
    assert "glad it is fixed" in texts(out) and "is now closed" in texts(out)
    assert "from 1 (poor) to 5 (excellent)" in texts(out)
    assert (await reload(box, report_id)).status == "closed"
    closed = (await history(box, report_id))[-1]
    assert closed.actor_id == (await person(box, "warga-1", locale="en")).id

    out = await press(box, "warga-1", "star:4")
    assert "add a comment" in texts(out)
    out = await send(box, "warga-1", "Cepat sekali, terima kasih")
    assert "Thank you for your feedback" in texts(out)
    assert {o.to for o in out} == {"warga-1"}  # a happy comment stays with the rating
    rating, = await ratings(box)
    assert (rating.fixed, rating.stars, rating.comment) == (True, 4, "Cepat sekali, terima kasih")


async def test_not_fixed_reopens_escalates_and_passes_the_comment_on(
    container: Container,
) -> None:
    box = container
    report_id = await resolved_report(box)
    out = await press(box, "warga-1", f"rate:no:{report_id}")
    assert "We are sorry it is not fixed" in texts(out, "warga-1")
    assert (await reload(box, report_id)).status == "reopened"
    for who in ("petugas-putr", "kepala-putr", "kominfo-1"):
        assert "Dibuka kembali dan dieskalasi" in texts(out, who), who
    agency_post, = [o.reply for o in out if o.to == "petugas-putr"]
    assert agency_post.options[0].id == f"st:take:{report_id}"

    out = await press(box, "warga-1", "skip")
    out = await send(box, "warga-1", "Masih berlubang di sisi kiri jalan")
    assert "Thank you for your feedback" in texts(out, "warga-1")
    assert "Masih berlubang di sisi kiri jalan" in texts(out, "petugas-putr")
    rating, = await ratings(box)
    assert (rating.fixed, rating.stars) == (False, None)

    # The agency answers again, against a fresh deadline; the resident may answer again too.
    async with box.db.session() as session:
        found = await repo_agencies.get_report(session=session, report_id=report_id)
        assert found is not None
        await actions(box, session).resolve(found, actor_id=None, note="Sisi kiri ditambal")
    out = await press(box, "warga-1", f"rate:yes:{report_id}")
    assert (await reload(box, report_id)).status == "closed"
    assert len(await ratings(box)) == 2


async def test_one_answer_per_resolution_and_only_from_the_reporter(
    container: Container,
) -> None:
    box = container
    report_id = await resolved_report(box)
    await press(box, "warga-1", f"rate:yes:{report_id}")
    out = await press(box, "warga-1", f"rate:no:{report_id}")
    assert "already answered" in texts(out)
    assert (await reload(box, report_id)).status == "closed"
    out = await press(box, "warga-9", f"rate:no:{report_id}")
    assert "no longer valid" in texts(out)
    assert len(await ratings(box)) == 1


async def test_answering_keeps_a_report_being_filed(container: Container) -> None:
    box = container
    report_id = await resolved_report(box)
    await send(box, "warga-1", "/start")
    await press(box, "warga-1", "m:report")
    await send(box, "warga-1", "Sampah tidak diangkut sudah seminggu")  # a new report, half-way
    await press(box, "warga-1", f"rate:yes:{report_id}")
    await press(box, "warga-1", "skip")
    out = await press(box, "warga-1", "skip")
    assert "Continue my unfinished report" in " ".join(
        o.label for r in out for o in r.reply.options)


async def test_too_late_to_reopen_after_it_closed_itself(container: Container,
                                                         clock: Clock) -> None:
    box = container
    report_id = await resolved_report(box)  # resolved Monday 7 December
    later = datetime(2026, 12, 22, 8, tzinfo=WIB)
    result = await run_deadlines(box, later)
    assert result.closed == 1
    clock.now = later
    out = await press(box, "warga-1", f"rate:no:{report_id}")
    assert "can no longer be reopened" in texts(out)
    assert (await reload(box, report_id)).status == "closed"
    assert await ratings(box) == []
