"""The command line as operators use it (CONTRACT.md)."""

from __future__ import annotations

import json
import re

from bot.app import Container
from bot.settings import Settings
from chat import KARTINI, TerminalChat
from cli_kit import acli, cli


async def file_report(box: Container) -> str:
    chat = TerminalChat(box.engine, locale="en")
    return await chat.file_at_kartini("Lampu jalan mati sejak tiga hari", "Street light out",
                                      "depan Masjid Raya", photo_seed=5)


async def test_report_show_json_has_the_contract_fields(
    container: Container, settings: Settings
) -> None:
    ticket = await file_report(container)
    code, out = await acli(settings, "report", "show", ticket, "--json")
    assert code == 0
    data = json.loads(out)
    for key in ("ticket", "status", "category", "agency", "kecamatan", "kelurahan", "address",
                "description", "latitude", "longitude", "photos", "channel", "anonymous",
                "created_at", "history"):
        assert key in data, key
    assert data["ticket"] == ticket and re.fullmatch(r"BJI-\d{4}-\d{6}", ticket)
    assert data["status"] == "submitted"
    assert data["category"] == "pju" and data["agency"] == "perkim"
    assert data["kecamatan"] == "Binjai Kota" and data["kelurahan"] == "Kartini"
    assert data["photos"] == 1 and data["channel"] == "terminal"
    assert (data["latitude"], data["longitude"]) == KARTINI
    assert re.search(r"[+-]\d\d:\d\d$", data["created_at"])  # ISO 8601 with an offset
    assert data["history"][0]["status"] == "submitted"
    assert set(data["history"][0]) == {"status", "at", "note"}


async def test_report_list_and_set_status(container: Container, settings: Settings) -> None:
    ticket = await file_report(container)
    code, out = await acli(settings, "report", "list", "--json")
    assert code == 0 and [r["ticket"] for r in json.loads(out)] == [ticket]
    assert json.loads(out)[0]["kelurahan"] == "Kartini"
    code, out = await acli(settings, "report", "list")
    header, row = out.splitlines()
    assert header.split() == ["ticket", "status", "category", "agency", "kelurahan", "filed",
                              "(WIB)"]
    # Filed at the test clock's 09:00 WIB (02:00 UTC), written as Binjai reads a time.
    assert row.startswith(ticket) and "Kartini" in row and row.endswith("7 Dec 2026 09.00 WIB")
    code, out = await acli(settings, "report", "list", "--status", "closed", "--json")
    assert json.loads(out) == []
    code, out = await acli(settings, "report", "show", "BJI-2026-999999")
    assert code != 0 and "no report" in out


def test_seed_is_idempotent(settings: Settings, container: Container) -> None:
    code, out = cli(settings, "seed", "--json")
    assert code == 0
    counts = json.loads(out)
    assert counts["kelurahan"] == 37 and counts["created"] == 0 and counts["updated"] == 0


def test_db_upgrade_is_safe_to_repeat(settings: Settings) -> None:
    code, out = cli(settings, "db", "upgrade")
    assert code == 0 and "up to date" in out


def test_production_refuses_placeholder_secrets_and_plain_http() -> None:
    import pytest
    from pydantic import ValidationError

    base = {"_env_file": None, "env": "production", "telegram_token": "123:abc",
            "telegram_webhook_secret": "a-long-random-secret",
            "secret_key": "k7Qp2vX9sLm4Tz8RbN3wYc6Hf1Jd5Ge0"}
    with pytest.raises(ValidationError, match="EMAS_SECRET_KEY"):
        Settings(**{**base, "secret_key": "short"}, public_url="https://bot.binjaikota.go.id")
    with pytest.raises(ValidationError, match="EMAS_SECRET_KEY"):
        Settings(**{k: v for k, v in base.items() if k != "secret_key"},
                 public_url="https://bot.binjaikota.go.id")
    with pytest.raises(ValidationError, match="https"):
        Settings(**base, public_url="http://bot.binjaikota.go.id")
    with pytest.raises(ValidationError, match="placeholder"):
        Settings(**{**base, "telegram_webhook_secret": "changeme"},
                 public_url="https://bot.binjaikota.go.id")
    ok = Settings(**base, public_url="https://bot.binjaikota.go.id")
    assert ok.telegram_enabled and not ok.whatsapp_enabled
