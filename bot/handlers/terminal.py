"""The terminal channel: `emas chat` runs every resident flow with numbered options."""

from __future__ import annotations

import asyncio
import itertools
import re
import sys
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import TextIO

from bot.engine import Engine, Outgoing
from bot.i18n import _, use_locale
from bot.messages import Channel, Inbound, Kind, Location, Media, Reply

_LOCATION = re.compile(r"^/(?:lokasi|location|loc)\s+(-?\d+(?:\.\d+)?)[,\s]+(-?\d+(?:\.\d+)?)$",
                       re.IGNORECASE)
_PHOTO = re.compile(r"^/(?:foto|photo)\s+(.+)$", re.IGNORECASE)
_STICKER = re.compile(r"^/(?:stiker|sticker)$", re.IGNORECASE)


def render(reply: Reply) -> str:
    """A reply as the terminal shows it: the text, then options numbered from 1."""
    lines = [reply.text]
    if reply.options:
        lines.append("")
        lines += [f"  {i}. {o.label}" for i, o in enumerate(reply.options, 1)]
    if reply.request_location:
        lines.append(_("  (share a location: /lokasi LAT,LON)"))
    if reply.url_button:
        lines.append(f"  [{reply.url_button[0]}]")
    for path in reply.media_paths:
        lines.append(f"  [foto: {path}]")
    return "\n".join(lines)


class TerminalChannel:
    """Parses typed lines into Inbound events and prints the replies."""

    def __init__(self, engine: Engine, *, user_key: str = "terminal", locale: str | None = None,
                 out: TextIO | None = None) -> None:
        """`locale`: the language asked for (`emas chat --lang`), which the bot then speaks
        whatever was saved before; None: the saved one, Indonesian for a newcomer."""
        self.engine = engine
        self.user_key = user_key
        self.locale = locale or "id"
        # Asked for once, at the start of the session: a language chosen from the menu later in
        # the conversation then stands.
        self.explicit = locale is not None
        self.out = out or sys.stdout
        self._seq = itertools.count(1)
        self._session = uuid.uuid4().hex[:8]
        engine.photos.register(Channel.TERMINAL, lambda ref, _size: _reader(Path(ref)))

    def parse(self, line: str) -> Inbound:
        line = line.strip()
        inbound = Inbound(channel=Channel.TERMINAL, user_key=self.user_key,
                          event_id=f"{self._session}-{next(self._seq)}",
                          locale_hint=self.locale, locale_explicit=self.explicit, text=line)
        self.explicit = False
        if m := _LOCATION.match(line):
            inbound.kind = Kind.LOCATION
            inbound.location = Location(float(m.group(1)), float(m.group(2)))
            inbound.text = None
        elif m := _PHOTO.match(line):
            path = Path(m.group(1).strip()).expanduser()
            inbound.kind = Kind.PHOTO
            inbound.text = None
            size = path.stat().st_size if path.is_file() else None
            inbound.media = [Media(kind=Kind.PHOTO, content_type=None, size=size,
                                   fetch=_reader(path), ref=str(path))]
        elif _STICKER.match(line):
            inbound.kind = Kind.STICKER
            inbound.text = None
        elif line.startswith("/") and len(line) > 1:
            command, _sep, arg = line[1:].partition(" ")
            inbound.kind = Kind.COMMAND
            inbound.command = command.lower()
            inbound.command_arg = arg.strip() or None
        return inbound

    async def send_line(self, line: str) -> list[Outgoing]:
        outgoing = await self.engine.process(self.parse(line))
        for item in outgoing:
            with use_locale(item.locale):
                print(render(item.reply), file=self.out)
                print(file=self.out)
        return outgoing

    async def run(self, read: Callable[[str], str] = input) -> None:
        with use_locale(self.locale):
            print(_("e-Masyarakat chat in the terminal. Type /start to begin, /lokasi LAT,LON "
                    "to share a location, /foto PATH to send a photo, Ctrl-D to quit."),
                  file=self.out)
        await self.send_line("/start")
        loop = asyncio.get_running_loop()
        while True:
            try:
                line = await loop.run_in_executor(None, read, "> ")
            except EOFError:
                print(file=self.out)
                return
            if line.strip():
                await self.send_line(line)


def _reader(path: Path) -> Callable[[], asyncio.Future[bytes]]:
    async def fetch() -> bytes:
        return await asyncio.to_thread(path.read_bytes)

    return fetch  # type: ignore[return-value]
