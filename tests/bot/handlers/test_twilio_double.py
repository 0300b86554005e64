"""The Twilio double behaves like Twilio's REST API as seen through the real twilio SDK."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route
from twilio.base.exceptions import TwilioRestException
from twilio.http.async_http_client import AsyncTwilioHttpClient
from twilio.request_validator import RequestValidator
from twilio.rest import Client

from tests.doubles.twilio_api import (
    HeaderAuthAsyncHttpClient,
    TwilioDouble,
    asgi_deliver,
    create_twilio_api,
    http_deliver,
    point_client_at,
    serve_asgi,
    serve_twilio_api,
)

ACCOUNT_SID = "AC" + "3f" * 16
AUTH_TOKEN = "binjai-test-token"
PUBLIC_URL = "https://emas.binjaikota.go.id"
STATUS_URL = PUBLIC_URL + "/webhooks/whatsapp/status"
SENDER = "whatsapp:+14155238886"
RESIDENT = "whatsapp:+6281234567890"


@dataclass
class Webhook:
    """A stand-in for the project's webhook: checks X-Twilio-Signature like production."""

    token: str = AUTH_TOKEN
    received: list[dict[str, str]] = field(default_factory=list)
    refused: int = 0

    async def receive(self, request: Request) -> Response:
        form = {key: str(value) for key, value in (await request.form()).items()}
        signature = request.headers.get("X-Twilio-Signature", "")
        if not RequestValidator(self.token).validate(str(request.url), form, signature):
            self.refused += 1
            return PlainTextResponse("bad signature", status_code=403)
        self.received.append(form)
        return PlainTextResponse("")

    @property
    def app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/webhooks/whatsapp", self.receive, methods=["POST"]),
                Route("/webhooks/whatsapp/status", self.receive, methods=["POST"]),
            ]
        )


@pytest.fixture
def webhook() -> Webhook:
    return Webhook()


@pytest.fixture
async def served(webhook: Webhook) -> AsyncIterator[tuple[TwilioDouble, str]]:
    double = create_twilio_api(
        ACCOUNT_SID,
        AUTH_TOKEN,
        public_webhook_base=PUBLIC_URL,
        deliver=asgi_deliver(webhook.app),
    )
    async with serve_twilio_api(double) as root:
        yield double, root


@pytest.fixture
def double(served: tuple[TwilioDouble, str]) -> TwilioDouble:
    return served[0]


@pytest.fixture
async def client(served: tuple[TwilioDouble, str]) -> AsyncIterator[Client]:
    http_client = HeaderAuthAsyncHttpClient()
    try:
        yield point_client_at(Client(ACCOUNT_SID, AUTH_TOKEN, http_client=http_client), served[1])
    finally:
        await http_client.close()


@pytest.fixture
def sync_client(served: tuple[TwilioDouble, str]) -> Iterator[Client]:
    twilio = point_client_at(Client(ACCOUNT_SID, AUTH_TOKEN), served[1])
    yield twilio
    session = getattr(twilio.http_client, "session", None)
    if session is not None:
        session.close()


async def test_async_send_inside_window_is_queued_and_recorded(
    double: TwilioDouble, client: Client
) -> None:
    double.mark_inbound(RESIDENT)

    message = await client.messages.create_async(
        to=RESIDENT, from_=SENDER, body="Laporan Anda sudah kami terima."
    )

    assert message.sid is not None and message.sid.startswith("SM") and len(message.sid) == 34
    assert message.status == "queued"
    assert (message.to, message.from_) == (RESIDENT, SENDER)
    assert message.body == "Laporan Anda sudah kami terima."
    assert message.num_media == "0"
    assert isinstance(message.date_created, datetime)
    assert message.error_code is None
    assert double.bodies_to(RESIDENT) == ["Laporan Anda sudah kami terima."]
    fetched = await client.messages(message.sid).fetch_async()
    assert fetched.status == "queued"


# The stock client trips aiohttp 3.14's deprecations on every request; the project's own client
# (HeaderAuthAsyncHttpClient) does not, which every other test here checks with warnings as errors.
@pytest.mark.filterwarnings("ignore:BasicAuth is deprecated:DeprecationWarning")
@pytest.mark.filterwarnings("ignore:The 'auth' parameter is deprecated:DeprecationWarning")
async def test_stock_async_http_client_reaches_the_double(
    served: tuple[TwilioDouble, str],
) -> None:
    double, root = served
    double.mark_inbound(RESIDENT)
    async with AsyncTwilioHttpClient() as http_client:
        twilio = point_client_at(Client(ACCOUNT_SID, AUTH_TOKEN, http_client=http_client), root)
        message = await twilio.messages.create_async(to=RESIDENT, from_=SENDER, body="halo")

    assert message.status == "queued"
    assert double.bodies_to(RESIDENT) == ["halo"]


