"""The report lifecycle: every allowed move works and is recorded; other moves are refused."""

from __future__ import annotations

import json

import pytest

from agencies_kit import KARTINI, file_report, history, person, reload, set_status, staff, worded
from bot.app import Container
from bot.i18n import use_locale
from bot.labels import RECORD_WORDS, refusal_text
from bot.report_views import receipt_text
from bot.settings import Settings
from cli_kit import acli
from conftest import Clock
from reports.actions import ReportActions
from reports.lifecycle import TRANSITIONS, Status, TransitionRefused, transition
from reports.service import DraftReport, ReportService
from reports.workflow import Workflow
from storage.models import Report
from storage.types import utcnow

ALLOWED = sorted((src.value, dst.value) for src, targets in TRANSITIONS.items()
                 for dst in targets)


async def _report_in(box: Container, status: str) -> int:
    report = await file_report(box)
    assert report.id is not None
    if status != Status.SUBMITTED:
        await set_status(box, report.id, status)
    return report.id


@pytest.mark.parametrize(("current", "target"), ALLOWED)
async def test_every_allowed_move_is_made_and_recorded(
    container: Container, clock: Clock, current: str, target: str
) -> None:
    report_id = await _report_in(container, current)
    original = await file_report(container, user="warga-2")
    officer = await person(container, "petugas-1")
    clock.advance(hours=2)
    async with container.db.session() as session:
        report = await session.get(Report, report_id)
        assert report is not None
        await transition(session=session, report=report, target=target, now=clock(),
                         actor_id=officer.id, note="Sudah dicek petugas",
                         duplicate_of=original.id)
    moved = await reload(container, report_id)
    assert moved.status == target
    last = (await history(container, report_id))[-1]
    assert (last.status, last.note, last.actor_id, last.at) == (
        target, "Sudah dicek petugas", officer.id, clock())
    if target == Status.DUPLICATE:
        assert moved.duplicate_of == original.id


@pytest.mark.parametrize(
    ("current", "target"),
    [
        ("submitted", "resolved"),
        ("submitted", "closed"),
        ("verified", "in_progress"),
        ("resolved", "in_progress"),
        ("closed", "assigned"),
        ("rejected", "verified"),
        ("duplicate", "assigned"),
        ("in_progress", "in_progress"),
        ("assigned", "submitted"),
        ("assigned", "flying"),
    ],
)
async def test_a_move_the_lifecycle_does_not_allow_is_refused_clearly(
    container: Container, clock: Clock, current: str, target: str
) -> None:
    report_id = await _report_in(container, current)
    before = await history(container, report_id)
    async with container.db.session() as session:
        report = await session.get(Report, report_id)
        assert report is not None
        with pytest.raises(TransitionRefused) as refused:
            await transition(session=session, report=report, target=target, now=clock(),
                             note="x")
    with use_locale("en"):
        message = refusal_text(refused.value)
    assert report.ticket in message and f"cannot move to “{target}”" in message
    assert ("Allowed next" in message) == bool(TRANSITIONS.get(Status(current)))
    assert len(await history(container, report_id)) == len(before)
    assert (await reload(container, report_id)).status == current


async def test_resolving_rejecting_and_merging_need_what_they_rest_on(
    container: Container, clock: Clock
) -> None:
    report_id = await _report_in(container, "in_progress")
    async with container.db.session() as session:
        report = await session.get(Report, report_id)
        assert report is not None
        with pytest.raises(TransitionRefused) as no_note:
            await transition(session=session, report=report, target="resolved", now=clock(),
                             note="  ")
        with pytest.raises(TransitionRefused) as no_original:
            await transition(session=session, report=report, target="duplicate", now=clock())
    with use_locale("en"):
        assert "needs a note" in refusal_text(no_note.value)
        assert "needs the ticket of the original report" in refusal_text(no_original.value)
    assert (await reload(container, report_id)).status == "in_progress"


