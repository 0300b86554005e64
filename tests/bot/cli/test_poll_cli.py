"""`emas poll ...` and `emas quiz ...` as operators use them, with the JSON shapes scripts read."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from bot.app import Container
from bot.settings import Settings
from broadcasting import BERNGAM, PAHLAWAN, add_subscribers, deliveries
from cli_kit import acli
from conftest import TelegramEnv
from polling import dispatch, get_poll, service

TANAH_TINGGI = "12.75.04.1001"  # Binjai Timur


async def _answer(box: Container, poll_id: int, address: str, option: int,
                  position: int = 0) -> str:
    async with box.db.session() as session:
        answered = await service(box, session).answer(
            poll_id=poll_id, position=position, channel="telegram", address=address,
            option=option)
    return str(answered.status)


async def test_create_send_results_and_close(telegram: TelegramEnv) -> None:
    box = telegram.box
    settings = box.settings
    await add_subscribers(box.db, box.city, settings, ["810001", "810002", "810003"],
                          groups=["kim:12.75.04"], kelurahan=TANAH_TINGGI)
    await add_subscribers(box.db, box.city, settings, ["810004"], groups=["kim:12.75.04"],
                          kelurahan=None)
    await add_subscribers(box.db, box.city, settings, ["810099"], groups=["cgen"],
                          kelurahan=BERNGAM)  # not asked
    code, out = await acli(settings, "poll", "create",
                           "--question", "Perlukah taman baca di kantor lurah?",
                           "--question-en", "Should the lurah's office have a reading room?",
                           "--option", "Perlu", "--option", "Tidak perlu",
                           "--option-en", "Yes", "--option-en", "No",
                           "--group", "KIM Binjai Timur", "--closes", "2030-01-06 12:00",
                           "--share-results", "--json")
    assert code == 0, out
    created = json.loads(out)
    poll_id = created["id"]
    assert isinstance(poll_id, int) and created["phase"] == "draft"
    assert created["preview"]["recipients"] == 4

    code, out = await acli(settings, "poll", "preview", str(poll_id), "--json")
    shown = json.loads(out)
    assert shown["questions"][0]["options"] == [{"id": "Perlu", "en": "Yes"},
                                                {"id": "Tidak perlu", "en": "No"}]
    assert shown["audience"] == "KIM Binjai Timur"
    code, out = await acli(settings, "poll", "preview", str(poll_id))
    assert "1. Perlu / Yes" in out and "closes: Sunday, 6 Jan 2030 12:00 WIB" in out

    code, out = await acli(settings, "poll", "send", str(poll_id), "--json")
    assert code == 0 and json.loads(out)["phase"] in ("open", "scheduled")
    poll = await get_poll(box, poll_id)
    assert poll.campaign_id is not None
    await dispatch(box, poll.campaign_id)
    assert len(await deliveries(box.db, poll.campaign_id)) == 4
    assert await _answer(box, poll_id, "810001", 0) == "recorded"
    assert await _answer(box, poll_id, "810002", 0) == "recorded"
    assert await _answer(box, poll_id, "810003", 1) == "recorded"
    assert await _answer(box, poll_id, "810099", 0) == "not_recipient"

    code, out = await acli(settings, "poll", "results", str(poll_id), "--json")
    assert code == 0, out
    figures = json.loads(out)
    assert figures["responses"] == 3 and figures["delivered"] == 4
    assert figures["response_rate"] == 0.75
    assert [{"label": o["label"], "count": o["count"]} for o in figures["options"]] == [
        {"label": "Perlu", "count": 2}, {"label": "Tidak perlu", "count": 1}]
    assert figures["by_kelurahan"] == {"Tanah Tinggi": {"Perlu": 2, "Tidak perlu": 1}}
    assert figures["by_kecamatan"] == {"Binjai Timur": {"Perlu": 2, "Tidak perlu": 1}}
    assert figures["by_channel"] == {"telegram": {"Perlu": 2, "Tidak perlu": 1}}
    assert figures["by_group"]["KIM Binjai Timur"] == {"Perlu": 2, "Tidak perlu": 1}
    rates = {r["name"]: (r["delivered"], r["responses"]) for r in figures["kelurahan_rates"]}
    assert rates == {"Tanah Tinggi": (3, 3), None: (1, 0)}

    code, out = await acli(settings, "poll", "results", str(poll_id), "--csv")
    rows = list(csv.reader(io.StringIO(out)))
    assert rows[0] == ["Question", "Question text", "Answer", "Kecamatan", "Kelurahan",
                       "Channel", "Answers"]
    assert rows[1] == ["1", "Perlukah taman baca di kantor lurah?", "Perlu", "Binjai Timur",
                       "Tanah Tinggi", "telegram", "2"]

    code, out = await acli(settings, "poll", "close", str(poll_id), "--json")
    closed = json.loads(out)
    assert closed["phase"] == "closed" and closed["results_campaign_id"]
    code, out = await acli(settings, "poll", "close", str(poll_id))
    assert code == 1 and "has closed already" in out
    assert await _answer(box, poll_id, "810004", 0) == "closed"


async def test_create_prints_the_id_alone(container: Container, settings: Settings) -> None:
    code, out = await acli(settings, "poll", "create", "--question", "Setuju?", "--option",
                           "Ya", "--option", "Tidak", "--group", "cgen")
    assert code == 0, out
    assert out.splitlines()[0].strip().isdigit()
    code, out = await acli(settings, "poll", "list", "--json")
    assert [p["title"] for p in json.loads(out)] == ["Setuju?"]


async def test_mistakes_are_said_in_one_line(container: Container, settings: Settings) -> None:
    code, out = await acli(settings, "poll", "create", "--question", "Setuju?", "--option",
                           "Ya", "--group", "cgen")
    assert code == 1 and "give from 2 to 6 options" in out and "Traceback" not in out
    code, out = await acli(settings, "poll", "create", "--question", "Setuju?", "--option",
                           "Ya", "--option", "Tidak", "--group", "cgen", "--closes",
                           "2020-01-01 10:00")
    assert code == 2 and "has already passed" in out
    code, out = await acli(settings, "poll", "create", "--question", "Setuju?", "--option",
                           "Ya", "--option", "Tidak", "--group", "hantu")
    assert code == 2 and "unknown group" in out
    code, out = await acli(settings, "poll", "results", "99", "--json")
    assert code == 1 and "There is no poll #99" in out
    code, out = await acli(settings, "poll", "create", "--question", "Setuju?", "--option",
                           "Ya", "--option", "Tidak", "--option-en", "Yes", "--group", "cgen")
    assert code == 2 and "one --option-en for each --option" in out


QUIZ = """\
title: Cerdas Cermat Smart City
questions:
  - question: Aplikasi untuk membayar PBB di Binjai?
    options: [e-PBB, e-Dokter, TransBinjai]
    correct: e-PBB
    points: 10
  - question: Berapa kecamatan di Kota Binjai?
    options: [Tiga, Lima, Tujuh]
    correct: 2
    points: 20
