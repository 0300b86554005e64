"""The public pages speak Indonesian by default and English when the address (`?lang=en`) or
the browser (Accept-Language) asks for it; links keep a language the address chose."""

from __future__ import annotations

import re

import pytest

from agencies_kit import file_report
from bot.app import Container
from console_kit import console_client, signed_in
from public_kit import done, pass_on
from web.public.base import accepted_language


@pytest.mark.parametrize(("header", "expected"), [
    (None, "id"), ("", "id"), ("en-US,en;q=0.9", "en"), ("id-ID,id;q=0.9,en;q=0.8", "id"),
    ("fr-FR, en;q=0.5", "en"), ("en;q=0.4, in;q=0.8", "id"), ("fr, de", "id"),
    ("en;q=0", "id"), ("en;q=abc", "id"), ("*", "id"),
])
def test_the_browser_language_is_read_from_accept_language(header: str | None,
                                                            expected: str) -> None:
    assert accepted_language(header) == expected


async def test_lang_in_the_address_switches_the_language_and_the_links_keep_it(
        container: Container, clock) -> None:
    report = await file_report(container, user="w1")
    async with console_client(container) as client:
        await signed_in(container, client, "sari", role="kominfo")
        await pass_on(client, report)
        await done(client, report.ticket, "resolve", note="Sudah ditambal")
        client.cookies.clear()
        clock.advance(minutes=10)
        city = await client.get("/?lang=en")
        ticket = await client.get(f"/t/{report.ticket}?lang=en")
        indonesian = await client.get(f"/t/{report.ticket}?lang=id",
                                      headers={"Accept-Language": "en"})
    assert city.headers["content-language"] == "en"
    assert "This month in Kota Binjai" in city.text and "Per agency" in city.text
    assert f'href="/t/{report.ticket}?lang=en"' in city.text
    assert 'href="/data/reports.csv?lang=en"' in city.text
    assert 'class="brand" href="/?lang=en"' in city.text
    assert 'href="/?lang=id"' in city.text  # the switch back to Indonesian
    assert "Resolved by the agency" in ticket.text
    assert "Monday, 7 Dec 2026 09:00 WIB" in ticket.text
    assert "Damaged road / pothole" in ticket.text
    assert indonesian.headers["content-language"] == "id"
    assert "Selesai ditangani instansi" in indonesian.text
    assert "Senin, 7 Des 2026 09.00 WIB" in indonesian.text


async def test_the_browser_language_is_used_when_the_address_names_none(
        container: Container) -> None:
    report = await file_report(container, user="w1")
    async with console_client(container) as client:
        english = await client.get(f"/t/{report.ticket}",
                                   headers={"Accept-Language": "en-GB,en;q=0.9"})
        odd = await client.get(f"/t/{report.ticket}?lang=xx",
                               headers={"Accept-Language": "en"})
        plain = await client.get(f"/t/{report.ticket}")
    assert english.headers["content-language"] == "en"
    assert english.headers["vary"] == "Accept-Language"
    assert "Received, being checked" in english.text
    # A language from the browser is not written into links: the address stays shareable.
    assert not re.search(r'href="/[^"]*lang=en', english.text)
    assert f'href="/t/{report.ticket}?lang=id"' in english.text
    assert odd.headers["content-language"] == "en"
    assert plain.headers["content-language"] == "id"
    assert "Diterima, sedang diperiksa" in plain.text
