"""Working reports in the console: the same lifecycle and messages as the chat buttons."""

from __future__ import annotations

import re

from agencies_kit import HERE, TANGSI, file_report, flush_outbox, history, reload, staff
from bot.app import Container
from console_kit import act, console_client, form_token, signed_in, version
from factories import png_bytes
from storage import repo_console


async def test_a_report_goes_from_verification_to_resolved_and_the_resident_hears_each_step(
        telegram) -> None:
    """Kominfo verifies and passes it on; the agency starts and resolves it. The resident's
    Telegram chat gets each step, as it would from the chat buttons."""
    box = telegram.box
    resident = 700_123
    report = await file_report(box, user=str(resident), channel="telegram")
    async with console_client(box) as client:
        await signed_in(box, client, "sari", role="kominfo", name="Sari")
        assert (await act(client, report.ticket, "verify", agency="putr")).status_code == 303
        client.cookies.clear()
        await signed_in(box, client, "budi", role="officer", agency="putr", name="Budi")
        assert (await act(client, report.ticket, "progress",
                          note="Tim berangkat besok pagi")).status_code == 303
        done = await act(client, report.ticket, "resolve",
                         note="Lubang sudah ditambal dan dipadatkan")
        assert done.status_code == 303
        page = await client.get(done.headers["location"])
    assert "Tersimpan" in page.text
    await flush_outbox(box)

    texts = telegram.double.texts_to(resident)
    assert any(report.ticket in t and "Tim berangkat besok pagi" in t for t in texts)
    assert any("Lubang sudah ditambal dan dipadatkan" in t for t in texts)
    steps = [e.status for e in await history(box, report.id or 0)]
    assert steps == ["submitted", "verified", "assigned", "in_progress", "resolved"]
    # The timeline names who did what, in WIB.
    assert "Sari" in page.text and "Budi" in page.text and "WIB" in page.text
    async with box.db.reader() as session:
        audit = await repo_console.list_audit(session=session, target=report.ticket)
    assert [a.action for a in reversed(audit)] == [
        "report.verify", "report.progress", "report.resolve"]


async def test_two_staff_acting_at_once_move_the_report_once(container: Container) -> None:
    report = await file_report(container)
    async with console_client(container) as first, console_client(container) as second:
        await signed_in(container, first, "sari", role="kominfo")
        await signed_in(container, second, "tono", role="kominfo")
        page_a = (await first.get(f"/console/reports/{report.ticket}")).text
        page_b = (await second.get(f"/console/reports/{report.ticket}")).text
        ok = await first.post(f"/console/reports/{report.ticket}", data={
            "csrf": form_token(page_a), "version": version(page_a), "action": "verify",
            "agency": "putr"})
        late = await second.post(f"/console/reports/{report.ticket}", data={
            "csrf": form_token(page_b), "version": version(page_b), "action": "reject",
            "reason": "info"})
    assert ok.status_code == 303
    assert late.status_code == 409
    assert "baru saja diubah" in late.text
    assert "Diteruskan ke instansi terkait" in late.text  # the page shows the report as it is now
    assert (await reload(container, report.id or 0)).status == "assigned"
    assert [e.status for e in await history(container, report.id or 0)].count("rejected") == 0


async def test_a_refused_action_says_why_and_writes_nothing(container: Container) -> None:
    report = await file_report(container)
    async with console_client(container) as client:
        await signed_in(container, client, "sari", role="kominfo")
        await act(client, report.ticket, "verify", agency="putr")
        client.cookies.clear()
        await signed_in(container, client, "budi", role="officer", agency="putr")
        short = await act(client, report.ticket, "resolve", note="ok")
        assert short.status_code == 400 and "beberapa kata" in short.text
        not_here = await act(client, report.ticket, "verify", agency="dlh")
        assert not_here.status_code == 409
    assert (await reload(container, report.id or 0)).status == "assigned"


