"""The channel-neutral message model every adapter parses into and renders from."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class Channel(StrEnum):
    TELEGRAM = "telegram"
    WHATSAPP = "whatsapp"
    TERMINAL = "terminal"


class Kind(StrEnum):
    """What the resident sent, as far as a flow cares."""

    TEXT = "text"
    OPTION = "option"  # a button press / quick reply
    PHOTO = "photo"
    DOCUMENT = "document"
    LOCATION = "location"
    CONTACT = "contact"
    STICKER = "sticker"
    VOICE = "voice"
    VIDEO = "video"
    COMMAND = "command"
    OTHER = "other"


@dataclass(frozen=True, slots=True)
class Location:
    latitude: float
    longitude: float
    address: str | None = None


@dataclass(slots=True)
class Media:
    """A file the resident sent. `fetch` downloads it through the channel (lazily)."""

    kind: Kind
    content_type: str | None
    size: int | None
    fetch: Callable[[], Awaitable[bytes]] | None = None
    ref: str | None = None  # the channel's own id or URL, never shown to anyone
    # Once downloaded (outside the event's transaction): the stored file, or why it is not.
    ready: Any = None
    # The download under way (bot.photos.PhotoFetcher.begin), and whether the event went on
    # without waiting for it: then ``fetch_id`` names the row that will receive it.
    task: Any = None
    late: bool = False
    fetch_id: int | None = None


@dataclass(slots=True)
class Inbound:
    """One event from a resident or staff member, whatever the channel."""

    channel: Channel
    user_key: str  # the channel's stable id for the person (chat id, E.164 number, ...)
    event_id: str  # idempotency key: Telegram update_id, Twilio MessageSid, ...
    kind: Kind = Kind.TEXT
    text: str | None = None
    option_id: str | None = None
    command: str | None = None  # "start", "menu", ... without the slash
    command_arg: str | None = None
    media: list[Media] = field(default_factory=list)
    location: Location | None = None
    contact_phone: str | None = None
    locale_hint: str | None = None
    # The hint is the person's own choice for this conversation (`emas chat --lang en`): it
    # overrides a language saved before, as choosing from the language menu would.
    locale_explicit: bool = False
    display_name: str | None = None
    is_group: bool = False
    mentioned: bool = False  # in a group: the bot was addressed
    edited: bool = False
    chat_key: str | None = None  # where to answer when it is not the user's private chat


@dataclass(frozen=True, slots=True)
class Option:
    """A choice offered to the user; `id` is short and channel-neutral (fits callback_data)."""

    id: str
    label: str


@dataclass(slots=True)
class Reply:
    """One message the bot sends back. Text is plain: adapters escape it for their parse mode."""

    text: str
    options: list[Option] = field(default_factory=list)
    media_paths: list[str] = field(default_factory=list)
    # Voice notes to play (for staff: the resident's own words), sent after the message.
    audio_paths: list[str] = field(default_factory=list)
    request_location: bool = False
    url_button: tuple[str, str] | None = None  # (label, url)
    edit: bool = False  # may replace the previous bot message (a menu) where the channel can
    to: str | None = None  # another recipient's user key (notifications); None = the sender
    channel: str | None = None  # the recipient's channel when it is not the sender's
    alert: str | None = None  # a short toast for a button press (Telegram callback answer)
    # What the message is, for channels that need a pre-approved template outside a session
    # window (WhatsApp): "reply" needs none; e.g. "report_status" maps to a template.
    kind: str = "reply"
    template_vars: dict[str, str] = field(default_factory=dict)


def reply_payload(reply: Reply) -> dict[str, Any]:
    """A reply as JSON, for the outbox (a button pop-up is not kept: it answered its press)."""
    payload: dict[str, Any] = {
        "text": reply.text,
        "options": [[o.id, o.label] for o in reply.options],
        "media_paths": list(reply.media_paths),
        "audio_paths": list(reply.audio_paths),
        "url_button": list(reply.url_button) if reply.url_button else None,
        "kind": reply.kind,
        "template_vars": dict(reply.template_vars),
    }
    if reply.request_location:
        payload["request_location"] = True
    if reply.edit:
        payload["edit"] = True
    return payload


def reply_from_payload(payload: dict[str, Any]) -> Reply:
    button = payload.get("url_button")
    return Reply(
        text=payload.get("text", ""),
        options=[Option(id=i, label=label) for i, label in payload.get("options", [])],
        media_paths=list(payload.get("media_paths", [])),
        audio_paths=list(payload.get("audio_paths", [])),
        url_button=(button[0], button[1]) if button else None,
        kind=payload.get("kind", "reply"),
        template_vars=dict(payload.get("template_vars", {})),
        request_location=bool(payload.get("request_location")),
        edit=bool(payload.get("edit")),
    )


def option_ids(reply: Reply) -> list[str]:
    return [o.id for o in reply.options]


def split_text(text: str, limit: int) -> list[str]:
    """Cut a long text into pieces of at most `limit` characters, at paragraph, line or
    sentence boundaries where possible, so each piece reads on its own."""
    if len(text) <= limit:
        return [text]
    pieces: list[str] = []
    rest = text
    while len(rest) > limit:
        window = rest[:limit]
        cut = -1
        for sep in ("\n\n", "\n", ". ", "! ", "? ", "; ", ", ", " "):
            pos = window.rfind(sep)
            if pos > limit // 3:
                cut = pos + len(sep)
                break
        if cut <= 0:
            cut = limit
        pieces.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    if rest:
        pieces.append(rest)
    return pieces


def merge_replies(replies: list[Reply]) -> list[Reply]:
    """Fold plain notes into the message that follows them, so one event is one message
    where possible (fewer messages, kinder to per-chat flood limits)."""
    merged: list[Reply] = []
    pending: list[str] = []
    for reply in replies:
        plain = not (reply.options or reply.media_paths or reply.audio_paths
                     or reply.request_location
                     or reply.url_button or reply.alert)
        if plain and reply.to is None and not reply.edit:
            pending.append(reply.text)
            continue
        if pending and reply.to is None:
            reply.text = "\n\n".join([*pending, reply.text])
            pending = []
        merged.append(reply)
    if pending:
        merged.append(Reply(text="\n\n".join(pending)))
    return merged
