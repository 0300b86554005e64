"""Open311's GET answers are public: they never carry the reporter, the contact a partner gave,
the exact address or point, staff's internal notes or a note Kominfo hid, for any category; the
description and the photos only once Kominfo approved them; a confidential category has no
point at all."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit
from xml.etree import ElementTree as ET

from sqlmodel import select

from agencies_kit import actions, staff
from bot.app import Container
from console_kit import console_client, signed_in
from open311_kit import (
    KARTINI,
    MediaDouble,
    check,
    one_request,
    open311_client,
    partner_key,
    passed_on,
    post_request,
)
from public_kit import done, pass_on, resident_report
from reports.lifecycle import Status
from storage import repo
from storage.city import CategoryInfo
from storage.models import Report
from storage.models.agency import StaffMember

SECRETS = {
    "email": "rahmat.hidayat@example.id",
    "phone": "081298765432",
    "first_name": "Rahmat",
    "last_name": "Hidayat",
    "address_string": "Jl. Melati Gang Mawar No. 7, Kartini",
    "device_id": "perangkat-rahasia-01",
    "account_id": "akun-rahasia-01",
    "media_url": "https://cdn.mitra.example/rahasia.png",
}
SECRET_WORDS = ["rahmat", "hidayat", "98765432", "melati", "mawar", "perangkat-rahasia",
                "akun-rahasia", "rahasia.png", "3.60396", "98.48602", "uraian-rahasia",
                "catatan-internal"]


def _fields(category: CategoryInfo) -> dict[str, str]:
    fields = {"service_code": category.key, "lat": str(KARTINI[0]), "long": str(KARTINI[1]),
              "description": f"Uraian-rahasia tentang {category.key} dari Bapak Rahmat",
              **SECRETS}
    for attribute in category.attributes:
        if attribute.required:
            fields[f"attribute[{attribute.code}]"] = attribute.values[0].key
    return fields


async def _noted(box: Container, ticket: str) -> None:
    """Staff move the report on, with an internal note and a note for the resident."""
    await staff(box, "kominfo-privasi", role="kominfo")
    async with box.db.session() as session:
        member = (await session.exec(select(StaffMember).where(
            StaffMember.user_key == "kominfo-privasi"))).one()
        report = await repo.get_report_by_ticket(session=session, ticket=ticket)
        assert report is not None
        act = actions(box, session)
        await act.note(report, staff_id=member.id or 0, text="Catatan-internal: pelapor Rahmat",
                       to_resident=False)
        if report.status == Status.SUBMITTED:
            await act.verify(report, actor_id=None)
            await act.progress(report, actor_id=None, note="Tim sedang menuju lokasi")


async def test_no_public_answer_carries_what_identifies_or_was_said(container: Container) -> None:
    container.media_urls = MediaDouble({})
    key = await partner_key(container)
    async with open311_client(container) as client:
        created: list[dict[str, Any]] = []
        for category in container.city.categories:
            answer = await post_request(client, key, **_fields(category))
            assert answer.status_code == 200, (category.key, answer.text)
            created.append({**answer.json()[0], "category": category})
        for each in created:
            await _noted(container, each["service_request_id"])
        pages = [await client.get("requests.json"), await client.get("requests.xml")]
        for each in created:
            ticket, token = each["service_request_id"], each["token"]
            pages += [await client.get(f"requests/{ticket}.json"),
                      await client.get(f"requests/{ticket}.xml"),
                      await client.get(f"tokens/{token}.json"),
                      await client.get("requests.json",
                                       params={"service_request_id": ticket})]
    for page in pages:
        assert page.status_code == 200
        lowered = page.text.lower()
        for word in SECRET_WORDS:
            assert word not in lowered, (str(page.url), word)
    listed = pages[0].json()
    check("requests.json", listed)
    assert len(listed) == len(created)
    for request in listed:
        check("request.json", request)
        assert "description" not in request and "media_url" not in request
        category = container.city.category(request["service_code"])
        assert category is not None
        if category.confidential:
            assert "lat" not in request and "long" not in request
        elif request["status"] == "open":
            # Rounded to about 100 m: a street, not a house.
            assert (request["lat"], request["long"]) == (3.604, 98.486)
        assert request["address"] == "Kartini, Binjai Kota"


async def test_the_agencys_note_is_public_unless_it_names_the_reporter(
        container: Container) -> None:
    key = await partner_key(container)
    async with open311_client(container, language="en") as client:
        plain = (await post_request(client, key, service_code="sampah",
                                    address_string="Kartini", first_name="Sari")).json()[0]
        named = (await post_request(client, key, service_code="sampah",
                                    address_string="Kartini", first_name="Sari",
                                    phone="081277788899")).json()[0]
        secret = (await post_request(client, key, service_code="pungli",
                                     address_string="Kartini")).json()[0]
        notes = {plain["service_request_id"]: "Sampah sudah diangkut pagi ini",
                 named["service_request_id"]: "Sudah kami hubungi di 0812-7778-8899",
                 secret["service_request_id"]: "Oknum sudah diperiksa"}
        async with container.db.session() as session:
            for ticket, note in notes.items():
                report = await repo.get_report_by_ticket(session=session, ticket=ticket)
                assert report is not None
                act = actions(container, session)
                await act.verify(report, actor_id=None)
                await act.resolve(report, actor_id=None, note=note)
        shown = {r["service_request_id"]: r["status_notes"]
                 for r in (await client.get("requests.json")).json()}
    assert shown[plain["service_request_id"]] == \
        "Resolved by the agency: Sampah sudah diangkut pagi ini"
    assert shown[named["service_request_id"]] == "Resolved by the agency"
    assert shown[secret["service_request_id"]] == "Resolved by the agency"


async def test_a_report_filed_in_chat_shows_no_more_than_one_from_a_partner(
        container: Container) -> None:
    from agencies_kit import file_report

    report = await file_report(container, description="Jalan rusak depan rumah Pak Rahmat",
                               lat=3.603961, lon=98.486021)
    async with container.db.session() as session:
        found = await session.get(Report, report.id)
        assert found is not None
        found.address = "Jl. Melati Gang Mawar No. 7"
        session.add(found)
    await passed_on(container, report.ticket)
    async with open311_client(container) as client:
        answer = await client.get(f"requests/{report.ticket}.json")
    text = answer.text.lower()
    for word in ("rahmat", "budi", "melati", "3.603961", "warga-1"):
        assert word not in text
    assert answer.json()[0]["lat"] == 3.604


async def test_an_approved_description_and_photo_are_published_and_nothing_else(
        container: Container) -> None:
    seeded = await resident_report(
        container, chat_id=612_000_031, name="Siti Rahmawati", phone="+6281377712345",
        description="Lubang dalam di depan rumah Bu Siti, mobil BK 1234 XY terperosok",
        point=(3.605123, 98.492456), photos=2)
    ticket = seeded.report.ticket
    first, second = seeded.photos
    async with console_client(container) as console, open311_client(container) as client:
        await signed_in(container, console, "sari", role="kominfo")
        await pass_on(console, seeded.report)
        before = await one_request(client, ticket)
        await done(console, ticket, "publish_text",
                   text="Lubang dalam di badan jalan, kendaraan terperosok")
        await done(console, ticket, "publish_photo", photo_id=str(second.id))
        console.cookies.clear()
        approved = await one_request(client, ticket)
        listed = (await client.get("requests.json")).json()
        as_xml = ET.fromstring((await client.get(f"requests/{ticket}.xml")).content)
        photo = await console.get(urlsplit(approved["media_url"]).path)
        unapproved = await console.get(f"/t/{ticket}/foto/{first.id}")
        await signed_in(container, console, "sari")
        await done(console, ticket, "withdraw_text")
        await done(console, ticket, "withdraw_photo", photo_id=str(second.id))
        withdrawn = await one_request(client, ticket)
    assert "description" not in before and "media_url" not in before
    # Kominfo's edit, not the resident's words; the photo it approved, at its public address.
    assert approved["description"] == "Lubang dalam di badan jalan, kendaraan terperosok"
    assert approved["media_url"] == \
        f"{container.settings.base_url}/t/{ticket}/foto/{second.id}"
    assert listed == [approved]
    assert as_xml.findtext("request/description") == approved["description"]
    assert as_xml.findtext("request/media_url") == approved["media_url"]
    for words in ("rumah Bu Siti", "BK 1234 XY", "Siti Rahmawati", f"/foto/{first.id}",
                  "3.605123"):
        assert words not in str(approved)
    assert photo.status_code == 200 and photo.headers["content-type"] == "image/jpeg"
    assert photo.content == container.media.absolute(second.path).read_bytes()
    assert unapproved.status_code == 404
    assert "description" not in withdrawn and "media_url" not in withdrawn


async def test_a_note_kominfo_hid_is_not_in_the_status_notes(container: Container) -> None:
    seeded = await resident_report(container, chat_id=612_000_032, name="Rahmat",
                                   phone="+6281200000032", description="Sampah menumpuk",
                                   category="sampah")
    ticket = seeded.report.ticket
    async with console_client(container) as console, open311_client(container) as client:
        await signed_in(container, console, "sari", role="kominfo")
        await pass_on(console, seeded.report)
        await done(console, ticket, "resolve", note="Sampah sudah diangkut truk DLH")
        page = (await console.get(f"/console/reports/{ticket}")).text
        event = page.split('name="event_id" value="')[1].split('"')[0]
        shown = await one_request(client, ticket)
        await done(console, ticket, "hide_note", event_id=event)
        hidden = await one_request(client, ticket)
        answers = [await client.get(path) for path in (
            "requests.json", "requests.xml", f"requests/{ticket}.xml")]
        await done(console, ticket, "show_note", event_id=event)
        again = await one_request(client, ticket)
    assert shown["status_notes"] == "Selesai ditangani instansi: Sampah sudah diangkut truk DLH"
    # The step stays, without the agency's words.
    assert hidden["status_notes"] == "Selesai ditangani instansi"
    assert all(a.status_code == 200 and "truk DLH" not in a.text for a in answers)
    assert again["status_notes"] == shown["status_notes"]
