"""The gettext catalogs: the template matches the code, and Indonesian is complete and sound."""

from __future__ import annotations

import io
import re
import string
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[3]
LOCALE = ROOT / "bot" / "i18n" / "locale"
CODE = ("bot", "reports", "broadcasts", "faq", "storage", "content", "web")
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "N_": None}
METHODS = [("**.py", "python"), ("**/templates/**.html", "jinja2")]
OPTIONS = {"**/templates/**.html": {"extensions": "jinja2.ext.i18n"}}


def _ids(catalog: Catalog) -> set[object]:
    return {m.id for m in catalog if m.id}


def _extracted() -> set[object]:
    found: set[object] = set()
    for folder in CODE:
        for _file, _line, message, _comments, _ctx in extract_from_dir(
            str(ROOT / folder), method_map=METHODS, options_map=OPTIONS, keywords=KEYWORDS
        ):
            found.add(message if isinstance(message, str) else message[0]
                      if len(message) == 1 else message[0])
    return found


def _read(path: Path, locale: str | None = None) -> Catalog:
    with path.open("rb") as fh:
        return read_po(fh, locale=locale)


def _fields(text: object) -> set[str]:
    texts = text if isinstance(text, tuple | list) else (text,)
    return {f for t in texts for _lit, f, _spec, _conv in string.Formatter().parse(str(t))
            if f is not None}


def test_template_lists_every_message_in_the_code() -> None:
    template = {m if isinstance(m, str) else m[0] for m in _ids(_read(LOCALE / "messages.pot"))}
    code = _extracted()
    assert sorted(map(str, code - template)) == [], "run `make i18n-update`"
    assert sorted(map(str, template - code)) == [], "run `make i18n-update`"


@pytest.fixture(scope="module")
def indonesian() -> Catalog:
    return _read(LOCALE / "id" / "LC_MESSAGES" / "messages.po", "id")


def test_indonesian_translates_every_message(indonesian: Catalog) -> None:
    template = _ids(_read(LOCALE / "messages.pot"))
    assert sorted(map(str, template - _ids(indonesian))) == []
    empty = [m.id for m in indonesian if m.id and not (
        all(m.string) if isinstance(m.string, tuple | list) else m.string)]
    assert empty == []
    assert [m.id for m in indonesian if m.id and m.fuzzy] == []


def test_indonesian_keeps_every_placeholder(indonesian: Catalog) -> None:
    broken = [m.id for m in indonesian if m.id and _fields(m.id) != _fields(m.string)]
    assert broken == []


def test_indonesian_compiles(indonesian: Catalog) -> None:
    write_mo(io.BytesIO(), indonesian)


def test_indonesian_speaks_with_one_form_of_address_and_channel_neutral_verbs(
        indonesian: Catalog) -> None:
    """Residents are "Bapak/Ibu" throughout, never "Anda" in the same conversation; "ketuk"
    (tap) would be wrong on WhatsApp, where residents reply with a number, so the catalog
    says "pilih"."""
    strings = [s for m in indonesian if m.id
               for s in (m.string if isinstance(m.string, tuple | list) else (m.string,))]
    assert [s for s in strings if re.search(r"\bAnda\b", s)] == []
    assert [s for s in strings if re.search(r"\bketuk\b", s, re.IGNORECASE)] == []
    assert sum("Bapak/Ibu" in s for s in strings) > 50
