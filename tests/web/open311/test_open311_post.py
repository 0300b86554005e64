"""Filing a request through Open311: the same lifecycle as a chat report (ticket, kelurahan from
the point, routing, deadline, notifications), marked with its source; every mistake named in a
400; the media URL fetched afterwards; nothing for the reporter's chat, since there is none."""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta
from urllib.parse import urlencode
from xml.etree import ElementTree as ET

import pytest
from sqlmodel import select

from agencies_kit import actions, capture, flush_outbox, person, press, staff
from bot.app import Container
from cli_kit import emas
from open311_kit import (
    KARTINI,
    KARTINI_CODE,
    MEDAN,
    TANAH_SERIBU,
    MediaDouble,
    check_definition,
    one_request,
    open311_client,
    partner_key,
    passed_on,
    post_request,
    pothole,
)
from reports.lifecycle import Status
from reports.service import DraftReport, ReportService
from storage import repo, repo_agencies
from storage.models import Identity, Report, ReportPhoto
from storage.models.partner import ApiKey, ServiceRequest


async def _report(box: Container, ticket: str) -> Report:
    async with box.db.reader() as session:
        found = await repo.get_report_by_ticket(session=session, ticket=ticket)
    assert found is not None
    return found


async def _source(box: Container, report: Report) -> ServiceRequest:
    async with box.db.reader() as session:
        row = (await session.exec(select(ServiceRequest).where(
            ServiceRequest.report_id == report.id))).one()
    return row


async def _chat_report(box: Container) -> Report:
    """A report filed in chat, its notices queued as the chat queues them."""
    reporter = await person(box, "warga-chat", name="Sari")
    async with box.db.session() as session:
        draft = DraftReport(category="jalan_rusak", kelurahan=KARTINI_CODE,
                            description="Jalan berlubang", lat=KARTINI[0], lon=KARTINI[1])
        report = await ReportService(session=session, city=box.city,
                                     now=box.engine.clock).submit(draft=draft, reporter=reporter)
        notices = await actions(box, session).after_submit(report)
        await box.notice_outbox(session, notices, box.engine.clock())
    return report


async def test_a_posted_request_is_filed_like_a_chat_report(container: Container) -> None:
    await staff(container, "kominfo-1", role="kominfo", name="Rina")
    sent = capture(container)
    key = await partner_key(container, "Aplikasi Qlue")
    chat_report = await _chat_report(container)
    async with open311_client(container, language="en") as client:
        answer = await post_request(client, key, **pothole(email="budi@example.id",
                                                           first_name="Budi"))
    assert answer.status_code == 200, answer.text
    body = answer.json()
    check_definition("RequestResponse", body, many=True)
    [created] = body
    ticket = created["service_request_id"]
    assert ticket == "BJI-2026-000002"
    assert created["token"]
    assert "Dinas Pekerjaan Umum dan Tata Ruang" in created["service_notice"]
    assert "Dec 2026" in created["service_notice"]  # when an answer is due, in English

    report = await _report(container, ticket)
    assert report.channel == "open311"
    assert report.status == Status.SUBMITTED
    assert (report.kelurahan_code, report.kecamatan_code) == (KARTINI_CODE, "12.75.02")
    assert report.agency_key == chat_report.agency_key == "putr"
    assert report.due_at == chat_report.due_at  # the same working-day deadline
    assert (report.latitude, report.longitude) == KARTINI
    source = await _source(container, report)
    async with container.db.reader() as session:
        partner = await session.get(ApiKey, source.api_key_id)
        reporter = await session.get(Identity, report.reporter_id)
    assert partner is not None and partner.name == "Aplikasi Qlue"
    assert partner.last_used_at == container.engine.clock()
    assert reporter is not None and reporter.channel == "open311"
    assert (source.email, source.first_name, source.token) == ("budi@example.id", "Budi",
                                                               created["token"])
    assert source.attributes == {"ukuran": "besar"}

    # Kominfo is asked to verify it exactly as for the chat report.
    await flush_outbox(container)
    to_kominfo = [o.reply.text for o in sent.to("kominfo-1")]
    assert len(to_kominfo) == 2
    assert to_kominfo[1].replace(ticket, "#") .splitlines()[0] == \
        to_kominfo[0].replace(chat_report.ticket, "#").splitlines()[0]
    assert "Lubang besar di depan SD Negeri 5" in to_kominfo[1]
    assert "Seberapa besar kerusakannya? Besar (lebih dari 1 m)" in to_kominfo[1]
    assert "Budi" in to_kominfo[1]  # the name the partner gave, for staff


