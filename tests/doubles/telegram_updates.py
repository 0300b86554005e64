"""Builders for incoming Telegram Update JSON, shaped as the Bot API delivers them.

Every builder returns a plain dict (what a webhook receives or getUpdates returns), with
update_id and message_id counting up across the test session unless given explicitly.
"""

from __future__ import annotations

import itertools
import time
from typing import Any

from .telegram_markup import utf16_length

__all__ = [
    "BOT_USERNAME",
    "BOT_USER_ID",
    "callback_update",
    "contact_update",
    "document_update",
    "edited_text_update",
    "group_text_update",
    "location_update",
    "next_message_id",
    "next_update_id",
    "photo_update",
    "sticker_update",
    "text_update",
    "voice_update",
]

BOT_USERNAME = "emas_binjai_bot"
BOT_USER_ID = 123
BOT_FIRST_NAME = "e-Masyarakat Binjai"

_update_ids = itertools.count(100_000)
_message_ids = itertools.count(1)
_callback_ids = itertools.count(7_000_000_000)


def next_update_id() -> int:
    """A fresh update_id, larger than every one handed out before."""
    return next(_update_ids)


def next_message_id() -> int:
    """A fresh message_id for a message a user sends."""
    return next(_message_ids)


def _user(user_id: int, first_name: str, language_code: str | None) -> dict[str, Any]:
    user: dict[str, Any] = {"id": user_id, "is_bot": False, "first_name": first_name}
    if language_code:
        user["language_code"] = language_code
    return user


def _bot_user() -> dict[str, Any]:
    return {
        "id": BOT_USER_ID,
        "is_bot": True,
        "first_name": BOT_FIRST_NAME,
        "username": BOT_USERNAME,
    }


def _chat(chat_id: int, first_name: str) -> dict[str, Any]:
    if chat_id > 0:
        return {"id": chat_id, "type": "private", "first_name": first_name}
    kind = "supergroup" if str(chat_id).startswith("-100") else "group"
    return {"id": chat_id, "type": kind, "title": "Grup Warga Binjai"}


def _message(
    chat_id: int,
    *,
    user_id: int | None,
    language_code: str | None,
    first_name: str,
    message_id: int | None,
    date: int | None,
    **content: Any,
) -> dict[str, Any]:
    sender = user_id if user_id is not None else chat_id
    if sender <= 0:
        raise ValueError("a group message needs a positive user_id for its sender")
    return {
        "message_id": message_id if message_id is not None else next_message_id(),
        "from": _user(sender, first_name, language_code),
        "chat": _chat(chat_id, first_name),
        "date": date if date is not None else int(time.time()),
        **content,
    }


def _update(key: str, payload: dict[str, Any], update_id: int | None) -> dict[str, Any]:
    return {"update_id": update_id if update_id is not None else next_update_id(), key: payload}


def _message_update(key: str, chat_id: int, update_id: int | None, user_id: int | None,
                    language_code: str | None, first_name: str, message_id: int | None, *,
                    date: int | None = None, **content: Any) -> dict[str, Any]:
    """An update (``key``: "message" or "edited_message") carrying one message a user sent."""
    message = _message(chat_id, user_id=user_id, language_code=language_code,
                       first_name=first_name, message_id=message_id, date=date, **content)
    return _update(key, message, update_id)


def _command_entities(text: str) -> list[dict[str, Any]]:
    # Telegram marks a leading /command so CommandHandler-style routing can find it.
    if not text.startswith("/"):
        return []
    command = text.split(maxsplit=1)[0]
    return [{"type": "bot_command", "offset": 0, "length": utf16_length(command)}]


def text_update(
    chat_id: int,
    text: str,
    update_id: int | None = None,
    user_id: int | None = None,
    language_code: str | None = "id",
    first_name: str = "Budi",
    *,
    message_id: int | None = None,
    date: int | None = None,
) -> dict[str, Any]:
    """A resident's text message in a private chat (chat_id is the resident's user id)."""
    content: dict[str, Any] = {"text": text}
    entities = _command_entities(text)
    if entities:
        content["entities"] = entities
    return _message_update("message", chat_id, update_id, user_id, language_code,
                           first_name, message_id, date=date, **content)


