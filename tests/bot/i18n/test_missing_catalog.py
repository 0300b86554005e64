"""An install whose catalogs were not compiled still answers (in the msgid language) and says
why once, instead of crashing."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

import bot.i18n as i18n


@pytest.fixture
def no_catalogs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(i18n, "LOCALE_DIR", tmp_path)
    i18n.reload_translations()
    yield
    monkeypatch.undo()
    i18n.reload_translations()


def test_without_a_compiled_catalog_the_bot_answers_in_english_and_warns_once(
    no_catalogs: None, caplog: pytest.LogCaptureFixture,
) -> None:
    with i18n.use_locale("id"):
        first = i18n.gettext("Category")
        second = i18n.ngettext("{n} working day left", "{n} working days left", 2)
    assert (first, second) == ("Category", "{n} working days left")
    warnings = [r for r in caplog.records if r.levelname == "WARNING"]
    assert len(warnings) == 1
    assert "no compiled 'id' catalog" in warnings[0].getMessage()


def test_with_the_catalog_the_bot_answers_in_indonesian() -> None:
    with i18n.use_locale("id"):
        assert i18n.gettext("Category") != "Category"
