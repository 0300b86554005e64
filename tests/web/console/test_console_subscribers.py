"""The subscribers page: counts, a CSV import checked in a dry run first, relays."""

from __future__ import annotations

from broadcasting import PAHLAWAN, add_subscribers
from console_kit import console_client, form_token, signed_in
from storage import repo_broadcasts

CSV = ("channel,address,name,kelurahan,groups,role,consent_source\n"
       "telegram,700301,Ani,Pahlawan,kim:" + PAHLAWAN + ",resident,sosialisasi KIM\n"
       "whatsapp,+6281234500002,Budi,Pahlawan,,resident,formulir\n"
       "whatsapp,not-a-number,Cici,Pahlawan,,resident,formulir\n")


async def test_an_import_is_checked_first_and_written_only_when_asked(container) -> None:
    box = container
    async with console_client(box) as client:
        await signed_in(box, client, "sari", role="kominfo")
        page = (await client.get("/console/pelanggan")).text
        token = form_token(page)
        checked = await client.post("/console/pelanggan/impor", data={"csrf": token},
                                    files={"file": ("warga.csv", CSV.encode(), "text/csv")})
        assert checked.status_code == 200
        assert "Uji coba: belum ada yang ditulis" in checked.text
        # the rejected row, with its line and why, in the staff member's language
        assert "“not-a-number” bukan nomor WhatsApp yang sah" in checked.text
        async with box.db.reader() as session:
            assert await repo_broadcasts.count_subscribers(session=session) == {}
        refused = await client.post("/console/pelanggan/impor",
                                    data={"csrf": token, "apply": "1"},
                                    files={"file": ("warga.csv", CSV.encode(), "text/csv")})
        assert "Tidak diimpor" in refused.text  # a rejected row: all or nothing
        done = await client.post("/console/pelanggan/impor",
                                 data={"csrf": token, "apply": "1", "partial": "1"},
                                 files={"file": ("warga.csv", CSV.encode(), "text/csv")})
        assert "Diimpor" in done.text
        empty = await client.post("/console/pelanggan/impor", data={"csrf": token},
                                  files={"file": ("kosong.csv", b"", "text/csv")})
        assert empty.status_code == 400 and "Silakan pilih berkas CSV" in empty.text
        no_column = await client.post(
            "/console/pelanggan/impor", data={"csrf": token},
            files={"file": ("x.csv", b"channel,address,name\ntelegram,1,A\n", "text/csv")})
        assert no_column.status_code == 400
        assert "kolom consent_source tidak ada" in no_column.text
        binary = await client.post("/console/pelanggan/impor", data={"csrf": token},
                                   files={"file": ("x.csv", b"\x00\x01\x02" * 100, "text/csv")})
        assert binary.status_code == 400 and "Traceback" not in binary.text
        assert "bukan berkas teks CSV" in binary.text
    async with box.db.reader() as session:
        counts = await repo_broadcasts.count_subscribers(session=session)
    assert counts == {"telegram": 1, "whatsapp": 1}


async def test_the_page_counts_subscribers_per_kelurahan_and_group(container) -> None:
    box = container
    await add_subscribers(box.db, box.city, box.settings, [str(700_500 + n) for n in range(4)])
    await add_subscribers(box.db, box.city, box.settings, ["700600"], stopped=True)
    async with console_client(box) as client:
        await signed_in(box, client, "sari", role="kominfo")
        page = (await client.get("/console/pelanggan")).text
        client.cookies.clear()
        await signed_in(box, client, "budi", role="officer", agency="putr")
        hidden = await client.get("/console/pelanggan")
    row = page.split(">Pahlawan <small>")[1].split("</tr>")[0]
    assert "<td>4</td><td>1</td>" in row
    assert hidden.status_code == 404
