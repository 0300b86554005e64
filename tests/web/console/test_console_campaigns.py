"""Campaigns from the console: compose, preview, a second pair of eyes, send, watch."""

from __future__ import annotations

import io
import re

from PIL import Image

from broadcasting import PAHLAWAN, add_subscribers, running, wait_for_status
from broadcasts.campaigns import CampaignService
from console_kit import console_client, form_token, signed_in
from factories import gps_exif, jpeg_bytes, same_picture
from storage import repo_console

RESIDENTS = [str(700_200 + n) for n in range(5)]


def _compose(token: str, intent: str, **more: object) -> dict[str, object]:
    return {"csrf": token, "intent": intent, "title": "Sosialisasi e-PBB",
            "text_id": "Bayar PBB kini bisa lewat aplikasi e-PBB. Tanya caranya di bot ini.",
            "link_url": "https://binjaikota.go.id/epbb", "link_label": "Buka e-PBB",
            "groups": ["kim:" + PAHLAWAN], "channels": ["telegram"], "relays": "1", **more}


async def test_kominfo_composes_a_campaign_a_colleague_approves_it_and_it_goes_out(
        telegram) -> None:
    box = telegram.box
    box.settings = box.settings.model_copy(update={"broadcast_require_approval": True})
    await add_subscribers(box.db, box.city, box.settings, RESIDENTS)
    async with console_client(box) as client:
        await signed_in(box, client, "sari", role="kominfo", name="Sari")
        page = (await client.get("/console/kampanye/baru")).text
        token = form_token(page)
        preview = await client.post("/console/kampanye/baru", data=_compose(token, "preview"))
        assert preview.status_code == 200
        assert "Telegram" in preview.text and ">5</td>" in preview.text
        assert "Buka e-PBB" in preview.text  # drawn as the Telegram button would look
        async with box.db.reader() as session:  # a preview writes nothing
            audit = await repo_console.list_audit(session=session)
            assert not [a for a in audit if a.action.startswith("campaign.")]
        saved = await client.post("/console/kampanye/baru", data=_compose(token, "save"))
        assert saved.status_code == 303
        where = saved.headers["location"]
        page = (await client.get(where)).text
        sent = await client.post(where, data={"csrf": form_token(page), "action": "send"})
        assert sent.status_code == 303
        page = (await client.get(where)).text
        assert "Menunggu petugas Kominfo lain menyetujuinya" in page
        assert 'value="approve"' not in page  # the writer cannot approve their own
        own = await client.post(where, data={"csrf": form_token(page), "action": "approve"})
        assert own.status_code == 409

        client.cookies.clear()
        await signed_in(box, client, "tono", role="kominfo", name="Tono")
        page = (await client.get(where)).text
        approved = await client.post(where, data={"csrf": form_token(page),
                                                  "action": "approve"})
        assert approved.status_code == 303
        campaign_id = int(where.rsplit("/", 1)[1])
        async with running(box.broadcasts.build_dispatcher(idle_poll=0.05)) as task:
            await wait_for_status(box.db, campaign_id, "completed", task=task)
        progress = (await client.get(where + "/progres")).text
    assert re.search(r'<span class="big">5</span>terkirim / 5', progress)
    for resident in RESIDENTS:
        assert any("e-PBB" in t for t in telegram.double.texts_to(int(resident)))
    async with box.db.reader() as session:
        actions = [a.action for a in await repo_console.list_audit(session=session)]
    assert {"campaign.create", "campaign.send", "campaign.approve"} <= set(actions)


async def test_a_campaign_with_problems_is_not_saved(container) -> None:
    async with console_client(container) as client:
        await signed_in(container, client, "sari", role="kominfo")
        token = form_token((await client.get("/console/kampanye/baru")).text)
        bad = await client.post("/console/kampanye/baru", data=_compose(
            token, "save", text_id="", link_url="ftp://x", send_at="2020-01-01T10:00"))
        listing = (await client.get("/console/kampanye")).text
    assert bad.status_code == 400
    assert "bahasa Indonesia wajib" in bad.text
    assert "http://" in bad.text  # the link problem, worded
    assert "sudah lewat" in bad.text
    assert "Belum ada kampanye" in listing


async def test_only_kominfo_has_campaigns(container) -> None:
    async with console_client(container) as client:
        await signed_in(container, client, "budi", role="head", agency="putr")
        assert (await client.get("/console/kampanye")).status_code == 404
        assert (await client.get("/console/kampanye/baru")).status_code == 404


