"""Partners' API keys on Open311: only an active key posts (403 otherwise), each within its
hourly limit (429 with Retry-After), and the key itself is nowhere in the database or the
logs."""

from __future__ import annotations

import hashlib
import logging
from xml.etree import ElementTree as ET

import pytest
from sqlalchemy import text

from bot.app import Container
from conftest import Clock
from open311_kit import (
    check_definition,
    open311_client,
    partner_key,
    post_request,
    pothole,
)
from reports.partners import revoke_key
from storage.models import metadata
from web.security import HideSecretPaths


@pytest.mark.parametrize("key", [None, "", "o311_not-a-key-of-ours", "x" * 500])
async def test_a_missing_or_unknown_key_is_refused(container: Container,
                                                   key: str | None) -> None:
    await partner_key(container)
    async with open311_client(container, language="en") as client:
        answer = await post_request(client, key, **pothole())
    assert answer.status_code == 403
    check_definition("Errors", answer.json())
    assert "api_key" in answer.json()[0]["description"]


async def test_a_key_is_checked_before_anything_else(container: Container) -> None:
    async with open311_client(container) as client:
        answer = await post_request(client, "o311_wrong", fmt="xml", service_code="jalan_tol")
    assert answer.status_code == 403
    assert ET.fromstring(answer.content).findtext("error/code") == "403"


async def test_a_revoked_key_no_longer_posts(container: Container) -> None:
    key = await partner_key(container, "Aplikasi Lama")
    async with open311_client(container) as client:
        before = await post_request(client, key, **pothole())
        async with container.db.session() as session:
            await revoke_key(session=session, id_or_name="Aplikasi Lama",
                             now=container.engine.clock())
        after = await post_request(client, key, **pothole())
    assert before.status_code == 200
    assert after.status_code == 403


async def test_the_key_may_come_in_the_query_string_as_the_swagger_has_it(
        container: Container) -> None:
    key = await partner_key(container)
    async with open311_client(container) as client:
        answer = await client.post("requests.json", params={"api_key": key}, data=pothole())
    assert answer.status_code == 200, answer.text


async def test_each_key_posts_at_most_its_hourly_limit(container: Container,
                                                       clock: Clock) -> None:
    container.settings = container.settings.model_copy(update={"open311_posts_per_hour": 2})
    first, second = await partner_key(container, "Mitra A"), await partner_key(container, "Mitra B")
    async with open311_client(container, language="en") as client:
        assert (await post_request(client, first, **pothole())).status_code == 200
        assert (await post_request(client, first, service_code="sampah")).status_code == 400
        clock.advance(minutes=10)
        assert (await post_request(client, first, **pothole())).status_code == 200
        over = await post_request(client, first, **pothole())
        assert over.status_code == 429
        check_definition("Errors", over.json())
        assert over.headers["retry-after"] == str(50 * 60)  # the first post leaves the hour
        assert "2 requests" in over.json()[0]["description"]
        # Another partner is not held back.
        assert (await post_request(client, second, **pothole())).status_code == 200
        clock.advance(minutes=30)
        assert (await post_request(client, first, **pothole())).headers["retry-after"] == \
            str(20 * 60)
        clock.advance(minutes=20)
        assert (await post_request(client, first, **pothole())).status_code == 200


async def test_the_database_keeps_only_the_keys_hash(container: Container) -> None:
    key = await partner_key(container, "Aplikasi Qlue")
    async with open311_client(container) as client:
        assert (await post_request(client, key, **pothole())).status_code == 200
    digest = hashlib.sha256(key.encode()).hexdigest()
    found_hash = False
    async with container.db.reader() as session:
        for table in metadata.sorted_tables:
            rows = (await session.exec(text(f'SELECT * FROM "{table.name}"'))).all()
            dumped = repr(rows)
            assert key not in dumped, table.name
            assert key[5:25] not in dumped, table.name
            found_hash = found_hash or digest in dumped
    assert found_hash


async def test_making_and_revoking_a_key_is_audited(container: Container) -> None:
    key = await partner_key(container, "Aplikasi Qlue")
    async with container.db.session() as session:
        await revoke_key(session=session, id_or_name="1", now=container.engine.clock())
    async with container.db.reader() as session:
        rows = (await session.exec(text(
            "SELECT action, target, source, detail FROM audit_log ORDER BY id"))).all()
    assert [(r[0], r[1], r[2]) for r in rows] == [("apikey.create", "apikey:1", "cli"),
                                                  ("apikey.revoke", "apikey:1", "cli")]
    assert key not in repr(rows)


def test_the_access_log_hides_an_api_key_in_the_address() -> None:
    record = logging.LogRecord("uvicorn.access", logging.INFO, __file__, 1,
                               '%s - "%s %s HTTP/%s" %d',
                               ("10.0.0.1:5000", "POST",
                                "/open311/v2/requests.json?jurisdiction_id=x&api_key=o311_SECRET",
                                "1.1", 200), None)
    assert HideSecretPaths().filter(record)
    line = record.getMessage()
    assert "o311_SECRET" not in line
    assert "/open311/v2/requests.json?jurisdiction_id=x&api_key=…" in line
