"""The public pages in a real browser (Debian's Chromium through Playwright, as the console's
browser tests drive it): at phone size they fit the screen, run no script and log no error."""

from __future__ import annotations

from console_kit import console_client, signed_in
from public_kit import done, pass_on, resident_report
from tests.web.console.test_console_browser import _page, _shot, browser, served  # noqa: F401

PHONE = 390


async def test_the_public_pages_fit_a_phone_without_errors(served, browser) -> None:  # noqa: F811
    env, base = served
    box = env.box
    seeded = await resident_report(
        box, chat_id=612_000_090, name="Rahmat", phone="+6281200000090", photos=1,
        description="Lubang besar di Jalan Sudirman, sangat berbahaya bagi pengendara motor "
                    "yang lewat pada malam hari karena lampu jalan juga mati")
    ticket = seeded.report.ticket
    async with console_client(box) as client:
        await signed_in(box, client, "sari", role="kominfo")
        await pass_on(client, seeded.report)
        await done(client, ticket, "publish_text", text=seeded.report.description)
        await done(client, ticket, "publish_photo", photo_id=str(seeded.photos[0].id))
        await done(client, ticket, "resolve",
                   note="Lubang sudah ditambal dan lampu jalan sudah diganti oleh petugas")
    errors: list[str] = []
    page = await _page(browser, "phone", errors)
    try:
        for name, path in (("city", "/"), ("city-en", "/?lang=en"), ("report", f"/t/{ticket}"),
                           ("report-en", f"/t/{ticket}?lang=en")):
            answer = await page.goto(base + path)
            assert answer is not None and answer.status == 200, path
            assert await page.evaluate("() => document.scripts.length") == 0, path
            scrolled = await page.evaluate("() => document.documentElement.scrollWidth")
            assert scrolled <= PHONE, f"{path} scrolls sideways on a phone ({scrolled}px)"
            await _shot(page, f"public-{name}-phone")
        photo = page.locator(f'img[src="/t/{ticket}/foto/{seeded.photos[0].id}"]')
        assert await photo.evaluate("img => img.complete && img.naturalWidth > 0")
        await page.goto(base + f"/t/{ticket}")  # Indonesian, as the receipt's link opens
        await page.get_by_role("link", name="English").click()
        await page.get_by_role("heading", name=f"Report {ticket}").wait_for()
        await page.get_by_role("link", name="e-Masyarakat Kota Binjai").click()
        await page.get_by_role("heading", name="This month in Kota Binjai").wait_for()
        await page.get_by_role("link", name=ticket).click()
        await page.get_by_text("Lubang sudah ditambal").wait_for()
        assert page.url == f"{base}/t/{ticket}?lang=en"
    finally:
        await page.context.close()
    assert errors == []