async def test_the_agency_hands_a_report_back_with_its_reason(container: Container) -> None:
    report = await file_report(container)
    async with console_client(container) as client:
        await signed_in(container, client, "sari", role="kominfo")
        await act(client, report.ticket, "verify", agency="putr")
        client.cookies.clear()
        await signed_in(container, client, "budi", role="officer", agency="putr")
        back = await act(client, report.ticket, "handback",
                         note="Ini saluran milik provinsi, bukan kota")
        assert back.status_code == 303
        # Back with Kominfo: the agency no longer sees it.
        assert (await client.get(f"/console/reports/{report.ticket}")).status_code == 404
    events = await history(container, report.id or 0)
    assert events[-1].status == "verified" and "provinsi" in (events[-1].note or "")


async def test_the_inbox_sorts_by_deadline_flags_overdue_and_pages_without_repeats(
        container: Container, clock) -> None:
    old = await file_report(container, user="warga-old", description="Sampah menumpuk di pasar")
    clock.advance(days=10)
    fresh = [await file_report(container, user=f"warga-{n}") for n in range(55)]
    async with console_client(container) as client:
        await signed_in(container, client, "sari", role="kominfo")
        first = (await client.get("/console/")).text
        assert first.index(old.ticket) < first.index(fresh[0].ticket)
        row = first[first.index(old.ticket):].split("</tr>")[0]
        assert "terlambat" in row and "hari kerja" in row
        assert ">Perlu verifikasi <span class=\"count\">56</span>" in first
        following = re.search(r'href="/console/(\?[^"]*after=[^"]+)"', first)
        assert following
        second = (await client.get("/console/" + following.group(1).replace("&amp;", "&"))).text
    tickets = re.compile(r">(BJI-\d{4}-\d{6})</a>")
    page_one, page_two = tickets.findall(first), tickets.findall(second)
    assert len(page_one) == 50 and len(page_two) == 6
    assert not set(page_one) & set(page_two)
    assert set(page_one) | set(page_two) == {r.ticket for r in [old, *fresh]}


async def test_the_inbox_filters(container: Container, clock) -> None:
    road = await file_report(container, user="w1", description="Jalan berlubang di Jl. Kartini")
    bin_ = await file_report(container, user="w2", category="sampah",
                             description="Sampah tidak diangkut tiga hari", kelurahan=TANGSI)
    clock.advance(days=6)
    async with console_client(container) as client:
        await signed_in(container, client, "sari", role="kominfo")

        async def tickets(query: str) -> set[str]:
            page = (await client.get("/console/" + query)).text
            return set(re.findall(r">(BJI-\d{4}-\d{6})</a>", page))

        assert await tickets("?kelurahan=" + TANGSI) == {bin_.ticket}
        assert await tickets("?category=jalan_rusak") == {road.ticket}
        assert await tickets("?q=diangkut") == {bin_.ticket}
        assert await tickets("?q=SAMPAH+TIDAK") == {bin_.ticket}  # whatever the case
        assert await tickets("?q=" + road.ticket.lower()) == {road.ticket}
        assert await tickets("?q=%25") == set()  # a wildcard typed is a character
        assert await tickets("?overdue=1") == {road.ticket, bin_.ticket}
        assert await tickets("?channel=whatsapp") == set()
        assert await tickets("?from=2026-12-07&until=2026-12-07") == {road.ticket, bin_.ticket}
        assert await tickets("?from=2026-12-08") == set()
        partial = await client.get("/console/?q=diangkut", headers={"HX-Request": "true"})
        assert partial.text.lstrip().startswith('<section id="rows"')
        assert bin_.ticket in partial.text and "<html" not in partial.text


