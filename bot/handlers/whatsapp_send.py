"""Replies and notifications out through Twilio: the 24-hour window, templates, messages that
wait for the resident's next message, opt-outs, and bounded retries."""

from __future__ import annotations

import asyncio
import json
import logging
import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

import aiohttp
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception, stop_after_attempt
from twilio.base.exceptions import TwilioRestException

from bot.engine import Outgoing
from bot.handlers.twilio_client import (
    ERR_OPTED_OUT,
    ERR_OUTSIDE_WINDOW,
    TwilioConnection,
    retryable,
    retryable_code,
)
from bot.handlers.whatsapp_render import (
    interactive_template,
    receipt_note,
    render_body,
    split_body,
)
from bot.handlers.whatsapp_status import outbound_status, status_url
from bot.i18n import use_locale
from bot.messages import Channel, Reply, merge_replies
from bot.settings import Settings
from storage import repo, repo_outbound
from storage.db import Database
from storage.models.outbound import OutboundStatus
from storage.phone import mask, to_e164

logger = logging.getLogger(__name__)

WINDOW = timedelta(hours=24)
# Our clock and WhatsApp's may differ a little; do not send free text in the window's last minutes.
WINDOW_MARGIN = timedelta(minutes=5)
RETRY_DELAYS: tuple[float, ...] = (1.0, 2.0, 4.0)
SEND_TIMEOUT = 20.0

# Message kinds (Reply.kind) this adapter knows by name.
RECEIPT_KIND = "report_receipt"  # the receipt of a new report: a reply, with a note on updates
STATUS_KIND = "report_status"  # a report's status change: a notification


class Outcome(StrEnum):
    SENT = "sent"
    OPTED_OUT = "opted_out"
    OUTSIDE_WINDOW = "outside_window"
    FAILED = "failed"


@dataclass(slots=True)
class Recipient:
    user_key: str
    identity_id: int | None
    opted_out: bool
    last_inbound_at: datetime | None


class Windows:
    """Whether free text may reach a resident: within 24 hours of their last message, unless
    WhatsApp has said the window is closed (63016) since."""

    def __init__(self, clock: Callable[[], datetime]) -> None:
        self.clock = clock
        self._closed: dict[str, datetime] = {}

    def is_open(self, recipient: Recipient) -> bool:
        last = recipient.last_inbound_at
        if last is None or self.clock() - last >= WINDOW - WINDOW_MARGIN:
            return False
        closed = self._closed.get(recipient.user_key)
        if closed is not None and last <= closed:
            return False  # WhatsApp said 63016 since this message: believe it
        self._closed.pop(recipient.user_key, None)
        return True

    def close(self, user_key: str) -> None:
        self._closed[user_key] = self.clock()


