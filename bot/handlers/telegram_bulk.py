"""Broadcasts on Telegram: one message at a time through a Bot the dispatcher paces.

The Bot here has no rate limiter of its own (the dispatcher's shared limiter is the one that
knows about replies), and each platform answer becomes a channel-neutral SendResult.
"""

from __future__ import annotations

import asyncio
import html
import logging
from pathlib import Path
from typing import Any

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, Message
from telegram.constants import ParseMode
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
    TimedOut,
)
from telegram.helpers import create_deep_linked_url

from bot.handlers.telegram import CAPTION_LIMIT, build_bot, retry_seconds
from broadcasts.limiter import ChannelLimits, telegram_limits
from broadcasts.sending import BulkMessage, Outcome, SendResult

logger = logging.getLogger(__name__)

# Button labels longer than this are also listed in the message's text.
LONG_LABEL = 40


def bulk_bot(token: str, api_url: str) -> Bot:
    """A Bot for broadcasts: no rate limiter of its own (the dispatcher paces it)."""
    return build_bot(token, api_url, pool_size=100)


class TelegramBulkSender:
    """The dispatcher's Telegram side."""

    channel = "telegram"
    caption_limit = CAPTION_LIMIT
    needs_template_window = False
    has_receipts = False

    def __init__(self, bot: Bot, *, per_second: float = 30.0,
                 bot_username: str | None = None) -> None:
        self.bot = bot
        self.limits: ChannelLimits = telegram_limits(per_second)
        self.bot_username = bot_username
        self._file_ids: dict[str, str] = {}
        self._uploading: dict[str, asyncio.Lock] = {}
        self._started = False

    async def start(self) -> None:
        if self._started:
            return
        await self.bot.initialize()
        self._started = True
        if not self.bot_username:
            self.bot_username = self.bot.username

    async def stop(self) -> None:
        if self._started:
            await self.bot.shutdown()
            self._started = False

    def join_link(self, code: str) -> str | None:
        if not self.bot_username:
            return None
        return create_deep_linked_url(self.bot_username, code)

    def _markup(self, message: BulkMessage) -> InlineKeyboardMarkup | None:
        rows: list[list[InlineKeyboardButton]] = []
        if message.link:
            rows.append([InlineKeyboardButton(message.link[0], url=message.link[1])])
        if message.button:
            rows.append([InlineKeyboardButton(message.button[1],
                                               callback_data=message.button[0])])
        rows += [[InlineKeyboardButton(label, callback_data=option)]
                 for option, label in message.options]
        return InlineKeyboardMarkup(rows) if rows else None

    async def send(self, message: BulkMessage) -> SendResult:
        chat_id = int(message.address)
        text = message.text
        if any(len(label) > LONG_LABEL for _option, label in message.options):
            # Long labels get cut on buttons; listed in full above them, as replies do.
            text += "\n\n" + "\n".join(f"{i}. {label}"
                                      for i, (_option, label) in enumerate(message.options, 1))
        text = html.escape(text, quote=False)
        markup = self._markup(message)
        try:
            if message.image_path:
                sent = await self._send_photo(chat_id, message.image_path, text, markup)
            else:
                sent = await self.bot.send_message(chat_id, text, parse_mode=ParseMode.HTML,
                                                   reply_markup=markup)
        except RetryAfter as exc:
            return SendResult(Outcome.RETRY_AFTER, retry_after=retry_seconds(exc))
        except Forbidden:
            return SendResult(Outcome.BLOCKED, reason="blocked")
        except ChatMigrated:
            return SendResult(Outcome.FAILED, reason="chat_migrated")
        except BadRequest as exc:
            reason = "chat_not_found" if "chat not found" in str(exc).lower() else "bad_request"
            logger.info("telegram refused a broadcast message: %s", exc.message)
            return SendResult(Outcome.FAILED, reason=reason)
        except TimedOut:
            return SendResult(Outcome.RETRY, reason="timeout")
        except InvalidToken:
            return SendResult(Outcome.RETRY, reason="invalid_token")
        except NetworkError:
            return SendResult(Outcome.RETRY, reason="server_error")
        except TelegramError:
            logger.exception("unexpected telegram error on a broadcast")
            return SendResult(Outcome.RETRY, reason="server_error")
        return SendResult.ok(str(sent.message_id))

    async def _send_photo(self, chat_id: int, path: str, caption: str,
                          markup: InlineKeyboardMarkup | None) -> Message:
        """Upload once, then reuse Telegram's file id for every other recipient: sends that
        start while the first upload is on its way wait for its file id."""
        if path not in self._file_ids:
            async with self._uploading.setdefault(path, asyncio.Lock()):
                if path not in self._file_ids:
                    data = await asyncio.to_thread(Path(path).read_bytes)
                    sent = await self._photo(chat_id, data, caption, markup)
                    if sent.photo:
                        largest = max(sent.photo, key=lambda p: p.width * p.height)
                        self._file_ids[path] = largest.file_id
                    return sent
        photo: Any = self._file_ids.get(path)
        if photo is None:  # Telegram returned no file id: upload for each recipient
            photo = await asyncio.to_thread(Path(path).read_bytes)
        return await self._photo(chat_id, photo, caption, markup)

    async def _photo(self, chat_id: int, photo: Any, caption: str,
                     markup: InlineKeyboardMarkup | None) -> Message:
        return await self.bot.send_photo(chat_id, photo, caption=caption or None,
                                         parse_mode=ParseMode.HTML if caption else None,
                                         reply_markup=markup)
