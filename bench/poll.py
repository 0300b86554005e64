"""Poll benchmarks: a poll sent through the dispatcher against the Telegram Bot API double, and
the answers coming back.

    .venv/bin/python bench/poll.py send      # 1. a poll to 10,000 at 30 msg/s: rate / limit
    .venv/bin/python bench/poll.py answers   # 2. taps through the engine; results over them
    .venv/bin/python bench/poll.py all

`send` is bench/broadcast.py's rate scenario with a poll instead of an announcement (the same
double in its own process, flood limits on): the achieved rate against Telegram's 30 msg/s, the
busiest one-second window, 429s, recipients missed or sent twice. `answers` sends a poll to
`--count` people through an instant sender, then has every one of them tap an option (half of
them change their mind once) through `Engine.process` on one event loop: answers per second and
the CPU per answer, then how long the results (per option, kecamatan, kelurahan, group, channel)
take to compute over all of them. Each prints one JSON line.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests"), str(Path(__file__).resolve().parent)]

from broadcast import (  # noqa: E402  (bench/broadcast.py, beside this file)
    LIMIT,
    TOKEN,
    _dispatching,
    _InstantSender,
    _prepare,
    _settings,
    _stats,
    _until_done,
    _window_max,
    double_process,
)

QUESTION = "Setujukah Bapak/Ibu car free day diadakan setiap Minggu pagi di Jl. Sudirman?"


async def _poll(box: Any) -> tuple[int, int]:
    """A poll to KIM Pahlawan, sent: (poll id, its question campaign)."""
    from broadcasts.audience import Audience
    from broadcasts.groups import load_catalog
    from broadcasts.polls import PollDraft, PollService, QuestionDraft

    draft = PollDraft(questions=[QuestionDraft(texts={"id": QUESTION}, options=[
        {"id": "Setuju"}, {"id": "Tidak setuju"}, {"id": "Ragu-ragu"}])],
        audience=Audience(groups=["kim:12.75.01.1001"]))
    async with box.db.session() as session:
        polls = PollService(session=session, city=box.city,
                            catalog=load_catalog(box.city, box.settings.city_dir),
                            settings=box.settings, now=box.engine.clock)
        poll = await polls.create(draft, created_by="bench")
        assert poll.id is not None
        sent = await polls.send(poll.id, by="bench")
        assert sent.campaign_id is not None
        return poll.id, sent.campaign_id


async def send(count: int) -> dict[str, Any]:
    from broadcasting import delivery_counts

    with tempfile.TemporaryDirectory() as tmp, double_process(flood=True) as root:
        settings = _settings(Path(tmp), telegram_token=TOKEN, telegram_api_url=root,
                             broadcast_telegram_rate=float(LIMIT))
        box = await _prepare(settings, count)
        _poll_id, campaign_id = await _poll(box)
        async with _dispatching(box, root) as dispatcher:
            elapsed = await _until_done(box, campaign_id)
        stats = await _stats(root)
        counts = await delivery_counts(box.db, campaign_id)
        await box.db.dispose()
    times = sorted(stats["times"])
    achieved = (len(times) - 1) / (times[-1] - times[0]) if len(times) > 1 else 0.0
    per_chat = Counter(stats["per_chat"])
    return {
        "scenario": "poll-send",
        "recipients": count,
        "limit_per_s": LIMIT,
        "achieved_per_s": round(achieved, 2),
        "rate_over_limit": round(achieved / LIMIT, 4),
        "max_in_any_1s_window": _window_max(times),
        "answered_429": stats["rejected_429"],
        "lost": count - len(per_chat),
        "duplicates": sum(n - 1 for n in per_chat.values()),
        "delivery_states": counts,
        "dispatcher_retries": dispatcher.stats,
        "seconds": round(elapsed, 1),
    }


async def answers(count: int) -> dict[str, Any]:
    from bot.messages import Channel, Inbound, Kind
    from broadcasting import running
    from broadcasts.groups import load_catalog
    from broadcasts.poll_results import poll_results
    from broadcasts.polls import PollService

    with tempfile.TemporaryDirectory() as tmp:
        settings = _settings(Path(tmp), broadcast_telegram_rate=1_000_000.0)
        box = await _prepare(settings, count)
        poll_id, campaign_id = await _poll(box)
        box.broadcasts.register_sender(_InstantSender())  # type: ignore[arg-type]
        async with running(box.broadcasts.build_dispatcher(concurrency=256)):
            await _until_done(box, campaign_id)
        taps = [(800_000 + i, i % 3) for i in range(count)]
        taps += [(800_000 + i, (i + 1) % 3) for i in range(0, count, 2)]  # minds changed
        events = [Inbound(channel=Channel.TELEGRAM, user_key=str(chat), event_id=f"t{n}",
                          kind=Kind.OPTION, option_id=f"pl:{poll_id}:0:{option}")
                  for n, (chat, option) in enumerate(taps)]
        cpu, wall = time.process_time(), time.monotonic()
        for inbound in events:
            await box.engine.process(inbound)
        cpu, wall = time.process_time() - cpu, time.monotonic() - wall
        async with box.db.reader() as session:
            polls = PollService(session=session, city=box.city,
                                catalog=load_catalog(box.city, settings.city_dir),
                                settings=settings, now=box.engine.clock)
            poll = await polls.get(poll_id)
            questions = await polls.questions(poll)
            started = time.monotonic()
            figures = await poll_results(session=session, city=box.city,
                                         catalog=polls.catalog, poll=poll,
                                         questions=questions, phase="open")
            results_ms = (time.monotonic() - started) * 1000
        await box.engine.photos.aclose()
        await box.outbound.aclose()
        await box.db.dispose()
    return {
        "scenario": "poll-answers",
        "recipients": count,
        "taps": len(events),
        "answers_per_s": round(len(events) / wall, 1),
        "cpu_ms_per_answer": round(cpu / len(events) * 1000, 2),
        "responses": figures["responses"],
        "counts": {o["label"]: o["count"] for o in figures["options"]},
        "results_ms": round(results_ms, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("scenario", choices=["send", "answers", "all"])
    parser.add_argument("--count", type=int, default=None)
    args = parser.parse_args()
    os.environ.setdefault("EMAS_LOG_LEVEL", "WARNING")
    wanted = ["send", "answers"] if args.scenario == "all" else [args.scenario]
    for name in wanted:
        if name == "send":
            result = asyncio.run(send(args.count or 10_000))
        else:
            result = asyncio.run(answers(args.count or 10_000))
        result["load_average_1m"] = round(os.getloadavg()[0], 2)
        print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
