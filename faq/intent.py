"""What a resident's free text is: small talk, a complaint to report, or a question."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from faq.index import FaqIndex, Hit, Query
from faq.text import STOPWORDS, stem, words

# An article is offered as the answer when it holds this share of the message's meaning
# (by IDF) and scores at least MIN_SCORE; or, holding at least PARTIAL_COVERAGE, when it
# scores DOMINANT_SCORE and DOMINANT_RATIO times the next article. Weaker matches are only
# suggestions beside the offer to ask staff.
MIN_COVERAGE = 0.6
MIN_SCORE = 2.5
PARTIAL_COVERAGE = 0.4
DOMINANT_SCORE = 6.0
DOMINANT_RATIO = 1.6
# Other articles shown beside the answer must score this share of the best one.
SUGGEST_SHARE = 0.35


class Intent(StrEnum):
    GREETING = "greeting"
    THANKS = "thanks"
    HELP = "help"
    EMERGENCY = "emergency"
    COMPLAINT = "complaint"  # a problem to report, with its category
    REPORT = "report"  # wants to report, category not said
    QUESTION = "question"  # an article answers it
    UNKNOWN = "unknown"  # nothing confident: offer to ask staff


@dataclass(frozen=True, slots=True)
class Understanding:
    intent: Intent
    category: str | None = None
    hits: tuple[Hit, ...] = ()  # the answer first when QUESTION; suggestions when UNKNOWN
    reasons: tuple[str, ...] = field(default=(), compare=False)

    @property
    def label(self) -> str:
        """One label, as the labelled test set writes expectations."""
        if self.intent == Intent.COMPLAINT:
            return f"complaint:{self.category}"
        if self.intent == Intent.QUESTION:
            return self.hits[0].slug
        if self.intent == Intent.UNKNOWN:
            return "none"
        return self.intent.value

    def ranked(self, limit: int = 3) -> list[str]:
        """The label, then the other articles offered, best first."""
        out = [self.label]
        out += [h.slug for h in self.hits if h.slug not in out]
        return out[:limit]


def _stems(text: str) -> frozenset[str]:
    return frozenset(stem(w) for w in text.split())


# Lexicons, as stems of words after slang expansion.
GREETING = _stems("halo hello hi hey hei pagi siang sore malam selamat assalamualaikum salam "
                  "permisi p morning afternoon evening good met shalom om swastiastu wr wb "
                  "warahmatullahi wabarakatuh waalaikumsalam")
THANKS = _stems("terima kasih thanks thank you ok oke okay okey sip siap mantap noted baik "
                "makasih suwun tengkyu")
HELP = _stems("help bantuan bantu tolong bingung mulai start panduan petunjuk")
# Words that may stand beside small talk without changing what it is.
FILLER = _stems("min admin mimin kak kakak pak bu bapak ibu bang gan sis bro semua bot ya "
                "iya sih dong deh nih ok oke saya aku kami banyak atas info informasi "
                "bantuannya sudah membantu sekali all there everyone sir madam very much "
                "so the a lagi nya dulu pakai cara ini bagaimana please me i am can you bisa "
                "gunakan menggunakan")
REPORT_WORDS = _stems("lapor melapor laporan laporkan adu mengadu pengaduan aduan keluh keluhan "
                      "komplain report complaint complain")
REPORT_FILLER = _stems("mau ingin saya buat kirim min sekarang dong i want to make file a "
                       "send would like new baru")
EMERGENCY = _stems("kebakaran terbakar kecelakaan tabrakan perampokan rampok dirampok begal "
                   "dibegal tenggelam terjebak tersengat pingsan ledakan meledak pembunuhan "
                   "fire accident robbery drowning trapped explosion")
# Words that show the resident wants information, not to report a problem.
INFO = _stems("bagaimana cara apa dimana kemana berapa syarat persyaratan info informasi "
              "prosedur langkah bisa bisakah apakah siapa how what where which requirements "
              "can hubungi nomor telepon daftar itu jadwal rute number call phone contact")
# Words that show something is broken or wrong.
PROBLEM = _stems(
    "mati padam rusak bolong lubang berlubang tumpuk menumpuk sumbat tersumbat mampet luap "
    "meluap genang tergenang banjir tumbang roboh patah bocor keruh kotor bau liar berisik "
    "bising macet hancur retak ambles amblas gelap tolak ditolak potong dipotong lama lambat "
    "belum cair mabuk berantakan terlantar kumuh bahaya membahayakan menghalangi halang tinggi "
    "minta dimintai suruh disuruh pungut oknum parah pothole potholes broken dead out blocked "
    "clogged overflowing flooded piling dirty smelly leaking fallen noisy illegal collected "
    "working damaged big huge"
)
NEGATION = _stems("tidak belum never not no")
# Words for where and how long: a complaint names a place or says how long it has lasted.
PLACE = _stems("depan dekat samping belakang seberang sebelah gang jalan kelurahan kecamatan "
               "lingkungan rt rw simpang pasar lapangan sekolah masjid rumah near front "
               "street road")
DURATION = _stems("hari minggu bulan tahun sejak kemarin tadi tiap setiap sering terus lagi "
                  "malam days week weeks month since again every")
URGE = _stems("tolong mohon segera cepat harap please fix perbaiki diperbaiki")
_WHY = _stems("kenapa kok kapan mengapa why when")


def _confident(hits: Sequence[Hit]) -> bool:
    if not hits or hits[0].score < MIN_SCORE:
        return False
    top = hits[0]
    if top.coverage >= MIN_COVERAGE:
        return True
    runner_up = hits[1].score if len(hits) > 1 else 0.0
    return (top.coverage >= PARTIAL_COVERAGE and top.score >= DOMINANT_SCORE
            and top.score >= DOMINANT_RATIO * runner_up)


# Keywords are matched on their meaningful words, negation included ("air tidak mengalir").
_KEEP = frozenset({"tidak", "belum"})


def _meaningful(ws: Iterable[str]) -> tuple[str, ...]:
    return tuple(stem(w) for w in ws if w not in STOPWORDS or w in _KEEP)


@dataclass(frozen=True, slots=True)
class _Phrase:
    stems: tuple[str, ...]
    category: str
    loose: bool = False  # written with "...": its words may lie any distance apart


class CategoryMatcher:
    """Finds the complaint category whose keywords appear in a message: their meaningful words
    in order, with at most GAP other meaningful words between them (place names, mostly)."""

    def __init__(self, categories: Iterable[tuple[str, Iterable[str]]]) -> None:
        self._phrases: dict[str, list[_Phrase]] = {}
        self.order: dict[str, int] = {}
        # Each meaningful word of a category's keywords, and the categories that use it.
        self._word_categories: dict[str, set[str]] = {}
        for position, (key, keywords) in enumerate(categories):
            self.order[key] = position
            for keyword in keywords:
                loose = "..." in keyword
                stems = _meaningful(words(keyword))
                if stems:
                    self._phrases.setdefault(stems[0], []).append(_Phrase(stems, key, loose))
                for each in stems:
                    if each not in _KEEP:
                        self._word_categories.setdefault(each, set()).add(key)

    def rank(self, query: Query) -> list[tuple[str, float]]:
        """Every category the message has evidence for, best first: whole keywords found (the
        longer the better, each one adding), then single keyword words (worth less the more
        categories share them: "jalan" says little, "lobang" a lot)."""
        stems = _meaningful_of(query)
        scores: dict[str, float] = {}
        for i, first in enumerate(stems):
            for phrase in self._phrases.get(first, ()):
                if _in_order(stems, i, phrase.stems, len(stems) if phrase.loose else GAP):
                    size = len(phrase.stems) - (0.5 if phrase.loose else 0.0)
                    scores[phrase.category] = scores.get(phrase.category, 0.0) + size
        for each in set(stems):
            sharing = self._word_categories.get(each, ())
            for key in sharing:
                scores[key] = scores.get(key, 0.0) + 0.5 / len(sharing)
        return sorted(scores.items(), key=lambda kv: (-kv[1], self.order.get(kv[0], 0)))

    def match(self, query: Query) -> tuple[str, float, int] | None:
        """(category, length of its longest keyword found, number of keywords found)."""
        stems = _meaningful_of(query)
        found: dict[str, tuple[float, int]] = {}
        for i, first in enumerate(stems):
            for phrase in self._phrases.get(first, ()):
                if _in_order(stems, i, phrase.stems, len(stems) if phrase.loose else GAP):
                    longest, count = found.get(phrase.category, (0.0, 0))
                    # Words far apart say less than the same words side by side.
                    size = len(phrase.stems) - (0.5 if phrase.loose else 0.0)
                    found[phrase.category] = (max(longest, size), count + 1)
        if not found:
            return None
        key, (longest, count) = max(
            found.items(), key=lambda kv: (kv[1][0], kv[1][1], -self.order.get(kv[0], 0)))
        return key, longest, count


def _meaningful_of(query: Query) -> tuple[str, ...]:
    return tuple(s for w, s in zip(query.words, query.stems, strict=True)
                 if w not in STOPWORDS or w in _KEEP)


GAP = 3


def _in_order(stems: Sequence[str], start: int, phrase: Sequence[str], gap: int) -> bool:
    pos = start
    for word in phrase[1:]:
        window = stems[pos + 1:pos + 2 + gap]
        if word not in window:
            return False
        pos = pos + 1 + window.index(word)
    return True


class Classifier:
    """Reads one message: built once per content version, then about a tenth of a millisecond
    per message."""

    def __init__(self, index: FaqIndex, categories: CategoryMatcher) -> None:
        self.index = index
        self.categories = categories

    def understand(self, text: str) -> Understanding:
        query = self.index.query(text)
        stems = set(query.stems)
        if not stems:
            return Understanding(Intent.UNKNOWN)
        small = self._small_talk(query)
        if small is not None:
            return Understanding(small)
        hits = self.index.search(query)
        asks = bool(stems & INFO) or "?" in text
        if stems & EMERGENCY and not asks:
            return Understanding(Intent.EMERGENCY)
        complaint = self._complaint(query, asks, hits)
        if complaint is not None:
            return complaint
        if stems & REPORT_WORDS and not asks and stems <= REPORT_WORDS | REPORT_FILLER | FILLER:
            return Understanding(Intent.REPORT)
        if _confident(hits):
            top = hits[0].score
            shown = tuple(h for h in hits if h is hits[0] or h.score >= SUGGEST_SHARE * top)
            return Understanding(Intent.QUESTION, hits=shown)
        return Understanding(Intent.UNKNOWN, hits=tuple(h for h in hits if h.score >= MIN_SCORE))

    @staticmethod
    def _small_talk(query: Query) -> Intent | None:
        stems = set(query.stems)
        if len(query.stems) > 8:
            return None
        if stems & THANKS and stems <= THANKS | GREETING | FILLER:
            return Intent.THANKS
        if stems & GREETING and stems <= GREETING | FILLER:
            return Intent.GREETING
        if stems & HELP and stems <= HELP | FILLER:
            return Intent.HELP
        return None

    def _complaint(self, query: Query, asks: bool, hits: list[Hit]) -> Understanding | None:
        found = self.categories.match(query)
        if found is None:
            return None
        category, longest, _count = found
        stems = set(query.stems)
        strength = 2.0 if longest >= 2 else 1.0
        if stems & PROBLEM:
            strength += 1.0
        elif stems & NEGATION:
            strength += 0.5
        if stems & PLACE:
            strength += 0.5
        if stems & DURATION:
            strength += 0.5
        if stems & URGE or stems & REPORT_WORDS:
            strength += 0.5
        if asks and not stems & _WHY:
            strength -= 2.0
        answered = bool(hits) and hits[0].coverage >= 0.9 and hits[0].score >= 2 * MIN_SCORE
        threshold = 3.0 if answered else 2.0
        if strength >= threshold:
            return Understanding(Intent.COMPLAINT, category=category,
                                 reasons=(f"strength={strength}",))
        return None
