"""Chat drivers: one transcript-style API over every channel, so flow tests run on each.

    await chat.say("halo")             # type a message
    await chat.tap("Make a report")    # press a button / answer with its number
    await chat.share_location(3.6, 98.48)
    await chat.send_photo(png_bytes())
    assert "Ticket" in chat.text       # everything the bot answered to the last action
    assert "Skip" in chat.options      # the labels offered last
"""

from __future__ import annotations

import asyncio
import itertools
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlmodel import select

from bot.app import Container
from bot.engine import Engine, Outgoing
from bot.handlers.terminal import TerminalChannel, render
from bot.i18n import _, use_locale
from bot.messages import Channel, Inbound, Kind, Location, Media
from bot.outbound import Outbound
from doubles.telegram_updates import (
    callback_update,
    document_update,
    location_update,
    photo_update,
    sticker_update,
    text_update,
    voice_update,
)
from factories import png_bytes
from storage.models import Conversation, Identity, Report


async def stored_reports(box: Container) -> list[Report]:
    """Every report filed so far."""
    async with box.db.reader() as session:
        return list((await session.exec(select(Report))).all())


async def conversation_of(box: Container, chat: Chat) -> Conversation:
    """Where the chat's resident stands, as the database keeps it."""
    async with box.db.reader() as session:
        identity = (await session.exec(select(Identity).where(
            Identity.channel == chat.channel, Identity.user_key == chat.user_key))).one()
        return (await session.exec(select(Conversation).where(
            Conversation.identity_id == identity.id))).one()


def id_(msgid: str, **kwargs: object) -> str:
    """What a resident reads in Indonesian, the default language."""
    with use_locale("id"):
        return _(msgid).format(**kwargs) if kwargs else _(msgid)


@dataclass
class Chat:
    """What every channel driver offers the flow tests."""

    channel: str
    user_key: str
    texts: list[str] = field(default_factory=list)
    options: list[str] = field(default_factory=list)

    @property
    def text(self) -> str:
        return "\n".join(self.texts)

    async def say(self, text: str) -> None:
        raise NotImplementedError

    async def tap(self, label: str) -> None:
        raise NotImplementedError

    async def share_location(self, lat: float, lon: float) -> None:
        raise NotImplementedError

    async def send_photo(self, data: bytes, *, declared_size: int | None = None) -> None:
        raise NotImplementedError

    async def send_document(self, data: bytes, mime: str) -> None:
        raise NotImplementedError

    async def send_sticker(self) -> None:
        raise NotImplementedError

    async def send_voice(self) -> None:
        raise NotImplementedError

    async def pick_category(self, label: str) -> None:
        """Choose a category: among those proposed, or else through "Other"."""
        for _page in range(4):
            if any(label in o for o in self.options):
                await self.tap(label)
                return
            more = next((o for o in self.options if o.startswith(("Other", "Lainnya"))), None)
            assert more is not None, f"{label!r} not offered: {self.options}"
            await self.tap(more)
        raise AssertionError(f"{label!r} never offered")

    async def to_photos(self, description: str, *, category: str = "Damaged road",
                        kelurahan: str = "Tangsi") -> None:
        """The common path of an English report up to its photo step: no address."""
        await self.say("/start")
        await self.tap("Make a report")
        await self.say(description)
        await self.pick_category(category)
        await self.say(kelurahan)
        await self.tap("Skip")

    async def file_to_summary(self, description: str, *, category: str = "Damaged road",
                              kelurahan: str = "Tangsi") -> None:
        """The common path of an English report up to its summary: no address, no photos,
        name shown to the agency."""
        await self.say("/start")
        await self.tap("Make a report")
        await self.say(description)
        await self.pick_category(category)
        await self.place_to_summary(kelurahan)

    async def place_to_summary(self, kelurahan: str = "Tangsi") -> None:
        """From the place question to the summary: a typed kelurahan, no address, no photos,
        name shown to the agency."""
        await self.say(kelurahan)
        await self.tap("Skip")
        await self.tap("Skip photos")
        await self.tap("Yes, show my name")

    async def file_at_kartini(self, description: str, category: str, address: str, *,
                              photo_seed: int) -> str:
        """An English report from start to its ticket: a location shared in Kel. Kartini, an
        address, one photo, the name shown."""
        await self.say("/start")
        await self.tap("Make a report")
        await self.say(description)
        await self.tap(category)
        await self.share_location(*KARTINI)
        assert "Kel. Kartini, Binjai Kota" in self.text
        await self.tap("Yes, that's right")
        await self.say(address)
        await self.send_photo(png_bytes(seed=photo_seed))
        await self.tap("Done")
        await self.tap("Yes, show my name")
        await self.tap("Send report")
        return self.ticket()

    def option_index(self, label: str) -> int:
        for i, option in enumerate(self.options):
            if label.lower() in option.lower():
                return i
        raise AssertionError(f"no option {label!r} among {self.options}")

    def ticket(self) -> str:
        m = re.search(r"BJI-\d{4}-\d{6}", self.text)
        assert m, f"no ticket in {self.text!r}"
        return m.group(0)


