"""The served app: health, start-up without credentials, Telegram by polling or webhook."""

from __future__ import annotations

import asyncio

import httpx

from bot.app import build_container, channel_status, create_app
from bot.settings import Settings
from conftest import TELEGRAM_TOKEN, WEBHOOK_SECRET, Clock, _reset
from doubles.telegram_api import create_bot_api, serve_bot_api
from doubles.telegram_updates import callback_update, text_update


async def test_healthz_answers_once_the_database_does(settings: Settings) -> None:
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            response = await client.get("/healthz")
    assert response.status_code == 200 and response.json() == {"status": "ok"}


async def test_without_credentials_the_app_starts_and_says_how_to_switch_channels_on(
    settings: Settings,
) -> None:
    lines = channel_status(settings)
    assert any("Telegram: off" in line and "EMAS_TELEGRAM_TOKEN" in line for line in lines)
    assert any("WhatsApp: off" in line and "EMAS_TWILIO_ACCOUNT_SID" in line for line in lines)
    assert any("emas chat" in line for line in lines)
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            response = await client.post("/webhooks/telegram", json={"update_id": 1})
    assert response.status_code == 404


async def test_without_public_url_telegram_runs_by_long_polling(
    settings: Settings, clock: Clock
) -> None:
    double = create_bot_api(TELEGRAM_TOKEN, private_burst=60)
    async with serve_bot_api(double) as root:
        polled = settings.model_copy(update={"telegram_token": TELEGRAM_TOKEN,
                                             "telegram_api_url": root})
        box = build_container(polled, clock=clock)
        await _reset(box.db)
        app = create_app(polled, container=box)
        async with app.router.lifespan_context(app):
            double.push_update(text_update(700_321, "/start", language_code="en"))
            for _ in range(100):
                if double.texts_to(700_321):
                    break
                await asyncio.sleep(0.05)
            # A button pressed under long polling is answered with a request of its own.
            menu = next(c for c in reversed(double.sent) if c.reply_markup)
            data = menu.reply_markup["inline_keyboard"][0][0]["callback_data"]
            double.push_update(callback_update(700_321, data, menu.message_id or 0,
                                               language_code="en"))
            for _ in range(100):
                if double.calls("answerCallbackQuery"):
                    break
                await asyncio.sleep(0.05)
        assert double.calls("deleteWebhook")
        assert "e-Masyarakat" in "\n".join(double.texts_to(700_321))
        [answer] = double.calls("answerCallbackQuery")
        assert not answer.in_webhook_answer
        assert double.unanswered_callbacks() == []


async def test_with_public_url_the_webhook_is_registered_with_its_secret(
    settings: Settings, clock: Clock
) -> None:
    double = create_bot_api(TELEGRAM_TOKEN)
    async with serve_bot_api(double) as root:
        hooked = settings.model_copy(update={
            "telegram_token": TELEGRAM_TOKEN, "telegram_api_url": root,
            "telegram_webhook_secret": WEBHOOK_SECRET,
            "public_url": "https://emas.binjaikota.test/"})
        app = create_app(hooked, container=build_container(hooked, clock=clock))
        async with app.router.lifespan_context(app):
            pass
    assert double.webhook.url == "https://emas.binjaikota.test/webhooks/telegram"
    assert double.webhook.secret_token == WEBHOOK_SECRET


async def test_the_api_documentation_is_served_only_in_development(settings: Settings) -> None:
    for env, expected in (("development", 200), ("test", 404)):
        app = create_app(settings.model_copy(update={"env": env}), start_channels=False)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bot") as client:
            for path in ("/docs", "/openapi.json"):
                assert (await client.get(path)).status_code == expected, (env, path)
        await app.state.container.db.dispose()
