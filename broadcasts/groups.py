"""The broadcast groups of a city: a KIM per kelurahan and kecamatan, communities, topics."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import yaml

from storage.city import City, Reader, city_language
from storage.places import fold

GROUPS_FILE = "groups.yaml"

KIM = "kim"
COMMUNITY = "community"
TOPIC = "topic"


@dataclass(frozen=True, slots=True)
class GroupInfo:
    key: str
    kind: str
    names: dict[str, str]
    kecamatan_code: str | None = None
    kelurahan_code: str | None = None
    aliases: tuple[str, ...] = ()
    position: int = 0
    reader: Reader = field(default=city_language, repr=False, compare=False)

    def name(self) -> str:
        return self.names.get(self.reader()) or self.names.get("id") or self.key

    def row(self) -> dict[str, Any]:
        return {"key": self.key, "kind": self.kind, "kecamatan_code": self.kecamatan_code,
                "kelurahan_code": self.kelurahan_code, "names": dict(self.names),
                "position": self.position, "active": True}


class GroupsFileError(ValueError):
    """groups.yaml is malformed; the message names the problem."""


@dataclass
class GroupCatalog:
    """Every group of the city, by key, with the lookups flows and the import need."""

    city: City
    groups: list[GroupInfo] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._by_key = {g.key: g for g in self.groups}

    def get(self, key: str) -> GroupInfo | None:
        return self._by_key.get(key)

    def __contains__(self, key: object) -> bool:
        return key in self._by_key

    def of_kind(self, kind: str) -> list[GroupInfo]:
        return [g for g in self.groups if g.kind == kind]

    def kim_kecamatan(self) -> list[GroupInfo]:
        return [g for g in self.groups if g.kind == KIM and g.kelurahan_code is None]

    def kim_for_kelurahan(self, code: str) -> GroupInfo | None:
        return self._by_key.get(kim_key(code))

    def expand(self, keys: list[str]) -> list[str]:
        """A kecamatan's KIM also reaches the subscribers of its kelurahan KIMs."""
        out: list[str] = []
        for key in keys:
            group = self._by_key.get(key)
            if group is None:
                continue
            out.append(key)
            if group.kind == KIM and group.kelurahan_code is None and group.kecamatan_code:
                out += [kim_key(k.code) for k in self.city.kelurahan_in(group.kecamatan_code)]
        return sorted(set(out))

    def kelurahan_covered(self, keys: list[str]) -> list[str]:
        """The kelurahan a set of groups stands for (KIMs only; other groups are city-wide)."""
        codes: set[str] = set()
        for key in keys:
            group = self._by_key.get(key)
            if group is None or group.kind != KIM:
                continue
            if group.kelurahan_code:
                codes.add(group.kelurahan_code)
            elif group.kecamatan_code:
                codes |= {k.code for k in self.city.kelurahan_in(group.kecamatan_code)}
        return sorted(codes)

    def resolve(self, text: str) -> GroupInfo | None:
        """A group by its key, alias or name as an operator or a CSV file writes it."""
        raw = text.strip()
        if raw in self._by_key:
            return self._by_key[raw]
        wanted = fold(raw)
        if not wanted:
            return None
        for group in self.groups:
            names = [*group.names.values(), *group.aliases]
            if any(fold(n) == wanted for n in names):
                return group
        if wanted.startswith("kim"):
            place = wanted[3:].strip()
            kec = next((k for k in self.city.kecamatan if fold(k.name) == place), None)
            if kec is not None:
                return self._by_key.get(kim_key(kec.code))
            matches, confident = self.city.match_kelurahan(place) if place else ([], False)
            if matches and confident:
                return self._by_key.get(kim_key(matches[0].code))
        return None


def kim_key(area_code: str) -> str:
    return f"kim:{area_code}"


def _kim_groups(city: City) -> list[GroupInfo]:
    groups: list[GroupInfo] = []
    position = 0
    for kec in city.kecamatan:
        position += 1
        name = f"KIM {kec.name}"
        groups.append(GroupInfo(key=kim_key(kec.code), kind=KIM, names={"id": name, "en": name},
                                kecamatan_code=kec.code, position=position))
        for kel in city.kelurahan_in(kec.code):
            position += 1
            name = f"KIM {kel.name} ({kec.name})"
            groups.append(GroupInfo(key=kim_key(kel.code), kind=KIM,
                                    names={"id": name, "en": name}, kecamatan_code=kec.code,
                                    kelurahan_code=kel.code, position=position))
    return groups


def _read_groups_file(path: Path, start: int) -> list[GroupInfo]:
    if not path.is_file():
        return []
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    if not isinstance(data, dict):
        raise GroupsFileError(f"{path.name}: expected a mapping")
    groups: list[GroupInfo] = []
    position = start
    for section, kind in (("communities", COMMUNITY), ("topics", TOPIC)):
        for entry in data.get(section) or []:
            if not isinstance(entry, dict) or not isinstance(entry.get("key"), str):
                raise GroupsFileError(f"{path.name}: {section} entries need a key")
            names = entry.get("names") or {}
            if not isinstance(names, dict) or not names.get("id") or not names.get("en"):
                raise GroupsFileError(f"{path.name}: {entry['key']} needs names in id and en")
            if entry["key"].startswith("kim:") or len(entry["key"]) > 48:
                raise GroupsFileError(f"{path.name}: {entry['key']} is not a usable key")
            position += 1
            groups.append(GroupInfo(key=entry["key"], kind=kind,
                                    names={str(k): str(v) for k, v in names.items()},
                                    aliases=tuple(str(a) for a in entry.get("aliases") or ()),
                                    position=position))
    return groups


def load_catalog(city: City, city_dir: Path) -> GroupCatalog:
    """The catalog for a city pack directory (read once per process)."""
    groups = [replace(g, reader=city.reader) for g in _groups_for(city_dir, city)]
    return GroupCatalog(city=city, groups=groups)


_CACHE: dict[Path, list[GroupInfo]] = {}


def _groups_for(city_dir: Path, city: City) -> list[GroupInfo]:
    key = city_dir.resolve()
    found = _CACHE.get(key)
    if found is None:
        kims = _kim_groups(city)
        found = kims + _read_groups_file(city_dir / GROUPS_FILE, len(kims))
        keys = [g.key for g in found]
        if len(keys) != len(set(keys)):
            raise GroupsFileError(f"{GROUPS_FILE}: duplicate group keys")
        _CACHE[key] = found
    return found