class TerminalChat(Chat):
    """Drives the terminal adapter: options answered by their number, as a person would."""

    def __init__(self, engine: Engine, user_key: str = "warga-1", locale: str = "id") -> None:
        super().__init__(channel=Channel.TERMINAL, user_key=user_key)
        self.engine = engine
        self.terminal = TerminalChannel(engine, user_key=user_key, locale=locale)

    async def _run(self, inbound: Inbound) -> list[Outgoing]:
        out = await self.engine.process(inbound)
        self.texts = []
        for item in out:
            with use_locale(item.locale):
                self.texts.append(render(item.reply))
            if item.reply.options:
                self.options = [o.label for o in item.reply.options]
        return out

    async def say(self, text: str) -> None:
        await self._run(self.terminal.parse(text))

    async def tap(self, label: str) -> None:
        await self.say(str(self.option_index(label) + 1))

    async def share_location(self, lat: float, lon: float) -> None:
        await self.say(f"/lokasi {lat},{lon}")

    def _media_inbound(self, kind: Kind, data: bytes | None, mime: str | None,
                       size: int | None) -> Inbound:
        inbound = self.terminal.parse("x")
        inbound.kind, inbound.text = kind, None

        async def fetch() -> bytes:
            assert data is not None
            return data

        if data is not None:
            inbound.media = [Media(kind=kind, content_type=mime,
                                   size=size if size is not None else len(data), fetch=fetch,
                                   ref=f"memory:{inbound.event_id}")]
        return inbound

    async def send_photo(self, data: bytes, *, declared_size: int | None = None) -> None:
        await self._run(self._media_inbound(Kind.PHOTO, data, None, declared_size))

    async def send_document(self, data: bytes, mime: str) -> None:
        await self._run(self._media_inbound(Kind.DOCUMENT, data, mime, None))

    async def send_sticker(self) -> None:
        await self._run(self._media_inbound(Kind.STICKER, None, None, None))

    async def send_voice(self) -> None:
        await self._run(self._media_inbound(Kind.VOICE, VOICE_NOTE, "audio/ogg", None))


# Buttons one Telegram message may carry in this bot (a longer picker pages).
MAX_BUTTONS = 12

# The first bytes of an Ogg/Opus voice note, as the chat apps record them.
VOICE_NOTE = b"OggS\x00\x02" + bytes(22) + b"\x13OpusHead\x01\x01" + bytes(40)

# A point inside Kel. Kartini (Kec. Binjai Kota), from the city pack's boundaries.
KARTINI = (3.60396, 98.48602)


def location_inbound(user_key: str, lat: float, lon: float, event_id: str) -> Inbound:
    return Inbound(channel=Channel.TERMINAL, user_key=user_key, event_id=event_id,
                   kind=Kind.LOCATION, location=Location(lat, lon))


async def until(condition: Callable[[], bool], timeout: float = 10.0) -> None:  # noqa: ASYNC109
    """Wait until ``condition`` holds (what the lanes send arrives on its own time)."""
    async with asyncio.timeout(timeout):
        for _tick in itertools.count():
            if condition():
                return
            await asyncio.sleep(0.01)


def replies_to(double: Any, chat: int) -> list[Any]:
    """The messages the bot sent or edited in ``chat``, as the Bot API double accepted them."""
    return [c for c in double.sent
            if c.method in ("sendMessage", "editMessageText") and c.chat_id == chat]


async def deliver_update(client: Any, double: Any, update: dict[str, Any], secret: str,
                         outbound: Outbound) -> Any:
    """What Telegram does with one update: POST it to the webhook, then make the Bot API call
    the webhook's answer may carry (the bot's answer to a button press, say). The replies
    themselves leave after the answer, from the app's lanes: this waits for them too, as a
    person reading the chat would."""
    double.track_update(update)
    response = await client.post("/webhooks/telegram", json=update,
                                 headers={"X-Telegram-Bot-Api-Secret-Token": secret})
    await double.webhook_reply(response.status_code, response.headers.get("content-type", ""),
                               response.content)
    await outbound.drain(10)
    return response


