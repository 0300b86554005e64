"""Finding articles for a message: typo correction, synonyms, and BM25 over weighted fields."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from rapidfuzz import fuzz, process

from faq.content import FaqContent
from faq.text import STOPWORDS, is_root, stem, words
from faq.text import terms as meaningful_stems

# How much a word counts where it appears: a title or keyword says what the article is about,
# a question says how residents ask for it, the body only mentions things.
FIELD_WEIGHTS = {"title": 3.0, "keywords": 3.0, "questions": 2.0, "body": 0.6}
K1 = 1.2
B = 0.4
# A typo is corrected to a known word only when it is this similar (rapidfuzz ratio, 0-100).
TYPO_CUTOFF_SHORT = 86.0  # 4-letter words: one letter dropped or added
TYPO_CUTOFF = 80.0
# A message worded almost like one of an article's example questions gets up to this much
# extra score, beginning at QUESTION_FLOOR similarity (rapidfuzz token_sort_ratio of stems).
QUESTION_BONUS = 3.0
QUESTION_FLOOR = 75.0
_CACHE_LIMIT = 50_000


@dataclass(frozen=True, slots=True)
class Query:
    """A message as the index reads it."""

    words: tuple[str, ...]  # words after slang and typo correction, stopwords included
    stems: tuple[str, ...]  # the stem of each word
    terms: tuple[str, ...]  # distinct meaningful stems, then the synonym groups they hit
    unknown: tuple[str, ...]  # meaningful stems no article or keyword contains


@dataclass(frozen=True, slots=True)
class Hit:
    slug: str
    score: float
    coverage: float  # share of the message's meaning (by IDF) this article contains


def _phrase_stems(phrase: str) -> tuple[str, ...]:
    return tuple(meaningful_stems(phrase))


class Synonyms:
    """Phrases that mean the same: each found phrase adds its group's marker term."""

    def __init__(self, groups: Iterable[Sequence[str]]) -> None:
        self._by_first: dict[str, list[tuple[tuple[str, ...], str]]] = {}
        members: dict[str, set[str]] = {}
        for group in groups:
            marker = "=" + "".join(words(group[0]))
            for entry in group:
                stems = _phrase_stems(entry)
                if stems:
                    self._by_first.setdefault(stems[0], []).append((stems, marker))
                    members.setdefault(marker, set()).update(stems)
        self.members = {m: frozenset(terms) for m, terms in members.items()}
        for entries in self._by_first.values():
            entries.sort(key=lambda e: -len(e[0]))

    def markers(self, stems: Sequence[str]) -> list[str]:
        found: list[str] = []
        for i, first in enumerate(stems):
            for phrase, marker in self._by_first.get(first, ()):
                if tuple(stems[i:i + len(phrase)]) == phrase and marker not in found:
                    found.append(marker)
        return found

    def words(self) -> set[str]:
        return {s for terms in self.members.values() for s in terms}


