"""Test helpers for the agencies' side: reports filed in one step, staff, button presses, and a
sender that keeps what the outbox sends."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bot.app import Container
from bot.engine import Outgoing
from bot.flows.base import Person
from bot.labels import RECORD_WORDS
from bot.messages import Channel, Inbound, Kind
from bot.notices import Notice
from bot.outbox import deliver_pending
from reports.actions import ReportActions
from reports.notices import ReportNotice
from reports.scheduler import TickResult, tick
from reports.service import DraftReport, ReportService
from reports.staff import Account, add_staff
from storage import repo
from storage.models import Report, ReportEvent

_events = itertools.count(1)

# Kelurahan Kartini, Binjai Kota; a point in it.
KARTINI = "12.75.02.1004"
TANGSI = "12.75.02.1005"
HERE = (3.6050, 98.4920)


@dataclass
class Sent:
    """What a channel would have sent: one Outgoing per message."""

    items: list[Outgoing] = field(default_factory=list)
    arrived: asyncio.Event = field(default_factory=asyncio.Event)

    async def deliver(self, outgoing: list[Outgoing], *, edit_message: Any = None) -> None:
        self.items.extend(outgoing)
        self.arrived.set()

    async def wait_for(self, count: int) -> None:
        while len(self.items) < count:
            self.arrived.clear()
            await self.arrived.wait()

    def to(self, user_key: str) -> list[Outgoing]:
        return [i for i in self.items if i.to == user_key]

    def clear(self) -> None:
        self.items.clear()


def capture(box: Container, *channels: str) -> Sent:
    """Register one capturing sender for the given channels (all three by default)."""
    sent = Sent()
    for channel in channels or ("terminal", "telegram", "whatsapp"):
        box.outbound.register(channel, sent)
    return sent


async def flush_outbox(box: Container) -> int:
    total = 0
    while True:
        count = await deliver_pending(db=box.db, outbound=box.outbound, now=box.engine.clock())
        await box.outbound.drain()
        total += count
        if not count:
            return total


async def person(box: Container, user_key: str, *, channel: str = "terminal",
                 locale: str = "id", name: str | None = None) -> Person:
    async with box.db.session() as session:
        identity = await repo.get_or_create_identity(session=session, channel=channel,
                                                     user_key=user_key, locale=locale)
        identity.locale = locale
        identity.display_name = name
        session.add(identity)
        await session.flush()
        return Person(id=identity.id or 0, channel=channel, user_key=user_key, locale=locale,
                      display_name=name)


async def file_report(
    box: Container,
    *,
    user: str = "warga-1",
    channel: str = "terminal",
    locale: str = "id",
    category: str = "jalan_rusak",
    kelurahan: str = KARTINI,
    description: str = "Jalan berlubang besar di depan SD Negeri 5, berbahaya",
    lat: float | None = None,
    lon: float | None = None,
    anonymous: bool = False,
) -> Report:
    """A report filed as the chat would file it (routing included), at the clock's time."""
    reporter = await person(box, user, channel=channel, locale=locale, name="Budi")
    async with box.db.session() as session:
        service = ReportService(session=session, city=box.city, now=box.engine.clock)
        draft = DraftReport(category=category, kelurahan=kelurahan, description=description,
                            lat=lat, lon=lon, anonymous=anonymous)
        report = await service.submit(draft=draft, reporter=reporter)
        await actions(box, session).after_submit(report)
        return report


def actions(box: Container, session: Any) -> ReportActions:
    return ReportActions(session=session, city=box.city, settings=box.settings,
                         now=box.engine.clock, words=RECORD_WORDS)


def worded(box: Container, notices: Iterable[ReportNotice]) -> list[Notice]:
    """The domain's notices as the messages their recipients get."""
    return box.notice_outbox.word(notices)


async def run_deadlines(box: Container, now: datetime) -> TickResult:
    """One pass of the deadline scheduler, as `emas serve` runs it."""
    return await tick(db=box.db, city=box.city, settings=box.settings, now=now,
                      deliver=box.notice_outbox, words=RECORD_WORDS)


async def staff(box: Container, user_key: str, *, role: str, agency: str | None = None,
                name: str = "Petugas", channel: str = "terminal") -> None:
    async with box.db.session() as session:
        await add_staff(session=session, city=box.city, role=role, name=name,
                        account=Account(channel, user_key), agency_key=agency)


async def press(box: Container, user_key: str, option_id: str, *, channel: str = "terminal",
                group: str | None = None, locale: str = "en") -> list[Outgoing]:
    """A button press, in a private chat or (with `group`) in a group chat."""
    inbound = Inbound(channel=Channel(channel), user_key=user_key,
                      event_id=f"press-{next(_events)}", kind=Kind.OPTION, option_id=option_id,
                      is_group=group is not None, chat_key=group, mentioned=group is not None,
                      locale_hint=locale)
    return await box.engine.process(inbound)


async def send(box: Container, user_key: str, text: str | None = None, *,
               channel: str = "terminal", group: str | None = None,
               media: list[Any] | None = None, locale: str = "en") -> list[Outgoing]:
    inbound = Inbound(channel=Channel(channel), user_key=user_key,
                      event_id=f"send-{next(_events)}",
                      kind=Kind.PHOTO if media else Kind.TEXT, text=text, media=media or [],
                      is_group=group is not None, chat_key=group, locale_hint=locale)
    return await box.engine.process(inbound)


async def reload(box: Container, report_id: int) -> Report:
    async with box.db.reader() as session:
        found = await session.get(Report, report_id)
        assert found is not None
        return found


async def history(box: Container, report_id: int) -> list[ReportEvent]:
    async with box.db.reader() as session:
        return list(await repo.list_report_events(session=session, report_id=report_id))


async def set_status(box: Container, report_id: int, status: str, *, note: str | None = None,
                     at: datetime | None = None) -> None:
    """Force a status (test set-up only: no lifecycle check, no messages)."""
    async with box.db.session() as session:
        report = await session.get(Report, report_id)
        assert report is not None
        await repo.add_report_event(session=session, report=report, status=status, note=note,
                                    at=at or box.engine.clock())


def texts(outgoing: list[Outgoing], to: str | None = None) -> str:
    return "\n".join(o.reply.text for o in outgoing if to is None or o.to == to)


async def post(env: Any, update: dict[str, Any]) -> None:
    """One update to the Telegram webhook of a test app; it must be accepted."""
    response = await env.post(update)
    assert response.status_code == 200


async def link(env: Any, agency: str, chat_id: int, user_id: int) -> None:
    """An agency's Telegram group linked as staff do it: a code from the command line, then
    /link in the group by a staff member."""
    import json

    from cli_kit import ainvoke
    from doubles.telegram_updates import group_text_update

    result = await ainvoke(env.box.settings, "agency", "link-code", agency, "--json")
    code = json.loads(result.output)["code"]
    await post(env, group_text_update(chat_id, f"/link {code}", user_id=user_id,
                                      mention_bot=False))
    assert "terhubung" in (env.double.last_text(chat_id) or "")
    from storage import repo_console

    async with env.box.db.reader() as session:  # a staff action, audited as in the console
        audit = await repo_console.list_audit(session=session, action="group.link")
    assert (audit[0].source, audit[0].target) == ("chat", f"agency:{agency}")  # newest first
