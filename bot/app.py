"""The composition root: settings → database → city → engine → channels → ASGI app and tasks."""

from __future__ import annotations

import asyncio
import gc
import hmac
import json
import logging
import signal
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse, RedirectResponse

from bot.engine import Engine, Outgoing
from bot.faq_answers import faq_jobs
from bot.flows import build_flows
from bot.flows.base import Flow
from bot.flows.faq import make_understand
from bot.i18n import get_locale
from bot.messages import Reply
from bot.notice_outbox import NoticeOutbox
from bot.outbound import Journal, Outbound
from bot.outbox import agency_jobs
from bot.photos import PhotoFetcher
from bot.poll_texts import BROADCAST_WORDS
from bot.settings import Settings
from broadcasts.campaigns import LinkFollower
from broadcasts.hub import BroadcastHub
from faq.library import FaqLibrary, category_words
from reports.sla import calendar_for
from storage.city import City
from storage.citypack import load_city_pack
from storage.db import Database
from storage.media import MediaStore
from storage.types import utcnow

if TYPE_CHECKING:
    from bot.handlers.telegram import TelegramChannel
    from bot.handlers.twilio_client import TwilioAccount
    from bot.handlers.whatsapp import WhatsAppChannel

logger = logging.getLogger(__name__)


Job = Callable[[], Awaitable[None]]

# The channels whose replies go through the durable outbox (the terminal prints at once).
DURABLE_CHANNELS = frozenset({"telegram", "whatsapp", "open311"})
# Channels whose people have no chat (a request a partner posted through Open311): what they
# would be told is written down as undeliverable, never sent.
CHATLESS_CHANNELS = frozenset({"open311"})


@dataclass
class Container:
    """Everything built once per process, handed to whoever needs it."""

    settings: Settings
    db: Database
    city: City
    media: MediaStore
    flows: dict[str, Flow]
    engine: Engine
    notice_outbox: NoticeOutbox
    outbound: Outbound
    broadcasts: BroadcastHub
    telegram: TelegramChannel | None = None
    whatsapp: WhatsAppChannel | None = None
    twilio: TwilioAccount | None = None  # when WhatsApp is on
    # Downloads of Open311 media URLs (bot.handlers.media_url; a double in tests).
    media_urls: Callable[[str], Callable[[], Awaitable[bytes]]] | None = None
    background: list[Job] = field(default_factory=list)

    @property
    def channels(self) -> dict[str, TelegramChannel | WhatsAppChannel]:
        """The chat channels that are on, by name."""
        found: dict[str, TelegramChannel | WhatsAppChannel] = {}
        if self.telegram is not None:
            found["telegram"] = self.telegram
        if self.whatsapp is not None:
            found["whatsapp"] = self.whatsapp
        return found


def build_container(settings: Settings, *, clock: Callable[[], datetime] = utcnow) -> Container:
    db = Database(settings.database_url, checkpoint_in_background=True)
    city = City(load_city_pack(settings.city_dir), reader=get_locale)
    calendar_for(city)  # loads the holiday tables now, not in the first report's transaction
    media = MediaStore(settings.media_dir, max_bytes=settings.max_photo_bytes)
    faq = FaqLibrary(settings.faq_dir, category_words(city.categories),
                     marker=settings.faq_reload_marker)
    flows = build_flows(faq=faq)
    photos = PhotoFetcher(db=db, store=media, clock=clock)
    outbound = Outbound(Journal(db, clock), chatless=CHATLESS_CHANNELS)

    async def tell_staff(channel: str, address: str, locale: str, text: str) -> None:
        """A campaign's reach summary to the staff member who sent it."""
        await outbound.deliver([Outgoing(channel=channel, to=address, reply=Reply(text=text),
                                         locale=locale)])

    hub = BroadcastHub(db=db, settings=settings, city=city, now=clock, words=BROADCAST_WORDS,
                       notify=tell_staff)
    engine = Engine(db=db, settings=settings, city=city, catalog=hub.catalog, media=media,
                    flows=flows, photos=photos, understand=make_understand(faq), clock=clock,
                    durable=DURABLE_CHANNELS)
    box = Container(settings=settings, db=db, city=city, media=media, flows=flows,
                    engine=engine, outbound=outbound, broadcasts=hub,
                    notice_outbox=NoticeOutbox(city=city, media_dir=settings.media_dir))
    box.background.append(db.checkpoint_loop)
    box.background.append(db.presence_loop)
    box.background.append(photos.run)
    box.background.extend(agency_jobs(box))
    box.background.extend(faq_jobs(box, faq))
    box.background.append(hub.run)
    return box


