"""The city as flows see it: categories, agencies, places and numbers, in the reader's language."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from storage.boundaries import Located

# The language of whoever reads now: the composition root passes the bot's (bot.i18n's
# get_locale); without one, the city's own language.
Reader = Callable[[], str]


def city_language() -> str:
    return "id"


def _pick(texts: dict[str, str] | None, locale: str) -> str:
    if not texts:
        return ""
    return texts.get(locale) or texts.get("id") or next(iter(texts.values()), "")


@dataclass(frozen=True, slots=True)
class AttributeValueInfo:
    key: str
    names: dict[str, str]
    reader: Reader = field(default=city_language, repr=False, compare=False)

    def name(self) -> str:
        return _pick(self.names, self.reader())


@dataclass(frozen=True, slots=True)
class AttributeInfo:
    """A question a category asks beyond the description (an Open311 service attribute)."""

    code: str
    datatype: str
    required: bool
    variable: bool
    descriptions: dict[str, str]
    datatype_descriptions: dict[str, str] = field(default_factory=dict)
    values: tuple[AttributeValueInfo, ...] = ()
    reader: Reader = field(default=city_language, repr=False, compare=False)

    def description(self) -> str:
        return _pick(self.descriptions, self.reader())

    def datatype_description(self) -> str | None:
        return _pick(self.datatype_descriptions, self.reader()) or None

    def value(self, key: str) -> AttributeValueInfo | None:
        return next((v for v in self.values if v.key == key), None)


@dataclass(frozen=True, slots=True)
class Open311Texts:
    """How the city presents itself on Open311 (city.yaml `open311`)."""

    jurisdiction_id: str
    contacts: dict[str, str] = field(default_factory=dict)
    key_services: dict[str, str] = field(default_factory=dict)
    reader: Reader = field(default=city_language, repr=False, compare=False)

    def contact(self) -> str:
        return _pick(self.contacts, self.reader())

    def key_service(self) -> str:
        return _pick(self.key_services, self.reader())


@dataclass(frozen=True, slots=True)
class CategoryInfo:
    key: str
    agency_key: str
    names: dict[str, str]
    hints: dict[str, str]
    referral_texts: dict[str, str] = field(default_factory=dict)
    confidential: bool = False
    emergency_hint: bool = False
    verify_days: int = 3
    answer_days: int = 5
    keywords: dict[str, list[str]] = field(default_factory=dict)
    reader: Reader = field(default=city_language, repr=False, compare=False)
    attributes: tuple[AttributeInfo, ...] = ()

    def name(self) -> str:
        return _pick(self.names, self.reader())

    def hint(self) -> str:
        return _pick(self.hints, self.reader())

    def referral(self) -> str:
        return _pick(self.referral_texts, self.reader())


@dataclass(frozen=True, slots=True)
class AgencyInfo:
    key: str
    name: str
    short_name: str
    external: bool = False
    contact: str | None = None


@dataclass(frozen=True, slots=True)
class KecamatanInfo:
    code: str
    name: str


@dataclass(frozen=True, slots=True)
class KelurahanInfo:
    code: str
    name: str
    kecamatan_code: str


@dataclass(frozen=True, slots=True)
class EmergencyNumber:
    number: str
    names: dict[str, str]
    reader: Reader = field(default=city_language, repr=False, compare=False)

    def name(self) -> str:
        return _pick(self.names, self.reader())


class City:
    """Reference data held in memory for the life of the process (reloaded with the pack)."""

    def __init__(self, pack: Any, *, reader: Reader = city_language) -> None:
        from storage.places import Gazetteer

        self.pack = pack
        self.reader = reader
        info = pack.city
        self.code: str = info.code
        self.name: str = info.name
        self.tz = ZoneInfo(info.timezone)
        levels = info.service_levels
        self.verify_days: int = levels.verify_days
        self.answer_days: int = levels.answer_days
        self.auto_close_days: int = levels.auto_close_days
        self.reopen_days: int = levels.reopen_days
        self.gazetteer = Gazetteer(pack)
        self.emergency_numbers = [
            EmergencyNumber(number=e.number, names=dict(e.names), reader=reader) for e in info.emergency_numbers
        ]
        self.emergency_number = self.emergency_numbers[0].number if self.emergency_numbers \
            else "112"
        # Open311's jurisdiction: the pack's, else the ticket prefix ("bji").
        open311 = getattr(info, "open311", None)
        self.open311 = Open311Texts(
            jurisdiction_id=open311.jurisdiction_id if open311 else self.code.lower(),
            contacts=dict(open311.contact) if open311 else {},
            key_services=dict(open311.key_service) if open311 else {},
            reader=reader)
        self.kecamatan = [KecamatanInfo(code=k.code, name=k.name) for k in pack.kecamatan]
        self._kecamatan = {k.code: k for k in self.kecamatan}
        self._kelurahan: dict[str, KelurahanInfo] = {}
        for kec in pack.kecamatan:
            for kel in kec.kelurahan:
                self._kelurahan[kel.code] = KelurahanInfo(kel.code, kel.name, kec.code)
        self.agencies = {
            a.key: AgencyInfo(key=a.key, name=a.name, short_name=a.short_name,
                              external=bool(getattr(a, "external", False)),
                              contact=getattr(a, "contact", None))
            for a in pack.agencies
        }
        self.categories = [
            CategoryInfo(
                key=c.key,
                agency_key=c.agency,
                names=dict(c.names),
                hints=dict(c.hints),
                referral_texts=dict(getattr(c, "referral", None) or {}),
                confidential=bool(c.confidential),
                emergency_hint=bool(getattr(c, "emergency_hint", False)),
                verify_days=getattr(c, "verify_days", None) or self.verify_days,
                answer_days=getattr(c, "answer_days", None) or self.answer_days,
                keywords={k: list(v) for k, v in (getattr(c, "keywords", None) or {}).items()},
                reader=reader,
                attributes=tuple(_attribute(a, reader) for a in getattr(c, "attributes", ())),
            )
            for c in pack.categories
        ]
        self._categories = {c.key: c for c in self.categories}
        self._overrides: dict[tuple[str, str], str] = {}
        for c in pack.categories:
            for kec_code, agency in (getattr(c, "routing", None) or {}).items():
                self._overrides[(c.key, kec_code)] = agency

    def category(self, key: str) -> CategoryInfo | None:
        return self._categories.get(key)

    def agency(self, key: str) -> AgencyInfo | None:
        return self.agencies.get(key)

    def agency_label(self, key: str | None, *, short: bool = False) -> str:
        """An agency's name (or short name) by key; the key itself when it is unknown."""
        agency = self.agencies.get(key or "")
        if agency is None:
            return key or "-"
        return agency.short_name if short else agency.name

    def agency_for(self, category_key: str, kecamatan_code: str | None) -> str:
        category = self._categories[category_key]
        if kecamatan_code:
            return self._overrides.get((category_key, kecamatan_code), category.agency_key)
        return category.agency_key

    def kecamatan_by_code(self, code: str | None) -> KecamatanInfo | None:
        return self._kecamatan.get(code or "")

    def kelurahan(self, code: str) -> KelurahanInfo:
        return self._kelurahan[code]

    def has_kelurahan(self, code: str) -> bool:
        return code in self._kelurahan

    def kelurahan_in(self, kecamatan_code: str | None) -> list[KelurahanInfo]:
        return [k for k in self._kelurahan.values() if k.kecamatan_code == kecamatan_code]

    def all_kelurahan(self) -> list[KelurahanInfo]:
        return list(self._kelurahan.values())

    def in_city(self, lat: float, lon: float) -> bool:
        return bool(self.gazetteer.in_city(lat, lon))

    def locate(self, lat: float, lon: float) -> Located | None:
        """The kelurahan of a shared location (from the pack's boundaries), if known."""
        return self.gazetteer.locate(lat, lon)

    def match_kelurahan(self, text: str) -> tuple[list[KelurahanInfo], bool]:
        """Kelurahan the typed text may mean, best first, and whether the first is certain
        enough to take without asking."""
        matches = self.gazetteer.match_kelurahan(text)
        confident = len(matches) == 1 and matches[0].confident
        return [self._kelurahan[m.code] for m in matches], confident


def _attribute(entry: Any, reader: Reader) -> AttributeInfo:
    return AttributeInfo(
        code=entry.code, datatype=entry.datatype, required=bool(entry.required),
        variable=bool(entry.variable), descriptions=dict(entry.description),
        datatype_descriptions=dict(entry.datatype_description or {}),
        values=tuple(AttributeValueInfo(key=v.key, names=dict(v.names), reader=reader)
                     for v in entry.values),
        reader=reader)
