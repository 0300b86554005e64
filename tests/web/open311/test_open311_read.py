"""Reading Open311: discovery, the services and their definitions, and the city's requests with
the specification's filters and limits, in JSON and XML, each answer checked against the
GeoReport v2 JSON Schemas."""

from __future__ import annotations

import re
from datetime import timedelta
from xml.etree import ElementTree as ET

import pytest

from agencies_kit import actions, file_report
from bot.app import Container
from conftest import Clock
from open311_kit import (
    CHECKING_FIELDS,
    check,
    check_definition,
    one_request,
    open311_client,
    partner_key,
    passed_on,
    post_request,
    pothole,
)
from reports.lifecycle import Status
from storage import repo
from storage.models import Report

WIB_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\+07:00$")


async def test_services_list_every_category_of_the_city_pack(container: Container) -> None:
    async with open311_client(container) as client:
        answer = await client.get("services.json")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("application/json")
    services = answer.json()
    check("services.json", services)
    assert [s["service_code"] for s in services] == [c.key for c in container.city.categories]
    pothole = next(s for s in services if s["service_code"] == "jalan_rusak")
    assert pothole["service_name"] == "Jalan rusak/berlubang"
    assert pothole["metadata"] is True  # it has a service definition with attributes
    assert pothole["type"] == "realtime"
    assert pothole["group"] == "Dinas PUTR"
    assert "jalan berlubang" in pothole["keywords"]
    drain = next(s for s in services if s["service_code"] == "drainase")
    assert drain["metadata"] is False
    # A category another office handles says where to go.
    power = next(s for s in services if s["service_code"] == "listrik")
    assert "PLN" in power["description"]


async def test_services_speak_english_when_the_client_asks(container: Container) -> None:
    async with open311_client(container, language="en-GB,en;q=0.9,id;q=0.5") as client:
        answer = await client.get("services.json")
    assert answer.headers["content-language"] == "en"
    pothole = next(s for s in answer.json() if s["service_code"] == "jalan_rusak")
    assert pothole["service_name"] == "Damaged road / pothole"
    assert "pothole" in pothole["keywords"]


@pytest.mark.parametrize(("language", "question", "large"), [
    (None, "Seberapa besar kerusakannya?", "Besar (lebih dari 1 m)"),
    ("en", "How large is the damage?", "Large (over 1 m)"),
])
async def test_a_service_definition_lists_its_attributes_in_the_readers_language(
        container: Container, language: str | None, question: str, large: str) -> None:
    async with open311_client(container, language=language) as client:
        answer = await client.get("services/jalan_rusak.json")
    assert answer.status_code == 200
    definition = answer.json()
    check("service-definition.json", definition)
    assert definition["service_code"] == "jalan_rusak"
    size, lane = definition["attributes"]
    assert (size["code"], size["datatype"], size["required"], size["variable"], size["order"]) \
        == ("ukuran", "singlevaluelist", True, True, 1)
    assert size["description"] == question
    assert {"key": "besar", "name": large} in size["values"]
    assert lane["required"] is False and lane["order"] == 2


async def test_information_only_attributes_and_every_datatype_are_described(
        container: Container) -> None:
    async with open311_client(container) as client:
        flood = (await client.get("services/banjir.json")).json()
        garbage = (await client.get("services/sampah.json")).json()
        tree = (await client.get("services/pohon.json")).json()
        light = (await client.get("services/pju.json")).json()
    for definition in (flood, garbage, tree, light):
        check("service-definition.json", definition)
    emergency = flood["attributes"][0]
    assert emergency["variable"] is False and "112" in emergency["description"]
    assert garbage["attributes"][0]["datatype"] == "number"
    assert garbage["attributes"][0]["datatype_description"] == "Jumlah hari, misalnya 3"
    assert tree["attributes"][1]["datatype"] == "multivaluelist"
    assert [a["datatype"] for a in light["attributes"]] == ["string", "datetime"]


@pytest.mark.parametrize("fmt", ["json", "xml"])
async def test_an_unknown_service_is_a_404_in_the_specifications_error_list(
        container: Container, fmt: str) -> None:
    async with open311_client(container) as client:
        answer = await client.get(f"services/jalan_tol.{fmt}")
    assert answer.status_code == 404
    if fmt == "json":
        errors = answer.json()
        check_definition("Errors", errors)
        assert errors[0]["code"] == 404
        assert "jalan_tol" in errors[0]["description"]
    else:
        root = ET.fromstring(answer.content)
        assert root.tag == "errors"
        assert root.find("error/code").text == "404"  # type: ignore[union-attr]
        assert "jalan_tol" in root.find("error/description").text  # type: ignore[union-attr,operator]


