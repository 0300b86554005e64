"""Kominfo decides in the console what a report's public page shows: photos, the description
(edited to remove names and plates) and the agency's notes; each decision audited, checked
against a stale page and a forged form, and refused for a confidential category."""

from __future__ import annotations

import pytest

from bot.app import Container
from console_kit import act, console_client, form_token, signed_in, version
from public_kit import done, pass_on, resident_report
from reports.publishing import Publishing, Unpublishable
from storage import repo_console, repo_public
from storage.models import Report

PLATE = "BK 1234 XY"


async def _audit(box: Container, ticket: str) -> list[tuple[str, dict]]:
    async with box.db.reader() as session:
        entries = await repo_console.list_audit(session=session, target=ticket,
                                                action="report.")
    return [(e.action, e.detail) for e in reversed(entries)]


async def test_kominfo_publishes_an_edited_description_then_withdraws_it(
        container: Container) -> None:
    seeded = await resident_report(
        container, chat_id=612_000_010, name="Siti Rahmawati", phone="+6281377712345",
        description=f"Mobil {PLATE} parkir di atas trotoar setiap pagi")
    ticket = seeded.report.ticket
    async with console_client(container) as client:
        await signed_in(container, client, "sari", role="kominfo")
        await pass_on(client, seeded.report)
        console_page = (await client.get(f"/console/reports/{ticket}")).text
        await done(client, ticket, "publish_text",
                   text="Mobil parkir di atas trotoar setiap pagi")
        saved = (await client.get(f"/console/reports/{ticket}?done=publish_text")).text
        client.cookies.clear()
        published = (await client.get(f"/t/{ticket}")).text
        await signed_in(container, client, "sari")
        await done(client, ticket, "withdraw_text")
        client.cookies.clear()
        withdrawn = (await client.get(f"/t/{ticket}")).text
    assert "Halaman publik" in console_page and 'value="publish_text"' in console_page
    assert "Tersimpan. Halaman publik menampilkannya dalam satu menit." in saved
    assert "Dipublikasikan (sudah disunting):" in saved
    assert "Mobil parkir di atas trotoar setiap pagi" in published
    assert PLATE not in published
    assert "Mobil parkir di atas trotoar" not in withdrawn
    audit = await _audit(container, ticket)
    assert [a for a, _d in audit if a.startswith("report.publish") or "withdraw" in a] == [
        "report.publish_text", "report.withdraw_text"]
    assert dict(audit)["report.publish_text"]["edited"] is True


async def test_the_agency_notes_are_public_until_kominfo_hides_one(container: Container) -> None:
    seeded = await resident_report(container, chat_id=612_000_011, name="Rahmat",
                                   phone="+6281200000011", description="Sampah menumpuk",
                                   category="sampah")
    ticket = seeded.report.ticket
    async with console_client(container) as client:
        await signed_in(container, client, "sari", role="kominfo")
        await pass_on(client, seeded.report)
        await done(client, ticket, "resolve", note="Sampah sudah diangkut truk DLH")
        client.cookies.clear()
        shown = (await client.get(f"/t/{ticket}")).text
        await signed_in(container, client, "sari")
        page = (await client.get(f"/console/reports/{ticket}")).text
        event = page.split('name="event_id" value="')[1].split('"')[0]
        await done(client, ticket, "hide_note", event_id=event)
        client.cookies.clear()
        hidden = (await client.get(f"/t/{ticket}")).text
        await signed_in(container, client, "sari")
        await done(client, ticket, "show_note", event_id=event)
        client.cookies.clear()
        again = (await client.get(f"/t/{ticket}")).text
    assert "Sampah sudah diangkut truk DLH" in shown
    assert "Sampah sudah diangkut truk DLH" not in hidden
    assert "Selesai ditangani instansi" in hidden  # the step stays, without its words
    assert "Sampah sudah diangkut truk DLH" in again
    actions = [a for a, _d in await _audit(container, ticket)]
    assert actions[-2:] == ["report.hide_note", "report.show_note"]


