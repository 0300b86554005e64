"""Translations: the locale lives in a ContextVar set once per event; gettext reads it."""

from __future__ import annotations

import gettext as _gettext
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import NamedTuple
from zoneinfo import ZoneInfo

from babel.dates import format_date as _format_date
from babel.dates import format_datetime as _format_datetime
from babel.numbers import format_decimal as _format_decimal

LOCALES = ("id", "en")
DEFAULT_LOCALE = "id"
DOMAIN = "messages"
LOCALE_DIR = Path(__file__).parent / "locale"
TZ = ZoneInfo("Asia/Jakarta")

logger = logging.getLogger(__name__)

_current: ContextVar[str] = ContextVar("emas_locale", default=DEFAULT_LOCALE)


@cache
def _translations(locale: str) -> _gettext.NullTranslations:
    try:
        return _gettext.translation(DOMAIN, localedir=LOCALE_DIR, languages=[locale])
    except FileNotFoundError:
        if locale != "en":  # msgids are English: English needs no catalog
            # An install without compiled catalogs still answers, in English, and says why
            # once (the cache keeps this from repeating).
            logger.warning("no compiled %r catalog in %s: answering in English (build the "
                           "catalogs with `make i18n-compile` or reinstall the package)",
                           locale, LOCALE_DIR)
        return _gettext.NullTranslations()


def normalize_locale(hint: str | None) -> str | None:
    """Map a channel's language hint ("id", "en-US", "in") to a supported locale, or None."""
    if not hint:
        return None
    base = hint.replace("_", "-").split("-")[0].lower()
    if base == "in":  # the old ISO code some phones still send for Indonesian
        base = "id"
    return base if base in LOCALES else None


def get_locale() -> str:
    return _current.get()


@contextmanager
def use_locale(locale: str | None) -> Iterator[str]:
    """Run a block in one locale (an event, a notification to another person)."""
    token = _current.set(normalize_locale(locale) or DEFAULT_LOCALE)
    try:
        yield _current.get()
    finally:
        _current.reset(token)


def set_locale(locale: str | None) -> None:
    _current.set(normalize_locale(locale) or DEFAULT_LOCALE)


def gettext(message: str) -> str:
    return _translations(_current.get()).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    return _translations(_current.get()).ngettext(singular, plural, n)


def N_(message: str) -> str:
    """Mark a module-level constant for extraction; translate it with `_()` where it is used."""
    return message


_ = gettext


def reload_translations() -> None:
    _translations.cache_clear()


# A moment as people in Binjai write it: "Senin, 7 Des 2026 14.05" (no seconds, WIB), and a day
# as "Kamis, 10 Des 2026". As Babel patterns (what format_datetime and format_date write by
# default, from the locale's names; tests hold the two to each other):
MOMENT = {"id": "EEEE, d MMM y HH.mm", "en": "EEEE, d MMM y HH:mm"}
DAY = "EEEE, d MMM y"


class _Names(NamedTuple):
    days: tuple[str, ...]  # Monday first, as datetime.weekday()
    months: tuple[str, ...]  # 1 to 12 (0 unused)
    clock: str  # between hours and minutes


@cache
def _names(locale: str) -> _Names:
    from babel import Locale

    names = Locale.parse(locale)
    return _Names(days=tuple(names.days["format"]["wide"][i] for i in range(7)),
                  months=("",) + tuple(names.months["format"]["abbreviated"][m]
                                       for m in range(1, 13)),
                  clock=MOMENT.get(locale, MOMENT[DEFAULT_LOCALE])[-3])


def format_datetime(value: datetime, *, fmt: str | None = None) -> str:
    """A timestamp as residents read it: Asia/Jakarta (WIB), in the current locale."""
    locale = _current.get()
    if fmt is None:
        # The console's lists show hundreds of these per page: Babel's pattern engine costs
        # about 0.1 ms each, the locale's names looked up once cost almost nothing.
        names = _names(locale)
        if value.tzinfo is None:  # as Babel reads a naive time: UTC
            value = value.replace(tzinfo=UTC)
        local = value.astimezone(TZ)
        return (f"{names.days[local.weekday()]}, {local.day} {names.months[local.month]} "
                f"{local.year} {local.hour:02d}{names.clock}{local.minute:02d} WIB")
    return _format_datetime(value, format=fmt, tzinfo=TZ, locale=locale) + " WIB"


def format_date(value: datetime, *, fmt: str | None = None) -> str:
    """A day (in WIB), by default with its weekday: "Kamis, 10 Des 2026"."""
    locale = _current.get()
    day = value.astimezone(TZ).date()
    if fmt is None:
        names = _names(locale)
        return f"{names.days[day.weekday()]}, {day.day} {names.months[day.month]} {day.year}"
    return _format_date(day, format=fmt, locale=locale)


def format_number(value: float) -> str:
    return _format_decimal(value, locale=_current.get())
