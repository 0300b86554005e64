"""Console benchmark: 20 staff browse the inbox, reports and the evaluation over 100,000 reports.

    .venv/bin/python bench/console.py --db both

The app runs in its own process under uvicorn, as `emas serve` runs it, on a database filled
with ``--reports`` reports (default 100,000) filed over the last year: each with its history
(filed, and for most verified, passed on, handled, resolved or closed, some rejected), spread
over Binjai's kelurahan and the city's categories, with the deadline each stage runs against.
Twenty staff are signed in (4 Kominfo, 12 agency officers, 2 agency heads, 2 leadership); this
process plays them, each in a loop for ``--seconds``, reading each page for a random 0 to
2 x ``--think`` seconds (default 1 s: busier than people are; 0 finds the server's ceiling)
before the next: open the inbox (a random tab, sometimes searched, sometimes the next page),
open one of the reports listed, now and then the evaluation of last week (leadership always,
heads half the time, Kominfo now and then).

Reported per page: requests, p50/p95/p99 milliseconds from request to the whole response.
Goal: p95 <= 150 ms on SQLite and <= 200 ms on PostgreSQL for every page.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import random
import re
import shutil
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

PG_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/emas_bench_console"
GOALS_MS = {"sqlite": 150.0, "postgres": 200.0}
TICKET = re.compile(r'href="/console/reports/(BJI-\d{4}-\d{6})"')
NEXT = re.compile(r'href="/console/(\?[^"]*after=[^"]+)"')
WORDS = ["jalan", "lampu", "sampah", "parit", "banjir", "pohon", "air", "rusak"]


# --- the database ------------------------------------------------------------------------------


async def _fill(url: str, reports: int, now: datetime) -> dict[str, list[str]]:
    """The tables of a year of reports; returns the sessions' raw ids per role."""
    from sqlalchemy import insert

    from reports import access
    from reports.lifecycle import Status
    from reports.sla import calendar_for, current_clock
    from reports.staff import Account, add_staff
    from storage.city import City
    from storage.citypack import load_city_pack, seed
    from storage.db import Database
    from storage.migrate import upgrade
    from storage.models import Identity, Report, ReportEvent

    await asyncio.to_thread(upgrade, url)
    import content

    city = City(load_city_pack(content.ROOT / "binjai"))
    calendar = calendar_for(city)
    db = Database(url)
    rng = random.Random(7)
    kelurahan = city.all_kelurahan()
    categories = [c for c in city.categories if not city.agency(c.agency_key).external]  # type: ignore[union-attr]
    texts = ["Jalan berlubang besar di depan sekolah, berbahaya bagi pengendara",
             "Lampu jalan mati sejak tiga hari, gelap sekali pada malam hari",
             "Sampah menumpuk di pinggir jalan belum diangkut seminggu",
             "Parit tersumbat, air meluap ke jalan setiap hujan deras",
             "Pohon tumbang menutupi separuh badan jalan dekat simpang pasar"]
    async with db.session() as session:
        await seed(session=session, pack=load_city_pack(content.ROOT / "binjai"))
        await session.exec(insert(Identity.__table__), params=[  # type: ignore[attr-defined,call-overload]
            {"channel": "telegram", "user_key": str(900_000_000 + i), "locale": "id",
             "locale_chosen": False, "opted_out": False, "created_at": now}
            for i in range(1, 20_001)])
    paths = [
        [Status.SUBMITTED],
        [Status.SUBMITTED, Status.VERIFIED, Status.ASSIGNED],
        [Status.SUBMITTED, Status.VERIFIED, Status.ASSIGNED, Status.IN_PROGRESS],
        [Status.SUBMITTED, Status.VERIFIED, Status.ASSIGNED, Status.IN_PROGRESS,
         Status.RESOLVED],
        [Status.SUBMITTED, Status.VERIFIED, Status.ASSIGNED, Status.IN_PROGRESS,
         Status.RESOLVED, Status.CLOSED],
        [Status.SUBMITTED, Status.REJECTED],
    ]
    weights = [3, 6, 6, 5, 75, 5]
    chunk = 5_000
    for start in range(0, reports, chunk):
        rows: list[dict[str, Any]] = []
        histories: list[list[tuple[str, datetime]]] = []
        for n in range(start, min(reports, start + chunk)):
            filed = now - timedelta(seconds=rng.uniform(0, 365 * 86_400))
            age = (now - filed).days
            path = rng.choices(paths, weights=weights)[0] if age > 14 else \
                rng.choice(paths[:4])
            at = filed
            history = []
            for status in path:
                history.append((status, at))
                at = min(now, at + timedelta(hours=rng.uniform(1, 60)))
            category = rng.choice(categories)
            place = rng.choice(kelurahan)
            report = Report(id=n + 1, ticket=f"BJI-{filed.year}-{n + 1:06d}",
                            status=path[-1], category_key=category.key,
                            agency_key=category.agency_key, kecamatan_code=place.kecamatan_code,
                            kelurahan_code=place.code, description=rng.choice(texts),
                            channel=rng.choice(["telegram", "whatsapp"]),
                            reporter_id=rng.randint(1, 20_000), created_at=filed,
                            updated_at=history[-1][1])
            events = [ReportEvent(report_id=n + 1, status=s, at=a) for s, a in history]
            clock = current_clock(report, events, city=city, calendar=calendar)
            report.due_at = clock.deadline if clock is not None else None
            rows.append(report.model_dump())
            histories.append(history)
        async with db.session() as session:
            await session.exec(insert(Report.__table__), params=rows)  # type: ignore[attr-defined,call-overload]
            await session.exec(insert(ReportEvent.__table__), params=[  # type: ignore[attr-defined,call-overload]
                {"report_id": row["id"], "status": s, "at": a}
                for row, history in zip(rows, histories, strict=True) for s, a in history])
    agencies = ["putr", "dlh", "perkim", "dishub", "bpbd", "dinkes"]
    plan = ([("kominfo", None)] * 4 + [("officer", agencies[i % len(agencies)])
                                       for i in range(12)]
            + [("head", "putr"), ("head", "dlh")] + [("leadership", None)] * 2)
    raws: dict[str, list[str]] = {}
    async with db.session() as session:
        for i, (role, agency) in enumerate(plan):
            if agency is not None and city.agency(agency) is None:
                agency = "putr"
            member = await add_staff(session=session, city=city, role=role,
                                     name=f"Petugas {i + 1}", agency_key=agency,
                                     account=Account("telegram", str(500 + i)))
            token = await access.issue_login_link(session=session, staff=member, now=now,
                                                  limited=False)
            opened = await access.sign_in(session=session, token=token, now=now)
            assert opened is not None
            raws.setdefault(role, []).append(opened[0])
    await db.dispose()
    return raws


