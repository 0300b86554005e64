"""The Telegram channel through python-telegram-bot: parse updates, render and send replies."""

from __future__ import annotations

import asyncio
import contextlib
import html
import logging
import os

# Opt in to PTB's coming API (durations as timedelta), which the rate limiter already handles;
# without it every 429 raises a deprecation warning.
os.environ.setdefault("PTB_TIMEDELTA", "1")
from collections.abc import Awaitable, Callable
from datetime import timedelta
from functools import partial
from typing import Any

import httpx
from telegram import (
    Bot,
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    Message,
    ReplyKeyboardMarkup,
    Update,
)
from telegram.constants import ChatType, ParseMode
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError, TimedOut
from telegram.ext import ExtBot, Updater
from telegram.helpers import create_deep_linked_url

from bot.engine import Engine, Outgoing, apology
from bot.handlers.downloads import read_capped
from bot.handlers.telegram_transport import AiohttpRequest
from bot.i18n import _, use_locale
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
from broadcasts.limiter import Limiter
from storage.media import MediaRejected

logger = logging.getLogger(__name__)

TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024
CALLBACK_DATA_LIMIT = 64
CALLBACK_ANSWER_LIMIT = 200
POLL_TIMEOUT = timedelta(seconds=30)
# deleteWebhook before polling: tried this many more times before start-up gives up.
POLL_BOOTSTRAP_RETRIES = 3
DRAIN_TIMEOUT = 10.0
DOWNLOAD_TIMEOUT = 60.0
# One Bot API call is tried this many times (after a 429's retry_after, or a network error).
SEND_ATTEMPTS = 5


def build_bot(token: str, api_url: str, *, pool_size: int = 64) -> ExtBot[None]:
    """A bot that calls `{api_url}/bot{token}/{method}` and downloads from `/file/bot...`.

    Args:
        token: the bot's token.
        api_url: the Bot API root (Telegram's, or a local Bot API server or test double).
        pool_size: connections to the Bot API at most.
    """
    root = api_url.rstrip("/")
    # aiohttp rather than PTB's default httpx transport: per request it costs a fraction of the
    # CPU (measured with bench/inbound.py), and Bot API calls are most of a reply's work.
    return ExtBot(
        token,
        base_url=f"{root}/bot",
        base_file_url=f"{root}/file/bot",
        request=AiohttpRequest(pool_size=pool_size),
        get_updates_request=AiohttpRequest(pool_size=1, read_timeout=40),
    )


def retry_seconds(exc: RetryAfter) -> float:
    """Telegram's wait in seconds: ``retry_after`` is a timedelta under ``PTB_TIMEDELTA`` (set
    above), else whole seconds."""
    value = exc.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


Fetcher = Callable[[str, int | None], Callable[[], Awaitable[bytes]]]