async def test_staff_see_the_source_and_contact_in_the_report_detail(
        container: Container) -> None:
    key = await partner_key(container, "Aplikasi Qlue")
    async with open311_client(container) as client:
        created = (await post_request(client, key, **pothole(
            phone="0812-3456-7890", last_name="Santoso", device_id="hp-77",
            account_id="akun-9", media_url="https://cdn.mitra.example/foto/1.png"))).json()[0]
    assert created["account_id"] == "akun-9"
    shown = await emas(container.settings, "report", "show", created["service_request_id"],
                       "--json")
    assert shown.exit_code == 0, shown.output
    import json

    detail = json.loads(shown.output)
    assert detail["channel"] == "open311"
    assert detail["open311"]["partner"] == "Aplikasi Qlue"
    assert detail["open311"]["phone"] == "+6281234567890"
    assert detail["open311"]["media_url"] == "https://cdn.mitra.example/foto/1.png"
    assert (detail["open311"]["device_id"], detail["open311"]["account_id"]) == \
        ("hp-77", "akun-9")


async def test_a_category_handled_elsewhere_is_referred_at_once(container: Container) -> None:
    key = await partner_key(container)
    async with open311_client(container) as client:
        answer = await post_request(client, key, service_code="listrik",
                                    lat=str(KARTINI[0]), long=str(KARTINI[1]))
        created = answer.json()[0]
        followed = (await client.get(f"requests/{created['service_request_id']}.json")).json()
    assert answer.status_code == 200
    assert "PLN" in created["service_notice"]
    assert (await _report(container, created["service_request_id"])).status == Status.REFERRED
    assert followed[0]["status"] == "closed"
    assert "expected_datetime" not in followed[0]


async def test_an_address_naming_the_kelurahan_is_enough(container: Container) -> None:
    key = await partner_key(container)
    async with open311_client(container) as client:
        answer = await post_request(client, key, service_code="sampah",
                                    address_string="Jl. Sudirman No. 12, Kel. Tanah Seribu")
        created = answer.json()[0]
        checking = await one_request(client, created["service_request_id"])
        await passed_on(container, created["service_request_id"])
        followed = await one_request(client, created["service_request_id"])
    assert answer.status_code == 200, answer.text
    report = await _report(container, created["service_request_id"])
    assert report.kelurahan_code == "12.75.05.1006"
    assert report.address == "Jl. Sudirman No. 12, Kel. Tanah Seribu"  # for staff
    assert report.latitude is None
    # The place is the partner's word until Kominfo has checked it; then its kelurahan shows.
    assert "address" not in checking
    assert followed["address"] == "Tanah Seribu, Binjai Selatan"
    assert "Sudirman" not in str(checking) + str(followed)


