"""Pieces several flows share: the standard options and the words for navigation."""

from __future__ import annotations

from bot.i18n import _
from bot.messages import Option

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
