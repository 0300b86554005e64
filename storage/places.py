"""Where a report is: the city's geofence, and kelurahan names as residents actually type them."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from enum import IntEnum

from rapidfuzz import fuzz

from storage.boundaries import Boundaries, Located, Shape
from storage.citypack import CityPack, KecamatanEntry, KelurahanEntry

# A single remaining candidate at or above this score is taken without asking the resident.
CONFIDENT = 85.0
# Matches found only inside a street name ("Jl. Kartini") or as part of a longer name ("jati")
# stay below CONFIDENT: the resident is asked to pick.
_STREET_CAP = 80.0
_PARTIAL = 75.0
# Fuzzy candidates this close to the best one on the same words are offered alongside it.
_NEAR = 5.0

_KEL_MARKERS = frozenset(
    {"kel", "kelurahan", "kelurahaan", "kelurhan", "klurahan", "kelurahn", "kelrahan", "desa", "ds"}
)
_KEC_MARKERS = frozenset({"kec", "kecamatan", "kecamatn", "kecamtan", "kcmtn", "kcm"})
_STREET_MARKERS = frozenset({"jl", "jln", "jalan", "gg", "gang", "lorong", "lrg"})
# Words that end a place name: "kebun lada dekat masjid", "tangsi rt 02".
_BREAKS = frozenset(
    {
        "di", "dekat", "dkt", "depan", "dpn", "belakang", "blkg", "samping", "sebelah",
        "seberang", "sekitar", "daerah", "kawasan", "wilayah", "arah", "no", "nomor", "nmr",
        "rt", "rw", "lingkungan", "ling", "lk", "dan", "atau", "ke", "dari", "yang", "yg",
        "dusun", "komplek", "kompleks", "perumahan", "perum", "pasar", "simpang", "simp",
        "near", "in", "at", "street", "road",
    }
)  # fmt: skip
# Everyday words that are also part of a kelurahan name ("lampu merah", "rumput tinggi"):
# outside a "Kel." phrase they suggest a kelurahan only when they are the whole reply.
_COMMON = frozenset(
    {
        "barat", "timur", "utara", "selatan", "kota", "dalam", "tinggi", "merah", "tanah",
        "karya", "maju", "makmur", "seribu", "kebun", "ramai", "suka", "sumber", "jati",
        "dataran", "estate",
    }
)  # fmt: skip
_SEGMENT_SPLIT = re.compile(r"[,;:/\\|()\[\]{}\n\r\t!?]+")
_WORD = re.compile(r"[0-9a-z]+")
_CODE = re.compile(r"^\d{2}\.\d{2}\.\d{2}\.\d{4}$")


class _Kind(IntEnum):
    """What the words around a phrase say it is; higher wins when phrases disagree."""

    STREET = 1
    PLAIN = 2
    KELURAHAN = 3
    KECAMATAN = 4  # only kecamatan names are looked for after "Kec."


@dataclass(frozen=True, slots=True)
class KelurahanMatch:
    """One kelurahan the resident's text may mean."""

    kelurahan: KelurahanEntry
    kecamatan: KecamatanEntry
    score: float  # 0-100; 100 = an official name or alias, spelled exactly (case and spaces aside)
    matched: str  # the resident's words that matched
    exact: bool
    confident: bool  # the only candidate, and a strong one: no need to ask

    @property
    def code(self) -> str:
        return self.kelurahan.code

    @property
    def name(self) -> str:
        return self.kelurahan.name

    @property
    def kecamatan_code(self) -> str:
        return self.kecamatan.code


@dataclass(frozen=True, slots=True)
class _Form:
    """One spelling of a place, folded for comparison."""

    kind: str  # "kel" | "kec" | "city"
    code: str
    tokens: tuple[str, ...]

    @property
    def compact(self) -> str:
        return "".join(self.tokens)


@dataclass(frozen=True, slots=True)
class _Hit:
    form: _Form
    segment: int
    start: int
    end: int
    score: float
    words: str

    @property
    def weight(self) -> float:
        # Prefer the reading that explains more of the text well: "binjai estet" is Binjai
        # Estate misspelt, not kelurahan Binjai followed by a stray word.
        return self.score * len(self.words.replace(" ", ""))


