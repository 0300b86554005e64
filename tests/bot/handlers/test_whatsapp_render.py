"""Replies drawn for WhatsApp: bodies within its length limit, numbered lists, Content templates."""

from __future__ import annotations

from bot.handlers.whatsapp_render import interactive_template, render_body, split_body, utf16_len
from bot.i18n import use_locale
from bot.messages import Option, Reply
from bot.settings import Settings
from chat import id_


def test_splitting_counts_characters_as_whatsapp_does() -> None:
    text = "🙂 " * 1000  # 2,000 characters in Python, 3,000 in UTF-16
    parts = split_body(text.strip())
    assert all(utf16_len(p) <= 1600 for p in parts)
    assert "".join(parts).replace(" ", "") == text.replace(" ", "")


def test_options_are_drawn_as_a_numbered_list() -> None:
    reply = Reply("Pilih kecamatan:", options=[Option("kec:1", "Binjai Kota"),
                                               Option("nav:back", "Kembali")])
    with use_locale("id"):
        body = render_body(reply)
    header = id_("Reply with a number:")
    assert body == f"Pilih kecamatan:\n\n{header}\n1. Binjai Kota\n2. Kembali"


def _settings(**kw: object) -> Settings:
    return Settings(_env_file=None, **kw)  # type: ignore[call-arg, arg-type]


def test_interactive_templates_only_within_whatsapps_limits() -> None:
    settings = _settings(twilio_quick_reply_templates={3: "HX" + "3" * 32},
                         twilio_list_picker_templates={4: "HX" + "4" * 32, 11: "HX" + "b" * 32})
    three = Reply("Kirim?", options=[Option("a", "Kirim"), Option("b", "Ubah"),
                                     Option("c", "Batal")])
    chosen = interactive_template(three, settings)
    assert chosen is not None and chosen[0] == "HX" + "3" * 32
    assert chosen[1]["1"] == "Kirim?" and chosen[1]["5"] == "Ubah" and chosen[1]["6"] == "b"
    long_title = Reply("Kirim?", options=[Option("a", "x" * 21), Option("b", "y"),
                                          Option("c", "z")])
    assert interactive_template(long_title, settings) is None  # button titles: 20 characters
    eleven = Reply("Pilih", options=[Option(str(i), f"Opsi {i}") for i in range(11)])
    assert interactive_template(eleven, settings) is None  # list pickers: 10 items
    asks_location = Reply("Di mana?", options=three.options, request_location=True)
    assert interactive_template(asks_location, settings) is None