@pytest.mark.parametrize(("fields", "status", "words"), [
    ({"service_code": "sampah"}, 400, "A location is required"),
    ({"service_code": "sampah", "address_id": "A-17"}, 400, "address_id is not supported"),
    ({"service_code": "sampah", "lat": "3.6"}, 400, "lat and long go together"),
    ({"service_code": "sampah", "lat": "utara", "long": "98.49"}, 400, "must be numbers"),
    ({"service_code": "sampah", "lat": "nan", "long": "98.49"}, 400, "must be numbers"),
    ({"service_code": "sampah", "lat": str(MEDAN[0]), "long": str(MEDAN[1])}, 400,
     "outside Kota Binjai"),
    ({"service_code": "sampah", "address_string": "Jalan Mawar 5"}, 400,
     "does not name a kelurahan"),
    ({"service_code": "jalan_rusak", "lat": "3.60396", "long": "98.48602"}, 400,
     "attribute[ukuran] is required"),
    ({**pothole(), "attribute[ukuran]": "raksasa"}, 400, "“raksasa” is not a value"),
    ({**pothole(), "attribute[ukuran][]": "kecil"}, 400, "takes one value"),
    ({**pothole(), "attribute[warna]": "hitam"}, 400, "attribute[warna] is not an attribute"),
    ({**pothole(), "attribute": "besar"}, 400, "attribute[code]=value"),
    ({"service_code": "sampah", "address_string": "Tanah Seribu",
      "attribute[lama_hari]": "tiga"}, 400, "must be a number"),
    ({"service_code": "pju", "address_string": "Tanah Seribu",
      "attribute[mati_sejak]": "kemarin"}, 400, "must be a date and time"),
    ({**pothole(), "email": "budi-at-example"}, 400, "not an email address"),
    ({**pothole(), "phone": "nomor saya"}, 400, "not a phone number"),
    ({**pothole(), "media_url": "ftp://cdn.mitra.example/1.png"}, 400, "http or https"),
    ({**pothole(), "description": "x" * 4001}, 400, "description is longer than 4000"),
    ({**pothole(), "first_name": "B" * 101}, 400, "first_name is longer than 100"),
    ({"lat": "3.6", "long": "98.49"}, 400, "service_code is required"),
    ({"service_code": "jalan_tol", "lat": "3.6", "long": "98.49"}, 404, "jalan_tol"),
])
async def test_each_mistake_is_named(container: Container, fields: dict[str, str], status: int,
                                     words: str) -> None:
    key = await partner_key(container)
    async with open311_client(container, language="en") as client:
        answer = await post_request(client, key, **fields)
    assert answer.status_code == status, answer.text
    check_definition("Errors", answer.json())
    assert any(words in e["description"] for e in answer.json()), answer.json()
    async with container.db.reader() as session:
        assert (await session.exec(select(Report))).all() == []


async def test_several_mistakes_come_back_together(container: Container) -> None:
    key = await partner_key(container)
    async with open311_client(container, language="en") as client:
        answer = await post_request(client, key, service_code="jalan_rusak", lat="3.6",
                                    email="nope")
    assert answer.status_code == 400
    assert len(answer.json()) == 3  # the lone lat, the email, the missing attribute


async def test_the_errors_speak_indonesian_by_default(container: Container) -> None:
    key = await partner_key(container)
    async with open311_client(container) as client:
        answer = await post_request(client, key, service_code="sampah")
    assert answer.status_code == 400
    assert "lokasi" in answer.json()[0]["description"].lower()


async def test_a_body_that_is_not_a_form_is_refused(container: Container) -> None:
    key = await partner_key(container)
    async with open311_client(container) as client:
        as_json = await client.post("requests.json", params={"api_key": key},
                                    json={"service_code": "sampah"})
        huge = await client.post("requests.json", params={"api_key": key},
                                 content=b"description=" + b"x" * 70_000,
                                 headers={"content-type": "application/x-www-form-urlencoded"})
        broken = await client.post("requests.json", params={"api_key": key},
                                   content=b"service_code=\xff\xfe",
                                   headers={"content-type": "application/x-www-form-urlencoded"})
    assert as_json.status_code == 415
    assert huge.status_code == 413
    assert broken.status_code == 400
    for answer in (as_json, huge, broken):
        check_definition("Errors", answer.json())


async def test_attributes_of_every_datatype_reach_the_staff(container: Container) -> None:
    key = await partner_key(container)
    place = {"lat": str(TANAH_SERIBU[0]), "long": str(TANAH_SERIBU[1])}
    async with open311_client(container) as client:
        tree = (await client.post("requests.json", content=urlencode([
            ("api_key", key), ("service_code", "pohon"), *place.items(),
            ("attribute[keadaan][]", "menutup_jalan"), ("attribute[keadaan][]", "menimpa_kabel"),
            ("attribute[darurat]", "diabaikan")]),
            headers={"content-type": "application/x-www-form-urlencoded"})).json()[0]
        garbage = (await post_request(client, key, service_code="sampah", **place,
                                      **{"attribute[lama_hari]": "4"})).json()[0]
        light = (await post_request(client, key, service_code="pju", **place, **{
            "attribute[nomor_tiang]": "PJU-118",
            "attribute[mati_sejak]": "2026-12-05T19:30:00+07:00"})).json()[0]
        noise = (await post_request(client, key, service_code="ketertiban", **place, **{
            "attribute[waktu_kejadian]": "Setiap malam Minggu sesudah jam 11"})).json()[0]
    found = {name: await _report(container, created["service_request_id"])
             for name, created in (("tree", tree), ("garbage", garbage), ("light", light),
                                   ("noise", noise))}
    assert (await _source(container, found["tree"])).attributes == {
        "keadaan": ["menutup_jalan", "menimpa_kabel"]}
    assert "Menutup jalan, Menimpa kabel listrik" in found["tree"].description
    assert (await _source(container, found["garbage"])).attributes == {"lama_hari": 4}
    assert "Sudah berapa hari sampah tidak diangkut? 4" in found["garbage"].description
    assert (await _source(container, found["light"])).attributes == {
        "nomor_tiang": "PJU-118", "mati_sejak": "2026-12-05T19:30:00+07:00"}
    assert "Sabtu, 5 Des 2026 19.30 WIB" in found["light"].description
    assert "Setiap malam Minggu" in found["noise"].description


