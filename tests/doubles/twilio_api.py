"""Twilio REST API double for WhatsApp messaging that the real twilio SDK talks to over loopback.

Pointing the SDK at a different REST root (what ``EMAS_TWILIO_API_URL`` means)
------------------------------------------------------------------------------
twilio-python 9 has no constructor argument for the API host. Every request of
``client.messages`` is built by ``twilio.base.domain.Domain.absolute_url`` as
``self.base_url + "/2010-04-01/Accounts/..."``, and the ``Api`` domain's ``base_url`` is the
literal ``"https://api.twilio.com"`` set in ``twilio/rest/api/ApiBase.py``. ``client.api``
creates that domain once and caches it, and ``absolute_url`` reads ``base_url`` on every call,
so assigning ``client.api.base_url = api_url`` redirects every Api request, for the sync
``TwilioHttpClient`` (requests) and the ``AsyncTwilioHttpClient`` (aiohttp) alike: both are
handed the finished absolute URL.

One trap: ``ClientBase.get_hostname`` rewrites the host when ``edge`` or ``region`` is set,
and both also come from the ``TWILIO_EDGE`` / ``TWILIO_REGION`` environment variables. It
splits the host on dots and re-joins it as ``product.edge.region.twilio.com``, which turns
``127.0.0.1:8123`` into nonsense, so they are cleared whenever the root is not Twilio's own.

A second trap, for the async path: ``AsyncTwilioHttpClient`` passes credentials as
``aiohttp.BasicAuth`` through ``auth=``, both deprecated since aiohttp 3.14, so every request
raises ``DeprecationWarning`` (an error under this project's pytest settings; reported upstream
as twilio-python issue 931). :class:`HeaderAuthAsyncHttpClient` sends the same credentials as an
``Authorization`` header instead and is otherwise the stock client.

The other mechanisms were weighed and rejected: edge/region can only produce
``*.twilio.com`` hosts, and a custom ``HttpClient`` that rewrites URLs needs a sync and an
async variant and re-implements the SDK's clients. :func:`point_client_at` (defined in
``bot.handlers.twilio_client``, re-exported here) is the whole approach;
``TwilioConnection.client`` there applies it to the account's ``api_url``
(``settings.twilio_api_url``).

What the double does
--------------------
:func:`create_twilio_api` builds a :class:`TwilioDouble` whose ``.app`` (Starlette) serves
``POST/GET /2010-04-01/Accounts/{sid}/Messages[/{sid}].json`` and media URLs with Twilio's
checks and error JSON, records every message, fails free-form messages outside the 24-hour
WhatsApp window with 63016 (asynchronously, as Twilio does, or synchronously in strict mode),
posts signed status callbacks, injects faults and builds signed inbound webhook forms.
:func:`serve_twilio_api` runs it with uvicorn on 127.0.0.1 and yields the root URL. The sync
SDK client blocks, so call it through ``asyncio.to_thread`` while the double serves on the
test's own event loop.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import json
import logging
import random
import re
import secrets
import socket
import time
import uuid
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Generator, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import httpx
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route
from twilio.request_validator import RequestValidator

# The production client (Basic auth as a header) and the way it is pointed at another REST
# root; tests use the very same code.
from bot.handlers.twilio_client import (  # noqa: F401
    TWILIO_API_ROOT,
    HeaderAuthAsyncHttpClient,
    point_client_at,
)

logger = logging.getLogger(__name__)

API_VERSION = "2010-04-01"
SANDBOX_NUMBER = "whatsapp:+14155238886"
WHATSAPP_WINDOW = timedelta(hours=24)
MAX_BODY_CHARS = 1600

WHATSAPP_ADDRESS = re.compile(r"^whatsapp:\+[1-9]\d{6,14}$")
CONTENT_SID = re.compile(r"^HX[0-9a-fA-F]{32}$")
TEMPLATE_PLACEHOLDER = re.compile(r"\{\{\s*([^}\s]+)\s*\}\}")

MESSAGE_STATUSES = frozenset(
    {"accepted", "queued", "sending", "sent", "delivered", "read", "failed", "undelivered"}
)

ERROR_MESSAGES: dict[int, str] = {
    20003: "Authenticate",
    20404: "The requested resource was not found",
    20429: "Too Many Requests",
    20500: "Internal Server Error",
    20503: "Service Unavailable",
    21211: "Invalid 'To' Phone Number",
    21212: "Invalid From Number (caller ID)",
    21603: "A 'From' phone number is required.",
    21604: "A 'To' phone number is required.",
    21610: "Attempt to send to unsubscribed recipient",
    21617: "The concatenated message body exceeds the 1600 character limit",
    21619: "A text message body or media urls must be specified.",
    21655: "The ContentSid is Invalid.",
    21656: "The ContentVariables Parameter is invalid.",
    63016: (
        "Failed to send freeform message because you are outside the allowed window. "
        "If you are using WhatsApp, please use a Message Template."
    ),
}

Deliver = Callable[[str, dict[str, str], dict[str, str]], Awaitable[httpx.Response]]
"""Posts a signed form to a URL: ``await deliver(url, form, headers) -> httpx.Response``."""


def twilio_error(status: int, code: int, message: str | None = None) -> JSONResponse:
    """Twilio's legacy error body, which the SDK turns into ``TwilioRestException``."""
    payload: dict[str, object] = {
        "code": code,
        "message": message or ERROR_MESSAGES.get(code, "Error"),
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": status,
    }
    headers: dict[str, str] = {}
    if code == 20003:
        payload["detail"] = "Your AccountSid or AuthToken was incorrect."
        headers["WWW-Authenticate"] = 'Basic realm="Twilio API"'
    if status == 429:
        headers["Retry-After"] = "1"
    return JSONResponse(payload, status_code=status, headers=headers)