async def _forever(job: Job) -> None:
    """A background job for the life of the server. One that fails is logged and started
    again after a pause: in a TaskGroup a failure would otherwise cancel every other job."""
    name = getattr(job, "__name__", "job")
    while True:
        try:
            await job()
            return
        except Exception:
            logger.exception("background job %s failed; starting it again in 5 s", name)
            await asyncio.sleep(5)


def _settle_heap() -> None:
    """Move everything built at start-up out of the garbage collector's sight.

    What exists now (modules, mappers, the city pack, the FAQ, the bots) lives as long as the
    process. Left in the oldest generation, each full collection walks all of it: about 100 ms
    with the event loop standing still, every few seconds under load (bench/inbound.py
    --stalls). Frozen, a full collection walks only what was made since.
    """
    gc.collect()
    gc.freeze()


def channel_status(settings: Settings) -> list[str]:
    """Plain lines for the operator: which channels run and how to switch the others on."""
    lines = []
    if settings.telegram_enabled:
        mode = "webhook" if settings.public_url else "long polling"
        lines.append(f"Telegram: on ({mode})")
    else:
        lines.append("Telegram: off (set EMAS_TELEGRAM_TOKEN to switch it on)")
    if settings.whatsapp_enabled:
        lines.append("WhatsApp: on (Twilio webhook at /webhooks/whatsapp)")
    else:
        lines.append("WhatsApp: off (set EMAS_TWILIO_ACCOUNT_SID, EMAS_TWILIO_AUTH_TOKEN and "
                     "EMAS_TWILIO_WHATSAPP_FROM to switch it on)")
    lines.append("Try the bot without any credentials: emas chat")
    return lines


