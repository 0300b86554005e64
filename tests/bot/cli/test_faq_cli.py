"""`emas faq ...` from the command line, and the server picking up edited content."""

from __future__ import annotations

import asyncio
import json
import shutil
from pathlib import Path
from typing import Any

import content
from bot.app import Container, build_container
from bot.settings import Settings
from chat import TerminalChat
from cli_kit import emas
from faq.library import FaqLibrary, category_words
from storage.city import City
from storage.citypack import load_city_pack

CONTENT = content.ROOT


async def ask(container: Container, user: str, text: str) -> None:
    chat = TerminalChat(container.engine, user_key=user, locale="id")
    await chat.say("/start")
    await chat.say(text)
    await chat.tap("✍️")
    assert "#" in chat.text


async def test_staff_list_open_questions_and_answer_them(container: Container) -> None:
    settings = container.settings
    await ask(container, "warga-1", "kapan pasar malam dibuka")
    await ask(container, "warga-2", "jadwal posyandu di kelurahan tangsi")

    listed = await emas(settings, "faq", "questions", "--json")
    assert listed.exit_code == 0, listed.output
    questions = json.loads(listed.output)
    assert [(q["id"], q["text"], q["status"]) for q in questions] == [
        (1, "kapan pasar malam dibuka", "open"),
        (2, "jadwal posyandu di kelurahan tangsi", "open"),
    ]
    assert all("user_key" not in q for q in questions)  # no chat ids or phone numbers

    answered = await emas(settings, "faq", "answer", "2", "Setiap", "Rabu", "pagi.",
                          "--by", "Rina (Kominfo)")
    assert answered.exit_code == 0, answered.output
    still_open = json.loads((await emas(settings, "faq", "questions", "--json")).output)
    assert [q["id"] for q in still_open] == [1]
    everything = json.loads((await emas(settings, "faq", "questions", "--all", "--json")).output)
    second = next(q for q in everything if q["id"] == 2)
    assert (second["answer"], second["answered_by"], second["delivered_at"]) == \
        ("Setiap Rabu pagi.", "Rina (Kominfo)", None)

    text = await emas(settings, "faq", "questions")
    assert "#1" in text.output and "kapan pasar malam dibuka" in text.output

    missing = await emas(settings, "faq", "answer", "99", "halo")
    assert missing.exit_code != 0
    assert "no question #99" in missing.output


async def test_feedback_is_counted_per_article(container: Container) -> None:
    for user, button in (("warga-1", "👍"), ("warga-2", "👎"), ("warga-3", "👍")):
        chat = TerminalChat(container.engine, user_key=user, locale="id")
        await chat.say("/start")
        await chat.say("apa itu kim")
        await chat.tap(button)
    result = await emas(container.settings, "faq", "feedback", "--json")
    assert json.loads(result.output) == [{"article": "kim", "helpful": 2, "not_helpful": 1}]


def _own_content(tmp_path: Path, settings: Settings) -> Settings:
    target = tmp_path / "content"
    shutil.copytree(CONTENT, target)
    return settings.model_copy(update={"content_dir": target})


async def _title(container: Container, question: str) -> str:
    chat = TerminalChat(container.engine, user_key="reader", locale="id")
    await chat.say("/start")
    await chat.say(question)
    return chat.texts[-1].splitlines()[0]


async def test_reload_serves_edited_articles_without_a_restart(
    tmp_path: Path, settings: Settings, clock: Any
) -> None:
    settings = _own_content(tmp_path, settings)
    box = build_container(settings, clock=clock)
    library: FaqLibrary = box.flows["faq"].library  # type: ignore[attr-defined]
    article = settings.faq_dir / "kim.id.md"
    try:
        assert await _title(box, "apa itu kim") == "📖 KIM: Kelompok Informasi Masyarakat"
        article.write_text(article.read_text(encoding="utf-8").replace(
            'title: "KIM: Kelompok Informasi Masyarakat"', 'title: "KIM Binjai"'),
            encoding="utf-8")

        result = await emas(settings, "faq", "reload")
        assert result.exit_code == 0, result.output
        assert "25 articles" in result.output
        assert settings.faq_reload_marker.exists()
        assert await library.reload_if_changed() is True
        assert await _title(box, "apa itu kim") == "📖 KIM Binjai"
        assert await library.reload_if_changed() is False  # nothing new
    finally:
        await box.db.dispose()


async def test_broken_content_is_refused_and_the_last_good_version_kept(
    tmp_path: Path, settings: Settings, clock: Any
) -> None:
    settings = _own_content(tmp_path, settings)
    box = build_container(settings, clock=clock)
    library: FaqLibrary = box.flows["faq"].library  # type: ignore[attr-defined]
    try:
        (settings.faq_dir / "kim.en.md").unlink()
        result = await emas(settings, "faq", "reload")
        assert result.exit_code != 0
        assert "kim.en.md: missing" in result.output
        assert await library.reload_if_changed() is False
        assert library.last_error is not None and "kim.en.md" in library.last_error
        assert await _title(box, "apa itu kim") == "📖 KIM: Kelompok Informasi Masyarakat"
    finally:
        await box.db.dispose()


async def test_the_server_notices_edited_files_on_its_own(
    tmp_path: Path, settings: Settings, clock: Any
) -> None:
    settings = _own_content(tmp_path, settings)
    city = City(load_city_pack(settings.city_dir))
    library = FaqLibrary(settings.faq_dir, category_words(city.categories),
                         marker=settings.faq_reload_marker)
    watcher = asyncio.create_task(library.watch(0.02))
    try:
        article = settings.faq_dir / "c-gen.en.md"
        article.write_text(article.read_text(encoding="utf-8").replace(
            "title: \"C-Gen: Binjai's youth community\"", "title: C-Gen Binjai"),
            encoding="utf-8")
        for _ in range(200):
            if library.content.articles["c-gen"].title("en") == "C-Gen Binjai":
                break
            await asyncio.sleep(0.02)
        assert library.content.articles["c-gen"].title("en") == "C-Gen Binjai"
    finally:
        watcher.cancel()