async def test_a_campaign_picture_is_uploaded_stripped_previewed_sent_and_its_reach_mapped(
        telegram) -> None:
    box = telegram.box
    await add_subscribers(box.db, box.city, box.settings, RESIDENTS)
    photo = jpeg_bytes(20_000, exif=gps_exif())
    async with console_client(box) as client:
        await signed_in(box, client, "sari", role="kominfo", name="Sari")
        token = form_token((await client.get("/console/kampanye/baru")).text)
        not_image = await client.post(
            "/console/kampanye/baru", data=_compose(token, "preview"),
            files={"image_file": ("poster.jpg", b"%PDF-1.4 not a photo", "image/jpeg")})
        assert not_image.status_code == 400
        assert "Gambar tidak dapat dibaca" in not_image.text
        preview = await client.post("/console/kampanye/baru", data=_compose(token, "preview"),
                                    files={"image_file": ("poster.jpg", photo, "image/jpeg")})
        assert preview.status_code == 200
        sealed = re.search(r'name="image" value="([^"]+)"', preview.text)
        assert sealed and preview.text.count('class="bubble-picture"') == 2  # both apps
        # A forged form cannot attach some other stored photo (a resident's) instead.
        forged = await client.post("/console/kampanye/baru", data=_compose(
            token, "preview", image="2026/12/" + "0" * 64 + ".jpg|" + "0" * 32))
        assert "bubble-picture" not in forged.text
        saved = await client.post("/console/kampanye/baru",
                                  data=_compose(token, "save", image=sealed.group(1)))
        assert saved.status_code == 303
        where = saved.headers["location"]
        page = (await client.get(where)).text
        assert 'class="bubble-picture"' in page
        await client.post(where, data={"csrf": form_token(page), "action": "send"})
        campaign_id = int(where.rsplit("/", 1)[1])
        async with running(box.broadcasts.build_dispatcher(idle_poll=0.05)) as task:
            await wait_for_status(box.db, campaign_id, "completed", task=task)
        page = (await client.get(where)).text
    # The picture went out as a photo with the text as its caption, its metadata gone.
    photos = [c for c in telegram.double.sent if c.method == "sendPhoto"]
    assert len(photos) == len(RESIDENTS)
    assert all("e-PBB" in (c.text or "") for c in photos)
    async with box.db.reader() as session:
        campaign = await CampaignService(session=session, city=box.city,
                                         catalog=box.broadcasts.catalog,
                                         settings=box.settings, now=box.engine.clock).get(campaign_id)
    kept = (box.media.absolute(campaign.image_path or "")).read_bytes()
    assert same_picture(kept, photo)
    with Image.open(io.BytesIO(kept)) as stored:
        assert not stored.getexif()
    # Where it reached, on the city's map: Pahlawan holds all five residents.
    assert "Jangkauan di peta" in page and '<svg class="map"' in page
    assert "Pahlawan: 5 pesan terkirim" in page


async def test_no_one_approves_in_the_console_what_they_wrote_in_the_chat(container) -> None:
    """The chat and the console sign a staff member's actions alike, so the second pair of eyes
    cannot be one person in two places."""
    from chat import TerminalChat

    box = container
    box.settings = box.settings.model_copy(update={"broadcast_require_approval": True})
    box.engine.settings = box.settings  # the chat's side of the same setting
    await add_subscribers(box.db, box.city, box.settings, RESIDENTS)
    async with console_client(box) as client:
        await signed_in(box, client, "sari", role="kominfo", name="Sari")
        sari = TerminalChat(box.engine, user_key="sari", locale="en")
        for move, text in [
                ("say", "/siaran"), ("tap", "New announcement"), ("say", "Kerja bakti"),
                ("say", "Kerja bakti serentak Minggu pukul 07.00 WIB."), ("tap", "Skip"),
                ("tap", "Skip"), ("say", "https://binjaikota.go.id/kerja-bakti"),
                ("tap", "KIM Binjai Utara"), ("tap", "Continue"), ("tap", "Now"),
                ("tap", "Submit for approval")]:
            await getattr(sari, move)(text)
        assert "waiting for approval by another Kominfo staff member" in sari.text
        where = "/console/kampanye/1"
        page = (await client.get(where)).text
        assert 'value="approve"' not in page
        own = await client.post(where, data={"csrf": form_token(page), "action": "approve"})
        assert own.status_code == 409

        client.cookies.clear()
        await signed_in(box, client, "tono", role="kominfo", name="Tono")
        page = (await client.get(where)).text
        approved = await client.post(where, data={"csrf": form_token(page), "action": "approve"})
        assert approved.status_code == 303
