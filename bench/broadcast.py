"""Broadcast benchmarks: the dispatcher against a Telegram Bot API double in its own process.

    .venv/bin/python bench/broadcast.py rate       # 1. 3,000 at 30 msg/s: rate / limit, 429s
    .venv/bin/python bench/broadcast.py faults     # 2. the same, 10% of calls 5xx or 429: lost
    .venv/bin/python bench/broadcast.py faults-5xx # 2b. the same, 10% of calls 5xx (no 429)
    .venv/bin/python bench/broadcast.py ceiling    # 3. no limit: messages/s sustained
    .venv/bin/python bench/broadcast.py memory     # 4. 1,000,000 recipients: peak memory
    .venv/bin/python bench/broadcast.py replies    # 5. replies during a full-rate broadcast: p99
    .venv/bin/python bench/broadcast.py all

Each scenario builds a fresh SQLite database in a temporary directory, runs the real
dispatcher (claims, limiter, PTB Bot, outcome writes) and prints one JSON line. The double
runs in a child process, so its clock and flood control are not slowed by the dispatcher.
`memory` runs the dispatcher in a child process too and reports that process' peak RSS; its
recipients are sent to an in-process sender that answers at once (a million HTTP calls would
only measure the double).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import resource
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

TOKEN = "777:BENCH"
LIMIT = 30

# The double, served by a child process with a /_stats route the benchmark reads at the end.
DOUBLE_SERVER = r"""
import json, random, sys
import uvicorn
from starlette.responses import JSONResponse
sys.path[:0] = [sys.argv[1]]
from doubles.telegram_api import ApiError, create_bot_api

port, flood, fault_rate = int(sys.argv[2]), sys.argv[3] == "1", float(sys.argv[4])
only_5xx = sys.argv[7] == "5xx"
double = create_bot_api(sys.argv[5], flood_limits=flood)
rng = random.Random(7)
original = double._injected_fault

def injected(method):
    if fault_rate and method == "sendMessage" and rng.random() < fault_rate:
        if not only_5xx and rng.random() < 0.5:
            return ApiError(429, "Too Many Requests: retry after 1", retry_after=1)
        return ApiError(502, "Bad Gateway")
    return original(method)

double._injected_fault = injected
keep = sys.argv[6] == "1"

async def stats(request):
    sends = [c for c in double.requests if c.method == "sendMessage"]
    ok = [c for c in sends if c.ok]
    data = {
        "accepted": len(ok),
        "rejected_429": sum(1 for c in sends if c.status == 429),
        "rejected_429_chats": [str(c.params.get("chat_id")) for c in sends if c.status == 429],
        "rejected_5xx": sum(1 for c in sends if c.status >= 500),
        "times": [c.timestamp for c in ok] if keep else [],
        "order": [str(c.chat_id) for c in ok] if keep else [],
        "per_chat": {},
    }
    if keep:
        counts = {}
        for c in ok:
            counts[str(c.chat_id)] = counts.get(str(c.chat_id), 0) + 1
        data["per_chat"] = counts
    return JSONResponse(data)

async def clear(request):
    double.clear()
    return JSONResponse({})

double.app.add_route("/_stats", stats)
double.app.add_route("/_clear", clear, methods=["POST"])
if not keep:
    # Without per-message statistics the double keeps no history (a long run stays small).
    double.requests = type("Sink", (list,), {"append": lambda self, x: None})()
    double.sent = double.requests
    double._store_message = lambda chat_id, content, markup: {
        "message_id": 1, "date": 0, "chat": {"id": chat_id, "type": "private"}, **content}
uvicorn.run(double.app, host="127.0.0.1", port=port, log_level="warning", access_log=False)
"""


# For the ceiling: an HTTP/1.1 keep-alive server that answers every sendMessage at once, so the
# figure is the dispatcher's (the full double parses and checks every message, and shares the
# machine's cores with it).
STUB_SERVER = r"""
import asyncio, json, sys

BODY = json.dumps({"ok": True, "result": {"message_id": 1, "date": 0,
                   "chat": {"id": 1, "type": "private"}, "text": "x"}}).encode()
ME = json.dumps({"ok": True, "result": {"id": 777, "is_bot": True, "first_name": "Bench",
                 "username": "bench_bot"}}).encode()
count = 0

