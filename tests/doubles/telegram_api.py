"""A Telegram Bot API server double that enforces Telegram's rules, for contract tests.

The real python-telegram-bot ``Bot`` talks to it over loopback HTTP (see ``serve_bot_api``) or
through an ASGI transport, so request encoding, error parsing and retries are exercised for
real. It answers with Telegram's own error shapes and wording, and enforces the limits that
bite in production: text and caption length in UTF-16 units after markup, HTML and MarkdownV2
parsing, inline keyboard rules, callback query expiry, file size for downloads and flood
control (30 messages per second per bot, 1 per second per private chat, 20 per minute per
group).
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import itertools
import json
import math
import random
import re
import time
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Collection, Generator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import uvicorn
from starlette.applications import Starlette
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from .telegram_markup import EntityParseError, FormattedText, parse_formatted_text, utf16_length
from .telegram_updates import BOT_FIRST_NAME, BOT_USERNAME

__all__ = [
    "ApiError",
    "Call",
    "ManualClock",
    "StoredFile",
    "TelegramDouble",
    "Upload",
    "bot_urls",
    "create_bot_api",
    "serve_bot_api",
]

MAX_TEXT_LENGTH = 4096
MAX_CAPTION_LENGTH = 1024
MAX_CALLBACK_DATA_BYTES = 64
MAX_CALLBACK_ANSWER_LENGTH = 200
MAX_INLINE_BUTTONS = 100
MAX_DOWNLOAD_SIZE = 20 * 1024 * 1024
MAX_UPLOAD_SIZE = 50 * 1024 * 1024

# Calls that only read state; everything else a bot does is kept in ``TelegramDouble.sent``.
READ_METHODS = frozenset({"getMe", "getUpdates", "getFile", "getWebhookInfo", "getMyCommands"})
SEND_METHODS = frozenset({"sendMessage", "sendPhoto", "sendDocument", "sendMediaGroup",
                          "sendVoice"})
EDIT_METHODS = frozenset({"editMessageText", "editMessageReplyMarkup"})
CHAT_ACTIONS = frozenset(
    {
        "typing", "upload_photo", "record_video", "upload_video", "record_voice",
        "upload_voice", "upload_document", "choose_sticker", "find_location",
        "record_video_note", "upload_video_note",
    }
)  # fmt: skip
BUTTON_ACTIONS = (
    "callback_data", "url", "login_url", "web_app", "switch_inline_query",
    "switch_inline_query_current_chat", "switch_inline_query_chosen_chat", "copy_text",
    "callback_game", "pay",
)  # fmt: skip
COMMAND_SCOPES = frozenset(
    {
        "default", "all_private_chats", "all_group_chats", "all_chat_administrators", "chat",
        "chat_administrators", "chat_member",
    }
)  # fmt: skip
# Telegram leaves these out of getUpdates unless allowed_updates names them.
OPT_IN_UPDATES = frozenset({"chat_member", "message_reaction", "message_reaction_count"})

_TOKEN_SHAPE = re.compile(r"\d+:[A-Za-z0-9_-]+")
_COMMAND_SHAPE = re.compile(r"[a-z0-9_]{1,32}")
_SECRET_SHAPE = re.compile(r"[A-Za-z0-9_-]{1,256}")

_FAULT_DESCRIPTIONS = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden: bot was blocked by the user",
    404: "Not Found",
    409: "Conflict: terminated by other getUpdates request; "
    "make sure that only one bot instance is running",
    413: "Request Entity Too Large",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}


class ApiError(Exception):
    """A refusal as the Bot API sends it: HTTP status, description and optional retry_after."""

    def __init__(self, status: int, description: str, *, retry_after: int | None = None) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.retry_after = retry_after

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "ok": False,
            "error_code": self.status,
            "description": self.description,
        }
        if self.retry_after is not None:
            body["parameters"] = {"retry_after": self.retry_after}
        return body


def _bad_request(detail: str) -> ApiError:
    return ApiError(400, f"Bad Request: {detail}")


# What an edit that changes nothing is refused with.
_NOT_MODIFIED_DETAIL = (
    "message is not modified: specified new message content and reply markup are exactly the "
    "same as a current content and reply markup of the message"
)


def _too_many_requests(retry_after: int) -> ApiError:
    return ApiError(429, f"Too Many Requests: retry after {retry_after}", retry_after=retry_after)


@dataclass(frozen=True)
class Upload:
    """A file part of a multipart request."""

    filename: str | None
    content_type: str | None
    data: bytes

    def __repr__(self) -> str:
        return f"Upload({self.filename!r}, {len(self.data)} bytes)"


@dataclass
class Call:
    """One request the double answered, accepted or refused.

    ``text`` is the text or caption as the bot sent it (markup included); ``plain_text`` is what
    the resident sees after Telegram removed the markup. ``timestamp`` comes from the double's
    clock, the same clock flood control uses.
    """

    method: str
    params: dict[str, Any]
    timestamp: float
    chat_id: int | str | None = None
    text: str | None = None
    plain_text: str | None = None
    parse_mode: str | None = None
    entities: list[dict[str, Any]] = field(default_factory=list)
    reply_markup: dict[str, Any] | None = None
    message_id: int | None = None
    result: Any = None
    error: ApiError | None = None
    in_webhook_answer: bool = False  # made by "Telegram" from the bot's answer to a webhook

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def status(self) -> int:
        return 200 if self.error is None else self.error.status

    @property
    def description(self) -> str | None:
        return None if self.error is None else self.error.description


@dataclass
class StoredFile:
    """A file the double can hand out through getFile and the file download URL."""

    file_id: str
    file_unique_id: str
    file_path: str
    content: bytes
    file_size: int
    mime_type: str | None = None
    file_name: str | None = None
    size_known: bool = True  # False: getFile leaves file_size out, as Telegram sometimes does
    seconds: float = 0.0  # how long the download takes (served in pieces)
    served: int = 0  # bytes handed out before the downloader stopped reading


@dataclass
class WebhookConfig:
    url: str = ""
    secret_token: str | None = None
    max_connections: int = 40
    allowed_updates: list[str] | None = None


@dataclass
class _CallbackQuery:
    received_at: float
    data: str | None
    answered_at: float | None = None
    answer: dict[str, Any] | None = None


@dataclass
class _Fault:
    remaining: int
    status: int
    description: str | None
    retry_after: int
    methods: frozenset[str] | None


@dataclass
class _RandomFaults:
    probability: float
    status: int
    retry_after: int
    methods: frozenset[str] | None
    rng: random.Random


class _Described:
    """A successful result that carries a description, as setWebhook's answer does."""

    def __init__(self, result: Any, description: str) -> None:
        self.result = result
        self.description = description


