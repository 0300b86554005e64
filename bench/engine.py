"""Engine benchmark: CPU time per inbound event through the engine alone (no HTTP, no channel).

    .venv/bin/python bench/engine.py

Residents file reports through the terminal channel's parser, straight into ``Engine.process``,
one after another on one event loop: the cost of deduplication, the per-user lock, the flows
and the database for one event, without the webhook and the Bot API around it. CPU time is
``time.process_time`` of this process over the measured events, so other work on the machine
moves it little; the wall time is printed beside it. ``bench/inbound.py`` measures the whole
path.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
for _path in (ROOT, ROOT / "tests"):
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

from bot.app import build_container  # noqa: E402
from bot.settings import Settings  # noqa: E402
from chat import TerminalChat  # noqa: E402
from storage.citypack import load_city_pack, seed  # noqa: E402
from storage.migrate import upgrade  # noqa: E402

TICKET = re.compile(r"BJI-\d{4}-\d{6}")
# The report flow as a resident walks it (tests/bot/flows/test_flow_place.py walks the same).
TRANSCRIPT = [
    ("say", "/start"), ("tap", "Make a report"),
    ("say", "Jalan berlubang dalam di depan sekolah nomor {n}"), ("tap", "Damaged road"),
    ("say", "Tangsi"), ("tap", "Skip"), ("tap", "Skip photos"), ("tap", "Yes, show my name"),
    ("tap", "Send report"),
]


async def run(residents: int, rounds: int, url: str | None) -> dict[str, float]:
    workdir = Path(tempfile.mkdtemp(prefix="emas-bench-engine-"))
    try:
        url = url or f"sqlite+aiosqlite:///{workdir}/emas.db"
        await asyncio.to_thread(upgrade, url)
        # Simulated residents type far faster than people: the per-account limits are off.
        settings = Settings(_env_file=None, env="development",  # type: ignore[call-arg]
                            database_url=url, data_dir=workdir / "data",
                            message_limit_per_minute=0, report_limit_per_hour=0)
        box = build_container(settings)
        async with box.db.session() as session:
            await seed(session=session, pack=load_city_pack(settings.city_dir))
        run_id = uuid.uuid4().hex[:8]  # a database used before keeps its residents apart
        chats = [TerminalChat(box.engine, user_key=f"bench-{run_id}-{i}", locale="en")
                 for i in range(residents)]
        per_event: list[float] = []
        events = 0
        cpu_start = wall_start = 0.0
        for round_ in range(rounds + 1):  # round 0 warms up (caches, first rows)
            if round_ == 1:
                cpu_start, wall_start = time.process_time(), time.perf_counter()
            for step, (kind, arg) in enumerate(TRANSCRIPT):
                for i, chat in enumerate(chats):
                    moves = [(kind, arg.format(n=f"{round_}.{i}.{step}"))]
                    if kind == "tap" and any("File mine anyway" in o for o in chat.options):
                        moves.insert(0, ("tap", "File mine anyway"))  # similar reports shown
                    for move, text in moves:
                        started = time.process_time()
                        await getattr(chat, move)(text)
                        if round_:
                            per_event.append(time.process_time() - started)
                            events += 1
            for chat in chats:  # every transcript ends with a ticket, or nothing was measured
                if not TICKET.search(chat.text):
                    raise SystemExit(f"no ticket after the transcript; the bot said: {chat.text!r}")
        cpu = time.process_time() - cpu_start
        wall = time.perf_counter() - wall_start
        await box.db.dispose()
        return {
            "events": events,
            "cpu_ms_per_event": round(1000 * cpu / events, 3),
            "wall_ms_per_event": round(1000 * wall / events, 3),
            "median_cpu_ms": round(1000 * statistics.median(per_event), 3),
            "events_per_cpu_second": round(events / cpu, 1),
        }
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--residents", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=4, help="reports per resident, measured")
    parser.add_argument("--database-url", help="default: a new SQLite file")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    result = asyncio.run(run(args.residents, args.rounds, args.database_url))
    if args.json:
        print(json.dumps(result))
    else:
        print(f"engine  {result['cpu_ms_per_event']:.3f} ms CPU per event "
              f"({result['events_per_cpu_second']:.0f} events per CPU second; "
              f"median {result['median_cpu_ms']:.3f} ms; wall {result['wall_ms_per_event']:.3f} ms)"
              f"  over {result['events']} events")


if __name__ == "__main__":
    main()