def create_app(settings: Settings, *, container: Container | None = None,
               start_channels: bool = True) -> FastAPI:
    """The ASGI app `emas serve` runs; tests pass their own settings and container."""
    box = container or build_container(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        from web.security import hide_secret_paths

        hide_secret_paths()  # after the server configured its logging
        try:
            async with asyncio.TaskGroup() as background:
                tasks: list[asyncio.Task[None]] = []
                if start_channels:
                    # The kelurahan boundaries are built now, not in a resident's first event.
                    await asyncio.to_thread(box.city.gazetteer.boundaries.build)
                    # Before the first event: the rows this process claims carry its token.
                    await box.db.hold_presence()
                    await _start_channels(box)
                    tasks = [background.create_task(_forever(job),
                                                    name=getattr(job, "__name__", "job"))
                             for job in box.background]
                    _settle_heap()
                try:
                    yield
                finally:
                    for task in tasks:
                        task.cancel()
        finally:
            # Stop taking messages, let the lanes send what is queued (what cannot go in time
            # stays in the outbox for the next start), then close the channels' clients.
            for channel in box.channels.values():
                await channel.quiesce()
            await box.engine.photos.aclose()
            await box.outbound.aclose()
            for channel in box.channels.values():
                await channel.stop()
            await box.db.dispose()

    # The API's own documentation is for developers: nowhere else does it help, and it maps
    # the surface for anyone probing the server.
    development = settings.env == "development"
    app = FastAPI(title="e-Masyarakat bot", lifespan=lifespan, redoc_url=None,
                  docs_url="/docs" if development else None,
                  openapi_url="/openapi.json" if development else None)
    app.state.container = box
    if settings.telegram_enabled and box.telegram is None:
        _attach_telegram(box)
    if settings.whatsapp_enabled and box.whatsapp is None:
        _attach_whatsapp(box)
    _attach_broadcast_senders(box)

    _attach_web(app, box)

    @app.get("/healthz")
    async def healthz() -> JSONResponse:
        try:
            await box.db.ping()
        except Exception:
            logger.exception("database not answering")
            return JSONResponse({"status": "unavailable"}, status_code=503)
        return JSONResponse({"status": "ok"})

    tracked_links = LinkFollower()

    @app.get("/l/{code}")
    async def tracked_link(code: str) -> Response:
        url = await tracked_links.follow(db=box.db, code=code, now=utcnow())
        if url is None:
            return JSONResponse({"detail": "not found"}, status_code=404)
        return RedirectResponse(url, status_code=302)

    @app.post("/webhooks/telegram")
    async def telegram_webhook(request: Request) -> Response:
        channel = box.telegram
        if channel is None:
            return JSONResponse({"detail": "telegram is not configured"}, status_code=404)
        expected = settings.telegram_webhook_secret or ""
        given = request.headers.get("X-Telegram-Bot-Api-Secret-Token", "")
        if not expected or not hmac.compare_digest(given.encode(), expected.encode()):
            return JSONResponse({"detail": "forbidden"}, status_code=403)
        try:
            data = json.loads(await request.body())
        except ValueError:
            return JSONResponse({"detail": "malformed JSON"}, status_code=400)
        if not isinstance(data, dict) or not isinstance(data.get("update_id"), int):
            return JSONResponse({"detail": "not a Telegram update"}, status_code=400)
        try:
            answer = await channel.handle_json(data)
        except (KeyError, TypeError, ValueError, OverflowError):
            return JSONResponse({"detail": "malformed update"}, status_code=400)
        except Exception as exc:
            # Answered 200 so that Telegram does not send the same update again and again
            # (a failing update would hold back every later one); one line, no payload.
            logger.warning("telegram update %s could not be handled (%s)", data["update_id"],
                           type(exc).__name__)
            return JSONResponse({})
        return JSONResponse(answer or {})

    async def to_whatsapp(request: Request, method: str) -> Response:
        """Hand a Twilio webhook to the WhatsApp channel's `method`, when it is configured."""
        channel = box.whatsapp
        if channel is None:
            return JSONResponse({"detail": "whatsapp is not configured"}, status_code=404)
        response: Response = await getattr(channel, method)(request)
        return response

    @app.post("/webhooks/whatsapp")
    async def whatsapp_webhook(request: Request) -> Response:
        return await to_whatsapp(request, "receive")

    @app.post("/webhooks/whatsapp/status")
    async def whatsapp_status(request: Request) -> Response:
        return await to_whatsapp(request, "receive_status")

    return app


def _attach_web(app: FastAPI, box: Container) -> None:
    """The staff console, signed media links, the public pages, static files and the security
    headers."""
    from fastapi.staticfiles import StaticFiles

    from bot.notice_outbox import tell_one
    from web import STATIC
    from web.console import Console
    from web.media import MediaLinks, media_router
    from web.open311 import Open311
    from web.public import PublicSite
    from web.security import SecurityHeaders

    settings = box.settings
    https = settings.base_url.startswith("https://")
    links = MediaLinks(secret_key=settings.secret_key, media_dir=settings.media_dir)
    console = Console(db=box.db, city=box.city, reports_config=settings,
                      broadcast_config=settings, catalog=box.broadcasts.catalog,
                      deliver=box.notice_outbox, tell=tell_one, media=links, media_store=box.media,
                      secret_key=settings.secret_key, base_url=settings.base_url,
                      clock=box.engine.clock)
    app.include_router(console.router())
    app.include_router(media_router(links, box.engine.clock))
    if box.media_urls is None:
        from bot.handlers.media_url import MediaUrlFetcher

        box.media_urls = MediaUrlFetcher(max_bytes=settings.max_photo_bytes).fetcher
    app.include_router(Open311(
        db=box.db, city=box.city, config=settings, deliver=box.notice_outbox,
        clock=box.engine.clock, base_url=settings.base_url,
        production=settings.env == "production", posts_per_hour=settings.open311_posts_per_hour,
        photos=box.engine.photos, fetch=box.media_urls).router())
    app.include_router(PublicSite(db=box.db, city=box.city, media=box.media,
                                  base_url=settings.base_url, clock=box.engine.clock).router())
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.add_middleware(SecurityHeaders, https=https)


def _attach_telegram(box: Container) -> None:
    from bot.handlers.telegram import TelegramChannel, build_bot

    settings = box.settings
    assert settings.telegram_token
    bot = build_bot(settings.telegram_token, settings.telegram_api_url)
    # Replies take their slots from the broadcasts' limiter, ahead of broadcasts.
    box.telegram = TelegramChannel(bot=bot, engine=box.engine, outbound=box.outbound,
                                   bot_username=settings.telegram_bot_username,
                                   limiter=box.broadcasts.limiter)


def _attach_broadcast_senders(box: Container) -> None:
    """The channels' bulk senders, for the dispatcher (once per process)."""
    settings = box.settings
    hub = box.broadcasts
    if settings.telegram_enabled and "telegram" not in hub.senders:
        from bot.handlers.telegram_bulk import TelegramBulkSender, bulk_bot

        assert settings.telegram_token
        hub.register_sender(TelegramBulkSender(
            bulk_bot(settings.telegram_token, settings.telegram_api_url),
            per_second=settings.broadcast_telegram_rate,
            bot_username=settings.telegram_bot_username))
    if settings.whatsapp_enabled and "whatsapp" not in hub.senders:
        from bot.handlers.whatsapp_bulk import WhatsAppBulkSender

        hub.register_sender(WhatsAppBulkSender(settings, box.db, account=_twilio_account(box),
                                               clock=box.engine.clock))


async def run_dispatcher(settings: Settings) -> None:
    """`emas dispatch`: broadcasting alone, without webhooks (scale-out, or a second
    dispatcher that takes over when one dies)."""
    box = build_container(settings)
    _attach_broadcast_senders(box)
    work = asyncio.current_task()
    loop = asyncio.get_running_loop()
    stopping: list[int] = []

    def stop(signum: int) -> None:
        # SIGTERM (a service manager, a deploy) or Ctrl-C: finish the messages on the wire,
        # give back the claims on the rest, and end with exit code 0.
        if not stopping and work is not None:
            stopping.append(signum)
            logger.warning("dispatcher stopping (%s)", signal.Signals(signum).name)
            work.cancel()

    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop, signum)
    try:
        # On PostgreSQL the presence lock tells the others at once when this process dies;
        # on SQLite this process writes too, so it checkpoints the log as `emas serve` does.
        # (A TaskGroup waits for all to finish their shutdown when cancelled.)
        await box.db.hold_presence()
        async with asyncio.TaskGroup() as group:
            group.create_task(box.db.presence_loop(), name="presence")
            group.create_task(box.broadcasts.run(), name="dispatcher")
            group.create_task(box.db.checkpoint_loop(), name="checkpoints")
    except asyncio.CancelledError:
        if not stopping or work is None:
            raise
        work.uncancel()
    finally:
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(signum)
        await box.db.dispose()


def _twilio_account(box: Container) -> TwilioAccount:
    """The Twilio account, built once; the WhatsApp channel and bulk sender each open their own
    client of it."""
    if box.twilio is None:
        from bot.handlers.twilio_client import TwilioAccount

        box.twilio = TwilioAccount.from_settings(box.settings)
    return box.twilio


def _attach_whatsapp(box: Container) -> None:
    from bot.handlers.whatsapp import WhatsAppChannel

    box.whatsapp = WhatsAppChannel(
        engine=box.engine, outbound=box.outbound, settings=box.settings, db=box.db,
        account=_twilio_account(box), clock=box.engine.clock,
    )


async def _start_channels(box: Container) -> None:
    settings = box.settings
    telegram = box.telegram
    if telegram is not None:
        await telegram.start()
        if settings.public_url:
            assert settings.telegram_webhook_secret
            await telegram.set_webhook(
                settings.public_url.rstrip("/") + "/webhooks/telegram",
                settings.telegram_webhook_secret,
            )
        else:
            await telegram.start_polling()
