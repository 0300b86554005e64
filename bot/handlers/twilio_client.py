"""The Twilio account and the one place its REST clients are built; what Twilio's errors mean.

:class:`TwilioAccount` (built once by the composition root) is what the WhatsApp channel and the
WhatsApp bulk sender receive; each opens its own :class:`TwilioConnection` from it, so replies
and broadcasts do not queue for the same connections.

twilio-python has no constructor argument for the API host: every ``client.messages`` request
is built from ``client.api.base_url``, so assigning it redirects them (to a local test double,
say). ``edge``/``region`` would splice themselves into that host, so they are cleared whenever
the root is not Twilio's own. The stock ``AsyncTwilioHttpClient`` passes credentials through
aiohttp's deprecated ``auth=``; :class:`HeaderAuthAsyncHttpClient` sends the same Basic
credentials as an ``Authorization`` header instead.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from urllib.parse import urlsplit

from twilio.base.exceptions import TwilioRestException
from twilio.http.async_http_client import AsyncTwilioHttpClient
from twilio.http.response import Response as TwilioResponse
from twilio.rest import Client

from bot.settings import Settings
from storage.phone import to_e164

TWILIO_API_ROOT = "https://api.twilio.com"

# Twilio error codes the project acts on.
ERR_OPTED_OUT = 21610  # the number opted out (STOP)
ERR_OUTSIDE_WINDOW = 63016  # free text outside the 24-hour window
ERR_TOO_MANY_REQUESTS = 20429


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


@dataclass(frozen=True, slots=True)
class TwilioAccount:
    """The Twilio account WhatsApp goes through: credentials, REST root and sender number."""

    account_sid: str
    auth_token: str
    whatsapp_from: str  # "whatsapp:+<E.164>"
    api_url: str = TWILIO_API_ROOT

    @classmethod
    def from_settings(cls, settings: Settings) -> TwilioAccount:
        sid, token, sender = (settings.twilio_account_sid, settings.twilio_auth_token,
                              settings.twilio_whatsapp_from)
        assert sid and token and sender
        if not sender.startswith("whatsapp:"):
            sender = "whatsapp:" + (to_e164(sender) or sender)
        return cls(sid, token, sender, settings.twilio_api_url)

    @property
    def auth(self) -> tuple[str, str]:
        return self.account_sid, self.auth_token

    def connect(self) -> TwilioConnection:
        """A client of this account of its own, opened on first use."""
        return TwilioConnection(self)


class TwilioConnection:
    """A REST client of the account, opened on first use (its aiohttp session needs a running
    loop) and closed by :meth:`aclose`.

    A use after closing (a message still going out while the process stops) is served
    without a pooled session: each request opens and closes its own, so nothing is left open
    with no one to close it. :meth:`open` pools again (a sender started anew)."""

    def __init__(self, account: TwilioAccount) -> None:
        self.account = account
        self._http: HeaderAuthAsyncHttpClient | None = None
        self._client: Client | None = None
        self._closed = False

    def client(self) -> Client:
        if self._client is None:
            account = self.account
            self._http = HeaderAuthAsyncHttpClient(pool_connections=not self._closed)
            # environment={}: the SDK would otherwise read TWILIO_EDGE/TWILIO_REGION itself.
            client = Client(account.account_sid, account.auth_token, http_client=self._http,
                            environment={})
            self._client = point_client_at(client, account.api_url)
        return self._client

    def open(self) -> None:
        """Pool connections again after :meth:`aclose`."""
        if self._closed:
            self._closed = False
            if self._http is not None and self._http.session is None:
                self._http = self._client = None

    async def aclose(self) -> None:
        self._closed = True
        http, self._http, self._client = self._http, None, None
        if http is not None:
            await http.close()


def retryable_code(code: int) -> bool:
    """Throttling or a server error at Twilio: worth trying again later."""
    return code == ERR_TOO_MANY_REQUESTS or 20500 <= code < 20600


def retryable(exc: TwilioRestException) -> bool:
    return exc.status == 429 or exc.status >= 500 or retryable_code(exc.code or 0)


def same_origin(url: str, root: str) -> bool:
    """Whether `url` is on the API root's scheme, host and port (where credentials may go)."""
    a, b = urlsplit(url), urlsplit(root)
    return (a.scheme, a.hostname, a.port) == (b.scheme, b.hostname, b.port)
