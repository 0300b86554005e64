"""Jinja2 for the web pages: autoescaped, translated through the bot's gettext catalogs (the
same `.po` files as the chat), times in WIB as people write them."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from bot.i18n import format_date, format_datetime, format_number, gettext, ngettext


def _wib(value: datetime | None) -> str:
    return format_datetime(value) if value is not None else ""


def _day(value: datetime | None) -> str:
    return format_date(value) if value is not None else ""


def make_templates(*folders: Path) -> Jinja2Templates:
    env = Environment(
        loader=FileSystemLoader([str(f) for f in folders]),
        autoescape=select_autoescape(["html", "xml"]),
        undefined=StrictUndefined,
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    # New-style gettext: {{ _("Hello %(name)s", name=x) }} escapes the values it fills in.
    env.install_gettext_callables(gettext, ngettext, newstyle=True)  # type: ignore[attr-defined]
    env.filters["wib"] = _wib
    env.filters["day"] = _day
    env.filters["number"] = format_number
    return Jinja2Templates(env=env)