# --- the app process ---------------------------------------------------------------------------


def _serve(url: str, data_dir: str, port: int, ready: Any) -> None:
    import uvicorn

    from bot.app import create_app
    from bot.settings import Settings

    settings = Settings(_env_file=None, env="test", database_url=url,  # type: ignore[call-arg]
                        data_dir=Path(data_dir), port=port)
    app = create_app(settings)  # as `emas serve`: background jobs too (no chat channel set)
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning",
                            access_log=False)
    server = uvicorn.Server(config)
    ready.set()
    server.run()


# --- the staff ---------------------------------------------------------------------------------


async def _staff(base: str, raw: str, role: str, until: float, rng: random.Random,
                 timings: dict[str, list[float]], errors: list[str], think: float) -> None:
    import httpx

    async with httpx.AsyncClient(base_url=base, cookies={"emas_console": raw},
                                 timeout=30) as client:

        async def get(kind: str, path: str) -> str:
            start = time.perf_counter()
            answer = await client.get(path)
            timings.setdefault(kind, []).append((time.perf_counter() - start) * 1000)
            if answer.status_code != 200:
                errors.append(f"{kind} {path} {answer.status_code}")
            return answer.text

        reads_figures = role in ("leadership", "head", "kominfo")
        while time.monotonic() < until:
            await asyncio.sleep(rng.uniform(0, 2 * think))  # reading the page
            if role == "leadership" or (role == "head" and rng.random() < 0.5) \
                    or (reads_figures and rng.random() < 0.05):
                await get("evaluation", "/console/evaluasi")
                continue
            tab = rng.choice(["verify", "agency", "progress", "resolved", "closed"]
                             if role == "kominfo" else ["agency", "progress", "resolved"])
            query = f"?tab={tab}"
            if rng.random() < 0.3:
                query += "&q=" + rng.choice(WORDS)
            page = await get("inbox", "/console/" + query)
            following = NEXT.search(page)
            if following and rng.random() < 0.3:
                page = await get("inbox", "/console/" + following.group(1).replace("&amp;", "&"))
            tickets = TICKET.findall(page)
            if tickets:
                await get("report", "/console/reports/" + rng.choice(tickets))