async def test_one_person_per_contact_and_one_for_the_partner(container: Container) -> None:
    key = await partner_key(container)
    async with open311_client(container) as client:
        first = (await post_request(client, key, **pothole(email="Budi@Example.id",
                                                           first_name="Budi"))).json()[0]
        again = (await post_request(client, key, **pothole(email="budi@example.id"))).json()[0]
        other = (await post_request(client, key, **pothole(phone="081234567890"))).json()[0]
        nobody = (await post_request(client, key, **pothole())).json()[0]
        secret = (await post_request(client, key, service_code="pungli", first_name="Budi",
                                     address_string="Kartini")).json()[0]
    reports = [await _report(container, c["service_request_id"])
               for c in (first, again, other, nobody, secret)]
    assert reports[0].reporter_id == reports[1].reporter_id
    assert len({r.reporter_id for r in reports[:4]}) == 3
    assert reports[0].anonymous is False  # named: the agency may see the name
    assert reports[3].anonymous is True  # nobody named
    assert reports[4].anonymous is True  # a confidential category always is
    async with container.db.reader() as session:
        named = await session.get(Identity, reports[0].reporter_id)
    assert named is not None and named.display_name == "Budi"


async def test_the_media_url_is_fetched_after_the_request_and_kept_for_staff(
        container: Container) -> None:
    container.media_urls = media = MediaDouble()
    key = await partner_key(container)
    async with open311_client(container) as client:
        with_photo = (await post_request(client, key, **pothole(
            media_url="https://cdn.mitra.example/foto/1.png"))).json()[0]
        broken = (await post_request(client, key, **pothole(
            media_url="https://cdn.mitra.example/hilang.png"))).json()[0]
        without = (await post_request(client, key, **pothole())).json()[0]
    report = await _report(container, with_photo["service_request_id"])
    for _ in range(200):
        async with container.db.reader() as session:
            photos = (await session.exec(select(ReportPhoto).where(
                ReportPhoto.report_id == report.id))).all()
        if photos:
            break
        await asyncio.sleep(0.02)
    assert len(photos) == 1 and photos[0].content_type.startswith("image/")
    assert media.asked[0] == "https://cdn.mitra.example/foto/1.png"
    assert (await _source(container, report)).media_url == "https://cdn.mitra.example/foto/1.png"
    for created in (broken, without):
        other = await _report(container, created["service_request_id"])
        async with container.db.reader() as session:
            assert (await session.exec(select(ReportPhoto).where(
                ReportPhoto.report_id == other.id))).all() == []
    assert len(media.asked) == 2  # nothing fetched for the request without a URL


