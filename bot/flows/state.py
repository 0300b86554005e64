"""Typed state a flow keeps between messages, stored in the conversation's JSON under one key."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar, Self

from pydantic import BaseModel, ConfigDict, field_serializer

if TYPE_CHECKING:
    from bot.flows.base import Ctx


class FlowState(BaseModel):
    """One flow's state. Read from the conversation once per event; written back by the
    engine (`Ctx.flush`) as plain JSON under `key`, in the keys earlier versions stored."""

    # Keys this version does not know (written by another version) are kept as they are.
    model_config = ConfigDict(extra="allow")

    key: ClassVar[str]

    @classmethod
    def get(cls, ctx: Ctx) -> Self | None:
        """This flow's state in the conversation, if it has one."""
        if cls.key not in ctx.states:
            raw = ctx.data.get(cls.key)
            ctx.states[cls.key] = cls.model_validate(raw) if raw else None
        state: Self | None = ctx.states[cls.key]
        return state

    @classmethod
    def start(cls, ctx: Ctx, **values: Any) -> Self:
        """A new state, replacing any kept before."""
        state = cls(**values)
        ctx.states[cls.key] = state
        return state

    @classmethod
    def drop(cls, ctx: Ctx) -> None:
        ctx.states[cls.key] = None

    def dump(self) -> dict[str, Any]:
        return self.model_dump(mode="json", exclude_none=True)


class StoredPhoto(BaseModel):
    """A photo kept in the media store, as the report will list it."""

    path: str
    content_type: str
    size: int
    sha256: str


class ReportDraft(FlowState):
    """A report being filed (kept as a draft to continue later when the resident leaves)."""

    key = "draft"

    category: str | None = None
    kecamatan: str | None = None
    kelurahan: str | None = None
    # Kelurahan that a typed name could mean, offered to choose from.
    candidates: list[str] | None = None
    lat: float | None = None
    lon: float | None = None
    address: str | None = None
    description: str | None = None
    photos: list[StoredPhoto] = []
    anonymous: bool | None = None
    # Open reports like this one, offered to support instead; shown once.
    similar: list[int] | None = None
    similar_seen: bool | None = None
    saved_at: datetime | None = None
    # Where the resident left the report, to continue there.
    state: str | None = None

    @field_serializer("saved_at")
    def _iso(self, value: datetime | None) -> str | None:
        return value.isoformat() if value is not None else None