class TwilioApiError(Exception):
    """A request the double refuses, carried to the route that renders it."""

    def __init__(self, status: int, code: int, message: str | None = None) -> None:
        super().__init__(message or ERROR_MESSAGES.get(code, "Error"))
        self.status = status
        self.code = code
        self.message = message or ERROR_MESSAGES.get(code, "Error")

    def response(self) -> JSONResponse:
        return twilio_error(self.status, self.code, self.message)


@dataclass
class SentMessage:
    """One message the double accepted, and what happened to it since."""

    sid: str
    to: str
    from_: str
    body: str
    content_sid: str | None
    content_variables: dict[str, str] | None
    media_url: list[str]
    status: str
    error_code: int | None
    status_callback: str | None
    date_created: datetime
    date_updated: datetime
    error_message: str | None = None

    @property
    def is_template(self) -> bool:
        return self.content_sid is not None


@dataclass
class RejectedRequest:
    """A message-create request that got an error instead of a message."""

    form: dict[str, list[str]]
    status: int
    code: int


@dataclass
class Callback:
    """One signed POST the double made to a webhook (status callback or inbound message)."""

    url: str
    form: dict[str, str]
    headers: dict[str, str]
    status_code: int | None = None
    error: str | None = None


@dataclass
class Fault:
    """An error the next message create gets instead of being looked at."""

    status: int
    code: int
    message: str | None = None


@dataclass
class StoredMedia:
    content: bytes
    content_type: str
    cdn_token: str


@dataclass
class _Bucket:
    tokens: float
    at: float


async def http_deliver(url: str, form: dict[str, str], headers: dict[str, str]) -> httpx.Response:
    """Posts over the network, as Twilio does; only loopback URLs belong in tests."""
    async with httpx.AsyncClient(timeout=10.0) as client:
        return await client.post(url, data=form, headers=headers)


def asgi_deliver(app: Callable[..., Awaitable[None]]) -> Deliver:
    """A transport that hands webhooks straight to an ASGI app, whatever host the URL names.

    The URL's scheme, host, path and query reach the app unchanged, so an app that checks
    ``X-Twilio-Signature`` against its public URL sees the request Twilio would have sent.
    """

    async def deliver(url: str, form: dict[str, str], headers: dict[str, str]) -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport) as client:
            return await client.post(url, data=form, headers=headers)

    return deliver


def _new_sid(prefix: str) -> str:
    return prefix + secrets.token_hex(16)


def _rfc2822(moment: datetime) -> str:
    return format_datetime(moment.astimezone(UTC))


