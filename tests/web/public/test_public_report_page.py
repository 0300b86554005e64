"""A report's public page (`/t/<ticket>`) and its photos, as anyone with the link sees them."""

from __future__ import annotations

import io
import re

from PIL import Image

from agencies_kit import file_report
from bot.app import Container
from console_kit import console_client, signed_in
from public_kit import done, pass_on, resident_report


def _public_headers_ok(answer) -> None:
    """Cacheable by browsers and shared caches, no cookie, no script allowed to run."""
    assert answer.headers["cache-control"].startswith("public, max-age=")
    assert "set-cookie" not in answer.headers
    csp = answer.headers["content-security-policy"]
    assert "default-src 'none'" in csp and "script-src" not in csp
    assert "<script" not in answer.text.lower()


async def test_a_passed_on_report_shows_its_public_fields_and_history(container: Container,
                                                                      clock) -> None:
    seeded = await resident_report(container, chat_id=612_000_001, name="Siti Rahmawati",
                                   phone="+6281377712345",
                                   description="Jalan berlubang di depan rumah saya",
                                   address="Jl. Mawar No. 17")
    ticket = seeded.report.ticket
    async with console_client(container) as client:
        await signed_in(container, client, "sari", role="kominfo")
        clock.advance(hours=2)
        await pass_on(client, seeded.report)
        clock.advance(hours=3)
        await done(client, ticket, "progress", note="Tim sedang mengukur lubang")
        clock.advance(hours=3)
        await done(client, ticket, "resolve", note="Lubang sudah ditambal dengan aspal")
        client.cookies.clear()
        page = await client.get(f"/t/{ticket}")
    assert page.status_code == 200
    _public_headers_ok(page)
    text = page.text
    assert f"Laporan {ticket}" in text
    assert "Jalan rusak/berlubang" in text  # the category, as Indonesian readers know it
    assert "Kelurahan Kartini, Kecamatan Binjai Kota" in text
    assert "Dinas Pekerjaan Umum dan Tata Ruang" in text
    history = text[text.index("Riwayat"):]
    steps = re.findall(r"<time[^>]*>([^<]+)</time> <strong>([^<]+)</strong>", history)
    assert steps[0] == ("Senin, 7 Des 2026 09.00 WIB", "Diterima")
    assert [label for _when, label in steps][-1] == "Selesai ditangani instansi"
    assert "Tim sedang mengukur lubang" in text and "Lubang sudah ditambal dengan aspal" in text
    # The resident's words wait for staff's approval; the reporter and the address never show.
    assert "Jalan berlubang di depan rumah saya" not in text
    assert "Isi laporan warga dipublikasikan hanya setelah diperiksa petugas." in text
    for private in ("Siti", "81377712345", "612000001", "Jl. Mawar"):
        assert private not in text


async def test_a_report_awaiting_verification_says_only_that_it_was_received(
        container: Container) -> None:
    report = await file_report(container, user="w1", description="Lampu jalan mati di gang")
    async with console_client(container) as client:
        page = await client.get(f"/t/{report.ticket}")
    assert page.status_code == 200
    assert "Diterima, sedang diperiksa" in page.text
    for unchecked in ("Jalan rusak", "Kartini", "Lampu jalan mati", "Kategori"):
        assert unchecked not in page.text


async def test_a_rejected_report_says_only_that_it_was_not_processed(
        container: Container) -> None:
    report = await file_report(container, user="w1", description="kata-kata kasar dan iklan")
    async with console_client(container) as client:
        await signed_in(container, client, "sari", role="kominfo")
        await done(client, report.ticket, "reject", reason="abusive")
        client.cookies.clear()
        page = await client.get(f"/t/{report.ticket}")
    assert page.status_code == 200
    assert "Tidak diproses" in page.text
    for hidden in ("kata-kata kasar", "Jalan rusak", "Kartini", "kasar atau menyinggung"):
        assert hidden not in page.text


async def test_an_unknown_ticket_gets_a_friendly_page_not_found(container: Container) -> None:
    async with console_client(container) as client:
        unknown = await client.get("/t/BJI-2026-999999")
        odd = await client.get("/t/%3Cb%3Ehi%3C%2Fb%3E")
        lower = await client.get("/t/bji-2026-000001?lang=en")
    assert unknown.status_code == 404
    assert "Laporan tidak ditemukan" in unknown.text
    assert "BJI-2026-999999" in unknown.text and 'href="/"' in unknown.text
    _public_headers_ok(unknown)
    assert odd.status_code == 404 and "<b>hi" not in odd.text
    assert lower.status_code == 301
    assert lower.headers["location"] == "/t/BJI-2026-000001?lang=en"


async def test_a_duplicate_links_to_the_report_it_repeats(container: Container) -> None:
    first = await file_report(container, user="w1")
    second = await file_report(container, user="w2")
    async with console_client(container) as client:
        await signed_in(container, client, "sari", role="kominfo")
        await pass_on(client, first)
        await done(client, second.ticket, "duplicate", original=first.ticket)
        client.cookies.clear()
        page = await client.get(f"/t/{second.ticket}")
    assert "Digabung dengan laporan sebelumnya" in page.text
    assert f'href="/t/{first.ticket}"' in page.text


async def test_photos_are_public_only_once_approved_and_carry_no_metadata(
        container: Container) -> None:
    seeded = await resident_report(container, chat_id=612_000_002, name="Rahmat",
                                   phone="+6281200000002", description="Parit tersumbat",
                                   photos=2)
    ticket = seeded.report.ticket
    first, second = (p.id for p in seeded.photos)
    async with console_client(container) as client:
        await signed_in(container, client, "sari", role="kominfo")
        await pass_on(client, seeded.report)
        before = await client.get(f"/t/{ticket}/foto/{first}")
        await done(client, ticket, "publish_photo", photo_id=str(first))
        client.cookies.clear()
        page = (await client.get(f"/t/{ticket}")).text
        photo = await client.get(f"/t/{ticket}/foto/{first}")
        other = await client.get(f"/t/{ticket}/foto/{second}")
        elsewhere = await client.get(f"/t/BJI-2026-999999/foto/{first}")
        await signed_in(container, client, "sari")
        await done(client, ticket, "withdraw_photo", photo_id=str(first))
        client.cookies.clear()
        withdrawn = await client.get(f"/t/{ticket}/foto/{first}")
    assert before.status_code == 404
    assert f'src="/t/{ticket}/foto/{first}"' in page
    assert f"/foto/{second}" not in page
    assert photo.status_code == 200 and photo.headers["content-type"] == "image/jpeg"
    assert photo.headers["cache-control"].startswith("public, max-age=")
    assert "set-cookie" not in photo.headers
    with Image.open(io.BytesIO(photo.content)) as image:
        assert not image.getexif()  # no GPS position, no owner's name
        assert "exif" not in image.info
    assert b"Budi Santoso" not in photo.content
    assert other.status_code == 404 and elsewhere.status_code == 404
    assert withdrawn.status_code == 404


async def test_odd_photo_addresses_are_not_found(container: Container) -> None:
    async with console_client(container) as client:
        answers = [await client.get(path) for path in (
            "/t/BJI-2026-000001/foto/abc", "/t/BJI-2026-000001/foto/99999999999999",
            "/t/BJI-2026-000001/foto/-1")]
    assert [a.status_code for a in answers] == [404, 404, 404]
