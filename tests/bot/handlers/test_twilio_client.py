"""The Twilio account the WhatsApp channel and bulk sender are built from."""

from __future__ import annotations

import pytest

from bot.handlers.twilio_client import TwilioAccount
from bot.settings import Settings


@pytest.mark.parametrize("configured", ["whatsapp:+14155238886", "+1 415 523 8886"])
def test_the_sender_is_a_whatsapp_address_however_it_was_configured(configured: str) -> None:
    settings = Settings(_env_file=None, twilio_account_sid="AC" + "5b" * 16,  # type: ignore[call-arg]
                        twilio_auth_token="token", twilio_whatsapp_from=configured)
    account = TwilioAccount.from_settings(settings)
    assert account.whatsapp_from == "whatsapp:+14155238886"
    assert account.auth == ("AC" + "5b" * 16, "token")


async def test_a_closed_connection_opens_again_on_next_use() -> None:
    account = TwilioAccount("AC" + "5b" * 16, "token", "whatsapp:+14155238886",
                            "http://127.0.0.1:9")
    connection = account.connect()
    first = connection.client()
    assert first.api.base_url == "http://127.0.0.1:9"
    await connection.aclose()
    second = connection.client()
    assert second is not first
    await connection.aclose()


async def test_a_use_after_closing_leaves_no_session_open() -> None:
    """A message still going out while the process stops is sent on a session of its own,
    closed after the request, so no aiohttp session is left for no one to close; a sender
    started again pools its connections again."""
    account = TwilioAccount("AC" + "5b" * 16, "token", "whatsapp:+14155238886",
                            "http://127.0.0.1:9")
    connection = account.connect()
    assert connection.client().http_client.session is not None  # type: ignore[attr-defined]
    await connection.aclose()
    late = connection.client()
    assert late.http_client.session is None  # type: ignore[attr-defined]
    connection.open()
    pooled = connection.client()
    assert pooled is not late
    assert pooled.http_client.session is not None  # type: ignore[attr-defined]
    await connection.aclose()
