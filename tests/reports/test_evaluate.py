"""The weekly evaluation: exact figures for a seeded week, as JSON, CSV and an HTML page."""

from __future__ import annotations

import asyncio
import csv
import io
import json
from datetime import date, datetime
from pathlib import Path
from typing import Any

from agencies_kit import KARTINI, TANGSI, actions, file_report
from bot.app import Container
from bot.cli.evaluation_page import render_evaluation
from bot.settings import Settings
from cli_kit import acli
from conftest import Clock
from factories import WIB, wib
from reports.evaluation import evaluate, to_csv
from storage import repo_agencies
from storage.models import Report

PAHLAWAN = "12.75.01.1001"
AS_OF = datetime(2026, 12, 14, 12, 0, tzinfo=WIB)  # the meeting: Monday noon


class Week:
    """Seeds reports and moves them at given moments, as staff and residents would."""

    def __init__(self, box: Container, clock: Clock) -> None:
        self.box = box
        self.clock = clock

    async def file(self, when: datetime, user: str, **kw: Any) -> int:
        self.clock.now = when
        report = await file_report(self.box, user=user, **kw)
        return report.id or 0

    async def do(self, when: datetime, report_id: int, what: str, **kw: Any) -> None:
        self.clock.now = when
        async with self.box.db.session() as session:
            report = await session.get(Report, report_id)
            assert report is not None
            act = actions(self.box, session)
            if what == "answer_fixed":
                await act.answer_fixed(report, identity_id=report.reporter_id, **kw)
            elif what == "rate":
                await act.rate(report, identity_id=report.reporter_id, **kw)
            else:
                await getattr(act, what)(report, actor_id=None, **kw)


async def seed_week(box: Container, clock: Clock) -> None:
    w = Week(box, clock)
    # Before the week: PUTR never answered R0; R7 (DLH) is reopened during the week.
    r0 = await w.file(wib(11, 30, 9), "warga-0")
    await w.do(wib(11, 30, 10), r0, "verify")
    r7 = await w.file(wib(12, 1, 9), "warga-7", category="sampah", kelurahan=TANGSI)
    await w.do(wib(12, 1, 10), r7, "verify")
    await w.do(wib(12, 3, 10), r7, "resolve", note="Sudah diangkut")

    r1 = await w.file(wib(12, 7, 9), "warga-1", kelurahan=KARTINI)
    await w.do(wib(12, 7, 11), r1, "verify")
    await w.do(wib(12, 8, 11), r1, "progress")
    await w.do(wib(12, 9, 11), r1, "resolve", note="Sudah ditambal")
    await w.do(wib(12, 10, 10), r1, "answer_fixed", fixed=True)
    await w.do(wib(12, 10, 10), r1, "rate", stars=5)

    r2 = await w.file(wib(12, 7, 10), "warga-2", category="sampah", kelurahan=TANGSI)
    await w.do(wib(12, 7, 15), r7, "answer_fixed", fixed=False)
    await w.do(wib(12, 9, 10), r2, "verify")
    await w.do(wib(12, 11, 10), r2, "resolve", note="Sudah diangkut")
    await w.do(wib(12, 11, 12), r2, "answer_fixed", fixed=False)
    await w.do(wib(12, 11, 12), r2, "rate", stars=2)

    r3 = await w.file(wib(12, 8, 9), "warga-3", category="pju", kelurahan=TANGSI)
    await w.file(wib(12, 9, 9), "warga-4", category="drainase", kelurahan=PAHLAWAN)
    await w.file(wib(12, 10, 9), "warga-5", category="listrik", kelurahan=KARTINI,
                 description="Listrik padam sejak pagi di seluruh gang")
    r6 = await w.file(wib(12, 11, 9), "warga-6", kelurahan=KARTINI)
    await w.do(wib(12, 11, 10), r6, "reject", reason="not_complaint")
    await w.file(wib(12, 7, 14), "warga-8", category="lainnya", kelurahan=TANGSI,
                 description="Aplikasi e-Masyarakat tidak bisa dibuka")
    await w.do(wib(12, 14, 9), r3, "verify")  # after the week, late


