"""The WhatsApp webhooks: Twilio's signature, answering fast, replays, and status callbacks."""

from __future__ import annotations

import asyncio
from typing import Any
from urllib.parse import urlencode

import pytest
from sqlmodel import select
from starlette.datastructures import ImmutableMultiDict
from twilio.request_validator import RequestValidator

from bot.app import Container, create_app
from bot.messages import Inbound
from storage.models import Identity, InboundEvent
from storage.models.outbound import OutboundMessage
from whatsapp_fixtures import WhatsAppAccount, WhatsAppEnv

RESIDENT = "whatsapp:+6281234567890"
WEBHOOK = WhatsAppAccount.public_url + "/webhooks/whatsapp"
STATUS = WhatsAppAccount.public_url + "/webhooks/whatsapp/status"


def sign(url: str, form: Any) -> str:
    return str(RequestValidator(WhatsAppAccount.auth_token).compute_signature(url, form))


async def _count(box: Container, model: Any) -> int:
    async with box.db.reader() as session:
        return len((await session.exec(select(model))).all())


async def _records(box: Container) -> list[OutboundMessage]:
    async with box.db.reader() as session:
        return list((await session.exec(select(OutboundMessage))).all())


async def test_a_signed_message_is_answered_with_empty_twiml_and_replied_to(
    whatsapp: WhatsAppEnv,
) -> None:
    form = whatsapp.double.make_inbound_form(RESIDENT, body="halo")
    response = await whatsapp.post(WEBHOOK, form, {"X-Twilio-Signature": sign(WEBHOOK, form)})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/xml")
    assert response.text == '<?xml version="1.0" encoding="UTF-8"?><Response/>'
    [reply] = whatsapp.double.messages_to(RESIDENT)
    assert "e-Masyarakat" in reply.body
    assert reply.from_ == WhatsAppAccount.sender
    assert reply.status_callback is not None
    assert reply.status_callback.startswith(STATUS + "?m=")


@pytest.mark.parametrize("headers", [
    {},
    {"X-Twilio-Signature": ""},
    {"X-Twilio-Signature": "bm90IGEgc2lnbmF0dXJl"},
], ids=["missing", "empty", "invalid"])
async def test_unsigned_or_badly_signed_messages_are_refused_with_no_effect(
    whatsapp: WhatsAppEnv, headers: dict[str, str]
) -> None:
    form = whatsapp.double.make_inbound_form(RESIDENT, body="halo")
    response = await whatsapp.post(WEBHOOK, form, headers)
    assert response.status_code == 403
    assert whatsapp.double.messages == []
    assert await _count(whatsapp.box, InboundEvent) == 0
    assert await _count(whatsapp.box, Identity) == 0


async def test_a_signature_for_another_form_or_account_is_refused(whatsapp: WhatsAppEnv) -> None:
    form = whatsapp.double.make_inbound_form(RESIDENT, body="halo")
    signature = sign(WEBHOOK, form)
    tampered = dict(form, Body="STOP")
    response = await whatsapp.post(WEBHOOK, tampered, {"X-Twilio-Signature": signature})
    assert response.status_code == 403
    other_account = str(RequestValidator("another-token").compute_signature(WEBHOOK, form))
    response = await whatsapp.post(WEBHOOK, form, {"X-Twilio-Signature": other_account})
    assert response.status_code == 403
    assert whatsapp.double.messages == []


async def test_signature_checked_against_the_public_url_behind_a_proxy(
    whatsapp: WhatsAppEnv,
) -> None:
    """EMAS_PUBLIC_URL is https; the proxy forwards plain http to an internal address."""
    form = whatsapp.double.make_inbound_form(RESIDENT, body="halo")
    internal = "http://10.0.0.7:8080/webhooks/whatsapp"
    response = await whatsapp.post(internal, form, {"X-Twilio-Signature": sign(WEBHOOK, form)})
    assert response.status_code == 200
    # Signed for the internal URL, it is not what Twilio would have signed: refused.
    form = whatsapp.double.make_inbound_form(RESIDENT, body="halo")
    response = await whatsapp.post(internal, form, {"X-Twilio-Signature": sign(internal, form)})
    assert response.status_code == 403


async def test_without_public_url_the_url_is_rebuilt_from_forwarded_headers(
    whatsapp: WhatsAppEnv,
) -> None:
    whatsapp.configure(public_url=None)
    form = whatsapp.double.make_inbound_form(RESIDENT, body="halo")
    public = "https://wa.binjaikota.go.id/webhooks/whatsapp"
    headers = {"X-Twilio-Signature": sign(public, form), "X-Forwarded-Proto": "https",
               "X-Forwarded-Host": "wa.binjaikota.go.id"}
    response = await whatsapp.post("http://127.0.0.1:8080/webhooks/whatsapp", form, headers)
    assert response.status_code == 200
    headers.pop("X-Forwarded-Proto")  # the scheme is then http: not what Twilio signed
    form = whatsapp.double.make_inbound_form(RESIDENT, body="halo")
    headers["X-Twilio-Signature"] = sign(public, form)
    response = await whatsapp.post("http://127.0.0.1:8080/webhooks/whatsapp", form, headers)
    assert response.status_code == 403
    assert len(whatsapp.double.messages_to(RESIDENT)) == 1


