"""`emas serve` killed with SIGKILL at random moments while residents file reports: after each
restart the conversation goes on, no report is lost and every receipt arrives.

Telegram redelivers an update whose webhook never answered 200 (the same update_id); the
residents here do the same, and otherwise follow the keyboard the bot last sent them.
"""

from __future__ import annotations

import asyncio
import os
import random
import signal
import socket
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from bot.settings import Settings
from doubles.telegram_api import TelegramDouble, create_bot_api, serve_bot_api
from doubles.telegram_updates import callback_update, text_update
from storage import repo
from storage.db import Database

TOKEN = "4242:KILL"
SECRET = "kill-test-secret"
ROOT = Path(__file__).resolve().parents[2]
KILLS = 10
REPORTS = 4
TICKET = "BJI-"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Server:
    """`emas serve` in a child process, on the test's database and Bot API double."""

    def __init__(self, settings: Settings, api_root: str) -> None:
        self.port = _free_port()
        self.env = {
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "EMAS_DATABASE_URL": settings.database_url,
            "EMAS_DATA_DIR": str(settings.data_dir),
            "EMAS_CONTENT_DIR": str(settings.content_dir),
            "EMAS_TELEGRAM_TOKEN": TOKEN,
            "EMAS_TELEGRAM_API_URL": api_root,
            "EMAS_TELEGRAM_WEBHOOK_SECRET": SECRET,
            "EMAS_PUBLIC_URL": "https://emas.binjaikota.test",
            "EMAS_PORT": str(self.port),
            "EMAS_MESSAGE_LIMIT_PER_MINUTE": "0",
            "EMAS_REPORT_LIMIT_PER_HOUR": "0",
            "EMAS_LOG_LEVEL": "WARNING",
        }
        self.process: asyncio.subprocess.Process | None = None
        self.root = f"http://127.0.0.1:{self.port}"

    async def start(self) -> None:
        self.process = await asyncio.create_subprocess_exec(
            sys.executable, "-c", "from bot.cli import main; main()", "serve", env=self.env,
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL)
        async with httpx.AsyncClient(base_url=self.root) as client:
            for _attempt in range(600):
                try:
                    if (await client.get("/healthz")).status_code == 200:
                        return
                except httpx.TransportError:
                    pass
                if self.process.returncode is not None:
                    raise AssertionError("emas serve exited while starting")
                await asyncio.sleep(0.05)
        raise AssertionError("emas serve did not start in 30 s")

    async def kill(self) -> None:
        if self.process is not None and self.process.returncode is None:
            self.process.send_signal(signal.SIGKILL)
            await self.process.wait()

    async def stop(self) -> None:
        if self.process is not None and self.process.returncode is None:
            self.process.send_signal(signal.SIGTERM)
            await self.process.wait()


@pytest.fixture
async def served(settings: Settings) -> AsyncIterator[tuple[TelegramDouble, Server]]:
    double = create_bot_api(TOKEN, private_burst=1000)
    async with serve_bot_api(double) as root:
        server = Server(settings, root)
        try:
            yield double, server
        finally:
            await server.stop()