EXPECTED: dict[str, Any] = {
    "period": {"from": "2026-12-07", "to": "2026-12-13", "as_of": "2026-12-14T12:00:00+07:00"},
    "received": {
        "total": 7,
        "by_kecamatan": [
            {"key": "12.75.02", "name": "Binjai Kota", "count": 6},
            {"key": "12.75.01", "name": "Binjai Utara", "count": 1},
        ],
        "by_kelurahan": [
            {"key": KARTINI, "name": "Kartini (Binjai Kota)", "count": 3},
            {"key": TANGSI, "name": "Tangsi (Binjai Kota)", "count": 3},
            {"key": PAHLAWAN, "name": "Pahlawan (Binjai Utara)", "count": 1},
        ],
        "by_category": [
            {"key": "jalan_rusak", "name": "Jalan rusak/berlubang", "count": 2},
            {"key": "drainase", "name": "Drainase/parit tersumbat", "count": 1},
            {"key": "lainnya", "name": "Lainnya", "count": 1},
            {"key": "pju", "name": "Lampu jalan mati", "count": 1},
            {"key": "listrik", "name": "Listrik padam", "count": 1},
            {"key": "sampah", "name": "Sampah tidak diangkut", "count": 1},
        ],
        "by_agency": [
            {"key": "putr", "name": "Dinas PUTR", "count": 3},
            {"key": "dlh", "name": "DLH", "count": 1},
            {"key": "perkim", "name": "Dinas Perkim", "count": 1},
            {"key": "diskominfo", "name": "Diskominfo", "count": 1},
            {"key": "pln", "name": "PLN", "count": 1},
        ],
    },
    # R1, R2, R5 (referred), R6 (rejected) in time; R3 verified late; R8 still waiting, late.
    "verification": {"due": 6, "on_time": 4, "share_on_time": 0.6667},
    "answer": {"due": 2, "on_time": 2, "share_on_time": 1.0},
    "overdue_now": {"total": 2, "verification": 1, "by_agency": {"putr": 1}},
    "reopened": 2,
    "satisfaction": {"ratings": 3, "fixed": 1, "not_fixed": 2, "average_stars": 3.5},
}


def _agency(key: str, name: str, **figures: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "agency": key, "name": name, "received": 0, "passed_on": 0, "in_progress": 0,
        "resolved": 0, "answer_due": 0, "answered_on_time": 0,
        "share_answered_on_time": None, "median_hours_to_first_response": None,
        "median_hours_to_resolution": None, "median_workdays_to_resolution": None,
        "overdue_now": 0, "reopened": 0, "ratings": 0,
        "fixed": 0, "not_fixed": 0, "average_stars": None,
    }
    return {**base, **figures}


EXPECTED_AGENCIES = [
    _agency("diskominfo", "Diskominfo", received=1),
    # R2: passed on Wednesday, resolved on Friday (2 working days), reopened by its reporter.
    _agency("dlh", "DLH", received=1, passed_on=1, in_progress=1, answer_due=1,
            answered_on_time=1, share_answered_on_time=1.0,
            median_hours_to_first_response=48.0, median_hours_to_resolution=48.0,
            median_workdays_to_resolution=2.0, reopened=2, ratings=2, not_fixed=2,
            average_stars=2.0),
    # R3: passed on after the week, so passed on now but not yet due in the week.
    _agency("perkim", "Dinas Perkim", received=1, passed_on=1),
    _agency("pln", "PLN", received=1),
    # R1: passed on Monday, resolved on Wednesday (2 working days), closed; R4 waits; R6 rejected.
    _agency("putr", "Dinas PUTR", received=3, passed_on=1, resolved=1, answer_due=1,
            answered_on_time=1, share_answered_on_time=1.0,
            median_hours_to_first_response=24.0, median_hours_to_resolution=48.0,
            median_workdays_to_resolution=2.0, overdue_now=1, ratings=1, fixed=1,
            average_stars=5.0),
]


