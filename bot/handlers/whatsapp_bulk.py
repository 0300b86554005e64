"""Broadcasts on WhatsApp through Twilio: one message per call, paced by the dispatcher.

Outside a resident's 24-hour window the dispatcher hands over the campaign's Content template
(or skips the resident). Each message is recorded as an OutboundMessage with its Twilio sid, so
the status callbacks the WhatsApp channel receives (delivered, read) count in the reach.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable
from datetime import datetime

import aiohttp
from twilio.base.exceptions import TwilioRestException
from twilio.rest import Client

from bot.handlers.twilio_client import HeaderAuthAsyncHttpClient, build_client
from bot.handlers.whatsapp import (
    BODY_LIMIT,
    ERR_OPTED_OUT,
    ERR_OUTSIDE_WINDOW,
    _retryable,
)
from bot.i18n import _, use_locale
from bot.settings import Settings
from broadcasts.limiter import ChannelLimits, whatsapp_limits
from broadcasts.links import whatsapp_text_link
from broadcasts.sending import BulkMessage, Outcome, SendResult
from storage import repo_outbound
from storage.db import Database
from storage.models.outbound import OutboundStatus
from storage.phone import to_e164
from storage.types import utcnow

logger = logging.getLogger(__name__)

SEND_TIMEOUT = 20.0
KIND = "broadcast"


class WhatsAppBulkSender:
    """The dispatcher's WhatsApp side."""

    channel = "whatsapp"
    caption_limit = BODY_LIMIT
    needs_template_window = True
    has_receipts = True

    def __init__(self, settings: Settings, db: Database, *,
                 clock: Callable[[], datetime] = utcnow) -> None:
        assert settings.twilio_account_sid and settings.twilio_auth_token
        assert settings.twilio_whatsapp_from
        self.settings = settings
        self.db = db
        self.clock = clock
        self.limits: ChannelLimits = whatsapp_limits(settings.broadcast_whatsapp_rate)
        sender = settings.twilio_whatsapp_from
        self.sender = sender if sender.startswith("whatsapp:") \
            else "whatsapp:" + (to_e164(sender) or sender)
        self._http: HeaderAuthAsyncHttpClient | None = None
        self._client: Client | None = None
        self._records: list[tuple[str, str, int | None, int]] = []
        self._flushing: asyncio.Task[None] | None = None

    async def start(self) -> None:
        if self._client is None:
            settings = self.settings
            assert settings.twilio_account_sid and settings.twilio_auth_token
            self._http = HeaderAuthAsyncHttpClient()
            self._client = build_client(settings.twilio_account_sid, settings.twilio_auth_token,
                                        settings.twilio_api_url, self._http)

    async def stop(self) -> None:
        await self._flush()
        if self._http is not None:
            await self._http.close()
            self._http = self._client = None

    def join_link(self, code: str) -> str | None:
        return whatsapp_text_link(self.sender.removeprefix("whatsapp:"), code)

    def _body(self, message: BulkMessage) -> str:
        parts = [message.text] if message.text else []
        with use_locale(message.locale):
            if message.link:
                parts.append(f"{message.link[0]}: {message.link[1]}")
            if message.button and message.delivery_id is not None:
                # No reply buttons outside templates: the relay answers with a short code.
                parts.append(_("When you have forwarded it, reply: FW {id}").format(
                    id=message.delivery_id))
            if message.image_path and not message.text:
                parts.append(_("(A picture goes with this announcement on Telegram.)"))
        return "\n\n".join(parts)[:BODY_LIMIT]

    async def send(self, message: BulkMessage) -> SendResult:
        await self.start()
        assert self._client is not None
        params: dict[str, object] = {"to": f"whatsapp:{message.address}", "from_": self.sender}
        if message.template_sid:
            params["content_sid"] = message.template_sid
            params["content_variables"] = json.dumps(message.template_vars, ensure_ascii=False)
        else:
            params["body"] = self._body(message)
        if self.settings.public_url:
            params["status_callback"] = (self.settings.public_url.rstrip("/")
                                         + "/webhooks/whatsapp/status")
        try:
            async with asyncio.timeout(SEND_TIMEOUT):
                sent = await self._client.messages.create_async(**params)  # type: ignore[arg-type]
        except TwilioRestException as exc:
            if exc.code == ERR_OPTED_OUT:
                return SendResult(Outcome.OPTED_OUT, reason="opted_out")
            if exc.status == 429 or exc.code == 20429:
                return SendResult(Outcome.RETRY_AFTER, retry_after=1.0)
            if _retryable(exc):
                return SendResult(Outcome.RETRY, reason="server_error")
            if exc.code == ERR_OUTSIDE_WINDOW:
                return SendResult(Outcome.FAILED, reason="outside_window")
            return SendResult(Outcome.FAILED, reason="bad_request")
        except (aiohttp.ClientError, TimeoutError):
            return SendResult(Outcome.RETRY, reason="timeout")
        self._record(message, sent.sid or "")
        return SendResult.ok(sent.sid)

    def _record(self, message: BulkMessage, sid: str) -> None:
        """Keep the sid as an OutboundMessage (in small batches) for the status callbacks."""
        self._records.append((message.address, sid, message.delivery_id, len(message.text)))
        if self._flushing is None or self._flushing.done():
            self._flushing = asyncio.get_running_loop().create_task(self._flush_soon())

    async def _flush_soon(self) -> None:
        await asyncio.sleep(0.05)
        await self._flush()

    async def _flush(self) -> None:
        records, self._records = self._records, []
        if not records:
            return
        try:
            async with self.db.session() as session:
                for address, sid, delivery_id, length in records:
                    await repo_outbound.create_outbound(
                        session=session, channel="whatsapp", user_key=address, identity_id=None,
                        kind=KIND, status=OutboundStatus.SENT, body_length=length,
                        delivery_id=delivery_id, provider_id=sid or None, now=self.clock())
        except Exception:
            logger.exception("could not record %d whatsapp broadcast messages", len(records))
