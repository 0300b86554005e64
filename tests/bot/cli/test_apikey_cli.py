"""`emas apikey create|list|revoke`: a partner's Open311 key is printed once, listed without the
key, and revoked at once; making and revoking are audited."""

from __future__ import annotations

import json

from sqlalchemy import text

from bot.app import Container
from bot.settings import Settings
from cli_kit import emas
from open311_kit import open311_client, post_request, pothole


async def test_a_key_is_printed_once_and_posts(container: Container, settings: Settings) -> None:
    made = await emas(settings, "apikey", "create", "--name", "Aplikasi Qlue")
    assert made.exit_code == 0, made.output
    key = made.stdout.strip()
    assert key.startswith("o311_") and len(key) > 40
    assert "not shown again" in made.stderr
    async with open311_client(container) as client:
        assert (await post_request(client, key, **pothole())).status_code == 200

    listed = await emas(settings, "apikey", "list")
    assert listed.exit_code == 0
    assert "Aplikasi Qlue" in listed.output and "active" in listed.output
    assert "1 request(s)" in listed.output
    as_json = await emas(settings, "apikey", "list", "--json")
    [row] = json.loads(as_json.output)
    assert row["name"] == "Aplikasi Qlue" and row["active"] is True and row["requests"] == 1
    assert row["last_used_at"].endswith("+00:00")
    for output in (listed.output, as_json.output):
        assert key not in output and key[5:15] not in output


async def test_create_json_gives_id_name_and_key(container: Container,
                                                 settings: Settings) -> None:
    made = await emas(settings, "apikey", "create", "--name", "  Lapor  Binjai ", "--json")
    assert made.exit_code == 0
    data = json.loads(made.output)
    assert set(data) == {"id", "name", "key"}
    assert data["name"] == "Lapor Binjai" and isinstance(data["id"], int)


async def test_revoke_by_id_or_name_refuses_the_key_at_once(container: Container,
                                                            settings: Settings) -> None:
    first = json.loads((await emas(settings, "apikey", "create", "--name", "Mitra A",
                                   "--json")).output)
    second = json.loads((await emas(settings, "apikey", "create", "--name", "Mitra B",
                                    "--json")).output)
    by_id = await emas(settings, "apikey", "revoke", str(first["id"]))
    by_name = await emas(settings, "apikey", "revoke", "Mitra B", "--json")
    assert by_id.exit_code == 0 and f"revoked key #{first['id']} (Mitra A)" in by_id.output
    assert by_name.exit_code == 0 and json.loads(by_name.output)["name"] == "Mitra B"
    async with open311_client(container) as client:
        for data in (first, second):
            assert (await post_request(client, data["key"], **pothole())).status_code == 403
    listed = json.loads((await emas(settings, "apikey", "list", "--json")).output)
    assert [r["active"] for r in listed] == [False, False]
    async with container.db.reader() as session:
        audit = (await session.exec(text(
            "SELECT action, target, source FROM audit_log ORDER BY id"))).all()
    assert [tuple(r) for r in audit] == [
        ("apikey.create", f"apikey:{first['id']}", "cli"),
        ("apikey.create", f"apikey:{second['id']}", "cli"),
        ("apikey.revoke", f"apikey:{first['id']}", "cli"),
        ("apikey.revoke", f"apikey:{second['id']}", "cli")]


async def test_operator_mistakes_end_in_one_line(container: Container,
                                                 settings: Settings) -> None:
    await emas(settings, "apikey", "create", "--name", "Mitra A")
    again = await emas(settings, "apikey", "create", "--name", "Mitra A")
    blank = await emas(settings, "apikey", "create", "--name", "   ")
    unknown = await emas(settings, "apikey", "revoke", "Mitra Z")
    twice = [await emas(settings, "apikey", "revoke", "1") for _ in range(2)][1]
    assert again.exit_code == 1 and "already a key named 'Mitra A'" in again.output
    assert blank.exit_code == 1 and "needs a name" in blank.output
    assert unknown.exit_code == 1 and "no key 'Mitra Z'" in unknown.output
    assert twice.exit_code == 1 and "revoked already" in twice.output
    for result in (again, blank, unknown, twice):
        assert "Traceback" not in result.output
    assert (await emas(settings, "apikey", "list")).output.count("Mitra A") == 1
