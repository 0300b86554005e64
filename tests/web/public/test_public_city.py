"""The city's public page (`/`): this month in Binjai, light and served from a cache."""

from __future__ import annotations

import re

from agencies_kit import KARTINI, TANGSI, file_report
from bot.app import Container
from console_kit import console_client, signed_in
from public_kit import done, pass_on

LIMIT = 200 * 1024


def _received(page: str) -> int:
    found = re.search(r'<span class="big">([\d.]+)</span>laporan diterima', page)
    assert found, "no count of reports received"
    return int(found.group(1).replace(".", ""))


async def test_the_city_page_shows_this_month_per_agency(container: Container, clock) -> None:
    clock.advance(days=-10)  # November: not this month
    await file_report(container, user="w0")
    clock.advance(days=10)
    roads = [await file_report(container, user=f"w{n}",
                               description=f"Jalan berlubang nomor {n} dekat rumah Pak Harun")
             for n in (1, 2)]
    roads.append(await file_report(container, user="w3", kelurahan=TANGSI))
    rubbish = await file_report(container, user="w4", category="sampah")
    async with console_client(container) as client:
        await signed_in(container, client, "sari", role="kominfo")
        for report in [*roads, rubbish]:
            await pass_on(client, report)
        clock.advance(hours=2)
        await done(client, roads[0].ticket, "resolve", note="Sudah ditambal")
        client.cookies.clear()
        clock.advance(minutes=10)
        page = await client.get("/")
    assert page.status_code == 200
    assert page.headers["cache-control"].startswith("public")
    assert page.headers["content-language"] == "id"
    assert "set-cookie" not in page.headers
    text = page.text
    assert "Bulan ini di Kota Binjai" in text
    assert _received(text) == 4
    putr = text[text.index(">Dinas PUTR<"):].split("</tr>")[0]
    cells = [c.strip() for c in re.findall(r"<td>(.*?)</td>", putr, re.S)]
    assert cells[:3] == ["3", "1", "100%"]  # received, resolved, answered on time
    assert ">DLH<" in text
    # The map: every kelurahan drawn, Kartini (three reports) in the darkest shade, no links.
    assert text.count("<path ") == 37
    assert "<a href" not in text[text.index("<svg"):text.index("</svg>")]
    assert re.search(r'<path class="q4"[^>]*><title>Kartini: 3 laporan</title>', text)
    # The latest resolved report, with public fields only.
    recent = text[text.index("Baru selesai ditangani"):]
    assert f'href="/t/{roads[0].ticket}"' in recent
    assert "Jalan berlubang nomor" not in text and "Pak Harun" not in text
    assert "CC BY 4.0" in text and 'href="/data/reports.csv"' in text
    assert KARTINI not in text  # codes stay in the data; people read names


async def test_the_city_page_weighs_less_than_200_kb_with_its_styles(container: Container,
                                                                     clock) -> None:
    """A busy month: every kelurahan with reports, ten resolved; the page, its stylesheets and
    its icon together stay under 200 KB, with no script to download."""
    kelurahan = [k.code for k in container.city.all_kelurahan()]
    reports = [await file_report(container, user=f"w{n}", kelurahan=kelurahan[n % len(kelurahan)],
                                 category=("jalan_rusak", "sampah", "pju", "drainase")[n % 4])
               for n in range(80)]
    async with console_client(container) as client:
        await signed_in(container, client, "sari", role="kominfo")
        for report in reports[:12]:
            await pass_on(client, report)
            await done(client, report.ticket, "resolve", note="Sudah ditangani petugas")
        client.cookies.clear()
        page = await client.get("/?lang=en")
        assets = re.findall(r'<link rel="(?:stylesheet|icon)" href="([^"]+)"', page.text)
        sizes = {path: len((await client.get(path)).content) for path in assets}
    total = len(page.content) + sum(sizes.values())
    print(f"city page {len(page.content)} bytes, with its assets {total} bytes")
    assert set(sizes) == {"/static/console.css", "/static/public.css", "/static/favicon.svg"}
    assert total < LIMIT, total
    assert "<script" not in page.text.lower()
    assert page.text.count('href="/t/') == 10


async def test_a_new_report_shows_after_the_refresh_not_before(container: Container,
                                                               clock) -> None:
    await file_report(container, user="w1")
    async with console_client(container) as client:
        first = await client.get("/")
        await file_report(container, user="w2")
        clock.advance(minutes=4)
        cached = await client.get("/")
        english = await client.get("/?lang=en")
        clock.advance(minutes=1, seconds=1)
        refreshed = await client.get("/")
    assert _received(first.text) == 1
    assert _received(cached.text) == 1
    assert "1</span>reports received" in english.text  # one computation, every language
    assert _received(refreshed.text) == 2


async def test_earlier_months_can_be_read_and_odd_months_fall_back(container: Container,
                                                                   clock) -> None:
    clock.advance(days=-10)
    await file_report(container, user="w0")
    await file_report(container, user="w1")
    clock.advance(days=10)
    await file_report(container, user="w2")
    async with console_client(container) as client:
        november = await client.get("/?month=2026-11&lang=en")
        this = await client.get("/")
        future = await client.get("/?month=2027-01")
        nonsense = await client.get("/?month=abc")
    assert "November 2026 in Kota Binjai" in november.text
    assert "2</span>reports received" in november.text
    assert 'href="/?month=2026-12&amp;lang=en"' in november.text  # next month, language kept
    assert _received(this.text) == 1
    assert 'href="/?month=2026-11"' in this.text and "month=2027" not in this.text
    assert _received(future.text) == 1 and _received(nonsense.text) == 1
