"""Open data: `/data/reports.csv` and `/data/reports.json`, one row per report, public fields
only, under a stated licence, with date filters, streamed."""

from __future__ import annotations

import csv
import io
import re

import pytest

from agencies_kit import file_report
from bot.app import Container
from console_kit import console_client, signed_in
from public_kit import done, pass_on, resident_report

FIELDS = ["ticket", "url", "status", "status_label", "category", "category_name", "agency",
          "agency_name", "kecamatan_code", "kecamatan", "kelurahan_code", "kelurahan",
          "created_at", "updated_at", "resolved_at", "on_time", "latitude", "longitude",
          "supporters", "description", "photos", "duplicate_of"]
RFC3339 = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+07:00")


async def _seed(box: Container, client, clock) -> dict[str, str]:
    """A report still being checked, one resolved with a published (edited) description and
    photo, and a confidential one with a precise point."""
    checking = await file_report(box, user="w1", description="Belum diperiksa")
    road = await resident_report(box, chat_id=612_000_020, name="Rahmat",
                                 phone="+6281200000020",
                                 description="Lubang di depan rumah no 7 milik Pak Harun",
                                 point=(3.605123, 98.492456), photos=1)
    secret = await resident_report(box, chat_id=612_000_021, name="Rahmat",
                                   phone="+6281200000021", category="pungli",
                                   description="Diminta uang", point=(3.611111, 98.488888))
    await signed_in(box, client, "sari", role="kominfo")
    await pass_on(client, road.report)
    await pass_on(client, secret.report)
    await done(client, road.report.ticket, "publish_text", text="Lubang besar di badan jalan")
    await done(client, road.report.ticket, "publish_photo", photo_id=str(road.photos[0].id))
    clock.advance(hours=3)
    await done(client, road.report.ticket, "resolve", note="Sudah ditambal")
    client.cookies.clear()
    return {"checking": checking.ticket, "road": road.report.ticket,
            "secret": secret.report.ticket, "photo": str(road.photos[0].id)}


async def test_the_csv_has_one_row_per_report_and_public_fields_only(container: Container,
                                                                     clock) -> None:
    async with console_client(container) as client:
        seeded = await _seed(container, client, clock)
        answer = await client.get("/data/reports.csv")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/csv")
    assert answer.headers["cache-control"].startswith("public, max-age=")
    assert answer.headers["link"] == '<https://creativecommons.org/licenses/by/4.0/>; rel="license"'
    assert "set-cookie" not in answer.headers
    rows = list(csv.DictReader(io.StringIO(answer.text)))
    assert list(rows[0]) == FIELDS
    by_ticket = {r["ticket"]: r for r in rows}
    assert list(by_ticket) == [seeded["checking"], seeded["road"], seeded["secret"]]

    checking = by_ticket[seeded["checking"]]
    assert checking["status_label"] == "Diterima, sedang diperiksa"
    assert checking["category"] == checking["kelurahan"] == checking["description"] == ""
    assert RFC3339.fullmatch(checking["created_at"])

    road = by_ticket[seeded["road"]]
    assert road["category"] == "jalan_rusak" and road["category_name"] == "Jalan rusak/berlubang"
    assert (road["agency"], road["kecamatan"], road["kelurahan"]) == (
        "putr", "Binjai Kota", "Kartini")
    assert road["status"] == "resolved" and road["on_time"] == "true"
    assert RFC3339.fullmatch(road["resolved_at"]) and RFC3339.fullmatch(road["updated_at"])
    assert (road["latitude"], road["longitude"]) == ("3.605", "98.492")  # about 100 m
    assert road["description"] == "Lubang besar di badan jalan"
    assert road["photos"] == f"http://127.0.0.1:8080/t/{seeded['road']}/foto/{seeded['photo']}"
    assert road["url"] == f"http://127.0.0.1:8080/t/{seeded['road']}"

    secret = by_ticket[seeded["secret"]]
    assert secret["category"] == "pungli"
    assert secret["latitude"] == secret["longitude"] == secret["description"] == ""
    for private in ("3.605123", "98.492456", "3.611", "Pak Harun", "Diminta uang", "Rahmat"):
        assert private not in answer.text


async def test_the_json_states_the_licence_and_carries_the_same_rows(container: Container,
                                                                     clock) -> None:
    async with console_client(container) as client:
        seeded = await _seed(container, client, clock)
        data = (await client.get("/data/reports.json?lang=en")).json()
        as_csv = (await client.get("/data/reports.csv?lang=en")).text
    meta = data["meta"]
    assert meta["license"] == {"id": "CC-BY-4.0", "name": "CC BY 4.0",
                               "url": "https://creativecommons.org/licenses/by/4.0/"}
    assert meta["publisher"] == "Kota Binjai" and meta["fields"] == FIELDS
    assert RFC3339.fullmatch(meta["generated_at"])
    rows = {r["ticket"]: r for r in data["reports"]}
    assert len(rows) == 3 and all(list(r) == FIELDS for r in data["reports"])
    road = rows[seeded["road"]]
    assert road["status_label"] == "Resolved by the agency"
    assert road["category_name"] == "Damaged road / pothole"
    assert road["on_time"] is True and road["latitude"] == 3.605
    assert road["photos"] == [f"http://127.0.0.1:8080/t/{seeded['road']}/foto/{seeded['photo']}"]
    assert rows[seeded["checking"]]["on_time"] is None
    assert rows[seeded["secret"]]["latitude"] is None
    assert [r["ticket"] for r in csv.DictReader(io.StringIO(as_csv))] == list(rows)


async def test_the_data_is_filtered_by_the_day_a_report_was_filed(container: Container,
                                                                  clock) -> None:
    clock.advance(days=-2, hours=-9)  # Saturday 5 Dec, 00:00 WIB
    early = await file_report(container, user="w1")
    clock.advance(hours=24, seconds=-1)  # Saturday 23:59:59 WIB
    late = await file_report(container, user="w2")
    clock.advance(seconds=1)  # Sunday 00:00 WIB
    sunday = await file_report(container, user="w3")
    async with console_client(container) as client:
        saturday = await client.get("/data/reports.csv?from=2026-12-05&to=2026-12-05")
        onwards = await client.get("/data/reports.json?from=2026-12-06")
        until = await client.get("/data/reports.json?to=2026-12-05")
        bad = await client.get("/data/reports.csv?from=5-12-2026")
        bad_json = await client.get("/data/reports.json?from=2026-12-07&to=2026-12-01&lang=en")
    assert [r["ticket"] for r in csv.DictReader(io.StringIO(saturday.text))] == [
        early.ticket, late.ticket]
    assert [r["ticket"] for r in onwards.json()["reports"]] == [sunday.ticket]
    assert onwards.json()["meta"]["filters"] == {"from": "2026-12-06", "to": None}
    assert [r["ticket"] for r in until.json()["reports"]] == [early.ticket, late.ticket]
    assert bad.status_code == 400 and "bukan tanggal" in bad.text
    assert bad_json.status_code == 400
    assert bad_json.json() == {"error": "The end date comes before the start date."}


async def test_a_long_export_is_read_a_batch_at_a_time(container: Container,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    import web.public.opendata as opendata

    monkeypatch.setattr(opendata, "BATCH", 2)
    tickets = [(await file_report(container, user=f"w{n}")).ticket for n in range(5)]
    async with console_client(container) as client:
        as_json = await client.get("/data/reports.json")
        as_csv = await client.get("/data/reports.csv")
    assert [r["ticket"] for r in as_json.json()["reports"]] == tickets
    assert [r["ticket"] for r in csv.DictReader(io.StringIO(as_csv.text))] == tickets