class ManualClock:
    """A clock tests move by hand, so flood windows and callback expiry are deterministic."""

    def __init__(self, start: float = 1_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class _FloodControl:
    """Telegram's send limits: per bot per second, per private chat, per group per minute."""

    def __init__(
        self,
        *,
        bot_per_second: int,
        private_per_second: float,
        private_burst: int,
        group_per_minute: int,
    ) -> None:
        self.bot_per_second = bot_per_second
        self.private_per_second = private_per_second
        self.private_burst = private_burst
        self.group_per_minute = group_per_minute
        self.reset()

    def reset(self) -> None:
        self._bot: deque[float] = deque()
        self._groups: dict[int | str, deque[float]] = {}
        # Private chats use a token bucket: ``private_burst`` messages at once, then
        # ``private_per_second`` sustained.
        self._private: dict[int | str, tuple[float, float]] = {}

    @staticmethod
    def _window_wait(sent: deque[float], now: float, window: float, limit: int, count: int) -> int:
        while sent and sent[0] <= now - window:
            sent.popleft()
        if len(sent) + count <= limit:
            return 0
        if count > limit:
            return math.ceil(window)
        frees_at = sent[len(sent) + count - limit - 1] + window
        return max(1, math.ceil(frees_at - now))

    def _tokens(self, chat_id: int | str, now: float) -> float:
        tokens, last = self._private.get(chat_id, (float(self.private_burst), now))
        return min(float(self.private_burst), tokens + (now - last) * self.private_per_second)

    def check(self, chat_id: int | str | None, now: float, items: int = 1) -> None:
        """Raise 429 if sending now would break a limit.

        An album counts as ``items`` messages for the bot-wide limit but as one message for
        its chat, which is how a resident receives it.
        """
        waits = [self._window_wait(self._bot, now, 1.0, self.bot_per_second, items)]
        if isinstance(chat_id, int) and chat_id < 0:
            group = self._groups.setdefault(chat_id, deque())
            waits.append(self._window_wait(group, now, 60.0, self.group_per_minute, 1))
        elif chat_id is not None:
            missing = 1 - self._tokens(chat_id, now)
            if missing > 1e-9:
                waits.append(max(1, math.ceil(missing / self.private_per_second - 1e-9)))
        wait = max(waits)
        if wait:
            raise _too_many_requests(wait)

    def record(self, chat_id: int | str | None, now: float, items: int = 1) -> None:
        self._bot.extend([now] * items)
        if isinstance(chat_id, int) and chat_id < 0:
            self._groups.setdefault(chat_id, deque()).append(now)
        elif chat_id is not None:
            self._private[chat_id] = (self._tokens(chat_id, now) - 1, now)


class _Params:
    """Request parameters from a query string, a JSON body or a form, typed on demand.

    PTB sends forms in which strings are raw and everything else (ints, dicts) is JSON, and
    Telegram accepts either representation for every field, so conversion happens per field.
    """

    def __init__(self, raw: dict[str, Any]) -> None:
        self.raw = raw

    def get(self, name: str) -> Any:
        return self.raw.get(name)

    def text(self, name: str) -> str | None:
        value = self.raw.get(name)
        if value is None:
            return None
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, int | float):
            return str(value)
        if isinstance(value, str):
            return value
        if isinstance(value, Upload):
            raise _bad_request(f'field "{name}" must be of type String')
        return json.dumps(value)

    def integer(self, name: str) -> int | None:
        value = self.raw.get(name)
        if value is None or value == "":
            return None
        if isinstance(value, bool):
            return int(value)
        if isinstance(value, int):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
        if isinstance(value, str):
            with contextlib.suppress(ValueError):
                return int(value.strip())
        raise _bad_request(f"invalid {name} specified")

    def flag(self, name: str) -> bool:
        value = self.raw.get(name)
        if isinstance(value, str):
            return value.strip().lower() in ("true", "1")
        return bool(value)

    def json(self, name: str, error: str) -> Any:
        value = self.raw.get(name)
        if value is None or value == "":
            return None
        if isinstance(value, str):
            try:
                return json.loads(value)
            except ValueError:
                raise _bad_request(error) from None
        if isinstance(value, Upload):
            raise _bad_request(error)
        return value


def _utf8_length(text: str) -> int:
    return len(text.encode("utf-8", "surrogatepass"))


def _is_usable_url(url: str) -> bool:
    parts = urlsplit(url if "://" in url or url.lower().startswith("tg:") else f"http://{url}")
    if parts.scheme.lower() in ("tg", "ton"):
        return True
    return parts.scheme.lower() in ("http", "https") and "." in (parts.hostname or "")


def _check_inline_button(button: Any) -> None:
    if not isinstance(button, dict):
        raise _bad_request(
            "can't parse inline keyboard button: InlineKeyboardButton must be an Object"
        )
    if "text" not in button:
        raise _bad_request("can't parse inline keyboard button: Can't find field \"text\"")
    if not isinstance(button["text"], str):
        raise _bad_request(
            'can\'t parse inline keyboard button: Field "text" must be of type String'
        )
    if not button["text"].strip():
        raise _bad_request("BUTTON_TEXT_INVALID")
    actions = [name for name in BUTTON_ACTIONS if button.get(name) not in (None, "")]
    if not actions:
        raise _bad_request(
            "can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard"
        )
    data = button.get("callback_data")
    if data not in (None, "") and (
        not isinstance(data, str) or _utf8_length(data) > MAX_CALLBACK_DATA_BYTES
    ):
        raise _bad_request("BUTTON_DATA_INVALID")
    url = button.get("url")
    if url not in (None, "") and (not isinstance(url, str) or not _is_usable_url(url)):
        raise _bad_request(f"inline keyboard button URL '{url}' is invalid: Wrong HTTP URL")


def _check_keyboard_button(button: Any) -> None:
    if isinstance(button, str):
        text = button
    elif isinstance(button, dict):
        if "text" not in button:
            raise _bad_request("can't parse keyboard button: Can't find field \"text\"")
        text = button["text"]
        if not isinstance(text, str):
            raise _bad_request('can\'t parse keyboard button: Field "text" must be of type String')
    else:
        raise _bad_request(
            "can't parse keyboard button: KeyboardButton must be a String or an Object"
        )
    if not text.strip():
        raise _bad_request("BUTTON_TEXT_INVALID")


