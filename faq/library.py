"""The FAQ as the serving process holds it: content, index and classifier, reloaded on change."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from faq.content import FaqContent, FaqContentError, load_faq
from faq.index import FaqIndex
from faq.intent import (
    EMERGENCY,
    GREETING,
    HELP,
    PROBLEM,
    REPORT_WORDS,
    THANKS,
    CategoryMatcher,
    Classifier,
    Understanding,
)

logger = logging.getLogger(__name__)

Fingerprint = tuple[tuple[str, int, int], ...]
# The catch-all category: offered on its own, never as a likely one.
OTHER_CATEGORY = "lainnya"
# (category key, the words residents use for it)
CategoryWords = Sequence[tuple[str, Sequence[str]]]


@dataclass(frozen=True, slots=True)
class FaqSnapshot:
    """One consistent version of the content and everything built from it."""

    content: FaqContent
    index: FaqIndex
    classifier: Classifier
    fingerprint: Fingerprint
    build_seconds: float


def fingerprint(folder: Path, marker: Path | None = None) -> Fingerprint:
    """Names, sizes and modification times of the FAQ files (and the reload marker)."""
    paths = sorted(p for p in folder.glob("*") if p.is_file()) if folder.is_dir() else []
    if marker is not None and marker.exists():
        paths.append(marker)
    out = []
    for path in paths:
        try:
            st = path.stat()
        except FileNotFoundError:
            continue
        out.append((str(path), st.st_mtime_ns, st.st_size))
    return tuple(out)


def build_snapshot(folder: Path, categories: CategoryWords,
                   marker: Path | None = None) -> FaqSnapshot:
    """Load and index the folder; raises FaqContentError when the content is broken."""
    started = time.perf_counter()
    stamp = fingerprint(folder, marker)
    content = load_faq(folder)
    known = {key for key, _words in categories}
    unknown = sorted(set(content.complaints) - known)
    if unknown:
        raise FaqContentError(f"complaints.yaml: unknown category {unknown[0]!r}")
    categories = [(key, [*keywords, *content.complaints.get(key, ())])
                  for key, keywords in categories]
    matcher = CategoryMatcher(categories)
    vocabulary: list[str] = [w for _key, keywords in categories for w in keywords]
    for lexicon in (GREETING, THANKS, HELP, EMERGENCY, PROBLEM, REPORT_WORDS):
        vocabulary += sorted(lexicon)
    index = FaqIndex(content, extra_phrases=vocabulary)
    return FaqSnapshot(content=content, index=index, classifier=Classifier(index, matcher),
                       fingerprint=stamp, build_seconds=time.perf_counter() - started)


class _Category(Protocol):
    @property
    def key(self) -> str: ...
    @property
    def names(self) -> dict[str, str]: ...
    @property
    def keywords(self) -> dict[str, list[str]]: ...


def category_words(categories: Iterable[_Category]) -> list[tuple[str, list[str]]]:
    """The words for each complaint category of the city pack (`City.categories`)."""
    return [(c.key, [w for ws in c.keywords.values() for w in ws] + list(c.names.values()))
            for c in categories]


class FaqLibrary:
    """Holds the current snapshot; a new one replaces it whole, so a reader never sees half."""

    def __init__(self, folder: Path, categories: CategoryWords, *,
                 marker: Path | None = None) -> None:
        self.folder = folder
        self.categories = list(categories)
        self.marker = marker
        self.snapshot = build_snapshot(folder, self.categories, marker)
        self.last_error: str | None = None
        self._failed: Fingerprint | None = None
        logger.info("FAQ loaded: %d articles in %.2f s", len(self.content.articles),
                    self.snapshot.build_seconds)

    @property
    def content(self) -> FaqContent:
        return self.snapshot.content

    def understand(self, text: str) -> Understanding:
        return self.snapshot.classifier.understand(text)

    def rank_categories(self, text: str, *, at_least: int = 0) -> list[str]:
        """The complaint categories a resident's description points to, most likely first;
        filled up to ``at_least`` with the city pack's first categories (its most common).
        The catch-all is never among them: it is always one tap away, behind "Other"."""
        classifier = self.snapshot.classifier
        ranked = [key for key, _score in classifier.categories.rank(classifier.index.query(text))
                  if key != OTHER_CATEGORY]
        for key, _words in self.categories:
            if len(ranked) >= at_least:
                break
            if key not in ranked and key != OTHER_CATEGORY:
                ranked.append(key)
        return ranked

    async def reload_if_changed(self) -> bool:
        """Reload (off the event loop) when the files or the reload marker changed."""
        stamp = await asyncio.to_thread(fingerprint, self.folder, self.marker)
        if stamp in (self.snapshot.fingerprint, self._failed):
            return False
        try:
            fresh = await asyncio.to_thread(build_snapshot, self.folder, self.categories,
                                            self.marker)
        except FaqContentError as exc:
            if str(exc) != self.last_error:
                logger.error("FAQ content not reloaded, still serving the previous version: %s",
                             exc)
            self.last_error = str(exc)
            self._failed = stamp
            return False
        self.snapshot = fresh
        self.last_error = None
        logger.info("FAQ reloaded: %d articles in %.2f s", len(fresh.content.articles),
                    fresh.build_seconds)
        return True

    async def watch(self, interval: float) -> None:
        """Background task: notice edited content and `emas faq reload` within `interval` s."""
        while True:
            await asyncio.sleep(interval)
            try:
                await self.reload_if_changed()
            except Exception:
                logger.exception("FAQ reload check failed")