def parse_update(update: Update, *, fetcher: Fetcher, bot_username: str | None) -> Inbound | None:
    """Turn a Telegram update into the neutral Inbound; None for updates residents did not send."""
    event_id = str(update.update_id)
    if update.callback_query is not None:
        query = update.callback_query
        if not isinstance(query.data, str):
            return None  # not a button of ours (a game, or a malformed update): only answered
        message = query.message if isinstance(query.message, Message) else None
        chat = message.chat if message else None
        is_group = bool(chat and chat.type != ChatType.PRIVATE)
        return Inbound(
            channel=Channel.TELEGRAM,
            user_key=str(query.from_user.id),
            event_id=event_id,
            kind=Kind.OPTION,
            option_id=query.data,
            locale_hint=query.from_user.language_code,
            display_name=query.from_user.first_name,
            is_group=is_group,
            mentioned=is_group,
            chat_key=str(chat.id) if chat and is_group else None,
        )
    message = update.message or update.edited_message
    if message is None or message.from_user is None:
        return None
    user = message.from_user
    is_group = message.chat.type != ChatType.PRIVATE
    inbound = Inbound(
        channel=Channel.TELEGRAM,
        user_key=str(user.id),
        event_id=event_id,
        locale_hint=user.language_code,
        display_name=user.first_name,
        is_group=is_group,
        edited=update.edited_message is not None,
        chat_key=str(message.chat.id) if is_group else None,
    )
    text = message.text or message.caption
    if message.text:
        inbound.kind, inbound.text = Kind.TEXT, message.text
        if message.text.startswith("/"):
            head, _sep, arg = message.text[1:].partition(" ")
            command, _at, target = head.partition("@")
            if not target or (bot_username and target.lower() == bot_username.lower()):
                inbound.kind = Kind.COMMAND
                inbound.command = command.lower()
                inbound.command_arg = arg.strip() or None
                inbound.mentioned = bool(target) or not is_group
        if bot_username and f"@{bot_username.lower()}" in message.text.lower():
            inbound.mentioned = True
        reply_to = message.reply_to_message
        if reply_to is not None and reply_to.from_user is not None and reply_to.from_user.is_bot:
            inbound.mentioned = True
    elif message.photo:
        largest = max(message.photo, key=lambda p: (p.file_size or 0, p.width * p.height))
        inbound.kind, inbound.text = Kind.PHOTO, text
        inbound.media = [Media(kind=Kind.PHOTO, content_type="image/jpeg",
                               size=largest.file_size, fetch=fetcher(largest.file_id, largest.file_size),
                               ref=largest.file_id)]
    elif message.document:
        doc = message.document
        inbound.kind, inbound.text = Kind.DOCUMENT, text
        inbound.media = [Media(kind=Kind.DOCUMENT, content_type=doc.mime_type,
                               size=doc.file_size, fetch=fetcher(doc.file_id, doc.file_size),
                               ref=doc.file_id)]
    elif message.location or message.venue:
        loc = message.venue.location if message.venue else message.location
        assert loc is not None
        address = message.venue.address if message.venue else None
        inbound.kind = Kind.LOCATION
        inbound.location = Location(loc.latitude, loc.longitude, address)
    elif message.contact:
        inbound.kind = Kind.CONTACT
        inbound.contact_phone = message.contact.phone_number
    elif message.sticker:
        inbound.kind = Kind.STICKER
    elif message.voice or message.audio:
        sound = message.voice or message.audio
        assert sound is not None
        inbound.kind, inbound.text = Kind.VOICE, text
        inbound.media = [Media(kind=Kind.VOICE, content_type=sound.mime_type or "audio/ogg",
                               size=sound.file_size, fetch=fetcher(sound.file_id, sound.file_size),
                               ref=sound.file_id)]
    elif message.video or message.video_note or message.animation:
        inbound.kind = Kind.VIDEO
    else:
        inbound.kind = Kind.OTHER
    return inbound


