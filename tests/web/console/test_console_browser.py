"""The console in a real browser: Debian's Chromium driven by Playwright, against the app served
on loopback by uvicorn, with the Telegram Bot API double standing in for Telegram."""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from agencies_kit import file_report, flush_outbox, history, staff
from bot.app import create_app
from console_kit import link_for

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
HAVE_CHROMIUM = Path(CHROMIUM).exists()
# Screenshots of each page go where EMAS_SCREENSHOT_DIR says; docs/console/ is made with
#   EMAS_SCREENSHOT_DIR=docs/console .venv/bin/pytest tests/web/console/test_console_browser.py
# A failure's screenshot always goes to the test's own temporary folder.
SHOTS = os.environ.get("EMAS_SCREENSHOT_DIR")
VIEWPORTS = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 390, "height": 844}}
# As this machine's closed network needs them (no background calls to Google's hosts).
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
async def served(telegram) -> AsyncIterator[tuple[Any, str]]:
    """The app (with its Telegram channel) on a loopback port, as `emas serve` runs it."""
    box = telegram.box
    port = _free_port()
    box.settings = box.settings.model_copy(update={"public_url": None, "port": port})
    app = create_app(box.settings, container=box, start_channels=False)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning",
                                           lifespan="off"))
    task = asyncio.create_task(server.serve())
    while not server.started:  # noqa: ASYNC110 - uvicorn offers no event to wait on
        await asyncio.sleep(0.02)
    try:
        yield telegram, f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


@pytest.fixture
async def browser() -> AsyncIterator[Any]:
    from playwright.async_api import async_playwright

    assert HAVE_CHROMIUM, "Chromium is missing: apt-get install chromium (.ci/run does)"
    async with async_playwright() as driver:
        launched = await driver.chromium.launch(executable_path=CHROMIUM, headless=True,
                                                args=FLAGS)
        try:
            yield launched
        finally:
            await launched.close()


async def _page(browser: Any, viewport: str, errors: list[str]) -> Any:
    context = await browser.new_context(viewport=VIEWPORTS[viewport], locale="id-ID")
    page = await context.new_page()
    page.on("console", lambda m: errors.append(m.text) if m.type in ("error", "warning")
            else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    return page


async def _shot(page: Any, name: str, folder: Path | None = None) -> None:
    target = folder or (Path(SHOTS) if SHOTS else None)
    if target is None:
        return
    target.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(target / f"{name}.png"), full_page=True)


@pytest.mark.parametrize("viewport", ["desktop", "phone"])
async def test_staff_triage_a_report_to_resolved_in_the_browser(served, browser, tmp_path: Path,
                                                                viewport: str) -> None:
    env, base = served
    box = env.box
    resident = 700_321
    report = await file_report(box, user=str(resident), channel="telegram",
                               description="Jalan berlubang besar di depan SD Negeri 5, "
                                           "berbahaya bagi anak sekolah")
    await staff(box, "sari", role="kominfo", name="Sari (Kominfo)")
    await staff(box, "budi", role="officer", agency="putr", name="Budi (PUTR)")
    errors: list[str] = []
    page = await _page(browser, viewport, errors)
    try:
        # Kominfo: from the login link to the inbox, the report, verified and passed on.
        await page.goto(base + await link_for(box, "sari"))
        assert page.url == base + "/console/"
        await page.get_by_role("link", name=report.ticket).wait_for()
        await _shot(page, f"inbox-{viewport}")
        await page.get_by_role("link", name=report.ticket).click()
        await page.get_by_role("heading", name=report.ticket).wait_for()
        await _shot(page, f"report-{viewport}")
        await page.get_by_label("Teruskan ke").select_option("putr")
        await page.get_by_role("button", name="Verifikasi dan teruskan").click()
        await page.get_by_text("Tersimpan.").wait_for()
        await page.get_by_role("button", name="Keluar").click()
        await page.get_by_role("heading", name="Masuk ke konsol petugas").wait_for()

        # The agency's officer: the report is in their inbox; resolve it with a note.
        await page.goto(base + await link_for(box, "budi"))
        await page.get_by_role("link", name=report.ticket).click()
        await page.get_by_label("Apa yang sudah dikerjakan (dibaca pelapor)").fill(
            "Lubang sudah ditambal hari ini")
        await page.get_by_role("button", name="Tandai selesai").click()
        await page.get_by_text("Tersimpan.").wait_for()
        assert "Selesai ditangani" in await page.content() or \
            "Diselesaikan" in await page.content()
    except Exception:
        await _shot(page, f"failure-{viewport}", tmp_path)
        print(f"screenshot of the failure: {tmp_path}/failure-{viewport}.png")
        raise
    finally:
        await page.context.close()

    await flush_outbox(box)
    said = "\n".join(env.double.texts_to(resident))
    assert "Lubang sudah ditambal hari ini" in said and report.ticket in said
    assert [e.status for e in await history(box, report.id or 0)][-1] == "resolved"
    assert errors == []


