"""The WhatsApp channel through Twilio: verify and parse webhooks, render and send replies.

Inbound messages are answered with an empty TwiML ``<Response/>`` at once and processed in a
background task; replies go out through the REST API. TwiML replies would tie the resident's
answer to the webhook's 15-second budget (a photo download, the database, several messages)
and give no message sid to follow with status callbacks.

WhatsApp's rules, kept here so the flows never see them:
- free text only within 24 hours of the resident's last message; outside it a notification
  needs an approved Content template, else it waits (``pending_window``) and goes out when the
  resident next writes;
- bodies of at most 1,600 characters; options become a numbered list the resident answers with
  a number or the option's text (quick-reply or list-picker templates where configured);
- error 21610 means the number opted out, 63016 that the window is closed; 20429 and 5xx are
  retried with backoff, a bounded number of times.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import httpx
from starlette.requests import Request
from starlette.responses import Response
from twilio.base.exceptions import TwilioRestException
from twilio.request_validator import RequestValidator
from twilio.rest import Client

from bot.engine import Engine, Outgoing
from bot.handlers.twilio_client import HeaderAuthAsyncHttpClient, build_client, same_origin
from bot.i18n import _, use_locale
from bot.locks import KeyedLocks
from bot.messages import (
    Channel,
    Inbound,
    Kind,
    Location,
    Media,
    Reply,
    merge_replies,
    split_text,
)
from bot.outbound import Outbound
from bot.settings import Settings
from storage import repo, repo_outbound
from storage.db import Database
from storage.media import MediaRejected
from storage.models.outbound import OutboundStatus
from storage.phone import country_code, mask, to_e164
from storage.types import utcnow

logger = logging.getLogger(__name__)

BODY_LIMIT = 1600
INTERACTIVE_BODY_LIMIT = 1024
QUICK_REPLY_MAX, QUICK_REPLY_TITLE = 3, 20
LIST_PICKER_MAX, LIST_ITEM_TITLE = 10, 24
WINDOW = timedelta(hours=24)
# Our clock and WhatsApp's may differ a little; do not send free text in the window's last minutes.
WINDOW_MARGIN = timedelta(minutes=5)
RETRY_DELAYS: tuple[float, ...] = (1.0, 2.0, 4.0)
SEND_TIMEOUT = 20.0
DRAIN_TIMEOUT = 10.0

ERR_OPTED_OUT = 21610
ERR_OUTSIDE_WINDOW = 63016
ERR_TOO_MANY_REQUESTS = 20429

# Message kinds (Reply.kind) this adapter knows by name.
RECEIPT_KIND = "report_receipt"  # the receipt of a new report: a reply, with a note on updates
STATUS_KIND = "report_status"  # a report's status change: a notification

EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response/>'

_TWILIO_STATUS = {
    "accepted": OutboundStatus.QUEUED,
    "scheduled": OutboundStatus.QUEUED,
    "queued": OutboundStatus.QUEUED,
    "sending": OutboundStatus.QUEUED,
    "sent": OutboundStatus.SENT,
    "delivered": OutboundStatus.DELIVERED,
    "read": OutboundStatus.READ,
    "failed": OutboundStatus.FAILED,
    "undelivered": OutboundStatus.UNDELIVERED,
    "canceled": OutboundStatus.FAILED,
}

MediaFetcher = Callable[[str, str | None], Callable[[], Awaitable[bytes]]]


# --- inbound --------------------------------------------------------------------------------


def locale_hint_for(e164: str) -> str:
    """WhatsApp tells no language: Indonesian numbers get Indonesian, others English."""
    return "id" if country_code(e164) == 62 else "en"


def _media_kind(content_type: str, message_type: str) -> Kind:
    major = content_type.split("/", 1)[0]
    if message_type == "sticker":
        return Kind.STICKER
    if message_type == "document":
        return Kind.DOCUMENT
    if content_type in ("text/vcard", "text/x-vcard"):
        return Kind.CONTACT
    if major == "image":
        return Kind.PHOTO
    if major == "audio":
        return Kind.VOICE
    if major == "video":
        return Kind.VIDEO
    return Kind.DOCUMENT


def _float(value: str | None) -> float | None:
    try:
        return float(value) if value not in (None, "") else None
    except ValueError:
        return None


def parse_form(form: Mapping[str, str], *, fetcher: MediaFetcher | None = None) -> Inbound | None:
    """Turn Twilio's inbound-message form into the neutral Inbound; None when it names no
    message or no sender."""
    sid = form.get("MessageSid") or form.get("SmsMessageSid")
    user = to_e164(form.get("From")) or to_e164(form.get("WaId"))
    if not sid or not user:
        return None
    inbound = Inbound(
        channel=Channel.WHATSAPP,
        user_key=user,
        event_id=sid,
        locale_hint=locale_hint_for(user),
        display_name=(form.get("ProfileName") or "").strip() or None,
    )
    body = form.get("Body") or ""
    message_type = (form.get("MessageType") or "").lower()
    try:
        num_media = int(form.get("NumMedia") or 0)
    except ValueError:
        num_media = 0
    payload = form.get("ButtonPayload") or form.get("ListId")
    lat, lon = _float(form.get("Latitude")), _float(form.get("Longitude"))
    if payload:
        inbound.kind = Kind.OPTION
        inbound.option_id = payload
        inbound.text = form.get("ButtonText") or form.get("ListTitle") or body or None
    elif lat is not None and lon is not None:
        inbound.kind = Kind.LOCATION
        address = (form.get("Address") or "").strip() or (form.get("Label") or "").strip()
        inbound.location = Location(lat, lon, address or None)
    elif num_media > 0:
        for index in range(min(num_media, 10)):
            url = form.get(f"MediaUrl{index}")
            if not url:
                continue
            content_type = (form.get(f"MediaContentType{index}") or "").lower() or None
            kind = _media_kind(content_type or "", message_type)
            inbound.media.append(Media(
                kind=kind, content_type=content_type, size=None,
                fetch=fetcher(url, content_type) if fetcher else None, ref=url,
            ))
        inbound.kind = inbound.media[0].kind if inbound.media else Kind.OTHER
        inbound.text = body or None  # a caption
    elif body.startswith("/") and len(body) > 1:
        command, _sep, arg = body[1:].partition(" ")
        inbound.kind = Kind.COMMAND
        inbound.text = body
        inbound.command = command.lower()
        inbound.command_arg = arg.strip() or None
    elif body:
        inbound.kind = Kind.TEXT
        inbound.text = body
    else:
        inbound.kind = Kind.OTHER
    return inbound


def public_request_url(request: Request, public_url: str | None) -> str:
    """The URL Twilio signed: EMAS_PUBLIC_URL plus the path, or rebuilt from a reverse proxy's
    X-Forwarded-Proto / X-Forwarded-Host (else Host) when no public URL is configured."""
    path = request.url.path
    if public_url:
        base = public_url.rstrip("/")
        prefix = urlsplit(base).path
        if prefix and path.startswith(prefix + "/"):
            path = path[len(prefix):]  # the proxy passed the public prefix through
    else:
        proto = (request.headers.get("x-forwarded-proto") or request.url.scheme)
        host = request.headers.get("x-forwarded-host") or request.headers.get("host") \
            or request.url.netloc
        base = f"{proto.split(',')[0].strip()}://{host.split(',')[0].strip()}"
    query = request.url.query
    return base + path + (f"?{query}" if query else "")


# --- rendering ------------------------------------------------------------------------------


def utf16_len(text: str) -> int:
    """Length as WhatsApp counts it (UTF-16 code units: an emoji may count twice)."""
    return len(text.encode("utf-16-le")) // 2


def split_body(text: str, limit: int = BODY_LIMIT) -> list[str]:
    """Pieces of at most `limit` characters as WhatsApp counts them, cut at paragraph or
    sentence boundaries where possible."""
    pieces: list[str] = []
    rest = text.strip()
    while rest:
        budget = limit
        while True:
            head = split_text(rest, budget)[0]
            over = utf16_len(head) - limit
            if over <= 0:
                break
            # Every character is at most two UTF-16 units, so half the limit always fits.
            budget = max(limit // 2, budget - over)
        pieces.append(head)
        rest = rest[len(head):].lstrip()
    return pieces


def location_help() -> str:
    return _("📍 To share a location in WhatsApp: tap 📎 (Attach), choose Location, then send "
             "your current location or pick the place on the map. You can also type the name "
             "of the kelurahan.")


def render_body(reply: Reply) -> str:
    """A reply as one WhatsApp text: the text, how to share a location, numbered options."""
    parts = [reply.text] if reply.text else []
    if reply.request_location:
        parts.append(location_help())
    if reply.url_button:
        label, url = reply.url_button
        if not url.startswith("private:"):  # a WhatsApp chat is always private
            parts.append(f"{label}: {url}")
    if reply.options:
        lines = [_("Reply with a number:")]
        lines += [f"{i}. {o.label}" for i, o in enumerate(reply.options, 1)]
        parts.append("\n".join(lines))
    return "\n\n".join(parts)


def receipt_note() -> str:
    return _("On WhatsApp we can only write to you within 24 hours of your last message. If "
             "there is news about your report after that, it will wait here until you next "
             "write to us; any message will do.")


def interactive_template(reply: Reply, settings: Settings) -> tuple[str, dict[str, str]] | None:
    """(ContentSid, variables) drawing the options as quick-reply buttons or a list picker,
    when such a template is configured and the reply fits WhatsApp's limits."""
    n = len(reply.options)
    if not n or reply.request_location or reply.url_button or \
            len(reply.text) > INTERACTIVE_BODY_LIMIT:
        return None
    titles = [o.label for o in reply.options]
    sid = settings.twilio_quick_reply_templates.get(n)
    if not (sid and n <= QUICK_REPLY_MAX and all(len(t) <= QUICK_REPLY_TITLE for t in titles)):
        sid = settings.twilio_list_picker_templates.get(n)
        if not (sid and n <= LIST_PICKER_MAX and all(len(t) <= LIST_ITEM_TITLE for t in titles)):
            return None
    variables = {"1": reply.text, "2": _("Choose")}
    for i, option in enumerate(reply.options, 1):
        variables[str(2 * i + 1)] = option.label
        variables[str(2 * i + 2)] = option.id
    return sid, variables


