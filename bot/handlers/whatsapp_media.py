"""Downloads of the photos and files residents send on WhatsApp, with the account's credentials."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import httpx

from bot.handlers.downloads import read_capped
from bot.handlers.twilio_client import TwilioAccount, same_origin
from storage.media import MediaRejected

DOWNLOAD_TIMEOUT = 30.0


class MediaUnavailable(RuntimeError):
    """Twilio did not hand over a media file (expired, deleted, or refused)."""

    def __init__(self, status: int) -> None:
        super().__init__(f"media download answered {status}")
        self.status = status


class WhatsAppMedia:
    """Fetches media URLs of inbound messages, refusing files over ``max_bytes``."""

    def __init__(self, account: TwilioAccount, *, max_bytes: int) -> None:
        self.account = account
        self.max_bytes = max_bytes
        self._client: httpx.AsyncClient | None = None

    def fetcher(self, url: str) -> Callable[[], Awaitable[bytes]]:
        """What parse_form puts in an Inbound's Media: the download, for when it is wanted."""

        async def fetch() -> bytes:
            return await self.download(url)

        return fetch

    async def download(self, url: str) -> bytes:
        """Fetch a media URL with the account's credentials, refusing files over the limit.

        Credentials only go to the REST API's own origin; Twilio then redirects to its CDN."""
        if not same_origin(url, self.account.api_url):
            raise MediaRejected("not_image")
        if self._client is None:
            self._client = httpx.AsyncClient(timeout=DOWNLOAD_TIMEOUT, follow_redirects=True)
        limit = self.max_bytes
        async with self._client.stream("GET", url, auth=self.account.auth) as response:
            if response.status_code != 200:
                raise MediaUnavailable(response.status_code)
            return await read_capped(response, limit)

    async def aclose(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            await client.aclose()
