"""Polls and quizzes from the console: compose, preview, send, watch the results per kelurahan,
download them, close; a quiz's leaderboards; Kominfo only, every form with its token."""

from __future__ import annotations

import csv
import io
import re

from bot.app import Container
from broadcasting import BERNGAM, PAHLAWAN, add_subscribers
from console_kit import console_client, form_token, signed_in
from polling import dispatch, get_poll, service
from storage import repo_console

RESIDENTS = [str(700_300 + n) for n in range(4)]


def _compose(token: str, intent: str, **more: object) -> dict[str, object]:
    return {"csrf": token, "intent": intent, "kind": "poll",
            "q1_text": "Setujukah Bapak/Ibu pasar malam dibuka setiap Sabtu?",
            "q1_options": "Setuju\nTidak setuju\nRagu-ragu", "q1_options_en": "",
            "groups": ["kim:" + PAHLAWAN], "channels": ["telegram"],
            "closes_at": "2026-12-20T12:00", "share_results": "1", **more}


async def _answer(box: Container, poll_id: int, address: str, option: int) -> None:
    async with box.db.session() as session:
        answered = await service(box, session).answer(
            poll_id=poll_id, position=0, channel="telegram", address=address, option=option)
    assert answered.status == "recorded", answered.status


async def test_kominfo_runs_a_poll_and_watches_the_results_per_kelurahan(telegram) -> None:
    box = telegram.box
    await add_subscribers(box.db, box.city, box.settings, RESIDENTS[:3])
    await add_subscribers(box.db, box.city, box.settings, RESIDENTS[3:], kelurahan=BERNGAM,
                          groups=["kim:" + BERNGAM])
    async with console_client(box) as client:
        await signed_in(box, client, "sari", role="kominfo", name="Sari")
        page = (await client.get("/console/jajak")).text
        assert 'href="/console/jajak"' in page and "Belum ada jajak pendapat" in page
        token = form_token((await client.get("/console/jajak/baru")).text)
        preview = await client.post("/console/jajak/baru", data=_compose(token, "preview"))
        assert preview.status_code == 200, preview.text
        assert ">3</td>" in preview.text  # three people of KIM Pahlawan on Telegram
        assert "pasar malam dibuka setiap Sabtu?" in preview.text
        assert 'class="tg-button">Ragu-ragu' in preview.text  # as Telegram shows it
        assert "3. Ragu-ragu" in preview.text  # as WhatsApp shows it
        async with box.db.reader() as session:  # a preview writes nothing
            assert not [a for a in await repo_console.list_audit(session=session)
                        if a.action.startswith("poll.")]
        saved = await client.post("/console/jajak/baru", data=_compose(token, "save"))
        assert saved.status_code == 303
        where = saved.headers["location"]
        poll_id = int(where.rsplit("/", 1)[1])
        page = (await client.get(where)).text
        assert "Minggu, 20 Des 2026 12.00 WIB" in page
        sent = await client.post(where, data={"csrf": form_token(page), "action": "send"})
        assert sent.status_code == 303
        poll = await get_poll(box, poll_id)
        assert poll.campaign_id is not None
        await dispatch(box, poll.campaign_id)
        for resident in RESIDENTS[:3]:
            markup = telegram.double.messages_to(int(resident))[-1].reply_markup
            assert [b["text"] for row in markup["inline_keyboard"] for b in row] == [
                "Setuju", "Tidak setuju", "Ragu-ragu"]
        assert telegram.double.texts_to(int(RESIDENTS[3])) == []  # another kelurahan
        await _answer(box, poll_id, RESIDENTS[0], 0)
        await _answer(box, poll_id, RESIDENTS[1], 0)
        await _answer(box, poll_id, RESIDENTS[2], 1)

        page = (await client.get(where)).text
        assert f'hx-get="/console/jajak/{poll_id}/hasil"' in page  # refreshes while open
        assert re.search(r'<span class="big">3</span>menjawab', page)
        assert re.search(r'<span class="big">100%</span>', page)
        chart = re.search(r'<svg class="chart".*?</svg>', page, re.DOTALL)
        assert chart is not None and "2 · 67%" in chart.group(0) and "1 · 33%" in chart.group(0)
        assert '<svg class="map"' in page and "Pahlawan: 100% menjawab" in page
        assert "<th scope=\"row\">Pahlawan</th><td>2</td><td>1</td><td>0</td>" in page
        fragment = await client.get(where + "/hasil")
        assert fragment.status_code == 200 and "<html" not in fragment.text
        download = await client.get(where + "/hasil.csv")
        assert download.headers["content-type"].startswith("text/csv")
        rows = list(csv.reader(io.StringIO(download.text.lstrip("\ufeff"))))
        assert rows[0][:3] == ["Pertanyaan", "Teks pertanyaan", "Jawaban"]
        assert rows[1][2:] == ["Setuju", "Binjai Utara", "Pahlawan", "telegram", "2"]

        page = (await client.get(where)).text
        closed = await client.post(where, data={"csrf": form_token(page), "action": "close"})
        assert closed.status_code == 303
        page = (await client.get(where)).text
        assert "sudah ditutup" in page and 'hx-get' not in page
        again = await client.post(where, data={"csrf": form_token(page), "action": "close"})
        assert again.status_code == 409
    poll = await get_poll(box, poll_id)
    assert poll.results_campaign_id is not None
    async with box.db.reader() as session:
        actions = [a.action for a in await repo_console.list_audit(session=session)]
    assert {"poll.create", "poll.send", "poll.close"} <= set(actions)


