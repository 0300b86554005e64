"""Outreach in the console: residents' suggestions by theme and kelurahan, answered once through
the resident's chat; where residents come from (tracked sources, how they heard); suggestions in
the evaluation; a campaign's impact beside its reach."""

from __future__ import annotations

import csv
import io
import re
import zipfile
from datetime import datetime, timedelta
from typing import Any

import pytest

from agencies_kit import KARTINI, TANGSI, file_report, flush_outbox, person
from bot.app import Container
from broadcasts.outreach import OutreachService
from broadcasts.suggestions import SuggestionService
from console_kit import console_client, form_token, signed_in
from storage import repo_console
from storage.models import Campaign, CampaignStatus, Report, Subscriber
from storage.models.outreach import QuestionAsked

WEEK = "from=2026-12-07&to=2026-12-13"


async def _suggest(box: Container, user: str, *, theme: str, text: str, app: str | None = None,
                   channel: str = "terminal") -> int:
    who = await person(box, user, channel=channel)
    async with box.db.session() as session:
        row = await SuggestionService(session=session, now=box.engine.clock).submit(
            identity_id=who.id, channel=channel, theme=theme, app=app, text=text)
        return row.id or 0


async def test_kominfo_reads_suggestions_by_theme_and_kelurahan_and_answers_once(
        telegram: Any) -> None:
    box = telegram.box
    resident = telegram.chat(chat_id=740_001)
    await resident.say("/start")
    await resident.tap("Saran untuk Pemkot")
    await resident.tap("Layanan Pemkot")
    await resident.say("Mohon jam layanan Disdukcapil diperpanjang sampai sore")
    # Another resident, whose kelurahan the bot knows from an earlier report.
    await file_report(box, user="warga-tangsi", kelurahan=TANGSI)
    await _suggest(box, "warga-tangsi", theme="app", app="e-pbb",
                   text="Tagihan e-PBB sebaiknya bisa dicek lewat bot ini")
    async with console_client(box) as client:
        await signed_in(box, client, "sari", role="kominfo", name="Sari")
        page = (await client.get("/console/saran")).text
        assert "Mohon jam layanan Disdukcapil diperpanjang sampai sore" in page
        assert "Tagihan e-PBB sebaiknya" in page
        assert "Layanan Pemkot" in page and "Aplikasi: e-PBB" in page
        assert "Tangsi (Binjai Kota)" in page and "Kelurahan tidak diketahui" in page
        by_app = (await client.get("/console/saran?theme=app:e-pbb")).text
        assert "Tagihan e-PBB" in by_app and "Disdukcapil diperpanjang" not in by_app
        by_place = (await client.get(f"/console/saran?kelurahan={TANGSI}")).text
        assert "Tagihan e-PBB" in by_place and "Disdukcapil diperpanjang" not in by_place
        by_kecamatan = (await client.get("/console/saran?kelurahan=12.75.04")).text
        assert "Tidak ada saran yang sesuai" in by_kecamatan

        token = form_token(page)
        # The Telegram resident's suggestion was the first.
        card = page[page.index('id="saran-1"'):].split("</li>")[0]
        assert "Disdukcapil diperpanjang" in card and 'action="/console/saran/1?' in card
        first = await client.post("/console/saran/1", data={
            "csrf": token, "reply": "Terima kasih, usulan ini kami teruskan ke Disdukcapil."})
        assert first.status_code == 303
        second = await client.post("/console/saran/1", data={"csrf": token, "reply": "Lagi."})
        assert second.status_code == 409
        assert "sudah ditanggapi" in second.text
        answered = (await client.get("/console/saran?replied=yes")).text
        audit = await _audit(box)
    assert "Ditanggapi" in answered and "oleh Sari" in answered
    assert await flush_outbox(box) == 1
    said = "\n".join(telegram.double.texts_to(740_001))
    assert "Tanggapan Pemkot Binjai atas saran Bapak/Ibu #1" in said
    assert "usulan ini kami teruskan ke Disdukcapil" in said and "Lagi." not in said
    assert audit.count("suggestion.reply") == 1


