"""Typed state a flow keeps between messages, as plain JSON in the conversation row."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Self

from pydantic import BaseModel, ConfigDict, PlainSerializer, ValidationError

from bot.messages import Option

if TYPE_CHECKING:
    from bot.flows.base import Ctx
    from storage.media import StoredMedia

logger = logging.getLogger(__name__)


# A moment, stored as `datetime.isoformat()` wrote it ("2026-12-07T02:00:00+00:00").
Moment = Annotated[datetime, PlainSerializer(datetime.isoformat, return_type=str)]


class FlowState(BaseModel):
    """One flow's state, read from the conversation once per event and written back by the
    engine (`Ctx.flush`) as plain JSON, in the keys earlier versions stored."""

    # Keys this version does not know (written by another version) are kept as they are.
    model_config = ConfigDict(extra="allow")

    # The state's key in the conversation's JSON; None when its fields are keys there
    # themselves (a flow that keeps only a value or two).
    key: ClassVar[str | None] = None

    @classmethod
    def get(cls, ctx: Ctx) -> Self | None:
        """This flow's state in the conversation, if it has one."""
        if cls not in ctx.states:
            raw: Any
            if cls.key is None:
                raw = {name: ctx.data[name] for name in cls._json_keys() if name in ctx.data}
            else:
                raw = ctx.data.get(cls.key)
            try:
                ctx.states[cls] = cls.model_validate(raw) if raw else None
            except ValidationError:
                # Better a fresh start than a conversation stuck on every message.
                logger.warning("%s in the conversation could not be read; dropped",
                               cls.__name__)
                ctx.states[cls] = None
        state: Self | None = ctx.states[cls]
        return state

    @classmethod
    def start(cls, ctx: Ctx, **values: Any) -> Self:
        """A new state, replacing any kept before."""
        state = cls(**values)
        ctx.states[cls] = state
        return state

    @classmethod
    def kept(cls, ctx: Ctx) -> Self:
        """The state kept, or a new one."""
        return cls.get(ctx) or cls.start(ctx)

    @classmethod
    def drop(cls, ctx: Ctx) -> None:
        ctx.states[cls] = None

    @classmethod
    def write(cls, state: FlowState | None, data: dict[str, Any]) -> None:
        """Put `state` (None: no state) into the conversation's JSON `data`."""
        values = state.dump() if state is not None else {}
        if cls.key is not None:
            if values:
                data[cls.key] = values
            else:
                data.pop(cls.key, None)
            return
        for name in cls._json_keys():
            if name in values:
                data[name] = values[name]
            else:
                data.pop(name, None)

    def dump(self) -> dict[str, Any]:
        """The state as the conversation's JSON keeps it."""
        return self.model_dump(mode="json", by_alias=True, exclude_none=True)

    @classmethod
    def _json_keys(cls) -> list[str]:
        return [field.alias or name for name, field in cls.model_fields.items()]


# The key of the router's bookkeeping (Navigation) in the conversation's JSON, and the keys
# versions before it was typed kept its parts in, among the flows' own keys.
NAV_KEY = "nav"
_OLD_NAV_KEYS = {"options": "_options", "stack": "_stack"}
# How many steps back a resident can go within a flow.
STACK_DEPTH = 20


class Navigation(BaseModel):
    """The router's bookkeeping of a conversation, kept beside the flows' states: the options
    last offered (so that a typed number or label is understood next) and the states of the
    current flow to go back to."""

    # Keys this version does not know (written by another version) are kept as they are.
    model_config = ConfigDict(extra="allow")

    # The options last offered in the resident's own chat, as (id, label).
    options: list[tuple[str, str]] = []
    # The states of the current flow that led here, the latest last.
    stack: list[str] = []

    @classmethod
    def take(cls, data: dict[str, Any]) -> Navigation:
        """Read the bookkeeping out of the conversation's JSON `data`, removing its keys there.

        A conversation stored before it was typed has it as the keys "_options" and "_stack";
        when either is there, it was written after any typed version (which removes them), so
        those keys are what counts."""
        stored = data.pop(NAV_KEY, None)
        old = {name: data.pop(key) or [] for name, key in _OLD_NAV_KEYS.items() if key in data}
        try:
            return cls.model_validate(old or stored or {})
        except ValidationError:
            # Worse than a fresh list of options is a conversation stuck on every message.
            logger.warning("the conversation's navigation could not be read; dropped")
            return cls()

    def write(self, data: dict[str, Any]) -> None:
        """Put the bookkeeping into the conversation's JSON `data` (nothing when empty)."""
        values = self.model_dump(mode="json", exclude_defaults=True)
        if values:
            data[NAV_KEY] = values
        else:
            data.pop(NAV_KEY, None)

    def offer(self, options: list[Option]) -> None:
        self.options = [(o.id, o.label) for o in options]

    def offered(self) -> list[Option]:
        return [Option(id=i, label=label) for i, label in self.options]

    def push(self, state: str) -> None:
        self.stack.append(state)
        del self.stack[:-STACK_DEPTH]

    def pop(self) -> str | None:
        return self.stack.pop() if self.stack else None


class StoredPhoto(BaseModel):
    """A photo kept in the media store, as the report will list it."""

    path: str
    content_type: str
    size: int
    sha256: str

    @classmethod
    def of(cls, stored: StoredMedia) -> StoredPhoto:
        return cls(path=stored.path, content_type=stored.content_type, size=stored.size,
                   sha256=stored.sha256)


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
    # Photos still arriving (`photo_fetch` ids): attached to the report when they are in.
    pending_photos: list[int] | None = None
    # A voice note, for the staff handling the report to hear (never shown to the public).
    voice: StoredPhoto | None = None
    anonymous: bool | None = None
    # The page of categories being looked through after "Other".
    category_page: int | None = None
    # Open reports like this one, offered to support instead; shown once.
    similar: list[int] | None = None
    similar_seen: bool | None = None
    saved_at: Moment | None = None
    # Where the resident left the report, to continue there.
    state: str | None = None
    # The step whose very short answer was met with a request for more; a second short answer
    # there is taken as it is.
    nudged: str | None = None
    # While the resident is asked whether to throw the draft away: what then ("cancel" or
    # "new", a fresh report).
    discarding: str | None = None
