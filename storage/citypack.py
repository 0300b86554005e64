"""The city pack: content/<city>/*.yaml validated into models and seeded into reference tables."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)
from sqlmodel import SQLModel, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import Agency, Category, Kecamatan, Kelurahan, RoutingOverride

logger = logging.getLogger(__name__)

LOCALES = ("id", "en")
CITY_FILE = "city.yaml"
AREAS_FILE = "areas.yaml"
AGENCIES_FILE = "agencies.yaml"
CATEGORIES_FILE = "categories.yaml"
# Optional: the kelurahan boundaries (GeoJSON; properties.kode = the kelurahan code).
BOUNDARIES_FILE = "boundaries.geojson"


class CityPackError(ValueError):
    """The pack is missing, unreadable or inconsistent; the message starts with the file name."""

    def __init__(self, file: str, problem: str) -> None:
        super().__init__(f"{file}: {problem}")
        self.file = file
        self.problem = problem


def _both_locales(value: dict[str, str]) -> dict[str, str]:
    missing = [loc for loc in LOCALES if not value.get(loc, "").strip()]
    if missing:
        raise ValueError(f"needs a text for each locale; missing: {', '.join(missing)}")
    return {loc: text.strip() for loc, text in value.items()}


def _keywords(value: dict[str, list[str]]) -> dict[str, list[str]]:
    missing = [loc for loc in LOCALES if not value.get(loc)]
    if missing:
        raise ValueError(f"needs keywords for each locale; missing: {', '.join(missing)}")
    cleaned: dict[str, list[str]] = {}
    for loc, words in value.items():
        stripped = [w.strip() for w in words]
        if any(not w for w in stripped):
            raise ValueError(f"empty keyword in {loc!r}")
        cleaned[loc] = stripped
    return cleaned


Texts = Annotated[dict[str, str], AfterValidator(_both_locales)]
Keywords = Annotated[dict[str, list[str]], AfterValidator(_keywords)]
_KEY = r"^[a-z][a-z0-9_]*$"


class _Entry(BaseModel):
    # Unknown keys are refused so a misspelt field in the YAML is an error, not silently ignored.
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class Geofence(_Entry):
    lat_min: float = Field(ge=-90, le=90)
    lat_max: float = Field(ge=-90, le=90)
    lon_min: float = Field(ge=-180, le=180)
    lon_max: float = Field(ge=-180, le=180)

    @model_validator(mode="after")
    def _ordered(self) -> Geofence:
        if self.lat_min >= self.lat_max or self.lon_min >= self.lon_max:
            raise ValueError("lat_min/lon_min must be below lat_max/lon_max")
        return self

    def contains(self, lat: float, lon: float) -> bool:
        return self.lat_min <= lat <= self.lat_max and self.lon_min <= lon <= self.lon_max


class Point(_Entry):
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)


class ServiceLevels(_Entry):
    """Deadlines in working days."""

    verify_days: int = Field(gt=0)
    answer_days: int = Field(gt=0)
    auto_close_days: int = Field(gt=0)
    reopen_days: int = Field(gt=0)


class EmergencyNumber(_Entry):
    number: str = Field(pattern=r"^\d{3,15}$")
    names: Texts


class Open311Info(_Entry):
    """How the city presents itself on Open311 GeoReport v2 (its discovery document)."""

    jurisdiction_id: str = Field(pattern=r"^[a-z0-9][a-z0-9.-]{1,63}$")
    contact: Texts
    key_service: Texts


class CityInfo(_Entry):
    code: str = Field(pattern=r"^[A-Z]{2,8}$", description="ticket prefix")
    name: str = Field(min_length=1)
    region_code: str = Field(pattern=r"^\d{2}\.\d{2}$")
    timezone: str
    geofence: Geofence
    centre: Point
    service_levels: ServiceLevels
    emergency_numbers: tuple[EmergencyNumber, ...] = Field(min_length=1)
    open311: Open311Info | None = None

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value

    @model_validator(mode="after")
    def _centre_inside(self) -> CityInfo:
        if not self.geofence.contains(self.centre.lat, self.centre.lon):
            raise ValueError("centre lies outside the geofence")
        return self

    @model_validator(mode="after")
    def _unique_numbers(self) -> CityInfo:
        _no_duplicates((e.number for e in self.emergency_numbers), "emergency number")
        return self


class KelurahanEntry(_Entry):
    code: str = Field(pattern=r"^\d{2}\.\d{2}\.\d{2}\.\d{4}$")
    name: str = Field(min_length=1, max_length=64)
    aliases: tuple[str, ...] = ()

    @property
    def kecamatan_code(self) -> str:
        # Codes nest (12.75.01.1001 lies in 12.75.01); the pack refuses any that do not.
        return self.code.rsplit(".", 1)[0]


class KecamatanEntry(_Entry):
    code: str = Field(pattern=r"^\d{2}\.\d{2}\.\d{2}$")
    name: str = Field(min_length=1, max_length=64)
    kelurahan: tuple[KelurahanEntry, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _nested(self) -> KecamatanEntry:
        for kel in self.kelurahan:
            if kel.kecamatan_code != self.code:
                raise ValueError(
                    f"kelurahan {kel.code} ({kel.name}) is not under kecamatan "
                    f"{self.code} ({self.name}): its code must start with {self.code}."
                )
        _no_duplicates((_fold(k.name) for k in self.kelurahan), f"kelurahan name in {self.name}")
        return self


class AgencyEntry(_Entry):
    key: str = Field(pattern=_KEY, max_length=32)
    name: str = Field(min_length=1, max_length=160)
    short_name: str = Field(min_length=1, max_length=48)
    external: bool = False
    contact: str | None = Field(default=None, max_length=200)

    @model_validator(mode="after")
    def _external_has_contact(self) -> AgencyEntry:
        if self.external and not self.contact:
            raise ValueError(f"external agency {self.key!r} needs a contact text")
        return self


AttributeType = Literal["string", "number", "datetime", "text", "singlevaluelist",
                        "multivaluelist"]
LIST_TYPES = ("singlevaluelist", "multivaluelist")


class AttributeValue(_Entry):
    key: str = Field(pattern=_KEY, max_length=32)
    names: Texts


class AttributeEntry(_Entry):
    """One question a category asks beyond the description (Open311's service definition).
    `variable: false` is information for the person reporting, not a question."""

    code: str = Field(pattern=_KEY, max_length=32)
    datatype: AttributeType = "string"
    required: bool = False
    variable: bool = True
    description: Texts
    datatype_description: Texts | None = None
    values: tuple[AttributeValue, ...] = ()

    @model_validator(mode="after")
    def _values_for_lists(self) -> AttributeEntry:
        if self.datatype in LIST_TYPES and not self.values:
            raise ValueError(f"attribute {self.code!r} is a {self.datatype} and needs values")
        if self.datatype not in LIST_TYPES and self.values:
            raise ValueError(f"attribute {self.code!r} is a {self.datatype}: values are only "
                             "for singlevaluelist and multivaluelist")
        if not self.variable and self.required:
            raise ValueError(f"attribute {self.code!r} is information only (variable: false) "
                             "and cannot be required")
        _no_duplicates((v.key for v in self.values), f"value of attribute {self.code!r}")
        return self


class CategoryEntry(_Entry):
    key: str = Field(pattern=_KEY, max_length=32)
    agency: str
    confidential: bool = False
    emergency_hint: bool = False
    names: Texts
    hints: Texts
    referral: dict[str, str] = Field(default_factory=dict)
    verify_days: int = Field(gt=0)
    answer_days: int = Field(gt=0)
    routing: dict[str, str] = Field(default_factory=dict, description="kecamatan code -> agency")
    keywords: Keywords
    attributes: tuple[AttributeEntry, ...] = ()

    @field_validator("referral")
    @classmethod
    def _referral_locales(cls, value: dict[str, str]) -> dict[str, str]:
        return _both_locales(value) if value else value

    @model_validator(mode="after")
    def _unique_attributes(self) -> CategoryEntry:
        _no_duplicates((a.code for a in self.attributes), f"attribute of {self.key!r}")
        return self


class CityPack(_Entry):
    """Everything in content/<city>/, cross-checked."""

    city: CityInfo
    kecamatan: tuple[KecamatanEntry, ...]
    agencies: tuple[AgencyEntry, ...]
    categories: tuple[CategoryEntry, ...]
    # Kelurahan boundaries: (code, GeoJSON geometry); empty when the pack ships none.
    boundaries: tuple[tuple[str, dict[str, Any]], ...] = ()

    @property
    def kelurahan(self) -> list[KelurahanEntry]:
        return [kel for kec in self.kecamatan for kel in kec.kelurahan]

    def agency(self, key: str) -> AgencyEntry:
        for agency in self.agencies:
            if agency.key == key:
                return agency
        raise KeyError(key)

    def category(self, key: str) -> CategoryEntry:
        for category in self.categories:
            if category.key == key:
                return category
        raise KeyError(key)


def _fold(text: str) -> str:
    return re.sub(r"[^0-9a-z]+", "", text.casefold())


def _no_duplicates(values: Iterable[str], what: str) -> None:
    seen: set[str] = set()
    for value in values:
        if value in seen:
            raise ValueError(f"duplicate {what}: {value!r}")
        seen.add(value)


def _read(city_dir: Path, name: str, top_key: str | None) -> Any:
    path = city_dir / name
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise CityPackError(name, f"missing from {city_dir}") from None
    except OSError as exc:
        raise CityPackError(name, f"cannot be read: {exc}") from exc
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise CityPackError(name, f"is not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise CityPackError(name, "must be a mapping at the top level")
    if top_key is None:
        return data
    if set(data) != {top_key} or not isinstance(data[top_key], list):
        raise CityPackError(name, f"must hold exactly one key, {top_key!r}, with a list")
    return data[top_key]


def _where(data: Any, loc: Sequence[int | str]) -> str:
    """A readable path to an error, naming list items by their key or code."""
    parts: list[str] = []
    node = data
    for step in loc:
        if isinstance(step, int):
            label = f"[{step}]"
            if isinstance(node, list) and 0 <= step < len(node):
                node = node[step]
                if isinstance(node, dict):
                    ident = node.get("key") or node.get("code")
                    if ident is not None:
                        label = f"[{step}] ({ident})"
            parts.append(label)
        else:
            parts.append(f".{step}" if parts else str(step))
            node = node.get(step) if isinstance(node, dict) else None
    return "".join(parts)


def _validate(model: type[_Entry], file: str, data: Any) -> Any:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        lines = [
            f"{_where(data, err['loc']) or '(top)'}: {err['msg'].removeprefix('Value error, ')}"
            for err in exc.errors()
        ]
        raise CityPackError(file, "; ".join(lines)) from None


class _Areas(_Entry):
    kecamatan: tuple[KecamatanEntry, ...] = Field(min_length=1)


class _Agencies(_Entry):
    agencies: tuple[AgencyEntry, ...] = Field(min_length=1)


class _Categories(_Entry):
    categories: tuple[CategoryEntry, ...] = Field(min_length=1)


def load_city_pack(city_dir: Path) -> CityPack:
    """Read and check a city pack; raises `CityPackError` naming the file at fault."""
    if not city_dir.is_dir():
        raise CityPackError(str(city_dir), "no such city pack directory")

    city: CityInfo = _validate(CityInfo, CITY_FILE, _read(city_dir, CITY_FILE, None))
    areas: _Areas = _validate(
        _Areas, AREAS_FILE, {"kecamatan": _read(city_dir, AREAS_FILE, "kecamatan")}
    )
    agencies: _Agencies = _validate(
        _Agencies, AGENCIES_FILE, {"agencies": _read(city_dir, AGENCIES_FILE, "agencies")}
    )
    raw_categories = _read(city_dir, CATEGORIES_FILE, "categories")
    for raw in raw_categories:
        if isinstance(raw, dict):
            raw.setdefault("verify_days", city.service_levels.verify_days)
            raw.setdefault("answer_days", city.service_levels.answer_days)
    categories: _Categories = _validate(
        _Categories, CATEGORIES_FILE, {"categories": raw_categories}
    )

    _check_areas(city, areas.kecamatan)
    _check_agencies(agencies.agencies)
    _check_categories(categories.categories, areas.kecamatan, agencies.agencies)
    return CityPack(
        city=city,
        kecamatan=areas.kecamatan,
        agencies=agencies.agencies,
        categories=categories.categories,
        boundaries=_read_boundaries(city_dir, areas.kecamatan),
    )


def _read_boundaries(city_dir: Path, kecamatan: Sequence[KecamatanEntry]
                     ) -> tuple[tuple[str, dict[str, Any]], ...]:
    """The pack's kelurahan polygons, each naming a kelurahan of areas.yaml."""
    path = city_dir / BOUNDARIES_FILE
    if not path.exists():
        return ()
    import json

    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise CityPackError(BOUNDARIES_FILE, f"cannot be read: {exc}") from None
    known = {kel.code for kec in kecamatan for kel in kec.kelurahan}
    shapes: list[tuple[str, dict[str, Any]]] = []
    for number, feature in enumerate(data.get("features") or [], 1):
        code = ((feature or {}).get("properties") or {}).get("kode")
        geometry = (feature or {}).get("geometry") or {}
        if code not in known:
            raise CityPackError(BOUNDARIES_FILE, f"feature {number}: unknown kelurahan {code!r}")
        if geometry.get("type") not in ("Polygon", "MultiPolygon"):
            raise CityPackError(BOUNDARIES_FILE, f"feature {number}: not a polygon")
        shapes.append((code, geometry))
    return tuple(shapes)


def _fail(file: str, check: Any, *args: Any) -> None:
    try:
        check(*args)
    except ValueError as exc:
        raise CityPackError(file, str(exc)) from None


def _check_areas(city: CityInfo, kecamatan: Sequence[KecamatanEntry]) -> None:
    for kec in kecamatan:
        if not kec.code.startswith(city.region_code + "."):
            raise CityPackError(
                AREAS_FILE,
                f"kecamatan {kec.code} ({kec.name}) is outside region {city.region_code} "
                f"set in {CITY_FILE}",
            )
    kelurahan = [kel for kec in kecamatan for kel in kec.kelurahan]
    _fail(AREAS_FILE, _no_duplicates, (k.code for k in kecamatan), "kecamatan code")
    _fail(AREAS_FILE, _no_duplicates, (_fold(k.name) for k in kecamatan), "kecamatan name")
    _fail(AREAS_FILE, _no_duplicates, (k.code for k in kelurahan), "kelurahan code")
    # An alias that spells another kelurahan's name would send reports to the wrong place.
    owner = {_fold(kel.name): kel for kel in kelurahan}
    for kel in kelurahan:
        for alias in kel.aliases:
            other = owner.get(_fold(alias))
            if other is not None and other.code != kel.code:
                raise CityPackError(
                    AREAS_FILE,
                    f"alias {alias!r} of {kel.name} ({kel.code}) is the name of "
                    f"{other.name} ({other.code})",
                )


def _check_agencies(agencies: Sequence[AgencyEntry]) -> None:
    _fail(AGENCIES_FILE, _no_duplicates, (a.key for a in agencies), "agency key")


def _check_categories(
    categories: Sequence[CategoryEntry],
    kecamatan: Sequence[KecamatanEntry],
    agencies: Sequence[AgencyEntry],
) -> None:
    _fail(CATEGORIES_FILE, _no_duplicates, (c.key for c in categories), "category key")
    by_key = {a.key: a for a in agencies}
    kec_codes = {k.code for k in kecamatan}
    for cat in categories:
        agency = by_key.get(cat.agency)
        if agency is None:
            raise CityPackError(
                CATEGORIES_FILE,
                f"category {cat.key!r} names agency {cat.agency!r}, "
                f"which {AGENCIES_FILE} does not define",
            )
        if agency.external and not cat.referral:
            raise CityPackError(
                CATEGORIES_FILE,
                f"category {cat.key!r} goes to external agency {agency.key!r} and needs a "
                "referral text (id and en) telling residents where to go",
            )
        if cat.referral and not agency.external:
            raise CityPackError(
                CATEGORIES_FILE,
                f"category {cat.key!r} has a referral text but its agency {agency.key!r} "
                "is a city agency; referrals are only for external agencies",
            )
        for kec_code, agency_key in cat.routing.items():
            if kec_code not in kec_codes:
                raise CityPackError(
                    CATEGORIES_FILE,
                    f"category {cat.key!r} routes kecamatan {kec_code!r}, "
                    f"which {AREAS_FILE} does not define",
                )
            if agency_key not in by_key:
                raise CityPackError(
                    CATEGORIES_FILE,
                    f"category {cat.key!r} routes kecamatan {kec_code} to agency "
                    f"{agency_key!r}, which {AGENCIES_FILE} does not define",
                )
    # The same phrase under two categories would make free-text matching a coin toss.
    for loc in LOCALES:
        seen: dict[str, str] = {}
        for cat in categories:
            for word in {_fold(w): w for w in cat.keywords.get(loc, [])}:
                if word in seen and seen[word] != cat.key:
                    raise CityPackError(
                        CATEGORIES_FILE,
                        f"keyword {word!r} ({loc}) is listed under both "
                        f"{seen[word]!r} and {cat.key!r}",
                    )
                seen[word] = cat.key


# --- seeding --------------------------------------------------------------------------------


async def _upsert(
    session: AsyncSession,
    model: type[SQLModel],
    key: tuple[str, ...],
    rows: Sequence[dict[str, Any]],
) -> tuple[int, int, list[Any]]:
    """Insert missing rows and update changed ones; returns (created, updated, rows not in `rows`)."""
    existing = {
        tuple(getattr(row, k) for k in key): row
        for row in (await session.exec(select(model))).all()
    }
    created = updated = 0
    for values in rows:
        row = existing.pop(tuple(values[k] for k in key), None)
        if row is None:
            session.add(model(**values))
            created += 1
            continue
        changed = False
        for field, value in values.items():
            if getattr(row, field) != value:
                setattr(row, field, value)
                changed = True
        updated += changed
    await session.flush()
    return created, updated, list(existing.values())


async def seed(*, session: AsyncSession, pack: CityPack) -> dict[str, int]:
    """Load the pack into the reference tables; running it again with the same pack changes nothing.

    Returns the number of rows per table in the pack, plus `created`, `updated` and `removed`
    totals. Rows the pack no longer lists are kept (reports may point at them), except routing
    overrides, which are removed so routing follows the pack.
    """
    kecamatan = [{"code": k.code, "name": k.name} for k in pack.kecamatan]
    agencies = [
        {
            "key": a.key,
            "name": a.name,
            "short_name": a.short_name,
            "external": a.external,
            "contact": a.contact,
        }
        for a in pack.agencies
    ]
    kelurahan = [
        {
            "code": k.code,
            "kecamatan_code": k.kecamatan_code,
            "name": k.name,
            "aliases": list(k.aliases),
        }
        for k in pack.kelurahan
    ]
    categories = [
        {
            "key": c.key,
            "position": position,
            "agency_key": c.agency,
            "confidential": c.confidential,
            "emergency_hint": c.emergency_hint,
            "names": dict(c.names),
            "hints": dict(c.hints),
            "referral": dict(c.referral),
            "keywords": {loc: list(words) for loc, words in c.keywords.items()},
            "verify_days": c.verify_days,
            "answer_days": c.answer_days,
        }
        for position, c in enumerate(pack.categories, start=1)
    ]
    overrides = [
        {"category_key": c.key, "kecamatan_code": kec_code, "agency_key": agency_key}
        for c in pack.categories
        for kec_code, agency_key in c.routing.items()
    ]

    created = updated = 0
    # Parents before children: each step is flushed before the tables that reference it.
    for model, key, rows in (
        (Kecamatan, ("code",), kecamatan),
        (Agency, ("key",), agencies),
        (Kelurahan, ("code",), kelurahan),
        (Category, ("key",), categories),
    ):
        c, u, _unlisted = await _upsert(session, model, key, rows)
        created += c
        updated += u
    c, u, stale = await _upsert(
        session, RoutingOverride, ("category_key", "kecamatan_code"), overrides
    )
    created += c
    updated += u
    for row in stale:
        await session.delete(row)
    await session.flush()

    logger.info(
        "City pack %s seeded: %d created, %d updated, %d routing overrides removed",
        pack.city.code,
        created,
        updated,
        len(stale),
    )
    return {
        "kecamatan": len(kecamatan),
        "kelurahan": len(kelurahan),
        "agency": len(agencies),
        "category": len(categories),
        "routing_override": len(overrides),
        "created": created,
        "updated": updated,
        "removed": len(stale),
    }