def _check_reply_markup(markup: Any, *, inline_only: bool) -> dict[str, Any] | None:
    if markup is None:
        return None
    if not isinstance(markup, dict):
        raise _bad_request("object expected as reply markup")
    if "inline_keyboard" in markup:
        rows = markup["inline_keyboard"]
        if not isinstance(rows, list):
            raise _bad_request(
                'field "inline_keyboard" of the InlineKeyboardMarkup must be an Array'
            )
        total = 0
        for row in rows:
            if not isinstance(row, list):
                raise _bad_request(
                    'field "inline_keyboard" of the InlineKeyboardMarkup must be an Array of Arrays'
                )
            for button in row:
                _check_inline_button(button)
            total += len(row)
        if total > MAX_INLINE_BUTTONS:
            raise _bad_request("REPLY_MARKUP_TOO_LONG")
        return markup
    if inline_only:
        raise _bad_request("inline keyboard expected")
    if "keyboard" in markup:
        rows = markup["keyboard"]
        if not isinstance(rows, list):
            raise _bad_request('field "keyboard" of the ReplyKeyboardMarkup must be an Array')
        for row in rows:
            if not isinstance(row, list):
                raise _bad_request(
                    'field "keyboard" of the ReplyKeyboardMarkup must be an Array of Arrays'
                )
            for button in row:
                _check_keyboard_button(button)
        return markup
    if markup.get("remove_keyboard") is True or markup.get("force_reply") is True:
        return markup
    raise _bad_request("object expected as reply markup")


def _check_entities(raw: Any) -> list[dict[str, Any]]:
    if not isinstance(raw, list):
        raise _bad_request("can't parse entities JSON object")
    for entity in raw:
        if (
            not isinstance(entity, dict)
            or not isinstance(entity.get("type"), str)
            or not isinstance(entity.get("offset"), int)
            or not isinstance(entity.get("length"), int)
        ):
            raise _bad_request("can't parse entities JSON object")
    return raw


def _chat_kind(chat_id: int | str) -> str:
    if isinstance(chat_id, str):
        return "channel"
    if chat_id > 0:
        return "private"
    return "supergroup" if str(chat_id).startswith("-100") else "group"


def _same_chat(a: int | str | None, b: int | str | None) -> bool:
    return a is not None and b is not None and str(a) == str(b)


def bot_urls(root: str) -> dict[str, str]:
    """``Bot(token, **bot_urls(root))``: the base URLs PTB needs for a Bot API server root."""
    root = root.rstrip("/")
    return {"base_url": f"{root}/bot", "base_file_url": f"{root}/file/bot"}


Handler = Callable[["_Params", Call], Awaitable[Any]]


