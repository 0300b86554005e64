"""Suggestions to the city government ("Saran untuk Pemkot"): residents say what could be better
about a city service, an app, this bot or anything else; Kominfo reads them by theme and
kelurahan and may answer each once, through the resident's chat.

Listening, like polls, is part of sosialisasi: a suggestion is no complaint (no agency, no
deadline, no lifecycle), so it lives here beside the campaigns and polls, not with the reports.
It is counted per theme in the evaluation beside the agencies' figures by the layer above the
domains, which joins the two.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from broadcasts.outreach import OutreachService
from storage import repo_outreach as repo
from storage.models.outreach import Suggestion
from storage.repo_outreach import SuggestionFilter

# What a suggestion is about; "app" may name one of the city pack's apps.
THEMES = ("service", "app", "bot", "other")
TEXT_MIN = 10
TEXT_MAX = 1000
REPLY_MAX = 1000
# Suggestions one resident may send in a day: listening, not a channel for floods.
PER_DAY = 5


class SuggestionError(ValueError):
    """A suggestion or a reply cannot be taken; `code` says why ("theme", "short", "long",
    "limit", "missing", "replied", "empty")."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


@dataclass(frozen=True, slots=True)
class Replied:
    """A reply stored: to whom it goes (the bot layer words it and writes it to the outbox)."""

    suggestion: Suggestion
    identity_id: int


def theme_key(theme: str, app: str | None) -> str:
    """The key a suggestion is counted under: "app:e-pbb" for one app, else the theme."""
    return f"app:{app}" if theme == "app" and app else theme


class SuggestionService:
    def __init__(self, *, session: AsyncSession, now: Callable[[], datetime]) -> None:
        self.session = session
        self.now = now

    async def submit(self, *, identity_id: int, channel: str, theme: str, app: str | None,
                     text: str) -> Suggestion:
        """Keep a resident's suggestion, with their kelurahan when the bot knows it."""
        cleaned = text.strip()
        if theme not in THEMES:
            raise SuggestionError("theme")
        if len(cleaned) < TEXT_MIN:
            raise SuggestionError("short")
        if len(cleaned) > TEXT_MAX:
            raise SuggestionError("long")
        if await self.over_limit(identity_id):
            raise SuggestionError("limit")
        kelurahan = await OutreachService(session=self.session, now=self.now).kelurahan_of(
            identity_id)
        return await repo.add_suggestion(session=self.session, suggestion=Suggestion(
            identity_id=identity_id, channel=channel, theme=theme,
            app=app if theme == "app" else None, text=cleaned, kelurahan_code=kelurahan,
            created_at=self.now()))

    async def over_limit(self, identity_id: int) -> bool:
        since = self.now() - timedelta(days=1)
        return await repo.count_suggestions_since(session=self.session,
                                                  identity_id=identity_id,
                                                  since=since) >= PER_DAY

    async def get(self, suggestion_id: int) -> Suggestion | None:
        return await repo.get_suggestion(session=self.session, suggestion_id=suggestion_id)

    async def listing(self, where: SuggestionFilter, *, before_id: int | None = None,
                      limit: int = 50) -> list[Suggestion]:
        return list(await repo.list_suggestions(session=self.session, where=where,
                                                before_id=before_id, limit=limit))

    async def by_theme(self, where: SuggestionFilter) -> dict[str, int]:
        """Counts per theme key ("service", "app:e-pbb", "app", "bot", "other")."""
        counted: Counter[str] = Counter()
        for theme, app, n in await repo.count_suggestions(session=self.session, where=where,
                                                          by="theme"):
            counted[theme_key(theme, app)] += n
        return dict(counted)

    async def by_kelurahan(self, where: SuggestionFilter) -> dict[str | None, int]:
        return {code: n for code, n in await repo.count_suggestions(
            session=self.session, where=where, by="kelurahan")}

    async def reply(self, suggestion_id: int, *, text: str, staff_id: int) -> Replied:
        """Answer a suggestion, once: a second reply (also one sent at the same moment by
        someone else) is refused."""
        cleaned = text.strip()
        if not cleaned:
            raise SuggestionError("empty")
        if len(cleaned) > REPLY_MAX:
            raise SuggestionError("long")
        found = await self.get(suggestion_id)
        if found is None:
            raise SuggestionError("missing")
        if not await repo.reply_to_suggestion(session=self.session, suggestion_id=suggestion_id,
                                              reply=cleaned, staff_id=staff_id, at=self.now()):
            raise SuggestionError("replied")
        await self.session.refresh(found)
        return Replied(suggestion=found, identity_id=found.identity_id)


def suggestion_counts(counts: dict[str, int], names: dict[str, str]) -> list[dict[str, Any]]:
    """Counts per theme as rows {key, name, count}, the most frequent first."""
    rows = [{"key": key, "name": names.get(key, key), "count": n} for key, n in counts.items()]
    return sorted(rows, key=lambda r: (-r["count"], r["name"]))