@dataclass(slots=True)
class _Segment:
    kind: _Kind
    tokens: list[str]


def fold(text: str) -> str:
    """Lower case, accents and punctuation gone: the form names are compared in."""
    text = unicodedata.normalize("NFKD", text.casefold())
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    return " ".join(_WORD.findall(text))


def _threshold(length: int) -> float:
    # Short names tolerate one dropped or added letter, not a changed one ("setia" is not
    # "satria"); longer names tolerate a little more.
    if length <= 5:
        return 88.0
    if length <= 8:
        return 85.0
    return 80.0


class Gazetteer:
    """The city's places from its pack: lookups, the geofence and name matching."""

    def __init__(self, pack: CityPack) -> None:
        self._geofence = pack.city.geofence
        self.boundaries = Boundaries([Shape(code, geometry) for code, geometry in pack.boundaries])
        self._kecamatan = list(pack.kecamatan)
        self._kec_by_code = {kec.code: kec for kec in self._kecamatan}
        self._kel_by_code = {kel.code: kel for kec in self._kecamatan for kel in kec.kelurahan}
        self._order = {code: i for i, code in enumerate(self._kel_by_code)}

        forms: list[_Form] = []
        for kec in self._kecamatan:
            forms.append(_Form("kec", kec.code, tuple(fold(kec.name).split())))
            for kel in kec.kelurahan:
                for spelling in (kel.name, *kel.aliases):
                    forms.append(_Form("kel", kel.code, tuple(fold(spelling).split())))
        # "Kota Binjai" is the whole city, not kecamatan Binjai Kota nor kelurahan Binjai.
        forms.append(_Form("city", "", tuple(fold(pack.city.name).split())))
        self._forms = [f for f in dict.fromkeys(forms) if f.tokens]
        self._max_words = max(len(f.tokens) for f in self._forms) + 1
        name_words = {t for f in self._forms for t in f.tokens}
        # Another city's names may contain one of these words; a name must never be cut.
        self._breaks = _BREAKS - name_words
        self._markers = {
            **dict.fromkeys(_KEL_MARKERS - name_words, _Kind.KELURAHAN),
            **dict.fromkeys(_KEC_MARKERS - name_words, _Kind.KECAMATAN),
            **dict.fromkeys(_STREET_MARKERS - name_words, _Kind.STREET),
        }

    # --- lookups -----------------------------------------------------------------------------

    def in_city(self, lat: float, lon: float) -> bool:
        """Whether a shared location lies in the city: in (or at the edge of) a kelurahan when
        the pack has boundaries, else inside its geofence."""
        if self.boundaries.shapes:
            return self.boundaries.locate(lat, lon) is not None
        return self._geofence.contains(lat, lon)

    def locate(self, lat: float, lon: float) -> Located | None:
        """The kelurahan a shared location lies in (or is at the edge of); None without
        boundaries or outside the city."""
        return self.boundaries.locate(lat, lon)

    def kecamatan_list(self) -> list[KecamatanEntry]:
        return list(self._kecamatan)

    def kecamatan(self, code: str) -> KecamatanEntry | None:
        return self._kec_by_code.get(code)

    def kelurahan_in(self, kecamatan_code: str) -> list[KelurahanEntry]:
        kec = self._kec_by_code.get(kecamatan_code)
        return list(kec.kelurahan) if kec else []

    def kelurahan(self, code: str) -> KelurahanEntry | None:
        return self._kel_by_code.get(code)

    def kecamatan_of(self, kelurahan_code: str) -> KecamatanEntry | None:
        kel = self._kel_by_code.get(kelurahan_code)
        return self._kec_by_code.get(kel.kecamatan_code) if kel else None

    # --- matching ----------------------------------------------------------------------------

    def match_kelurahan(self, text: str) -> list[KelurahanMatch]:
        """Kelurahan the text may name, best first.

        A single result with `confident` set can be taken as the answer; anything else (several
        results, or one weak one) should be offered to the resident to choose from.
        """
        stripped = text.strip()
        if _CODE.match(stripped) and stripped in self._kel_by_code:
            return [self._result(stripped, 100.0, stripped, exact=True, confident=True)]

        segments = self._segments(text)
        hits = self._select(self._hits(segments))
        kel_hits = [h for h in hits if h.form.kind == "kel"]
        scored: dict[str, tuple[float, str, bool]] = {}
        if kel_hits:
            tier = max(segments[h.segment].kind for h in kel_hits)
            for hit in kel_hits:
                if segments[hit.segment].kind != tier:
                    continue
                score = hit.score if tier != _Kind.STREET else min(hit.score, _STREET_CAP)
                _keep_best(scored, hit.form.code, score, hit.words, hit.score == 100.0)
                if hit.score == 100.0:
                    for code, partial in self._containing(hit.form.tokens, exclude=hit.form.code):
                        _keep_best(scored, code, min(partial, score), hit.words, False)
        else:
            for code, score, words in self._partials(segments, hits):
                _keep_best(scored, code, score, words, False)

        mentioned = {h.form.code for h in hits if h.form.kind == "kec"}
        if mentioned and any(self._kel_by_code[c].kecamatan_code in mentioned for c in scored):
            scored = {
                c: v for c, v in scored.items() if self._kel_by_code[c].kecamatan_code in mentioned
            }

        ranked = sorted(
            scored.items(), key=lambda kv: (-kv[1][0], not kv[1][2], self._order[kv[0]])
        )
        confident = len(ranked) == 1 and ranked[0][1][0] >= CONFIDENT
        return [
            self._result(code, score, words, exact=exact, confident=confident)
            for code, (score, words, exact) in ranked
        ]

    def confident_kelurahan(self, text: str) -> KelurahanMatch | None:
        """The kelurahan the text names without doubt, or None when the resident must choose."""
        matches = self.match_kelurahan(text)
        return matches[0] if matches and matches[0].confident else None

    def match_kecamatan(self, text: str) -> list[KecamatanEntry]:
        """Kecamatan named in the text ("Kec. Binjai Utara", "binjai timur"), in text order."""
        hits = self._select(self._hits(self._segments(text)))
        codes = [h.form.code for h in sorted(hits, key=lambda h: (h.segment, h.start))]
        return [self._kec_by_code[c] for c in dict.fromkeys(codes) if c in self._kec_by_code]

    # --- internals ---------------------------------------------------------------------------

    def _result(
        self, code: str, score: float, words: str, *, exact: bool, confident: bool
    ) -> KelurahanMatch:
        kel = self._kel_by_code[code]
        return KelurahanMatch(
            kelurahan=kel,
            kecamatan=self._kec_by_code[kel.kecamatan_code],
            score=round(score, 1),
            matched=words,
            exact=exact,
            confident=confident,
        )

    def _segments(self, text: str) -> list[_Segment]:
        segments: list[_Segment] = []
        for piece in _SEGMENT_SPLIT.split(text):
            # A marker at the end of a piece ("Kelurahan: Tangsi") carries over to the next one.
            kind = segments[-1].kind if segments and not segments[-1].tokens else _Kind.PLAIN
            if segments and not segments[-1].tokens:
                segments.pop()
            current = _Segment(kind, [])
            segments.append(current)
            for token in fold(piece).split():
                marker = self._markers.get(token)
                if marker is not None or token in self._breaks:
                    current = _Segment(marker or _Kind.PLAIN, [])
                    segments.append(current)
                else:
                    current.tokens.append(token)
        return segments

    def _hits(self, segments: list[_Segment]) -> list[_Hit]:
        hits: list[_Hit] = []
        for index, segment in enumerate(segments):
            kinds = {
                _Kind.KECAMATAN: {"kec"},
                _Kind.KELURAHAN: {"kel"},
            }.get(segment.kind, {"kel", "kec", "city"})
            tokens = segment.tokens
            for start in range(len(tokens)):
                for end in range(start + 1, min(len(tokens), start + self._max_words) + 1):
                    span = tokens[start:end]
                    if any(t.isdigit() for t in span):
                        break
                    compact = "".join(span)
                    for form in self._forms:
                        if form.kind not in kinds:
                            continue
                        score = _similarity(compact, form.compact)
                        if score is not None:
                            hits.append(_Hit(form, index, start, end, score, " ".join(span)))
        return hits

    def _select(self, hits: list[_Hit]) -> list[_Hit]:
        """The best non-overlapping readings, keeping near-equal alternatives on the same words."""
        chosen: list[_Hit] = []
        taken: list[tuple[int, int, int]] = []
        for hit in sorted(hits, key=lambda h: (-h.weight, -h.score)):
            same = [t for t in taken if t == (hit.segment, hit.start, hit.end)]
            overlaps = [
                t for t in taken if t[0] == hit.segment and t[1] < hit.end and hit.start < t[2]
            ]
            if overlaps and not same:
                continue
            if same:
                best = max(
                    c.score
                    for c in chosen
                    if (c.segment, c.start, c.end) == (hit.segment, hit.start, hit.end)
                )
                if (best == 100.0 and hit.score < 100.0) or hit.score < best - _NEAR:
                    continue
            else:
                taken.append((hit.segment, hit.start, hit.end))
            chosen.append(hit)
        return chosen

    def _containing(self, tokens: tuple[str, ...], *, exclude: str) -> list[tuple[str, float]]:
        """Kelurahan whose longer name contains these words: "binjai" in "Pekan Binjai"."""
        found: list[tuple[str, float]] = []
        for form in self._forms:
            if form.kind == "kel" and form.code != exclude and _contains(form.tokens, tokens):
                found.append((form.code, _PARTIAL))
        return found

    def _partials(self, segments: list[_Segment], hits: list[_Hit]) -> list[tuple[str, float, str]]:
        """Kelurahan whose name holds the resident's words, when no full name matched."""
        found: list[tuple[_Kind, int, int, int, str, str]] = []
        # A reply of just "jati" (perhaps with its kecamatan) means a place, though "jati" is
        # also a tree.
        left = sum(len(s.tokens) for s in segments) - sum(h.end - h.start for h in hits)
        for index, segment in enumerate(segments):
            if segment.kind == _Kind.KECAMATAN:
                continue
            tokens = segment.tokens
            taken = [(h.start, h.end) for h in hits if h.segment == index]
            for start in range(len(tokens)):
                for end in range(start + 1, len(tokens) + 1):
                    span = tuple(tokens[start:end])
                    if len(span) > self._max_words or any(t.isdigit() for t in span):
                        break
                    if any(s < end and start < e for s, e in taken):
                        continue
                    if (
                        segment.kind != _Kind.KELURAHAN
                        and len(span) < left
                        and all(t in _COMMON for t in span)
                    ):
                        continue
                    if len("".join(span)) < 3:
                        continue
                    for form in self._forms:
                        if form.kind == "kel" and _contains(form.tokens, span):
                            words = " ".join(span)
                            found.append((segment.kind, index, start, end, form.code, words))
        if not found:
            return []
        tier = max(f[0] for f in found)
        # "sumber mulyo" means Sumber Mulyorejo, not also Sumber Karya through "sumber".
        return [
            (code, _PARTIAL, words)
            for kind, seg, start, end, code, words in found
            if kind == tier
            and not any(
                o[1] == seg and o[2] <= start and end <= o[3] and (o[2], o[3]) != (start, end)
                for o in found
            )
        ]


def _similarity(compact: str, form: str) -> float | None:
    if compact == form:
        return 100.0
    if not 0.75 <= len(compact) / len(form) <= 4 / 3:
        return None
    score = fuzz.ratio(compact, form)
    return score if score >= _threshold(len(form)) else None


def _contains(form: tuple[str, ...], words: tuple[str, ...]) -> bool:
    n = len(words)
    return n < len(form) and any(form[i : i + n] == words for i in range(len(form) - n + 1))


def _keep_best(
    scored: dict[str, tuple[float, str, bool]], code: str, score: float, words: str, exact: bool
) -> None:
    current = scored.get(code)
    if current is None or score > current[0]:
        scored[code] = (score, words, exact)
