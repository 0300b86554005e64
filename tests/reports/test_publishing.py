"""The public projection's rules that need no web page: whether a text names the reporter, and
which stage of a report the public sees."""

from __future__ import annotations

import pytest
from sqlmodel.ext.asyncio.session import AsyncSession

from agencies_kit import actions, file_report
from bot.app import Container
from reports.publishing import Stage, names_reporter, public_report
from storage.models import Identity, Report


async def _loaded(session: AsyncSession, report: Report) -> Report:
    found = await session.get(Report, report.id)
    assert found is not None
    return found


def _resident(name: str | None, phone: str | None = None,
              user_key: str = "612345987") -> Identity:
    return Identity(channel="telegram", user_key=user_key, display_name=name, phone=phone)


@pytest.mark.parametrize(("text", "named"), [
    ("Sudah diperbaiki, terima kasih Ibu Siti Rahmawati", True),
    ("terima kasih SITI  RAHMAWATI.", True),  # any case, any spacing
    ("Sudah diperbaiki di Jl. Siti Rahmawatiningsih", False),  # part of another word
    ("Hubungi 0813-7771-2345 untuk info", True),  # the phone, as people write it
    ("Hubungi +62 813 7771 2345", True),
    ("Chat 612345987", True),  # the Telegram chat id
    ("Lubang sudah ditambal pada 12 Desember", False),
])
def test_a_text_names_the_reporter_by_name_phone_or_chat(text: str, named: bool) -> None:
    assert names_reporter(text, _resident("Siti Rahmawati", "+6281377712345")) is named


def test_short_names_and_missing_people_name_no_one() -> None:
    assert not names_reporter("Jalan di RT 02", _resident("RT", user_key="warga-1"))
    assert not names_reporter("Jalan rusak", None)


async def test_the_stage_the_public_sees_follows_the_report(container: Container) -> None:
    waiting = await file_report(container, user="w1")
    passed = await file_report(container, user="w2")
    refused = await file_report(container, user="w3")
    async with container.db.session() as session:
        work = actions(container, session)
        await work.verify(await _loaded(session, passed), actor_id=None)
        await work.reject(await _loaded(session, refused), actor_id=None, reason="info")
        await work.verify_only(await _loaded(session, waiting), actor_id=None)
    now = container.engine.clock()
    async with container.db.reader() as session:
        views = {r.ticket: await public_report(session=session, city=container.city,
                                               ticket=r.ticket, as_of=now)
                 for r in (waiting, passed, refused)}
    # Verified but not yet passed on: still being checked; nothing of it is public.
    assert views[waiting.ticket].stage == Stage.CHECKING  # type: ignore[union-attr]
    assert views[waiting.ticket].category_key is None  # type: ignore[union-attr]
    assert views[passed.ticket].stage == Stage.PUBLIC  # type: ignore[union-attr]
    assert views[passed.ticket].kelurahan_code == passed.kelurahan_code  # type: ignore[union-attr]
    rejected = views[refused.ticket]
    assert rejected is not None and rejected.stage == Stage.REJECTED
    assert [s.status for s in rejected.history] == ["submitted", "rejected"]
    assert all(s.note is None for s in rejected.history)  # not even the reason
