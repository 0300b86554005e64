"""Indonesian as residents type it: slang, abbreviations, informal affixes, stems."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from functools import cache, lru_cache
from typing import Any

# Chat spellings and abbreviations → the standard word (or words). Applied word by word after
# lower-casing; the targets are what articles and category keywords are written with.
SLANG: dict[str, str] = {
    # question words
    "gmn": "bagaimana", "gmna": "bagaimana", "gmana": "bagaimana", "gimana": "bagaimana",
    "bgmn": "bagaimana", "bgmna": "bagaimana", "bgmana": "bagaimana", "bagaimna": "bagaimana",
    "gimn": "bagaimana",
    "gimane": "bagaimana", "dmn": "dimana", "dmna": "dimana",
    "dimn": "dimana", "dmana": "dimana", "kmn": "kemana", "kmana": "kemana", "brp": "berapa",
    "brapa": "berapa", "berapaan": "berapa", "knp": "kenapa", "napa": "kenapa",
    "ngapa": "kenapa", "mengapa": "kenapa", "kpn": "kapan", "ap": "apa", "apaan": "apa",
    "ngapain": "apa", "sapa": "siapa", "spa": "siapa",
    # negation and yes
    "gk": "tidak", "ga": "tidak", "gak": "tidak", "nggak": "tidak", "ngga": "tidak",
    "enggak": "tidak", "engga": "tidak", "kagak": "tidak", "tdk": "tidak", "tak": "tidak",
    "ndak": "tidak", "nda": "tidak", "gx": "tidak", "g": "tidak", "blm": "belum",
    "blum": "belum", "belom": "belum", "lom": "belum", "iy": "iya", "iyaa": "iya",
    # function words
    "yg": "yang", "yng": "yang", "dr": "dari", "dri": "dari", "utk": "untuk", "untk": "untuk",
    "tuk": "untuk", "dgn": "dengan", "dg": "dengan", "sm": "sama", "ama": "sama",
    "tp": "tapi", "tpi": "tapi", "krn": "karena", "karna": "karena", "soalnya": "karena",
    "tu": "itu", "bnyk": "banyak", "byk": "banyak", "jg": "juga", "jga": "juga", "aja": "saja",
    "doang": "saja", "lg": "lagi", "lgi": "lagi",
    "trs": "terus", "trus": "terus", "klo": "kalau", "kalo": "kalau", "kl": "kalau",
    "bgt": "banget", "bngt": "banget", "bener": "benar", "udh": "sudah", "udah": "sudah",
    "dah": "sudah", "sdh": "sudah", "sudh": "sudah", "msh": "masih", "masi": "masih",
    "bs": "bisa", "bsa": "bisa", "bisakah": "bisa", "dpt": "dapat", "dapet": "dapat",
    "skrg": "sekarang", "skr": "sekarang", "skrng": "sekarang", "sblm": "sebelum",
    "ttg": "tentang", "tntg": "tentang", "gitu": "begitu", "gini": "begini", "lwt": "lewat",
    "lewa": "lewat", "sy": "saya", "sya": "saya", "aku": "saya", "ak": "saya", "gw": "saya",
    "gue": "saya", "gua": "saya", "kami": "saya", "km": "kamu", "kmu": "kamu",
    "mo": "mau", "pengen": "ingin", "pingin": "ingin", "pengin": "ingin", "kpengen": "ingin",
    "tau": "tahu", "tw": "tahu", "emg": "memang", "emang": "memang",
    # time
    "thn": "tahun", "th": "tahun", "bln": "bulan", "hr": "hari", "mgg": "minggu",
    "mggu": "minggu", "kmrn": "kemarin", "kemaren": "kemarin", "tgl": "tanggal",
    "jm": "jam", "sminggu": "seminggu",
    # verbs as typed
    "nanya": "tanya", "nanyain": "tanya", "bikin": "buat", "bkin": "buat", "pake": "pakai",
    "pakek": "pakai", "makenya": "pakai", "dipake": "dipakai",
    "makai": "pakai", "liat": "lihat", "ngeliat": "lihat", "ngecek": "cek", "mengecek": "cek",
    "keliatan": "terlihat", "dicek": "cek",
    "dftr": "daftar", "daftr": "daftar", "ilang": "hilang", "dateng": "datang",
    "nyampe": "sampai", "nyampai": "sampai", "sampe": "sampai", "ikutan": "ikut",
    "ngadu": "adu", "ngelapor": "lapor", "lapr": "lapor", "numpuk": "menumpuk",
    "ngalir": "mengalir", "nyala": "menyala", "ngurus": "urus", "ngurusnya": "urus",
    "ngurusin": "urus", "ngajuin": "ajukan", "ngambil": "ambil", "nyari": "cari",
    "ngasih": "beri", "kasi": "kasih", "tlg": "tolong", "tolongin": "tolong",
    "mhn": "mohon", "dibenerin": "diperbaiki", "benerin": "perbaiki",
    # things
    "handphone": "hp", "ponsel": "hp", "hape": "hp", "apk": "aplikasi",
    "aplikasinya": "aplikasi", "app": "aplikasi", "apps": "aplikasi", "nmr": "nomor",
    "nomer": "nomor", "nmor": "nomor", "tlp": "telepon", "telp": "telepon",
    "tlpn": "telepon", "telpon": "telepon", "telfon": "telepon", "nelpon": "telepon",
    "rs": "rumah sakit", "puskes": "puskesmas", "kel": "kelurahan", "kec": "kecamatan",
    "pemko": "pemkot", "pemkab": "pemkot", "jln": "jalan", "jl": "jalan", "gg": "gang",
    "akte": "akta", "ijin": "izin", "perijinan": "perizinan", "antri": "antre",
    "ngantri": "antre", "antrian": "antrean", "berlobang": "berlubang", "lobang": "lubang",
    "sampa": "sampah", "smpah": "sampah", "lampunya": "lampu", "pjk": "pajak",
    "ambulan": "ambulans", "hujan2": "hujan",
    "wa": "whatsapp", "tele": "telegram", "tg": "telegram", "infonya": "info",
    "makasih": "terima kasih", "makasi": "terima kasih", "mksh": "terima kasih",
    "mkasih": "terima kasih", "trims": "terima kasih", "trimakasih": "terima kasih",
    "terimakasih": "terima kasih", "thx": "thanks", "tq": "thanks", "ty": "thanks",
    "tengkyu": "thanks", "hallo": "halo", "hlo": "halo", "hai": "halo",
    "ass": "assalamualaikum", "askum": "assalamualaikum", "aslm": "assalamualaikum",
    "asalamualaikum": "assalamualaikum", "assalamu": "assalamualaikum",
    "assalammualaikum": "assalamualaikum", "asslamualaikum": "assalamualaikum",
    "met": "selamat", "slmt": "selamat",
}  # fmt: skip

# "no" is English for "not" and chat Indonesian for "nomor": only the second before these.
_NO_AS_NUMBER = frozenset({"telepon", "hp", "whatsapp", "tiket", "laporan", "rekening", "darurat",
                           "pln", "ambulans", "polisi", "damkar", "kontak"})

# One-letter prefixes residents write apart from the app name: "e pbb", "e-dokter", "c-gen".
_JOIN = frozenset({"e", "c"})

# Words that carry no meaning for finding an article (question words and fillers too: every
# article answers "how", and "min" is how residents address the admin).
def _wordset(text: str) -> frozenset[str]:
    return frozenset(text.split())


STOPWORDS = _wordset(
    """
    yang di ke dari dan atau itu ini ada apa saya kamu anda kita kami dia mereka min admin
    mimin kak kakak pak bu bapak ibu bang gan sis bro om ya iya sih dong deh kok nih tuh lah
    kah pun juga saja sudah akan bisa mau ingin mohon tolong bagaimana dimana kemana berapa
    kapan kenapa apakah siapa mana untuk dengan pada dalam oleh sama tapi karena kalau jadi
    lagi masih banget sangat terus begitu begini lewat tentang boleh harus perlu kah adakah
    caranya cara gitu tahu memang benar sekarang tidak belum buat via the a an is are am was
    were be i my me mine we our you your it its this that these those to of in on at for
    from by with and or do does did how what where when who which why can could would will
    should please there s t have has get got any some about many much
    """
)

_NON_WORD = re.compile(r"[^\w\s]", re.UNICODE)
_REPEATS = re.compile(r"([a-z])\1{2,}")
_REDUP = re.compile(r"^([a-z]+)2([a-z]*)$")
_VOWELS = frozenset("aeiou")


def fold(text: str) -> str:
    """Lower-case, without emoji, accents or punctuation; hyphens and dots become spaces."""
    text = unicodedata.normalize("NFKD", text)
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    text = unicodedata.normalize("NFKC", text).lower()
    text = "".join(ch for ch in text if unicodedata.category(ch)[0] != "S")
    text = text.replace("'", "").replace("\u2019", "")
    return _NON_WORD.sub(" ", text).replace("_", " ")


def words(text: str) -> list[str]:
    """The words of a message with slang expanded: `gmn cara bayar pbb?` → bagaimana cara
    bayar pbb."""
    raw = fold(text).split()
    out: list[str] = []
    i = 0
    while i < len(raw):
        word = _REPEATS.sub(r"\1", raw[i])
        m = _REDUP.match(word)
        if m:  # "diangkut2", "anak2", "mabuk2an": the repeated form means the same here
            word = m.group(1) + m.group(2)
        if word in _JOIN and i + 1 < len(raw) and raw[i + 1].isalpha():
            word = word + raw[i + 1]
            i += 1
        if word == "no" and i + 1 < len(raw) and SLANG.get(raw[i + 1], raw[i + 1]) in \
                _NO_AS_NUMBER:
            word = "nomor"
        out.extend(SLANG.get(word, word).split())
        i += 1
    return out


@cache
def _sastrawi() -> Any:
    """The Sastrawi stemmer and its root-word dictionary (built once: it reads 30k words)."""
    from Sastrawi.Stemmer.StemmerFactory import StemmerFactory

    cached = StemmerFactory().create_stemmer()
    return cached.delegatedStemmer


def is_root(word: str) -> bool:
    """A word of the Indonesian root dictionary."""
    return bool(_sastrawi().dictionary.contains(word))


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """The root of an Indonesian word, including the informal `nge-`, `ny-`, `-in` forms
    Sastrawi does not know (`ngurusin` → urus, `nyari` → cari, `numpuk` → tumpuk)."""
    if len(word) < 4 or not word.isalpha():
        return word
    stemmer = _sastrawi()
    root: str = stemmer.stem_word(word)
    if root != word or is_root(word):
        return root
    for candidate in _informal(word):
        if is_root(candidate):
            return candidate
        deeper: str = stemmer.stem_word(candidate)
        if deeper != candidate and is_root(deeper):
            return deeper
    if word.endswith("ies"):  # English plurals: "cities", "reports", "days"
        return word[:-3] + "y"
    if word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return root


def _informal(word: str) -> Iterable[str]:
    """Possible standard forms of a colloquial word, most likely first."""
    bases = [word]
    for suffix in ("nya", "in", "an"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            bases.append(word[: -len(suffix)])
    for base in bases:
        if base is not word:
            yield base
        if base.startswith("di") and len(base) > 5:
            yield base[2:]
        if base.startswith("nge") and len(base) > 5:
            yield base[3:]
        if base.startswith("ng") and len(base) > 4 and base[2] in _VOWELS:
            yield base[2:]
            yield "k" + base[2:]
        if base.startswith("ny") and len(base) > 4 and base[2] in _VOWELS:
            yield "c" + base[2:]
            yield "s" + base[2:]
        if base.startswith("n") and len(base) > 4 and base[1] in _VOWELS:
            yield "t" + base[1:]
        if base.startswith("m") and len(base) > 4 and base[1] in _VOWELS:
            yield "p" + base[1:]


def terms(text: str) -> list[str]:
    """Stems of the meaningful words: what articles and messages are compared on."""
    return [stem(w) for w in words(text) if w not in STOPWORDS]