class TelegramDouble:
    """State and inspection helpers of one fake Bot API server; ``app`` is its ASGI app."""

    def __init__(
        self,
        token: str = "123:ABC",
        *,
        flood_limits: bool = True,
        clock: Callable[[], float] = time.monotonic,
        bot_per_second: int = 30,
        private_per_second: float = 1.0,
        private_burst: int = 1,
        group_per_minute: int = 20,
        bot_username: str = BOT_USERNAME,
        bot_first_name: str = BOT_FIRST_NAME,
        callback_timeout: float = 15.0,
        max_poll_seconds: float = 1.0,
        strict_html_entities: bool = True,
        latency: float = 0.0,
        seed: int = 0,
    ) -> None:
        self.token = token
        self.flood_limits = flood_limits
        self.clock = clock
        self.callback_timeout = callback_timeout
        self.max_poll_seconds = max_poll_seconds
        self.strict_html_entities = strict_html_entities
        self.latency = latency
        self.seed = seed
        self.flood = _FloodControl(
            bot_per_second=bot_per_second,
            private_per_second=private_per_second,
            private_burst=private_burst,
            group_per_minute=group_per_minute,
        )
        bot_id = int(token.split(":", 1)[0]) if token.split(":", 1)[0].isdigit() else 1
        self.bot_user: dict[str, Any] = {
            "id": bot_id,
            "is_bot": True,
            "first_name": bot_first_name,
            "username": bot_username,
        }
        self.requests: list[Call] = []
        self.sent: list[Call] = []
        # Called with each accepted call that sent something (a benchmark waits on it).
        self.on_sent: Callable[[Call], None] | None = None
        self.rejected: list[Call] = []
        self.downloads: list[str] = []
        self.files: dict[str, StoredFile] = {}
        self.webhook = WebhookConfig()
        self.blocked: set[int | str] = set()
        self._files_by_path: dict[str, StoredFile] = {}
        self._file_numbers = itertools.count(1)
        self._message_ids = itertools.count(1_000_000)
        self._messages: dict[tuple[int | str, int], dict[str, Any]] = {}
        self._callbacks: dict[str, _CallbackQuery] = {}
        self._commands: dict[tuple[str, Any, Any, str], list[dict[str, Any]]] = {}
        self._updates: list[dict[str, Any]] = []
        self._allowed_updates: list[str] = []
        self._waiters: set[asyncio.Future[None]] = set()
        self._poller: object | None = None
        self._poll_ended_by = _FAULT_DESCRIPTIONS[409]
        self._closing = False
        self._faults: list[_Fault] = []
        self._random_faults: _RandomFaults | None = None
        self._handlers: dict[str, tuple[str, Handler]] = {}
        for name, handler in self._method_table().items():
            self._handlers[name.lower()] = (name, handler)
        self.app = Starlette(
            routes=[
                Route("/bot{token}/{method}", self._api_endpoint, methods=["GET", "POST"]),
                Route("/file/bot{token}/{file_path:path}", self._file_endpoint, methods=["GET"]),
            ]
        )

    # ----- inspection ---------------------------------------------------------------------
    # Chat ids may be given as int or str, as a bot may send them either way.

    def messages_to(self, chat_id: int | str) -> list[Call]:
        """Accepted calls that put a new message into ``chat_id``, oldest first."""
        return [c for c in self.sent if _same_chat(c.chat_id, chat_id) and c.method in SEND_METHODS]

    def texts_to(self, chat_id: int | str) -> list[str]:
        """Texts and captions of the new messages sent to ``chat_id``, as sent."""
        return [c.text for c in self.messages_to(chat_id) if c.text is not None]

    def last_message(self, chat_id: int | str) -> Call | None:
        """The latest accepted send or edit in ``chat_id``."""
        for call in reversed(self.sent):
            if _same_chat(call.chat_id, chat_id) and call.method in SEND_METHODS | EDIT_METHODS:
                return call
        return None

    def last_text(self, chat_id: int | str) -> str | None:
        """Text (or caption) of the latest message sent or edited in ``chat_id``, as sent."""
        for call in reversed(self.sent):
            if (
                _same_chat(call.chat_id, chat_id)
                and call.method in SEND_METHODS | EDIT_METHODS
                and call.text is not None
            ):
                return call.text
        return None

    def visible_messages(self, chat_id: int | str) -> list[dict[str, Any]]:
        """The bot's messages in ``chat_id`` as the resident now sees them (edits applied)."""
        found = [
            copy.deepcopy(m) for (chat, _), m in self._messages.items() if _same_chat(chat, chat_id)
        ]
        return sorted(found, key=lambda m: m["message_id"])

    def calls(self, method: str) -> list[Call]:
        """Accepted calls of one method, e.g. ``calls("answerCallbackQuery")``."""
        return [c for c in self.requests if c.ok and c.method == method]

    def unanswered_callbacks(self) -> list[str]:
        """Callback query ids the bot received but has not answered."""
        return [qid for qid, q in self._callbacks.items() if q.answered_at is None]

    def answered_callbacks(self) -> dict[str, dict[str, Any]]:
        """Answered callback query ids and what the bot answered (text, show_alert, url)."""
        return {
            qid: dict(q.answer or {})
            for qid, q in self._callbacks.items()
            if q.answered_at is not None
        }

    def commands(
        self, *, scope: dict[str, Any] | None = None, language_code: str = ""
    ) -> list[dict[str, Any]]:
        """The command list set for a scope and language, as getMyCommands would return it."""
        return copy.deepcopy(self._commands.get(self._command_key(scope, language_code), []))

    @property
    def pending_updates(self) -> list[dict[str, Any]]:
        return copy.deepcopy(self._updates)

    def clear(self) -> None:
        """Forget recorded calls and flood history; files, blocks and faults stay."""
        self.requests.clear()
        self.sent.clear()
        self.rejected.clear()
        self.downloads.clear()
        self.flood.reset()

    # ----- arranging ----------------------------------------------------------------------

    def block_chat(self, chat_id: int | str) -> None:
        """The resident blocked the bot (or, for a group, removed it): sends get 403."""
        self.blocked.add(int(chat_id))

    def unblock_chat(self, chat_id: int | str) -> None:
        self.blocked.discard(int(chat_id))

    def add_file(
        self,
        file_id: str,
        content: bytes,
        file_path: str | None = None,
        *,
        file_size: int | None = None,
        mime_type: str | None = None,
        file_name: str | None = None,
        size_known: bool = True,
        seconds: float = 0.0,
    ) -> StoredFile:
        """Make ``file_id`` known to getFile and downloadable from the file URL (over
        ``seconds``; without a size in getFile's answer when not ``size_known``)."""
        number = next(self._file_numbers)
        stored = StoredFile(
            file_id=file_id,
            file_unique_id=f"u-{file_id}",
            file_path=file_path or f"photos/file_{number}.jpg",
            content=content,
            file_size=len(content) if file_size is None else file_size,
            mime_type=mime_type,
            file_name=file_name,
            size_known=size_known,
            seconds=seconds,
        )
        self.files[file_id] = stored
        self._files_by_path[stored.file_path] = stored
        return stored

    def add_message(self, chat_id: int, message: dict[str, Any]) -> None:
        """Make a bot message the double did not send itself editable and deletable."""
        self._messages[(chat_id, int(message["message_id"]))] = copy.deepcopy(message)

    def track_update(self, update: dict[str, Any]) -> None:
        """Note what an update makes answerable (its callback query) without queueing it.

        Use it for updates a test posts straight to the bot's webhook.
        """
        query = update.get("callback_query")
        if not query:
            return
        self._callbacks[str(query["id"])] = _CallbackQuery(self.clock(), query.get("data"))
        message = query.get("message")
        if isinstance(message, dict) and message.get("from", {}).get("is_bot"):
            key = (message["chat"]["id"], int(message["message_id"]))
            self._messages.setdefault(key, copy.deepcopy(message))

    def push_update(self, update: dict[str, Any]) -> dict[str, Any]:
        """Queue an update for getUpdates (long polling wakes up at once)."""
        update = copy.deepcopy(update)
        if "update_id" not in update:
            last = max((u["update_id"] for u in self._updates), default=0)
            update["update_id"] = last + 1
        self.track_update(update)
        self._updates.append(update)
        self._wake_pollers()
        return update

    def fail_next(
        self,
        n: int = 1,
        status: int = 500,
        *,
        description: str | None = None,
        retry_after: int = 1,
        methods: Collection[str] | None = None,
    ) -> None:
        """The next ``n`` calls (optionally only of ``methods``) fail with ``status``."""
        names = frozenset(m.lower() for m in methods) if methods is not None else None
        self._faults.append(_Fault(n, status, description, retry_after, names))

    def fail_randomly(
        self,
        probability: float,
        status: int = 500,
        *,
        retry_after: int = 1,
        methods: Collection[str] | None = None,
        seed: int | None = None,
    ) -> None:
        """Fail each call with ``probability`` (seeded, so a benchmark run is repeatable)."""
        names = frozenset(m.lower() for m in methods) if methods is not None else None
        rng = random.Random(self.seed if seed is None else seed)
        self._random_faults = _RandomFaults(probability, status, retry_after, names, rng)

    def stop_failing(self) -> None:
        self._faults.clear()
        self._random_faults = None

    def close(self) -> None:
        """Release long polls so a server can shut down without waiting for them."""
        self._closing = True
        self._wake_pollers()

    # ----- HTTP ---------------------------------------------------------------------------

    def _unauthorized(self, token: str) -> JSONResponse:
        # Telegram answers 401 for a well-formed but wrong token and 404 for a malformed one.
        error = (
            ApiError(401, "Unauthorized")
            if _TOKEN_SHAPE.fullmatch(token)
            else ApiError(404, "Not Found")
        )
        return JSONResponse(error.body(), status_code=error.status)

    async def _read_params(self, request: Request) -> dict[str, Any]:
        params: dict[str, Any] = dict(request.query_params)
        content_type = request.headers.get("content-type", "").lower()
        if content_type.startswith("application/json"):
            body = await request.body()
            if body.strip():
                try:
                    decoded = json.loads(body)
                except ValueError:
                    raise _bad_request("can't parse JSON encoded request") from None
                if not isinstance(decoded, dict):
                    raise _bad_request("can't parse JSON encoded request")
                params.update(decoded)
        elif content_type.startswith(("multipart/form-data", "application/x-www-form-urlencoded")):
            async with request.form(max_part_size=MAX_UPLOAD_SIZE) as form:
                for key, value in form.multi_items():
                    if isinstance(value, UploadFile):
                        data = await value.read()
                        if len(data) > MAX_UPLOAD_SIZE:
                            raise ApiError(413, "Request Entity Too Large")
                        params[key] = Upload(value.filename, value.content_type, data)
                    else:
                        params[key] = value
        return params

    def _injected_fault(self, method: str) -> ApiError | None:
        key = method.lower()
        for fault in self._faults:
            if fault.methods is None or key in fault.methods:
                fault.remaining -= 1
                if fault.remaining <= 0:
                    self._faults.remove(fault)
                return self._fault_error(fault.status, fault.description, fault.retry_after)
        chance = self._random_faults
        if (
            chance is not None
            and (chance.methods is None or key in chance.methods)
            and chance.rng.random() < chance.probability
        ):
            return self._fault_error(chance.status, None, chance.retry_after)
        return None

    @staticmethod
    def _fault_error(status: int, description: str | None, retry_after: int) -> ApiError:
        if status == 429:
            error = _too_many_requests(retry_after)
            if description:
                error.description = description
            return error
        return ApiError(status, description or _FAULT_DESCRIPTIONS.get(status, "Unknown error"))

    async def _api_endpoint(self, request: Request) -> Response:
        token = request.path_params["token"]
        if token != self.token:
            return self._unauthorized(token)
        entry = self._handlers.get(request.path_params["method"].lower())
        if entry is None:
            error = ApiError(404, "Not Found")
            return JSONResponse(error.body(), status_code=404)
        method, _handler = entry
        call = Call(method=method, params={}, timestamp=self.clock())
        try:
            call.params = await self._read_params(request)
        except ApiError as error:
            return self._refuse(call, error)
        return await self._invoke(call)

    async def _invoke(self, call: Call) -> Response:
        """Run one accepted-for-parsing call: faults, the method's rules, the record."""
        _method, handler = self._handlers[call.method.lower()]
        try:
            if self.latency:
                await asyncio.sleep(self.latency)
            fault = self._injected_fault(call.method)
            if fault is not None:
                raise fault
            result = await handler(_Params(call.params), call)
        except ApiError as error:
            return self._refuse(call, error)
        body: dict[str, Any] = {"ok": True}
        if isinstance(result, _Described):
            body["result"] = result.result
            body["description"] = result.description
            call.result = result.result
        else:
            body["result"] = result
            call.result = result
        self.requests.append(call)
        if call.method not in READ_METHODS:
            self.sent.append(call)
            if self.on_sent is not None:
                self.on_sent(call)
        return JSONResponse(body)

    def _refuse(self, call: Call, error: ApiError) -> Response:
        call.error = error
        self.requests.append(call)
        self.rejected.append(call)
        return JSONResponse(error.body(), status_code=error.status)

    async def webhook_reply(self, status: int, content_type: str, body: bytes) -> Call | None:
        """What Telegram does with the bot's answer to a webhook POST.

        A 200 answer may carry one Bot API call: a JSON object naming it in ``method``, with its
        parameters beside it. Telegram makes that call as if the bot had, and the bot never
        learns whether it succeeded. Returns the call (rejected ones too), None when the answer
        carried none.
        """
        if status != 200 or not content_type.startswith("application/json") or not body:
            return None
        try:
            params = json.loads(body)
        except ValueError:
            return None
        if not isinstance(params, dict) or not isinstance(params.get("method"), str):
            return None
        entry = self._handlers.get(params.pop("method").lower())
        if entry is None:
            return None
        call = Call(method=entry[0], params=params, timestamp=self.clock(),
                    in_webhook_answer=True)
        await self._invoke(call)
        return call

    async def _file_endpoint(self, request: Request) -> Response:
        token = request.path_params["token"]
        if token != self.token:
            return self._unauthorized(token)
        stored = self._files_by_path.get(request.path_params["file_path"])
        if stored is None:
            return JSONResponse(ApiError(404, "Not Found").body(), status_code=404)
        self.downloads.append(stored.file_path)
        media_type = stored.mime_type or "application/octet-stream"
        if not stored.seconds and stored.size_known:
            stored.served = len(stored.content)
            return Response(stored.content, media_type=media_type)
        return StreamingResponse(self._pieces(stored), media_type=media_type)

    @staticmethod
    async def _pieces(stored: StoredFile) -> AsyncIterator[bytes]:
        """The file in 64 KiB pieces spread over its ``seconds`` (no Content-Length)."""
        size = 64 * 1024
        count = max(1, -(-len(stored.content) // size))
        for start in range(0, len(stored.content), size):
            if stored.seconds:
                await asyncio.sleep(stored.seconds / count)
            piece = stored.content[start:start + size]
            stored.served += len(piece)
            yield piece

    # ----- shared rules -------------------------------------------------------------------

    @staticmethod
    def _chat_id(params: _Params) -> int | str:
        value = params.get("chat_id")
        if value is None or value == "":
            raise _bad_request("chat_id is empty")
        if isinstance(value, int) and not isinstance(value, bool) and value != 0:
            return value
        if isinstance(value, str):
            with contextlib.suppress(ValueError):
                number = int(value.strip())
                if number != 0:
                    return number
        raise _bad_request("chat not found")

    def _check_reachable(self, chat_id: int | str) -> None:
        if chat_id in self.blocked:
            if _chat_kind(chat_id) == "private":
                raise ApiError(403, "Forbidden: bot was blocked by the user")
            raise ApiError(403, "Forbidden: bot was kicked from the group chat")

    def _check_flood(self, chat_id: int | str | None, items: int = 1) -> None:
        if self.flood_limits:
            self.flood.check(chat_id, self.clock(), items)

    def _count_flood(self, chat_id: int | str | None, items: int = 1) -> None:
        if self.flood_limits:
            self.flood.record(chat_id, self.clock(), items)

    def _formatted(
        self,
        params: _Params,
        *,
        text_field: str,
        mode_field: str,
        entities_field: str,
        limit: int,
        too_long: str,
        required: bool,
    ) -> FormattedText | None:
        text = params.text(text_field)
        if text is None:
            if required:
                raise _bad_request("message text is empty")
            return None
        entities = params.json(entities_field, "can't parse entities JSON object")
        if entities is not None:
            formatted = FormattedText(text, _check_entities(entities))
        else:
            formatted = self._parse(text, params.text(mode_field))
        if required and not formatted.text.strip():
            raise _bad_request("message text is empty")
        if utf16_length(formatted.text) > limit:
            raise _bad_request(too_long)
        return formatted

    def _message_text(self, params: _Params) -> FormattedText:
        """A message's text (sendMessage, editMessageText): required, up to 4096 characters."""
        formatted = self._formatted(
            params,
            text_field="text",
            mode_field="parse_mode",
            entities_field="entities",
            limit=MAX_TEXT_LENGTH,
            too_long="message is too long",
            required=True,
        )
        assert formatted is not None
        return formatted

    def _caption(self, params: _Params) -> FormattedText | None:
        """A media message's caption, if it has one: up to 1024 characters."""
        return self._formatted(
            params,
            text_field="caption",
            mode_field="parse_mode",
            entities_field="caption_entities",
            limit=MAX_CAPTION_LENGTH,
            too_long="message caption is too long",
            required=False,
        )

    def _parse(self, text: str, parse_mode: str | None) -> FormattedText:
        try:
            return parse_formatted_text(
                text, parse_mode, strict_html_entities=self.strict_html_entities
            )
        except EntityParseError as error:
            raise _bad_request(f"can't parse entities: {error}") from None
        except ValueError:
            raise _bad_request("unsupported parse_mode") from None

    def _reply_markup(self, params: _Params, *, inline_only: bool) -> dict[str, Any] | None:
        raw = params.json("reply_markup", "can't parse reply keyboard markup JSON object")
        return _check_reply_markup(raw, inline_only=inline_only)

    def _chat(self, chat_id: int | str) -> dict[str, Any]:
        kind = _chat_kind(chat_id)
        if kind == "private":
            return {"id": chat_id, "type": "private", "first_name": "Warga"}
        if kind == "channel":
            return {"id": -1_009_999_999_999, "type": "channel", "title": str(chat_id)}
        return {"id": chat_id, "type": kind, "title": "Grup Warga"}

    def _store_message(
        self, chat_id: int | str, content: dict[str, Any], reply_markup: dict[str, Any] | None
    ) -> dict[str, Any]:
        message: dict[str, Any] = {
            "message_id": next(self._message_ids),
            "from": dict(self.bot_user),
            "chat": self._chat(chat_id),
            "date": int(time.time()),
            **content,
        }
        # Telegram echoes only inline keyboards in the returned Message.
        if reply_markup is not None and "inline_keyboard" in reply_markup:
            message["reply_markup"] = copy.deepcopy(reply_markup)
        self._messages[(chat_id, message["message_id"])] = message
        return copy.deepcopy(message)

    @staticmethod
    def _text_content(formatted: FormattedText, key: str = "text") -> dict[str, Any]:
        content: dict[str, Any] = {key: formatted.text}
        if formatted.entities:
            content["entities" if key == "text" else "caption_entities"] = formatted.entities
        return content

    def _describe(
        self,
        call: Call,
        chat_id: int | str | None,
        params: _Params,
        *,
        text_field: str,
        mode_field: str,
        formatted: FormattedText | None,
        reply_markup: dict[str, Any] | None,
    ) -> None:
        call.chat_id = chat_id
        call.text = params.text(text_field)
        call.parse_mode = params.text(mode_field)
        call.reply_markup = reply_markup
        if formatted is not None:
            call.plain_text = formatted.text
            call.entities = formatted.entities

    def _input_file(self, params: _Params, name: str, kind: str) -> StoredFile:
        value = params.get(name)
        if value is None or value == "":
            raise _bad_request(f"there is no {kind} in the request")
        if isinstance(value, str) and value.startswith("attach://"):
            value = params.get(value[len("attach://") :])
            if not isinstance(value, Upload):
                raise _bad_request("wrong file identifier/HTTP URL specified")
        if isinstance(value, Upload):
            if not value.data:
                raise _bad_request("file must be non-empty")
            number = next(self._file_numbers)
            folder = "photos" if kind == "photo" else "documents"
            suffix = ".jpg" if kind == "photo" else ""
            if kind != "photo" and value.filename and "." in value.filename:
                suffix = "." + value.filename.rsplit(".", 1)[1]
            return self.add_file(
                f"{kind.upper()}-{number:06d}",
                value.data,
                f"{folder}/file_{number}{suffix}",
                mime_type=value.content_type,
                file_name=value.filename,
            )
        reference = params.text(name) or ""
        if reference in self.files:
            return self.files[reference]
        if reference.startswith(("http://", "https://")):
            number = next(self._file_numbers)
            return self.add_file(f"URL-{number:06d}", b"", f"{kind}s/file_{number}")
        raise _bad_request("wrong file identifier/HTTP URL specified")

    @staticmethod
    def _media_content(stored: StoredFile, kind: str) -> dict[str, Any]:
        if kind == "photo":
            return {
                "photo": [
                    {
                        "file_id": stored.file_id,
                        "file_unique_id": stored.file_unique_id,
                        "file_size": stored.file_size,
                        "width": 1280,
                        "height": 960,
                    }
                ]
            }
        document: dict[str, Any] = {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": stored.file_size,
        }
        if stored.file_name:
            document["file_name"] = stored.file_name
        if stored.mime_type:
            document["mime_type"] = stored.mime_type
        if kind == "voice":  # a Voice object has a duration, and no file name
            document.pop("file_name", None)
            document["duration"] = 1
        return {kind: document}

    def _stored_message(self, params: _Params, chat_id: int | str, missing: str) -> dict[str, Any]:
        message_id = params.integer("message_id")
        if message_id is None:
            raise _bad_request("message identifier is not specified")
        message = self._messages.get((chat_id, message_id))
        if message is None:
            raise _bad_request(missing)
        return message

    # ----- methods ------------------------------------------------------------------------

    def _method_table(self) -> dict[str, Handler]:
        return {
            "getMe": self._get_me,
            "sendMessage": self._send_message,
            "editMessageText": self._edit_message_text,
            "editMessageReplyMarkup": self._edit_message_reply_markup,
            "answerCallbackQuery": self._answer_callback_query,
            "sendPhoto": self._send_photo,
            "sendVoice": self._send_voice,
            "sendDocument": self._send_document,
            "sendMediaGroup": self._send_media_group,
            "getFile": self._get_file,
            "deleteMessage": self._delete_message,
            "setWebhook": self._set_webhook,
            "deleteWebhook": self._delete_webhook,
            "getWebhookInfo": self._get_webhook_info,
            "getUpdates": self._get_updates,
            "setMyCommands": self._set_my_commands,
            "getMyCommands": self._get_my_commands,
            "deleteMyCommands": self._delete_my_commands,
            "sendChatAction": self._send_chat_action,
        }

    async def _get_me(self, params: _Params, call: Call) -> Any:
        return {
            **self.bot_user,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    async def _send_message(self, params: _Params, call: Call) -> Any:
        chat_id = self._chat_id(params)
        formatted = self._message_text(params)
        markup = self._reply_markup(params, inline_only=False)
        self._describe(
            call, chat_id, params, text_field="text", mode_field="parse_mode",
            formatted=formatted, reply_markup=markup,
        )  # fmt: skip
        self._check_reachable(chat_id)
        self._check_flood(chat_id)
        message = self._store_message(chat_id, self._text_content(formatted), markup)
        self._count_flood(chat_id)
        call.message_id = message["message_id"]
        return message

    async def _send_media(self, params: _Params, call: Call, kind: str) -> Any:
        chat_id = self._chat_id(params)
        formatted = self._caption(params)
        markup = self._reply_markup(params, inline_only=False)
        stored = self._input_file(params, kind, kind)
        self._describe(
            call, chat_id, params, text_field="caption", mode_field="parse_mode",
            formatted=formatted, reply_markup=markup,
        )  # fmt: skip
        self._check_reachable(chat_id)
        self._check_flood(chat_id)
        content = self._media_content(stored, kind)
        if formatted is not None and formatted.text:
            content.update(self._text_content(formatted, "caption"))
        message = self._store_message(chat_id, content, markup)
        self._count_flood(chat_id)
        call.message_id = message["message_id"]
        return message

    async def _send_photo(self, params: _Params, call: Call) -> Any:
        return await self._send_media(params, call, "photo")

    async def _send_voice(self, params: _Params, call: Call) -> Any:
        return await self._send_media(params, call, "voice")

    async def _send_document(self, params: _Params, call: Call) -> Any:
        return await self._send_media(params, call, "document")

    async def _send_media_group(self, params: _Params, call: Call) -> Any:
        chat_id = self._chat_id(params)
        media = params.json("media", "can't parse media JSON object")
        if not isinstance(media, list) or not 2 <= len(media) <= 10:
            raise _bad_request("media group must contain from 2 to 10 media")
        items: list[dict[str, Any]] = []
        for item in media:
            if not isinstance(item, dict) or item.get("type") not in ("photo", "document"):
                raise _bad_request("can't parse InputMedia: unsupported media type")
            item_params = _Params({**params.raw, **item})
            formatted = self._caption(item_params)
            stored = self._input_file(item_params, "media", item["type"])
            content = self._media_content(stored, item["type"])
            if formatted is not None and formatted.text:
                content.update(self._text_content(formatted, "caption"))
            items.append(content)
        call.chat_id = chat_id
        call.text = next((_Params(m).text("caption") for m in media if m.get("caption")), None)
        self._check_reachable(chat_id)
        self._check_flood(chat_id, len(items))
        group_id = str(next(self._message_ids))
        messages = [
            self._store_message(chat_id, {**content, "media_group_id": group_id}, None)
            for content in items
        ]
        self._count_flood(chat_id, len(items))
        call.message_id = messages[0]["message_id"]
        return messages

    async def _edit_message_text(self, params: _Params, call: Call) -> Any:
        formatted = self._message_text(params)
        markup = self._reply_markup(params, inline_only=True)
        if params.text("inline_message_id"):
            self._describe(
                call, None, params, text_field="text", mode_field="parse_mode",
                formatted=formatted, reply_markup=markup,
            )  # fmt: skip
            self._check_flood(None)
            self._count_flood(None)
            return True
        chat_id = self._chat_id(params)
        message = self._stored_message(params, chat_id, "message to edit not found")
        self._describe(
            call, chat_id, params, text_field="text", mode_field="parse_mode",
            formatted=formatted, reply_markup=markup,
        )  # fmt: skip
        call.message_id = message["message_id"]
        if "text" not in message:
            raise _bad_request("there is no text in the message to edit")
        if (
            message["text"] == formatted.text
            and message.get("entities", []) == formatted.entities
            and message.get("reply_markup") == markup
        ):
            raise _bad_request(_NOT_MODIFIED_DETAIL)
        self._check_reachable(chat_id)
        self._check_flood(chat_id)
        message["text"] = formatted.text
        message.pop("entities", None)
        if formatted.entities:
            message["entities"] = formatted.entities
        return self._edited(chat_id, message, markup)

    async def _edit_message_reply_markup(self, params: _Params, call: Call) -> Any:
        markup = self._reply_markup(params, inline_only=True)
        if params.text("inline_message_id"):
            call.reply_markup = markup
            self._check_flood(None)
            self._count_flood(None)
            return True
        chat_id = self._chat_id(params)
        message = self._stored_message(params, chat_id, "message to edit not found")
        call.chat_id = chat_id
        call.reply_markup = markup
        call.message_id = message["message_id"]
        if message.get("reply_markup") == markup:
            raise _bad_request(_NOT_MODIFIED_DETAIL)
        self._check_reachable(chat_id)
        self._check_flood(chat_id)
        return self._edited(chat_id, message, markup)

    def _edited(self, chat_id: int, message: dict[str, Any],
                markup: dict[str, Any] | None) -> dict[str, Any]:
        """The end of an edit: the new keyboard (leaving reply_markup out of an edit removes the
        keyboard, as on Telegram), the edit's time; a copy of the message is the answer."""
        message.pop("reply_markup", None)
        if markup is not None:
            message["reply_markup"] = copy.deepcopy(markup)
        message["edit_date"] = int(time.time())
        self._count_flood(chat_id)
        return copy.deepcopy(message)

    async def _delete_message(self, params: _Params, call: Call) -> Any:
        chat_id = self._chat_id(params)
        message = self._stored_message(params, chat_id, "message to delete not found")
        call.chat_id = chat_id
        call.message_id = message["message_id"]
        del self._messages[(chat_id, message["message_id"])]
        return True

    async def _answer_callback_query(self, params: _Params, call: Call) -> Any:
        query_id = params.text("callback_query_id") or ""
        query = self._callbacks.get(query_id)
        now = self.clock()
        if (
            query is None
            or query.answered_at is not None
            or now - query.received_at > self.callback_timeout
        ):
            raise _bad_request(
                "query is too old and response timeout expired or query ID is invalid"
            )
        text = params.text("text")
        call.text = text
        if text is not None and utf16_length(text) > MAX_CALLBACK_ANSWER_LENGTH:
            raise _bad_request("MESSAGE_TOO_LONG")
        query.answered_at = now
        query.answer = {
            "text": text,
            "show_alert": params.flag("show_alert"),
            "url": params.text("url"),
        }
        return True

    async def _get_file(self, params: _Params, call: Call) -> Any:
        stored = self.files.get(params.text("file_id") or "")
        if stored is None:
            raise _bad_request("invalid file_id")
        if stored.file_size > MAX_DOWNLOAD_SIZE:
            raise _bad_request("file is too big")
        answer = {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": stored.file_size,
            "file_path": stored.file_path,
        }
        if not stored.size_known:
            del answer["file_size"]
        return answer

    async def _send_chat_action(self, params: _Params, call: Call) -> Any:
        chat_id = self._chat_id(params)
        action = params.text("action")
        call.chat_id = chat_id
        if action not in CHAT_ACTIONS:
            raise _bad_request("wrong parameter action in request")
        self._check_reachable(chat_id)
        return True

    async def _set_webhook(self, params: _Params, call: Call) -> Any:
        url = params.text("url") or ""
        if url:
            parts = urlsplit(url)
            if parts.scheme.lower() != "https" or not parts.hostname:
                raise _bad_request("bad webhook: An HTTPS URL must be provided for webhook")
            if parts.port not in (None, 80, 88, 443, 8443):
                raise _bad_request(
                    "bad webhook: Webhook can be set up only on ports 80, 88, 443 or 8443"
                )
        secret = params.text("secret_token")
        if secret is not None and not _SECRET_SHAPE.fullmatch(secret):
            raise _bad_request("secret token contains unallowed characters")
        allowed = params.json("allowed_updates", "can't parse allowed updates JSON object")
        if params.flag("drop_pending_updates"):
            self._updates.clear()
        if not url:
            was_set = bool(self.webhook.url)
            self.webhook = WebhookConfig()
            return _Described(
                True, "Webhook was deleted" if was_set else "Webhook is already deleted"
            )
        self.webhook = WebhookConfig(
            url=url,
            secret_token=secret,
            max_connections=params.integer("max_connections") or 40,
            allowed_updates=allowed if isinstance(allowed, list) else None,
        )
        # A new webhook ends a pending long poll, as on Telegram.
        self._poller = None
        self._poll_ended_by = "Conflict: terminated by setWebhook request"
        self._wake_pollers()
        return _Described(True, "Webhook was set")

    async def _delete_webhook(self, params: _Params, call: Call) -> Any:
        if params.flag("drop_pending_updates"):
            self._updates.clear()
        was_set = bool(self.webhook.url)
        self.webhook = WebhookConfig()
        return _Described(True, "Webhook was deleted" if was_set else "Webhook is already deleted")

    async def _get_webhook_info(self, params: _Params, call: Call) -> Any:
        info: dict[str, Any] = {
            "url": self.webhook.url,
            "has_custom_certificate": False,
            "pending_update_count": len(self._updates),
        }
        if self.webhook.url:
            info["max_connections"] = self.webhook.max_connections
            info["ip_address"] = "127.0.0.1"
            if self.webhook.allowed_updates is not None:
                info["allowed_updates"] = self.webhook.allowed_updates
        return info

    @staticmethod
    def _command_key(scope: dict[str, Any] | None, language_code: str) -> tuple[str, Any, Any, str]:
        scope = scope or {"type": "default"}
        return (str(scope.get("type")), scope.get("chat_id"), scope.get("user_id"), language_code)

    def _scope_and_language(self, params: _Params) -> tuple[str, Any, Any, str]:
        scope = params.json("scope", "can't parse BotCommandScope JSON object")
        if scope is not None and (
            not isinstance(scope, dict) or scope.get("type") not in COMMAND_SCOPES
        ):
            raise _bad_request("unsupported bot command scope type")
        language_code = params.text("language_code") or ""
        if language_code and not re.fullmatch(r"[a-z]{2}", language_code):
            raise _bad_request("invalid language code specified")
        return self._command_key(scope, language_code)

    async def _set_my_commands(self, params: _Params, call: Call) -> Any:
        commands = params.json("commands", "can't parse commands JSON object")
        if not isinstance(commands, list):
            raise _bad_request('field "commands" must be an Array')
        if len(commands) > 100:
            raise _bad_request("BOT_COMMANDS_TOO_MUCH")
        cleaned: list[dict[str, Any]] = []
        for command in commands:
            if not isinstance(command, dict):
                raise _bad_request("can't parse BotCommand: BotCommand must be an Object")
            name = command.get("command")
            description = command.get("description")
            if not isinstance(name, str) or not _COMMAND_SHAPE.fullmatch(name.removeprefix("/")):
                raise _bad_request("BOT_COMMAND_INVALID")
            if not isinstance(description, str) or not 1 <= len(description.strip()) <= 256:
                raise _bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
            cleaned.append({"command": name.removeprefix("/"), "description": description})
        self._commands[self._scope_and_language(params)] = cleaned
        return True

    async def _get_my_commands(self, params: _Params, call: Call) -> Any:
        return copy.deepcopy(self._commands.get(self._scope_and_language(params), []))

    async def _delete_my_commands(self, params: _Params, call: Call) -> Any:
        self._commands.pop(self._scope_and_language(params), None)
        return True

    # ----- long polling -------------------------------------------------------------------

    def _wake_pollers(self) -> None:
        for waiter in self._waiters:
            if not waiter.done():
                waiter.set_result(None)
        self._waiters.clear()

    def _allowed(self, update: dict[str, Any]) -> bool:
        kind = next((key for key in update if key != "update_id"), "")
        if self._allowed_updates:
            return kind in self._allowed_updates
        return kind not in OPT_IN_UPDATES

    async def _get_updates(self, params: _Params, call: Call) -> Any:
        if self.webhook.url:
            raise ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first",
            )
        offset = params.integer("offset") or 0
        limit = min(max(params.integer("limit") or 100, 1), 100)
        timeout = max(params.integer("timeout") or 0, 0)
        allowed = params.json("allowed_updates", "can't parse allowed updates JSON object")
        if isinstance(allowed, list):
            self._allowed_updates = [str(kind) for kind in allowed]
        if offset > 0:
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
        elif offset < 0:
            self._updates = self._updates[offset:]
        # A second long poll ends the first with 409, as on Telegram.
        ticket = object()
        self._poller = ticket
        self._poll_ended_by = _FAULT_DESCRIPTIONS[409]
        self._wake_pollers()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + min(float(timeout), self.max_poll_seconds)
        while True:
            if self._poller is not ticket:
                raise ApiError(409, self._poll_ended_by)
            self._updates = [u for u in self._updates if self._allowed(u)]
            remaining = deadline - loop.time()
            if self._updates or remaining <= 0 or self._closing:
                return copy.deepcopy(self._updates[:limit])
            waiter: asyncio.Future[None] = loop.create_future()
            self._waiters.add(waiter)
            try:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(waiter, remaining)
            finally:
                self._waiters.discard(waiter)


def create_bot_api(
    token: str = "123:ABC",
    *,
    flood_limits: bool = True,
    clock: Callable[[], float] = time.monotonic,
    **options: Any,
) -> TelegramDouble:
    """A fresh Bot API double; ``options`` are TelegramDouble's (limits, username, latency...)."""
    return TelegramDouble(token, flood_limits=flood_limits, clock=clock, **options)


class _TestServer(uvicorn.Server):
    # Leave SIGINT to pytest: a Ctrl-C should stop the test run, not just this server.
    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield


@contextlib.asynccontextmanager
async def serve_bot_api(double: TelegramDouble, *, host: str = "127.0.0.1",
                        http: str = "h11") -> AsyncIterator[str]:
    """Serve ``double`` with uvicorn on a free loopback port; yields the server root URL.

    ``http="httptools"`` parses requests in C, for benchmarks where the double shares the
    machine with the app."""
    config = uvicorn.Config(
        double.app,
        host=host,
        port=0,
        log_level="warning",
        access_log=False,
        lifespan="off",
        http=http,
        ws="none",
        timeout_graceful_shutdown=2,
    )
    server = _TestServer(config)
    task = asyncio.create_task(server.serve())
    try:
        while not server.started:
            if task.done():
                task.result()
                raise RuntimeError("the Bot API double stopped before it started")
            await asyncio.sleep(0.005)
        port = server.servers[0].sockets[0].getsockname()[1]
        yield f"http://{host}:{port}"
    finally:
        double.close()
        server.should_exit = True
        await task
        double._closing = False