def edited_text_update(
    chat_id: int,
    text: str,
    message_id: int,
    update_id: int | None = None,
    user_id: int | None = None,
    language_code: str | None = "id",
    first_name: str = "Budi",
    *,
    date: int | None = None,
) -> dict[str, Any]:
    """A resident edits a message they sent earlier."""
    sent = date if date is not None else int(time.time()) - 60
    content: dict[str, Any] = {"text": text, "edit_date": sent + 60}
    entities = _command_entities(text)
    if entities:
        content["entities"] = entities
    return _message_update("edited_message", chat_id, update_id, user_id, language_code,
                           first_name, message_id, date=sent, **content)


def group_text_update(
    chat_id: int,
    text: str,
    update_id: int | None = None,
    user_id: int = 5_550_001,
    language_code: str | None = "id",
    first_name: str = "Budi",
    *,
    mention_bot: bool = True,
    bot_username: str = BOT_USERNAME,
    message_id: int | None = None,
    date: int | None = None,
) -> dict[str, Any]:
    """A member writes in a group; by default the text starts by mentioning the bot."""
    if chat_id >= 0:
        raise ValueError("group chat ids are negative")
    content: dict[str, Any] = {}
    if mention_bot:
        mention = f"@{bot_username}"
        text = f"{mention} {text}"
        content["entities"] = [{"type": "mention", "offset": 0, "length": utf16_length(mention)}]
    else:
        entities = _command_entities(text)
        if entities:
            content["entities"] = entities
    return _message_update("message", chat_id, update_id, user_id, language_code,
                           first_name, message_id, date=date, text=text, **content)