async def test_sync_client_sends_over_loopback(double: TwilioDouble, sync_client: Client) -> None:
    double.mark_inbound(RESIDENT)

    message = await asyncio.to_thread(
        sync_client.messages.create, to=RESIDENT, from_=SENDER, body="halo dari Kominfo"
    )

    assert message.status == "queued"
    assert double.get(str(message.sid)).body == "halo dari Kominfo"


@pytest.mark.parametrize(
    ("to", "from_", "code"),
    [
        ("+6281234567890", SENDER, 21211),
        ("whatsapp:081234567890", SENDER, 21211),
        (RESIDENT, "+14155238886", 21212),
    ],
)
async def test_non_whatsapp_addresses_are_refused(
    double: TwilioDouble, client: Client, to: str, from_: str, code: int
) -> None:
    double.mark_inbound(to)

    with pytest.raises(TwilioRestException) as caught:
        await client.messages.create_async(to=to, from_=from_, body="halo")

    assert (caught.value.status, caught.value.code) == (400, code)
    assert double.messages == []
    assert [r.code for r in double.rejected] == [code]


async def test_body_over_1600_characters_is_refused(double: TwilioDouble, client: Client) -> None:
    double.mark_inbound(RESIDENT)

    with pytest.raises(TwilioRestException) as caught:
        await client.messages.create_async(to=RESIDENT, from_=SENDER, body="a" * 1601)
    accepted = await client.messages.create_async(to=RESIDENT, from_=SENDER, body="a" * 1600)

    assert (caught.value.status, caught.value.code) == (400, 21617)
    assert "1600 character limit" in caught.value.msg
    assert accepted.status == "queued"
    assert len(double.messages) == 1


async def test_message_needs_a_body_or_media(double: TwilioDouble, client: Client) -> None:
    double.mark_inbound(RESIDENT)
    photo = double.add_media(b"\xff\xd8\xff\xe0jpeg", "image/jpeg")

    with pytest.raises(TwilioRestException) as caught:
        await client.messages.create_async(to=RESIDENT, from_=SENDER)
    with_media = await client.messages.create_async(to=RESIDENT, from_=SENDER, media_url=[photo])

    assert caught.value.code == 21619
    assert with_media.num_media == "1"
    assert double.get(str(with_media.sid)).media_url == [photo]


async def test_wrong_auth_token_gets_401(served: tuple[TwilioDouble, str]) -> None:
    double, root = served
    http_client = HeaderAuthAsyncHttpClient()
    try:
        intruder = point_client_at(
            Client(ACCOUNT_SID, "not-the-token", http_client=http_client), root
        )
        with pytest.raises(TwilioRestException) as caught:
            await intruder.messages.create_async(to=RESIDENT, from_=SENDER, body="halo")
    finally:
        await http_client.close()

    assert (caught.value.status, caught.value.code) == (401, 20003)
    assert double.messages == []


async def test_opted_out_recipient_is_refused(double: TwilioDouble, client: Client) -> None:
    double.mark_inbound(RESIDENT)
    double.opt_out(RESIDENT)

    with pytest.raises(TwilioRestException) as caught:
        await client.messages.create_async(to=RESIDENT, from_=SENDER, body="Pengumuman")

    assert (caught.value.status, caught.value.code) == (400, 21610)
    assert "unsubscribed" in caught.value.msg


async def test_injected_faults_fail_then_clear(double: TwilioDouble, client: Client) -> None:
    double.mark_inbound(RESIDENT)
    double.fail_next(1)
    double.fail_next(1, status=503, code=20503)

    with pytest.raises(TwilioRestException) as throttled:
        await client.messages.create_async(to=RESIDENT, from_=SENDER, body="coba 1")
    with pytest.raises(TwilioRestException) as unavailable:
        await client.messages.create_async(to=RESIDENT, from_=SENDER, body="coba 2")
    third = await client.messages.create_async(to=RESIDENT, from_=SENDER, body="coba 3")

    assert (throttled.value.status, throttled.value.code) == (429, 20429)
    assert (unavailable.value.status, unavailable.value.code) == (503, 20503)
    assert third.status == "queued"
    assert double.bodies_to(RESIDENT) == ["coba 3"]


async def _outcomes(root: str, double: TwilioDouble, sends: int) -> list[int]:
    outcomes = []
    http_client = HeaderAuthAsyncHttpClient()
    try:
        twilio = point_client_at(Client(ACCOUNT_SID, AUTH_TOKEN, http_client=http_client), root)
        for n in range(sends):
            try:
                await twilio.messages.create_async(to=RESIDENT, from_=SENDER, body=f"#{n}")
            except TwilioRestException as exc:
                outcomes.append(exc.status)
            else:
                outcomes.append(201)
    finally:
        await http_client.close()
    return outcomes