# --- sending --------------------------------------------------------------------------------


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


class WhatsAppChannel:
    """Receives Twilio webhooks, runs them through the engine, sends replies through Twilio."""

    def __init__(
        self,
        *,
        engine: Engine,
        outbound: Outbound,
        settings: Settings,
        db: Database,
        clock: Callable[[], datetime] = utcnow,
        retry_delays: Sequence[float] = RETRY_DELAYS,
    ) -> None:
        assert settings.twilio_account_sid and settings.twilio_auth_token
        assert settings.twilio_whatsapp_from
        self.engine = engine
        self.outbound = outbound
        self.settings = settings
        self.db = db
        self.clock = clock
        self.retry_delays = tuple(retry_delays)
        self.sender = settings.twilio_whatsapp_from
        if not self.sender.startswith("whatsapp:"):
            self.sender = "whatsapp:" + (to_e164(self.sender) or self.sender)
        self._validator = RequestValidator(settings.twilio_auth_token)
        self._http: HeaderAuthAsyncHttpClient | None = None
        self._twilio: Client | None = None
        self._downloads: httpx.AsyncClient | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._locks = KeyedLocks()
        # Residents whose window WhatsApp reported closed (63016), and when.
        self._closed: dict[str, datetime] = {}
        outbound.register(Channel.WHATSAPP, self)

    # -- lifecycle -----------------------------------------------------------------------

    def client(self) -> Client:
        """The twilio client, created on first use (its aiohttp session needs a running loop)."""
        if self._twilio is None:
            settings = self.settings
            assert settings.twilio_account_sid and settings.twilio_auth_token
            self._http = HeaderAuthAsyncHttpClient()
            self._twilio = build_client(settings.twilio_account_sid, settings.twilio_auth_token,
                                        settings.twilio_api_url, self._http)
        return self._twilio

    async def start(self) -> None:
        """Nothing to register: Twilio's webhook URLs are set in the Twilio console."""

    async def drain(self, timeout: float | None = None) -> None:  # noqa: ASYNC109
        """Wait until every inbound message taken so far has been processed and answered."""
        async with asyncio.timeout(timeout):
            while self._tasks:
                await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def stop(self) -> None:
        try:
            await self.drain(DRAIN_TIMEOUT)
        except TimeoutError:
            logger.warning("%d whatsapp message(s) still processing at shutdown; cancelled",
                           len(self._tasks))
            for task in list(self._tasks):
                task.cancel()
            await asyncio.gather(*list(self._tasks), return_exceptions=True)
        if self._http is not None:
            await self._http.close()
            self._http = self._twilio = None
        if self._downloads is not None:
            await self._downloads.aclose()
            self._downloads = None

    # -- webhooks ------------------------------------------------------------------------

    def signature_valid(self, url: str, form: Any, signature: str) -> bool:
        return bool(signature) and self._validator.validate(url, form, signature)

    async def _verified_form(self, request: Request) -> Any | None:
        form = await request.form()
        url = public_request_url(request, self.settings.public_url)
        signature = request.headers.get("X-Twilio-Signature", "")
        if not self.signature_valid(url, form, signature):
            logger.warning("whatsapp webhook with a missing or invalid signature refused")
            return None
        return form

    async def receive(self, request: Request) -> Response:
        """POST /webhooks/whatsapp: check, parse, and answer at once; the work runs after."""
        form = await self._verified_form(request)
        if form is None:
            return Response("forbidden", status_code=403, media_type="text/plain")
        fields = {key: str(value) for key, value in form.items()}
        inbound = parse_form(fields, fetcher=self._fetcher)
        if inbound is None:
            logger.info("whatsapp webhook without a message or sender ignored")
        else:
            self._spawn(self.process(inbound))
        return Response(EMPTY_TWIML, media_type="text/xml")

    async def receive_status(self, request: Request) -> Response:
        """POST /webhooks/whatsapp/status: move the stored message's status forward."""
        form = await self._verified_form(request)
        if form is None:
            return Response("forbidden", status_code=403, media_type="text/plain")
        sid = str(form.get("MessageSid") or form.get("SmsSid") or "")
        status = _TWILIO_STATUS.get(str(form.get("MessageStatus") or "").lower())
        if not sid or status is None:
            return Response("", media_type="text/plain")
        error_code = _int(form.get("ErrorCode"))
        ours = _int(request.query_params.get("m"))
        async with self.db.session() as session:
            message = await repo_outbound.advance_outbound(
                session=session, status=status, outbound_id=ours, provider_id=sid,
                error_code=error_code, now=self.clock(),
            )
            if message is None:
                logger.info("status callback for an unknown message ignored")
            elif error_code == ERR_OUTSIDE_WINDOW:
                self._window_closed(message.user_key)
            elif error_code == ERR_OPTED_OUT and message.identity_id is not None:
                await repo_outbound.set_opted_out(
                    session=session, identity_id=message.identity_id, opted_out=True)
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
        """Run one message through the engine and send what it answers, in order per resident."""
        lock = await self._locks.acquire(inbound.user_key)
        others: list[Outgoing] = []
        try:
            try:
                outgoing = await self.engine.process(inbound)
            except Exception:
                logger.exception("failed to process a whatsapp message")
                with use_locale(inbound.locale_hint) as locale:
                    sorry = Reply(_("Sorry, something went wrong on our side. Please try again "
                                    "in a moment."))
                outgoing = [Outgoing(Channel.WHATSAPP, inbound.user_key, sorry, locale)]
            mine: list[Outgoing] = []
            for item in outgoing:
                if item.channel == Channel.WHATSAPP and item.to == inbound.user_key \
                        and item.reply.to is None:
                    mine.append(item)
                else:
                    others.append(item)
            try:
                recipient = await self._recipient(inbound.user_key)
                await self.flush_pending(inbound.user_key, recipient=recipient)
                await self._send_items(mine, direct=True, known=recipient)
            except Exception:
                logger.exception("failed to send whatsapp replies")
        finally:
            self._locks.release(inbound.user_key, lock)
        if others:
            await self.outbound.deliver(others, source=Channel.WHATSAPP)

    async def deliver(self, outgoing: list[Outgoing], *, edit_message: Any = None) -> None:
        """Messages that do not answer the recipient's own message (notifications): the window,
        templates, waiting and opt-outs apply."""
        await self._send_items(outgoing, direct=False)

    async def _send_items(self, outgoing: list[Outgoing], *, direct: bool,
                          known: Recipient | None = None) -> None:
        """`known`: a recipient already looked up, used for the target with its number."""
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
                recipient = await self._recipient(user_key)
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

    async def _recipient(self, user_key: str) -> Recipient:
        async with self.db.reader() as session:
            identity = await repo.get_identity(
                session=session, channel=Channel.WHATSAPP, user_key=user_key)
        if identity is None:
            return Recipient(user_key, None, False, None)
        return Recipient(user_key, identity.id, identity.opted_out, identity.last_inbound_at)

    def in_window(self, recipient: Recipient) -> bool:
        last = recipient.last_inbound_at
        if last is None or self.clock() - last >= WINDOW - WINDOW_MARGIN:
            return False
        closed = self._closed.get(recipient.user_key)
        if closed is not None and last <= closed:
            return False  # WhatsApp said 63016 since this message: believe it
        self._closed.pop(recipient.user_key, None)
        return True

    def _window_closed(self, user_key: str) -> None:
        self._closed[user_key] = self.clock()

    def template_for(self, kind: str, locale: str | None) -> str | None:
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
            if not self.in_window(recipient):
                template = self.template_for(kind, locale)
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
                template = self.template_for(kind, locale)
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

    async def flush_pending(self, user_key: str, *, recipient: Recipient | None = None) -> int:
        """Send what waited for this resident's window, oldest first; returns how many went.

        `recipient`: the resident, when the caller already looked them up."""
        if recipient is None:
            recipient = await self._recipient(user_key)
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
        """Create one message through the REST API, retrying throttling and server errors.

        `outbound_id` names a waiting message (its text is kept until it has gone)."""
        held = outbound_id is not None
        if outbound_id is None:
            outbound_id = await self._record(recipient, kind, OutboundStatus.QUEUED,
                                             len(body or ""))
        params: dict[str, Any] = {"to": f"whatsapp:{recipient.user_key}", "from_": self.sender}
        if content_sid is not None:
            params["content_sid"] = content_sid
            params["content_variables"] = json.dumps(dict(variables or {}), ensure_ascii=False)
        else:
            params["body"] = body or ""
        callback = self._status_url(outbound_id)
        if callback:
            params["status_callback"] = callback
        error: TwilioRestException | None = None
        for attempt in range(len(self.retry_delays) + 1):
            try:
                async with asyncio.timeout(SEND_TIMEOUT):
                    message = await self.client().messages.create_async(**params)
            except TwilioRestException as exc:
                error = exc
                if not _retryable(exc) or attempt == len(self.retry_delays):
                    break
            except (aiohttp.ClientError, TimeoutError) as exc:
                error = None
                logger.warning("twilio unreachable (%s); attempt %d", type(exc).__name__,
                               attempt + 1)
                if attempt == len(self.retry_delays):
                    break
            else:
                status = _TWILIO_STATUS.get(str(message.status or "").lower(),
                                            OutboundStatus.QUEUED)
                async with self.db.session() as session:
                    await repo_outbound.advance_outbound(
                        session=session, status=status, outbound_id=outbound_id,
                        provider_id=message.sid, now=self.clock())
                    if held:
                        await repo_outbound.delete_pending(session=session,
                                                           outbound_id=outbound_id)
                return Outcome.SENT
            # Jitter spreads the retries of many senders hit by the same throttling.
            await asyncio.sleep(self.retry_delays[attempt] * random.uniform(0.8, 1.2))
        return await self._failed(recipient, kind, outbound_id, error, held=held,
                                  content_sid=content_sid, fallback=fallback)

    async def _failed(self, recipient: Recipient, kind: str, outbound_id: int,
                      error: TwilioRestException | None, *, held: bool,
                      content_sid: str | None, fallback: str | None) -> Outcome:
        code = error.code if error is not None else None
        transient = error is None or _retryable(error)
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
            self._window_closed(recipient.user_key)
            recipient.last_inbound_at = None
            return Outcome.OUTSIDE_WINDOW
        if content_sid is not None and fallback is not None and code is not None \
                and not _retryable_code(code):
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

    def _status_url(self, outbound_id: int) -> str | None:
        if not self.settings.public_url:
            return None
        return (f"{self.settings.public_url.rstrip('/')}/webhooks/whatsapp/status"
                f"?m={outbound_id}")

    # -- media -----------------------------------------------------------------------------

    def _fetcher(self, url: str, content_type: str | None) -> Callable[[], Awaitable[bytes]]:
        async def fetch() -> bytes:
            return await self.download(url)

        return fetch

    async def download(self, url: str) -> bytes:
        """Fetch a media URL with the account's credentials, refusing files over the limit.

        Credentials only go to the REST API's own origin; Twilio then redirects to its CDN."""
        settings = self.settings
        if not same_origin(url, settings.twilio_api_url):
            raise MediaRejected("not_image")
        assert settings.twilio_account_sid and settings.twilio_auth_token
        if self._downloads is None:
            self._downloads = httpx.AsyncClient(timeout=30.0, follow_redirects=True)
        limit = settings.max_photo_bytes
        auth = (settings.twilio_account_sid, settings.twilio_auth_token)
        async with self._downloads.stream("GET", url, auth=auth) as response:
            if response.status_code != 200:
                raise MediaUnavailable(response.status_code)
            declared = _int(response.headers.get("content-length"))
            if declared is not None and declared > limit:
                raise MediaRejected("too_large")
            data = bytearray()
            async for chunk in response.aiter_bytes():
                data += chunk
                if len(data) > limit:
                    raise MediaRejected("too_large")
        return bytes(data)


class MediaUnavailable(RuntimeError):
    """Twilio did not hand over a media file (expired, deleted, or refused)."""

    def __init__(self, status: int) -> None:
        super().__init__(f"media download answered {status}")
        self.status = status


def _int(value: object) -> int | None:
    try:
        return int(str(value)) if value not in (None, "") else None
    except ValueError:
        return None


def _retryable_code(code: int) -> bool:
    return code == ERR_TOO_MANY_REQUESTS or 20500 <= code < 20600


def _retryable(exc: TwilioRestException) -> bool:
    return exc.status == 429 or exc.status >= 500 or _retryable_code(exc.code or 0)
