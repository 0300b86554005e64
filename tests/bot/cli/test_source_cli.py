"""`emas source create|list|qr`: a source's links and printable QR codes, read back as a phone
would read them, and what each source brought."""

from __future__ import annotations

import asyncio
import io
import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from PIL import Image

from bot.app import Container
from bot.posters import BORDER, PNG_SCALE, SVG_SCALE, qr_for
from chat import TerminalChat
from cli_kit import acli

LINKS = {"EMAS_TELEGRAM_BOT_USERNAME": "EmasBinjaiBot",
         "EMAS_TWILIO_WHATSAPP_FROM": "whatsapp:+14155238886"}


def _decoded(png: bytes) -> list[str]:
    """What a QR reader finds in the picture (zxing-cpp, a dev dependency)."""
    zxingcpp = pytest.importorskip("zxingcpp")
    with Image.open(io.BytesIO(png)) as picture:
        return [found.text for found in zxingcpp.read_barcodes(picture)]


def _modules_match(png: bytes, link: str) -> bool:
    """Whether the picture's QR modules are exactly those segno encodes for `link`: each
    module's centre pixel is dark where the library's matrix is."""
    matrix = qr_for(link).matrix
    with Image.open(io.BytesIO(png)) as picture:
        grey = picture.convert("L")
        for row, modules in enumerate(matrix):
            for column, dark in enumerate(modules):
                x = (column + BORDER) * PNG_SCALE + PNG_SCALE // 2
                y = (row + BORDER) * PNG_SCALE + PNG_SCALE // 2
                if (grey.getpixel((x, y)) < 128) != bool(dark):  # type: ignore[operator]
                    return False
    return True


async def test_create_makes_links_and_qr_codes_that_read_back(
        container: Container, settings: Any, tmp_path: Path) -> None:
    out = tmp_path / "poster"
    code, printed = await acli(settings, "source", "create", "SMA Negeri 1 Binjai", "--kind",
                               "school", "--out", str(out), "--json", env=LINKS)
    assert code == 0, printed
    made = json.loads(printed)
    assert re.fullmatch(r"src-[0-9a-z]{6}", made["code"])
    assert (made["name"], made["kind"]) == ("SMA Negeri 1 Binjai", "school")
    assert made["telegram"] == f"https://t.me/EmasBinjaiBot?start={made['code']}"
    wa = urlsplit(made["whatsapp"])
    assert (wa.netloc, wa.path) == ("wa.me", "/14155238886")
    assert made["code"] in parse_qs(wa.query)["text"][0]
    for channel in ("telegram", "whatsapp"):
        files = made["qr"][channel]
        png, svg = Path(files["png"]), Path(files["svg"])
        assert png.parent == out and svg.parent == out
        data = await asyncio.to_thread(png.read_bytes)
        assert _modules_match(data, made[channel])
        assert _decoded(data) == [made[channel]]
        with Image.open(io.BytesIO(data)) as picture:
            assert picture.format == "PNG" and picture.height > picture.width  # the caption
        text = await asyncio.to_thread(svg.read_text, encoding="utf-8")
        root = ET.fromstring(text.encode())  # well-formed SVG
        assert root.tag == "{http://www.w3.org/2000/svg}svg"
        # The code drawn is the library's own for the link, and the name is under it.
        assert qr_for(made[channel]).svg_inline(scale=SVG_SCALE, border=BORDER, dark="#000",
                                                light="#fff") in text
        captions = [t.text for t in root.iter("{http://www.w3.org/2000/svg}text")]
        assert "SMA Negeri 1 Binjai" in " ".join(c or "" for c in captions)

    # The Telegram link, opened: the bot reads the code from /start.
    chat = TerminalChat(container.engine, user_key="siswa-1")
    await chat.say(f"/start {made['code']}")
    code, listed = await acli(settings, "source", "list", "--json")
    assert code == 0
    [row] = json.loads(listed)
    assert (row["code"], row["joins"], row["residents"], row["first_reports"]) == (
        made["code"], 1, 1, 0)


async def test_the_data_folder_is_the_default_and_qr_writes_again(
        container: Container, settings: Any) -> None:
    code, printed = await acli(settings, "source", "create", "Instagram Diskominfo", "--kind",
                               "social", env={"EMAS_TWILIO_WHATSAPP_FROM": "+14155238886"})
    assert code == 0, printed
    found = re.search(r"source (src-[0-9a-z]{6})", printed)
    assert found and "whatsapp: https://wa.me/14155238886?text=" in printed
    assert "telegram" not in printed  # no bot username: no Telegram link
    folder = settings.data_dir / "sources"
    png = folder / f"{found.group(1)}-whatsapp.png"
    assert png.is_file()
    png.unlink()
    code, printed = await acli(settings, "source", "qr", found.group(1), env=LINKS)
    assert code == 0, printed
    assert png.is_file() and (folder / f"{found.group(1)}-telegram.svg").is_file()


@pytest.mark.parametrize(("args", "env", "says"), [
    (["source", "create", "Spanduk", "--kind", "poster"], {}, "EMAS_TELEGRAM_BOT_USERNAME"),
    (["source", "create", "Spanduk", "--kind", "billboard"], LINKS, "Invalid value"),
    (["source", "create", "   ", "--kind", "poster"], LINKS, "needs a name"),
    (["source", "create", "x" * 81, "--kind", "poster"], LINKS, "longer than 80"),
    (["source", "qr", "src-nope00"], LINKS, "no source with the code"),
])
async def test_operator_mistakes_are_told_in_one_line(
        container: Container, settings: Any, args: list[str], env: dict[str, str],
        says: str) -> None:
    code, printed = await acli(settings, *args, env=env)
    assert code != 0 and says in printed
    assert "Traceback" not in printed


async def test_two_sources_never_share_a_name(container: Container, settings: Any) -> None:
    first = await acli(settings, "source", "create", "Car Free Day", "--kind", "event",
                       env=LINKS)
    again = await acli(settings, "source", "create", "car free  day", "--kind", "event",
                       env=LINKS)
    assert first[0] == 0 and again[0] == 1 and "exists already" in again[1]
    code, listed = await acli(settings, "source", "list")
    assert code == 0 and listed.count("Car Free Day") == 1 and "0 joins" in listed


async def test_the_evaluation_counts_suggestions_per_theme(container: Container,
                                                           settings: Any) -> None:
    from agencies_kit import person
    from broadcasts.suggestions import SuggestionService
    from cli_kit import emas

    for user, theme, app in (("w1", "bot", None), ("w2", "app", "e-pbb"),
                             ("w3", "app", "e-pbb")):
        who = await person(container, user)
        async with container.db.session() as session:
            await SuggestionService(session=session, now=container.engine.clock).submit(
                identity_id=who.id, channel="terminal", theme=theme, app=app,
                text="Saran yang cukup panjang untuk kota")
    period = ("evaluate", "--from", "2026-12-07", "--to", "2026-12-13")
    as_json = await emas(settings, *period, "--json")
    assert as_json.exit_code == 0, as_json.output
    assert json.loads(as_json.output)["suggestions"] == {"bot": 1, "app:e-pbb": 2}
    as_csv = await emas(settings, *period, "--csv")
    assert "suggestions_by_theme,app:e-pbb,Aplikasi: e-PBB,count,2" in as_csv.output
    as_text = await emas(settings, *period)
    assert "suggestions from residents: 3 (app:e-pbb 2, bot 1)" in as_text.output
    earlier = await emas(settings, "evaluate", "--from", "2026-11-30", "--to", "2026-12-06",
                         "--json")
    assert json.loads(earlier.output)["suggestions"] == {}