async def test_the_weeks_figures_match_the_seeded_week_exactly(
    container: Container, clock: Clock
) -> None:
    await seed_week(container, clock)
    async with container.db.reader() as session:
        figures = await evaluate(session=session, city=container.city, start=date(2026, 12, 7),
                                 end=date(2026, 12, 13), as_of=AS_OF)
    agencies = figures.pop("agencies")
    assert figures == EXPECTED
    assert agencies == EXPECTED_AGENCIES


async def test_an_empty_week_has_no_shares_to_divide(container: Container) -> None:
    async with container.db.reader() as session:
        figures = await evaluate(session=session, city=container.city, start=date(2026, 12, 7),
                                 end=date(2026, 12, 13), as_of=AS_OF)
    assert figures["received"]["total"] == 0
    assert figures["verification"] == {"due": 0, "on_time": 0, "share_on_time": None}
    assert figures["agencies"] == [] and figures["satisfaction"]["average_stars"] is None


async def test_emas_evaluate_prints_json_csv_and_writes_html_with_charts(
    container: Container, clock: Clock, settings: Settings, tmp_path: Path
) -> None:
    await seed_week(container, clock)
    period = ["--from", "2026-12-07", "--to", "2026-12-13", "--as-of", AS_OF.isoformat()]

    code, out = await acli(settings, "evaluate", *period, "--json")
    assert code == 0
    figures = json.loads(out)
    assert figures.pop("agencies") == EXPECTED_AGENCIES
    assert figures.pop("suggestions") == {}  # residents' suggestions (none that week)
    assert figures == EXPECTED

    code, out = await acli(settings, "evaluate", *period, "--csv")
    rows = list(csv.reader(io.StringIO(out)))
    assert rows[0] == ["section", "key", "name", "metric", "value"]
    assert ["received", "", "", "total", "7"] in rows
    assert ["verification", "", "", "share_on_time", "0.6667"] in rows
    assert ["agency", "putr", "Dinas PUTR", "median_hours_to_first_response", "24.0"] in rows
    assert ["overdue_now", "kominfo", "", "verification", "1"] in rows

    page = tmp_path / "week.html"
    code, out = await acli(settings, "evaluate", *period, "--html", str(page))
    assert code == 0 and "written to" in out
    html = await asyncio.to_thread(page.read_text, encoding="utf-8")
    assert html.count('src="data:image/png;base64,') == 4
    assert '<html lang="id">' in html
    assert "<h1>Kota Binjai: laporan 7 Des 2026 sampai 13 Des 2026</h1>" in html
    assert ('<td>Ditanggapi dalam batas waktu</td><td class="n">2 / 2 (100%)</td>'
            in html)
    assert "Data per 14 Des 2026 12.00 WIB." in html

    code, out = await acli(settings, "evaluate", *period, "--html", str(page), "--lang", "en")
    html = await asyncio.to_thread(page.read_text, encoding="utf-8")
    assert "<h1>Kota Binjai: reports from 7 Dec 2026 to 13 Dec 2026</h1>" in html
    assert '<td>Answered within the deadline</td><td class="n">2 / 2 (100%)</td>' in html

    code, out = await acli(settings, "evaluate", *period)
    assert code == 0 and "received: 7" in out and "verified in time: 4/6 (67%)" in out

    code, out = await acli(settings, "evaluate", "--from", "2026-12-13", "--to", "2026-12-07")
    assert code != 0 and "before --from" in out