class Resident:
    def __init__(self, double: TelegramDouble, server: Server, chat_id: int) -> None:
        self.double = double
        self.server = server
        self.chat_id = chat_id
        self.update_id = chat_id * 1000
        self.options: list[str] = []
        self.message_id = 1
        self.submitted = 0  # "submit" presses the webhook answered with 200

    def _replies(self, mark: int) -> list[Any]:
        return [c for c in self.double.sent[mark:] if c.chat_id == self.chat_id
                and c.method in ("sendMessage", "editMessageText")]

    async def send(self, update: dict[str, Any]) -> None:
        """Post until the webhook answers (as Telegram does), then wait for the keyboard."""
        mark = len(self.double.sent)
        self.double.track_update(update)
        while True:
            try:
                async with httpx.AsyncClient(base_url=self.server.root, timeout=5) as client:
                    response = await client.post(
                        "/webhooks/telegram", json=update,
                        headers={"X-Telegram-Bot-Api-Secret-Token": SECRET})
                if response.status_code == 200:
                    break
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.1)  # the server is down: Telegram tries again later
        for _tick in range(300):
            replies = self._replies(mark)
            if replies and replies[-1].reply_markup:
                markup = replies[-1].reply_markup
                self.options = [b["callback_data"] for row in markup.get("inline_keyboard", [])
                                for b in row if "callback_data" in b]
                self.message_id = replies[-1].message_id or replies[-1].params.get(
                    "message_id") or self.message_id
                return
            await asyncio.sleep(0.05)
        self.options = []  # killed before it answered; the next step starts over

    async def say(self, text: str) -> None:
        self.update_id += 1
        await self.send(text_update(self.chat_id, text, update_id=self.update_id,
                                    language_code="id"))

    async def tap(self, data: str) -> bool:
        if data not in self.options:
            return False
        self.update_id += 1
        await self.send(callback_update(self.chat_id, data, self.message_id,
                                        update_id=self.update_id, language_code="id"))
        if data == "submit":
            self.submitted += 1
        return True

    async def file_report(self) -> None:
        """One report, as far as it gets; a step whose answer never came starts over."""
        await self.say("/start")
        if not await self.tap("m:report"):
            return
        if "new" in self.options and not await self.tap("new"):
            return
        # Starting anew over a draft with words in it is confirmed ("Yakin?").
        if "yes" in self.options and not await self.tap("yes"):
            return
        await self.say("Jalan berlubang dalam di depan sekolah, bahaya untuk anak-anak")
        categories = [o for o in self.options if o.startswith("cat:")]
        if not categories or not await self.tap(categories[0]):
            return
        await self.say("Tangsi")
        if not await self.tap("skip"):
            return
        if "own" in self.options and not await self.tap("own"):
            return
        if not await self.tap("skip"):
            return
        if not await self.tap("named"):
            return
        await self.tap("submit")


async def _killer(server: Server, rng: random.Random, kills: int) -> None:
    for _ in range(kills):
        await asyncio.sleep(rng.uniform(0.3, 2.5))
        await server.kill()
        await server.start()


async def test_killed_at_random_moments_nothing_is_lost(
        served: tuple[TelegramDouble, Server], settings: Settings) -> None:
    from conftest import _reset

    double, server = served
    db = Database(settings.database_url)
    try:
        await _reset(db)
    finally:
        await db.dispose()
    await server.start()
    resident = Resident(double, server, chat_id=710_001)
    rng = random.Random(20261207)
    killer = asyncio.create_task(_killer(server, rng, KILLS))
    try:
        while not killer.done() or resident.submitted < REPORTS:
            await resident.file_report()
    finally:
        await killer
    db = Database(settings.database_url)
    try:
        async with db.reader() as session:
            reports = list(await repo.list_reports(session=session))
    finally:
        await db.dispose()

    def receipts_missing() -> bool:
        texts = [c.plain_text or "" for c in double.sent if c.chat_id == 710_001]
        return any(not any(r.ticket in t for t in texts) for r in reports)

    # What the last start found in the outbox goes out (slowly on a busy machine).
    for _ in range(300):
        if not receipts_missing():
            break
        await asyncio.sleep(0.1)
    # Every "Kirim" made exactly one report (a press whose answer was lost in a kill was
    # redelivered, and counted once), and each report's receipt reached the resident. Delivery
    # is at least once: a receipt goes again only when a kill fell between its sending and its
    # being marked sent, so the copies beyond the first are at most one per kill.
    assert len(reports) == resident.submitted >= REPORTS
    texts = [c.plain_text or "" for c in double.sent if c.chat_id == 710_001]
    copies = {r.ticket: len([t for t in texts if r.ticket in t
                             and "laporan Bapak/Ibu sudah kami terima" in t]) for r in reports}
    assert all(n >= 1 for n in copies.values()), copies
    assert sum(n - 1 for n in copies.values()) <= KILLS, copies