async def test_a_note_naming_the_reporter_stays_hidden_until_kominfo_shows_it(
        container: Container) -> None:
    seeded = await resident_report(container, chat_id=612_000_012, name="Siti Rahmawati",
                                   phone="+6281377712399", description="Lampu jalan mati",
                                   category="pju")
    ticket = seeded.report.ticket
    async with console_client(container) as client:
        await signed_in(container, client, "sari", role="kominfo")
        await pass_on(client, seeded.report)
        await done(client, ticket, "resolve",
                   note="Lampu sudah diganti, terima kasih Ibu Siti Rahmawati")
        console_page = (await client.get(f"/console/reports/{ticket}")).text
        client.cookies.clear()
        public = (await client.get(f"/t/{ticket}")).text
    assert "Siti Rahmawati" not in public and "Lampu sudah diganti" not in public
    assert "disembunyikan dari publik" in console_page


async def test_the_public_text_may_not_name_the_reporter(container: Container) -> None:
    seeded = await resident_report(container, chat_id=612_000_013, name="Siti Rahmawati",
                                   phone="+6281377712345", description="Jalan rusak parah")
    ticket = seeded.report.ticket
    async with console_client(container) as client:
        await signed_in(container, client, "sari", role="kominfo")
        await pass_on(client, seeded.report)
        by_name = await act(client, ticket, "publish_text",
                            text="Jalan rusak parah kata siti rahmawati")
        by_phone = await act(client, ticket, "publish_text",
                             text="Jalan rusak parah, hubungi 0813-7771-2345")
        client.cookies.clear()
        public = (await client.get(f"/t/{ticket}")).text
    for refused in (by_name, by_phone):
        assert refused.status_code == 400
        assert "Teks masih menyebut pelapor" in refused.text
    assert "Jalan rusak parah" not in public
    assert [a for a, _d in await _audit(container, ticket) if "publish" in a] == []


async def test_a_confidential_category_is_never_published(container: Container) -> None:
    seeded = await resident_report(
        container, chat_id=612_000_014, name="Rahmat", phone="+6281200000014",
        category="pungli", description="Oknum petugas meminta uang pelicin Rp 500.000",
        point=(3.605123, 98.492456), photos=1)
    ticket = seeded.report.ticket
    photo = seeded.photos[0].id
    async with console_client(container) as client:
        await signed_in(container, client, "sari", role="kominfo")
        await pass_on(client, seeded.report)
        await done(client, ticket, "resolve", note="Oknum sudah diperiksa Inspektorat")
        page = (await client.get(f"/console/reports/{ticket}")).text
        text = await act(client, ticket, "publish_text", text="Ada pungli")
        picture = await act(client, ticket, "publish_photo", photo_id=str(photo))
        client.cookies.clear()
        public = await client.get(f"/t/{ticket}")
        served = await client.get(f"/t/{ticket}/foto/{photo}")
    # The console does not offer it ...
    assert "Kategori ini rahasia" in page
    assert 'value="publish_text"' not in page and 'value="publish_photo"' not in page
    # ... a forged form is refused by the domain, and nothing is kept or audited.
    for refused in (text, picture):
        assert refused.status_code == 403
        assert "Kategori laporan ini rahasia" in refused.text
    assert served.status_code == 404
    assert "Ada pungli" not in public.text and "uang pelicin" not in public.text
    assert "Oknum sudah diperiksa" not in public.text  # notes hidden unless shown
    assert "dirahasiakan" in public.text
    assert [a for a, _d in await _audit(container, ticket) if "publish" in a] == []
    async with container.db.reader() as session:
        assert await repo_public.get_public_photo(session=session, photo_id=photo) is None
        row = await repo_public.get_publication(session=session,
                                                report_id=seeded.report.id or 0)
        assert row is None or row.description is None


