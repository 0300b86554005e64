"""FAQ understanding benchmark: messages/s through the classifier, cold and warm.

    .venv/bin/python bench/faq_bench.py

(Not `faq.py`: run as a script, that name would shadow the `faq` package it measures.)

Reads the labelled messages of tests/faq/data/faq_labelled.yaml and runs each through
`FaqLibrary.understand` (the slang normaliser, stemmer, typo correction, BM25 retrieval and
intent rules) in this one process, no database and no channel. "cold" is the first pass with
empty caches (every word stemmed, every typo looked up); "warm" repeats the set with the caches
filled, as a running server mostly is. Also printed: the slowest single message of the cold
pass and the time to build the index (done at start-up and on every reload).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import yaml

from faq.library import FaqLibrary, category_words
from faq.text import stem
from storage.city import City
from storage.citypack import load_city_pack

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=20, help="warm passes over the set")
    args = parser.parse_args()

    city = City(load_city_pack(ROOT / "content" / "binjai"))
    started = time.perf_counter()
    library = FaqLibrary(ROOT / "content" / "binjai" / "faq", category_words(city.categories))
    build = time.perf_counter() - started
    items = yaml.safe_load((ROOT / "tests" / "faq" / "data" / "faq_labelled.yaml").read_text())["items"]
    texts = [i["text"] for i in items]

    stem.cache_clear()
    library.snapshot.index._corrections.clear()
    slowest = 0.0
    started = time.perf_counter()
    for text in texts:
        t = time.perf_counter()
        library.understand(text)
        slowest = max(slowest, time.perf_counter() - t)
    cold = time.perf_counter() - started

    started = time.perf_counter()
    for _round in range(args.rounds):
        for text in texts:
            library.understand(text)
    warm = (time.perf_counter() - started) / args.rounds

    print(f"faq understanding: {len(texts) / cold:,.0f} messages/s cold "
          f"({cold / len(texts) * 1000:.2f} ms each, slowest {slowest * 1000:.2f} ms), "
          f"{len(texts) / warm:,.0f} messages/s warm ({warm / len(texts) * 1000:.3f} ms each); "
          f"{len(texts)} messages; index built in {build:.2f} s")


if __name__ == "__main__":
    main()
