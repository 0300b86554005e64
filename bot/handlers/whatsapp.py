"""The WhatsApp channel through Twilio: takes webhooks, runs them through the engine, replies.

Inbound messages are answered with an empty TwiML ``<Response/>`` at once and processed in a
background task; replies go out through the REST API. TwiML replies would tie the resident's
answer to the webhook's 15-second budget (a photo download, the database, several messages)
and give no message sid to follow with status callbacks.

The work is split by job, so the flows never see WhatsApp's rules:
- ``whatsapp_parse``: Twilio's form → Inbound;
- ``whatsapp_render``: Reply → bodies of at most 1,600 characters, numbered lists, templates;
- ``whatsapp_send``: the 24-hour window, templates, waiting messages, opt-outs (21610), closed
  windows (63016), and retries of throttling and server errors;
- ``whatsapp_media``: downloads of what residents send;
- ``whatsapp_status``: status callbacks.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from twilio.request_validator import RequestValidator

from bot.engine import Engine, Outgoing, apology
from bot.handlers.twilio_client import TwilioAccount
from bot.handlers.whatsapp_media import WhatsAppMedia
from bot.handlers.whatsapp_parse import parse_form, public_request_url
from bot.handlers.whatsapp_send import WhatsAppSender, Windows
from bot.handlers.whatsapp_status import record_status
from bot.messages import Channel, Inbound
from bot.outbound import Outbound
from bot.settings import Settings
from storage.db import Database
from storage.phone import to_e164
from storage.types import utcnow

logger = logging.getLogger(__name__)

DRAIN_TIMEOUT = 10.0
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response/>'


class WhatsAppChannel:
    """Receives Twilio webhooks, runs them through the engine, sends replies through Twilio."""

    def __init__(
        self,
        *,
        engine: Engine,
        outbound: Outbound,
        settings: Settings,
        db: Database,
        account: TwilioAccount,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.engine = engine
        self.outbound = outbound
        self.db = db
        self.clock = clock
        self.own_number = to_e164(settings.twilio_whatsapp_from)
        self.windows = Windows(clock)
        self.sender = WhatsAppSender(connection=account.connect(), settings=settings, db=db,
                                     windows=self.windows, clock=clock)
        self.media = WhatsAppMedia(account, max_bytes=settings.max_photo_bytes)
        self.settings = settings  # the public URL, for checking signatures
        self._validator = RequestValidator(account.auth_token)
        self._tasks: set[asyncio.Task[None]] = set()
        outbound.register(Channel.WHATSAPP, self)
        engine.photos.register(Channel.WHATSAPP, lambda ref, _size: self.media.fetcher(ref))

    # -- lifecycle -----------------------------------------------------------------------

    async def start(self) -> None:
        """Nothing to register: Twilio's webhook URLs are set in the Twilio console."""

    async def drain(self, timeout: float | None = None) -> None:  # noqa: ASYNC109
        """Wait until every inbound message taken so far has been processed and answered."""
        async with asyncio.timeout(timeout):
            while self._tasks:
                await asyncio.gather(*list(self._tasks), return_exceptions=True)
            await self.outbound.drain()

    async def quiesce(self) -> None:
        """At shutdown: let the messages taken so far be processed (their replies are in the
        outbox then)."""
        try:
            async with asyncio.timeout(DRAIN_TIMEOUT):
                while self._tasks:
                    await asyncio.gather(*list(self._tasks), return_exceptions=True)
        except TimeoutError:
            logger.warning("%d whatsapp message(s) still processing at shutdown; cancelled",
                           len(self._tasks))
            for task in list(self._tasks):
                task.cancel()
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def stop(self) -> None:
        # The clients close whatever quiescing meets (last pushed, first closed).
        async with contextlib.AsyncExitStack() as closing:
            closing.push_async_callback(self.media.aclose)
            closing.push_async_callback(self.sender.aclose)
            await self.quiesce()

    # -- webhooks ------------------------------------------------------------------------

    async def _verified_form(self, request: Request) -> Any | None:
        form = await request.form()
        url = public_request_url(request, self.settings.public_url)
        signature = request.headers.get("X-Twilio-Signature", "")
        if not (signature and self._validator.validate(url, form, signature)):
            logger.warning("whatsapp webhook with a missing or invalid signature refused")
            return None
        return form

    async def receive(self, request: Request) -> Response:
        """POST /webhooks/whatsapp: check, parse, and answer at once; the work runs after."""
        form = await self._verified_form(request)
        if form is None:
            return Response("forbidden", status_code=403, media_type="text/plain")
        fields = {key: str(value) for key, value in form.items()}
        inbound = parse_form(fields, fetcher=self.media.fetcher, own_number=self.own_number)
        if inbound is None:
            logger.warning("whatsapp webhook ignored: not a message from a WhatsApp resident")
        else:
            self._spawn(self.process(inbound))
        return Response(EMPTY_TWIML, media_type="text/xml")

    async def receive_status(self, request: Request) -> Response:
        """POST /webhooks/whatsapp/status: move the stored message's status forward."""
        form = await self._verified_form(request)
        if form is None:
            return Response("forbidden", status_code=403, media_type="text/plain")
        await record_status(form, request.query_params.get("m"), db=self.db, now=self.clock(),
                            window_closed=self.windows.close)
        return Response("", media_type="text/plain")

    def _spawn(self, job: Awaitable[None]) -> None:
        async def run() -> None:
            try:
                await job
            except Exception:
                logger.exception("whatsapp background work failed")

        task = asyncio.get_running_loop().create_task(run(), name="whatsapp-inbound")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # -- processing ----------------------------------------------------------------------

    async def process(self, inbound: Inbound) -> None:
        """Run one message through the engine and queue what it answers in the lanes."""
        try:
            outgoing = await self.engine.process(inbound)
        except Exception:
            logger.exception("failed to process a whatsapp message")
            outgoing = [apology(inbound)]
        self.outbound.submit(outgoing, source=Channel.WHATSAPP)

    async def deliver(self, outgoing: list[Outgoing], *, edit_message: Any = None) -> None:
        """One resident's messages, in order, from their lane. Answers to the resident's own
        message go first what waited for their window, and need no template; notifications
        follow the window, templates, waiting and opt-out rules."""
        direct = [item for item in outgoing if item.direct]
        if direct:
            recipient = await self.sender.recipient(direct[0].to)
            await self.sender.flush_pending(recipient)
            await self.sender.send_items(direct, direct=True, known=recipient)
        others = [item for item in outgoing if not item.direct]
        if others:
            await self.sender.send_items(others, direct=False)