async def test_repeated_parameters_are_part_of_the_signature(whatsapp: WhatsAppEnv) -> None:
    form = whatsapp.double.make_inbound_form(RESIDENT, body="halo")
    pairs = [*form.items(), ("Tag", "b"), ("Tag", "a")]
    signature = sign(WEBHOOK, ImmutableMultiDict(pairs))
    response = await whatsapp.post(WEBHOOK, urlencode(pairs), {
        "X-Twilio-Signature": signature, "Content-Type": "application/x-www-form-urlencoded"})
    assert response.status_code == 200
    # The same signature over only one of the repeated values does not hold.
    form = whatsapp.double.make_inbound_form(RESIDENT, body="halo")
    pairs = [*form.items(), ("Tag", "b"), ("Tag", "a")]
    signature = sign(WEBHOOK, ImmutableMultiDict(pairs))
    response = await whatsapp.post(WEBHOOK, urlencode(pairs[:-1]), {
        "X-Twilio-Signature": signature, "Content-Type": "application/x-www-form-urlencoded"})
    assert response.status_code == 403
    assert len(whatsapp.double.messages_to(RESIDENT)) == 1


async def test_a_retried_message_sid_has_no_second_effect(whatsapp: WhatsAppEnv) -> None:
    form = whatsapp.double.make_inbound_form(RESIDENT, body="halo")
    for _ in range(3):
        response = await whatsapp.double.post_inbound("/webhooks/whatsapp", form)
        assert response.status_code == 200
    await whatsapp.channel.drain()
    assert len(whatsapp.double.messages_to(RESIDENT)) == 1
    assert await _count(whatsapp.box, InboundEvent) == 1


async def test_the_webhook_answers_before_the_slow_work_is_done(whatsapp: WhatsAppEnv) -> None:
    engine = whatsapp.box.engine
    process = engine.process
    release = asyncio.Event()

    async def slow(inbound: Inbound) -> Any:
        await release.wait()  # a photo download, a busy database...
        return await process(inbound)

    engine.process = slow  # type: ignore[method-assign]
    for i in range(20):
        form = whatsapp.double.make_inbound_form(f"whatsapp:+62812340000{i:02d}", body="halo")
        # Processing is held back until `release`: had the webhook waited for it, this would
        # never return. Its speed is measured in the benchmark, not asserted here.
        response = await whatsapp.double.post_inbound("/webhooks/whatsapp", form)
        assert response.status_code == 200
    assert whatsapp.double.messages == []  # nothing answered yet: the work is still waiting
    release.set()
    await whatsapp.channel.drain()
    assert len(whatsapp.double.messages) == 20


async def test_status_callbacks_move_the_message_forward_only(whatsapp: WhatsAppEnv) -> None:
    chat = whatsapp.chat()
    await chat.say("halo")
    [message] = chat.sent
    [record] = await _records(whatsapp.box)
    assert (record.provider_id, record.status, record.kind) == (message.sid, "queued", "reply")
    assert record.body_length == len(message.body)

    for status in ("sent", "delivered", "read"):
        callback = await whatsapp.double.advance(message.sid, status)
        assert callback is not None and callback.status_code == 200
        [record] = await _records(whatsapp.box)
        assert record.status == status
    await whatsapp.double.advance(message.sid, "delivered")  # late and out of order
    [record] = await _records(whatsapp.box)
    assert record.status == "read"


async def test_a_failed_message_keeps_its_error_code(whatsapp: WhatsAppEnv) -> None:
    chat = whatsapp.chat()
    await chat.say("halo")
    [message] = chat.sent
    await whatsapp.double.advance(message.sid, "undelivered", error_code=30008)
    [record] = await _records(whatsapp.box)
    assert (record.status, record.error_code) == ("undelivered", 30008)


async def test_status_for_an_unknown_message_is_accepted_and_ignored(
    whatsapp: WhatsAppEnv,
) -> None:
    form = {"MessageSid": "SM" + "9" * 32, "MessageStatus": "delivered",
            "AccountSid": WhatsAppAccount.account_sid, "To": RESIDENT}
    response = await whatsapp.post(STATUS, form, {"X-Twilio-Signature": sign(STATUS, form)})
    assert response.status_code == 200
    assert await _records(whatsapp.box) == []
    ours = STATUS + "?m=4711"
    response = await whatsapp.post(ours, form, {"X-Twilio-Signature": sign(ours, form)})
    assert response.status_code == 200


async def test_an_unsigned_status_callback_changes_nothing(whatsapp: WhatsAppEnv) -> None:
    chat = whatsapp.chat()
    await chat.say("halo")
    [message] = chat.sent
    form = {"MessageSid": message.sid, "MessageStatus": "failed", "ErrorCode": "30003"}
    response = await whatsapp.post(STATUS, form, {"X-Twilio-Signature": sign(WEBHOOK, form)})
    assert response.status_code == 403
    [record] = await _records(whatsapp.box)
    assert record.status == "queued" and record.error_code is None


async def test_free_text_refused_later_for_a_closed_window_is_recorded_not_retried(
    whatsapp: WhatsAppEnv,
) -> None:
    """Twilio accepts the message, then fails it with 63016 in a status callback that may
    arrive before the REST call has even returned the sid: the callback URL names our record."""
    chat = whatsapp.chat()
    await chat.say("halo")
    form = chat.form(body="menu")
    whatsapp.double.last_inbound.clear()  # WhatsApp lost the window; our record says open
    await chat.post(form)
    records = await _records(whatsapp.box)
    assert (records[-1].status, records[-1].error_code) == ("failed", 63016)
    assert records[-1].provider_id == whatsapp.double.messages[-1].sid
    assert len(whatsapp.double.messages_to(chat.address)) == 2  # never retried as free text


async def test_whatsapp_routes_answer_404_when_the_channel_is_off(container: Container) -> None:
    import httpx

    app = create_app(container.settings, container=container, start_channels=False)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        assert (await client.post("/webhooks/whatsapp", data={})).status_code == 404
        assert (await client.post("/webhooks/whatsapp/status", data={})).status_code == 404