async def _audit(box: Container) -> str:
    async with box.db.reader() as session:
        entries = await repo_console.list_audit(session=session, staff_id=None, target=None,
                                                action="suggestion.", limit=10)
    return " ".join(e.action for e in entries)


@pytest.mark.parametrize(("role", "agency", "page_status", "can_answer"), [
    ("kominfo", None, 200, True),
    ("leadership", None, 200, False),
    ("officer", "putr", 404, False),
    ("head", "putr", 404, False),
])
async def test_who_reads_and_who_answers_suggestions(
        container: Container, role: str, agency: str | None, page_status: int,
        can_answer: bool) -> None:
    number = await _suggest(container, "warga-1", theme="bot",
                            text="Bot ini sebaiknya bisa menerima pesan suara")
    async with console_client(container) as client:
        await signed_in(container, client, f"{role}-1", role=role, agency=agency)
        page = await client.get("/console/saran")
        assert page.status_code == page_status
        home = (await client.get("/console/peta")).text
        answer = await client.post(f"/console/saran/{number}", data={
            "csrf": form_token(home), "reply": "Terima kasih."})
        nav = 'href="/console/saran"' in home
    assert nav == (page_status == 200)
    assert ('name="reply"' in page.text) == can_answer
    assert answer.status_code == (303 if can_answer else 404)


async def test_an_answer_needs_the_form_token_and_words(container: Container) -> None:
    number = await _suggest(container, "warga-1", theme="other",
                            text="Adakan lomba kebersihan antar lingkungan")
    async with console_client(container) as client:
        anonymous = await client.get("/console/saran")
        assert anonymous.status_code == 303
        await signed_in(container, client, "sari", role="kominfo")
        page = (await client.get("/console/saran")).text
        forged = await client.post(f"/console/saran/{number}", data={"reply": "Baik."})
        empty = await client.post(f"/console/saran/{number}", data={
            "csrf": form_token(page), "reply": "   "})
        missing = await client.post("/console/saran/999", data={
            "csrf": form_token(page), "reply": "Baik."})
        too_long = await client.post(f"/console/saran/{number}", data={
            "csrf": form_token(page), "reply": "x" * 1001})
    assert forged.status_code == 403
    assert empty.status_code == 400 and "Tulis tanggapannya" in empty.text
    assert missing.status_code == 404
    assert too_long.status_code == 400
    async with container.db.reader() as session:
        row = await SuggestionService(session=session, now=container.engine.clock).get(number)
    assert row is not None and row.reply is None


async def test_suggestions_download_as_csv(container: Container) -> None:
    await _suggest(container, "warga-1", theme="service", text="Perbanyak taman bermain anak")
    async with console_client(container) as client:
        await signed_in(container, client, "sari", role="kominfo")
        answer = await client.get("/console/saran.csv?theme=service")
    rows = list(csv.reader(io.StringIO(answer.text)))
    assert rows[0][:3] == ["Nomor", "Diterima", "Tema"]
    assert rows[1][2] == "Layanan Pemkot" and rows[1][5] == "Perbanyak taman bermain anak"
    assert "attachment" in answer.headers["content-disposition"]


