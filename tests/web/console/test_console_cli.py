"""`emas staff login-link` for the first administrator, and the leadership role."""

from __future__ import annotations

from bot.app import Container
from bot.settings import Settings
from cli_kit import acli
from console_kit import console_client


async def test_the_first_administrator_signs_in_with_a_printed_link(
        container: Container, settings: Settings) -> None:
    code, out = await acli(settings, "staff", "add", "--role", "kominfo", "--name", "Admin",
                           "--telegram-id", "5550001")
    assert code == 0, out
    code, out = await acli(settings, "staff", "login-link", "--telegram-id", "5550001")
    assert code == 0, out
    url = out.strip().splitlines()[0]
    assert url.startswith("http://127.0.0.1:8080/console/login/")
    assert "15 minutes" in out
    async with console_client(container) as client:
        assert (await client.get(url.removeprefix("http://127.0.0.1:8080"))).status_code == 303
        assert (await client.get("/console/")).status_code == 200
        # Printed once, used once.
        client.cookies.clear()
        assert (await client.get(url.removeprefix("http://127.0.0.1:8080"))).status_code == 410


async def test_no_link_for_someone_who_is_not_staff(settings: Settings,
                                                    container: Container) -> None:
    code, out = await acli(settings, "staff", "login-link", "--telegram-id", "999")
    assert code == 1
    assert "no active staff member" in out and "Traceback" not in out


async def test_leadership_is_a_role_without_an_agency(settings: Settings,
                                                      container: Container) -> None:
    code, out = await acli(settings, "staff", "add", "--role", "leadership", "--name", "Wali",
                           "--phone", "+6281234567890")
    assert code == 0 and "leadership" in out
    code, out = await acli(settings, "staff", "add", "--role", "leadership", "--name", "Wali",
                           "--phone", "+6281234567890", "--agency", "putr")
    assert code != 0 and "leave out --agency" in out