async def test_what_the_lifecycle_tells_the_reporter_is_recorded_undeliverable(
        container: Container, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    capture(container)
    key = await partner_key(container)
    async with open311_client(container) as client:
        created = (await post_request(client, key, **pothole())).json()[0]
    report = await _report(container, created["service_request_id"])
    async with container.db.session() as session:
        found = await session.get(Report, report.id)
        assert found is not None
        outcome = await actions(container, session).verify(found, actor_id=None)
        await container.notice_outbox(session, outcome.notices, container.engine.clock())
    await flush_outbox(container)
    async with container.db.reader() as session:
        rows = await repo_agencies.list_notifications(session=session)
    mine = [r for r in rows if r.channel == "open311"]
    assert len(mine) == 1
    assert mine[0].status == "failed"
    assert mine[0].error == "undeliverable: no chat on open311"
    assert mine[0].attempts == 1  # tried once, never again
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert await flush_outbox(container) == 0  # nothing left to loop on


async def test_no_contact_or_description_in_the_logs(container: Container,
                                                     caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    key = await partner_key(container)
    async with open311_client(container) as client:
        answer = await post_request(client, key, **pothole(
            email="budi@example.id", phone="081234567890", first_name="Budi",
            description="Rahasia: lubang di depan rumah Pak Rahmat"))
    assert answer.status_code == 200
    logged = "\n".join(r.getMessage() for r in caplog.records if r.levelno >= logging.INFO)
    assert answer.json()[0]["service_request_id"] in logged
    for secret in ("budi@example.id", "1234567890", "Budi", "Pak Rahmat", key):
        assert secret not in logged


async def test_a_request_counts_in_the_working_day_deadline_from_its_time(
        container: Container) -> None:
    clock = container.engine.clock
    clock.advance(days=4)  # type: ignore[attr-defined]  # Friday 09:00
    key = await partner_key(container)
    async with open311_client(container, language="en") as client:
        created = (await post_request(client, key, **pothole())).json()[0]
        report = await _report(container, created["service_request_id"])
        # Kominfo passes it on on the last day it has, Wednesday.
        clock.advance(days=5)  # type: ignore[attr-defined]
        await passed_on(container, created["service_request_id"])
        followed = await one_request(client, created["service_request_id"])
    # Filed on Friday: Kominfo verifies by Wednesday (Mon, Tue, Wed), the agency answers within
    # 5 more working days (Thu, Fri, Mon, Tue, Wed), each deadline ending at midnight: the
    # partner is told so, and passed on on that Wednesday the request is expected then.
    assert report.due_at == datetime(2026, 12, 17, tzinfo=container.city.tz)
    assert report.created_at + timedelta(days=4) < report.due_at
    assert "due by Wednesday, 23 Dec 2026." in created["service_notice"]
    assert followed["expected_datetime"] == "2026-12-24T00:00:00+07:00"


async def test_a_request_for_another_jurisdiction_is_not_filed(container: Container) -> None:
    key = await partner_key(container)
    async with open311_client(container) as client:
        ours = await post_request(client, key, **pothole(jurisdiction_id="BinjaiKota.go.id"))
        theirs = await post_request(client, key, **pothole(jurisdiction_id="medan.go.id"))
    assert ours.status_code == 200
    assert theirs.status_code == 404
    check_definition("Errors", theirs.json())
    async with container.db.reader() as session:
        assert len((await session.exec(select(Report))).all()) == 1


async def test_the_answer_to_a_post_in_xml(container: Container) -> None:
    key = await partner_key(container)
    async with open311_client(container) as client:
        answer = await post_request(client, key, fmt="xml", **pothole(account_id="akun-1"))
        head = await client.head("services.json")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/xml")
    root = ET.fromstring(answer.content)
    assert root.tag == "service_requests"
    request = root.find("request")
    assert request is not None
    assert [child.tag for child in request] == ["service_request_id", "token", "service_notice",
                                                "account_id"]
    assert request.findtext("service_request_id") == "BJI-2026-000001"
    assert request.findtext("account_id") == "akun-1"
    assert head.status_code == 200


async def test_a_staff_button_in_chat_sends_the_open311_reporter_nothing(
        container: Container, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    await staff(container, "putr-1", role="officer", agency="putr")
    sent = capture(container)
    key = await partner_key(container)
    async with open311_client(container) as client:
        created = (await post_request(client, key, **pothole())).json()[0]
    report = await _report(container, created["service_request_id"])
    async with container.db.session() as session:
        found = await session.get(Report, report.id)
        assert found is not None
        await actions(container, session).verify(found, actor_id=None)
    # The officer presses "in progress" in their chat: the engine writes what it says (to the
    # officer, and to the reporter) in the event's transaction; the lanes send it.
    outgoing = await press(container, "putr-1", f"st:prog:{report.id}")
    container.outbound.submit(outgoing)
    await container.outbound.drain()
    assert sent.to("putr-1")  # the officer is answered
    assert not [o for o in sent.items if o.channel == "open311"]
    async with container.db.reader() as session:
        rows = await repo_agencies.list_notifications(session=session)
    undelivered = [r for r in rows if r.channel == "open311"]
    assert [(r.status, r.error) for r in undelivered] == [
        ("failed", "undeliverable: no chat on open311")]
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]
