"""Understanding residents' free text: the labelled set's accuracy, and the pieces behind it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from factories import faq_library
from faq.intent import Intent
from faq.text import stem, terms, words

LABELLED = Path(__file__).resolve().parent / "data" / "faq_labelled.yaml"

TOP1_MIN = 0.85
TOP3_MIN = 0.95
COMPLAINT_PRECISION_MIN = 0.90


def labelled(split: str) -> list[dict[str, str]]:
    items: list[dict[str, str]] = yaml.safe_load(LABELLED.read_text(encoding="utf-8"))["items"]
    return [i for i in items if i["split"] == split]


@dataclass
class Scores:
    n: int
    top1: float
    top3: float
    complaint_precision: float
    misses: list[str]


def score(split: str) -> Scores:
    items = labelled(split)
    top1 = top3 = predicted_complaints = right_complaints = 0
    misses = []
    for item in items:
        found = faq_library().understand(item["text"])
        expected = item["expect"]
        top1 += found.label == expected
        top3 += expected in found.ranked(3)
        if found.intent in (Intent.COMPLAINT, Intent.REPORT):
            predicted_complaints += 1
            right_complaints += found.label == expected
        if found.label != expected:
            misses.append(f"{item['text']!r}: expected {expected}, got {found.label}")
    return Scores(
        n=len(items), top1=top1 / len(items), top3=top3 / len(items),
        complaint_precision=right_complaints / max(predicted_complaints, 1), misses=misses,
    )


def test_labelled_set_is_large_realistic_and_split() -> None:
    items = labelled("tune") + labelled("check")
    assert len(items) >= 150
    assert len(labelled("check")) >= 0.35 * len(items)
    texts = [i["text"].lower() for i in items]
    assert len(set(texts)) == len(texts), "a message appears twice"
    articles = set(faq_library().content.articles)
    for item in items:
        expected = item["expect"]
        assert (expected in articles or expected.startswith("complaint:")
                or expected in {"report", "greeting", "thanks", "help", "emergency", "none"}), \
            expected


@pytest.mark.parametrize("split", ["tune", "check"])
def test_accuracy_on_labelled_messages(split: str) -> None:
    """Top-1 accuracy, top-3 recall and complaint precision on each half; the "check" half was
    never used to tune keywords, synonyms, slang or thresholds."""
    s = score(split)
    report = (f"{split}: n={s.n} top1={s.top1:.3f} top3={s.top3:.3f} "
              f"complaint precision={s.complaint_precision:.3f}\n" + "\n".join(s.misses))
    assert s.top1 >= TOP1_MIN, report
    assert s.top3 >= TOP3_MIN, report
    assert s.complaint_precision >= COMPLAINT_PRECISION_MIN, report


def test_top1_on_the_whole_labelled_set_stays_at_95_percent() -> None:
    """The figure quoted for the FAQ: the right answer first for at least 95% of the labelled
    messages (both halves), new articles included."""
    tune, check = score("tune"), score("check")
    whole = (tune.top1 * tune.n + check.top1 * check.n) / (tune.n + check.n)
    assert whole >= 0.95, f"top-1 {whole:.3f}\n" + "\n".join(tune.misses + check.misses)


@pytest.mark.parametrize(("text", "slug"), [
    ("gmn cara bayar pbb online?", "e-pbb"),
    ("izin usaha dmn ngurusnya", "e-perizinan"),
    ("pajak bumi bayar dimana", "e-pbb"),
    ("mau ngurus KTP", "adminduk"),
    ("e dokter gmn pakenya", "e-dokter"),
    ("transbinjey jam brp", "transbinjai"),  # a typo
])
def test_questions_find_their_article(text: str, slug: str) -> None:
    found = faq_library().understand(text)
    assert found.intent == Intent.QUESTION
    assert found.hits[0].slug == slug


@pytest.mark.parametrize(("text", "category"), [
    ("lampu jalan mati di jl. t. amir hamzah", "pju"),
    ("lampu jalan mati depan masjid raya", "pju"),
    ("jalan bolong di jl sudirman", "jalan_rusak"),
    ("sampah numpuk udah 3 hari", "sampah"),
    ("sampha numpuk udah 3 hari", "sampah"),  # a typo
])
def test_complaints_name_their_category(text: str, category: str) -> None:
    found = faq_library().understand(text)
    assert (found.intent, found.category) == (Intent.COMPLAINT, category)


def test_a_question_about_a_topic_is_not_taken_for_a_complaint() -> None:
    assert faq_library().understand("cara buat ktp gmn").label == "adminduk"
    assert faq_library().understand("ktp sy udah 6 bulan belum jadi").label == "complaint:adminduk"


@pytest.mark.parametrize(("text", "intent"), [
    ("halo min", Intent.GREETING),
    ("Assalamualaikum", Intent.GREETING),
    ("makasih banyak min 🙏", Intent.THANKS),
    ("help", Intent.HELP),
    ("saya mau lapor", Intent.REPORT),
    ("ada kebakaran di pasar!", Intent.EMERGENCY),
    ("harga cabai hari ini berapa", Intent.UNKNOWN),
])
def test_small_talk_and_the_rest(text: str, intent: Intent) -> None:
    assert faq_library().understand(text).intent == intent


def test_slang_and_informal_words_are_read_as_standard_indonesian() -> None:
    assert words("gmn yg gk dmn hp") == ["bagaimana", "yang", "tidak", "dimana", "hp"]
    assert words("e-PBB, e pbb, c-gen") == ["epbb", "epbb", "cgen"]
    assert words("diangkut2 bangettt") == ["diangkut", "banget"]
    assert stem("membayar") == stem("pembayaran") == "bayar"
    assert stem("ngurusin") == "urus"
    assert stem("nyari") == "cari"
    assert stem("daftarin") == "daftar"
    assert terms("Bagaimana cara membayar PBB?") == ["bayar", "pbb"]


def test_synonyms_and_typos_reach_the_same_article() -> None:
    index = faq_library().snapshot.index
    assert index.correct("perizinann") == "perizinan"
    assert index.correct("pasar") == "pasar"  # a real word is never "corrected"
    assert "=pbb" in index.query("pajak bumi").terms
    assert "=perizinan" in index.query("izin usaha").terms
    assert "=adminduk" in index.query("ktp").terms
