"""How often the category a resident means is among the 3 the bot proposes.

    .venv/bin/python bench/categories.py [--show-misses]

Reads bench/data/categories.tsv (descriptions written the way residents of Binjai write:
slang, typos, no punctuation, Medan and Javanese words; each labelled with the city pack's
category key) and ranks the categories for each, as the report flow does after the resident
described the problem (`FaqLibrary.rank_categories`). Reports top-1 and top-3 accuracy.
Goal: the right category among the 3 proposed for >= 90%.
"""

from __future__ import annotations

import argparse
import csv
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from faq.library import FaqLibrary, category_words  # noqa: E402
from storage.city import City  # noqa: E402
from storage.citypack import load_city_pack  # noqa: E402

DATA = ROOT / "bench" / "data" / "categories.tsv"
GOAL = 0.90


def load(path: Path) -> list[tuple[str, str]]:
    lines = [line for line in path.read_text(encoding="utf-8").splitlines()
             if line.strip() and not line.startswith("#")]
    rows = list(csv.reader(lines, delimiter="\t", quoting=csv.QUOTE_NONE))
    header, body = rows[0], rows[1:]
    if header != ["category", "description"]:
        raise SystemExit(f"{path.name}: header must be category<TAB>description")
    return [(row[0], row[1]) for row in body]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--show-misses", action="store_true")
    args = parser.parse_args()
    pack = ROOT / "content" / "binjai"
    city = City(load_city_pack(pack))
    library = FaqLibrary(pack / "faq", category_words(city.categories))
    known = {c.key for c in city.categories}
    examples = load(args.data)
    unknown = sorted({label for label, _text in examples} - known)
    if unknown:
        raise SystemExit(f"unknown categories in the data: {unknown}")
    top1 = top3 = 0
    misses: Counter[str] = Counter()
    started = time.perf_counter()
    for label, text in examples:
        proposed = library.rank_categories(text, at_least=3)[:3]
        top1 += bool(proposed) and proposed[0] == label
        if label in proposed:
            top3 += 1
        else:
            misses[label] += 1
            if args.show_misses:
                print(f"miss {label:<12} proposed {proposed}  {text}")
    elapsed = (time.perf_counter() - started) / max(1, len(examples)) * 1000
    n = len(examples)
    print(f"{n} descriptions, {len(known)} categories: right category first {top1 / n:.1%}, "
          f"among the 3 proposed {top3 / n:.1%} (goal {GOAL:.0%}: "
          f"{'met' if top3 / n >= GOAL else 'NOT met'}); {elapsed:.2f} ms each")
    if misses:
        print("missed most: " + ", ".join(f"{k} {v}" for k, v in misses.most_common(6)))


if __name__ == "__main__":
    main()
