"""Outreach as people read it: suggestion themes and the answer to a suggestion, the kinds of
tracked source, the words a source's WhatsApp link opens the chat with, and the suggestions'
rows for the evaluation's table (beside the agencies' figures of reports.evaluation)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.i18n import N_, _, format_date, use_locale
from broadcasts.outreach import OutreachPack
from broadcasts.suggestions import THEMES, suggestion_counts

# What a suggestion is about, as the resident picks it (with an emoji) and as staff read it.
THEME_OPTIONS = {
    "service": N_("🏛 A city service"),
    "app": N_("📱 A city app"),
    "bot": N_("🤖 This bot"),
    "other": N_("💬 Something else"),
}
THEME_NAMES = {
    "service": N_("City services"),
    "app": N_("City apps"),
    "bot": N_("This bot"),
    "other": N_("Other"),
}
SOURCE_KIND_NAMES = {
    "poster": N_("Poster or banner"),
    "school": N_("School or campus"),
    "event": N_("Event"),
    "social": N_("Social media"),
}
# How much of the suggestion is repeated above the answer, so the resident knows which it is.
QUOTE_MAX = 200


def theme_option(theme: str) -> str:
    return _(THEME_OPTIONS[theme]) if theme in THEME_OPTIONS else theme


def theme_name(key: str, pack: OutreachPack) -> str:
    """A counted theme ("service", "app:e-pbb", ...) as staff read it."""
    theme, _sep, app = key.partition(":")
    if theme == "app" and app:
        found = pack.app(app)
        return _("App: {name}").format(name=found.name() if found else app)
    return _(THEME_NAMES[theme]) if theme in THEME_NAMES else key


def theme_names(keys: list[str], pack: OutreachPack) -> dict[str, str]:
    return {key: theme_name(key, pack) for key in keys}


def theme_choices(pack: OutreachPack) -> list[tuple[str, str]]:
    """Every theme key a filter can choose, with its name: each app of the pack after "app"."""
    out: list[tuple[str, str]] = []
    for theme in THEMES:
        out.append((theme, theme_name(theme, pack)))
        if theme == "app":
            out += [(f"app:{a.key}", theme_name(f"app:{a.key}", pack)) for a in pack.apps]
    return out


def source_kind_name(kind: str) -> str:
    return _(SOURCE_KIND_NAMES[kind]) if kind in SOURCE_KIND_NAMES else kind


def suggestion_reply_text(*, number: int, sent: datetime, suggestion: str, reply: str) -> str:
    """The city's answer as the resident reads it (call inside their locale)."""
    quoted = suggestion if len(suggestion) <= QUOTE_MAX else \
        suggestion[:QUOTE_MAX - 1].rstrip() + "\u2026"
    return _("💬 The city government's answer to your suggestion #{id} of {date}:\n"
             "\u201c{suggestion}\u201d\n\n{reply}").format(
        id=number, date=format_date(sent), suggestion=quoted, reply=reply)


def whatsapp_join_text(code: str) -> str:
    """The words a source's WhatsApp link opens the chat with, in the residents' language: the
    bot finds the code in them."""
    with use_locale("id"):
        return _("Hello e-Masyarakat! (code {code})").format(code=code)


def suggestion_rows(counts: dict[str, int], pack: OutreachPack) -> list[list[Any]]:
    """Suggestions per theme as rows of the evaluation's flat table (section, key, name,
    metric, value); names in the city's language, as the table names categories."""
    with use_locale("id"):
        names = theme_names(list(counts), pack)
        rows: list[list[Any]] = [["suggestions", "", "", "total", sum(counts.values())]]
        rows += [["suggestions_by_theme", row["key"], row["name"], "count", row["count"]]
                 for row in suggestion_counts(counts, names)]
    return rows
