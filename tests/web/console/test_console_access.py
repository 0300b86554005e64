"""Signing in to the staff console: one-time links, sessions, CSRF, who sees what."""

from __future__ import annotations

import pytest

from agencies_kit import file_report, staff
from bot.app import Container
from console_kit import act, console_client, form_token, link_for, signed_in
from reports.staff import Account, remove_staff
from storage import repo_console


async def test_a_login_link_works_once_and_sets_a_safe_cookie(container: Container) -> None:
    await staff(container, "sari", role="kominfo", name="Sari")
    path = await link_for(container, "sari")
    async with console_client(container) as client:
        first = await client.get(path)
        assert first.status_code == 303 and first.headers["location"] == "/console/"
        cookie = first.headers["set-cookie"].lower()
        assert "httponly" in cookie and "samesite=lax" in cookie and "path=/" in cookie
        assert "secure" not in cookie  # plain http on this machine; https sets it (below)
        inbox = await client.get("/console/")
        assert inbox.status_code == 200 and "Sari" in inbox.text

        # The same link again, even from the same browser: refused, and it says what to do.
        client.cookies.clear()
        again = await client.get(path)
        assert again.status_code == 410
        assert "sudah dipakai atau kedaluwarsa" in again.text
        assert "set-cookie" not in again.headers


async def test_a_link_older_than_15_minutes_is_refused(container: Container, clock) -> None:
    await staff(container, "sari", role="kominfo")
    path = await link_for(container, "sari")
    clock.advance(minutes=15, seconds=1)
    async with console_client(container) as client:
        answer = await client.get(path)
    assert answer.status_code == 410


async def test_made_up_links_are_refused(container: Container) -> None:
    async with console_client(container) as client:
        for token in ("x", "A" * 43, "../../etc/passwd", "%00", "9" * 500):
            answer = await client.get(f"/console/login/{token}")
            assert answer.status_code in (404, 410), token
            assert "set-cookie" not in answer.headers


async def test_behind_https_the_cookie_is_secure(container: Container) -> None:
    container.settings = container.settings.model_copy(
        update={"public_url": "https://emas.binjaikota.test"})
    await staff(container, "sari", role="kominfo")
    path = await link_for(container, "sari")
    async with console_client(container) as client:
        answer = await client.get(path)
    assert "secure" in answer.headers["set-cookie"].lower()
    assert answer.headers["strict-transport-security"].startswith("max-age=")


async def test_without_a_session_the_console_explains_how_to_sign_in(
        container: Container) -> None:
    async with console_client(container) as client:
        answer = await client.get("/console/")
        assert answer.status_code == 303 and answer.headers["location"] == "/console/masuk"
        page = await client.get("/console/masuk")
    assert page.status_code == 200
    assert "/konsol" in page.text and "KONSOL" in page.text
    assert "15 menit" in page.text


async def test_sign_out_ends_the_session(container: Container) -> None:
    async with console_client(container) as client:
        await signed_in(container, client, "sari", role="kominfo")
        cookie = client.cookies["emas_console"]
        page = (await client.get("/console/")).text
        out = await client.post("/console/keluar", data={"csrf": form_token(page)})
        assert out.status_code == 303
        client.cookies.clear()
        client.cookies.set("emas_console", cookie)  # a copied cookie after sign-out
        assert (await client.get("/console/")).status_code == 303


async def test_removing_a_staff_member_ends_their_sessions_at_once(
        container: Container) -> None:
    async with console_client(container) as client:
        await signed_in(container, client, "budi", role="officer", agency="putr")
        assert (await client.get("/console/")).status_code == 200
        async with container.db.session() as session:
            await remove_staff(session=session, account=Account("terminal", "budi"),
                               now=container.engine.clock())
        assert (await client.get("/console/")).status_code == 303
        # Added back later, the old cookie still opens nothing: a new link is needed.
        await staff(container, "budi", role="officer", agency="putr")
        assert (await client.get("/console/")).status_code == 303


async def test_sessions_end_after_12_idle_hours_and_after_7_days(container: Container,
                                                                 clock) -> None:
    async with console_client(container) as client:
        await signed_in(container, client, "sari", role="kominfo")
        clock.advance(hours=11, minutes=59)
        assert (await client.get("/console/")).status_code == 200
        clock.advance(hours=12, minutes=1)
        assert (await client.get("/console/")).status_code == 303

        client.cookies.clear()
        await signed_in(container, client, "sari")
        for _day in range(7):  # used every day: still ends after 7 days
            clock.advance(hours=11)
            assert (await client.get("/console/")).status_code == 200
            clock.advance(hours=11)
            assert (await client.get("/console/")).status_code == 200
        clock.advance(days=1)
        assert (await client.get("/console/")).status_code == 303


async def test_a_form_without_its_token_changes_nothing(container: Container) -> None:
    report = await file_report(container)
    async with console_client(container) as client:
        await signed_in(container, client, "sari", role="kominfo")
        page = (await client.get(f"/console/reports/{report.ticket}")).text
        token = form_token(page)
        altered = token[:-1] + ("1" if token.endswith("0") else "0")
        for data in ({}, {"csrf": ""}, {"csrf": "0" * 40}, {"csrf": altered}):
            answer = await client.post(f"/console/reports/{report.ticket}",
                                       data={**data, "action": "reject", "reason": "info"})
            assert answer.status_code == 403
            assert "Tidak ada yang diubah" in answer.text
        # Another session's token is no token either.
        other = await link_for(container, "sari")
        async with console_client(container) as second:
            await second.get(other)
        answer = await client.post(f"/console/reports/{report.ticket}",
                                   data={"csrf": "f" * 40, "action": "reject",
                                         "reason": "info"})
        assert answer.status_code == 403
    async with container.db.reader() as session:
        audit = await repo_console.list_audit(session=session, target=report.ticket)
    assert audit == []
    assert (await _status(container, report.ticket)) == "submitted"


