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
from typing import Any

import aiohttp
from twilio.base.exceptions import TwilioRestException

from bot.handlers.twilio_client import (
    ERR_OPTED_OUT,
    ERR_OUTSIDE_WINDOW,
    ERR_TOO_MANY_REQUESTS,
    TwilioAccount,
    retryable,
)
from bot.handlers.whatsapp_render import BODY_LIMIT, render_body
from bot.handlers.whatsapp_send import SEND_TIMEOUT
from bot.handlers.whatsapp_status import status_url
from bot.i18n import _, use_locale
from bot.messages import Option, Reply
from bot.settings import Settings
from broadcasts.limiter import ChannelLimits, whatsapp_limits
from broadcasts.links import whatsapp_text_link
from broadcasts.sending import BulkMessage, Outcome, SendResult
from storage import repo_outbound
from storage.db import Database
from storage.models.outbound import OutboundStatus
from storage.types import utcnow

logger = logging.getLogger(__name__)

KIND = "broadcast"


class WhatsAppBulkSender:
    """The dispatcher's WhatsApp side."""

    channel = "whatsapp"
    caption_limit = BODY_LIMIT
    needs_template_window = True
    has_receipts = True

    def __init__(self, settings: Settings, db: Database, *, account: TwilioAccount,
                 clock: Callable[[], datetime] = utcnow) -> None:
        self.settings = settings
        self.db = db
        self.clock = clock
        self.limits: ChannelLimits = whatsapp_limits(settings.broadcast_whatsapp_rate)
        self.sender = account.whatsapp_from
        self.connection = account.connect()
        self._records: list[tuple[str, str, int | None, int]] = []
        self._flushing: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self.connection.open()
        self.connection.client()

    async def stop(self) -> None:
        try:
            await self._flush()
        finally:
            await self.connection.aclose()

    def join_link(self, code: str) -> str | None:
        return whatsapp_text_link(self.sender.removeprefix("whatsapp:"), code)

    def _body(self, message: BulkMessage) -> str:
        parts = [message.text] if message.text else []
        with use_locale(message.locale):
            if message.options:
                # Options to answer (a poll): numbered, as every reply's options are.
                parts = [render_body(Reply(text=message.text, options=[
                    Option(option, label) for option, label in message.options]))]
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
        params: dict[str, Any] = {"to": f"whatsapp:{message.address}", "from_": self.sender}
        if message.template_sid:
            params["content_sid"] = message.template_sid
            params["content_variables"] = json.dumps(message.template_vars, ensure_ascii=False)
        else:
            params["body"] = self._body(message)
        callback = status_url(self.settings.public_url)
        if callback:
            params["status_callback"] = callback
        try:
            async with asyncio.timeout(SEND_TIMEOUT):
                sent = await self.connection.client().messages.create_async(**params)
        except TwilioRestException as exc:
            if exc.code == ERR_OPTED_OUT:
                return SendResult(Outcome.OPTED_OUT, reason="opted_out")
            if exc.status == 429 or exc.code == ERR_TOO_MANY_REQUESTS:
                return SendResult(Outcome.RETRY_AFTER, retry_after=1.0)
            if retryable(exc):
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
