"""The FAQ articles: complete in both languages, written as the city office writes, and checked."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

import content
from bot.flows.faq import PAGE_CHARS, article_pages
from factories import faq_library
from faq.content import FaqContentError, load_faq, plain
from faq.intent import Intent

FAQ = content.ROOT / "binjai" / "faq"
# Numbers an article may give: national emergency numbers and PLN's call centre.
KNOWN_NUMBERS = {"112", "110", "113", "118", "119", "123"}
APPS = ["e-masyarakat", "e-pbb", "e-perizinan", "e-dokter", "e-ra", "e-ssh", "transbinjai",
        "binjai-card"]


def test_every_topic_the_issue_asks_for_has_an_article_in_both_languages() -> None:
    content = load_faq(FAQ)
    for slug in [*APPS, "cara-lapor", "setelah-lapor", "waktu-layanan", "privasi", "kim",
                 "c-gen", "darurat", "adminduk", "bpjs", "sampah", "lampu-jalan"]:
        article = content.article(slug)
        assert article is not None, slug
        assert set(article.texts) == {"id", "en"}
    for topic in content.topics:
        assert content.in_topic(topic.key), f"topic {topic.key} has no articles"


def test_articles_invent_no_web_address_phone_number_or_fee() -> None:
    content = load_faq(FAQ)
    for article in content.articles.values():
        for locale, text in article.texts.items():
            body = text.body
            where = f"{article.slug}.{locale}"
            assert not re.search(r"https?://|www\.|\.go\.id|\.com\b", body), where
            assert not re.search(r"\bRp\.?\s?\d", body), where
            for number in re.findall(r"(?<![\w/.-])\+?\d[\d\s-]{2,}\d(?![\w/.-])", body):
                digits = re.sub(r"\D", "", number)
                if len(digits) == 4 and digits.startswith(("19", "20")):
                    continue  # a year
                assert digits in KNOWN_NUMBERS, f"{where}: {number}"


def test_uncertain_facts_are_referred_to_the_office_that_can_confirm() -> None:
    """Where binjai.md marks a fact uncertain, the article sends the resident to the office
    that knows, in both languages, instead of hedging."""
    content = load_faq(FAQ)
    office = r"Diskominfo|Dishub|DLH|DPMPTSP|Disdukcapil|BNI"
    for slug in ("e-ssh", "transbinjai", "binjai-card", "aplikasi-lain"):
        indonesian, english = (content.articles[slug].text(loc).body for loc in ("id", "en"))
        assert re.search(rf"(tanyakan|ditanyakan|hubungi)\b[^.]*\b({office})", indonesian), slug
        assert re.search(rf"\b(ask|contact)\b[^.]*\b({office})", english, re.I), slug
    transbinjai = content.articles["transbinjai"].text("id").body
    assert "masih gratis" not in transbinjai  # free in 2017-2019; today's fare is Dishub's


# Words a city office does not write to residents: "Anda"/"kamu" (residents are "Bapak/Ibu"),
# "ketuk" (the same text goes to WhatsApp, where residents reply with numbers), and hedging.
NOT_WRITTEN = {
    "id": [r"\banda\b", r"\bkamu\b", r"ketuk", r"belum dapat (kami )?(pastikan|dipastikan)",
           r"belum kami temukan", r"tidak kami (cantumkan|tulis)", r"sepengetahuan kami"],
    "en": [r"\btap\b", r"cannot (fully )?confirm", r"as far as we know", r"rather not guess"],
}


def test_articles_speak_as_the_city_office_writes() -> None:
    content = load_faq(FAQ)
    for article in content.articles.values():
        for locale, patterns in NOT_WRITTEN.items():
            text = article.text(locale)
            for pattern in patterns:
                for where, written in (("title", text.title), ("body", text.body)):
                    assert not re.search(pattern, written, re.I), \
                        f"{article.slug}.{locale} {where}: {pattern}"


def test_paying_pbb_online_is_a_numbered_list_of_steps() -> None:
    content = load_faq(FAQ)
    for locale, heading in (("id", "▸ Cara membayar PBB secara daring"),
                            ("en", "▸ How to pay PBB online")):
        body = content.articles["e-pbb"].text(locale).body
        assert heading in body, locale
        section = body.split(heading, 1)[1].split("\n\n", 1)[0]
        steps = re.findall(r"^(\d+)\. ", section, re.M)
        assert steps == [str(n) for n in range(1, len(steps) + 1)] and len(steps) >= 5, locale
        assert "NOP" in section and "SPPT" in section


@pytest.mark.parametrize(("text", "slug", "says"), [
    # Lost documents: where to go and what to bring.
    ("ktp sy hilang gmn", "adminduk",
     [r"Disdukcapil Kota Binjai", r"surat keterangan kehilangan", r"Polsek|Polres", r"\bKK\b",
      r"gratis"]),
    ("kk hilang syaratnya apa", "adminduk",
     [r"Disdukcapil Kota Binjai", r"surat keterangan kehilangan", r"KTP-el"]),
    ("cara urus akta kelahiran bayi baru lahir", "adminduk",
     [r"Disdukcapil", r"surat keterangan lahir", r"buku nikah"]),
    # Business permit: the NIB through OSS, and the office that helps.
    ("cara buat nib lewat oss", "e-perizinan",
     [r"\bOSS\b", r"\bNIB\b", r"DPMPTSP Kota Binjai", r"KTP-el"]),
    # BPJS: a national body; where to go instead, and what the city does.
    ("cara daftar bpjs kesehatan", "bpjs",
     [r"bukan bagian dari Pemerintah Kota Binjai", r"kantor cabang BPJS Kesehatan",
      r"Mobile JKN", r"KTP-el dan KK"]),
    ("bpjs ketenagakerjaan ngurus kemana", "bpjs",
     [r"kantor cabang BPJS Ketenagakerjaan", r"pemberi kerja"]),
    ("iuran bpjs dibayar pemerintah pbi gmn", "bpjs", [r"Dinas Sosial Kota Binjai"]),
    # Garbage: who collects it, who knows the days, how to report it here.
    ("jadwal angkut sampah", "sampah",
     [r"Dinas Lingkungan Hidup \(DLH\)", r"kepala lingkungan", r"Sampah tidak diangkut",
      r"Buat laporan"]),
    # Street lights: who handles them and how to report one in this bot.
    ("siapa yang menangani lampu jalan", "lampu-jalan",
     [r"Dinas Perkim", r"Buat laporan: Lampu jalan mati", r"Kirim laporan"]),
    # Paying PBB online.
    ("langkah bayar pbb online", "e-pbb", [r"NOP", r"jatuh tempo", r"bukti pembayaran"]),
])
def test_common_questions_open_an_article_that_says_where_to_go(
        text: str, slug: str, says: list[str]) -> None:
    found = faq_library().understand(text)
    assert (found.intent, found.label) == (Intent.QUESTION, slug), found
    body = faq_library().content.articles[slug].text("id").body
    for fact in says:
        assert re.search(fact, body), f"{slug}: {fact}"


def test_every_page_fits_a_whatsapp_message() -> None:
    content = load_faq(FAQ)
    for article in content.articles.values():
        for locale in ("id", "en"):
            pages = article_pages(article.text(locale).body)
            assert all(len(p) <= PAGE_CHARS for p in pages)
            assert "".join(pages).replace("\n", "").replace(" ", "") == \
                article.text(locale).body.replace("\n", "").replace(" ", "")


def test_markdown_becomes_plain_chat_text() -> None:
    assert plain("## Cara\n- satu **penting**\n1. dua") == "▸ Cara\n• satu penting\n1. dua"


def _copy(tmp_path: Path) -> Path:
    target = tmp_path / "faq"
    shutil.copytree(FAQ, target)
    return target


@pytest.mark.parametrize(("change", "message"), [
    (lambda d: (d / "kim.en.md").unlink(), "kim.en.md: missing"),
    (lambda d: (d / "kim.id.md").write_text(
        (d / "kim.id.md").read_text().replace("topic: community", "topic: sports")),
     "kim.id.md: topic 'sports'"),
    (lambda d: (d / "kim.id.md").write_text(
        (d / "kim.id.md").read_text().replace("related: [c-gen", "related: [c-gen, nope")),
     "related article 'nope'"),
    (lambda d: (d / "kim.id.md").write_text("no front matter"), "kim.id.md: must start"),
    (lambda d: (d / "Kim Baru.id.md").write_text("---\ntitle: x\n---\nx"), "Kim Baru.id.md"),
    (lambda d: (d / "kim.id.md").write_text(
        (d / "kim.id.md").read_text().replace("title:", "judul:")), "unknown field"),
])
def test_broken_content_is_refused_with_the_file_named(tmp_path: Path, change: object,
                                                        message: str) -> None:
    folder = _copy(tmp_path)
    change(folder)  # type: ignore[operator]
    with pytest.raises(FaqContentError, match=re.escape(message)):
        load_faq(folder)
