"""Fixtures for the WhatsApp channel: the app, its channel, and the Twilio double on loopback."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from bot.app import Container, build_container, create_app
from bot.handlers.whatsapp import WhatsAppChannel
from bot.settings import Settings
from chat import WhatsAppChat
from doubles.twilio_api import TwilioDouble, asgi_deliver, create_twilio_api, serve_twilio_api

__all__ = ["WhatsAppAccount", "WhatsAppEnv", "twilio_options", "whatsapp", "whatsapp_chat"]


class WhatsAppAccount:
    """The fake account the tests use."""

    account_sid = "AC" + "5b" * 16
    auth_token = "binjai-whatsapp-auth-token"
    sender = "whatsapp:+14155238886"
    public_url = "https://emas.binjaikota.test"


def number_for(chat_id: int, language_code: str = "id") -> str:
    """A resident's number: Indonesian for "id" speakers, British for English ones (the channel
    guesses the language from the country code)."""
    if language_code == "id":
        return f"+62812{chat_id % 10**8:08d}"
    return f"+447700{chat_id % 10**6:06d}"


class WhatsAppEnv:
    """The app with its WhatsApp channel; Twilio (the double) posts webhooks straight to it."""

    def __init__(self, box: Container, double: TwilioDouble, app: Any) -> None:
        self.box = box
        self.double = double
        self.app = app

    @property
    def channel(self) -> WhatsAppChannel:
        channel: WhatsAppChannel = self.box.channels["whatsapp"]
        return channel

    @property
    def settings(self) -> Settings:
        return self.channel.settings

    def configure(self, **updates: Any) -> None:
        """Change the channel's settings (templates, say) for the rest of the test."""
        settings = self.channel.settings.model_copy(update=updates)
        self.channel.settings = self.channel.sender.settings = settings

    def chat(self, chat_id: int = 700_001, language_code: str = "id",
             profile_name: str = "Budi") -> WhatsAppChat:
        return WhatsAppChat(self.double, self.channel, number_for(chat_id, language_code),
                            profile_name=profile_name)

    async def post(self, url: str, form: Any, headers: dict[str, str]) -> httpx.Response:
        """Post a raw form to the app (for signature tests), then let processing finish."""
        transport = httpx.ASGITransport(app=self.app)
        async with httpx.AsyncClient(transport=transport) as client:
            if isinstance(form, str):
                response = await client.post(url, content=form, headers=headers)
            else:
                response = await client.post(url, data=form, headers=headers)
        await self.channel.drain()
        await self.double.settle()
        return response


@pytest.fixture
def twilio_options() -> dict[str, Any]:
    """Twilio double options; a test module may override this fixture (e.g. strict windows)."""
    return {}


@pytest.fixture
async def whatsapp(
    settings: Settings, clock: Any, twilio_options: dict[str, Any]
) -> AsyncIterator[WhatsAppEnv]:
    from conftest import _reset  # conftest imports this module; import it back lazily

    double = create_twilio_api(
        WhatsAppAccount.account_sid, WhatsAppAccount.auth_token, public_webhook_base=WhatsAppAccount.public_url,
        whatsapp_number=WhatsAppAccount.sender, now=clock, **twilio_options,
    )
    async with serve_twilio_api(double) as root:
        wa_settings = settings.model_copy(update={
            "twilio_account_sid": WhatsAppAccount.account_sid,
            "twilio_auth_token": WhatsAppAccount.auth_token,
            "twilio_whatsapp_from": WhatsAppAccount.sender,
            "twilio_api_url": root,
            "public_url": WhatsAppAccount.public_url,
        })
        box = build_container(wa_settings, clock=clock)
        await _reset(box.db)
        app = create_app(wa_settings, container=box, start_channels=False)
        double.deliver = asgi_deliver(app)
        env = WhatsAppEnv(box, double, app)
        env.channel.sender.retry_delays = (0.01, 0.02, 0.04)
        try:
            yield env
            await env.channel.drain()
            await double.settle()
        finally:
            await env.channel.quiesce()
            await box.engine.photos.aclose()
            await box.outbound.aclose()
            await env.channel.stop()
            await box.db.dispose()


@pytest.fixture
def whatsapp_chat(whatsapp: WhatsAppEnv) -> WhatsAppChat:
    """A resident with an Indonesian number, on WhatsApp."""
    return whatsapp.chat()