class TwilioDouble:
    """State and behaviour of the fake Twilio account; see the module docstring."""

    def __init__(
        self,
        account_sid: str,
        auth_token: str,
        *,
        public_webhook_base: str | None = None,
        whatsapp_number: str = SANDBOX_NUMBER,
        reject_outside_window: bool = False,
        per_sender_rate: float | None = None,
        deliver: Deliver | None = None,
        now: Callable[[], datetime] | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        if not re.fullmatch(r"AC[0-9a-f]{32}", account_sid):
            raise ValueError("account_sid must be 'AC' followed by 32 lowercase hex digits")
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.public_webhook_base = public_webhook_base.rstrip("/") if public_webhook_base else None
        self.whatsapp_number = whatsapp_number
        self.reject_outside_window = reject_outside_window
        self.per_sender_rate = per_sender_rate
        self.deliver: Deliver = deliver or http_deliver
        self.now: Callable[[], datetime] = now or (lambda: datetime.now(UTC))
        self.monotonic = monotonic
        # The root the SDK is pointed at; serve_twilio_api() replaces it with the loopback URL
        # so that media URLs handed out are fetchable.
        self.base_url = TWILIO_API_ROOT

        self.messages: list[SentMessage] = []
        self.rejected: list[RejectedRequest] = []
        self.callbacks: list[Callback] = []
        self.last_inbound: dict[str, datetime] = {}
        self.opted_out: set[str] = set()
        self.templates: dict[str, str] = {}
        self.media: dict[tuple[str, str], StoredMedia] = {}
        self.media_requests: list[str] = []

        self._faults: deque[Fault] = deque()
        self._fault_rate = 0.0
        self._fault_choices: tuple[Fault, ...] = ()
        self._rng = random.Random(0)
        self._buckets: dict[str, _Bucket] = {}
        self._pending: set[asyncio.Task[None]] = set()
        self._validator = RequestValidator(auth_token)

        prefix = f"/{API_VERSION}/Accounts/{{account}}"
        self.app = Starlette(
            routes=[
                Route(f"{prefix}/Messages.json", self._create_message, methods=["POST"]),
                Route(f"{prefix}/Messages/{{sid}}.json", self._fetch_message, methods=["GET"]),
                Route(
                    f"{prefix}/Messages/{{message_sid}}/Media/{{media_sid}}",
                    self._fetch_media,
                    methods=["GET"],
                ),
                Route("/cdn/{token}", self._cdn, methods=["GET"], name="cdn"),
            ]
        )

    # ---- set-up ------------------------------------------------------------------------

    def mark_inbound(self, number: str, at: datetime | None = None) -> None:
        """Record that ``number`` wrote to us, opening its 24-hour free-form window."""
        self.last_inbound[number] = at or self.now()

    def opt_out(self, number: str) -> None:
        """Make sends to ``number`` fail with 21610, as after the user blocked or sent STOP."""
        self.opted_out.add(number)

    def opt_in(self, number: str) -> None:
        self.opted_out.discard(number)

    def fail_next(
        self, n: int = 1, status: int = 429, code: int = 20429, message: str | None = None
    ) -> None:
        """Make the next ``n`` message creates fail with this error (429, or 5xx with 20500/20503)."""
        self._faults.extend(Fault(status, code, message) for _ in range(n))

    def random_faults(
        self,
        rate: float,
        *,
        seed: int = 0,
        faults: Iterable[tuple[int, int]] = ((503, 20503), (429, 20429)),
    ) -> None:
        """Fail each message create with probability ``rate``, reproducibly for a given seed.

        ``faults`` lists the (HTTP status, Twilio code) pairs drawn from; ``rate=0`` turns it off.
        """
        if not 0.0 <= rate <= 1.0:
            raise ValueError("rate must be between 0 and 1")
        self._fault_rate = rate
        self._fault_choices = tuple(Fault(status, code) for status, code in faults)
        self._rng = random.Random(seed)

    def add_template(self, body: str) -> str:
        """Register a content template (``{{1}}`` placeholders) and return its HX sid."""
        sid = _new_sid("HX")
        self.templates[sid] = body
        return sid

    def add_media(self, content: bytes, content_type: str = "image/jpeg") -> str:
        """Store a file and return its Twilio-style media URL, which needs Basic auth."""
        message_sid = _new_sid("MM")
        media_sid = _new_sid("ME")
        self.media[(message_sid, media_sid)] = StoredMedia(
            content, content_type, secrets.token_urlsafe(24)
        )
        return (
            f"{self.base_url}/{API_VERSION}/Accounts/{self.account_sid}"
            f"/Messages/{message_sid}/Media/{media_sid}"
        )

    def add_sized_media(self, size: int, content_type: str = "image/jpeg") -> str:
        """Store a file of exactly ``size`` bytes (for size-limit tests) and return its URL."""
        head = b"\xff\xd8\xff\xe0" if content_type == "image/jpeg" else b""
        content = (head + bytes(max(0, size - len(head))))[:size]
        return self.add_media(content, content_type)

    # ---- inspection --------------------------------------------------------------------

    def get(self, sid: str) -> SentMessage:
        for message in self.messages:
            if message.sid == sid:
                return message
        raise KeyError(sid)

    def bodies_to(self, number: str) -> list[str]:
        """Bodies of the accepted messages to ``number``, oldest first."""
        return [message.body for message in self.messages if message.to == number]

    def messages_to(self, number: str) -> list[SentMessage]:
        return [message for message in self.messages if message.to == number]

    def clear(self) -> None:
        """Forget recorded traffic and pending faults; windows, opt-outs and media stay."""
        self.messages.clear()
        self.rejected.clear()
        self.callbacks.clear()
        self.media_requests.clear()
        self._faults.clear()
        self._buckets.clear()

    async def settle(self) -> None:
        """Wait until every status callback the double queued has been delivered."""
        while self._pending:
            await asyncio.gather(*list(self._pending))

    # ---- webhooks ----------------------------------------------------------------------

    def sign(self, url: str, form: dict[str, str]) -> str:
        """The ``X-Twilio-Signature`` Twilio would send for ``form`` posted to ``url``."""
        return str(self._validator.compute_signature(url, form))

    def webhook_url(self, path_or_url: str) -> str:
        """An absolute URL; a path is joined to ``public_webhook_base``."""
        if path_or_url.startswith(("http://", "https://")):
            return path_or_url
        if self.public_webhook_base is None:
            raise ValueError("a path needs public_webhook_base; pass an absolute URL instead")
        return self.public_webhook_base + "/" + path_or_url.lstrip("/")

    def signed_headers(self, url: str, form: dict[str, str]) -> dict[str, str]:
        return {
            "X-Twilio-Signature": self.sign(url, form),
            "I-Twilio-Idempotency-Token": str(uuid.uuid4()),
            "User-Agent": "TwilioProxy/1.1",
            "Content-Type": "application/x-www-form-urlencoded",
        }

    def make_inbound_form(
        self,
        from_: str = "whatsapp:+6281234567890",
        body: str | None = None,
        media: Iterable[tuple[str, str]] = (),
        latitude: float | None = None,
        longitude: float | None = None,
        address: str | None = None,
        label: str | None = None,
        button_payload: str | None = None,
        button_text: str | None = None,
        profile_name: str = "Budi",
        *,
        to: str | None = None,
        message_sid: str | None = None,
    ) -> dict[str, str]:
        """The form Twilio posts to a WhatsApp webhook for one incoming message.

        ``body=None`` means what WhatsApp sends: the button text for a button reply, empty for
        a location or media message, "halo" otherwise. Building the form opens ``from_``'s
        24-hour window, as the real message would.
        """
        media = list(media)
        is_location = latitude is not None and longitude is not None
        is_button = button_payload is not None or button_text is not None
        if body is None:
            if is_button:
                body = button_text or ""
            elif media or is_location:
                body = ""
            else:
                body = "halo"
        sid = message_sid or _new_sid("SM")
        form: dict[str, str] = {
            "SmsMessageSid": sid,
            "SmsSid": sid,
            "MessageSid": sid,
            "AccountSid": self.account_sid,
            "From": from_,
            "To": to or self.whatsapp_number,
            "Body": body,
            "NumMedia": str(len(media)),
            "NumSegments": "1",
            "ReferralNumMedia": "0",
            "ProfileName": profile_name,
            "WaId": from_.removeprefix("whatsapp:").lstrip("+"),
            "SmsStatus": "received",
            "ApiVersion": API_VERSION,
        }
        for index, (url, content_type) in enumerate(media):
            form[f"MediaUrl{index}"] = url
            form[f"MediaContentType{index}"] = content_type
        if is_location:
            form["Latitude"] = str(latitude)
            form["Longitude"] = str(longitude)
            if address is not None:
                form["Address"] = address
            if label is not None:
                form["Label"] = label
        if is_button:
            form["ButtonPayload"] = button_payload or ""
            form["ButtonText"] = button_text or ""
        form["MessageType"] = self._inbound_type(media, is_location, is_button)
        self.mark_inbound(from_)
        return form

    @staticmethod
    def _inbound_type(media: list[tuple[str, str]], is_location: bool, is_button: bool) -> str:
        if is_button:
            return "button"
        if is_location:
            return "location"
        if media:
            major = media[0][1].split("/", 1)[0]
            return major if major in {"image", "video", "audio"} else "document"
        return "text"

    async def post_inbound(self, path_or_url: str, form: dict[str, str]) -> httpx.Response:
        """Post ``form`` to the project's webhook, signed, through ``deliver``."""
        url = self.webhook_url(path_or_url)
        headers = self.signed_headers(url, form)
        response = await self.deliver(url, form, headers)
        self.callbacks.append(Callback(url, form, headers, response.status_code))
        return response

    async def advance(
        self, sid: str, status: str, error_code: int | None = None
    ) -> Callback | None:
        """Move message ``sid`` to ``status`` and post its signed status callback, if it has one.

        Returns the callback made (with the webhook's HTTP status), or None without a callback URL.
        """
        if status not in MESSAGE_STATUSES:
            raise ValueError(f"unknown message status {status!r}")
        message = self.get(sid)
        message.status = status
        message.date_updated = self.now()
        if error_code is not None:
            message.error_code = error_code
            message.error_message = ERROR_MESSAGES.get(error_code)
        return await self._status_callback(message)

    async def _status_callback(self, message: SentMessage) -> Callback | None:
        if message.status_callback is None:
            return None
        form = {
            "AccountSid": self.account_sid,
            "ApiVersion": API_VERSION,
            "ChannelPrefix": "whatsapp",
            "ChannelToAddress": message.to.removeprefix("whatsapp:"),
            "From": message.from_,
            "MessageSid": message.sid,
            "MessageStatus": message.status,
            "SmsSid": message.sid,
            "SmsStatus": message.status,
            "To": message.to,
        }
        if message.error_code is not None and message.status in {"failed", "undelivered"}:
            form["ErrorCode"] = str(message.error_code)
            if message.error_message:
                form["ErrorMessage"] = message.error_message
        url = message.status_callback
        headers = self.signed_headers(url, form)
        callback = Callback(url, form, headers)
        self.callbacks.append(callback)
        try:
            response = await self.deliver(url, form, headers)
        except httpx.HTTPError as exc:
            # Twilio only logs an unreachable callback (error 11200); the message is unaffected.
            callback.error = repr(exc)
            logger.warning("status callback for %s failed: %r", message.sid, exc)
        else:
            callback.status_code = response.status_code
        return callback

    def _in_background(self, coro: Awaitable[object]) -> None:
        async def run() -> None:
            await coro

        task = asyncio.get_running_loop().create_task(run())
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    # ---- HTTP --------------------------------------------------------------------------

    def _authenticate(self, request: Request) -> None:
        header = request.headers.get("authorization", "")
        scheme, _, encoded = header.partition(" ")
        if scheme.lower() != "basic":
            raise TwilioApiError(401, 20003)
        try:
            user, _, password = base64.b64decode(encoded).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError) as exc:
            raise TwilioApiError(401, 20003) from exc
        if not (
            secrets.compare_digest(user, self.account_sid)
            and secrets.compare_digest(password, self.auth_token)
        ):
            raise TwilioApiError(401, 20003)
        if request.path_params["account"] != self.account_sid:
            raise TwilioApiError(
                404, 20404, f"The requested resource {request.url.path} was not found"
            )

    def _next_fault(self) -> Fault | None:
        if self._faults:
            return self._faults.popleft()
        if self._fault_rate and self._fault_choices and self._rng.random() < self._fault_rate:
            return self._rng.choice(self._fault_choices)
        return None

    def _take_token(self, sender: str) -> bool:
        rate = self.per_sender_rate
        if not rate:
            return True
        capacity = max(1.0, rate)
        now = self.monotonic()
        bucket = self._buckets.setdefault(sender, _Bucket(capacity, now))
        bucket.tokens = min(capacity, bucket.tokens + (now - bucket.at) * rate)
        bucket.at = now
        if bucket.tokens < 1.0:
            return False
        bucket.tokens -= 1.0
        return True

    def _in_window(self, number: str) -> bool:
        last = self.last_inbound.get(number)
        return last is not None and self.now() - last <= WHATSAPP_WINDOW

    async def _create_message(self, request: Request) -> Response:
        form_data = await request.form()
        raw = {key: [str(v) for v in form_data.getlist(key)] for key in form_data}
        try:
            self._authenticate(request)
            fault = self._next_fault()
            if fault is not None:
                raise TwilioApiError(fault.status, fault.code, fault.message)
            message, fails_later = self._accept(raw)
        except TwilioApiError as exc:
            self.rejected.append(RejectedRequest(raw, exc.status, exc.code))
            return exc.response()
        payload = self._resource(message)
        if fails_later:
            # Twilio answers "queued" and only then learns the window is closed.
            message.status = "failed"
            message.error_code = 63016
            message.error_message = ERROR_MESSAGES[63016]
            message.date_updated = self.now()
            self._in_background(self._status_callback(message))
        return JSONResponse(payload, status_code=201)

    def _accept(self, raw: dict[str, list[str]]) -> tuple[SentMessage, bool]:
        def one(key: str) -> str | None:
            values = raw.get(key)
            return values[0] if values else None

        to, from_ = one("To"), one("From")
        body = one("Body") or ""
        media_url = raw.get("MediaUrl", [])
        content_sid = one("ContentSid")
        if not to:
            raise TwilioApiError(400, 21604)
        if not WHATSAPP_ADDRESS.match(to):
            raise TwilioApiError(400, 21211, f"Invalid 'To' Phone Number: {to}")
        if not from_:
            raise TwilioApiError(400, 21603)
        if not WHATSAPP_ADDRESS.match(from_):
            raise TwilioApiError(400, 21212, f"Invalid From Number (caller ID): {from_}")
        if not self._take_token(from_):
            raise TwilioApiError(429, 20429)
        variables: dict[str, str] | None = None
        if content_sid is not None:
            if not CONTENT_SID.match(content_sid):
                raise TwilioApiError(400, 21655)
            variables = self._parse_variables(one("ContentVariables"))
            template = self.templates.get(content_sid)
            if template is not None and not body:
                body = TEMPLATE_PLACEHOLDER.sub(
                    lambda m: (variables or {}).get(m.group(1), m.group(0)), template
                )
        elif not body and not media_url:
            raise TwilioApiError(400, 21619)
        if len(body) > MAX_BODY_CHARS:
            raise TwilioApiError(400, 21617)
        if to in self.opted_out:
            raise TwilioApiError(400, 21610)
        outside = content_sid is None and not self._in_window(to)
        if outside and self.reject_outside_window:
            raise TwilioApiError(400, 63016)
        moment = self.now()
        message = SentMessage(
            sid=_new_sid("SM"),
            to=to,
            from_=from_,
            body=body,
            content_sid=content_sid,
            content_variables=variables,
            media_url=list(media_url),
            status="queued",
            error_code=None,
            status_callback=one("StatusCallback"),
            date_created=moment,
            date_updated=moment,
        )
        self.messages.append(message)
        return message, outside

    @staticmethod
    def _parse_variables(text: str | None) -> dict[str, str]:
        if text is None:
            return {}
        try:
            parsed = json.loads(text)
        except json.JSONDecodeError as exc:
            raise TwilioApiError(400, 21656) from exc
        if not isinstance(parsed, dict):
            raise TwilioApiError(400, 21656)
        return {str(key): str(value) for key, value in parsed.items()}

    def _resource(self, message: SentMessage) -> dict[str, object]:
        uri = f"/{API_VERSION}/Accounts/{self.account_sid}/Messages/{message.sid}"
        return {
            "account_sid": self.account_sid,
            "api_version": API_VERSION,
            "body": message.body,
            "date_created": _rfc2822(message.date_created),
            "date_sent": None,
            "date_updated": _rfc2822(message.date_updated),
            "direction": "outbound-api",
            "error_code": message.error_code,
            "error_message": message.error_message,
            "from": message.from_,
            "messaging_service_sid": None,
            "num_media": str(len(message.media_url)),
            "num_segments": "1",
            "price": None,
            "price_unit": "USD",
            "sid": message.sid,
            "status": message.status,
            "subresource_uris": {"media": f"{uri}/Media.json"},
            "to": message.to,
            "uri": f"{uri}.json",
        }

    async def _fetch_message(self, request: Request) -> Response:
        try:
            self._authenticate(request)
            message = self.get(request.path_params["sid"])
        except TwilioApiError as exc:
            return exc.response()
        except KeyError:
            return twilio_error(
                404, 20404, f"The requested resource {request.url.path} was not found"
            )
        return JSONResponse(self._resource(message))

    async def _fetch_media(self, request: Request) -> Response:
        try:
            self._authenticate(request)
        except TwilioApiError as exc:
            return exc.response()
        key = (request.path_params["message_sid"], request.path_params["media_sid"])
        stored = self.media.get(key)
        if stored is None:
            return twilio_error(
                404, 20404, f"The requested resource {request.url.path} was not found"
            )
        self.media_requests.append(request.url.path)
        # Real media URLs answer with a redirect to a short-lived, unauthenticated CDN URL.
        return RedirectResponse(str(request.url_for("cdn", token=stored.cdn_token)), 307)

    async def _cdn(self, request: Request) -> Response:
        token = request.path_params["token"]
        for stored in self.media.values():
            if secrets.compare_digest(stored.cdn_token, token):
                return Response(stored.content, media_type=stored.content_type)
        return Response(
            b"<Error><Code>AccessDenied</Code></Error>", 403, media_type="application/xml"
        )