async def test_the_inbox_filters_without_a_reload_and_fits_a_phone(served, browser) -> None:
    env, base = served
    box = env.box
    await file_report(box, user="w1", description="Jalan berlubang di Jl. Kartini dekat pasar")
    await file_report(box, user="w2", category="sampah",
                      description="Sampah tidak diangkut sudah tiga hari")
    await staff(box, "sari", role="kominfo")
    errors: list[str] = []
    page = await _page(browser, "phone", errors)
    await page.goto(base + await link_for(box, "sari"))
    await page.get_by_label("Cari").fill("diangkut")
    await page.get_by_label("Cari").press("Enter")
    await page.wait_for_function(
        "() => document.querySelectorAll('#rows tbody tr').length === 1")
    assert "q=diangkut" in page.url  # the filter is in the address, to share or go back to
    width = await page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= 390, f"the page scrolls sideways on a phone ({width}px)"
    await page.context.close()
    assert errors == []


async def test_the_evaluation_prints_one_agency_per_a4_page(served, browser) -> None:
    env, base = served
    box = env.box
    for n, category in enumerate(("jalan_rusak", "sampah", "jalan_rusak")):
        await file_report(box, user=f"w{n}", category=category)
    await staff(box, "wali", role="leadership", name="Wali Kota")
    errors: list[str] = []
    page = await _page(browser, "desktop", errors)
    await page.goto(base + await link_for(box, "wali"))
    assert page.url.endswith("/console/evaluasi")  # leadership opens on the figures
    await page.goto(base + "/console/evaluasi?from=2026-12-07&to=2026-12-13")
    await page.get_by_role("heading", name="Per perangkat daerah").wait_for()
    await _shot(page, "evaluation-desktop")
    await page.emulate_media(media="print")
    assert await page.locator(".agency-page").count() == 2
    assert await page.locator(".agency-page").first.is_visible()
    assert not await page.locator("header.bar").is_visible()
    pdf = await page.pdf(format="A4")
    pages = pdf.count(b"/Type /Page") - pdf.count(b"/Type /Pages")
    assert pages >= 3, pages  # the city's figures, then one page for each agency
    await page.emulate_media(media="screen")
    await page.goto(base + "/console/peta")
    await page.locator("svg.map path").first.wait_for()
    await _shot(page, "map-desktop")
    await page.context.close()
    assert errors == []


async def test_kominfo_sends_a_campaign_and_watches_it_go_out(served, browser) -> None:
    from broadcasting import PAHLAWAN, add_subscribers, running

    env, base = served
    box = env.box
    residents = [str(700_400 + n) for n in range(3)]
    await add_subscribers(box.db, box.city, box.settings, residents)
    await staff(box, "sari", role="kominfo", name="Sari (Kominfo)")
    errors: list[str] = []
    page = await _page(browser, "phone", errors)
    try:
        await page.goto(base + await link_for(box, "sari"))
        await page.goto(base + "/console/kampanye/baru")
        await page.get_by_label("Judul (untuk petugas)").fill("Jadwal posyandu")
        await page.get_by_label("Teks bahasa Indonesia").fill(
            "Posyandu Kelurahan Pahlawan buka Sabtu pukul 08.00.")
        await page.get_by_text("KIM Kecamatan Binjai Utara").click()  # opens its list
        await page.locator(f'input[name="groups"][value="kim:{PAHLAWAN}"]').check()
        await page.get_by_role("button", name="Pratinjau").click()
        await page.get_by_role("heading", name="Pratinjau").wait_for()
        width = await page.evaluate("() => document.documentElement.scrollWidth")
        wide = await page.evaluate(
            "() => [...document.querySelectorAll('body *')].filter(e => "
            "e.getBoundingClientRect().right > 390).slice(0, 5).map(e => e.tagName + '.' + "
            "e.className + ':' + Math.round(e.getBoundingClientRect().right))")
        assert width <= 390, f"the page scrolls sideways on a phone ({width}px): {wide}"
        await _shot(page, "campaign-compose-phone")
        await page.get_by_role("button", name="Simpan sebagai draf").click()
        await page.get_by_role("button", name="Kirim sekarang").click()
        await page.get_by_text("Selesai.").wait_for()
        async with running(box.broadcasts.build_dispatcher(idle_poll=0.05)):
            # The progress block refreshes itself (htmx, every 3 s) until all are sent.
            await page.get_by_text("terkirim / 3").wait_for(timeout=15_000)
            await page.locator("#progress .big").first.filter(has_text="3").wait_for(
                timeout=15_000)
        await _shot(page, "campaign-progress-phone")
    finally:
        await page.context.close()
    for resident in residents:
        assert any("Posyandu" in t for t in env.double.texts_to(int(resident)))
    assert errors == []


