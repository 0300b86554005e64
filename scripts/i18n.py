"""The Babel workflow: extract → update → fill → compile, and the CI check.

    python scripts/i18n.py update   # refresh the template and both catalogs, merge pending/
    python scripts/i18n.py compile  # build the .mo files
    python scripts/i18n.py check    # fail when the template is stale or a catalog is incomplete

English msgids are the English text, so the `en` catalog is filled with the msgid itself.
Translations written in `src/emas/locale/pending/*.po` are merged into `id` by `update`.
"""

from __future__ import annotations

import fcntl
import io
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parents[1]
PKG = ROOT / "src" / "emas"
LOCALE_DIR = PKG / "locale"
POT = LOCALE_DIR / "messages.pot"
PENDING = LOCALE_DIR / "pending"
LOCALES = ("id", "en")
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "N_": None}


def _po_path(locale: str) -> Path:
    return LOCALE_DIR / locale / "LC_MESSAGES" / "messages.po"


@contextmanager
def _locked() -> Iterator[None]:
    LOCALE_DIR.mkdir(parents=True, exist_ok=True)
    with open(LOCALE_DIR / ".lock", "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def extract() -> Catalog:
    catalog = Catalog(project="emas", version="0.1", charset="utf-8")
    method_map = [("**.py", "python")]
    for filename, lineno, message, comments, context in extract_from_dir(
        str(PKG), method_map=method_map, keywords=KEYWORDS, comment_tags=("TRANSLATORS:",)
    ):
        catalog.add(message, None, [(f"src/emas/{filename}", lineno)], auto_comments=comments,
                    context=context)
    return catalog


def _write(catalog: Catalog, path: Path, *, locations: bool = True) -> None:
    buf = io.BytesIO()
    write_po(buf, catalog, width=100, omit_header=False, no_location=not locations,
             sort_output=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(buf.getvalue())


def _read(path: Path, locale: str | None = None) -> Catalog:
    with open(path, "rb") as fh:
        return read_po(fh, locale=locale)


def _pending() -> dict[object, object]:
    found: dict[object, object] = {}
    if PENDING.is_dir():
        for path in sorted(PENDING.glob("*.po")):
            for msg in _read(path, "id"):
                if msg.id and msg.string and (not isinstance(msg.string, tuple) or all(msg.string)):
                    found[msg.id] = msg.string
    return found


def _template_text(catalog: Catalog) -> bytes:
    buf = io.BytesIO()
    write_po(buf, catalog, width=100, omit_header=True, no_location=True, sort_output=True)
    return buf.getvalue()


def update() -> None:
    with _locked():
        template = extract()
        _write(template, POT, locations=False)
        pending = _pending()
        for locale in LOCALES:
            path = _po_path(locale)
            catalog = _read(path, locale) if path.exists() else Catalog(locale=locale)
            catalog.locale = locale  # type: ignore[assignment]
            catalog.update(template, no_fuzzy_matching=True)
            for msg in catalog:
                if not msg.id:
                    continue
                if locale == "en":
                    msg.string = msg.id
                elif msg.id in pending and not _complete(msg.string):
                    msg.string = pending[msg.id]
                msg.flags.discard("fuzzy")
            catalog.obsolete.clear()
            _write(catalog, path, locations=False)
    missing = _missing()
    if missing:
        print(f"{len(missing)} Indonesian translation(s) missing:")
        for msgid in missing[:50]:
            print("  ", repr(msgid))


def _complete(value: object) -> bool:
    if isinstance(value, tuple | list):
        return all(value)
    return bool(value)


def _missing() -> list[str]:
    path = _po_path("id")
    if not path.exists():
        return ["<no id catalog>"]
    return [str(m.id) for m in _read(path, "id") if m.id and not _complete(m.string)]


def compile_all() -> None:
    for locale in LOCALES:
        path = _po_path(locale)
        catalog = _read(path, locale)
        with open(path.with_suffix(".mo"), "wb") as fh:
            write_mo(fh, catalog)


def check() -> int:
    problems: list[str] = []
    current = _template_text(extract())
    stored = _template_text(_read(POT)) if POT.exists() else b""
    if current != stored:
        problems.append("messages.pot is stale: run `python scripts/i18n.py update`")
    template_ids = {m.id for m in extract() if m.id}
    for locale in LOCALES:
        path = _po_path(locale)
        if not path.exists():
            problems.append(f"{locale}: catalog missing")
            continue
        catalog = _read(path, locale)
        ids = {m.id for m in catalog if m.id}
        if template_ids - ids:
            problems.append(f"{locale}: {len(template_ids - ids)} message(s) not in the catalog")
        empty = [m.id for m in catalog if m.id and not _complete(m.string)]
        if empty:
            problems.append(f"{locale}: {len(empty)} untranslated, e.g. {empty[0]!r}")
        fuzzy = [m.id for m in catalog if m.id and m.fuzzy]
        if fuzzy:
            problems.append(f"{locale}: {len(fuzzy)} fuzzy, e.g. {fuzzy[0]!r}")
        result = subprocess.run(
            ["msgfmt", "--check-format", "-o", "/dev/null", str(path)],
            capture_output=True, text=True,
        ) if _have_msgfmt() else None
        if result is not None and result.returncode != 0:
            problems.append(f"{locale}: msgfmt: {result.stderr.strip()[:500]}")
        try:
            write_mo(io.BytesIO(), catalog)
        except Exception as exc:  # a catalog that does not compile is refused
            problems.append(f"{locale}: does not compile: {exc}")
        for msg in catalog:
            if msg.id and _complete(msg.string) and not _same_placeholders(msg.id, msg.string):
                problems.append(f"{locale}: placeholders differ in {msg.id!r}")
    for p in problems:
        print("i18n:", p)
    if not problems:
        print("i18n: catalogs complete")
    return 1 if problems else 0


def _placeholders(text: object) -> set[str]:
    import string

    texts = text if isinstance(text, tuple | list) else (text,)
    names: set[str] = set()
    for t in texts:
        for _lit, field, _spec, _conv in string.Formatter().parse(str(t)):
            if field is not None:
                names.add(field)
    return names


def _same_placeholders(msgid: object, msgstr: object) -> bool:
    try:
        return _placeholders(msgid) == _placeholders(msgstr)
    except ValueError:
        return False


def _have_msgfmt() -> bool:
    from shutil import which

    return which("msgfmt") is not None


def main(argv: list[str]) -> int:
    cmd = argv[1] if len(argv) > 1 else "check"
    if cmd == "update":
        update()
        compile_all()
        return 0
    if cmd == "compile":
        compile_all()
        return 0
    if cmd == "check":
        return check()
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