class FaqIndex:
    """Built once per content version; `query()` then `search()` take well under a millisecond."""

    def __init__(self, content: FaqContent, *, extra_phrases: Iterable[str] = ()) -> None:
        self.content = content
        self.synonyms = Synonyms(content.synonyms)
        surface: dict[str, str] = {}

        def learn(text: str) -> list[str]:
            out = []
            for w in words(text):
                if w in STOPWORDS:
                    continue
                s = surface.get(w) or stem(w)
                surface[w] = s
                out.append(s)
            return out

        self._fields: dict[str, dict[str, Counter[str]]] = {}
        self._questions: list[str] = []
        self._question_slugs: list[str] = []
        for slug, article in content.articles.items():
            for text in article.texts.values():
                for question in text.questions:
                    self._questions.append(" ".join(stem(w) for w in words(question)))
                    self._question_slugs.append(slug)
            fields: dict[str, list[str]] = {f: [] for f in FIELD_WEIGHTS}
            for text in article.texts.values():
                for name, parts in (("title", [text.title]), ("keywords", text.keywords),
                                    ("questions", text.questions), ("body", [text.body])):
                    for part in parts:
                        stems = learn(part)
                        fields[name] += stems + self.synonyms.markers(stems)
            self._fields[slug] = {name: Counter(terms) for name, terms in fields.items()}
        # What an article is about (not what its body happens to mention).
        self._head = {slug: {t for name, counts in fields.items() if name != "body"
                             for t in counts}
                      for slug, fields in self._fields.items()}
        for phrase in extra_phrases:
            learn(phrase)
        for group in content.synonyms:
            for entry in group:
                learn(entry)

        self._surface = surface
        self._stems = set(surface.values()) | self.synonyms.words()
        self._choices = sorted(w for w in surface if len(w) >= 4 and w.isalpha())
        self._corrections: dict[str, str] = {}

        # BM25 over one weighted bag of terms per article.
        self._tf: dict[str, dict[str, float]] = {}
        for slug, by_field in self._fields.items():
            bag: dict[str, float] = {}
            for name, counts in by_field.items():
                for term, n in counts.items():
                    bag[term] = bag.get(term, 0.0) + FIELD_WEIGHTS[name] * n
            self._tf[slug] = bag
        self._length = {slug: sum(bag.values()) for slug, bag in self._tf.items()}
        self._avg_length = sum(self._length.values()) / max(len(self._length), 1)
        df: Counter[str] = Counter()
        for bag in self._tf.values():
            df.update(bag.keys())
        n = len(self._tf)
        self._idf = {t: math.log(1 + (n - d + 0.5) / (d + 0.5)) for t, d in df.items()}
        self._idf_unknown = math.log(1 + (n + 0.5) / 0.5)
        self._postings: dict[str, list[str]] = {}
        for slug, bag in self._tf.items():
            for term in bag:
                self._postings.setdefault(term, []).append(slug)

    # -- reading a message ---------------------------------------------------------------------

    def correct(self, word: str) -> str:
        """The known word a resident most likely meant; the word itself when it is known, a
        real Indonesian word, or nothing is close enough."""
        if word in STOPWORDS or word in self._surface or len(word) < 4 or not word.isalpha():
            return word
        cached = self._corrections.get(word)
        if cached is not None:
            return cached
        fixed = word
        root = stem(word)
        if root not in self._stems and not is_root(word) and not is_root(root):
            cutoff = TYPO_CUTOFF_SHORT if len(word) == 4 else TYPO_CUTOFF
            best = process.extractOne(word, self._choices, scorer=fuzz.ratio,
                                      score_cutoff=cutoff)
            if best is not None:
                fixed = best[0]
        if len(self._corrections) >= _CACHE_LIMIT:
            self._corrections.clear()
        self._corrections[word] = fixed
        return fixed

    def query(self, text: str) -> Query:
        corrected = tuple(self.correct(w) for w in words(text))
        stems = tuple(self._surface.get(w) or stem(w) for w in corrected)
        content = [s for w, s in zip(corrected, stems, strict=True) if w not in STOPWORDS]
        terms = list(dict.fromkeys(content))
        terms += [m for m in self.synonyms.markers(content) if m not in terms]
        unknown = tuple(t for t in terms if t not in self._idf)
        return Query(words=corrected, stems=stems, terms=tuple(terms), unknown=unknown)

    # -- ranking -------------------------------------------------------------------------------

    def idf(self, term: str) -> float:
        return self._idf.get(term, self._idf_unknown)

    def search(self, query: Query, *, limit: int = 3) -> list[Hit]:
        """Articles for the query, best first, with how much of the query each one covers."""
        if not query.terms:
            return []
        scores: dict[str, float] = {}
        for term in query.terms:
            idf = self._idf.get(term)
            if idf is None:
                continue
            for slug in self._postings.get(term, ()):
                tf = self._tf[slug][term]
                norm = K1 * (1 - B + B * self._length[slug] / self._avg_length)
                scores[slug] = scores.get(slug, 0.0) + idf * tf * (K1 + 1) / (tf + norm)
        if not scores:
            return []
        best: dict[str, float] = {}
        for _text, similarity, i in process.extract(
                " ".join(query.stems), self._questions, scorer=fuzz.token_sort_ratio,
                score_cutoff=QUESTION_FLOOR, limit=None):
            slug = self._question_slugs[i]
            best[slug] = max(best.get(slug, 0.0), similarity)
        for slug, similarity in best.items():
            if slug in scores:
                scores[slug] += QUESTION_BONUS * (similarity - QUESTION_FLOOR) / \
                    (100 - QUESTION_FLOOR)
        measured = query.terms
        total = sum(self.idf(t) for t in measured)
        ranked = sorted(scores.items(), key=lambda kv: (-kv[1], kv[0]))[:limit]
        hits = []
        for slug, score in ranked:
            covered = sum(self.idf(t) * self._presence(slug, t, query.terms) for t in measured)
            hits.append(Hit(slug=slug, score=score, coverage=covered / total if total else 0.0))
        return hits

    def _presence(self, slug: str, term: str, terms: Sequence[str]) -> float:
        """1 when the article is about the term (title, keywords, questions), 0.5 when its body
        only mentions it; a synonym group the article shares counts like the word itself."""
        head, bag = self._head[slug], self._tf[slug]
        groups = [m for m in terms if m.startswith("=") and term in self.synonyms.members[m]]
        if term in head or any(m in head for m in groups):
            return 1.0
        if term in bag or any(m in bag for m in groups):
            return 0.5
        return 0.0