def create_twilio_api(
    account_sid: str = "AC" + "0" * 32,
    auth_token: str = "test-auth-token",
    *,
    public_webhook_base: str | None = None,
    whatsapp_number: str = SANDBOX_NUMBER,
    reject_outside_window: bool = False,
    per_sender_rate: float | None = None,
    deliver: Deliver | None = None,
    now: Callable[[], datetime] | None = None,
) -> TwilioDouble:
    """Build a fake Twilio account; see :class:`TwilioDouble` for the knobs."""
    return TwilioDouble(
        account_sid,
        auth_token,
        public_webhook_base=public_webhook_base,
        whatsapp_number=whatsapp_number,
        reject_outside_window=reject_outside_window,
        per_sender_rate=per_sender_rate,
        deliver=deliver,
        now=now,
    )


class _TestServer(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        # Leave Ctrl-C to pytest.
        yield


@contextlib.asynccontextmanager
async def serve_asgi(app: Callable[..., Awaitable[None]]) -> AsyncIterator[str]:
    """Serve any ASGI app with uvicorn on 127.0.0.1 (a free port) and yield its root URL."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        app,
        lifespan="off",
        log_config=None,
        log_level="warning",
        access_log=False,
        timeout_graceful_shutdown=5,
    )
    server = _TestServer(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        while not server.started:
            if task.done():
                task.result()
                raise RuntimeError("the server stopped while starting")
            await asyncio.sleep(0.01)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task
        sock.close()


@contextlib.asynccontextmanager
async def serve_twilio_api(double: TwilioDouble) -> AsyncIterator[str]:
    """Serve ``double.app`` on 127.0.0.1 (a free port) and yield its root URL.

    While served, media URLs from :meth:`TwilioDouble.add_media` point at this root; status
    callbacks still in flight are delivered before the server stops.
    """
    previous = double.base_url
    async with serve_asgi(double.app) as root:
        double.base_url = root
        try:
            yield root
            await double.settle()
        finally:
            double.base_url = previous
