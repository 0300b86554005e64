"""An outside Open311 client, end to end: it lists Binjai's services, posts a request with a
photo URL and one without, gets a token and an id, and follows each while staff move it through
the lifecycle in the console until it is closed (seeing only that it was received until
Kominfo passes it on); Kominfo and the agency's group hear of it as of a chat report."""

from __future__ import annotations

import asyncio

from sqlmodel import select

from agencies_kit import capture, flush_outbox, run_deadlines, staff
from bot.app import Container
from conftest import Clock
from console_kit import act, console_client, signed_in
from open311_kit import (
    CHECKING_FIELDS,
    KARTINI,
    MediaDouble,
    check,
    check_definition,
    one_request,
    open311_client,
    partner_key,
    post_request,
)
from reports.lifecycle import Status
from storage import repo, repo_agencies
from storage.models import ReportPhoto

PHOTO_URL = "https://cdn.mitra.example/foto/1.png"


async def _photo_arrived(box: Container, ticket: str) -> None:
    for _ in range(250):
        async with box.db.reader() as session:
            report = await repo.get_report_by_ticket(session=session, ticket=ticket)
            assert report is not None
            if (await session.exec(select(ReportPhoto).where(
                    ReportPhoto.report_id == report.id))).all():
                return
        await asyncio.sleep(0.02)
    raise AssertionError("the media URL's photo never arrived")


async def test_an_outside_client_follows_its_requests_to_closed(container: Container,
                                                               clock: Clock) -> None:
    container.media_urls = MediaDouble()
    await staff(container, "kominfo-1", role="kominfo", name="Rina")
    await staff(container, "putr-1", role="officer", agency="putr", name="Andi")
    async with container.db.session() as session:
        await repo_agencies.link_group(session=session, agency_key="putr", channel="terminal",
                                       chat_key="grup-putr", linked_by=None, now=clock())
    sent = capture(container)
    key = await partner_key(container, "Aplikasi Qlue")

    async with open311_client(container, language="en") as client, \
            console_client(container) as kominfo, console_client(container) as officer:
        # The client learns the services and what a pothole report asks.
        services = (await client.get("services.json")).json()
        check("services.json", services)
        assert {"jalan_rusak", "sampah"} <= {s["service_code"] for s in services}
        definition = (await client.get("services/jalan_rusak.json")).json()
        check("service-definition.json", definition)
        size = next(a for a in definition["attributes"] if a["required"])
        medium = next(v["key"] for v in size["values"] if "Medium" in v["name"])

        # It posts one request with a photo URL and one without.
        with_photo = await post_request(
            client, key, service_code="jalan_rusak", lat=str(KARTINI[0]),
            long=str(KARTINI[1]), media_url=PHOTO_URL, description="Lubang di tikungan",
            email="warga@example.id", **{f"attribute[{size['code']}]": medium})
        without = await post_request(client, key, service_code="sampah",
                                     address_string="Kelurahan Kartini, dekat pasar")
        created = []
        for answer in (with_photo, without):
            assert answer.status_code == 200, answer.text
            check_definition("RequestResponse", answer.json(), many=True)
            created.append(answer.json()[0])
        pothole, garbage = created
        for each in created:
            token = await client.get(f"tokens/{each['token']}.json")
            check_definition("TokenResponse", token.json(), many=True)
            assert token.json() == [{"service_request_id": each["service_request_id"],
                                     "token": each["token"]}]
        ticket = pothole["service_request_id"]
        await _photo_arrived(container, ticket)

        # Until Kominfo has checked it, the request says only that it was received.
        received = await one_request(client, ticket)
        assert set(received) == CHECKING_FIELDS
        assert (received["status"], received["status_notes"]) == \
            ("open", "Received, being checked")
        assert received["service_name"] == "Damaged road / pothole"
        assert (await client.get("requests.json")).json() == []

        # Kominfo is asked to verify both, as for a chat report.
        await flush_outbox(container)
        to_kominfo = "\n".join(o.reply.text for o in sent.to("kominfo-1"))
        assert ticket in to_kominfo and garbage["service_request_id"] in to_kominfo

        # Kominfo verifies in the console: the report goes to Dinas PUTR's group, photo
        # included.
        await signed_in(container, kominfo, "kominfo-1")
        assert (await act(kominfo, ticket, "verify", agency="putr")).status_code == 303
        await flush_outbox(container)
        [post] = sent.to("grup-putr")
        assert ticket in post.reply.text
        assert "Lubang di tikungan" in post.reply.text
        assert len(post.reply.media_paths) == 1
        assigned = await one_request(client, ticket)
        assert (assigned["status"], assigned["status_notes"]) == ("open", "Passed to the agency")
        assert assigned["agency_responsible"] == "Dinas Pekerjaan Umum dan Tata Ruang"
        assert assigned["address"] == "Kartini, Binjai Kota"
        assert (assigned["lat"], assigned["long"]) == (3.604, 98.486)
        async with container.db.reader() as session:
            passed = await repo.get_report_by_ticket(session=session, ticket=ticket)
        assert passed is not None and passed.due_at is not None
        # When the agency's answer is due.
        assert assigned["expected_datetime"] == \
            passed.due_at.astimezone(container.city.tz).isoformat()
        # The description and the photo wait for Kominfo's approval to publish them.
        assert "description" not in assigned and "media_url" not in assigned
        listed = (await client.get("requests.json")).json()
        assert [r["service_request_id"] for r in listed] == [ticket]

        # The agency works on it, then resolves it.
        await signed_in(container, officer, "putr-1")
        clock.advance(hours=3)
        assert (await act(officer, ticket, "progress",
                          note="Tim menuju lokasi")).status_code == 303
        working = await one_request(client, ticket)
        assert (working["status"], working["status_notes"]) == \
            ("open", "Being handled: Tim menuju lokasi")
        assert working["updated_datetime"] > assigned["updated_datetime"]
        clock.advance(hours=5)  # (a console session lasts 12 idle hours)
        assert (await act(officer, ticket, "resolve",
                          note="Lubang sudah ditambal")).status_code == 303
        resolved = await one_request(client, ticket)
        assert (resolved["status"], resolved["status_notes"]) == \
            ("closed", "Resolved by the agency: Lubang sudah ditambal")
        assert "expected_datetime" not in resolved

        # No one can confirm it in a chat: it closes by itself when the time to object ends.
        clock.advance(days=20)
        await run_deadlines(container, clock())
        async with container.db.reader() as session:
            report = await repo.get_report_by_ticket(session=session, ticket=ticket)
        assert report is not None and report.status == Status.CLOSED
        closed = await one_request(client, ticket)
        assert (closed["status"], closed["status_notes"]) == \
            ("closed", "Closed: Lubang sudah ditambal")
        listed = (await client.get("requests.json", params={"status": "closed"})).json()
        assert [r["service_request_id"] for r in listed] == [ticket]
        still_open = await one_request(client, garbage["service_request_id"])
        assert (still_open["status"], still_open["status_notes"]) == \
            ("open", "Received, being checked")
        assert set(still_open) == CHECKING_FIELDS

    # Whatever the lifecycle had for the reporter is recorded as undeliverable, not sent.
    await flush_outbox(container)
    async with container.db.reader() as session:
        rows = await repo_agencies.list_notifications(session=session)
    for_reporter = [r for r in rows if r.channel == "open311"]
    assert for_reporter
    assert {r.status for r in for_reporter} == {"failed"}
    assert not [o for o in sent.items if o.channel == "open311"]