"""


async def test_a_quiz_from_a_file_and_its_leaderboards(telegram: TelegramEnv,
                                                       tmp_path: Path) -> None:
    box = telegram.box
    settings = box.settings
    path = tmp_path / "kuis.yaml"
    path.write_text(QUIZ, encoding="utf-8")
    await add_subscribers(box.db, box.city, settings, ["820001", "820002"], groups=["cgen"],
                          kelurahan=PAHLAWAN)
    await add_subscribers(box.db, box.city, settings, ["820003"], groups=["cgen"],
                          kelurahan=BERNGAM)
    code, out = await acli(settings, "quiz", "create", str(path), "--group", "cgen", "--json")
    assert code == 0, out
    quiz_id = json.loads(out)["id"]
    assert json.loads(out)["questions"] == 2
    await acli(settings, "poll", "send", str(quiz_id))
    poll = await get_poll(box, quiz_id)
    assert poll.campaign_id is not None
    await dispatch(box, poll.campaign_id)
    for address, school, picks in (("820001", "SMAN 1 Binjai", (0, 1)),
                                   ("820002", "SMA Negeri 1 Binjai", (0, 0)),
                                   ("820003", "Universitas Negeri Medan", (1, 1))):
        async with box.db.session() as session:
            polls = service(box, session)
            await polls.state_institution("telegram", address, school)
            for position, option in enumerate(picks):
                await polls.answer(poll_id=quiz_id, position=position, channel="telegram",
                                   address=address, option=option)
    code, out = await acli(settings, "quiz", "leaderboard", str(quiz_id), "--by", "school",
                           "--json")
    assert code == 0, out
    board = json.loads(out)
    assert board["rows"] == [{"key": "sma negeri 1 binjai", "name": "SMA Negeri 1 Binjai",
                              "participants": 2, "points": 40, "average": 20.0, "rank": 1}]
    code, out = await acli(settings, "quiz", "leaderboard", str(quiz_id), "--by", "campus",
                           "--json")
    assert [(r["name"], r["points"]) for r in json.loads(out)["rows"]] == [
        ("Universitas Negeri Medan", 20)]
    code, out = await acli(settings, "quiz", "leaderboard", str(quiz_id), "--by", "kelurahan",
                           "--json")
    assert [(r["name"], r["points"], r["rank"]) for r in json.loads(out)["rows"]] == [
        ("Pahlawan", 40, 1), ("Berngam", 20, 2)]
    code, out = await acli(settings, "quiz", "leaderboard", "--by", "group", "--json")
    assert [(r["key"], r["participants"]) for r in json.loads(out)["rows"]] == [("cgen", 3)]
    code, out = await acli(settings, "poll", "results", str(quiz_id), "--json")
    figures = json.loads(out)
    assert figures["quiz"] == {"participants": 3, "max_score": 30, "average_score": 20.0}
    assert figures["questions"][1]["correct_label"] == "Lima"


async def test_a_poll_waits_for_a_second_pair_of_eyes_where_the_city_wants_one(
        container: Container, settings: Settings) -> None:
    env = {"EMAS_BROADCAST_REQUIRE_APPROVAL": "true"}
    code, out = await acli(settings, "poll", "create", "--question", "Setuju?", "--option",
                           "Ya", "--option", "Tidak", "--group", "cgen", "--json", env=env)
    poll_id = str(json.loads(out)["id"])
    code, out = await acli(settings, "poll", "send", poll_id, "--by", "sari", env=env)
    assert code == 0, out
    campaign = (await get_poll(container, int(poll_id))).campaign_id
    assert f"emas campaign approve {campaign}" in out
    code, out = await acli(settings, "campaign", "approve", str(campaign), "--by", "tono",
                           "--json", env=env)
    assert json.loads(out)["status"] == "sending"


async def test_a_poll_with_no_group_area_or_role_asks_everyone_subscribed(
        container: Container, settings: Settings) -> None:
    await add_subscribers(container.db, container.city, container.settings,
                          ["700901", "700902", "700903"])
    code, out = await acli(settings, "poll", "create", "--question", "Setuju?", "--option",
                           "Ya", "--option", "Tidak", "--json")
    assert code == 0, out
    poll_id = json.loads(out)["id"]
    code, out = await acli(settings, "poll", "preview", str(poll_id), "--json")
    assert code == 0, out
    assert json.loads(out)["preview"]["recipients"] == 3
