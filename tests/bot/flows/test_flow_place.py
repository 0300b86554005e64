"""Where the report happened: a shared location names its kelurahan, confirmed in one tap
(or one typed word), on every channel."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from chat import KARTINI, Chat, stored_reports

PACK = Path(__file__).resolve().parents[3] / "content" / "binjai"


async def _to_place(chat: Chat) -> None:
    await chat.say("/start")
    await chat.tap("Make a report")
    await chat.say("Jalan berlubang dalam di depan sekolah")
    await chat.tap("Damaged road")


async def _finish(chat: Chat) -> None:
    await chat.tap("Skip")  # landmark
    await chat.tap("Skip photos")
    await chat.tap("Yes, show my name")
    await chat.tap("Send report")


async def test_a_shared_location_names_the_kelurahan_in_one_tap(
        channel_env: Any, en_chat: Chat) -> None:
    await _to_place(en_chat)
    await en_chat.share_location(*KARTINI)
    assert "Your location is in Kel. Kartini, Binjai Kota. Is that right?" in en_chat.text
    await en_chat.say("ok")  # typed instead of tapped
    assert "landmark" in en_chat.text
    await _finish(en_chat)
    [report] = await stored_reports(channel_env.box)
    assert report.kelurahan_code == "12.75.02.1004" and report.kecamatan_code == "12.75.02"
    assert (report.latitude, report.longitude) == KARTINI


async def test_no_leads_to_the_kecamatan_and_keeps_the_pin(
        channel_env: Any, en_chat: Chat) -> None:
    await _to_place(en_chat)
    await en_chat.share_location(*KARTINI)
    await en_chat.say("bukan")
    assert "Choose the kecamatan" in en_chat.text
    await en_chat.tap("Binjai Kota")
    await en_chat.tap("Tangsi")  # the resident knows better than an approximate boundary
    await _finish(en_chat)
    [report] = await stored_reports(channel_env.box)
    assert report.kelurahan_code == "12.75.02.1005"
    assert (report.latitude, report.longitude) == KARTINI


def _south_edge(metres: float) -> tuple[float, float]:
    lat, lon = min((p[1], p[0]) for f in json.loads((PACK / "boundaries.geojson").read_text())
                    ["features"] for p in f["geometry"]["coordinates"][0])
    return lat - metres / 110_574, lon


async def test_at_the_city_edge_the_resident_is_asked_and_farther_out_refused(
        channel_env: Any, en_chat: Chat) -> None:
    await _to_place(en_chat)
    await en_chat.share_location(*_south_edge(2000))
    assert "outside Kota Binjai" in en_chat.text
    await en_chat.share_location(*_south_edge(150))
    assert "at the edge of Kota Binjai, near Kel." in en_chat.text
    await en_chat.tap("Yes, that's right")
    await _finish(en_chat)
    [report] = await stored_reports(channel_env.box)
    assert report.kelurahan_code is not None and report.latitude is not None


async def test_a_typed_place_replaces_the_pin_and_going_back_clears_it(
        channel_env: Any, en_chat: Chat) -> None:
    await _to_place(en_chat)
    await en_chat.share_location(*KARTINI)
    await en_chat.say("kembali")  # back to the question: the pin is gone
    assert "Where is the problem" in en_chat.text
    await en_chat.say("Tangsi")
    assert "landmark" in en_chat.text
    await _finish(en_chat)
    [report] = await stored_reports(channel_env.box)
    assert report.kelurahan_code == "12.75.02.1005"
    assert report.latitude is None and report.longitude is None

    await _to_place(en_chat)
    await en_chat.share_location(*KARTINI)
    await en_chat.say("Tangsi")  # typed at the confirmation: the typed place wins
    await _finish(en_chat)
    second = (await stored_reports(channel_env.box))[-1]
    assert second.kelurahan_code == "12.75.02.1005" and second.latitude is None