async def test_photos_open_through_signed_links_only(container: Container) -> None:
    from storage import repo_agencies
    from storage.models import ReportPhoto

    report = await file_report(container, lat=HERE[0], lon=HERE[1])
    stored = container.media.save_image(png_bytes())
    async with container.db.session() as session:
        await repo_agencies.add_report_photo(session=session, photo=ReportPhoto(
            report_id=report.id or 0, path=stored.path, content_type=stored.content_type,
            size=stored.size, sha256=stored.sha256, created_at=container.engine.clock()))
    async with console_client(container) as client:
        await signed_in(container, client, "sari", role="kominfo")
        page = (await client.get(f"/console/reports/{report.ticket}")).text
        link = re.search(r'<img src="(/media/[^"]+)"', page)
        assert link
        photo = await client.get(link.group(1))
        assert photo.status_code == 200 and photo.content.startswith(b"\x89PNG")
        token = link.group(1).rsplit("/", 1)[1]
        forged = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
        assert (await client.get(f"/media/{forged}")).status_code == 404
        container.engine.clock.advance(hours=1, minutes=1)  # type: ignore[attr-defined]
        assert (await client.get(link.group(1))).status_code == 404


async def test_staff_ask_for_a_login_link_in_chat(channel_env) -> None:
    box = channel_env.box
    chat = channel_env.chat(chat_id=700_777)
    await chat.say("/konsol")
    assert "hanya untuk petugas" in chat.text
    await staff(box, chat.user_key, role="kominfo", channel=str(chat.channel))
    word = "KONSOL" if chat.channel == "whatsapp" else "/konsol"
    await chat.say(word)
    link = re.search(r"(https?://\S+/console/login/\S+)", chat.text)
    assert link, chat.text
    assert "sekali" in chat.text and "15 menit" in chat.text
    path = "/console/login/" + link.group(1).rsplit("/console/login/", 1)[1]
    async with console_client(box) as client:
        assert (await client.get(path)).status_code == 303
        assert (await client.get("/console/")).status_code == 200
    for _n in range(3):
        await chat.say(word)
    assert "Beberapa tautan masuk sudah dikirim dalam 15 menit terakhir" in chat.text



async def test_staff_write_to_the_reporter_and_keep_internal_notes(telegram) -> None:
    box = telegram.box
    resident = 700_555
    report = await file_report(box, user=str(resident), channel="telegram")
    async with console_client(box) as client:
        await signed_in(box, client, "sari", role="kominfo", name="Sari")
        page = (await client.get(f"/console/reports/{report.ticket}")).text
        token = form_token(page)
        sent = await client.post(f"/console/reports/{report.ticket}", data={
            "csrf": token, "action": "message",
            "text": "Mohon kirim foto lubangnya agar tim dapat menilai ukurannya."})
        noted = await client.post(f"/console/reports/{report.ticket}", data={
            "csrf": token, "action": "note", "text": "Sudah pernah dilaporkan lewat LAPOR!"})
        empty = await client.post(f"/console/reports/{report.ticket}", data={
            "csrf": token, "action": "message", "text": " "})
        page = (await client.get(f"/console/reports/{report.ticket}")).text
        client.cookies.clear()
        await signed_in(box, client, "eko", role="officer", agency="dlh")
        other = await client.post(f"/console/reports/{report.ticket}", data={
            "csrf": token, "action": "note", "text": "mencoba"})
    assert sent.status_code == noted.status_code == 303
    assert empty.status_code == 400
    assert other.status_code in (403, 404)  # another agency: not even its token works
    await flush_outbox(box)
    said = "\n".join(telegram.double.texts_to(resident))
    assert "Mohon kirim foto lubangnya" in said and report.ticket in said
    assert "LAPOR!" not in said  # internal notes never reach the resident
    assert "Pesan untuk pelapor" in page and "Catatan internal" in page
    assert "Sudah pernah dilaporkan lewat LAPOR!" in page
    assert (await reload(box, report.id or 0)).status == "submitted"  # words move nothing


