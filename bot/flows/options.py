"""Understanding a typed answer to a list of options: a number, the label, or a near miss."""

from __future__ import annotations

import re
import unicodedata

from rapidfuzz import fuzz, process

from bot.messages import Option

_NON_WORD = re.compile(r"[^\w\s]", re.UNICODE)


def normalize(text: str) -> str:
    """Lower-case, strip emoji, punctuation and extra spaces."""
    text = unicodedata.normalize("NFKC", text).lower()
    text = "".join(ch for ch in text if unicodedata.category(ch)[0] != "S")
    text = _NON_WORD.sub(" ", text)
    return " ".join(text.split())


def resolve_option(text: str, options: list[Option], *, cutoff: float = 85.0) -> Option | None:
    """Which offered option the resident meant by typing `text`, if any."""
    if not options or not text:
        return None
    cleaned = normalize(text)
    if cleaned.isdigit():
        n = int(cleaned)
        return options[n - 1] if 1 <= n <= len(options) else None
    labels = [normalize(o.label) for o in options]
    for option, label in zip(options, labels, strict=True):
        if cleaned == label:
            return option
    if len(cleaned) < 3:
        return None
    best = process.extractOne(cleaned, labels, scorer=fuzz.ratio, score_cutoff=cutoff)
    if best is None:
        return None
    return options[best[2]]