class TelegramChat(Chat):
    """Drives the real webhook route and PTB against the Bot API double: what a Telegram user
    would see (messages as rendered, inline keyboards pressed by their callback data)."""

    def __init__(
        self,
        client: Any,
        double: Any,
        secret: str,
        outbound: Outbound,
        chat_id: int = 700_001,
        language_code: str = "id",
    ) -> None:
        super().__init__(channel=Channel.TELEGRAM, user_key=str(chat_id))
        self.client = client
        self.double = double
        self.secret = secret
        self.outbound = outbound
        self.chat_id = chat_id
        self.language_code = language_code
        self.keyboard: dict[str, Any] | None = None
        self.keyboard_message_id: int | None = None
        self.status_codes: list[int] = []
        self._file_seq = 0

    async def post(self, update: dict[str, Any], *, secret: str | None = None) -> int:
        mark = len(self.double.sent)
        response = await deliver_update(self.client, self.double, update,
                                        self.secret if secret is None else secret, self.outbound)
        self.status_codes.append(response.status_code)
        self._collect(mark)
        return response.status_code

    def _collect(self, mark: int) -> None:
        calls = [
            c for c in self.double.sent[mark:] if c.chat_id in (self.chat_id, str(self.chat_id))
        ]
        texts = [c.plain_text for c in calls if c.plain_text is not None]
        if not calls:
            self.texts = []
            return
        self.texts = texts
        for call in calls:
            markup = call.reply_markup or {}
            if "inline_keyboard" in markup:
                self.keyboard = markup
                self.keyboard_message_id = call.message_id or call.params.get("message_id")
                self.options = [
                    b["text"]
                    for row in markup["inline_keyboard"]
                    for b in row
                    if "callback_data" in b
                ]
                # Every picker fits one screen: a longer list pages with "Lainnya ›".
                assert len(self.options) <= MAX_BUTTONS, (
                    f"{len(self.options)} buttons on one message: {self.options}")
            elif "keyboard" in markup:
                self.keyboard = markup
                self.options = [
                    b["text"] if isinstance(b, dict) else b
                    for row in markup["keyboard"]
                    for b in row
                ]

    async def say(self, text: str) -> None:
        await self.post(text_update(self.chat_id, text, language_code=self.language_code))

    async def tap(self, label: str) -> None:
        assert self.keyboard is not None, "no keyboard to tap"
        index = self.option_index(label)
        if "keyboard" in self.keyboard:
            await self.say(self.options[index])
            return
        buttons = [
            b for row in self.keyboard["inline_keyboard"] for b in row if "callback_data" in b
        ]
        data = buttons[index]["callback_data"]
        assert len(data.encode()) <= 64
        await self.post(
            callback_update(
                self.chat_id, data, self.keyboard_message_id or 1, language_code=self.language_code
            )
        )

    async def share_location(self, lat: float, lon: float) -> None:
        await self.post(location_update(self.chat_id, lat, lon, language_code=self.language_code))

    def _file(self, data: bytes, declared: int | None, mime: str | None = None) -> str:
        self._file_seq += 1
        file_id = f"AgAC{self.chat_id}x{self._file_seq}"
        self.double.add_file(file_id, data, file_size=declared, mime_type=mime)
        return file_id

    async def send_photo(self, data: bytes, *, declared_size: int | None = None) -> None:
        size = declared_size if declared_size is not None else len(data)
        file_id = self._file(data, size)
        await self.post(photo_update(self.chat_id, file_id, size, language_code=self.language_code))

    async def send_document(self, data: bytes, mime: str) -> None:
        file_id = self._file(data, None, mime)
        await self.post(
            document_update(
                self.chat_id, file_id, "file.bin", mime, len(data), language_code=self.language_code
            )
        )

    async def send_sticker(self) -> None:
        await self.post(sticker_update(self.chat_id, language_code=self.language_code))

    async def send_voice(self) -> None:
        file_id = self._file(VOICE_NOTE, len(VOICE_NOTE), "audio/ogg")
        await self.post(voice_update(self.chat_id, file_id, file_size=len(VOICE_NOTE),
                                     language_code=self.language_code))


