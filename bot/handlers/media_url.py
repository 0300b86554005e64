"""Downloads of the photos partners link to (an Open311 request's `media_url`): from public
addresses only, never past the size limit.

The address comes from outside, so the server must not become a way into its own network: a
host that resolves to a private, loopback, link-local or otherwise non-public address is
refused, at every redirect, before anything is sent to it.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Awaitable, Callable
from urllib.parse import urljoin, urlsplit

import httpx

from bot.handlers.downloads import read_capped
from storage.media import MediaRejected

DOWNLOAD_TIMEOUT = 20.0
MAX_REDIRECTS = 3

Resolve = Callable[[str, int], Awaitable[list[str]]]


class MediaUnavailable(RuntimeError):
    """The server did not hand the file over this time (a 5xx): worth another try later."""

    def __init__(self, status: int) -> None:
        super().__init__(f"media download answered {status}")
        self.status = status


async def resolve_host(host: str, port: int) -> list[str]:
    """Every address a host name stands for (an address stands for itself)."""
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos]


def is_public(address: str) -> bool:
    """Whether an address is on the public internet (not private, loopback, link-local,
    multicast, reserved, or an IPv4 one of those written as IPv6)."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


class MediaUrlFetcher:
    """Fetches partners' media URLs, refusing non-public hosts and files over ``max_bytes``."""

    def __init__(self, *, max_bytes: int, resolve: Resolve = resolve_host,
                 transport: httpx.AsyncBaseTransport | None = None,
                 timeout: float = DOWNLOAD_TIMEOUT) -> None:
        self.max_bytes = max_bytes
        self.resolve = resolve
        self.transport = transport
        self.timeout = timeout

    def fetcher(self, url: str) -> Callable[[], Awaitable[bytes]]:
        """The download of one URL, for when it is wanted (bot.photos runs it)."""

        async def fetch() -> bytes:
            return await self.download(url)

        return fetch

    async def _check(self, url: str) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise MediaRejected("refused")
        try:
            port = parts.port or (443 if parts.scheme == "https" else 80)
        except ValueError:
            raise MediaRejected("refused") from None
        try:
            addresses = await self.resolve(parts.hostname, port)
        except OSError:
            raise MediaRejected("unavailable") from None
        if not addresses or not all(is_public(a) for a in addresses):
            raise MediaRejected("refused")

    async def download(self, url: str) -> bytes:
        async with httpx.AsyncClient(timeout=self.timeout, follow_redirects=False,
                                     trust_env=False, transport=self.transport) as client:
            for _hop in range(MAX_REDIRECTS + 1):
                await self._check(url)
                async with client.stream("GET", url) as response:
                    if response.is_redirect and "location" in response.headers:
                        url = urljoin(url, response.headers["location"])
                        continue
                    if response.status_code >= 500:
                        raise MediaUnavailable(response.status_code)
                    if response.status_code != 200:
                        raise MediaRejected("unavailable")
                    return await read_capped(response, self.max_bytes)
        raise MediaRejected("unavailable")
