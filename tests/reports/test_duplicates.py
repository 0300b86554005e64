""""Me too": while filing, an open report about the same problem is offered for support."""

from __future__ import annotations

from typing import Any

from agencies_kit import HERE, KARTINI, actions, file_report, set_status, staff, worded
from bot.app import Container
from chat import Chat, stored_reports
from reports.duplicates import find_similar, text_similarity
from storage import repo_agencies


async def describe(chat: Chat, description: str, *, near: tuple[float, float] | None = None,
                   category: str = "Damaged road") -> None:
    """File a report up to its description, as a resident does."""
    await chat.say("/start")
    await chat.tap("Make a report")
    await chat.say(description)
    await chat.pick_category(category)
    if near is not None:
        await chat.share_location(*near)
        await chat.tap("No, choose the kelurahan")  # whichever the pin says, it is Kartini
        await chat.tap("Binjai Kota")
        await chat.tap("Kartini")
    else:
        await chat.say("Kartini")
    await chat.tap("Skip")


async def test_a_report_within_100_metres_is_offered_and_supported(channel_env: Any) -> None:
    box = channel_env.box
    first = await file_report(box, lat=HERE[0], lon=HERE[1],
                              description="Jalan berlubang besar di depan SD Negeri 5")
    chat = channel_env.chat(language_code="en")
    # About 35 metres away, described in other words.
    await describe(chat, "Aspal rusak parah, motor sering jatuh di sini",
                   near=(HERE[0] + 0.0003, HERE[1] + 0.0001))
    assert "already reported what looks like the same problem" in chat.text
    offer = chat.text
    assert first.ticket in offer and "Damaged road" in offer and "Kel. Kartini" in offer
    # Another resident's report shows no words, address, photo or reporter of theirs.
    assert "Jalan berlubang" not in offer and "SD Negeri" not in offer and "Budi" not in offer
    await chat.tap(f"Support {first.ticket}")
    assert f"You now support report {first.ticket}" in chat.text
    assert "1 resident supports it" in chat.text
    assert [r.ticket for r in await stored_reports(box)] == [first.ticket]  # nothing new filed

    # The agency sees how many residents are affected, and so does anyone checking the ticket.
    await staff(box, "petugas-putr", role="officer", agency="putr")
    async with box.db.session() as session:
        report = await repo_agencies.get_report(session=session, report_id=first.id or 0)
        assert report is not None
        outcome = await actions(box, session).verify(report, actor_id=None)
    post, = [n.reply.text for n in worded(box, outcome.notices)
             if n.recipient.user_key == "petugas-putr"]
    assert "Pendukung (warga yang mengalami hal sama): 1" in post
    await chat.tap("Check a report's status")
    await chat.say(first.ticket)
    assert "Supported by 1 other resident" in chat.text


async def test_same_kelurahan_and_a_similar_description_is_offered_and_can_be_declined(
    channel_env: Any,
) -> None:
    box = channel_env.box
    first = await file_report(box, description="Jalan berlubang besar di depan SD Negeri 5, "
                                               "sudah dua minggu")
    chat = channel_env.chat(language_code="en")
    await describe(chat, "Ada lubang besar di jalan depan SD Negeri 5 tolong diperbaiki")
    assert first.ticket in chat.text
    await chat.tap("File mine anyway")
    assert "photos" in chat.text
    await chat.tap("Skip photos")
    await chat.tap("Yes, show my name")
    await chat.tap("Send report")
    assert len(await stored_reports(box)) == 2


async def test_a_different_problem_is_not_offered(channel_env: Any) -> None:
    box = channel_env.box
    await file_report(box, description="Jalan berlubang besar di depan SD Negeri 5")
    chat = channel_env.chat(language_code="en")
    await describe(chat, "Jembatan kayu di gang Mawar retak dan miring")
    assert "already reported" not in chat.text
    assert "photos" in chat.text


async def test_closed_other_category_own_and_confidential_reports_are_never_offered(
    container: Container,
) -> None:
    box = container
    text = "Jalan berlubang besar di depan SD Negeri 5"
    closed = await file_report(box, user="warga-2", description=text, lat=HERE[0], lon=HERE[1])
    await set_status(box, closed.id or 0, "rejected", note="x")
    await file_report(box, user="warga-3", category="drainase", description=text,
                      lat=HERE[0], lon=HERE[1])
    mine = await file_report(box, user="warga-4", description=text, lat=HERE[0], lon=HERE[1])
    await file_report(box, user="warga-5", category="pungli", description=text,
                      lat=HERE[0], lon=HERE[1])
    async with box.db.reader() as session:
        found = await find_similar(session=session, city=box.city, category_key="jalan_rusak",
                                   kelurahan_code=KARTINI, description=text, lat=HERE[0],
                                   lon=HERE[1], exclude_reporter=mine.reporter_id)
        assert found == []
        found = await find_similar(session=session, city=box.city, category_key="pungli",
                                   kelurahan_code=KARTINI, description=text)
        assert found == []
        found = await find_similar(session=session, city=box.city, category_key="jalan_rusak",
                                   kelurahan_code=KARTINI, description=text)
        assert [s.report.ticket for s in found] == [mine.ticket]


async def test_far_apart_in_the_same_kelurahan_needs_a_similar_description(
    container: Container,
) -> None:
    box = container
    await file_report(box, description="Lampu jalan mati di Jl. Sudirman depan toko Ani",
                      category="pju", lat=HERE[0], lon=HERE[1])
    async with box.db.reader() as session:
        far = (HERE[0] + 0.003, HERE[1])  # about 330 m north
        alike = await find_similar(
            session=session, city=box.city, category_key="pju", kelurahan_code=KARTINI,
            description="Lampu jalan di Jl. Sudirman mati sudah seminggu", lat=far[0],
            lon=far[1])
        other = await find_similar(
            session=session, city=box.city, category_key="pju", kelurahan_code=KARTINI,
            description="Lampu jalan mati di gang Melati ujung", lat=far[0], lon=far[1])
    assert len(alike) == 1 and alike[0].distance_m is not None and alike[0].distance_m > 300
    assert other == []


def test_description_similarity_ignores_filler_words() -> None:
    assert text_similarity("Sampah menumpuk di TPS pasar tavip tidak diangkut",
                           "Sampah di pasar tavip belum diangkut 3 hari") >= 75
    assert text_similarity("Sampah menumpuk di TPS pasar tavip tidak diangkut",
                           "Sampah berserakan di jalan Gatot Subroto") < 75


async def test_me_too_never_shows_an_anonymous_neighbours_words_address_or_name(
    channel_env: Any,
) -> None:
    box = channel_env.box
    first = await file_report(box, lat=HERE[0], lon=HERE[1], anonymous=True,
                              description="Jalan amblas depan rumah Pak Harun no 12")
    async with box.db.session() as session:
        stored = await repo_agencies.get_report(session=session, report_id=first.id or 0)
        assert stored is not None
        stored.address = "Jl. Cut Nyak Dhien gg. Mawar no 12"
        session.add(stored)
    chat = channel_env.chat(chat_id=700_055, language_code="en")
    await describe(chat, "Jalan rusak berat, banyak lubang",
                   near=(HERE[0] + 0.0002, HERE[1]))
    assert first.ticket in chat.text
    for secret in ("amblas", "Harun", "Cut Nyak Dhien", "Mawar", "Budi"):
        assert secret not in chat.text, secret
