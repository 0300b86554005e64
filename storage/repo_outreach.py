"""Repository functions for outreach: tracked sources and the residents they brought, the
"how did you hear of us" answers, the questions residents asked, suggestions to the city, and
the activity a campaign's impact is measured by."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Integer, cast, exists, func, literal, or_, true, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import Report, Subscriber
from storage.models.outreach import OutreachSource, QuestionAsked, ResidentOrigin, Suggestion
from storage.types import UTCDateTime

# --- sources ---------------------------------------------------------------------------------


async def add_source(*, session: AsyncSession, source: OutreachSource) -> OutreachSource | None:
    """Insert a source; None when its code is taken (the caller draws another)."""
    try:
        async with session.begin_nested():
            session.add(source)
            await session.flush()
    except IntegrityError:
        return None
    return source


async def get_source_by_code(*, session: AsyncSession, code: str) -> OutreachSource | None:
    return (await session.exec(select(OutreachSource).where(
        OutreachSource.code == code))).first()


async def get_source_by_name(*, session: AsyncSession, name: str) -> OutreachSource | None:
    """A source by its name, whatever the letter case."""
    return (await session.exec(select(OutreachSource).where(
        func.lower(OutreachSource.name) == name.lower()))).first()


async def list_sources(*, session: AsyncSession) -> Sequence[OutreachSource]:
    return (await session.exec(select(OutreachSource).order_by(
        col(OutreachSource.created_at), col(OutreachSource.id)))).all()


# --- where residents came from ---------------------------------------------------------------


async def _origin_row(session: AsyncSession, identity_id: int) -> ResidentOrigin:
    """The resident's origin row, created (empty) when there is none yet; two events of one
    resident never run at once (the engine serialises them), but two workers may: a lost
    race reads the row the other wrote."""
    found = await session.get(ResidentOrigin, identity_id)
    if found is not None:
        return found
    try:
        async with session.begin_nested():
            row = ResidentOrigin(identity_id=identity_id)
            session.add(row)
            await session.flush()
            return row
    except IntegrityError:
        again = await session.get(ResidentOrigin, identity_id)
        assert again is not None
        return again


async def attribute_source(*, session: AsyncSession, identity_id: int, source_id: int,
                           at: datetime, joined: bool) -> bool:
    """Attribute the resident to a source unless one already is (first touch wins); True when
    this source was attributed now."""
    await _origin_row(session, identity_id)
    result = await session.exec(  # type: ignore[call-overload]
        update(ResidentOrigin)
        .where(col(ResidentOrigin.identity_id) == identity_id,
               col(ResidentOrigin.source_id).is_(None))
        .values(source_id=source_id, source_at=at, joined=joined)
        .execution_options(synchronize_session=False))
    return bool(result.rowcount == 1)


async def mark_heard_asked(*, session: AsyncSession, identity_id: int, at: datetime) -> None:
    """The resident was asked how they heard of the service (once: the first time stays)."""
    await _origin_row(session, identity_id)
    await session.exec(  # type: ignore[call-overload]
        update(ResidentOrigin)
        .where(col(ResidentOrigin.identity_id) == identity_id,
               col(ResidentOrigin.heard_asked_at).is_(None))
        .values(heard_asked_at=at)
        .execution_options(synchronize_session=False))


async def set_heard(*, session: AsyncSession, identity_id: int, heard: str,
                    at: datetime) -> bool:
    """Store the answer unless one is stored already; True when this one was."""
    await _origin_row(session, identity_id)
    result = await session.exec(  # type: ignore[call-overload]
        update(ResidentOrigin)
        .where(col(ResidentOrigin.identity_id) == identity_id,
               col(ResidentOrigin.heard).is_(None))
        .values(heard=heard, heard_at=at,
                heard_asked_at=func.coalesce(ResidentOrigin.heard_asked_at,
                                             literal(at, UTCDateTime())))
        .execution_options(synchronize_session=False))
    return bool(result.rowcount == 1)


@dataclass(frozen=True, slots=True)
class HeardStatus:
    asked: bool  # the question was put to the resident before
    acted: bool  # they have done something with the bot: a report, a question, a suggestion,
    # a subscription


async def heard_status(*, session: AsyncSession, identity_id: int) -> HeardStatus:
    """Whether the resident was asked already, and whether they have done anything yet: one
    round trip."""
    asked = (select(ResidentOrigin.heard_asked_at)
             .where(ResidentOrigin.identity_id == identity_id).scalar_subquery())
    acted = or_(
        exists().where(col(Report.reporter_id) == identity_id),
        exists().where(col(QuestionAsked.identity_id) == identity_id),
        exists().where(col(Suggestion.identity_id) == identity_id),
        exists().where(col(Subscriber.identity_id) == identity_id,
                       col(Subscriber.is_group).is_(False)),
    )
    row = (await session.exec(select(asked, acted))).one()  # type: ignore[call-overload]
    return HeardStatus(asked=row[0] is not None, acted=bool(row[1]))


async def get_origin(*, session: AsyncSession, identity_id: int) -> ResidentOrigin | None:
    return await session.get(ResidentOrigin, identity_id)


async def subscriber_kelurahan(*, session: AsyncSession, identity_id: int) -> str | None:
    """The kelurahan a resident chose for their announcements, if any."""
    return (await session.exec(
        select(Subscriber.kelurahan_code)
        .where(col(Subscriber.identity_id) == identity_id,
               col(Subscriber.is_group).is_(False),
               col(Subscriber.kelurahan_code).is_not(None))
        .order_by(col(Subscriber.updated_at).desc()).limit(1))).first()


# --- questions -------------------------------------------------------------------------------


async def add_question(*, session: AsyncSession, identity_id: int, kelurahan_code: str | None,
                       at: datetime) -> None:
    session.add(QuestionAsked(identity_id=identity_id, kelurahan_code=kelurahan_code, at=at))
    await session.flush()


# --- what sources and answers brought --------------------------------------------------------


async def source_figures(*, session: AsyncSession) -> dict[int, dict[str, int]]:
    """Per source: the residents it brought (first touch), how many of them were new to the
    bot (joins), and how many filed their first report and asked their first question after
    arriving through it (one was made then, and none before)."""
    out: dict[int, dict[str, int]] = {}
    rows = await session.exec(
        select(ResidentOrigin.source_id, func.count(),
               func.sum(cast(col(ResidentOrigin.joined), Integer)))
        .where(col(ResidentOrigin.source_id).is_not(None))
        .group_by(col(ResidentOrigin.source_id)))
    for source_id, residents, joined in rows.all():
        out[int(source_id or 0)] = {"residents": int(residents), "joined": int(joined or 0),
                                    "first_reports": 0, "first_questions": 0}
    who = ResidentOrigin.identity_id
    since = ResidentOrigin.source_at
    for name, owner, at in (("first_reports", Report.reporter_id, Report.created_at),
                            ("first_questions", QuestionAsked.identity_id, QuestionAsked.at)):
        # Each attributed resident is looked up by the owner's index: a few rows each.
        made = exists().where(col(owner) == who)
        before = exists().where(col(owner) == who, col(at) < since)
        counted = await session.exec(
            select(ResidentOrigin.source_id, func.count())
            .where(col(ResidentOrigin.source_id).is_not(None), made, ~before)
            .group_by(col(ResidentOrigin.source_id)))
        for source_id, n in counted.all():
            if int(source_id or 0) in out:
                out[int(source_id or 0)][name] = int(n)
    return out


async def heard_figures(*, session: AsyncSession) -> tuple[dict[str, dict[str, int]], int]:
    """Per answer to "how did you hear of us": the residents who gave it, and how many of them
    have filed a report and asked a question; and how many residents were asked at all."""
    reporters = select(Report.reporter_id).distinct().subquery()
    askers = select(QuestionAsked.identity_id).distinct().subquery()
    rows = await session.exec(
        select(ResidentOrigin.heard, func.count(), func.count(reporters.c.reporter_id),
               func.count(askers.c.identity_id))
        .outerjoin(reporters, reporters.c.reporter_id == ResidentOrigin.identity_id)
        .outerjoin(askers, askers.c.identity_id == ResidentOrigin.identity_id)
        .where(col(ResidentOrigin.heard).is_not(None))
        .group_by(col(ResidentOrigin.heard)))
    figures = {str(key): {"residents": int(n), "reported": int(reported),
                          "asked": int(asked)}
               for key, n, reported, asked in rows.all()}
    asked_total = (await session.exec(select(func.count()).where(
        col(ResidentOrigin.heard_asked_at).is_not(None)))).one()
    return figures, int(asked_total)


# --- suggestions -----------------------------------------------------------------------------


async def add_suggestion(*, session: AsyncSession, suggestion: Suggestion) -> Suggestion:
    session.add(suggestion)
    await session.flush()
    return suggestion


async def get_suggestion(*, session: AsyncSession, suggestion_id: int) -> Suggestion | None:
    return await session.get(Suggestion, suggestion_id)


async def count_suggestions_since(*, session: AsyncSession, identity_id: int,
                                  since: datetime) -> int:
    return int((await session.exec(select(func.count()).where(
        col(Suggestion.identity_id) == identity_id,
        col(Suggestion.created_at) >= since))).one())


@dataclass(frozen=True, slots=True)
class SuggestionFilter:
    theme: str | None = None
    app: str | None = None
    kelurahan_codes: tuple[str, ...] | None = None  # None: any; () : kelurahan not known
    replied: bool | None = None
    start: datetime | None = None
    end: datetime | None = None

    def where(self) -> list[Any]:
        clauses: list[Any] = []
        if self.theme is not None:
            clauses.append(col(Suggestion.theme) == self.theme)
        if self.app is not None:
            clauses.append(col(Suggestion.app) == self.app)
        if self.kelurahan_codes is not None:
            clauses.append(col(Suggestion.kelurahan_code).in_(self.kelurahan_codes)
                           if self.kelurahan_codes else col(Suggestion.kelurahan_code).is_(None))
        if self.replied is not None:
            replied = col(Suggestion.replied_at)
            clauses.append(replied.is_not(None) if self.replied else replied.is_(None))
        if self.start is not None:
            clauses.append(col(Suggestion.created_at) >= self.start)
        if self.end is not None:
            clauses.append(col(Suggestion.created_at) < self.end)
        return clauses


async def list_suggestions(*, session: AsyncSession, where: SuggestionFilter,
                           before_id: int | None = None, limit: int = 50
                           ) -> Sequence[Suggestion]:
    """Newest first; `before_id` pages on."""
    query = select(Suggestion).where(*where.where())
    if before_id is not None:
        query = query.where(col(Suggestion.id) < before_id)
    return (await session.exec(query.order_by(col(Suggestion.id).desc()).limit(limit))).all()


async def count_suggestions(*, session: AsyncSession, where: SuggestionFilter,
                            by: str) -> list[tuple[Any, ...]]:
    """Counts grouped `by` "theme" (theme and app) or "kelurahan"."""
    keys: list[Any] = ([col(Suggestion.theme), col(Suggestion.app)] if by == "theme"
                       else [col(Suggestion.kelurahan_code)])
    rows = await session.exec(select(*keys, func.count()).where(*where.where())  # type: ignore[call-overload]
                              .group_by(*keys))
    return [tuple(row) for row in rows.all()]


async def reply_to_suggestion(*, session: AsyncSession, suggestion_id: int, reply: str,
                              staff_id: int, at: datetime) -> bool:
    """Store the reply unless the suggestion has one already (one UPDATE: of two staff
    replying at once, one wins); True when this one was stored."""
    result = await session.exec(  # type: ignore[call-overload]
        update(Suggestion)
        .where(col(Suggestion.id) == suggestion_id, col(Suggestion.replied_at).is_(None))
        .values(reply=reply, replied_by=staff_id, replied_at=at)
        .execution_options(synchronize_session=False))
    return bool(result.rowcount == 1)


# --- activity in an area (a campaign's impact) -----------------------------------------------


async def activity_by_kelurahan(*, session: AsyncSession, kelurahan: Sequence[str] | None,
                                start: datetime, end: datetime
                                ) -> dict[str, dict[str | None, int]]:
    """New subscribers (people, not group chats or imports), reports and questions in
    [start, end), per kelurahan; `kelurahan` None counts the whole city (also where the
    kelurahan is not known)."""

    def area(column: Any) -> Any:
        return true() if kelurahan is None else column.in_(list(kelurahan))

    counts: dict[str, dict[str | None, int]] = {}
    for name, model, at, place, extra in (
            ("subscribers", Subscriber, Subscriber.created_at, Subscriber.kelurahan_code,
             [col(Subscriber.is_group).is_(False), col(Subscriber.source) != "import"]),
            ("reports", Report, Report.created_at, Report.kelurahan_code, []),
            ("questions", QuestionAsked, QuestionAsked.at, QuestionAsked.kelurahan_code, [])):
        rows = await session.exec(
            select(col(place), func.count()).select_from(model)  # type: ignore[call-overload]
            .where(col(at) >= start, col(at) < end, area(col(place)), *extra)
            .group_by(col(place)))
        counts[name] = {code: int(n) for code, n in rows.all()}
    return counts
