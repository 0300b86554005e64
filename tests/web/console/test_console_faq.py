"""Answering residents' questions from the console: the answer reaches the resident's chat."""

from __future__ import annotations

import re

from agencies_kit import staff
from bot.faq_answers import deliver_answers
from console_kit import console_client, form_token, signed_in


async def test_kominfo_answers_a_question_and_the_resident_gets_it_once(telegram, clock) -> None:
    box = telegram.box
    resident = telegram.chat(chat_id=700_888)
    await resident.say("/start")
    await resident.say("kapan pasar malam dibuka")
    await resident.tap("✍️ Ya, teruskan ke petugas")
    async with console_client(box) as client:
        await signed_in(box, client, "sari", role="kominfo", name="Sari")
        page = (await client.get("/console/faq")).text
        assert "kapan pasar malam dibuka" in page
        action = re.search(r'action="(/console/faq/\d+)"', page)
        assert action
        bad = await client.post(action.group(1), data={"csrf": form_token(page),
                                                        "answer": "   "})
        assert bad.status_code == 400
        done = await client.post(action.group(1), data={
            "csrf": form_token(page), "answer": "Pasar malam dibuka setiap Sabtu pukul 18.00."})
        assert done.status_code == 303
        after = (await client.get(done.headers["location"])).text
    assert "Jawaban tersimpan" in after
    assert "Belum ada pertanyaan yang menunggu" in after and "Baru dijawab" in after
    assert await deliver_answers(db=box.db, outbound=box.outbound, now=clock) == 1
    assert await deliver_answers(db=box.db, outbound=box.outbound, now=clock) == 0
    said = "\n".join(telegram.double.texts_to(700_888))
    assert "Pasar malam dibuka setiap Sabtu pukul 18.00." in said


async def test_only_kominfo_has_the_questions_page(container) -> None:
    await staff(container, "budi", role="officer", agency="putr")
    async with console_client(container) as client:
        await signed_in(container, client, "budi")
        assert (await client.get("/console/faq")).status_code == 404
        page = (await client.get("/console/")).text
        assert (await client.post("/console/faq/1", data={
            "csrf": form_token(page), "answer": "x"})).status_code == 404


async def test_kominfo_sees_how_often_each_article_was_opened_and_rated(telegram, clock) -> None:
    box = telegram.box
    for chat_id in (700_901, 700_902):
        resident = telegram.chat(chat_id=chat_id)
        await resident.say("/start")
        await resident.say("bagaimana cara bayar pbb?")
        assert "📖" in resident.text
    while "➡️ Halaman berikutnya" in resident.options:
        await resident.tap("➡️ Halaman berikutnya")
    await resident.tap("👎 Tidak")
    clock.advance(days=40)  # a month later the article is still counted in all, not lately
    late = telegram.chat(chat_id=700_903)
    await late.say("/start")
    await late.say("apa itu KIM?")
    async with console_client(box) as client:
        await signed_in(box, client, "sari", role="kominfo", name="Sari")
        page = (await client.get("/console/faq")).text
    rows = dict(re.findall(r'<tr><th scope="row">([\w-]+)</th>((?:<td[^>]*>\d+</td>)+)</tr>',
                           page))
    cells = {slug: re.findall(r">(\d+)<", tds) for slug, tds in rows.items()}
    # opened lately, opened in all, helpful, not helpful
    assert cells["e-pbb"] == ["0", "2", "0", "1"]
    assert cells["kim"] == ["1", "1", "0", "0"]
    assert "Dibuka dalam 30 hari terakhir" in page