@pytest.mark.parametrize("viewport", ["desktop", "phone"])
async def test_every_kominfo_page_fits_the_screen_without_errors(served, browser,
                                                                  viewport: str) -> None:
    from broadcasting import add_subscribers

    env, base = served
    box = env.box
    report = await file_report(box, user="w1")
    await add_subscribers(box.db, box.city, box.settings, ["700701", "700702"])
    await staff(box, "sari", role="kominfo", name="Sari (Kominfo)")
    errors: list[str] = []
    page = await _page(browser, viewport, errors)
    width = VIEWPORTS[viewport]["width"]
    await page.goto(base + await link_for(box, "sari"))
    for name, path in (("inbox", "/console/"), ("report", f"/console/reports/{report.ticket}"),
                       ("evaluation", "/console/evaluasi"), ("map", "/console/peta"),
                       ("campaigns", "/console/kampanye"), ("questions", "/console/faq"),
                       ("subscribers", "/console/pelanggan"), ("staff", "/console/petugas"),
                       ("audit", "/console/audit"), ("suggestions", "/console/saran"),
                       ("sources", "/console/sumber")):
        answer = await page.goto(base + path)
        assert answer is not None and answer.status == 200, path
        scrolled = await page.evaluate("() => document.documentElement.scrollWidth")
        assert scrolled <= width, f"{path} scrolls sideways ({scrolled}px)"
        await _shot(page, f"{name}-{viewport}")
    await page.context.close()
    assert errors == []


@pytest.mark.parametrize("viewport", ["desktop", "phone"])
async def test_a_poll_and_its_results_fit_the_screen(served, browser, viewport: str) -> None:
    """The polls pages with answers in: charts, the map and the tables stay within a phone's
    width, with no script or style refused by the page's policy."""
    from broadcasting import BERNGAM, add_subscribers
    from polling import create_poll, dispatch, get_poll, question, service

    env, base = served
    box = env.box
    people = [str(700_800 + n) for n in range(4)]
    await add_subscribers(box.db, box.city, box.settings, people[:3])
    await add_subscribers(box.db, box.city, box.settings, people[3:], kelurahan=BERNGAM,
                          groups=["kim:" + BERNGAM])
    poll_id = await create_poll(
        box, question("Setujukah Bapak/Ibu car free day setiap Minggu pagi di Jl. Sudirman?",
                      "Setuju", "Tidak setuju", "Ragu-ragu, perlu penjelasan lebih dahulu",
                      allow_text=True), groups=["kim:12.75.01", "kim:12.75.02"])
    poll = await get_poll(box, poll_id)
    assert poll.campaign_id is not None
    await dispatch(box, poll.campaign_id)
    async with box.db.session() as session:
        polls = service(box, session)
        for n, person in enumerate(people):
            await polls.answer(poll_id=poll_id, position=0, channel="telegram", address=person,
                               option=n % 3 if n < 3 else None,
                               text="Jalan Sudirman jadi lebih tenang" if n == 3 else None)
    await staff(box, "sari", role="kominfo", name="Sari (Kominfo)")
    errors: list[str] = []
    page = await _page(browser, viewport, errors)
    width = VIEWPORTS[viewport]["width"]
    await page.goto(base + await link_for(box, "sari"))
    for name, path in (("polls", "/console/jajak"), ("poll-compose", "/console/jajak/baru"),
                       ("quiz-compose", "/console/jajak/baru?jenis=kuis"),
                       ("poll-results", f"/console/jajak/{poll_id}"),
                       ("quiz-leaderboard", "/console/jajak/peringkat")):
        answer = await page.goto(base + path)
        assert answer is not None and answer.status == 200, path
        scrolled = await page.evaluate("() => document.documentElement.scrollWidth")
        assert scrolled <= width, f"{path} scrolls sideways ({scrolled}px)"
        await _shot(page, f"{name}-{viewport}")
    await page.context.close()
    assert errors == []
