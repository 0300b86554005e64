"""The staff page and the audit log."""

from __future__ import annotations

import re

from agencies_kit import flush_outbox, staff
from console_kit import console_client, form_token, signed_in
from storage import repo_agencies


async def _post(client, data: dict[str, str]):
    token = form_token((await client.get("/console/petugas")).text)
    return await client.post("/console/petugas", data={"csrf": token, **data})


async def test_kominfo_adds_an_officer_who_signs_in_from_a_link_sent_to_their_chat(
        telegram) -> None:
    box = telegram.box
    async with console_client(box) as admin, console_client(box) as newcomer:
        await signed_in(box, admin, "sari", role="kominfo", name="Sari")
        added = await _post(admin, {"action": "add", "name": "Budi Santoso", "role": "officer",
                                    "agency": "putr", "telegram_id": "700999"})
        assert added.status_code == 303
        page = (await admin.get("/console/petugas")).text
        assert "Budi Santoso" in page and "Petugas dinas" in page and "Telegram 700999" in page
        async with box.db.reader() as session:
            budi = await repo_agencies.get_staff(session=session, channel="telegram",
                                                 user_key="700999")
        assert budi is not None and f'name="staff" value="{budi.id}"' in page
        budi_id = str(budi.id)
        sent = await _post(admin, {"action": "link", "staff": budi_id})
        assert sent.status_code == 303
        await flush_outbox(box)
        text = telegram.double.last_text(700999) or ""
        link = re.search(r"/console/login/(\S+)", text)
        assert link and "sekali" in text
        assert (await newcomer.get("/console/login/" + link.group(1))).status_code == 303
        assert (await newcomer.get("/console/")).status_code == 200

        # Removed: the newcomer's open session ends at once.
        assert (await _post(admin, {"action": "remove", "staff": budi_id})).status_code == 303
        assert (await newcomer.get("/console/")).status_code == 303
        audit = (await admin.get("/console/audit?action=staff.")).text
    assert audit.count("staff.add") == 1 and "staff.link" in audit and "staff.remove" in audit
    assert "<code>report." not in audit


async def test_the_staff_form_says_what_is_missing(container) -> None:
    async with console_client(container) as client:
        await signed_in(container, client, "sari", role="kominfo")
        no_agency = await _post(client, {"action": "add", "name": "Rina", "role": "officer",
                                         "telegram_id": "5"})
        no_account = await _post(client, {"action": "add", "name": "Rina", "role": "kominfo"})
        bad_phone = await _post(client, {"action": "add", "name": "Rina", "role": "kominfo",
                                         "phone": "12"})
        bad_id = await _post(client, {"action": "add", "name": "Rina", "role": "kominfo",
                                      "telegram_id": "rina99"})
        forged_agency = await _post(client, {"action": "add", "name": "Rina", "role": "officer",
                                             "telegram_id": "5", "agency": "hantu"})
        myself = await _post(client, {"action": "remove", "staff": "1"})
    assert no_agency.status_code == no_account.status_code == bad_phone.status_code == 400
    assert "membutuhkan perangkat daerah" in no_agency.text
    assert "ID pengguna Telegram atau nomor WhatsApp" in no_account.text
    assert "Traceback" not in bad_phone.text
    assert "“12” bukan nomor telepon" in bad_phone.text
    assert "“rina99” bukan ID pengguna Telegram" in bad_id.text
    assert forged_agency.status_code == 400
    assert "Tidak ada perangkat daerah “hantu”" in forged_agency.text
    assert myself.status_code == 400 and "tidak dapat menghapus diri sendiri" in myself.text


async def test_only_kominfo_manages_staff(container) -> None:
    await staff(container, "eko", role="head", agency="dlh")
    async with console_client(container) as client:
        await signed_in(container, client, "eko")
        assert (await client.get("/console/petugas")).status_code == 404
        assert (await client.get("/console/audit")).status_code == 404
        page = (await client.get("/console/")).text
        answer = await client.post("/console/petugas", data={
            "csrf": form_token(page), "action": "add", "name": "X", "role": "kominfo",
            "telegram_id": "42"})
    assert answer.status_code == 404