async def handle(reader, writer):
    global count
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n"):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":")[1])
            if length:
                await reader.readexactly(length)
            if b"/getMe" in head.split(b"\r\n", 1)[0]:
                body = ME
            elif b"/_stats" in head.split(b"\r\n", 1)[0]:
                body = json.dumps({"accepted": count, "rejected_429": 0, "rejected_5xx": 0,
                                   "times": [], "per_chat": {}}).encode()
            else:
                count += 1
                body = BODY
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                         b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body)
            await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError):
        writer.close()

async def main():
    server = await asyncio.start_server(handle, "127.0.0.1", int(sys.argv[1]))
    async with server:
        await server.serve_forever()

asyncio.run(main())
"""


def stub_process() -> contextlib.AbstractContextManager[str]:
    port = _free_port()
    return _serving([sys.executable, "-c", STUB_SERVER, str(port)], port)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def double_process(*, flood: bool, fault_rate: float = 0.0, keep: bool = True,
                   faults: str = "mixed") -> contextlib.AbstractContextManager[str]:
    """``faults``: "mixed" (half 502, half 429 retry_after 1) or "5xx" (502 only)."""
    port = _free_port()
    return _serving([sys.executable, "-c", DOUBLE_SERVER, str(ROOT / "tests"), str(port),
                     "1" if flood else "0", str(fault_rate), TOKEN, "1" if keep else "0",
                     faults], port)


@contextlib.contextmanager
def _serving(command: list[str], port: int) -> Iterator[str]:
    """Start a server process, wait until it answers, yield its root URL, stop it."""
    process = subprocess.Popen(command)
    root = f"http://127.0.0.1:{port}"
    try:
        import httpx

        for _ in range(200):
            try:
                httpx.get(root + "/_stats", timeout=1)
                break
            except httpx.HTTPError:
                time.sleep(0.05)
        yield root
    finally:
        process.terminate()
        process.wait()


async def _stats(root: str) -> dict[str, Any]:
    import httpx

    async with httpx.AsyncClient(timeout=60) as client:
        response = await client.get(root + "/_stats")
        data: dict[str, Any] = response.json()
        return data


def _settings(tmp: Path, **updates: Any) -> Any:
    from bot.settings import Settings

    # Simulated residents type far faster than people: the per-account limits are off.
    return Settings(_env_file=None, env="test",  # type: ignore[call-arg]
                    database_url=f"sqlite+aiosqlite:///{tmp}/emas.db", data_dir=tmp / "data",
                    content_dir=ROOT / "content", message_limit_per_minute=0,
                    report_limit_per_hour=0, **updates)


async def _prepare(settings: Any, recipients: int, *, start: int = 800_000) -> Any:
    from bot.app import build_container
    from broadcasts.groups import load_catalog
    from storage.citypack import load_city_pack, seed
    from storage.migrate import upgrade_async

    await upgrade_async(settings.database_url)
    box = build_container(settings)
    async with box.db.session() as session:
        await seed(session=session, pack=load_city_pack(settings.city_dir))
    await _generate(box.db, load_catalog(box.city, settings.city_dir), recipients, start)
    return box


async def _generate(db: Any, catalog: Any, n: int, start: int) -> None:
    """Subscribers made in SQL (a recursive series), so even a million never sit in memory."""
    from sqlalchemy import text

    from broadcasts.subscribers import ensure_groups

    async with db.session() as session:
        await ensure_groups(session, catalog)
    step = 100_000
    for lo in range(0, n, step):
        hi = min(n, lo + step)
        async with db.session() as session:
            await session.exec(text(  # type: ignore[call-overload]
                "WITH RECURSIVE s(i) AS (SELECT :lo UNION ALL SELECT i + 1 FROM s WHERE i + 1 < :hi) "
                "INSERT INTO subscriber (channel, address, kelurahan_code, locale, is_group, role, "
                "consent_source, source, stopped, created_at, updated_at) "
                "SELECT 'telegram', CAST(:start + i AS TEXT), '12.75.01.1001', 'id', 0, "
                "'resident', 'bench', 'import', 0, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP FROM s"),
                params={"lo": lo, "hi": hi, "start": start})
            await session.exec(text(  # type: ignore[call-overload]
                "INSERT INTO subscription (subscriber_id, group_key, created_at) "
                "SELECT id, 'kim:12.75.01.1001', CURRENT_TIMESTAMP FROM subscriber "
                "WHERE id > :lo AND id <= :hi"), params={"lo": lo, "hi": hi})


async def _campaign(box: Any, text: str = "Pengumuman: kerja bakti Minggu pagi.", *,
                    relays: bool = False) -> int:
    from broadcasting import create_campaign
    from broadcasts.audience import Audience

    return await create_campaign(
        box.db, box.city, box.settings, title="bench", text_id=text,
        audience=Audience(groups=["kim:12.75.01.1001"], relays=relays), created_by="bench")


async def _until_done(box: Any, campaign_id: int, within: float = 3600) -> float:
    from storage.models.broadcast import Campaign

    started = time.monotonic()
    while time.monotonic() - started < within:
        async with box.db.reader() as session:
            campaign = await session.get(Campaign, campaign_id)
            if campaign is not None and campaign.status == "completed":
                return time.monotonic() - started
        await asyncio.sleep(0.1)
    raise TimeoutError(f"campaign {campaign_id} did not finish")


@contextlib.asynccontextmanager
async def _dispatching(box: Any, root: str, **options: Any) -> AsyncIterator[Any]:
    from bot.handlers.telegram_bulk import TelegramBulkSender, bulk_bot
    from broadcasting import running

    hub = box.broadcasts
    hub.register_sender(TelegramBulkSender(bulk_bot(TOKEN, root),
                                           per_second=box.settings.broadcast_telegram_rate))
    dispatcher = hub.build_dispatcher(**options)
    async with running(dispatcher):
        yield dispatcher


def _window_max(times: list[float], window: float = 1.0) -> int:
    times = sorted(times)
    best = first = 0
    for last, moment in enumerate(times):
        while times[first] <= moment - window:
            first += 1
        best = max(best, last - first + 1)
    return best


# --- scenarios -----------------------------------------------------------------------------


async def _relays(box: Any, count: int, start: int = 700_000) -> None:
    """Kepala lingkungan, subscribed after everyone else (the highest ids)."""
    from broadcasting import add_subscribers
    from broadcasts.groups import load_catalog
    from broadcasts.subscribers import SubscriberService

    addresses = [str(start + i) for i in range(count)]
    await add_subscribers(box.db, box.city, box.settings, addresses, groups=(),
                          kelurahan="12.75.01.1001", role="kepling")
    async with box.db.session() as session:
        service = SubscriberService(session=session, city=box.city,
                                    catalog=load_catalog(box.city, box.settings.city_dir),
                                    now=box.engine.clock)
        for address in addresses:
            me = await service.find("telegram", address)
            assert me is not None
            await service.make_relay(me, kelurahan_code="12.75.01.1001", name=None,
                                     lingkungan=None)


async def rate(count: int, fault_rate: float = 0.0, faults: str = "mixed",
               relays: int = 60) -> dict[str, Any]:
    from broadcasting import delivery_counts

    with tempfile.TemporaryDirectory() as tmp, \
            double_process(flood=True, fault_rate=fault_rate, faults=faults) as root:
        settings = _settings(Path(tmp), telegram_token=TOKEN, telegram_api_url=root,
                             broadcast_telegram_rate=float(LIMIT))
        box = await _prepare(settings, count - relays)
        await _relays(box, relays)
        campaign_id = await _campaign(box, relays=bool(relays))
        async with _dispatching(box, root) as dispatcher:
            elapsed = await _until_done(box, campaign_id)
        stats = await _stats(root)
        counts = await delivery_counts(box.db, campaign_id)
        await box.db.dispose()
    times = sorted(stats["times"])
    achieved = (len(times) - 1) / (times[-1] - times[0]) if len(times) > 1 else 0.0
    per_chat = Counter(stats["per_chat"])
    lost = count - len(per_chat)
    relay_chats = {700_000 + i for i in range(relays)}
    order = [int(chat) for chat in stats.get("order", [])]
    firsts: dict[int, int] = {}
    for position, chat in enumerate(order):
        firsts.setdefault(chat, position)
    relay_positions = sorted(firsts[c] for c in relay_chats if c in firsts)
    return {
        "scenario": ("faults-5xx" if faults == "5xx" else "faults") if fault_rate else "rate",
        "deliveries": count,
        "relays": relays,
        # Where the relays' first copies came in the order of sending (0 = first message).
        "relay_first_copy_last_position": relay_positions[-1] if relay_positions else None,
        "limit_per_s": LIMIT,
        "achieved_per_s": round(achieved, 2),
        "rate_over_limit": round(achieved / LIMIT, 4),
        "max_in_any_1s_window": _window_max(times),
        "answered_429": stats["rejected_429"],
        "answered_5xx": stats["rejected_5xx"],
        "lost": lost,
        # A relay's copy comes with its forwarding kit: several messages to one chat.
        "duplicates": sum(n - 1 for chat, n in per_chat.items() if int(chat) not in relay_chats),
        "relay_messages": sum(n for chat, n in per_chat.items() if int(chat) in relay_chats),
        "delivery_states": counts,
        "dispatcher_retries": dispatcher.stats,
        "seconds": round(elapsed, 1),
    }


async def ceiling(count: int, concurrency: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp, stub_process() as root:
        settings = _settings(Path(tmp), telegram_token=TOKEN, telegram_api_url=root,
                             broadcast_telegram_rate=1_000_000.0)
        box = await _prepare(settings, count)
        campaign_id = await _campaign(box)
        async with _dispatching(box, root, concurrency=concurrency):
            await _until_done(box, campaign_id)
        from storage import repo_broadcasts

        async with box.db.reader() as session:
            first, last, sent = await repo_broadcasts.sending_rate(session=session,
                                                                   campaign_id=campaign_id)
        stats = await _stats(root)
        await box.db.dispose()
    seconds = (last - first).total_seconds() if first and last else 0.0
    return {
        "scenario": "ceiling",
        "deliveries": count,
        "sent": sent,
        "accepted_by_double": stats["accepted"],
        "messages_per_s": round(sent / seconds, 1) if seconds else None,
        "goal_per_s": 1000,
        "over_goal": round(sent / seconds / 1000, 3) if seconds else None,
        "concurrency": concurrency,
    }


class _InstantSender:
    """A bulk sender that answers at once, for the memory scenario."""

    channel = "telegram"
    caption_limit = 1024
    needs_template_window = False
    has_receipts = False

    def __init__(self) -> None:
        from broadcasts.limiter import telegram_limits

        self.limits = telegram_limits(1_000_000.0)
        self.sent = 0

    async def start(self) -> None:
        pass

    async def stop(self) -> None:
        pass

    def join_link(self, code: str) -> str | None:
        return None

    async def send(self, message: Any) -> Any:
        from broadcasts.sending import SendResult

        self.sent += 1
        await asyncio.sleep(0)
        return SendResult.ok(str(self.sent))


async def memory_child(count: int, tmp: str) -> dict[str, Any]:
    settings = _settings(Path(tmp), broadcast_telegram_rate=1_000_000.0)
    started = time.monotonic()
    box = await _prepare(settings, count)
    generated = time.monotonic() - started
    from broadcasting import running
    from broadcasts.campaigns import CampaignDraft, CampaignService
    from broadcasts.groups import load_catalog
    from storage.types import utcnow

    campaign_id = await _campaign(box)
    async with box.db.session() as session:
        service = CampaignService(session=session, city=box.city,
                                  catalog=load_catalog(box.city, settings.city_dir),
                                  settings=settings, now=utcnow)
        campaign = await service.get(campaign_id)
        preview = await service.preview(CampaignDraft.of(campaign, await service.texts(campaign)))
    sender = _InstantSender()
    box.broadcasts.register_sender(sender)  # type: ignore[arg-type]
    dispatcher = box.broadcasts.build_dispatcher(concurrency=256)
    async with running(dispatcher):
        started = time.monotonic()
        await _until_done(box, campaign_id)
    sending = time.monotonic() - started
    async with box.db.session() as session:
        service = CampaignService(session=session, city=box.city,
                                  catalog=load_catalog(box.city, settings.city_dir),
                                  settings=settings, now=utcnow)
        reach = await service.status(campaign_id)
    await box.db.dispose()
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {
        "scenario": "memory",
        "recipients": count,
        "previewed": preview["recipients"],
        "delivered": reach["delivered"],
        "sent_by_dispatcher": sender.sent,
        "peak_rss_mb": round(peak_mb, 1),
        "limit_mb": 200,
        "over_limit": round(peak_mb / 200, 3),
        "seconds_generating": round(generated, 1),
        "seconds_expanding_and_sending": round(sending, 1),
        "messages_per_s": round(count / sending, 1),
    }


def memory(count: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        done = subprocess.run(
            [sys.executable, __file__, "memory-child", "--count", str(count), "--tmp", tmp],
            capture_output=True, text=True)
        if done.returncode != 0:
            raise RuntimeError(done.stderr[-20000:])
        output = done.stdout
    result: dict[str, Any] = json.loads(output.strip().splitlines()[-1])
    return result


async def replies(count: int, residents: int, seconds: float,
                  interval: float = 2.0) -> dict[str, Any]:
    import httpx

    from bot.app import create_app
    from broadcasting import delivery_counts
    from doubles.telegram_updates import text_update

    with tempfile.TemporaryDirectory() as tmp, double_process(flood=True) as root:
        settings = _settings(Path(tmp), telegram_token=TOKEN, telegram_api_url=root,
                             telegram_webhook_secret="bench-secret",
                             public_url="https://emas.binjaikota.test",
                             broadcast_telegram_rate=float(LIMIT))
        box = await _prepare(settings, count)
        app = create_app(settings, container=box, start_channels=False)
        channel = box.channels["telegram"]
        await channel.start()
        campaign_id = await _campaign(box)
        latencies: list[float] = []
        transport = httpx.ASGITransport(app=app)
        async with _dispatching(box, root), httpx.AsyncClient(
                transport=transport, base_url="http://bench") as client:
            await asyncio.sleep(3)  # the broadcast is at full rate

            async def resident(chat_id: int) -> None:
                end = time.monotonic() + seconds
                await asyncio.sleep(random.random())
                while time.monotonic() < end:
                    started = time.monotonic()
                    response = await client.post(
                        "/webhooks/telegram", json=text_update(chat_id, "menu"),
                        headers={"X-Telegram-Bot-Api-Secret-Token": "bench-secret"})
                    assert response.status_code == 200
                    latencies.append(time.monotonic() - started)
                    # A person types a message every few seconds, not several a second.
                    await asyncio.sleep(max(0.0, interval - (time.monotonic() - started)))

            await asyncio.gather(*(resident(500_000 + i) for i in range(residents)))
            stats = await _stats(root)
            counts = await delivery_counts(box.db, campaign_id)
        await channel.stop()
        await box.db.dispose()
    latencies.sort()
    p99 = latencies[int(len(latencies) * 0.99) - 1] if latencies else None
    broadcast_times = sorted(t for t in stats["times"])
    return {
        "scenario": "replies",
        "replies": len(latencies),
        "residents": residents,
        "seconds_between_a_residents_messages": interval,
        "p50_s": round(statistics.median(latencies), 3) if latencies else None,
        "p99_s": round(p99, 3) if p99 is not None else None,
        "max_s": round(latencies[-1], 3) if latencies else None,
        "goal_p99_s": 1.0,
        "p99_over_goal": round(p99 / 1.0, 3) if p99 is not None else None,
        "answered_429_to_replies": sum(1 for c in stats["rejected_429_chats"]
                                       if c.startswith("5")),
        "answered_429_to_broadcast": sum(1 for c in stats["rejected_429_chats"]
                                         if not c.startswith("5")),
        "max_in_any_1s_window": _window_max(broadcast_times),
        "broadcast_sent_meanwhile": counts.get("delivered", 0),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("scenario", choices=["rate", "faults", "faults-5xx", "ceiling", "memory",
                                             "replies", "all", "memory-child"])
    parser.add_argument("--count", type=int, default=None)
    parser.add_argument("--concurrency", type=int, default=128)
    parser.add_argument("--tmp")
    args = parser.parse_args()
    os.environ.setdefault("EMAS_LOG_LEVEL", "WARNING")
    if args.scenario == "memory-child":
        print(json.dumps(asyncio.run(memory_child(args.count or 1_000_000, args.tmp))))
        return
    wanted = ["rate", "faults", "faults-5xx", "ceiling", "memory", "replies"] \
        if args.scenario == "all" \
        else [args.scenario]
    for name in wanted:
        if name == "rate":
            result = asyncio.run(rate(args.count or 3000))
        elif name == "faults":
            result = asyncio.run(rate(args.count or 3000, fault_rate=0.10))
        elif name == "faults-5xx":
            result = asyncio.run(rate(args.count or 3000, fault_rate=0.10, faults="5xx"))
        elif name == "ceiling":
            result = asyncio.run(ceiling(args.count or 30_000, args.concurrency))
        elif name == "memory":
            result = memory(args.count or 1_000_000)
        else:
            result = asyncio.run(replies(args.count or 3000, residents=10, seconds=40))
        result["load_average_1m"] = round(os.getloadavg()[0], 2)
        print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
