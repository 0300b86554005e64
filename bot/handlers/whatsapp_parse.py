"""Twilio's inbound WhatsApp webhook form → the neutral Inbound, and the URL Twilio signed."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Mapping
from urllib.parse import urlsplit

from starlette.requests import Request

from bot.messages import Channel, Inbound, Kind, Location, Media
from storage.phone import country_code, to_e164

MAX_MEDIA = 10  # Twilio numbers a message's media MediaUrl0..MediaUrl9

MediaFetcher = Callable[[str], Callable[[], Awaitable[bytes]]]
"""``fetcher(url)`` returns the coroutine function that downloads that media URL."""


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


def form_int(value: object) -> int | None:
    """A whole number from a form field or header; None when it is missing or not a number."""
    try:
        return int(str(value)) if value not in (None, "") else None
    except ValueError:
        return None


# Twilio's message ids: SM (or MM for media) and 32 hexadecimal digits.
_MESSAGE_SID = re.compile(r"(SM|MM)[0-9a-f]{32}")


def _float(value: str | None) -> float | None:
    try:
        return float(value) if value not in (None, "") else None
    except ValueError:
        return None


def parse_form(form: Mapping[str, str], *, fetcher: MediaFetcher | None = None,
               own_number: str | None = None) -> Inbound | None:
    """Turn Twilio's inbound-message form into the neutral Inbound; None when it is not a
    WhatsApp message from someone else: no message id or one not shaped as Twilio makes them
    (a signed form whose fields were shifted into each other), an SMS or other sender, or the
    bot's own number (answering it would loop)."""
    sid = form.get("MessageSid") or form.get("SmsMessageSid") or ""
    if not _MESSAGE_SID.fullmatch(sid):
        return None
    sender = form.get("From") or ""
    if sender and not sender.startswith("whatsapp:"):
        return None
    user = to_e164(sender) or to_e164(form.get("WaId"))
    if not user or (own_number is not None and user == own_number):
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
    num_media = form_int(form.get("NumMedia")) or 0
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
        for index in range(min(num_media, MAX_MEDIA)):
            url = form.get(f"MediaUrl{index}")
            if not url:
                continue
            content_type = (form.get(f"MediaContentType{index}") or "").lower() or None
            kind = _media_kind(content_type or "", message_type)
            inbound.media.append(Media(
                kind=kind, content_type=content_type, size=None,
                fetch=fetcher(url) if fetcher else None, ref=url,
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