async def test_xml_answers_use_the_specifications_element_names(container: Container) -> None:
    report = await file_report(container, lat=3.60396, lon=98.48602)
    await passed_on(container, report.ticket)
    async with open311_client(container) as client:
        services = ET.fromstring((await client.get("services.xml")).content)
        definition = ET.fromstring((await client.get("services/jalan_rusak.xml")).content)
        requests = ET.fromstring((await client.get("requests.xml")).content)
        one = await client.get(f"requests/{report.ticket}.xml")
        discovery = ET.fromstring((await client.get("discovery.xml")).content)
    assert one.headers["content-type"].startswith("text/xml")
    assert services.tag == "services"
    first = services.find("service")
    assert first is not None
    assert [child.tag for child in first] == ["service_code", "service_name", "description",
                                              "metadata", "type", "keywords", "group"]
    assert first.findtext("metadata") == "true"
    assert definition.tag == "service_definition"
    assert definition.findtext("attributes/attribute/code") == "ukuran"
    assert definition.findtext("attributes/attribute/values/value/key") == "kecil"
    assert definition.findtext("attributes/attribute/required") == "true"
    assert requests.tag == "service_requests"
    assert requests.findtext("request/service_request_id") == report.ticket
    assert requests.findtext("request/status") == "open"
    assert WIB_TIME.match(requests.findtext("request/requested_datetime") or "")
    single = ET.fromstring(one.content)
    assert single.findtext("request/service_code") == "jalan_rusak"
    assert single.findtext("request/lat") == "3.604"
    assert discovery.tag == "discovery"
    assert discovery.findtext("endpoints/endpoint/specification") == \
        "http://wiki.open311.org/GeoReport_v2"
    assert {f.text for f in discovery.iterfind("endpoints/endpoint/formats/format")} == \
        {"application/json", "text/xml"}


async def test_discovery_names_the_endpoint_and_how_to_get_a_key(container: Container) -> None:
    async with open311_client(container, language="en") as client:
        answer = await client.get("discovery.json")
    assert answer.status_code == 200
    discovery = answer.json()
    check_definition("Discovery", discovery)
    [endpoint] = discovery["endpoints"]
    assert endpoint["url"] == container.settings.base_url + "/open311/v2"
    assert endpoint["type"] == "test"  # EMAS_ENV is not production
    assert "Diskominfo" in discovery["key_service"]
    assert WIB_TIME.match(discovery["changeset"])


async def test_jurisdiction_id_is_optional_and_when_given_must_be_the_citys(
        container: Container) -> None:
    async with open311_client(container) as client:
        plain = await client.get("services.json")
        ours = await client.get("services.json", params={"jurisdiction_id": "binjaikota.go.id"})
        theirs = await client.get("requests.json", params={"jurisdiction_id": "sfgov.org"})
        theirs_xml = await client.get("services/jalan_rusak.xml",
                                      params={"jurisdiction_id": "medan.go.id"})
    assert plain.status_code == ours.status_code == 200
    assert theirs.status_code == 404
    check_definition("Errors", theirs.json())
    assert "sfgov.org" in theirs.json()[0]["description"]
    assert theirs_xml.status_code == 404
    assert ET.fromstring(theirs_xml.content).tag == "errors"


async def test_unknown_formats_endpoints_and_methods_answer_with_the_error_list(
        container: Container) -> None:
    async with open311_client(container) as client:
        html = await client.get("services.html")
        nowhere = await client.get("reports.json")
        put = await client.put("requests.json", content=b"")
        delete = await client.delete("services/jalan_rusak.xml")
    assert html.status_code == 404 and "html" in html.json()[0]["description"]
    assert nowhere.status_code == 404 and "discovery.json" in nowhere.json()[0]["description"]
    assert put.status_code == 405 and put.headers["allow"] == "GET, POST"
    check_definition("Errors", put.json())
    assert delete.status_code == 405 and ET.fromstring(delete.content).tag == "errors"


async def test_requests_lists_the_last_90_days_newest_first(container: Container,
                                                            clock: Clock) -> None:
    old = await file_report(container, user="warga-lama")
    clock.advance(days=95)
    drain = await file_report(container, user="warga-2", category="drainase")
    clock.advance(hours=1)
    pothole = await file_report(container, user="warga-3", lat=3.60396, lon=98.48602)
    await passed_on(container, old.ticket, drain.ticket, pothole.ticket)
    async with open311_client(container) as client:
        answer = await client.get("requests.json")
    assert answer.status_code == 200
    body = answer.json()
    check("requests.json", body)
    assert [r["service_request_id"] for r in body] == [pothole.ticket, drain.ticket]
    for request in body:
        check("request.json", request)
        assert isinstance(request["service_request_id"], str)
        assert WIB_TIME.match(request["requested_datetime"])
        assert WIB_TIME.match(request["updated_datetime"])
        assert WIB_TIME.match(request["expected_datetime"])
        assert "zipcode" not in request
    assert old.ticket not in answer.text


