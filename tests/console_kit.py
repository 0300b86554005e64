"""Test helpers for the staff console: the app over an ASGI transport, staff signed in through
a real login link, and the form token read from the page as a browser would."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx

from agencies_kit import staff
from bot.app import Container, create_app
from reports.staff import Account, login_link

CSRF = re.compile(r'name="csrf" value="([0-9a-f]+)"')
VERSION = re.compile(r'name="version" value="([^"]+)"')


@asynccontextmanager
async def console_client(box: Container) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(box.settings, container=box, start_channels=False)
    transport = httpx.ASGITransport(app=app)
    # Behind https (EMAS_PUBLIC_URL) the cookie is Secure: a browser sends it over https only.
    scheme = "https" if box.settings.base_url.startswith("https://") else "http"
    async with httpx.AsyncClient(transport=transport, base_url=f"{scheme}://testserver") as client:
        yield client


async def link_for(box: Container, user_key: str, *, channel: str = "terminal") -> str:
    """A fresh one-time login path, as `emas staff login-link` makes it."""
    async with box.db.session() as session:
        token = await login_link(session=session, account=Account(channel, user_key),
                                 now=box.engine.clock())
    return f"/console/login/{token}"


async def signed_in(box: Container, client: httpx.AsyncClient, user_key: str, *,
                    role: str | None = None, agency: str | None = None,
                    name: str = "Petugas") -> httpx.AsyncClient:
    """Sign `client` in as a staff member (created first when `role` is given)."""
    if role is not None:
        await staff(box, user_key, role=role, agency=agency, name=name)
    answer = await client.get(await link_for(box, user_key))
    assert answer.status_code == 303, answer.text
    assert "emas_console" in client.cookies  # kept by the client, as a browser keeps it
    return client


def form_token(page: str) -> str:
    found = CSRF.search(page)
    assert found, "no form token on the page"
    return found.group(1)


def version(page: str) -> str:
    found = VERSION.search(page)
    assert found, "no action form on the page"
    return found.group(1)


async def act(client: httpx.AsyncClient, ticket: str, action: str,
              **fields: Any) -> httpx.Response:
    """Open the report page, then send one of its forms as a browser would."""
    page = (await client.get(f"/console/reports/{ticket}")).text
    data = {"csrf": form_token(page), "version": version(page), "action": action, **fields}
    return await client.post(f"/console/reports/{ticket}", data=data)