async def test_random_faults_are_reproducible_for_a_seed() -> None:
    runs = []
    for _ in range(2):
        double = create_twilio_api(ACCOUNT_SID, AUTH_TOKEN)
        double.mark_inbound(RESIDENT)
        double.random_faults(0.5, seed=7)
        async with serve_twilio_api(double) as root:
            runs.append(await _outcomes(root, double, 12))

    assert runs[0] == runs[1]
    assert 201 in runs[0]
    assert set(runs[0]) - {201} <= {429, 503} and set(runs[0]) != {201}


async def test_per_sender_rate_limit_returns_429(double: TwilioDouble, client: Client) -> None:
    clock = [100.0]
    double.monotonic = lambda: clock[0]
    double.per_sender_rate = 2
    double.mark_inbound(RESIDENT)

    for n in range(2):
        await client.messages.create_async(to=RESIDENT, from_=SENDER, body=f"#{n}")
    with pytest.raises(TwilioRestException) as caught:
        await client.messages.create_async(to=RESIDENT, from_=SENDER, body="#2")
    clock[0] += 0.5
    await client.messages.create_async(to=RESIDENT, from_=SENDER, body="#3")

    assert (caught.value.status, caught.value.code) == (429, 20429)
    assert double.bodies_to(RESIDENT) == ["#0", "#1", "#3"]


async def test_free_text_outside_window_fails_later_with_signed_callback(
    double: TwilioDouble, client: Client, webhook: Webhook
) -> None:
    message = await client.messages.create_async(
        to=RESIDENT, from_=SENDER, body="Status laporan Anda", status_callback=STATUS_URL
    )
    await double.settle()

    assert message.status == "queued"
    assert webhook.refused == 0
    assert len(webhook.received) == 1
    callback = webhook.received[0]
    assert callback["MessageSid"] == message.sid
    assert callback["MessageStatus"] == "failed"
    assert callback["ErrorCode"] == "63016"
    assert (callback["To"], callback["From"], callback["AccountSid"]) == (
        RESIDENT,
        SENDER,
        ACCOUNT_SID,
    )
    sent = double.callbacks[0]
    assert RequestValidator(AUTH_TOKEN).validate(
        STATUS_URL, sent.form, sent.headers["X-Twilio-Signature"]
    )
    assert not RequestValidator("another-token").validate(
        STATUS_URL, sent.form, sent.headers["X-Twilio-Signature"]
    )
    fetched = await client.messages(str(message.sid)).fetch_async()
    assert (fetched.status, fetched.error_code) == ("failed", 63016)


async def test_window_closes_24_hours_after_the_last_inbound_message(
    double: TwilioDouble, client: Client
) -> None:
    now = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
    double.now = lambda: now
    double.mark_inbound(RESIDENT, at=now - timedelta(hours=23))
    double.mark_inbound("whatsapp:+6281370000001", at=now - timedelta(hours=25))

    fresh = await client.messages.create_async(to=RESIDENT, from_=SENDER, body="masih bisa")
    stale = await client.messages.create_async(
        to="whatsapp:+6281370000001", from_=SENDER, body="terlambat"
    )

    assert double.get(str(fresh.sid)).status == "queued"
    assert (double.get(str(stale.sid)).status, double.get(str(stale.sid)).error_code) == (
        "failed",
        63016,
    )


async def test_strict_mode_refuses_outside_window_at_once(
    double: TwilioDouble, client: Client
) -> None:
    double.reject_outside_window = True

    with pytest.raises(TwilioRestException) as caught:
        await client.messages.create_async(to=RESIDENT, from_=SENDER, body="halo")

    assert (caught.value.status, caught.value.code) == (400, 63016)
    assert double.messages == []


async def test_template_outside_window_is_delivered(
    double: TwilioDouble, client: Client, webhook: Webhook
) -> None:
    template = double.add_template("Laporan {{1}} telah diperbarui: {{2}}")

    message = await client.messages.create_async(
        to=RESIDENT,
        from_=SENDER,
        content_sid=template,
        content_variables=json.dumps({"1": "BJI-2026-000123", "2": "selesai"}),
        status_callback=STATUS_URL,
    )
    await double.settle()

    assert message.status == "queued"
    sent = double.get(str(message.sid))
    assert sent.status == "queued" and sent.error_code is None
    assert sent.content_sid == template
    assert sent.content_variables == {"1": "BJI-2026-000123", "2": "selesai"}
    assert double.bodies_to(RESIDENT) == ["Laporan BJI-2026-000123 telah diperbarui: selesai"]
    assert webhook.received == []