async def test_the_domain_refuses_to_publish_a_confidential_report(container: Container) -> None:
    seeded = await resident_report(container, chat_id=612_000_015, name="Rahmat",
                                   phone="+6281200000015", category="pungli",
                                   description="Diminta uang", photos=1)
    async with container.db.session() as session:
        report = await session.get(Report, seeded.report.id)
        assert report is not None
        publishing = Publishing(session=session, city=container.city,
                                now=container.engine.clock)
        with pytest.raises(Unpublishable) as text:
            await publishing.approve_description(report, staff_id=1)
        with pytest.raises(Unpublishable) as photo:
            await publishing.approve_photo(report, seeded.photos[0].id or 0, staff_id=1)
    assert text.value.reason == photo.value.reason == "confidential"


async def test_publishing_on_a_stale_page_or_without_the_form_token_is_refused(
        container: Container) -> None:
    seeded = await resident_report(container, chat_id=612_000_016, name="Rahmat",
                                   phone="+6281200000016", description="Jalan retak",
                                   photos=2)
    ticket = seeded.report.ticket
    first, second = (str(p.id) for p in seeded.photos)
    async with console_client(container) as client:
        await signed_in(container, client, "sari", role="kominfo")
        await pass_on(client, seeded.report)
        page = (await client.get(f"/console/reports/{ticket}")).text
        form = {"csrf": form_token(page), "version": version(page)}
        fresh = await client.post(f"/console/reports/{ticket}",
                                  data={**form, "action": "publish_photo", "photo_id": first})
        stale = await client.post(f"/console/reports/{ticket}",
                                  data={**form, "action": "publish_photo", "photo_id": second})
        forged = await client.post(f"/console/reports/{ticket}",
                                   data={"version": version(page), "action": "publish_photo",
                                         "photo_id": second})
        client.cookies.clear()
        public = (await client.get(f"/t/{ticket}")).text
    assert fresh.status_code == 303
    assert stale.status_code == 409 and "baru saja diubah" in stale.text
    assert forged.status_code == 403
    assert f"/foto/{first}" in public and f"/foto/{second}" not in public


async def test_only_kominfo_decides_what_is_public(container: Container) -> None:
    seeded = await resident_report(container, chat_id=612_000_017, name="Rahmat",
                                   phone="+6281200000017", description="Jalan retak",
                                   photos=1)
    ticket = seeded.report.ticket
    async with console_client(container) as client:
        await signed_in(container, client, "sari", role="kominfo")
        await pass_on(client, seeded.report)
        client.cookies.clear()
        await signed_in(container, client, "budi", role="officer", agency="putr")
        page = (await client.get(f"/console/reports/{ticket}")).text
        tried = await act(client, ticket, "publish_photo", photo_id=str(seeded.photos[0].id))
    assert "Halaman publik" not in page
    assert tried.status_code == 409
    async with container.db.reader() as session:
        assert await repo_public.public_photos_for(session=session,
                                                   report_ids=[seeded.report.id or 0]) == {}


async def test_a_photo_or_note_of_another_report_is_refused(container: Container) -> None:
    mine = await resident_report(container, chat_id=612_000_018, name="Rahmat",
                                 phone="+6281200000018", description="Jalan retak")
    other = await resident_report(container, chat_id=612_000_019, name="Rahmat",
                                  phone="+6281200000019", description="Parit", photos=1)
    async with console_client(container) as client:
        await signed_in(container, client, "sari", role="kominfo")
        await pass_on(client, mine.report)
        photo = await act(client, mine.report.ticket, "publish_photo",
                          photo_id=str(other.photos[0].id))
        note = await act(client, mine.report.ticket, "show_note", event_id="abc")
    for refused in (photo, note):
        assert refused.status_code == 400
        assert "Foto atau catatan itu bukan bagian dari laporan ini." in refused.text
    async with container.db.reader() as session:
        assert await repo_public.get_public_photo(session=session,
                                                  photo_id=other.photos[0].id or 0) is None