async def test_requests_filters_by_service_status_dates_and_ids(container: Container,
                                                                 clock: Clock) -> None:
    first = await file_report(container, user="warga-1")
    clock.advance(days=2)
    second = await file_report(container, user="warga-2", category="sampah")
    clock.advance(days=2)
    third = await file_report(container, user="warga-3", category="sampah")
    refused = await file_report(container, user="warga-4", category="sampah")
    await passed_on(container, first.ticket, second.ticket, third.ticket)
    async with container.db.session() as session:
        work = actions(container, session)
        done = await session.get(Report, third.id)
        spam = await session.get(Report, refused.id)
        assert done is not None and spam is not None
        await work.resolve(done, actor_id=None, note="Sampah sudah diangkut")
        await work.reject(spam, actor_id=None, reason="not_complaint")
    async with open311_client(container) as client:
        async def tickets(**params: str) -> list[str]:
            answer = await client.get("requests.json", params=params)
            assert answer.status_code == 200, answer.text
            check("requests.json", answer.json())
            return [r["service_request_id"] for r in answer.json()]

        assert await tickets(service_code="sampah") == [third.ticket, second.ticket]
        assert await tickets(status="closed") == [third.ticket]
        assert await tickets(status="open") == [second.ticket, first.ticket]
        assert await tickets(status="open,closed") == [third.ticket, second.ticket,
                                                       first.ticket]
        day_two = (first.created_at + timedelta(days=2)).astimezone(container.city.tz)
        assert await tickets(start_date=day_two.date().isoformat(),
                             end_date=day_two.date().isoformat()) == [second.ticket]
        assert await tickets(start_date=day_two.isoformat()) == [third.ticket, second.ticket]
        # A list of ids overrides every other filter (the specification says so); a report
        # Kominfo did not pass on is not listed even so (it is answered by its id alone).
        assert await tickets(service_request_id=f"{first.ticket},{third.ticket.lower()},"
                                                f"{refused.ticket}",
                             service_code="sampah", status="open") == [third.ticket,
                                                                       first.ticket]
        assert await tickets(service_request_id="BJI-1999-000001") == []


@pytest.mark.parametrize(("params", "status", "words"), [
    ({"start_date": "2026-01-01", "end_date": "2026-06-01"}, 400, "90 days"),
    ({"start_date": "2026-12-07", "end_date": "2026-12-01"}, 400, "before"),
    ({"start_date": "kemarin"}, 400, "start_date"),
    ({"end_date": "0001-01-01T00:00:00Z"}, 400, "end_date"),
    ({"status": "pending"}, 400, "pending"),
    ({"service_code": "jalan_rusak,jalan_tol"}, 404, "jalan_tol"),
    ({"service_request_id": ",".join(["BJI-2026-000001"] * 1001)}, 400, "1000"),
])
async def test_wrong_filters_are_named_in_a_400_or_404(container: Container,
                                                      params: dict[str, str], status: int,
                                                      words: str) -> None:
    async with open311_client(container, language="en") as client:
        answer = await client.get("requests.json", params=params)
    assert answer.status_code == status
    check_definition("Errors", answer.json())
    assert words in answer.json()[0]["description"]


async def test_requests_answers_at_most_1000_the_newest(container: Container,
                                                       clock: Clock) -> None:
    async with container.db.session() as session:
        who = await repo.get_or_create_identity(session=session, channel="terminal",
                                                user_key="banyak")
        # 1005 reports passed on to the agency, and newer ones Kominfo is still checking or
        # did not process: those take no place among the 1000.
        for n in range(1, 1006):
            at = clock() - timedelta(minutes=n)
            session.add(Report(ticket=f"BJI-2026-{n:06d}", category_key="sampah",
                               status=Status.ASSIGNED, agency_key="dlh",
                               kecamatan_code="12.75.02", kelurahan_code="12.75.02.1004",
                               description="Sampah", channel="terminal",
                               reporter_id=who.id or 0, created_at=at, updated_at=at))
        for n in range(1, 31):
            session.add(Report(ticket=f"BJI-2026-{9000 + n:06d}", category_key="sampah",
                               status=Status.SUBMITTED if n % 3 else Status.REJECTED,
                               agency_key="dlh", kecamatan_code="12.75.02",
                               kelurahan_code="12.75.02.1004", description="Sampah",
                               channel="terminal", reporter_id=who.id or 0,
                               created_at=clock(), updated_at=clock()))
    async with open311_client(container) as client:
        answer = await client.get("requests.json")
    body = answer.json()
    assert len(body) == 1000
    assert body[0]["service_request_id"] == "BJI-2026-000001"
    assert body[-1]["service_request_id"] == "BJI-2026-001000"