async def test_advance_posts_signed_status_callbacks_over_loopback(
    double: TwilioDouble, client: Client
) -> None:
    receiver = Webhook()
    async with serve_asgi(receiver.app) as receiver_root:
        double.deliver = http_deliver
        double.mark_inbound(RESIDENT)
        message = await client.messages.create_async(
            to=RESIDENT,
            from_=SENDER,
            body="Terima kasih",
            status_callback=receiver_root + "/webhooks/whatsapp/status?channel=wa",
        )
        sid = str(message.sid)
        for status in ("sent", "delivered", "read"):
            callback = await double.advance(sid, status)
            assert callback is not None and callback.status_code == 200

    assert [form["MessageStatus"] for form in receiver.received] == ["sent", "delivered", "read"]
    assert receiver.refused == 0
    assert double.get(sid).status == "read"
    fetched = await client.messages(sid).fetch_async()
    assert fetched.status == "read"


async def test_media_url_needs_basic_auth(served: tuple[TwilioDouble, str]) -> None:
    double, root = served
    photo = b"\xff\xd8\xff\xe0" + b"jalan berlubang" * 100
    url = double.add_media(photo, "image/jpeg")
    large_url = double.add_sized_media(6 * 1024 * 1024)

    assert url.startswith(root + f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages/MM")
    async with httpx.AsyncClient(follow_redirects=True) as http:
        anonymous = await http.get(url)
        wrong = await http.get(url, auth=(ACCOUNT_SID, "wrong"))
        fetched = await http.get(url, auth=(ACCOUNT_SID, AUTH_TOKEN))
        large = await http.get(large_url, auth=(ACCOUNT_SID, AUTH_TOKEN))

    assert anonymous.status_code == 401 and anonymous.json()["code"] == 20003
    assert wrong.status_code == 401
    assert fetched.status_code == 200
    assert fetched.content == photo
    assert fetched.headers["content-type"] == "image/jpeg"
    assert fetched.history[0].status_code == 307
    assert "/cdn/" in fetched.history[0].headers["location"]
    assert len(large.content) == 6 * 1024 * 1024


async def test_inbound_forms_are_signed_like_twilio(double: TwilioDouble, webhook: Webhook) -> None:
    photo = double.add_media(b"\xff\xd8\xff\xe0", "image/jpeg")
    text = double.make_inbound_form(from_=RESIDENT, body="halo", profile_name="Budi")
    located = double.make_inbound_form(
        from_=RESIDENT, latitude=3.5952, longitude=98.4851, address="Jl. Sudirman", label="Kantor"
    )
    with_photo = double.make_inbound_form(from_=RESIDENT, media=[(photo, "image/jpeg")])
    button = double.make_inbound_form(from_=RESIDENT, button_payload="menu", button_text="Menu")

    for form in (text, located, with_photo, button):
        response = await double.post_inbound("/webhooks/whatsapp", form)
        assert response.status_code == 200
    tampered = dict(text, Body="ubah")
    forged = await double.deliver(
        PUBLIC_URL + "/webhooks/whatsapp",
        tampered,
        {"X-Twilio-Signature": double.sign(PUBLIC_URL + "/webhooks/whatsapp", text)},
    )

    assert forged.status_code == 403
    assert webhook.received == [text, located, with_photo, button]
    assert text["MessageSid"].startswith("SM") and text["SmsMessageSid"] == text["MessageSid"]
    assert (text["WaId"], text["ProfileName"], text["SmsStatus"]) == (
        "6281234567890",
        "Budi",
        "received",
    )
    assert (text["MessageType"], text["NumMedia"], text["AccountSid"]) == ("text", "0", ACCOUNT_SID)
    assert (located["MessageType"], located["Latitude"], located["Body"]) == (
        "location",
        "3.5952",
        "",
    )
    assert (located["Address"], located["Label"]) == ("Jl. Sudirman", "Kantor")
    assert (with_photo["MediaUrl0"], with_photo["MediaContentType0"]) == (photo, "image/jpeg")
    assert (with_photo["MessageType"], with_photo["NumMedia"]) == ("image", "1")
    assert (button["MessageType"], button["ButtonPayload"], button["Body"]) == (
        "button",
        "menu",
        "Menu",
    )
    assert double.last_inbound[RESIDENT] is not None


async def test_inbound_message_opens_the_window(double: TwilioDouble, client: Client) -> None:
    double.make_inbound_form(from_=RESIDENT, body="lapor")

    message = await client.messages.create_async(to=RESIDENT, from_=SENDER, body="Silakan")
    await double.settle()

    assert double.get(str(message.sid)).status == "queued"


async def test_clear_forgets_traffic(double: TwilioDouble, client: Client) -> None:
    double.mark_inbound(RESIDENT)
    await client.messages.create_async(to=RESIDENT, from_=SENDER, body="satu")
    double.fail_next(1)

    double.clear()
    await client.messages.create_async(to=RESIDENT, from_=SENDER, body="dua")

    assert double.bodies_to(RESIDENT) == ["dua"]
