"""`emas subscribers import` and `emas campaign ...` as operators use them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.app import Container
from bot.settings import Settings
from broadcasting import deliveries
from cli_kit import acli
from storage import repo_broadcasts

CSV = """channel,address,name,kelurahan,groups,role,consent source
telegram,700001,Budi,Pahlawan,cgen;KIM,resident,formulir KIM 2026
telegram,700002,Sari,jatinegara,,,formulir KIM 2026
whatsapp,0812 3456 7890,Andi,Berngam,topic:acara,warga,formulir
telegram,abc,X,Pahlawan,,resident,formulir
telegram,700003,Pak Amir,Nangka,,kepling,SK Lurah
whatsapp,0812,Bad,,cgen,,formulir
telegram,700001,Budi,Pahlawan,cgen,resident,formulir
telegram,-1001234567,KIM Damai,Damai,KIM,kim,admin grup
telegram,700004,Tono,Atlantis,,resident,formulir
telegram,700005,Tini,Pahlawan,c-gen,resident,
telegram,700006,Rudi,,pemuda;hantu,resident,formulir
telegram,700007,Ria,,,resident,formulir
"""


async def test_import_checks_every_row_and_is_idempotent(
        container: Container, settings: Settings, tmp_path: Path) -> None:
    path = tmp_path / "pelanggan.csv"
    path.write_text(CSV, encoding="utf-8")
    # With rejected rows, nothing is imported until the file is corrected...
    code, out = await acli(settings, "subscribers", "import", str(path))
    assert code == 1
    assert out.startswith("12 rows, 7 rejected: nothing imported.")
    assert "line 5: address: not a Telegram chat id" in out or "line 5:" in out
    async with container.db.reader() as session:
        assert await repo_broadcasts.get_subscriber(session=session, channel="telegram",
                                                    address="700002") is None
    # ...or the good rows are, with --partial.
    code, out = await acli(settings, "subscribers", "import", str(path), "--partial", "--json")
    assert code == 0
    report = json.loads(out)
    assert report["applied"] is True
    assert (report["rows"], report["created"], report["relays"]) == (12, 5, 1)
    reasons = {r["line"]: r["reason"] for r in report["rejected"]}
    assert set(reasons) == {5, 7, 8, 10, 11, 12, 13}
    assert "not a Telegram chat id" in reasons[5]
    assert "not a valid WhatsApp number" in reasons[7]
    assert "duplicate" in reasons[8]
    assert "unknown kelurahan" in reasons[10]
    assert "consent source is required" in reasons[11]
    assert "unknown group: 'hantu'" in reasons[12]
    assert "no group to subscribe to" in reasons[13]

    async with container.db.reader() as session:
        andi = await repo_broadcasts.get_subscriber(session=session, channel="whatsapp",
                                                    address="+6281234567890")
        sari = await repo_broadcasts.get_subscriber(session=session, channel="telegram",
                                                    address="700002")
        assert andi is not None and sari is not None and sari.id is not None
        assert await repo_broadcasts.list_subscriptions(
            session=session, subscriber_id=sari.id) == ["kim:12.75.01.1002"]
        relays = await repo_broadcasts.list_relays(session=session)
    assert [(r.name, r.kelurahan_code) for r, _s in relays] == [("Pak Amir", "12.75.01.1003")]

    # Andi sends STOP meanwhile; importing the same file again changes nothing.
    async with container.db.session() as session:
        andi = await repo_broadcasts.get_subscriber(session=session, channel="whatsapp",
                                                    address="+6281234567890")
        assert andi is not None
        andi.stopped = True
        session.add(andi)
    code, out = await acli(settings, "subscribers", "import", str(path), "--partial", "--json")
    again = json.loads(out)
    assert (again["created"], again["updated"], again["unchanged"]) == (0, 0, 5)
    assert again["kept_stopped"] == 1 and again["relays"] == 0
    async with container.db.reader() as session:
        andi = await repo_broadcasts.get_subscriber(session=session, channel="whatsapp",
                                                    address="+6281234567890")
        assert andi is not None and andi.stopped


async def test_import_refuses_a_file_without_the_columns(
        container: Container, settings: Settings, tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("nama,telepon\nBudi,0812\n", encoding="utf-8")
    code, out = await acli(settings, "subscribers", "import", str(path))
    assert code != 0 and "missing column(s): channel, address, consent_source" in out


async def test_create_preview_send_status(
        container: Container, settings: Settings, tmp_path: Path) -> None:
    path = tmp_path / "pelanggan.csv"
    path.write_text(CSV, encoding="utf-8")
    await acli(settings, "subscribers", "import", str(path), "--partial")
    code, out = await acli(settings, "campaign", "create", "--title", "Kerja bakti",
                           "--text", "Kerja bakti hari Minggu.", "--text-en", "Clean-up Sunday.",
                           "--group", "KIM Binjai Utara", "--group", "cgen",
                           "--link", "https://binjaikota.go.id", "--json")
    assert code == 0, out
    created = json.loads(out)
    assert created["status"] == "draft"
    telegram = created["preview"]["channels"]["telegram"]
    # Budi, Sari, the KIM Damai group chat, and Pak Amir as the relay of Nangka.
    assert (telegram["people"], telegram["group_chats"], telegram["relays"]) == (3, 1, 1)
    assert created["preview"]["channels"]["whatsapp"]["recipients"] == 0

    campaign_id = str(created["id"])
    code, out = await acli(settings, "campaign", "preview", campaign_id, "--json")
    assert json.loads(out)["preview"]["recipients"] == 4
    code, out = await acli(settings, "campaign", "preview", campaign_id)
    assert "telegram [channel off]: 3 people, 1 group, 1 relay, " in out  # in good English
    code, out = await acli(settings, "campaign", "send", campaign_id, "--json")
    assert json.loads(out)["status"] == "sending"
    # The dispatcher creates the deliveries (Telegram is off here: they are skipped for it).
    await container.broadcasts.build_dispatcher().housekeeping()
    assert len(await deliveries(container.db, int(campaign_id))) == 4
    code, out = await acli(settings, "campaign", "status", campaign_id, "--json")
    status = json.loads(out)
    for key in ("targeted", "sent", "delivered", "read", "failed", "failed_by_reason",
                "skipped", "skipped_by_reason", "clicks", "forwards", "joins", "kecamatan"):
        assert key in status, key
    assert status["targeted"] == 4
    assert status["skipped_by_reason"] == {"channel_off": 4}
    assert status["status"] == "completed"
    code, out = await acli(settings, "campaign", "cancel", campaign_id)
    assert code != 0 and "has already ended" in out  # one language: the CLI's


async def test_a_second_staff_member_approves(
        container: Container, settings: Settings) -> None:
    env = {"EMAS_BROADCAST_REQUIRE_APPROVAL": "true"}
    code, out = await acli(settings, "campaign", "create", "--title", "Vaksinasi",
                           "--text", "Vaksinasi gratis.", "--group", "topic:layanan",
                           "--at", "2030-01-06 08:00", "--by", "sari", "--json", env=env)
    campaign_id = str(json.loads(out)["id"])
    code, out = await acli(settings, "campaign", "send", campaign_id, "--by", "sari", "--json",
                           env=env)
    assert json.loads(out)["status"] == "pending_approval"
    code, out = await acli(settings, "campaign", "approve", campaign_id, "--by", "sari",
                           env=env)
    assert code != 0 and "approved by another staff member" in out
    code, out = await acli(settings, "campaign", "approve", campaign_id, "--by", "budi",
                           "--json", env=env)
    approved = json.loads(out)
    assert (approved["status"], approved["approved_by"]) == ("scheduled", "budi")
    code, out = await acli(settings, "campaign", "pause", campaign_id, "--json")
    assert json.loads(out)["status"] == "paused"
    code, out = await acli(settings, "campaign", "resume", campaign_id, "--json")
    assert json.loads(out)["status"] == "scheduled"
    code, out = await acli(settings, "campaign", "list", "--json")
    assert [c["id"] for c in json.loads(out)] == [int(campaign_id)]


GOOD = ("channel,address,name,kelurahan,groups,role,consent source\n"
        "telegram,710001,Ucok Sitepu,Pahlawan,cgen,resident,formulir KIM\n"
        "telegram,710002,Rosé Ginting,Damai,,resident,formulir KIM\n")


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "utf-16", "utf-16-le", "cp1252"])
async def test_import_reads_the_encodings_offices_save(
        container: Container, settings: Settings, tmp_path: Path, encoding: str) -> None:
    path = tmp_path / "pelanggan.csv"
    path.write_bytes(GOOD.encode(encoding))
    code, out = await acli(settings, "subscribers", "import", str(path), "--json")
    assert code == 0 and json.loads(out)["created"] == 2
    async with container.db.reader() as session:
        rose = await repo_broadcasts.get_subscriber(session=session, channel="telegram",
                                                    address="710002")
    assert rose is not None and rose.name == "Rosé Ginting"


@pytest.mark.parametrize("content", [
    b"PK\x03\x04" + bytes(range(256)) * 20,  # an .xlsx workbook
    b"\x89PNG\r\n\x1a\n" + b"\x00\x01\x02" * 400,
])
async def test_import_refuses_a_binary_file_in_one_line(
        container: Container, settings: Settings, tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "pelanggan.csv"
    path.write_bytes(content)
    code, out = await acli(settings, "subscribers", "import", str(path))
    assert code == 1
    assert out.strip().splitlines() == ["Error: this is not a CSV text file (save it as CSV)"]


async def test_a_huge_field_rejects_its_row_not_the_import(
        container: Container, settings: Settings, tmp_path: Path) -> None:
    path = tmp_path / "pelanggan.csv"
    path.write_text(GOOD + "telegram,710003," + "A" * 200_000 + ",Damai,,resident,formulir\n",
                    encoding="utf-8")
    code, out = await acli(settings, "subscribers", "import", str(path), "--partial", "--json")
    report = json.loads(out)
    assert code == 0 and report["created"] == 2
    assert report["rejected"] == [{"line": 4, "address": "", "code": "field_long",
                                   "value": "name",
                                   "reason": "name is longer than 1000 characters"}]


async def test_a_resident_who_said_stop_in_chat_is_never_imported_as_reachable(
        container: Container, settings: Settings, tmp_path: Path) -> None:
    from agencies_kit import send

    await send(container, "710001", "/start", channel="telegram")
    await send(container, "710001", "STOP", channel="telegram")
    code, out = await acli(settings, "subscribers", "stats", "--json")
    before = json.loads(out)
    path = tmp_path / "pelanggan.csv"
    path.write_text(GOOD, encoding="utf-8")
    code, out = await acli(settings, "subscribers", "import", str(path), "--json")
    report = json.loads(out)
    assert code == 0 and report["kept_stopped"] == 1
    async with container.db.reader() as session:
        ucok = await repo_broadcasts.get_subscriber(session=session, channel="telegram",
                                                    address="710001")
    assert ucok is not None and ucok.stopped
    code, out = await acli(settings, "subscribers", "stats", "--json")
    after = json.loads(out)
    assert after.get("telegram", 0) - before.get("telegram", 0) == 1  # Rosé only
    assert after.get("telegram_stopped", 0) - before.get("telegram_stopped", 0) == 1
    # Importing the list again does not undo it.
    code, out = await acli(settings, "subscribers", "import", str(path), "--json")
    assert json.loads(out)["kept_stopped"] == 1