class TelegramFiles:
    """Downloads of the photos and files residents send. The size is checked from what the
    update declares, again from getFile, and again while the bytes arrive: a file with no
    declared size stops at the limit, not at Telegram's 20 MB."""

    def __init__(self, bot: Bot, *, max_bytes: int) -> None:
        self.bot = bot
        self.max_bytes = max_bytes
        self._client: httpx.AsyncClient | None = None

    def fetcher(self, file_id: str, declared: int | None) -> Callable[[], Awaitable[bytes]]:
        async def fetch() -> bytes:
            return await self.download(file_id, declared)

        return fetch

    async def download(self, file_id: str, declared: int | None) -> bytes:
        limit = self.max_bytes
        if declared is not None and declared > limit:
            raise MediaRejected("too_large")
        try:
            file = await self.bot.get_file(file_id)
        except BadRequest as exc:
            if "too big" in exc.message.lower():  # over the Bot API's 20 MB
                raise MediaRejected("too_large") from None
            raise
        if (file.file_size or 0) > limit:
            raise MediaRejected("too_large")
        if not file.file_path:
            raise MediaRejected("empty")
        if self._client is None:
            self._client = httpx.AsyncClient(timeout=DOWNLOAD_TIMEOUT)
        async with self._client.stream("GET", file.file_path) as response:
            response.raise_for_status()
            return await read_capped(response, limit)

    async def aclose(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            await client.aclose()


def _keyboard(reply: Reply, bot_username: str | None) -> Any:
    if reply.request_location:
        keys = [[KeyboardButton(_("📍 Share my location"), request_location=True)]]
        keys += [[KeyboardButton(o.label)] for o in reply.options]
        return ReplyKeyboardMarkup(keys, resize_keyboard=True, one_time_keyboard=True)
    rows: list[list[InlineKeyboardButton]] = []
    if reply.url_button:
        label, url = reply.url_button
        if url.startswith("private:"):
            # Without the bot's username there is no link to its private chat: no button.
            url = create_deep_linked_url(bot_username, url[8:] or "menu") \
                if bot_username else ""
        if url:
            rows.append([InlineKeyboardButton(label, url=url)])
    short = all(len(o.label) <= 18 for o in reply.options) and len(reply.options) > 4
    row: list[InlineKeyboardButton] = []
    for option in reply.options:
        if len(option.id.encode()) > CALLBACK_DATA_LIMIT:
            raise ValueError(f"option id longer than {CALLBACK_DATA_LIMIT} bytes: {option.id!r}")
        row.append(InlineKeyboardButton(option.label, callback_data=option.id))
        if not short or len(row) == 2:
            rows.append(row)
            row = []
    if row:
        rows.append(row)
    return InlineKeyboardMarkup(rows) if rows else None


def render_text(reply: Reply) -> str:
    """Replies are plain text; escape it all for HTML so `<b>` or `a & b` typed by a resident
    shows as typed."""
    text = reply.text
    if reply.options and not reply.request_location and any(
        len(o.label) > 40 for o in reply.options
    ):
        # Long labels get cut on buttons; list them in full above.
        text += "\n\n" + "\n".join(f"{i}. {o.label}" for i, o in enumerate(reply.options, 1))
    return html.escape(text, quote=False)


class TelegramChannel:
    """Receives updates (webhook or polling), runs them through the engine, sends replies."""

    def __init__(self, *, bot: ExtBot[None], engine: Engine, outbound: Outbound,
                 bot_username: str | None = None, limiter: Limiter | None = None) -> None:
        self.bot = bot
        self.engine = engine
        self.outbound = outbound
        self.bot_username = bot_username
        self.files = TelegramFiles(bot, max_bytes=engine.media.max_bytes)
        self._updater: Updater | None = None
        self._consumer: asyncio.Task[None] | None = None
        # The broadcasts' shared limiter (broadcasts.limiter.Limiter): replies take the
        # next slot ahead of any broadcast. None: PTB's own rate limiter alone.
        self.limiter = limiter
        outbound.register(Channel.TELEGRAM, self)
        engine.photos.register(Channel.TELEGRAM, self.files.fetcher)

    async def start(self) -> None:
        await self.bot.initialize()
        if not self.bot_username:
            self.bot_username = self.bot.username

    async def quiesce(self) -> None:
        """At shutdown: stop polling; the updates already fetched are processed."""
        await self._stop_polling()

    async def stop(self) -> None:
        await self._stop_polling()
        await self.files.aclose()
        await self.bot.shutdown()

    async def set_webhook(self, url: str, secret: str) -> None:
        await self.bot.set_webhook(url, secret_token=secret, allowed_updates=Update.ALL_TYPES,
                                   drop_pending_updates=False)

    async def start_polling(self) -> None:
        """Long polling by PTB's Updater (it deletes any webhook first); each update it fetches
        takes the webhook's path through :meth:`handle`, one at a time."""
        queue: asyncio.Queue[object] = asyncio.Queue()
        updater = Updater(self.bot, queue)
        await updater.initialize()
        await updater.start_polling(timeout=POLL_TIMEOUT, allowed_updates=Update.ALL_TYPES,
                                    bootstrap_retries=POLL_BOOTSTRAP_RETRIES,
                                    drop_pending_updates=False)
        self._updater = updater
        self._consumer = asyncio.create_task(self._consume(queue), name="telegram-polling")

    async def _consume(self, queue: asyncio.Queue[object]) -> None:
        while True:
            update = await queue.get()
            try:
                if isinstance(update, Update):
                    await self.handle(update)
            except Exception:
                logger.exception("failed to handle a polled telegram update")
            finally:
                queue.task_done()

    async def _stop_polling(self) -> None:
        """Stop fetching, let the updates already fetched be handled, then end the consumer."""
        updater, consumer = self._updater, self._consumer
        self._updater = self._consumer = None
        if updater is None or consumer is None:
            return
        if updater.running:
            await updater.stop()
        try:
            async with asyncio.timeout(DRAIN_TIMEOUT):
                await updater.update_queue.join()
        except TimeoutError:
            logger.warning("polled telegram updates still processing at shutdown; cancelled")
        consumer.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await consumer
        await updater.shutdown()

    async def handle_json(self, data: dict[str, Any]) -> dict[str, Any] | None:
        """A webhook update. Returns the Bot API call to make in the webhook's answer, if any.

        Telegram carries out one method named in the answer to its POST. A button press is
        answered that way (answerCallbackQuery) rather than with a request of its own: its
        result is never needed, and each tap saves a Bot API request."""
        update = Update.de_json(data, self.bot)
        return await self.handle(update, in_answer=True)

    async def handle(self, update: Update, *, in_answer: bool = False) -> dict[str, Any] | None:
        """Run one update; with ``in_answer`` a button press's answer is returned, not sent.

        The replies were written to the outbox with the update's effects; they are queued in
        their chats' lanes and sent after this returns, so the webhook answers at once and a
        chat that is slow or paused by a 429 holds no one else."""
        inbound = parse_update(update, fetcher=self.files.fetcher, bot_username=self.bot_username)
        query = update.callback_query
        if inbound is None:
            return await self._answer(query, None, in_answer)
        try:
            outgoing = await self.engine.process(inbound)
        except Exception:
            logger.exception("failed to process a telegram update")
            self.outbound.submit([apology(inbound)])
            return await self._answer(query, None, in_answer)
        alert = next((o.reply.alert for o in outgoing if o.reply.alert), None)
        # Queued before anything else is awaited: the next update of this chat, processed
        # meanwhile, queues its replies behind these.
        self.outbound.submit(outgoing, source=Channel.TELEGRAM,
                             edit_message=query.message if query else None)
        return await self._answer(query, alert, in_answer)

    async def _answer(self, query: CallbackQuery | None, alert: str | None,
                      in_answer: bool) -> dict[str, Any] | None:
        """Answer a button press: as a call for the webhook's answer, or by calling the API."""
        if query is None:
            return None
        alert = alert[:CALLBACK_ANSWER_LIMIT] if alert else None
        if in_answer:
            call: dict[str, Any] = {"method": "answerCallbackQuery",
                                    "callback_query_id": query.id}
            if alert:
                call.update(text=alert, show_alert=True)
            return call
        try:
            await query.answer(text=alert, show_alert=bool(alert))
        except BadRequest:
            logger.info("callback query too old to answer")
        return None

    async def deliver(self, outgoing: list[Outgoing], *, edit_message: Any = None) -> None:
        """Send replies in order; one event's plain notes are merged into one message."""
        by_target: dict[str, list[Outgoing]] = {}
        for item in outgoing:
            by_target.setdefault(item.to, []).append(item)
        for target, items in by_target.items():
            locale = items[0].locale
            # A reply that is only a button pop-up (alert, no text) was shown by _answer.
            replies = merge_replies([i.reply for i in items if i.reply.text or not i.reply.alert])
            with use_locale(locale):
                for index, reply in enumerate(replies):
                    can_edit = index == 0 and reply.edit and edit_message is not None \
                        and not reply.request_location and not reply.media_paths
                    await self.send(target, reply, edit=edit_message if can_edit else None)

    async def send(self, chat_id: str, reply: Reply, *, edit: Any = None) -> None:
        await self._send(chat_id, reply, edit=edit)
        for path in reply.audio_paths:
            try:
                with open(path, "rb") as fh:  # noqa: ASYNC230 - small local file
                    data = fh.read()
                await self._call(chat_id, partial(self.bot.send_voice, int(chat_id), data))
            except (OSError, TelegramError) as exc:
                logger.warning("voice note not sent (%s)", type(exc).__name__)

    async def _send(self, chat_id: str, reply: Reply, *, edit: Any = None) -> None:
        try:
            markup = _keyboard(reply, self.bot_username)
            if reply.media_paths:
                await self._send_photos(chat_id, reply, markup)
                return
            chunks = split_text(render_text(reply), TEXT_LIMIT)
            for i, chunk in enumerate(chunks):
                last = i == len(chunks) - 1
                if edit is not None and i == 0 and len(chunks) == 1:
                    try:
                        await self._call(chat_id, partial(
                            self.bot.edit_message_text, chunk, chat_id=edit.chat.id,
                            message_id=edit.message_id, parse_mode=ParseMode.HTML,
                            reply_markup=markup))
                        return
                    except BadRequest:
                        pass  # e.g. the message is too old to edit: send a new one
                await self._call(chat_id, partial(
                    self.bot.send_message, int(chat_id), chunk, parse_mode=ParseMode.HTML,
                    reply_markup=markup if last else None))
        except Forbidden:
            logger.info("a telegram user has blocked the bot; reply dropped")
        except TelegramError as exc:
            logger.warning("telegram send failed (%s)", type(exc).__name__)

    async def _send_photos(self, chat_id: str, reply: Reply, markup: Any) -> None:
        caption = render_text(reply)
        fits = len(caption) <= CAPTION_LIMIT
        for i, path in enumerate(reply.media_paths):
            last = i == len(reply.media_paths) - 1
            with open(path, "rb") as fh:  # noqa: ASYNC230 - small local file
                data = fh.read()
            await self._call(chat_id, partial(
                self.bot.send_photo, int(chat_id), data, caption=caption if last and fits else None,
                parse_mode=ParseMode.HTML, reply_markup=markup if last and fits else None))
        if not fits:
            for chunk in split_text(caption, TEXT_LIMIT):
                await self._call(chat_id, partial(
                    self.bot.send_message, int(chat_id), chunk, parse_mode=ParseMode.HTML,
                    reply_markup=markup))

    async def _call(self, chat_id: str, request: Callable[[], Awaitable[Any]]) -> Any:
        """One Bot API call inside the chat's lane: it takes a slot of the bot's rate (and of a
        group's 20 a minute), and a 429 or a network error waits here, holding only this chat.
        """
        for attempt in range(1, SEND_ATTEMPTS + 1):
            if self.limiter is not None:
                await self.limiter.acquire_reply("telegram", str(chat_id))
            try:
                return await request()
            except RetryAfter as exc:
                seconds = retry_seconds(exc)
                if attempt == SEND_ATTEMPTS:
                    raise
                logger.info("telegram asked one chat to wait %.0f s", seconds)
                await asyncio.sleep(seconds)
            except (TimedOut, NetworkError) as exc:
                if attempt == SEND_ATTEMPTS or isinstance(exc, BadRequest):
                    raise
                await asyncio.sleep(min(2.0 ** attempt, 30.0))
        raise AssertionError("unreachable")