_NUMBERED = re.compile(r"^(\d+)\. (.+)$")


def numbered_options(body: str) -> list[str]:
    """The labels of the numbered list a WhatsApp message ends with ("1. …", "2. …")."""
    found: list[str] = []
    for line in reversed(body.splitlines()):
        m = _NUMBERED.match(line.strip())
        if not m:
            break
        found.append(m.group(2))
    found.reverse()
    return found


class WhatsAppChat(Chat):
    """Drives the real webhook route and the twilio SDK against the Twilio double: the resident
    reads the bodies Twilio accepted and answers a numbered list with the number, as people do
    (or presses the quick-reply button when the message had buttons)."""

    def __init__(self, double: Any, channel: Any, number: str = "+6281200700001",
                 profile_name: str = "Budi") -> None:
        super().__init__(channel=Channel.WHATSAPP, user_key=number)
        self.double = double
        self.wa = channel
        self.address = f"whatsapp:{number}"
        self.profile_name = profile_name
        self.status_codes: list[int] = []
        self.buttons: list[tuple[str, str]] = []  # (title, payload) of the last buttons shown
        self.sent: list[Any] = []  # what the double accepted for this resident, last action

    def form(self, **kwargs: Any) -> dict[str, str]:
        form: dict[str, str] = self.double.make_inbound_form(
            self.address, profile_name=self.profile_name, **kwargs)
        return form

    async def post(self, form: dict[str, str]) -> int:
        mark = len(self.double.messages)
        response = await self.double.post_inbound("/webhooks/whatsapp", form)
        self.status_codes.append(response.status_code)
        await self.wa.drain()
        await self.double.settle()
        self.collect(mark)
        return int(response.status_code)

    def collect(self, mark: int) -> None:
        self.sent = [m for m in self.double.messages[mark:] if m.to == self.address]
        self.texts = []
        for message in self.sent:
            variables = message.content_variables or {}
            self.texts.append(message.body or variables.get("1", ""))
            if "3" in variables and "4" in variables:
                pairs, i = [], 1
                while str(2 * i + 1) in variables:
                    pairs.append((variables[str(2 * i + 1)], variables[str(2 * i + 2)]))
                    i += 1
                self.buttons = pairs
                self.options = [title for title, _payload in pairs]
                continue
            options = numbered_options(message.body)
            if options:
                # Every picker fits one message: the list starts at 1 in the message that
                # asks, never continued in a second one.
                assert _NUMBERED.match(message.body.strip().splitlines()[0]) is None, (
                    f"a numbered list split over messages: {message.body[:80]!r}")
                assert options and message.body.count("\n1. ") + message.body.startswith("1. "), (
                    f"a list not starting at 1: {message.body[-200:]!r}")
                self.buttons = []
                self.options = options

    async def say(self, text: str) -> None:
        await self.post(self.form(body=text))

    async def tap(self, label: str) -> None:
        index = self.option_index(label)
        if self.buttons:
            title, payload = self.buttons[index]
            await self.post(self.form(button_payload=payload, button_text=title))
            return
        await self.say(str(index + 1))

    async def share_location(self, lat: float, lon: float) -> None:
        await self.post(self.form(latitude=lat, longitude=lon))

    async def send_media(self, url: str, content_type: str, message_type: str | None = None,
                         caption: str | None = None) -> None:
        form = self.form(media=[(url, content_type)], body=caption)
        if message_type is not None:
            form["MessageType"] = message_type
        await self.post(form)

    async def send_photo(self, data: bytes, *, declared_size: int | None = None) -> None:
        if declared_size is not None and declared_size > len(data):
            # WhatsApp declares no size: the file simply is that large.
            await self.send_media(self.double.add_sized_media(declared_size), "image/jpeg")
            return
        ctype = "image/png" if data.startswith(b"\x89PNG") else "image/jpeg"
        await self.send_media(self.double.add_media(data, ctype), ctype)

    async def send_document(self, data: bytes, mime: str) -> None:
        await self.send_media(self.double.add_media(data, mime), mime, "document")

    async def send_sticker(self) -> None:
        webp = b"RIFF\x24\x00\x00\x00WEBPVP8 " + bytes(28)
        await self.send_media(self.double.add_media(webp, "image/webp"), "image/webp", "sticker")

    async def send_voice(self) -> None:
        await self.send_media(self.double.add_media(VOICE_NOTE, "audio/ogg"), "audio/ogg")
