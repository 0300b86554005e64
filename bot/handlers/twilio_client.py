"""The twilio REST client the WhatsApp channel uses: async HTTP, pointed at EMAS_TWILIO_API_URL.

twilio-python has no constructor argument for the API host: every ``client.messages`` request
is built from ``client.api.base_url``, so assigning it redirects them (to a local test double,
say). ``edge``/``region`` would splice themselves into that host, so they are cleared whenever
the root is not Twilio's own. The stock ``AsyncTwilioHttpClient`` passes credentials through
aiohttp's deprecated ``auth=``; :class:`HeaderAuthAsyncHttpClient` sends the same Basic
credentials as an ``Authorization`` header instead.
"""

from __future__ import annotations

import base64
from urllib.parse import urlsplit

from twilio.http.async_http_client import AsyncTwilioHttpClient
from twilio.http.response import Response as TwilioResponse
from twilio.rest import Client

TWILIO_API_ROOT = "https://api.twilio.com"


class HeaderAuthAsyncHttpClient(AsyncTwilioHttpClient):
    """``AsyncTwilioHttpClient`` sending Basic auth as a header. Create it inside a running
    event loop (it owns an aiohttp session) and ``await close()`` it."""

    async def request(
        self,
        method: str,
        url: str,
        params: dict[str, object] | None = None,
        data: dict[str, object] | None = None,
        headers: dict[str, str] | None = None,
        auth: tuple[str, str] | None = None,
        timeout: float | None = None,  # noqa: ASYNC109 -- the SDK's HttpClient signature
        allow_redirects: bool = False,
    ) -> TwilioResponse:
        merged = dict(headers or {})
        if auth is not None:
            credentials = f"{auth[0]}:{auth[1]}".encode()
            merged["Authorization"] = "Basic " + base64.b64encode(credentials).decode("ascii")
        return await super().request(
            method, url, params=params, data=data, headers=merged, auth=None,
            timeout=timeout, allow_redirects=allow_redirects,
        )


def point_client_at(client: Client, api_url: str) -> Client:
    """Make ``client`` send its REST API requests to ``api_url`` instead of api.twilio.com.

    Args:
        client: a ``twilio.rest.Client``, with either the default sync http client or
            ``AsyncTwilioHttpClient``.
        api_url: the REST root, e.g. ``settings.twilio_api_url`` or the URL a test double
            serves; no trailing ``/2010-04-01``.

    Returns:
        The same client, for chaining.
    """
    root = api_url.rstrip("/")
    client.api.base_url = root
    if urlsplit(root).hostname != urlsplit(TWILIO_API_ROOT).hostname:
        # get_hostname() would splice edge/region into a loopback host and break it.
        client.edge = None
        client.region = None
    return client


def build_client(account_sid: str, auth_token: str, api_url: str,
                 http_client: HeaderAuthAsyncHttpClient) -> Client:
    """A client whose Api-domain requests go to `api_url` (no trailing /2010-04-01)."""
    # environment={}: the SDK would otherwise read TWILIO_EDGE/TWILIO_REGION itself.
    client = Client(account_sid, auth_token, http_client=http_client, environment={})
    return point_client_at(client, api_url)


def same_origin(url: str, root: str) -> bool:
    """Whether `url` is on the API root's scheme, host and port (where credentials may go)."""
    a, b = urlsplit(url), urlsplit(root)
    return (a.scheme, a.hostname, a.port) == (b.scheme, b.hostname, b.port)
