"""`emas chat`: the conversation in the asked language, banner included, and nothing else on
the screen (no log lines, no tracebacks)."""

from __future__ import annotations

import asyncio

from click.testing import CliRunner

from bot.app import Container
from bot.cli import main
from bot.settings import Settings


async def _chat(settings: Settings, lines: list[str], *args: str) -> str:
    env = {"EMAS_DATABASE_URL": settings.database_url, "EMAS_DATA_DIR": str(settings.data_dir),
           "EMAS_CONTENT_DIR": str(settings.content_dir)}
    result = await asyncio.to_thread(
        CliRunner().invoke, main, ["chat", "--user", "warga-cli", *args],
        input="\n".join(lines) + "\n", env=env, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


async def test_lang_en_speaks_english_to_someone_who_chose_indonesian(
        container: Container, settings: Settings) -> None:
    out = await _chat(settings, ["/bahasa", "Bahasa Indonesia"])  # saved: Indonesian
    assert "Ada yang bisa kami bantu?" in out
    out = await _chat(settings, ["halo"], "--lang", "en")
    assert out.startswith("e-Masyarakat chat in the terminal.")
    assert "What would you like to do?" in out and "Bapak/Ibu" not in out
    for noise in ("INFO", "WARNING", "Traceback", "DEBUG"):
        assert noise not in out


async def test_the_banner_follows_the_language(container: Container, settings: Settings) -> None:
    out = await _chat(settings, ["/keluar"], "--lang", "id")
    assert out.splitlines()[0].startswith("Chat e-Masyarakat di terminal")
    assert "What would you like to do?" not in out


async def test_without_lang_the_saved_language_stays(
        container: Container, settings: Settings) -> None:
    await _chat(settings, ["/bahasa", "English"])
    out = await _chat(settings, ["halo"])
    assert "What would you like to do?" in out


async def test_a_language_chosen_in_the_chat_stands_over_lang(
        container: Container, settings: Settings) -> None:
    out = await _chat(settings, ["/bahasa", "Bahasa Indonesia", "menu"], "--lang", "en")
    assert out.rstrip(" >\n").endswith("🌐 Bahasa / Language")
    last_menu = out[out.rindex("Bahasa Indonesia"):]
    assert "Ada yang bisa kami bantu?" in last_menu and "What would you like" not in last_menu
