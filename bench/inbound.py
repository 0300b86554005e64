"""Inbound benchmark: residents file reports through the Telegram webhook; updates/s and latency.

    .venv/bin/python bench/inbound.py --db both

What runs where (the machine's two cores are shared as in production):

* the app process: the project's ASGI app (``bot.app.create_app``) under uvicorn on
  127.0.0.1, configured as ``emas serve`` configures it, with its Telegram channel in webhook
  mode pointed at the Bot API double;
* this process: the Bot API double (tests/doubles/telegram_api.py, flood control off), also under
  uvicorn on loopback, and the simulated residents, who POST Telegram updates to the webhook with
  aiohttp.

Each resident walks a whole report transcript, answering from the keyboard the bot last sent
(callback data, not labels): /start, "Make a report", a description, one of the categories
proposed, a typed kelurahan, skip the landmark ("file mine anyway" when similar reports are
shown), skip photos, name visibility, send; then starts over. The flood limit is lifted on the double's side: it enforces
none (the app paces only broadcasts, and a 429 would hold only its chat's lane).

Like Telegram, the residents' updates reach the webhook over at most the webhook's
max_connections (40 by default) at once; an update waiting for a connection is already late.

Load: ``--rate`` updates/s offered in total (default 300, the goal); resident i sends its k-th
update at t0 + (i + k*residents)/rate, or at once when it is behind; each skips a random number
(0-8) of its first slots, so that the residents are spread over the transcript, and the
warm-up lasts at least until all have started. ``--rate 0`` sends each
update as soon as the previous reply arrived (saturation). Updates sent during the warm-up are
not counted; updates/s = updates sent in the measured window and answered / window length.

Latency "from webhook to reply": from the start of the webhook POST to the moment the double
receives the last sendMessage/editMessageText that the update caused for that chat. The webhook
handler (bot/app.py -> TelegramChannel.handle) answers the POST once the update committed; its
replies leave after, from the chat's lane, so the POST round trip is a lower bound; both are
reported. A button press is
answered in the webhook's answer (answerCallbackQuery), which the driver hands to the double as
Telegram would.

Goal on a 2-core machine: >= 300 updates/s on SQLite with p99 <= 100 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import copy
import gc
import itertools
import json
import multiprocessing
import os
import random
import re
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
for _path in (ROOT, ROOT / "tests"):
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

import aiohttp  # noqa: E402

from bot.settings import Settings  # noqa: E402
from doubles.telegram_api import (  # noqa: E402
    EDIT_METHODS,
    SEND_METHODS,
    Call,
    TelegramDouble,
    create_bot_api,
    serve_bot_api,
)
from doubles.telegram_updates import (  # noqa: E402
    callback_update,
    group_text_update,
    photo_update,
    text_update,
)

TOKEN = "123456:BENCH-token"
SECRET = "bench-webhook-secret"
PUBLIC_URL = "https://emas.binjaikota.test"
PG_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/emas_bench"
GOAL_RATE = 300.0
GOAL_P99_MS = 100.0
COMPARE_GOAL = 1.5  # the residents' reply p99 with a disturbance, over its value without
FIRST_CHAT_ID = 800_000_001
REPLY_METHODS = SEND_METHODS | EDIT_METHODS
REPLY_TIMEOUT = 10.0
REPORT_STEPS = 9  # updates in one report transcript, without the similar-reports step
TICKET = re.compile(r"BJI-\d{4}-\d{6}")
DESCRIPTIONS = [
    "Jalan berlubang cukup dalam di depan sekolah, berbahaya bagi pengendara motor.",
    "Lampu jalan mati sejak tiga hari, jalan gelap dan rawan pada malam hari.",
    "Sampah menumpuk di pinggir jalan sudah seminggu belum diangkut petugas.",
    "Parit tersumbat, air meluap ke jalan setiap kali hujan turun deras.",
    "Pohon tumbang menutupi separuh badan jalan dekat simpang pasar.",
]


# --- the app process ---------------------------------------------------------------------------


def _watch_stalls(path: str, threshold: float = 0.015) -> Callable[[], Coroutine[Any, Any, None]]:
    """Write the main thread's stack whenever its event loop stands still for ``threshold`` s.

    Returns the heartbeat coroutine to run on the loop; a daemon thread watches it."""
    import threading
    import traceback

    main_id = threading.get_ident()
    beat = [time.monotonic()]

    async def heartbeat() -> None:
        while True:
            beat[0] = time.monotonic()
            await asyncio.sleep(0.005)

    cpu_clock = time.pthread_getcpuclockid(main_id)

    def watch() -> None:
        seen = 0.0
        cpu_at_beat: dict[float, float] = {}
        with open(path, "w") as out:
            while True:
                time.sleep(0.005)
                last = beat[0]
                cpu_now = time.clock_gettime(cpu_clock)
                cpu_at_beat.setdefault(last, cpu_now)
                if len(cpu_at_beat) > 4:
                    cpu_at_beat.pop(next(iter(cpu_at_beat)))
                lag = time.monotonic() - last
                if lag > threshold and last != seen:
                    seen = last
                    busy = cpu_now - cpu_at_beat[last]
                    frame = sys._current_frames().get(main_id)
                    stack = "".join(traceback.format_stack(frame)[-30:]) if frame else ""
                    out.write(f"--- loop still for {lag * 1000:.0f} ms "
                              f"(main thread on CPU for {busy * 1000:.0f} ms of it)\n{stack}\n")
                    out.flush()

    threading.Thread(target=watch, daemon=True, name="stall-watch").start()

    import gc

    started = [0.0]
    pauses = open(path + ".gc", "w")  # noqa: SIM115 - open for the process's life

    def on_gc(phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            started[0] = time.perf_counter()
        elif info["generation"] == 2 or time.perf_counter() - started[0] > 0.01:
            pauses.write(f"gen {info['generation']} {1000 * (time.perf_counter() - started[0]):.1f} ms "
                         f"collected {info['collected']}\n")
            pauses.flush()

    gc.callbacks.append(on_gc)
    return heartbeat


def serve_app(conn: Connection, options: dict[str, Any], stalls: str | None = None) -> None:
    """Child process: the app under uvicorn, as `emas serve` runs it; sends back its port."""
    import logging

    import uvicorn

    from bot.app import create_app

    logging.basicConfig(level=logging.WARNING)
    # Simulated residents type far faster than people: the per-account limits are off.
    settings = Settings(_env_file=None, message_limit_per_minute=0,  # type: ignore[call-arg]
                        report_limit_per_hour=0, **options)
    app = create_app(settings)
    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", access_log=False)
    server = uvicorn.Server(config)

    async def main() -> None:
        if stalls:
            watcher = asyncio.create_task(_watch_stalls(stalls)())  # noqa: F841
        task = asyncio.create_task(server.serve())
        while not server.started:
            if task.done():
                task.result()
                raise RuntimeError("the app stopped before it started")
            await asyncio.sleep(0.01)
        conn.send(server.servers[0].sockets[0].getsockname()[1])
        await task

    # The event loop uvicorn.run would pick (uvloop when installed), as under `emas serve`.
    loop_factory = getattr(config, "get_loop_factory", lambda: None)()
    with asyncio.Runner(loop_factory=loop_factory) as runner:
        runner.run(main())


# --- databases -----------------------------------------------------------------------------------


async def prepare_database(kind: str, workdir: Path, pg_url: str) -> str:
    """A fresh database for one run: migrated to heads and seeded with the city pack."""
    from storage.citypack import load_city_pack, seed
    from storage.db import Database
    from storage.migrate import upgrade_async

    if kind == "sqlite":
        url = f"sqlite+aiosqlite:///{workdir / 'emas.db'}"
    else:
        url = pg_url
        await _recreate_pg_database(url)
    await upgrade_async(url)
    db = Database(url)
    try:
        async with db.session() as session:
            await seed(session=session, pack=load_city_pack(Settings(_env_file=None).city_dir))  # type: ignore[call-arg]
    finally:
        await db.dispose()
    return url


async def _recreate_pg_database(url: str) -> None:
    import asyncpg
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    name = parsed.database
    if not name or not re.fullmatch(r"[A-Za-z0-9_]+", name):
        raise SystemExit(f"unusable PostgreSQL database name in {url!r}")
    conn = await asyncpg.connect(host=parsed.host or "127.0.0.1", port=parsed.port or 5432,
                                 user=parsed.username or "postgres", password=parsed.password,
                                 database="postgres")
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()


# --- residents -----------------------------------------------------------------------------------


@dataclass
class Stats:
    """What the measured window saw."""

    reply_ms: list[float] = field(default_factory=list)
    by_step: dict[str, list[float]] = field(default_factory=dict)
    webhook_ms: list[float] = field(default_factory=list)
    errors: int = 0
    error_kinds: dict[str, int] = field(default_factory=dict)
    error_examples: dict[str, str] = field(default_factory=dict)
    reports: int = 0

    def fail(self, kind: str, seen: list[str] | None = None) -> None:
        self.errors += 1
        self.error_kinds[kind] = self.error_kinds.get(kind, 0) + 1
        if seen is not None and kind not in self.error_examples:
            self.error_examples[kind] = " | ".join(seen)[:300]


class Pacer:
    """When each resident sends its next update, and which updates count."""

    def __init__(self, *, residents: int, rate: float, warmup: float, seconds: float) -> None:
        self.residents = residents
        self.rate = rate
        self.t0 = time.monotonic() + 0.2
        # Residents start in the first REPORT_STEPS slot rounds (see Resident.run); the window
        # opens once all of them are under way.
        ramp = REPORT_STEPS * residents / rate if rate else 0.0
        self.window_start = self.t0 + max(warmup, ramp)
        self.window_end = self.window_start + seconds

    def slot(self, index: int, step: int) -> float:
        if not self.rate:
            return 0.0
        return self.t0 + (index + step * self.residents) / self.rate

    def measured(self, started: float) -> bool:
        return self.window_start <= started < self.window_end


class Resident:
    """One person filing reports, one update at a time, reading the keyboard the bot sent."""

    def __init__(self, index: int, *, client: aiohttp.ClientSession, connections: asyncio.Semaphore,
                 double: TelegramDouble, pacer: Pacer, stats: Stats, places: list[str],
                 rng: random.Random) -> None:
        self.index = index
        self.chat_id = FIRST_CHAT_ID + index
        self.client = client
        self.connections = connections
        self.double = double
        self.pacer = pacer
        self.stats = stats
        self.places = places
        self.rng = rng
        self.step = 0
        self.options: list[str] = []
        self.keyboard_message_id: int | None = None
        self.texts: list[str] = []
        self.done = False
        self.arrived = asyncio.Event()  # the double accepted a message for this chat
        # --slow-photo: this resident attaches a new slow photo to each report.
        self.photo: SlowPhotos | None = None
        self.pause = 0.0  # with an unpaced pacer: seconds between one reply and the next update

    async def run(self) -> None:
        # Residents start in different slot rounds, so that at any moment some are starting,
        # some describing and some sending, as in a real crowd (not all in step).
        self.step = self.rng.randrange(REPORT_STEPS) if self.pacer.rate else 0
        while not self.done:
            await self.file_report()

    async def file_report(self) -> None:
        if not await self.say("/start", "start") or not self.offered("m:report"):
            return
        if not await self.tap("m:report", "menu"):
            return
        if "new" in self.options and not await self.tap("new", "new"):  # a draft left behind
            return
        if not await self.say(self.rng.choice(DESCRIPTIONS), "description"):
            return
        categories = [o for o in self.options if o.startswith("cat:")]
        if not categories:
            self.stats.fail("no categories offered", self.texts)
            return
        if not await self.tap(self.rng.choice(categories), "category"):
            return
        if not await self.say(self.rng.choice(self.places), "kelurahan"):
            return
        if not self.offered("skip") or not await self.tap("skip", "landmark"):
            return
        if "own" in self.options and not await self.tap("own", "similar"):  # file mine anyway
            return
        if self.photo is not None:
            file_id = self.photo.new()
            if not await self.post(photo_update(self.chat_id, file_id, None), "photo"):
                return
            # The next photo only once the bot has this one: one slow download at a time.
            await self.photo.downloaded(file_id, self.pacer.window_end)
            if not self.offered("done") or not await self.tap("done", "photos"):
                return
        elif not self.offered("skip") or not await self.tap("skip", "photos"):
            return
        if not self.offered("anon") or not await self.tap(self.rng.choice(["anon", "named"]),
                                                          "identity"):
            return
        if not self.offered("submit") or not await self.tap("submit", "send"):
            return
        if any(TICKET.search(t) for t in self.texts):
            if self.pacer.measured(time.monotonic()):
                self.stats.reports += 1
        else:
            self.stats.fail("no ticket after sending", self.texts)

    def offered(self, option: str) -> bool:
        if option in self.options:
            return True
        self.stats.fail(f"{option!r} not offered", self.texts)
        return False

    async def say(self, text: str, step: str) -> bool:
        return await self.post(text_update(self.chat_id, text), step)

    async def tap(self, option: str, step: str) -> bool:
        if option not in self.options or self.keyboard_message_id is None:
            self.stats.fail(f"{option!r} not on the keyboard")
            return False
        update = callback_update(self.chat_id, option, self.keyboard_message_id)
        self.double.track_update(update)  # the query exists on "Telegram's" side
        return await self.post(update, step)

    async def post(self, update: dict[str, Any], step: str) -> bool:
        """Send one update when its slot comes; False when the run is over or it failed."""
        slot = self.pacer.slot(self.index, self.step)
        self.step += 1
        if self.pause:
            await asyncio.sleep(self.pause)
        now = time.monotonic()
        if slot > now:
            await asyncio.sleep(slot - now)
        started = time.monotonic()
        if started >= self.pacer.window_end:
            self.done = True
            return False
        try:
            async with self.connections:
                mark = len(self.double.sent)
                async with self.client.post(
                    "/webhooks/telegram", json=update,
                    headers={"X-Telegram-Bot-Api-Secret-Token": SECRET},
                ) as response:
                    status = response.status
                    body = await response.read()
                # Like Telegram, make the Bot API call the webhook's answer carries (a button
                # press's answerCallbackQuery) before the next update on this connection.
                await self.double.webhook_reply(status, response.content_type, body)
        except (TimeoutError, aiohttp.ClientError) as error:
            self.stats.fail(type(error).__name__)
            return False
        finished = time.monotonic()
        # The replies leave the app after the webhook's answer, from the chat's lane.
        replies = await self.replies_since(mark)
        measured = self.pacer.measured(started)
        if status != 200:
            if measured:
                self.stats.fail(f"webhook HTTP {status}")
            return False
        if not replies:
            if measured:
                self.stats.fail("no reply")
            return False
        self._read(replies)
        if measured:
            reply_ms = (max(c.timestamp for c in replies) - started) * 1000
            self.stats.reply_ms.append(reply_ms)
            self.stats.by_step.setdefault(step, []).append(reply_ms)
            self.stats.webhook_ms.append((finished - started) * 1000)
        return True

    async def replies_since(self, mark: int) -> list[Call]:
        """This chat's replies sent after ``mark``, once the last one (with its keyboard, or a
        moment after a plain one) has arrived."""
        deadline = time.monotonic() + REPLY_TIMEOUT
        while True:
            replies = [c for c in self.double.sent[mark:]
                       if c.chat_id == self.chat_id and c.method in REPLY_METHODS]
            if replies and replies[-1].reply_markup:
                return replies
            wait = deadline - time.monotonic()
            if replies:
                wait = min(wait, 0.2)
            if wait <= 0:
                return replies
            self.arrived.clear()
            try:
                async with asyncio.timeout(wait):
                    await self.arrived.wait()
            except TimeoutError:
                return [c for c in self.double.sent[mark:]
                        if c.chat_id == self.chat_id and c.method in REPLY_METHODS]

    def _read(self, replies: list[Call]) -> None:
        self.texts = [c.plain_text for c in replies if c.plain_text]
        self.options = []
        for call in replies:
            markup = call.reply_markup or {}
            if "inline_keyboard" in markup:
                self.keyboard_message_id = call.message_id
                self.options = [b["callback_data"] for row in markup["inline_keyboard"]
                                for b in row if "callback_data" in b]


def kelurahan_names() -> list[str]:
    """Kelurahan names the bot takes without asking back, as residents type them."""
    from storage.city import City
    from storage.citypack import load_city_pack

    city = City(load_city_pack(Settings(_env_file=None).city_dir))  # type: ignore[call-arg]
    names = [k.name for k in city.all_kelurahan() if city.match_kelurahan(k.name)[1]]
    if not names:
        raise SystemExit("no kelurahan name is matched with certainty; check the city pack")
    return names


# --- CPU accounting ------------------------------------------------------------------------------


def _process_cpu(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as fh:
        fields = fh.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _machine_busy() -> tuple[float, float]:
    with open("/proc/stat") as fh:
        values = [int(v) for v in fh.readline().split()[1:]]
    idle = values[3] + values[4]
    return float(sum(values) - idle), float(sum(values))


class CpuMeter:
    """CPU seconds of the app process, this process and the whole machine over the window."""

    def __init__(self, app_pid: int) -> None:
        self.app_pid = app_pid
        self.start: tuple[float, float, float, float, float] | None = None
        self.result: dict[str, float] = {}

    def _sample(self) -> tuple[float, float, float, float, float]:
        times = os.times()
        busy, total = _machine_busy()
        return (time.monotonic(), _process_cpu(self.app_pid), times.user + times.system,
                busy, total)

    def begin(self) -> None:
        self.start = self._sample()

    def end(self) -> None:
        assert self.start is not None
        now = self._sample()
        wall = now[0] - self.start[0]
        busy = now[3] - self.start[3]
        total = now[4] - self.start[4]
        self.result = {
            "app_cpu_pct": round(100 * (now[1] - self.start[1]) / wall, 1),
            "driver_cpu_pct": round(100 * (now[2] - self.start[2]) / wall, 1),
            "machine_cpu_pct": round(100 * (os.cpu_count() or 1) * busy / total, 1)
            if total else 0.0,
        }


# --- disturbances --------------------------------------------------------------------------------

PHOTO_BYTES = 8 * 1024 * 1024
PHOTO_SECONDS = 8.0
FLOOD_GROUPS = 5


class SlowPhotos:
    """A new 8 MB photo each time (the bot keeps a photo once), served in 8 s."""

    def __init__(self, double: TelegramDouble) -> None:
        # The double streams slow files through anyio, whose backend is imported on first use
        # (30 ms of the driver's loop): imported now, before anything is measured.
        import anyio._backends._asyncio  # noqa: F401

        from factories import jpeg_bytes

        self.double = double
        self.base = jpeg_bytes(PHOTO_BYTES - 64 * 1024)
        self.numbers = itertools.count(1)

    def new(self) -> str:
        n = next(self.numbers)
        file_id = f"AgAC-slow-{n}"
        # A different comment segment makes each photo a different file.
        data = self.base[:2] + b"\xff\xfe\x00\x10" + n.to_bytes(12, "big") + self.base[2:]
        self.double.add_file(file_id, data, size_known=False, seconds=PHOTO_SECONDS)
        return file_id

    def finish(self) -> None:
        """Hand out the rest of every photo at once: the run is over, and the double's server
        would otherwise wait for the downloads when it stops."""
        for stored in self.double.files.values():
            stored.seconds = 0.0

    async def downloaded(self, file_id: str, until: float) -> None:
        """Until the bot has read the whole photo (or ``until``, a monotonic time)."""
        stored = self.double.files[file_id]
        while stored.served < len(stored.content) and time.monotonic() < until:  # noqa: ASYNC110 - the double keeps a count, no event
            await asyncio.sleep(0.1)


async def _flood_groups(client: aiohttp.ClientSession, connections: asyncio.Semaphore,
                        double: TelegramDouble, pacer: Pacer, per_second: float) -> None:
    """Members of a few group chats that are not linked to anything send /start and mention
    the bot, ``per_second`` updates in all, through the same webhook connections."""
    interval = 1.0 / per_second
    for n in itertools.count():
        now = time.monotonic()
        if now >= pacer.window_end:
            return
        group = -100_900_000_000 - n % FLOOD_GROUPS
        text = "/start" if n % 2 else "halo bot"
        update = group_text_update(group, text, user_id=5_000_000 + n % 97,
                                   mention_bot=not n % 2)
        async with connections, client.post("/webhooks/telegram", json=update,
                               headers={"X-Telegram-Bot-Api-Secret-Token": SECRET}) as r:
            await r.read()
        await asyncio.sleep(max(0.0, now + interval - time.monotonic()))


# --- one run -------------------------------------------------------------------------------------


def _percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1]


async def _window(pacer: Pacer, meter: CpuMeter, profile: list[str] | None) -> None:
    await asyncio.sleep(max(0.0, pacer.window_start - time.monotonic()))
    meter.begin()
    spy = None
    if profile:
        spy = await asyncio.create_subprocess_exec(*profile)
    await asyncio.sleep(max(0.0, pacer.window_end - time.monotonic()))
    meter.end()
    if spy is not None:
        await spy.wait()


async def run_one(kind: str, args: argparse.Namespace) -> dict[str, Any]:
    workdir = Path(tempfile.mkdtemp(prefix=f"emas-bench-{kind}-"))
    process: multiprocessing.process.BaseProcess | None = None
    try:
        url = await prepare_database(kind, workdir, args.pg_url)
        double = create_bot_api(TOKEN, flood_limits=False)
        async with serve_bot_api(double, http="httptools") as api_root:
            options = {
                "env": "development",
                "database_url": url,
                "data_dir": str(workdir / "data"),
                "telegram_token": TOKEN,
                "telegram_api_url": api_root,
                "telegram_webhook_secret": SECRET,
                "public_url": PUBLIC_URL,
                "log_level": "WARNING",
            }
            context = multiprocessing.get_context("spawn")
            parent_end, child_end = context.Pipe()
            process = context.Process(target=serve_app, name="emas-app",
                                      args=(child_end, options, args.stalls))
            process.start()
            assert process.pid is not None
            deadline = time.monotonic() + 60
            while not await asyncio.to_thread(parent_end.poll, 0.5):
                if not process.is_alive():
                    raise SystemExit(f"the app exited while starting ({process.exitcode})")
                if time.monotonic() > deadline:
                    raise SystemExit("the app did not start within 60 s")
            port = parent_end.recv()
            app_root = f"http://127.0.0.1:{port}"
            if double.webhook.url != PUBLIC_URL + "/webhooks/telegram":
                raise SystemExit("the app did not register its webhook with the double")
            return await _drive(kind, args, double, app_root, process.pid)
    finally:
        if process is not None and process.is_alive():
            process.terminate()
            await asyncio.to_thread(process.join, 15)
            if process.is_alive():
                process.kill()
        shutil.rmtree(workdir, ignore_errors=True)


async def _drive(kind: str, args: argparse.Namespace, double: TelegramDouble, app_root: str,
                 app_pid: int) -> dict[str, Any]:
    stats = Stats()
    places = kelurahan_names()
    # Telegram opens at most the webhook's max_connections (40 unless the bot asks otherwise)
    # at once and queues the rest; the wait for a connection counts in the latency. The queue
    # is a semaphore in front of a connection pool of the same width.
    width = min(args.residents, double.webhook.max_connections)
    connections = asyncio.Semaphore(width)
    profile = None
    if args.py_spy:
        out = f"{args.py_spy}-{kind}.txt"
        profile = ["py-spy", "record", "--pid", str(app_pid), "--duration", str(int(args.seconds)),
                   "--rate", "100", "--format", "raw", "--threads", "--output", out]
        if not shutil.which("py-spy"):
            spy = Path(sys.executable).with_name("py-spy")
            if not spy.exists():
                raise SystemExit("--py-spy needs py-spy (pip install py-spy)")
            profile[0] = str(spy)
    # aiohttp, not httpx: httpx's pool checks every idle connection with a system call on each
    # request, which at 300 requests/s cost the driver most of a core.
    connector = aiohttp.TCPConnector(limit=width)
    async with aiohttp.ClientSession(base_url=app_root, connector=connector,
                                     timeout=aiohttp.ClientTimeout(total=30)) as client:
        pacer = Pacer(residents=args.residents, rate=args.rate, warmup=args.warmup,
                      seconds=args.seconds)
        meter = CpuMeter(app_pid)
        residents = [
            Resident(i, client=client, connections=connections, double=double, pacer=pacer,
                     stats=stats, places=places, rng=random.Random(i))
            for i in range(args.residents)
        ]
        by_chat = {r.chat_id: r for r in residents}

        def wake(call: Call) -> None:
            resident = by_chat.get(call.chat_id) if isinstance(call.chat_id, int) else None
            if resident is not None:
                resident.arrived.set()

        double.on_sent = wake
        disturbances = []
        photographer: Resident | None = None
        if args.slow_photo:
            # One more resident attaches an 8 MB photo that takes 8 s to download to a report,
            # and goes on a quarter of a second after each reply (the next report as soon as the bot
            # has the photo), so that through the whole
            # window one slow photo is being downloaded and one is stored every 8 s or so; not
            # counted in the figures.
            unpaced = copy.copy(pacer)
            unpaced.rate = 0.0
            photographer = Resident(args.residents, client=client, connections=connections,
                                    double=double, pacer=unpaced, stats=Stats(), places=places,
                                    rng=random.Random(-1))
            photographer.photo = SlowPhotos(double)
            photographer.pause = 0.25
            by_chat[photographer.chat_id] = photographer
            disturbances.append(photographer.run())
        if args.group_flood:
            disturbances.append(_flood_groups(client, connections, double, pacer,
                                              args.group_flood))
        # The driver's own full garbage collections (80-130 ms each, walking every call the
        # double recorded) would stop its clock and count as the app's latency: off for the run.
        gc.collect()
        gc.freeze()
        gc.disable()
        try:
            await asyncio.gather(_window(pacer, meter, profile),
                                 *(r.run() for r in residents), *disturbances)
        finally:
            gc.unfreeze()
            gc.enable()
            if photographer is not None and photographer.photo is not None:
                photographer.photo.finish()
    updates = len(stats.reply_ms)
    rate = updates / args.seconds
    p50 = _percentile(stats.reply_ms, 50)
    p99 = _percentile(stats.reply_ms, 99)
    return {
        "db": kind,
        "residents": args.residents,
        "offered_rate": args.rate or None,
        "seconds": args.seconds,
        "updates": updates,
        "updates_per_s": round(rate, 1),
        "reply_p50_ms": round(p50, 2),
        "reply_p99_ms": round(p99, 2),
        "webhook_p50_ms": round(_percentile(stats.webhook_ms, 50), 2),
        "webhook_p99_ms": round(_percentile(stats.webhook_ms, 99), 2),
        "reply_max_ms": round(max(stats.reply_ms, default=float("nan")), 2),
        "reply_ms_by_step": {
            step: {"n": len(values), "p50": round(_percentile(values, 50), 2),
                   "p99": round(_percentile(values, 99), 2)}
            for step, values in stats.by_step.items()
        },
        "p99_ratio": round(p99 / GOAL_P99_MS, 2),
        "rate_ratio": round(rate / GOAL_RATE, 2),
        "goal_met": rate >= GOAL_RATE * 0.99 and p99 <= GOAL_P99_MS,
        "reports_filed": stats.reports,
        # The photographer's reports in the window, each with an 8 MB photo, and what failed.
        "photo_reports": None if photographer is None else photographer.stats.reports,
        "photo_errors": None if photographer is None else photographer.stats.error_kinds,
        "errors": stats.errors,
        "error_kinds": stats.error_kinds,
        "error_examples": stats.error_examples,
        **meter.result,
        "app_cpu_ms_per_update": round(10 * meter.result["app_cpu_pct"] / rate, 2)
        if rate else None,
    }


def summary(result: dict[str, Any]) -> str:
    met = "goal met" if result["goal_met"] else "goal NOT met"
    return (
        f"{result['db']:<8} {result['updates_per_s']:7.1f} updates/s "
        f"(x{result['rate_ratio']:.2f} of {GOAL_RATE:.0f})  "
        f"reply p50 {result['reply_p50_ms']:.1f} ms  p99 {result['reply_p99_ms']:.1f} ms "
        f"(x{result['p99_ratio']:.2f} of {GOAL_P99_MS:.0f} ms)  "
        f"webhook p99 {result['webhook_p99_ms']:.1f} ms  errors {result['errors']}  "
        f"reports {result['reports_filed']}"
        + ("" if result.get("photo_reports") is None else
           f" (+{result['photo_reports']} with a slow photo)")
        + f"  cpu app {result.get('app_cpu_pct', 0):.0f}% "
        f"driver {result.get('driver_cpu_pct', 0):.0f}% "
        f"machine {result.get('machine_cpu_pct', 0):.0f}%  [{met}]"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=["sqlite", "postgres", "both"], default="sqlite")
    parser.add_argument("--residents", type=int, default=200,
                        help="simulated residents, each filing reports one after another")
    parser.add_argument("--rate", type=float, default=GOAL_RATE,
                        help="updates/s offered in total; 0 = no pauses (saturation)")
    parser.add_argument("--seconds", type=float, default=20.0, help="measured window")
    parser.add_argument("--warmup", type=float, default=5.0, help="unmeasured lead-in")
    parser.add_argument("--pg-url", default=PG_URL,
                        help="PostgreSQL database to (re)create for the run")
    parser.add_argument("--py-spy", metavar="PREFIX",
                        help="profile the app process in the window: PREFIX-<db>.txt "
                             "(py-spy raw, collapsed stacks)")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    parser.add_argument("--group-flood", type=float, default=0.0, metavar="UPDATES_PER_S",
                        help="meanwhile, group chats that are not linked flood the bot with "
                             "/start and mentions (e.g. 30)")
    parser.add_argument("--slow-photo", action="store_true",
                        help="meanwhile, one more resident attaches an 8 MB photo that takes "
                             "8 s to download to every report")
    parser.add_argument("--compare", type=int, default=0, metavar="ROUNDS",
                        help="with --slow-photo and/or --group-flood: ROUNDS rounds of one run "
                             "without and one with them (the order alternating), then the "
                             "median reply p99 of each side and their ratio (e.g. 5)")
    parser.add_argument("--stalls", metavar="FILE",
                        help="write the app's stack each time its event loop stands still for "
                             "more than 40 ms")
    args = parser.parse_args()
    if args.residents < 1 or args.seconds <= 0 or args.warmup < 0 or args.rate < 0:
        parser.error("--residents, --seconds, --warmup and --rate must be positive")
    if args.compare < 0 or (args.compare and not (args.slow_photo or args.group_flood)):
        parser.error("--compare needs a number of rounds and --slow-photo or --group-flood")
    kinds = ["sqlite", "postgres"] if args.db == "both" else [args.db]
    results: list[dict[str, Any]] = []
    for kind in kinds:
        if args.compare:
            results.append(compare(kind, args))
            continue
        result = asyncio.run(run_one(kind, args))
        results.append(result)
        if not args.json:
            print(summary(result), flush=True)
    if args.json:
        print(json.dumps(results, indent=2))


def compare(kind: str, args: argparse.Namespace) -> dict[str, Any]:
    """Runs without and with the disturbances, alternately, each in a fresh app process and
    database; the medians of their reply p99 and the ratio of the medians.

    A p99 of one run rests on its ten slowest replies in a thousand, so one busy moment of a
    shared machine moves it by a factor of two or more either way; the median over rounds, with
    the order alternating so that a slow drift falls on both sides, is what can be quoted."""
    quiet = argparse.Namespace(**{**vars(args), "slow_photo": False, "group_flood": 0.0})
    runs: dict[str, list[dict[str, Any]]] = {"without": [], "with": []}
    for round_ in range(args.compare):
        order = [("without", quiet), ("with", args)]
        for side, options in order if round_ % 2 == 0 else reversed(order):
            result = asyncio.run(run_one(kind, options))
            runs[side].append(result)
            if not args.json:
                print(f"round {round_ + 1} {side:<7} " + summary(result), flush=True)
    p99 = {side: statistics.median(r["reply_p99_ms"] for r in results)
           for side, results in runs.items()}
    p50 = {side: statistics.median(r["reply_p50_ms"] for r in results)
           for side, results in runs.items()}
    disturbances = " ".join(
        ([f"--group-flood {args.group_flood:g}"] if args.group_flood else [])
        + (["--slow-photo"] if args.slow_photo else []))
    ratio = p99["with"] / p99["without"] if p99["without"] else float("nan")
    if not args.json:
        print(f"{kind:<8} {args.compare} rounds, median reply p99 {p99['without']:.1f} ms without, "
              f"{p99['with']:.1f} ms with {disturbances} (x{ratio:.2f}; goal <= x{COMPARE_GOAL:g}); "
              f"p50 {p50['without']:.1f} / {p50['with']:.1f} ms; errors "
              f"{sum(r['errors'] for rs in runs.values() for r in rs)}", flush=True)
    return {"db": kind, "rounds": args.compare, "disturbances": disturbances,
            "reply_p99_ms": p99, "reply_p50_ms": p50, "p99_ratio": round(ratio, 2),
            "goal_met": ratio <= COMPARE_GOAL, "runs": runs}


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        main()