async def test_every_response_carries_a_strict_content_security_policy(
        container: Container) -> None:
    async with console_client(container) as client:
        for path in ("/console/masuk", "/healthz", "/console/login/nope"):
            answer = await client.get(path)
            policy = answer.headers["content-security-policy"]
            assert "script-src 'self'" in policy and "unsafe-inline" not in policy
            assert "frame-ancestors 'none'" in policy
            assert answer.headers["x-content-type-options"] == "nosniff"
            assert answer.headers["referrer-policy"] == "no-referrer"
        page = (await client.get("/console/masuk")).text
    assert "<script>" not in page and "style=" not in page and "<style" not in page
    assert '"includeIndicatorStyles": false' in page


ROLES = {
    "kominfo": ("kominfo", None),
    "officer": ("officer", "putr"),
    "head": ("head", "putr"),
    "other_agency": ("officer", "dlh"),
    "leadership": ("leadership", None),
}


@pytest.mark.parametrize(("who", "submitted", "assigned", "inbox"), [
    ("kominfo", 200, 200, 200),
    ("officer", 404, 200, 200),
    ("head", 404, 200, 200),
    ("other_agency", 404, 404, 200),
    ("leadership", 404, 404, 303),
])
async def test_who_sees_which_report(container: Container, who: str, submitted: int,
                                     assigned: int, inbox: int) -> None:
    """An agency sees its own reports once passed to it; another agency's report, or one still
    with Kominfo, is not found (its existence is not revealed); leadership reads figures."""
    waiting = await file_report(container, user="warga-1")
    passed = await file_report(container, user="warga-2")
    role, agency = ROLES[who]
    async with console_client(container) as client:
        await signed_in(container, client, "kominfo-1", role="kominfo")
        assert (await act(client, passed.ticket, "verify", agency="putr")).status_code == 303
        client.cookies.clear()
        await signed_in(container, client, f"{who}-1", role=role, agency=agency)
        assert (await client.get(f"/console/reports/{waiting.ticket}")).status_code == submitted
        page = await client.get(f"/console/reports/{passed.ticket}")
        assert page.status_code == assigned
        with_agency = await client.get("/console/?tab=agency")
        to_verify = await client.get("/console/?tab=verify")
        assert with_agency.status_code == to_verify.status_code == inbox
        assert (passed.ticket in with_agency.text) == (assigned == 200)
        assert (waiting.ticket in to_verify.text) == (submitted == 200)
        assert (">Perlu verifikasi" in to_verify.text) == (who == "kominfo")
        if who == "leadership":
            assert with_agency.headers["location"] == "/console/evaluasi"
        if assigned == 404:
            assert "Laporan tidak ditemukan" in page.text
            assert "Jalan berlubang" not in page.text


async def _status(box: Container, ticket: str) -> str:
    from storage import repo

    async with box.db.reader() as session:
        found = await repo.get_report_by_ticket(session=session, ticket=ticket)
        assert found is not None
        return found.status


async def test_a_staff_member_may_read_the_console_in_english(container: Container) -> None:
    async with console_client(container) as client:
        await signed_in(container, client, "sari", role="kominfo")
        page = (await client.get("/console/")).text
        assert "Kotak masuk" in page and '<html lang="id">' in page
        moved = await client.post("/console/bahasa", data={
            "csrf": form_token(page), "locale": "en", "back": "/console/peta"})
        assert moved.headers["location"] == "/console/peta"
        page = (await client.get("/console/")).text
        assert "Inbox" in page and '<html lang="en">' in page
        away = await client.post("/console/bahasa", data={
            "csrf": form_token(page), "locale": "en", "back": "https://evil.example/"})
        assert away.headers["location"] == "/console/"  # never sent off the console


async def test_a_form_with_unexpected_files_is_refused_not_crashed(container: Container) -> None:
    async with console_client(container) as client:
        await signed_in(container, client, "sari", role="kominfo")
        token = form_token((await client.get("/console/")).text)
        answer = await client.post("/console/keluar", data={"csrf": token},
                                   files={"x": ("x.bin", b"\0" * 100, "application/x")})
        assert answer.status_code == 400
        assert (await client.get("/console/")).status_code == 200  # still signed in


def test_the_access_log_never_shows_a_login_link_or_media_token() -> None:
    import logging

    from web.security import HideSecretPaths

    def logged(path: str) -> str:
        record = logging.LogRecord("uvicorn.access", logging.INFO, __file__, 1,
                                   '%s - "%s %s HTTP/%s" %d',
                                   ("127.0.0.1:5000", "GET", path, "1.1", 303), None)
        HideSecretPaths().filter(record)
        return record.getMessage()

    line = logged("/console/login/63lTyPHJsVwn2bsAEWpObxEyNs_rdrE8hgVqwwrEF3s")
    assert "63lTyPHJ" not in line and "/console/login/…" in line
    assert "Zm9v" not in logged("/media/Zm9v.1790000000.c2ln?x=1")
    assert logged("/console/reports/BJI-2026-000001").endswith(
        '"GET /console/reports/BJI-2026-000001 HTTP/1.1" 303')