def test_csv_and_html_escape_names() -> None:
    figures: dict[str, Any] = {
        "period": {"from": "2026-12-07", "to": "2026-12-13", "as_of": "x"},
        "received": {"total": 1, "by_kecamatan": [], "by_kelurahan": [], "by_agency": [],
                     "by_category": [{"key": "k", "name": "<b>A, B</b>", "count": 1}]},
        "verification": {"due": 0, "on_time": 0, "share_on_time": None},
        "answer": {"due": 0, "on_time": 0, "share_on_time": None},
        "overdue_now": {"total": 0, "verification": 0, "by_agency": {}},
        "reopened": 0,
        "satisfaction": {"ratings": 0, "fixed": 0, "not_fixed": 0, "average_stars": None},
        "agencies": [],
    }
    assert ["received_by_category", "k", "<b>A, B</b>", "count", "1"] in list(
        csv.reader(io.StringIO(to_csv(figures))))
    page = render_evaluation(figures, city_name="Kota Binjai")
    assert "&lt;b&gt;A, B&lt;/b&gt;" in page and "<b>A, B</b>" not in page
    # Nothing was due: no 0% and no empty chart, only what there is to show.
    assert "(0%)" not in page and "(–)" in page and page.count("data:image/png") == 1


async def test_received_counts_only_reports_filed_in_the_period(
    container: Container, clock: Clock
) -> None:
    w = Week(container, clock)
    await w.file(wib(12, 6, 23), "warga-1")  # Sunday night, the week before
    await w.file(wib(12, 7, 0), "warga-2")  # Monday 00:00, city time
    await w.file(wib(12, 13, 23), "warga-3")  # Sunday 23:00
    await w.file(wib(12, 14, 0), "warga-4")  # the next Monday
    async with container.db.reader() as session:
        figures = await evaluate(session=session, city=container.city, start=date(2026, 12, 7),
                                 end=date(2026, 12, 13), as_of=AS_OF)
        assert figures["received"]["total"] == 2
        assert len(await repo_agencies.list_reports_created(
            session=session, start=wib(12, 1, 0), end=wib(12, 31, 0))) == 4


async def test_a_report_no_one_verified_is_not_counted_as_verified(
        container: Container, clock: Clock) -> None:
    """A category the city sends straight to its agency skips verification: the week's
    verification figure neither rewards nor blames Kominfo for it; one Kominfo verified does
    count."""
    box = container
    clock.now = wib(12, 7, 9)
    straight = await file_report(box, user="warga-1", category="jalan_rusak")
    async with box.db.session() as session:
        report = await session.get(Report, straight.id)
        assert report is not None
        act = actions(box, session)
        act.workflow = act.workflow.model_copy(update={"auto_verify": frozenset({"jalan_rusak"})})
        await act.after_submit(report)  # as it is for a category passed on unverified
    checked = await file_report(box, user="warga-2", category="jalan_rusak")
    clock.now = wib(12, 7, 11)
    async with box.db.session() as session:
        report = await session.get(Report, checked.id)
        assert report is not None
        await actions(box, session).verify(report, actor_id=None)
    async with box.db.reader() as session:
        figures = await evaluate(session=session, city=box.city, start=date(2026, 12, 7),
                                 end=date(2026, 12, 13), as_of=AS_OF)
    assert figures["received"]["total"] == 2
    assert figures["verification"] == {"due": 1, "on_time": 1, "share_on_time": 1.0}


async def test_reports_without_a_written_deadline_are_still_counted_overdue(
    container: Container, clock: Clock
) -> None:
    """Reports filed before deadlines were written down (migration 0010) are read from their
    history: the same overdue figures either way."""
    from sqlalchemy import update

    from storage.models import Report

    await seed_week(container, clock)
    async with container.db.session() as session:
        await session.exec(update(Report).values(due_at=None))  # type: ignore[call-overload]
    async with container.db.reader() as session:
        figures = await evaluate(session=session, city=container.city, start=date(2026, 12, 7),
                                 end=date(2026, 12, 13), as_of=AS_OF)
    assert figures["overdue_now"] == EXPECTED["overdue_now"]