async def test_one_request_by_its_ticket_and_an_unknown_one(container: Container) -> None:
    report = await file_report(container)
    await passed_on(container, report.ticket)
    async with open311_client(container) as client:
        found = await client.get(f"requests/{report.ticket.lower()}.json")
        missing = await client.get("requests/BJI-2026-999999.json")
        odd = await client.get("requests/%3Cscript%3E.xml")
    assert found.status_code == 200
    check("requests.json", found.json())
    [request] = found.json()
    check("request.json", request)
    assert request["service_request_id"] == report.ticket
    assert request["status_notes"] == "Diteruskan ke instansi terkait"
    assert request["agency_responsible"] == "Dinas Pekerjaan Umum dan Tata Ruang"
    assert missing.status_code == 404
    check_definition("Errors", missing.json())
    assert odd.status_code == 404 and ET.fromstring(odd.content).tag == "errors"


async def test_public_answers_may_be_cached_and_read_from_any_site(container: Container) -> None:
    async with open311_client(container) as client:
        answer = await client.get("requests.json")
    assert answer.headers["access-control-allow-origin"] == "*"
    assert answer.headers["cache-control"].startswith("public")
    assert "Accept-Language" in answer.headers["vary"]


async def test_a_request_kominfo_has_not_passed_on_is_answered_only_by_its_id(
        container: Container) -> None:
    key = await partner_key(container)
    checked = await file_report(container, user="warga-2", category="sampah")
    refused = await file_report(container, user="warga-3", category="sampah")
    async with container.db.session() as session:
        work = actions(container, session)
        verified = await session.get(Report, checked.id)
        spam = await session.get(Report, refused.id)
        assert verified is not None and spam is not None
        await work.verify_only(verified, actor_id=None)  # checked, not yet passed on
        await work.reject(spam, actor_id=None, reason="not_complaint")
    async with open311_client(container) as client:
        created = (await post_request(client, key, **pothole(first_name="Budi"))).json()[0]
        ticket, token = created["service_request_id"], created["token"]
        listed = await client.get("requests.json")
        listed_xml = await client.get("requests.xml")
        by_ids = await client.get("requests.json", params={
            "service_request_id": f"{ticket},{checked.ticket},{refused.ticket}"})
        answers = {t: await one_request(client, t)
                   for t in (ticket, checked.ticket, refused.ticket)}
        as_xml = ET.fromstring((await client.get(f"requests/{ticket}.xml")).content)
        followed = await client.get(f"tokens/{token}.json")
        await passed_on(container, ticket)
        after = (await client.get("requests.json")).json()
    # Not listed, not even by its id in the list.
    check("requests.json", listed.json())
    assert listed.json() == [] and by_ids.json() == []
    assert ET.fromstring(listed_xml.content).findall("request") == []
    # Asked for by its id: that it was received (or not processed), nothing else.
    for answer in answers.values():
        assert set(answer) == CHECKING_FIELDS
    assert [(a["status"], a["status_notes"]) for a in answers.values()] == [
        ("open", "Diterima, sedang diperiksa"), ("open", "Diterima, sedang diperiksa"),
        ("closed", "Tidak diproses")]
    assert (answers[ticket]["service_code"], answers[ticket]["service_name"]) == \
        ("jalan_rusak", "Jalan rusak/berlubang")
    assert WIB_TIME.match(answers[ticket]["requested_datetime"])
    request = as_xml.find("request")
    assert request is not None and {child.tag for child in request} == CHECKING_FIELDS
    assert followed.json() == [{"service_request_id": ticket, "token": token}]
    # Once Kominfo passes it on, it is listed with its agency and place.
    [shown] = after
    check("request.json", shown)
    assert shown["service_request_id"] == ticket
    assert shown["agency_responsible"] == "Dinas Pekerjaan Umum dan Tata Ruang"
    assert shown["address"] == "Kartini, Binjai Kota"
    assert (shown["lat"], shown["long"]) == (3.604, 98.486)
    assert WIB_TIME.match(shown["expected_datetime"])
