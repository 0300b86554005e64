"""Which outreach works: tracked sources (a banner's QR code, a school visit, an event, a social
post) and the residents they bring, the once-asked "how did you hear of the service?", and the
questions residents ask, counted for both.

Attribution is first touch: the first source a resident arrives through is theirs for good.
A source is credited with a join when the resident's very first message came through it, and
with their first report and first question when those came after they arrived through it.
"""

from __future__ import annotations

import re
import secrets
import string
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml
from sqlmodel.ext.asyncio.session import AsyncSession

from broadcasts.problems import N_, Problem, problem
from storage import repo_broadcasts
from storage import repo_outreach as repo
from storage.city import Reader, city_language
from storage.models.outreach import OutreachSource

OUTREACH_FILE = "outreach.yaml"

# What a tracked source is (the `--kind` of `emas source create`).
SOURCE_KINDS = ("poster", "school", "event", "social")
NAME_LIMIT = 80
# A source's code: "src-" and six letters or digits. It fits Telegram's deep-link payload
# (1-64 characters of A-Z a-z 0-9 _ -) and is found anywhere in a WhatsApp text, whatever the
# letter case (a resident may retype it).
CODE_PREFIX = "src-"
_CODE_CHARS = string.ascii_lowercase + string.digits
_CODE_LENGTH = 6
SOURCE_CODE = re.compile(r"(?<![0-9a-z_-])(src-[0-9a-z]{6})(?![0-9a-z_-])", re.IGNORECASE)


class SourceError(ValueError):
    """A source cannot be made; `problems` say why (worded by the bot layer)."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("; ".join(str(p) for p in problems))
        self.problems = problems


# --- the city pack's outreach file -----------------------------------------------------------


class OutreachFileError(ValueError):
    """outreach.yaml is malformed; the message names the file and the entry."""


@dataclass(frozen=True, slots=True)
class Choice:
    """An app of the city, or an answer to "how did you hear of us", named per language."""

    key: str
    names: dict[str, str]
    reader: Reader = field(default=city_language, repr=False, compare=False)

    def name(self) -> str:
        return self.names.get(self.reader()) or self.names.get("id") or self.key


@dataclass(frozen=True, slots=True)
class OutreachPack:
    """The city's apps (what a suggestion may be about) and the answers to "how did you hear
    of the service?"; both empty for a city whose pack has no outreach file (then the question
    is not asked and "an app" is written in the resident's own words)."""

    apps: tuple[Choice, ...] = ()
    heard: tuple[Choice, ...] = ()

    def app(self, key: str) -> Choice | None:
        return next((a for a in self.apps if a.key == key), None)

    def heard_choice(self, key: str) -> Choice | None:
        return next((h for h in self.heard if h.key == key), None)


_KEY = re.compile(r"^[a-z][a-z0-9-]{0,23}$")
_CACHE: dict[Path, tuple[float, OutreachPack]] = {}


def _choices(data: dict[str, Any], section: str, reader: Reader) -> tuple[Choice, ...]:
    entries = data.get(section) or []
    if not isinstance(entries, list):
        raise OutreachFileError(f"{OUTREACH_FILE}: {section} must be a list")
    found: list[Choice] = []
    for number, entry in enumerate(entries, 1):
        where = f"{OUTREACH_FILE}: {section}[{number}]"
        if not isinstance(entry, dict) or set(entry) - {"key", "name", "names"}:
            raise OutreachFileError(f"{where}: expected key and name (or names)")
        key = entry.get("key")
        if not isinstance(key, str) or not _KEY.match(key):
            raise OutreachFileError(f"{where}: the key must be lower-case letters, digits and "
                                    "hyphens, at most 24")
        if isinstance(entry.get("name"), str) and entry["name"].strip():
            names = {"id": entry["name"].strip(), "en": entry["name"].strip()}
        else:
            raw = entry.get("names")
            if not isinstance(raw, dict) or not all(
                    isinstance(raw.get(loc), str) and raw[loc].strip() for loc in ("id", "en")):
                raise OutreachFileError(f"{where} ({key}): needs a name, or names in id and en")
            names = {str(k): str(v).strip() for k, v in raw.items()}
        if any(c.key == key for c in found):
            raise OutreachFileError(f"{where}: duplicate key {key!r}")
        found.append(Choice(key=key, names=names, reader=reader))
    return tuple(found)


def load_outreach(city_dir: Path, reader: Reader = city_language) -> OutreachPack:
    """The pack's outreach file (read again when it changes); an empty pack without one."""
    path = (city_dir / OUTREACH_FILE).resolve()
    try:
        stamp = path.stat().st_mtime
    except FileNotFoundError:
        return OutreachPack()
    kept = _CACHE.get(path)
    if kept is not None and kept[0] == stamp:
        pack = kept[1]
    else:
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except yaml.YAMLError as exc:
            raise OutreachFileError(f"{OUTREACH_FILE}: not valid YAML: {exc}") from None
        if not isinstance(data, dict) or set(data) - {"apps", "heard"}:
            raise OutreachFileError(f"{OUTREACH_FILE}: expected the keys apps and heard")
        pack = OutreachPack(apps=_choices(data, "apps", city_language),
                            heard=_choices(data, "heard", city_language))
        _CACHE[path] = (stamp, pack)
    if reader is city_language:
        return pack
    return OutreachPack(
        apps=tuple(Choice(a.key, a.names, reader) for a in pack.apps),
        heard=tuple(Choice(h.key, h.names, reader) for h in pack.heard))


