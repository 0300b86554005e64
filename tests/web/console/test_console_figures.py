"""The evaluation for Monday's meeting and the map, in the console."""

from __future__ import annotations

import csv
import io
import re
import zipfile

import pytest

from agencies_kit import KARTINI, TANGSI, file_report
from bot.app import Container
from console_kit import act, console_client, signed_in

WEEK = "from=2026-12-07&to=2026-12-13"


async def _week(box: Container, client, clock) -> list[str]:
    """Three road reports (two in Kartini) and one rubbish report, all passed on; one road
    report resolved; the week before, one road report."""
    clock.advance(days=-7)
    earlier = await file_report(box, user="w0")
    clock.advance(days=7)
    reports = [await file_report(box, user="w1"), await file_report(box, user="w2"),
               await file_report(box, user="w3", kelurahan=TANGSI),
               await file_report(box, user="w4", category="sampah", kelurahan=TANGSI)]
    await signed_in(box, client, "sari", role="kominfo")
    for report in [earlier, *reports]:
        assert (await act(client, report.ticket, "verify",
                          agency=report.agency_key)).status_code == 303
    client.cookies.clear()
    clock.advance(days=2)
    await signed_in(box, client, "budi", role="officer", agency="putr")
    assert (await act(client, reports[0].ticket, "resolve",
                      note="Sudah ditambal hari ini")).status_code == 303
    client.cookies.clear()
    return [r.ticket for r in reports]


async def test_the_evaluation_shows_each_agency_and_the_change_from_last_week(
        container: Container, clock) -> None:
    async with console_client(container) as client:
        await _week(container, client, clock)
        await signed_in(container, client, "sari")
        page = await client.get(f"/console/evaluasi?{WEEK}")
    assert page.status_code == 200
    text = page.text
    assert "Senin, 7 Des 2026 sampai Minggu, 13 Des 2026" in text
    putr = text[text.index(">Dinas PUTR<"):].split("</tr>")[0]
    cells = re.findall(r"<td[^>]*>(.*?)</td>", putr, re.S)
    assert cells[0].startswith("3") and "▲ 2" in cells[0]  # 3 this week, 1 the week before
    assert [c.strip() for c in cells[1:4]] == ["3", "0", "1"]  # passed on, in progress, resolved
    assert ">DLH<" in text
    # One page per agency when printed; the print button is a button, not inline script.
    assert text.count('class="agency-page printonly"') == 2
    assert "data-print" in text and "onclick" not in text
    # The map: every kelurahan drawn, the busiest in the darkest shade, each a link to the inbox.
    assert text.count("<path ") == 37
    assert re.search(r'<a href="/console/\?kelurahan=' + re.escape(KARTINI)
                     + r'&amp;tab=agency"[^>]*><path class="q4', text)


async def test_the_evaluation_downloads_as_csv_and_excel(container: Container, clock) -> None:
    async with console_client(container) as client:
        await _week(container, client, clock)
        await signed_in(container, client, "sari")
        as_csv = await client.get(f"/console/evaluasi.csv?{WEEK}")
        as_xlsx = await client.get(f"/console/evaluasi.xlsx?{WEEK}")
    rows = list(csv.reader(io.StringIO(as_csv.text)))
    assert rows[0] == ["section", "key", "name", "metric", "value"]
    assert ["received", "", "", "total", "4"] in rows
    assert ["agency", "putr", "Dinas PUTR", "resolved", "1"] in rows
    assert "attachment" in as_csv.headers["content-disposition"]
    book = zipfile.ZipFile(io.BytesIO(as_xlsx.content))
    assert "xl/workbook.xml" in book.namelist()
    shared = book.read("xl/sharedStrings.xml").decode()
    assert "Dinas PUTR" in shared and "median_workdays_to_resolution" in shared


@pytest.mark.parametrize(("role", "agency", "status", "agencies"), [
    ("kominfo", None, 200, {"Dinas PUTR", "DLH"}),
    ("leadership", None, 200, {"Dinas PUTR", "DLH"}),
    ("head", "dlh", 200, {"DLH"}),
    ("officer", "putr", 404, set()),
])
async def test_who_reads_which_figures(container: Container, clock, role: str,
                                       agency: str | None, status: int,
                                       agencies: set[str]) -> None:
    async with console_client(container) as client:
        await _week(container, client, clock)
        await signed_in(container, client, f"{role}-1", role=role, agency=agency)
        page = await client.get(f"/console/evaluasi?{WEEK}")
        exported = await client.get(f"/console/evaluasi.csv?{WEEK}")
    assert page.status_code == exported.status_code == status
    shown = set(re.findall(r'<section class="agency-page printonly">\s*<h2>([^<]+)</h2>',
                           page.text))
    assert shown == agencies
    if role == "head":
        assert "reports received" not in page.text and "laporan diterima" not in page.text


async def test_a_bad_period_falls_back_to_last_week(container: Container) -> None:
    async with console_client(container) as client:
        await signed_in(container, client, "sari", role="kominfo")
        for query in ("from=2026-13-01&to=x", "from=2026-12-10&to=2026-12-01",
                      "from=2000-01-01&to=2026-12-01", "period=%00"):
            page = await client.get(f"/console/evaluasi?{query}")
            assert page.status_code == 200
            assert "Senin, 30 Nov 2026 sampai Minggu, 6 Des 2026" in page.text


async def test_the_map_shows_open_and_overdue_reports_per_kelurahan(
        container: Container, clock) -> None:
    async with console_client(container) as client:
        await _week(container, client, clock)
        await signed_in(container, client, "sari")
        open_now = (await client.get("/console/peta")).text
        clock.advance(days=10)
        client.cookies.clear()  # ten days on, a new sign-in
        await signed_in(container, client, "sari")
        overdue = (await client.get("/console/peta?show=overdue")).text
        rubbish = (await client.get("/console/peta?category=sampah")).text
        client.cookies.clear()
        await signed_in(container, client, "wali", role="leadership")
        leadership = (await client.get("/console/peta")).text
    # Last week's and this week's two (the resolved one is open until the resident confirms).
    assert "Kartini: 3 laporan" in open_now
    assert "Tangsi: 2 laporan" in open_now
    assert "5 laporan seluruhnya" in open_now
    assert "Tangsi: 1 laporan" in rubbish and "Kartini: 0 laporan" in rubbish
    assert "Laporan terlambat per kelurahan" in overdue
    assert "<a href=" not in leadership.split('<svg class="map"')[1].split("</svg>")[0]
    assert leadership.count("<path ") == 37


async def test_readers_opening_the_evaluation_at_once_share_one_computation(
        container: Container, clock, monkeypatch: pytest.MonkeyPatch) -> None:
    """A meeting's dozen readers open the page together: the figures are computed once per
    period (this week and the week before), not once per reader."""
    import asyncio

    import web.console.figures as figures

    computed: list[str] = []
    real = figures.evaluate

    async def counted(**kwargs):  # type: ignore[no-untyped-def]
        computed.append(str(kwargs["start"]))
        await asyncio.sleep(0.05)  # long enough for every reader to arrive meanwhile
        return await real(**kwargs)

    monkeypatch.setattr(figures, "evaluate", counted)
    async with console_client(container) as client:
        await signed_in(container, client, "lead", role="leadership")
        pages = await asyncio.gather(*(client.get("/console/evaluasi?" + WEEK)
                                       for _ in range(8)))
    assert {page.status_code for page in pages} == {200}
    assert sorted(computed) == ["2026-11-30", "2026-12-07"]
