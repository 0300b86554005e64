"""The outreach domain on its own: source codes, first-touch attribution, the once-kept answer
to "how did you hear of us", and the city pack's outreach file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from agencies_kit import person
from bot.app import Container
from broadcasts.outreach import (
    OutreachFileError,
    OutreachService,
    find_source_code,
    load_outreach,
    new_source_code,
)
from storage import repo_outreach


def test_a_source_code_fits_a_telegram_deep_link_and_is_found_in_words() -> None:
    code = new_source_code()
    assert len(code) <= 64 and all(c.isalnum() or c in "_-" for c in code)
    assert find_source_code(code) == code
    assert find_source_code(f"Halo e-Masyarakat! (kode {code.upper()})") == code
    assert find_source_code("kode src-abc12") is None  # too short
    assert find_source_code("xsrc-abc123") is None and find_source_code("src-abc1234") is None
    assert find_source_code("") is None


async def test_first_touch_wins_and_the_answer_is_kept_once(container: Container,
                                                             clock: Any) -> None:
    resident = await person(container, "warga-1")
    async with container.db.session() as session:
        service = OutreachService(session=session, now=clock)
        banner = await service.create_source("Baliho Simpang Tugu", "poster", created_by="x")
        school = await service.create_source("SMP Negeri 2 Binjai", "school", created_by="x")
        assert await service.arrived(resident.id, banner.code, new=True) == banner
        arrived = clock.now
        clock.advance(days=3)
        assert await service.arrived(resident.id, school.code, new=False) == school
        assert await service.arrived(resident.id, "src-000000", new=False) is None
        # Answered without being asked first (a button pressed late): asked then, too.
        assert await service.heard(resident.id, "school")
        assert not await service.heard(resident.id, "banner")
        origin = await repo_outreach.get_origin(session=session, identity_id=resident.id)
    assert origin is not None
    assert (origin.source_id, origin.joined) == (banner.id, True)
    assert origin.source_at == arrived
    assert origin.heard == "school" and origin.heard_asked_at == origin.heard_at == clock.now


async def test_the_question_is_due_only_after_something_was_done(
        container: Container, clock: Any) -> None:
    from storage.models.outreach import QuestionAsked

    resident = await person(container, "warga-2")
    async with container.db.session() as session:
        service = OutreachService(session=session, now=clock)
        assert not await service.heard_due(resident.id)
        session.add(QuestionAsked(identity_id=resident.id, at=clock.now))
        await session.flush()
        assert await service.heard_due(resident.id)
        await service.heard_asked(resident.id)
        assert not await service.heard_due(resident.id)


def test_the_outreach_file_is_read_and_checked(tmp_path: Path) -> None:
    assert load_outreach(tmp_path).heard == ()  # a city without the file asks nothing
    path = tmp_path / "outreach.yaml"
    path.write_text("apps:\n  - key: e-pbb\n    name: e-PBB\nheard:\n  - key: kim\n"
                    "    names: {id: KIM, en: KIM group}\n", encoding="utf-8")
    pack = load_outreach(tmp_path, reader=lambda: "en")
    assert pack.app("e-pbb") is not None and pack.heard[0].name() == "KIM group"
    for broken, says in (
            ("heard:\n  - key: Bad Key\n    name: x\n", "heard[1]"),
            ("heard:\n  - key: kim\n    names: {id: KIM}\n", "names in id and en"),
            ("heard:\n  - {key: kim, name: a}\n  - {key: kim, name: b}\n", "duplicate"),
            ("colours: [red]\n", "apps and heard"),
            ("heard: [\n", "not valid YAML")):
        path.write_text(broken, encoding="utf-8")
        with pytest.raises(OutreachFileError, match="outreach.yaml") as raised:
            load_outreach(tmp_path)
        assert says in str(raised.value)


def test_the_city_packs_outreach_file_has_the_programmes_channels(container: Container) -> None:
    pack = load_outreach(container.settings.city_dir)
    assert [h.key for h in pack.heard] == ["kim", "kepling", "cgen", "school", "banner",
                                          "social", "family", "other"]
    assert {"e-masyarakat", "e-pbb", "e-perizinan"} <= {a.key for a in pack.apps}