# --- codes -----------------------------------------------------------------------------------


def new_source_code() -> str:
    return CODE_PREFIX + "".join(secrets.choice(_CODE_CHARS) for _ in range(_CODE_LENGTH))


def find_source_code(text: str) -> str | None:
    """The source code in a text (a WhatsApp link's pre-filled words, a /start payload)."""
    found = SOURCE_CODE.search(text or "")
    return found.group(1).lower() if found else None


# --- the service -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SourceFigures:
    source: OutreachSource
    residents: int = 0  # residents it brought (first touch)
    joined: int = 0  # of them, new to the bot when they came
    first_reports: int = 0  # filed their first report after coming through it
    first_questions: int = 0  # asked their first question after coming through it


class OutreachService:
    """Sources, attribution, the once-asked question and the questions counted, over one
    session."""

    def __init__(self, *, session: AsyncSession, now: Callable[[], datetime]) -> None:
        self.session = session
        self.now = now

    # -- sources ------------------------------------------------------------------------------

    async def create_source(self, name: str, kind: str, *, created_by: str) -> OutreachSource:
        cleaned = " ".join((name or "").split())
        problems: list[Problem] = []
        if not cleaned:
            problems.append(problem(N_("The source needs a name.")))
        elif len(cleaned) > NAME_LIMIT:
            problems.append(problem(N_("The source's name is longer than {n} characters."),
                                    n=NAME_LIMIT))
        if kind not in SOURCE_KINDS:
            problems.append(problem(N_("The kind of source is one of: {kinds}."),
                                    kinds=", ".join(SOURCE_KINDS)))
        if cleaned and not problems:
            same = await repo.get_source_by_name(session=self.session, name=cleaned)
            if same is not None:
                problems.append(problem(N_("A source named {name} exists already (code "
                                           "{code})."), name=same.name, code=same.code))
        if problems:
            raise SourceError(problems)
        for _attempt in range(20):
            made = await repo.add_source(session=self.session, source=OutreachSource(
                code=new_source_code(), name=cleaned, kind=kind,
                created_by=(created_by or "operator")[:128], created_at=self.now()))
            if made is not None:
                return made
        raise RuntimeError("no free source code after 20 draws")

    async def source(self, code: str) -> OutreachSource | None:
        return await repo.get_source_by_code(session=self.session, code=code.lower())

    async def figures(self) -> list[SourceFigures]:
        """Every source, oldest first, with what it brought."""
        counted = await repo.source_figures(session=self.session)
        return [SourceFigures(source=s, **counted.get(s.id or 0, {}))
                for s in await repo.list_sources(session=self.session)]

    async def arrived(self, identity_id: int, code: str, *, new: bool) -> OutreachSource | None:
        """A resident arrived through the source with `code` (`new`: with their very first
        message); attributed unless an earlier source was. The source, or None for a code
        that names none."""
        found = await self.source(code)
        if found is None or found.id is None:
            return None
        await repo.attribute_source(session=self.session, identity_id=identity_id,
                                    source_id=found.id, at=self.now(), joined=new)
        return found

    # -- how they heard -----------------------------------------------------------------------

    async def heard_due(self, identity_id: int) -> bool:
        """Whether to ask now: never asked, and they have done something with the bot."""
        status = await repo.heard_status(session=self.session, identity_id=identity_id)
        return status.acted and not status.asked

    async def heard_asked(self, identity_id: int) -> None:
        await repo.mark_heard_asked(session=self.session, identity_id=identity_id,
                                    at=self.now())

    async def heard(self, identity_id: int, key: str) -> bool:
        """Store the answer (the first one stays); True when this one was stored."""
        return await repo.set_heard(session=self.session, identity_id=identity_id, heard=key,
                                    at=self.now())

    async def heard_figures(self, pack: OutreachPack) -> dict[str, Any]:
        """Per answer (in the pack's order): residents, and how many of them reported and
        asked; how many were asked, answered and so skipped."""
        counted, asked = await repo.heard_figures(session=self.session)
        answers: list[dict[str, Any]] = [{"key": c.key, "name": c.name(),
                    **counted.get(c.key, {"residents": 0, "reported": 0, "asked": 0})}
                   for c in pack.heard]
        known = {c.key for c in pack.heard}
        answers += [{"key": key, "name": key, **values} for key, values in sorted(
            counted.items()) if key not in known]
        answered = sum(int(a["residents"]) for a in answers)
        return {"asked": asked, "answered": answered, "skipped": max(0, asked - answered),
                "answers": answers}

    # -- questions ----------------------------------------------------------------------------

    async def kelurahan_of(self, identity_id: int) -> str | None:
        """Where the resident lives, as far as the bot knows: the kelurahan chosen for
        announcements, else that of their latest report."""
        return (await repo.subscriber_kelurahan(session=self.session, identity_id=identity_id)
                or await repo_broadcasts.last_report_kelurahan(session=self.session,
                                                               identity_id=identity_id))

    async def question_asked(self, identity_id: int) -> None:
        """Count a question the resident typed (its words are not kept here)."""
        await repo.add_question(session=self.session, identity_id=identity_id,
                                kelurahan_code=await self.kelurahan_of(identity_id),
                                at=self.now())
