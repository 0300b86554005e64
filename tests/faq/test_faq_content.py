"""The FAQ articles: complete in both languages, honest about what is not known, and checked."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

import content
from bot.flows.faq import PAGE_CHARS, article_pages
from faq.content import FaqContentError, load_faq, plain

FAQ = content.ROOT / "binjai" / "faq"
# Numbers an article may give: national emergency numbers and PLN's call centre.
KNOWN_NUMBERS = {"112", "110", "113", "118", "119", "123"}
APPS = ["e-masyarakat", "e-pbb", "e-perizinan", "e-dokter", "e-ra", "e-ssh", "transbinjai",
        "binjai-card"]


def test_every_topic_the_issue_asks_for_has_an_article_in_both_languages() -> None:
    content = load_faq(FAQ)
    for slug in [*APPS, "cara-lapor", "setelah-lapor", "waktu-layanan", "privasi", "kim",
                 "c-gen", "darurat"]:
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


def test_uncertain_facts_point_to_the_office_that_can_confirm() -> None:
    content = load_faq(FAQ)
    for slug in ("e-ssh", "transbinjai", "binjai-card", "aplikasi-lain"):
        indonesian, english = (content.articles[slug].text(loc).body for loc in ("id", "en"))
        assert re.search(r"belum dapat kami pastikan|belum kami temukan", indonesian), slug
        assert re.search(r"cannot (fully )?confirm|have not found", english), slug
        office = r"Diskominfo|Dishub|DLH|DPMPTSP|Disdukcapil"
        assert re.search(office, indonesian) and re.search(office, english), slug


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
