"""How long the event loop stands still while a resident's photo is stored.

    .venv/bin/python bench/media.py

A ticker on the event loop sleeps 1 ms again and again while 8 MB phone photos are decoded,
cleaned of their metadata and stored, one after another, off the loop:

* ``store``: as the bot stores them (`MediaStore.save_image_later`: encoded into a file on a
  low-priority thread);
* ``memory``: the same work encoding into memory on an ordinary thread (`asyncio.to_thread`),
  the baseline, run in the same process: Pillow then holds the GIL for the whole encoding.

Reported: the ticker's worst and 99th-percentile lateness during each, and their ratio.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
for _path in (ROOT, ROOT / "tests"):
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

from factories import jpeg_bytes  # noqa: E402
from storage.media import MediaStore  # noqa: E402


def _in_memory(data: bytes) -> bytes:
    from PIL import Image

    with Image.open(io.BytesIO(data)) as image:
        image.load()
        out = io.BytesIO()
        image.convert("RGB").save(out, format="JPEG", quality=85, optimize=True)
        return out.getvalue()


async def _lateness(work: Callable[[], Awaitable[object]], photos: int) -> list[float]:
    late: list[float] = []
    done = False

    async def ticker() -> None:
        while not done:
            start = time.perf_counter()
            await asyncio.sleep(0.001)
            late.append((time.perf_counter() - start - 0.001) * 1000)

    task = asyncio.create_task(ticker())
    for _ in range(photos):
        await work()
    done = True
    await task
    return late


def _p99(values: list[float]) -> float:
    return statistics.quantiles(values, n=100)[98]


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--photos", type=int, default=8)
    parser.add_argument("--mb", type=float, default=8.0)
    args = parser.parse_args()
    data = jpeg_bytes(int(args.mb * 1024 * 1024))
    store = MediaStore(Path(tempfile.mkdtemp(prefix="emas-bench-media-")), max_bytes=20 << 20)
    await store.save_image_later(data)  # warm: Pillow imported, the pool's threads started
    memory = await _lateness(lambda: asyncio.to_thread(_in_memory, data), args.photos)
    kept = await _lateness(lambda: store.save_image_later(data), args.photos)
    for name, late in (("memory", memory), ("store", kept)):
        print(f"{name:<7} loop late p99 {_p99(late):6.1f} ms  worst {max(late):6.1f} ms  "
              f"({len(late)} ticks, {args.photos} photos of {len(data) / 1e6:.1f} MB)")
    print(f"store / memory: worst x{max(kept) / max(memory):.2f}, "
          f"p99 x{_p99(kept) / _p99(memory):.2f}")


if __name__ == "__main__":
    asyncio.run(main())