class WhatsAppSender:
    """Sends the engine's replies and notifications to residents through the REST API."""

    def __init__(
        self,
        *,
        connection: TwilioConnection,
        settings: Settings,
        db: Database,
        windows: Windows,
        clock: Callable[[], datetime],
        retry_delays: Sequence[float] = RETRY_DELAYS,
    ) -> None:
        self.connection = connection
        self.settings = settings
        self.db = db
        self.windows = windows
        self.clock = clock
        self.retry_delays = tuple(retry_delays)

    async def aclose(self) -> None:
        await self.connection.aclose()

    async def recipient(self, user_key: str) -> Recipient:
        async with self.db.reader() as session:
            identity = await repo.get_identity(
                session=session, channel=Channel.WHATSAPP, user_key=user_key)
        if identity is None:
            return Recipient(user_key, None, False, None)
        return Recipient(user_key, identity.id, identity.opted_out, identity.last_inbound_at)

    async def send_items(self, outgoing: list[Outgoing], *, direct: bool,
                         known: Recipient | None = None) -> None:
        """Send to each target in turn. `direct`: answers to the resident's own message (no
        window, template or opt-out rules). `known`: a recipient already looked up."""
        by_target: dict[str, list[Outgoing]] = {}
        for item in outgoing:
            by_target.setdefault(item.to, []).append(item)
        for target, items in by_target.items():
            user_key = to_e164(target)
            if user_key is None:
                logger.warning("whatsapp message to an invalid number dropped")
                continue
            if known is not None and known.user_key == user_key:
                recipient = known
            else:
                recipient = await self.recipient(user_key)
            locale = items[0].locale
            with use_locale(locale):
                replies = self._prepare([i.reply for i in items], direct=direct)
                for reply in replies:
                    outcome = await self._send_reply(recipient, reply, locale=locale,
                                                     direct=direct)
                    if outcome == Outcome.OPTED_OUT:
                        break

    def _prepare(self, replies: list[Reply], *, direct: bool) -> list[Reply]:
        for reply in replies:
            if reply.kind == RECEIPT_KIND and not self._has_template(STATUS_KIND):
                reply.text = f"{reply.text}\n\n{receipt_note()}"
        # One event's notes become one message; notifications keep their kind and template.
        return merge_replies(replies) if direct else replies

    def _template_for(self, kind: str, locale: str | None) -> str | None:
        templates = self.settings.twilio_templates
        return templates.get(f"{kind}:{locale}") or templates.get(kind)

    def _has_template(self, kind: str) -> bool:
        return any(key == kind or key.startswith(kind + ":")
                   for key in self.settings.twilio_templates)

    async def _send_reply(self, recipient: Recipient, reply: Reply, *, locale: str,
                          direct: bool) -> Outcome:
        kind = reply.kind
        if reply.media_paths:
            logger.info("whatsapp cannot attach local files; sending the text only")
        if not direct:
            if recipient.opted_out:
                await self._record(recipient, kind, OutboundStatus.SKIPPED, len(reply.text))
                return Outcome.OPTED_OUT
            if not self.windows.is_open(recipient):
                template = self._template_for(kind, locale)
                if template is not None:
                    return await self._send_one(recipient, kind, content_sid=template,
                                                variables=reply.template_vars)
                await self._hold(recipient, kind, split_body(render_body(reply)))
                return Outcome.OUTSIDE_WINDOW
        interactive = interactive_template(reply, self.settings)
        if interactive is not None:
            sid, variables = interactive
            return await self._send_one(recipient, kind, content_sid=sid, variables=variables,
                                        fallback=render_body(reply))
        chunks = split_body(render_body(reply))
        for index, chunk in enumerate(chunks):
            outcome = await self._send_one(recipient, kind, body=chunk)
            if outcome == Outcome.OUTSIDE_WINDOW:
                template = self._template_for(kind, locale)
                if template is not None and index == 0:
                    return await self._send_one(recipient, kind, content_sid=template,
                                                variables=reply.template_vars)
                await self._hold(recipient, kind, chunks[index:])
                return outcome
            if outcome == Outcome.OPTED_OUT:
                return outcome
        return Outcome.SENT

    async def _record(self, recipient: Recipient, kind: str, status: str, length: int,
                      error_code: int | None = None) -> int:
        async with self.db.session() as session:
            row = await repo_outbound.create_outbound(
                session=session, channel=Channel.WHATSAPP, user_key=recipient.user_key,
                identity_id=recipient.identity_id, kind=kind, status=status,
                body_length=length, error_code=error_code, now=self.clock())
        return row.id or 0

    async def _hold(self, recipient: Recipient, kind: str, chunks: list[str]) -> None:
        """Keep messages until the resident next writes (no template for this kind)."""
        if recipient.identity_id is None:
            await self._record(recipient, kind, OutboundStatus.SKIPPED, sum(map(len, chunks)))
            logger.info("no window and no template for %s to an unknown number; dropped", kind)
            return
        async with self.db.session() as session:
            for chunk in chunks:
                row = await repo_outbound.create_outbound(
                    session=session, channel=Channel.WHATSAPP, user_key=recipient.user_key,
                    identity_id=recipient.identity_id, kind=kind,
                    status=OutboundStatus.PENDING_WINDOW, body_length=len(chunk),
                    now=self.clock())
                await repo_outbound.add_pending(
                    session=session, outbound_id=row.id or 0,
                    identity_id=recipient.identity_id, text=chunk, now=self.clock())
        logger.info("%s for %s waits for the next message (%d part(s))", kind,
                    mask(recipient.user_key), len(chunks))

    async def flush_pending(self, recipient: Recipient) -> int:
        """Send what waited for this resident's window, oldest first; returns how many went."""
        if recipient.identity_id is None:
            return 0
        async with self.db.reader() as session:
            waiting = [(p.text, o.id or 0, o.kind) for p, o in await repo_outbound.list_pending(
                session=session, identity_id=recipient.identity_id)]
        sent = 0
        for text, outbound_id, kind in waiting:
            async with self.db.session() as session:
                if recipient.opted_out:
                    await repo_outbound.set_outbound_status(
                        session=session, outbound_id=outbound_id,
                        status=OutboundStatus.SKIPPED, now=self.clock())
                    await repo_outbound.delete_pending(session=session, outbound_id=outbound_id)
                    continue
                if not await repo_outbound.claim_pending(session=session,
                                                         outbound_id=outbound_id,
                                                         now=self.clock()):
                    continue  # another worker sends it
            outcome = await self._send_one(recipient, kind, body=text, outbound_id=outbound_id)
            if outcome == Outcome.SENT:
                sent += 1
            elif outcome == Outcome.OPTED_OUT:
                break
        return sent

    async def _send_one(
        self,
        recipient: Recipient,
        kind: str,
        *,
        body: str | None = None,
        content_sid: str | None = None,
        variables: Mapping[str, str] | None = None,
        outbound_id: int | None = None,
        fallback: str | None = None,
    ) -> Outcome:
        """Create one message through the REST API and record what became of it.

        `outbound_id` names a waiting message (its text is kept until it has gone)."""
        held = outbound_id is not None
        if outbound_id is None:
            outbound_id = await self._record(recipient, kind, OutboundStatus.QUEUED,
                                             len(body or ""))
        params: dict[str, Any] = {"to": f"whatsapp:{recipient.user_key}",
                                  "from_": self.connection.account.whatsapp_from}
        if content_sid is not None:
            params["content_sid"] = content_sid
            params["content_variables"] = json.dumps(dict(variables or {}), ensure_ascii=False)
        else:
            params["body"] = body or ""
        callback = status_url(self.settings.public_url, outbound_id)
        if callback:
            params["status_callback"] = callback
        message, error = await self._create(params)
        if message is None:
            return await self._failed(recipient, kind, outbound_id, error, held=held,
                                      content_sid=content_sid, fallback=fallback)
        status = outbound_status(message.status) or OutboundStatus.QUEUED
        async with self.db.session() as session:
            await repo_outbound.advance_outbound(
                session=session, status=status, outbound_id=outbound_id,
                provider_id=message.sid, now=self.clock())
            if held:
                await repo_outbound.delete_pending(session=session, outbound_id=outbound_id)
        return Outcome.SENT

    async def _create(self, params: dict[str, Any]) -> tuple[Any, TwilioRestException | None]:
        """(message, None) once Twilio accepts it; else (None, Twilio's last error, or None when
        it never answered). Throttling, server errors and no answer are tried again after each
        of ``retry_delays``; any other error at once ends the attempts."""
        delays = self.retry_delays

        def transient(exc: BaseException) -> bool:
            if isinstance(exc, TwilioRestException):
                return retryable(exc)
            return isinstance(exc, aiohttp.ClientError | TimeoutError)

        def wait(state: RetryCallState) -> float:
            # Jitter spreads the retries of many senders hit by the same throttling.
            # (tenacity asks for the wait before it checks the attempts left.)
            if state.attempt_number > len(delays):
                return 0.0
            return delays[state.attempt_number - 1] * random.uniform(0.8, 1.2)

        def unreachable(state: RetryCallState) -> None:
            exc = state.outcome.exception() if state.outcome else None
            if not isinstance(exc, TwilioRestException):
                logger.warning("twilio unreachable (%s); attempt %d", type(exc).__name__,
                               state.attempt_number)

        try:
            async for attempt in AsyncRetrying(stop=stop_after_attempt(len(delays) + 1),
                                               wait=wait, retry=retry_if_exception(transient),
                                               before_sleep=unreachable, reraise=True):
                with attempt:
                    async with asyncio.timeout(SEND_TIMEOUT):
                        message = await self.connection.client().messages.create_async(**params)
                    return message, None
        except TwilioRestException as exc:
            return None, exc
        except (aiohttp.ClientError, TimeoutError) as exc:
            logger.warning("twilio unreachable (%s); giving up", type(exc).__name__)
        return None, None

    async def _failed(self, recipient: Recipient, kind: str, outbound_id: int,
                      error: TwilioRestException | None, *, held: bool,
                      content_sid: str | None, fallback: str | None) -> Outcome:
        code = error.code if error is not None else None
        transient = error is None or retryable(error)
        async with self.db.session() as session:
            if held and transient:
                # Keep the waiting text; the resident's next message tries again.
                await repo_outbound.set_outbound_status(
                    session=session, outbound_id=outbound_id,
                    status=OutboundStatus.PENDING_WINDOW, error_code=code, now=self.clock())
            else:
                await repo_outbound.set_outbound_status(
                    session=session, outbound_id=outbound_id, status=OutboundStatus.FAILED,
                    error_code=code, now=self.clock())
                if held:
                    await repo_outbound.delete_pending(session=session, outbound_id=outbound_id)
            if code == ERR_OPTED_OUT and recipient.identity_id is not None:
                await repo_outbound.set_opted_out(session=session,
                                                  identity_id=recipient.identity_id,
                                                  opted_out=True)
        if code == ERR_OPTED_OUT:
            recipient.opted_out = True
            logger.info("whatsapp number %s has opted out (21610); no more messages",
                        mask(recipient.user_key))
            return Outcome.OPTED_OUT
        if code == ERR_OUTSIDE_WINDOW:
            self.windows.close(recipient.user_key)
            recipient.last_inbound_at = None
            return Outcome.OUTSIDE_WINDOW
        if content_sid is not None and fallback is not None and code is not None \
                and not retryable_code(code):
            # An interactive template refused (e.g. removed): fall back to a numbered list.
            logger.warning("interactive template %s refused (%s); sending plain text",
                           content_sid, code)
            outcome = Outcome.SENT
            for chunk in split_body(fallback):
                outcome = await self._send_one(recipient, kind, body=chunk)
                if outcome != Outcome.SENT:
                    break
            return outcome
        logger.error("whatsapp message to %s failed: %s", mask(recipient.user_key),
                     code if code is not None else "no answer")
        return Outcome.FAILED
