"""Pieces several flows share: the standard options and the words for navigation."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TypeVar

from bot.i18n import _
from bot.messages import Option
from storage.city import City

T = TypeVar("T")

CANCEL_WORDS = frozenset({"batal", "cancel", "/batal", "/cancel", "stop flow"})
BACK_WORDS = frozenset({"kembali", "back", "/kembali", "/back"})
MENU_WORDS = frozenset({"menu", "/menu", "menu utama", "main menu"})


def opt_back() -> Option:
    return Option("nav:back", _("⬅️ Back"))


def opt_cancel() -> Option:
    return Option("nav:cancel", _("✖️ Cancel"))


def opt_menu() -> Option:
    return Option("nav:menu", _("🏠 Main menu"))


def nav_options() -> list[Option]:
    return [opt_back(), opt_cancel()]


def mark(on: bool) -> str:
    """The box before a choice that can be switched on and off."""
    return "✅ " if on else "⬜ "


def kelurahan_options(city: City, codes: Iterable[str], prefix: str) -> list[Option]:
    """Kelurahan a typed name could mean, each with its kecamatan, as options `prefix:code`."""
    options = []
    for code in codes:
        kel = city.kelurahan(code)
        kec = city.kecamatan_by_code(kel.kecamatan_code)
        options.append(Option(f"{prefix}:{code}", f"{kel.name} ({kec.name if kec else ''})"))
    return options


def emergency_text(city: City) -> str:
    """The numbers to call in an emergency, before anything else."""
    lines = [_("🚨 For an emergency, call now:")]
    lines += [f"• {n.number}: {n.name()}" for n in city.emergency_numbers]
    lines += ["", _("When everyone is safe, you can still file a report here.")]
    return "\n".join(lines)


def screen(items: Sequence[T], page: int | None, size: int) -> tuple[list[T], int | None]:
    """One screen of a picker too long for a message: the items on `page` (counted round), and
    the page its "Lainnya ›" leads to: None when all fit on one, 0 from the last screen."""
    pages = max(1, -(-len(items) // size))
    page = (page or 0) % pages
    return list(items[page * size:(page + 1) * size]), None if pages == 1 else (page + 1) % pages


def more_option(option_id: str, following: int) -> Option:
    """The button to the next screen of a picker that goes round: back to the first from the
    last."""
    return Option(option_id, _("Other ›") if following else _("‹ Back to the first"))