async def test_command_line_moves_go_through_the_lifecycle(
    container: Container, settings: Settings, clock: Clock
) -> None:
    clock.now = utcnow()  # the command line runs on the real clock
    report = await file_report(container)
    code, out = await acli(settings, "report", "set-status", report.ticket, "resolved",
                           "--note", "Sudah ditambal")
    assert code == 1
    assert "cannot move to “resolved”" in out and "Allowed next: duplicate, referred" in out

    code, out = await acli(settings, "report", "assign", report.ticket, "dlh")
    assert code == 1 and "has not been verified yet: verify it first" in out
    assert (await reload(container, report.id or 0)).status == "submitted"
    code, out = await acli(settings, "report", "set-status", report.ticket, "verified")
    assert code == 0
    code, out = await acli(settings, "report", "assign", report.ticket, "dlh")
    assert code == 0 and f"{report.ticket}: assigned (dlh)" in out
    code, out = await acli(settings, "report", "set-status", report.ticket, "in_progress",
                           "--note", "Tim sedang ke lokasi")
    assert code == 0
    code, out = await acli(settings, "report", "set-status", report.ticket, "resolved")
    assert code == 1 and "needs a note" in out
    code, out = await acli(settings, "report", "set-status", report.ticket, "resolved",
                           "--note", "Sampah sudah diangkut")
    assert code == 0 and f"{report.ticket}: resolved" in out

    code, out = await acli(settings, "report", "show", report.ticket, "--json")
    data = json.loads(out)
    assert data["agency"] == "dlh" and data["status"] == "resolved"
    assert [(h["status"], h["note"]) for h in data["history"]] == [
        ("submitted", None), ("verified", None), ("assigned", None),
        ("in_progress", "Tim sedang ke lokasi"), ("resolved", "Sampah sudah diangkut")]
    assert all(set(h) == {"status", "at", "note"} for h in data["history"])
    assert data["deadline_stage"] == "confirm" and data["supporters"] == 0


async def test_duplicate_from_the_command_line_names_the_original(
    container: Container, settings: Settings, clock: Clock
) -> None:
    clock.now = utcnow()
    first = await file_report(container, user="warga-1")
    second = await file_report(container, user="warga-2")
    code, out = await acli(settings, "report", "set-status", second.ticket, "duplicate")
    assert code == 1 and "ticket of the original report" in out
    code, out = await acli(settings, "report", "set-status", second.ticket, "duplicate",
                           "--original", first.ticket)
    assert code == 0
    code, out = await acli(settings, "report", "show", second.ticket, "--json")
    assert json.loads(out)["duplicate_of"] == first.ticket
    code, out = await acli(settings, "report", "show", first.ticket, "--json")
    assert json.loads(out)["supporters"] == 1  # the second reporter now follows the first


async def test_assigning_to_an_agency_outside_the_city_refers_the_report(
    container: Container, settings: Settings, clock: Clock
) -> None:
    clock.now = utcnow()
    report = await file_report(container)
    code, out = await acli(settings, "report", "assign", report.ticket, "provinsi")
    assert code == 0 and "referred" in out
    assert (await reload(container, report.id or 0)).status == "referred"
    code, out = await acli(settings, "report", "assign", report.ticket, "nowhere")
    assert code == 1 and "unknown agency" in out


async def test_an_external_category_is_referred_at_filing_and_the_report_kept(
    container: Container,
) -> None:
    report = await file_report(container, category="listrik", description="Listrik padam "
                               "sejak pagi di seluruh gang")
    events = await history(container, report.id or 0)
    assert [e.status for e in events] == ["submitted", "referred"]
    assert "PLN" in (events[-1].note or "")


async def test_a_category_configured_so_is_verified_and_assigned_at_filing(
    container: Container, clock: Clock
) -> None:
    box = container
    await staff(box, "petugas-perkim", role="officer", agency="perkim", name="Sari")
    reporter = await person(box, "warga-1", locale="en")
    flow = Workflow(auto_verify=frozenset({"pju"}))
    async with box.db.session() as session:
        service = ReportService(session=session, city=box.city, now=clock)
        report = await service.submit(
            draft=DraftReport(category="pju", kelurahan=KARTINI,
                              description="Lampu jalan mati di depan masjid"),
            reporter=reporter)
        notices = worded(box, await ReportActions(
            session=session, city=box.city, settings=box.settings, now=clock,
            words=RECORD_WORDS, workflow=flow).after_submit(report))
        with use_locale("en"):
            receipt = receipt_text(box.city, report)
    assert [e.status for e in await history(box, report.id or 0)] == [
        "submitted", "verified", "assigned"]
    assert [n.recipient.user_key for n in notices] == ["petugas-perkim"]
    assert "It has gone straight to the agency, which responds within 5 working days" in receipt