async def test_a_quiz_is_composed_and_its_mistakes_said(container: Container) -> None:
    async with console_client(container) as client:
        await signed_in(container, client, "sari", role="kominfo")
        page = (await client.get("/console/jajak/baru?jenis=kuis")).text
        assert 'name="q10_text"' in page and 'name="q1_correct"' in page
        data = {"csrf": form_token(page), "intent": "save", "kind": "quiz",
                "title": "Cerdas Cermat", "groups": ["cgen"],
                "q1_text": "Aplikasi membayar PBB?", "q1_options": "e-PBB\ne-Dokter",
                "q1_points": "10",
                "q2_text": "Berapa kecamatan di Binjai?", "q2_options": "Tiga\nLima",
                "q2_correct": "2", "q2_points": "20"}
        bad = await client.post("/console/jajak/baru", data=data)
        assert bad.status_code == 400
        assert "Pertanyaan 1: tentukan pilihan yang benar." in bad.text
        assert "Aplikasi membayar PBB?" in bad.text  # what was typed is kept
        good = await client.post("/console/jajak/baru", data={**data, "q1_correct": "1"})
        assert good.status_code == 303
        page = (await client.get(good.headers["location"])).text
        assert "2 pertanyaan" in page and "Kuis: Cerdas Cermat" in page
        board = await client.get("/console/jajak/peringkat?by=campus")
        assert board.status_code == 200 and "Belum ada skor" in board.text


async def test_quiz_leaderboard_page(telegram) -> None:
    box = telegram.box
    await add_subscribers(box.db, box.city, box.settings, RESIDENTS[:2], groups=["cgen"])
    from polling import create_poll, question

    quiz_id = await create_poll(box, question("PBB?", "e-PBB", "e-Dokter", correct=0,
                                              points=10), kind="quiz", title="Kuis",
                                groups=["cgen"])
    poll = await get_poll(box, quiz_id)
    assert poll.campaign_id is not None
    await dispatch(box, poll.campaign_id)
    async with box.db.session() as session:
        polls = service(box, session)
        await polls.state_institution("telegram", RESIDENTS[0], "SMK Negeri 2 Binjai")
        await polls.answer(poll_id=quiz_id, position=0, channel="telegram",
                           address=RESIDENTS[0], option=0)
    async with console_client(box) as client:
        await signed_in(box, client, "sari", role="kominfo")
        page = (await client.get(f"/console/jajak/peringkat?kuis={quiz_id}&by=school")).text
    assert "SMK Negeri 2 Binjai" in page and '<svg class="chart"' in page


async def test_only_kominfo_has_polls_and_every_form_needs_its_token(
        container: Container) -> None:
    async with console_client(container) as client:
        assert (await client.get("/console/jajak")).status_code == 303  # not signed in
        await signed_in(container, client, "budi", role="head", agency="putr")
        for path in ("/console/jajak", "/console/jajak/baru", "/console/jajak/peringkat",
                     "/console/jajak/1", "/console/jajak/1/hasil.csv"):
            assert (await client.get(path)).status_code == 404, path
        client.cookies.clear()
        await signed_in(container, client, "sari", role="kominfo")
        forged = await client.post("/console/jajak/baru", data=_compose("0" * 64, "save"))
        assert forged.status_code == 403
        assert (await client.get("/console/jajak/999")).status_code == 404
        assert (await client.get("/console/jajak/abc")).status_code == 422
        async with container.db.reader() as session:
            assert not [a for a in await repo_console.list_audit(session=session)
                        if a.action.startswith("poll.")]


async def test_own_words_are_read_on_the_page_and_downloaded_safely(telegram) -> None:
    box = telegram.box
    await add_subscribers(box.db, box.city, box.settings, RESIDENTS[:2])
    from polling import create_poll, question

    poll_id = await create_poll(box, question("Apa saran untuk taman kota?", allow_text=True))
    poll = await get_poll(box, poll_id)
    assert poll.campaign_id is not None
    await dispatch(box, poll.campaign_id)
    async with box.db.session() as session:
        polls = service(box, session)
        for address, words in ((RESIDENTS[0], "Tambah lampu taman dan tempat sampah"),
                               (RESIDENTS[1], "=HYPERLINK(\"http://x\")")):
            answered = await polls.answer(poll_id=poll_id, position=0, channel="telegram",
                                          address=address, text=words)
            assert answered.status == "recorded"
    async with console_client(box) as client:
        await signed_in(box, client, "sari", role="kominfo")
        page = (await client.get(f"/console/jajak/{poll_id}")).text
        assert "Tambah lampu taman dan tempat sampah" in page
        assert "Kata yang paling sering dipakai" in page and "lampu (1)" in page
        download = await client.get(f"/console/jajak/{poll_id}/jawaban.csv")
    rows = list(csv.reader(io.StringIO(download.text.lstrip("\ufeff"))))
    assert rows[0] == ["Pertanyaan", "Jawaban", "Kelurahan", "Waktu"]
    answers = {r[1] for r in rows[1:]}
    assert answers == {"Tambah lampu taman dan tempat sampah", "'=HYPERLINK(\"http://x\")"}
    assert not any(resident in download.text for resident in RESIDENTS)  # no chat ids