async def test_kominfo_verifies_several_reports_at_once(container: Container) -> None:
    reports = [await file_report(container, user=f"w{n}") for n in range(3)]
    async with console_client(container) as client, console_client(container) as other:
        await signed_in(container, client, "sari", role="kominfo")
        page = (await client.get("/console/?tab=verify")).text
        assert page.count('name="tickets"') == 3
        # Meanwhile a colleague rejects the second one.
        await signed_in(container, other, "tono", role="kominfo")
        await act(other, reports[1].ticket, "reject", reason="info")
        done = await client.post("/console/massal", data={
            "csrf": form_token(page), "agency": "putr",
            "tickets": [r.ticket for r in reports]})
        assert done.status_code == 303
        page = (await client.get(done.headers["location"])).text
    assert "2 laporan diverifikasi dan diteruskan" in page
    assert reports[1].ticket in page.split('role="status"')[1].split("</p>")[0]
    statuses = [(await reload(container, r.id or 0)).status for r in reports]
    assert statuses == ["assigned", "rejected", "assigned"]


async def test_a_repeated_report_is_merged_into_the_earlier_one(container: Container) -> None:
    first = await file_report(container, user="w1", lat=HERE[0], lon=HERE[1],
                              description="Jalan berlubang besar di depan SD Negeri 5")
    again = await file_report(container, user="w2", lat=HERE[0] + 0.0005, lon=HERE[1],
                              description="Ada lubang di jalan dekat SD 5, bahaya")
    elsewhere = await file_report(container, user="w3", kelurahan=TANGSI,
                                  description="Jalan rusak di Tangsi")
    async with console_client(container) as client:
        await signed_in(container, client, "sari", role="kominfo")
        page = (await client.get(f"/console/reports/{again.ticket}")).text
        nearby = page.split("Laporan sekitar")[1]
        assert first.ticket in nearby and "56 m" in nearby
        assert elsewhere.ticket not in nearby
        merged = await act(client, again.ticket, "duplicate", original=first.ticket)
        assert merged.status_code == 303
        refused = await act(client, first.ticket, "duplicate", original=first.ticket)
        assert refused.status_code in (400, 409)
    assert (await reload(container, again.id or 0)).status == "duplicate"
    assert (await reload(container, first.id or 0)).status == "submitted"


async def test_the_after_photo_is_stored_without_its_metadata_and_sent_to_the_resident(
        telegram) -> None:
    from factories import gps_exif, jpeg_bytes

    box = telegram.box
    resident = 700_654
    report = await file_report(box, user=str(resident), channel="telegram")
    async with console_client(box) as client:
        await signed_in(box, client, "sari", role="kominfo")
        await act(client, report.ticket, "verify", agency="putr")
        page = (await client.get(f"/console/reports/{report.ticket}")).text
        fields = {"csrf": form_token(page), "version": version(page), "action": "resolve",
                  "note": "Lubang sudah ditambal"}
        not_a_photo = await client.post(f"/console/reports/{report.ticket}", data=fields,
                                        files={"photo": ("a.jpg", b"%PDF-1.4 no", "image/jpeg")})
        assert not_a_photo.status_code == 415
        assert (await reload(box, report.id or 0)).status == "assigned"  # nothing changed
        photo = jpeg_bytes(4096, exif=gps_exif())
        done = await client.post(f"/console/reports/{report.ticket}", data=fields,
                                 files={"photo": ("sesudah.jpg", photo, "image/jpeg")})
        assert done.status_code == 303
        page = (await client.get(done.headers["location"])).text
    assert "sesudah" in page  # the after photo is listed with the report's photos
    async with box.db.reader() as session:
        from storage import repo

        [after] = [p for p in await repo.list_report_photos(session=session,
                                                            report_id=report.id or 0)]
    stored = (box.settings.media_dir / after.path).read_bytes()
    assert b"Exif" not in stored and after.stage == "after"
    await flush_outbox(box)
    assert any(c.method == "sendPhoto" for c in telegram.double.messages_to(resident))