async def test_the_evaluation_counts_suggestions_per_theme(container: Container,
                                                           clock: Any) -> None:
    for n in range(2):
        await _suggest(container, f"warga-{n}", theme="app", app="e-pbb",
                       text=f"Saran e-PBB nomor {n + 1} dari warga")
    await _suggest(container, "warga-9", theme="bot", text="Bot sebaiknya bisa dipakai malam")
    clock.advance(days=7)  # the week after: the evaluation of last week is read
    await _suggest(container, "warga-8", theme="bot", text="Saran minggu berikutnya, tidak ikut")
    async with console_client(container) as client:
        await signed_in(container, client, "sari", role="kominfo")
        page = (await client.get(f"/console/evaluasi?{WEEK}")).text
        exported = await client.get(f"/console/evaluasi.csv?{WEEK}")
        workbook = await client.get(f"/console/evaluasi.xlsx?{WEEK}")
        client.cookies.clear()
        await signed_in(container, client, "kepala", role="head", agency="dlh")
        head_page = (await client.get(f"/console/evaluasi?{WEEK}")).text
        head_csv = (await client.get(f"/console/evaluasi.csv?{WEEK}")).text
    section = page[page.index("Saran dari warga"):]
    assert "3 saran untuk Pemkot dalam periode ini" in section
    assert re.search(r"Aplikasi: e-PBB</th><td>2", section)
    assert re.search(r"Bot ini</th><td>1", section)
    rows = list(csv.reader(io.StringIO(exported.text)))
    assert ["suggestions", "", "", "total", "3"] in rows
    assert ["suggestions_by_theme", "app:e-pbb", "Aplikasi: e-PBB", "count", "2"] in rows
    assert ["suggestions_by_theme", "bot", "Bot ini", "count", "1"] in rows
    shared = zipfile.ZipFile(io.BytesIO(workbook.content)).read("xl/sharedStrings.xml")
    assert b"suggestions_by_theme" in shared and b"Aplikasi: e-PBB" in shared
    # An agency head reads their agency's figures only: no city-wide suggestions.
    assert "Saran dari warga" not in head_page and "suggestions" not in head_csv


async def test_where_residents_come_from(container: Container) -> None:
    from chat import TerminalChat

    async with container.db.session() as session:
        service = OutreachService(session=session, now=container.engine.clock)
        banner = await service.create_source("Spanduk Pasar Tavip", "poster", created_by="x")
    chat = TerminalChat(container.engine, user_key="warga-spanduk")
    await chat.say(f"halo, kode {banner.code}")
    await chat.say("bagaimana cara bayar pbb?")
    await chat.say("menu")
    await chat.say("E")  # spanduk/baliho
    async with console_client(container) as client:
        await signed_in(container, client, "wali", role="leadership")
        page = (await client.get("/console/sumber")).text
        client.cookies.clear()
        await signed_in(container, client, "budi", role="officer", agency="putr")
        refused = await client.get("/console/sumber")
    row = page[page.index("Spanduk Pasar Tavip"):].split("</tr>")[0]
    # joins, first reports, first questions, residents in all
    assert re.findall(r"<td>(\d+)</td>", row) == ["1", "0", "1", "1"]
    assert "Poster atau spanduk" in row
    heard = page[page.index("Spanduk/baliho"):].split("</tr>")[0]
    assert re.findall(r"<td>(\d+)</td>", heard) == ["1", "0", "1"]
    assert refused.status_code == 404


# --- a campaign's impact ---------------------------------------------------------------------


async def _history(box: Container, sent: datetime) -> int:
    """A campaign to Kelurahan Tangsi sent at `sent`, and what happened around it."""
    day = timedelta(days=1)
    reporter = (await person(box, "warga-impact")).id
    async with box.db.session() as session:
        campaign = Campaign(title="Gotong royong", status=CampaignStatus.COMPLETED,
                            audience={"kelurahan": [TANGSI]}, created_by="Sari",
                            link_salt="00", created_at=sent - day, started_at=sent,
                            finished_at=sent)
        session.add(campaign)
        ids = iter(range(1, 100))

        def subscriber(at: datetime, kelurahan: str, **more: Any) -> Subscriber:
            return Subscriber(channel="whatsapp", address=f"+62812000{next(ids):04d}",
                              kelurahan_code=kelurahan, created_at=at, updated_at=at, **more)

        session.add_all([
            subscriber(sent - 10 * day, TANGSI),
            subscriber(sent - 20 * day, TANGSI),  # before the 14 days
            subscriber(sent + 2 * day, TANGSI),
            subscriber(sent + 3 * day, TANGSI),
            subscriber(sent + 3 * day, TANGSI, source="import"),  # a list, not a resident
            subscriber(sent + 3 * day, TANGSI, is_group=True),  # a group chat
            subscriber(sent + 4 * day, KARTINI),  # another kelurahan
        ])
        await session.flush()
        for n, (at, place) in enumerate([(sent - 3 * day, TANGSI), (sent + 1 * day, TANGSI),
                                         (sent + 5 * day, TANGSI), (sent + 13 * day, TANGSI),
                                         (sent + 15 * day, TANGSI), (sent + 1 * day, KARTINI)]):
            session.add(Report(ticket=f"BJI-2026-0005{n:02d}", category_key="sampah",
                               kelurahan_code=place, kecamatan_code=place[:8],
                               description="Sampah", channel="terminal", reporter_id=reporter,
                               created_at=at, updated_at=at))
            session.add(QuestionAsked(identity_id=reporter, kelurahan_code=place,
                                      at=at + timedelta(hours=1)))
        await session.flush()
        return campaign.id or 0


