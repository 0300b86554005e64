"""Chat drivers: one transcript-style API over every channel, so flow tests run on each.

    await chat.say("halo")             # type a message
    await chat.tap("Make a report")    # press a button / answer with its number
    await chat.share_location(3.6, 98.48)
    await chat.send_photo(png_bytes())
    assert "Ticket" in chat.text       # everything the bot answered to the last action
    assert "Skip" in chat.options      # the labels offered last
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from emas.bot.engine import Engine, Outgoing
from emas.bot.handlers.terminal import TerminalChannel, render
from emas.bot.messages import Channel, Inbound, Kind, Location, Media
from emas.i18n import use_locale


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
                                   size=size if size is not None else len(data), fetch=fetch)]
        return inbound

    async def send_photo(self, data: bytes, *, declared_size: int | None = None) -> None:
        await self._run(self._media_inbound(Kind.PHOTO, data, None, declared_size))

    async def send_document(self, data: bytes, mime: str) -> None:
        await self._run(self._media_inbound(Kind.DOCUMENT, data, mime, None))

    async def send_sticker(self) -> None:
        await self._run(self._media_inbound(Kind.STICKER, None, None, None))

    async def send_voice(self) -> None:
        await self._run(self._media_inbound(Kind.VOICE, None, None, None))


def location_inbound(user_key: str, lat: float, lon: float, event_id: str) -> Inbound:
    return Inbound(channel=Channel.TERMINAL, user_key=user_key, event_id=event_id,
                   kind=Kind.LOCATION, location=Location(lat, lon))


__all__: list[Any] = ["Chat", "TerminalChat"]