def callback_update(
    chat_id: int,
    data: str,
    message_id: int,
    update_id: int | None = None,
    user_id: int | None = None,
    language_code: str | None = "id",
    first_name: str = "Budi",
    *,
    callback_id: str | None = None,
    message_text: str = "Pilih salah satu:",
    reply_markup: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A resident taps an inline button on the bot's message ``message_id``."""
    sender = user_id if user_id is not None else chat_id
    message: dict[str, Any] = {
        "message_id": message_id,
        "from": _bot_user(),
        "chat": _chat(chat_id, first_name),
        "date": int(time.time()) - 5,
        "text": message_text,
    }
    if reply_markup is not None:
        message["reply_markup"] = reply_markup
    query = {
        "id": callback_id if callback_id is not None else str(next(_callback_ids)),
        "from": _user(sender, first_name, language_code),
        "message": message,
        "chat_instance": f"ci{abs(chat_id)}",
        "data": data,
    }
    return _update("callback_query", query, update_id)


def photo_update(
    chat_id: int,
    file_id: str,
    file_size: int | None,
    update_id: int | None = None,
    user_id: int | None = None,
    language_code: str | None = "id",
    first_name: str = "Budi",
    *,
    caption: str | None = None,
    width: int = 1280,
    height: int = 960,
    message_id: int | None = None,
) -> dict[str, Any]:
    """A photo; like Telegram, a small thumbnail first and the full size last (``file_size``
    None: the sizes are left out, as Telegram may)."""
    thumb_w, thumb_h = max(1, width // 16), max(1, height // 16)
    sizes: list[dict[str, Any]] = [
        {
            "file_id": f"{file_id}-thumb",
            "file_unique_id": f"u-{file_id}-thumb",
            "width": thumb_w,
            "height": thumb_h,
        },
        {
            "file_id": file_id,
            "file_unique_id": f"u-{file_id}",
            "width": width,
            "height": height,
        },
    ]
    if file_size is not None:
        sizes[0]["file_size"] = max(1, file_size // 64)
        sizes[1]["file_size"] = file_size
    content: dict[str, Any] = {"photo": sizes}
    if caption is not None:
        content["caption"] = caption
    return _message_update("message", chat_id, update_id, user_id, language_code,
                           first_name, message_id, **content)


def document_update(
    chat_id: int,
    file_id: str,
    file_name: str,
    mime_type: str,
    file_size: int,
    update_id: int | None = None,
    user_id: int | None = None,
    language_code: str | None = "id",
    first_name: str = "Budi",
    *,
    caption: str | None = None,
    message_id: int | None = None,
) -> dict[str, Any]:
    """A file sent as a document (e.g. a PDF, or a photo sent uncompressed)."""
    content: dict[str, Any] = {
        "document": {
            "file_id": file_id,
            "file_unique_id": f"u-{file_id}",
            "file_name": file_name,
            "mime_type": mime_type,
            "file_size": file_size,
        }
    }
    if caption is not None:
        content["caption"] = caption
    return _message_update("message", chat_id, update_id, user_id, language_code,
                           first_name, message_id, **content)


def location_update(
    chat_id: int,
    latitude: float,
    longitude: float,
    update_id: int | None = None,
    user_id: int | None = None,
    language_code: str | None = "id",
    first_name: str = "Budi",
    *,
    horizontal_accuracy: float | None = None,
    message_id: int | None = None,
) -> dict[str, Any]:
    """A shared location (Binjai is around latitude 3.6, longitude 98.48)."""
    location: dict[str, Any] = {"latitude": latitude, "longitude": longitude}
    if horizontal_accuracy is not None:
        location["horizontal_accuracy"] = horizontal_accuracy
    return _message_update("message", chat_id, update_id, user_id, language_code,
                           first_name, message_id, location=location)


def sticker_update(
    chat_id: int,
    file_id: str = "CAACAgUAAxkBAAIBsticker",
    update_id: int | None = None,
    user_id: int | None = None,
    language_code: str | None = "id",
    first_name: str = "Budi",
    *,
    emoji: str = "👍",
    message_id: int | None = None,
) -> dict[str, Any]:
    """A sticker, which a text-driven flow has to answer gracefully."""
    sticker = {
        "file_id": file_id,
        "file_unique_id": f"u-{file_id}",
        "type": "regular",
        "width": 512,
        "height": 512,
        "is_animated": False,
        "is_video": False,
        "emoji": emoji,
        "file_size": 24_000,
    }
    return _message_update("message", chat_id, update_id, user_id, language_code,
                           first_name, message_id, sticker=sticker)


def voice_update(
    chat_id: int,
    file_id: str = "AwACAgUAAxkBAAIBvoice",
    duration: int = 4,
    update_id: int | None = None,
    user_id: int | None = None,
    language_code: str | None = "id",
    first_name: str = "Budi",
    *,
    file_size: int = 16_000,
    mime_type: str = "audio/ogg",
    message_id: int | None = None,
) -> dict[str, Any]:
    """A voice note."""
    voice = {
        "file_id": file_id,
        "file_unique_id": f"u-{file_id}",
        "duration": duration,
        "mime_type": mime_type,
        "file_size": file_size,
    }
    return _message_update("message", chat_id, update_id, user_id, language_code,
                           first_name, message_id, voice=voice)


def contact_update(
    chat_id: int,
    phone_number: str,
    update_id: int | None = None,
    user_id: int | None = None,
    language_code: str | None = "id",
    first_name: str = "Budi",
    *,
    contact_user_id: int | None = None,
    last_name: str | None = None,
    message_id: int | None = None,
) -> dict[str, Any]:
    """A shared contact; by default the sender's own (as the "share my number" button sends)."""
    sender = user_id if user_id is not None else chat_id
    contact: dict[str, Any] = {
        "phone_number": phone_number,
        "first_name": first_name,
        "user_id": contact_user_id if contact_user_id is not None else sender,
    }
    if last_name is not None:
        contact["last_name"] = last_name
    return _message_update("message", chat_id, update_id, user_id, language_code,
                           first_name, message_id, contact=contact)