async def test_a_campaigns_impact_beside_its_reach(container: Container, clock: Any) -> None:
    sent = clock.now - timedelta(days=7)
    campaign_id = await _history(container, sent)
    async with console_client(container) as client:
        await signed_in(container, client, "sari", role="kominfo")
        page = (await client.get(f"/console/kampanye/{campaign_id}")).text
        clock.advance(days=14)  # the 14 days after are over
        client.cookies.clear()
        await signed_in(container, client, "sari")
        later = (await client.get(f"/console/kampanye/{campaign_id}")).text

    def cells(text: str, label: str) -> list[str]:
        row = text[text.index("Dampak"):]
        row = row[row.index(f">{label}</th>"):].split("</tr>")[0]
        return re.findall(r"<td>([^<]*)</td>", row)

    assert "Di 1 kelurahan sasarannya" in page and "baru 7 hari" in page
    assert cells(page, "Pelanggan baru") == ["1", "2", "▲ 1"]
    assert cells(page, "Laporan") == ["1", "2", "▲ 1"]
    assert cells(page, "Pertanyaan") == ["1", "2", "▲ 1"]
    assert "baru" not in later[later.index("Dampak"):].split("</p>")[0]
    # Reports up to the 14th day count; the one on the 15th day does not.
    assert cells(later, "Laporan") == ["1", "3", "▲ 2"]


async def test_the_impact_in_the_command_line(container: Container, settings: Any) -> None:
    from cli_kit import emas
    from storage.types import utcnow

    campaign_id = await _history(container, utcnow() - timedelta(days=20))
    result = await emas(settings, "campaign", "status", str(campaign_id), "--json")
    assert result.exit_code == 0, result.output
    import json

    impact = json.loads(result.output)["impact"]
    assert impact["complete"] and impact["kelurahan"] == [TANGSI] and not impact["city_wide"]
    assert impact["before"] == {"subscribers": 1, "reports": 1, "questions": 1}
    assert impact["after"] == {"subscribers": 2, "reports": 3, "questions": 3}
    assert impact["change"] == {"subscribers": 1, "reports": 2, "questions": 2}
    [tangsi] = impact["by_kelurahan"]
    assert tangsi["name"] == "Tangsi" and tangsi["after"]["reports"] == 3
    text = await emas(settings, "campaign", "status", str(campaign_id))
    assert "reports: 1 \u2192 3" in text.output


async def test_a_campaign_not_sent_yet_has_no_impact(container: Container) -> None:
    from broadcasts.audience import Audience
    from broadcasts.groups import load_catalog
    from broadcasts.impact import audience_kelurahan, campaign_impact

    campaign = Campaign(title="Draf", status=CampaignStatus.DRAFT, audience={}, created_by="x",
                        link_salt="00")
    async with container.db.reader() as session:
        assert await campaign_impact(session=session, city=container.city,
                                     catalog=load_catalog(container.city,
                                                          container.settings.city_dir),
                                     campaign=campaign, now=container.engine.clock()) is None
    catalog = load_catalog(container.city, container.settings.city_dir)
    # KIM Binjai Timur stands for its seven kelurahan; C-Gen for the whole city.
    assert len(audience_kelurahan(Audience(groups=["kim:12.75.04"]), catalog,
                                  container.city) or []) == 7
    assert audience_kelurahan(Audience(groups=["cgen"]), catalog, container.city) is None