async def _drive(base: str, raws: dict[str, list[str]], seconds: float,
                 think: float) -> dict[str, Any]:
    timings: dict[str, list[float]] = {}
    errors: list[str] = []
    until = time.monotonic() + seconds
    rng = random.Random(11)
    await asyncio.gather(*(
        _staff(base, raw, role, until, random.Random(rng.random()), timings, errors, think)
        for role, each in raws.items() for raw in each))
    out: dict[str, Any] = {"errors": len(errors), "error_examples": errors[:3]}
    for kind, values in sorted(timings.items()):
        values.sort()

        def pct(p: float, values: list[float] = values) -> float:
            return round(values[min(len(values) - 1, int(p / 100 * len(values)))], 1)

        out[kind] = {"requests": len(values), "p50_ms": round(statistics.median(values), 1),
                     "p95_ms": pct(95), "p99_ms": pct(99)}
    return out


def _pg_reset(url: str) -> None:
    import asyncpg
    from sqlalchemy.engine import make_url

    target = make_url(url)

    async def go() -> None:
        conn = await asyncpg.connect(host=target.host, port=target.port, user=target.username,
                                     database="postgres")
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{target.database}" WITH (FORCE)')
            await conn.execute(f'CREATE DATABASE "{target.database}"')
        finally:
            await conn.close()

    asyncio.run(go())


def run(db: str, reports: int, seconds: float, pg_url: str, think: float) -> dict[str, Any]:
    folder = Path(tempfile.mkdtemp(prefix="emas-console-bench-"))
    try:
        if db == "sqlite":
            url = f"sqlite+aiosqlite:///{folder / 'emas.db'}"
        else:
            url = pg_url
            _pg_reset(url)
        now = datetime.now(UTC)
        started = time.monotonic()
        raws = asyncio.run(_fill(url, reports, now))
        filled = time.monotonic() - started
        import socket

        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        spawn = multiprocessing.get_context("spawn")
        ready = spawn.Event()
        app = spawn.Process(target=_serve, args=(url, str(folder / "data"), port, ready),
                            daemon=True)
        app.start()
        ready.wait(60)
        base = f"http://127.0.0.1:{port}"
        import httpx

        for _ in range(300):
            try:
                if httpx.get(base + "/healthz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        asyncio.run(_drive(base, raws, 3, think))  # warm-up, not counted
        result = asyncio.run(_drive(base, raws, seconds, think))
        app.terminate()
        app.join(10)
        result.update({"db": db, "reports": reports, "staff": sum(map(len, raws.values())),
                       "seconds": seconds, "think_seconds": think, "fill_seconds": round(filled, 1),
                       "goal_p95_ms": GOALS_MS[db]})
        return result
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", choices=["sqlite", "postgres", "both"], default="sqlite")
    parser.add_argument("--reports", type=int, default=100_000)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--pg-url", default=PG_URL)
    parser.add_argument("--think", type=float, default=1.0,
                        help="mean seconds a staff member reads a page before the next "
                             "(0: no pause, the server's ceiling)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    for db in (["sqlite", "postgres"] if args.db == "both" else [args.db]):
        result = run(db, args.reports, args.seconds, args.pg_url, args.think)
        if args.json:
            print(json.dumps(result))
            continue
        print(f"{db}: {result['reports']:,} reports, {result['staff']} staff, "
              f"{result['seconds']:g} s (filled in {result['fill_seconds']} s), "
              f"errors {result['errors']}")
        for kind in ("inbox", "report", "evaluation"):
            figures = result.get(kind)
            if figures:
                verdict = "ok" if figures["p95_ms"] <= result["goal_p95_ms"] else "OVER"
                print(f"  {kind:<10} {figures['requests']:>6} requests  p50 {figures['p50_ms']:>7} ms"
                      f"  p95 {figures['p95_ms']:>7} ms  p99 {figures['p99_ms']:>7} ms  "
                      f"(goal p95 <= {result['goal_p95_ms']:g} ms: {verdict})")


if __name__ == "__main__":
    main()
