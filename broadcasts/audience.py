"""Who a campaign is for: groups and areas choose recipients; roles, channels, languages narrow."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Annotated

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from broadcasts.groups import GroupCatalog
from broadcasts.problems import N_, Problem, problem
from storage.city import City

ROLES = ("resident", "kim", "kepling")
CHANNELS = ("telegram", "whatsapp")
LANGUAGES = ("id", "en")


Codes = Annotated[list[str], BeforeValidator(lambda value: list(value or []))]


class Audience(BaseModel):
    """A campaign's audience (stored as JSON on the campaign).

    A subscriber is chosen when subscribed to one of `groups`, or living in one of `kecamatan`
    or `kelurahan`; when none of those is given, `roles` choose on their own. `roles` (when
    groups or areas are given), `channels` and `languages` then narrow the choice. With
    `relays`, the kepala lingkungan of the areas covered (by area or by KIM; every relay when
    the audience names no area, e.g. C-Gen alone) also receive it, with their forwarding kit.
    `poll_respondents` chooses the people who answered that poll.
    """

    model_config = ConfigDict(extra="ignore")

    groups: Codes = Field(default_factory=list)
    kecamatan: Codes = Field(default_factory=list)
    kelurahan: Codes = Field(default_factory=list)
    roles: Codes = Field(default_factory=list)
    channels: Codes = Field(default_factory=list)
    languages: Codes = Field(default_factory=list)
    relays: bool = True
    # The people who answered a poll (its results, sent back to them).
    poll_respondents: int | None = None

    @property
    def empty(self) -> bool:
        return not (self.groups or self.kecamatan or self.kelurahan or self.roles
                    or self.poll_respondents)

    def problems(self, catalog: GroupCatalog, city: City) -> list[Problem]:
        """What is wrong with the audience; empty when usable."""
        out: list[Problem] = []
        if self.empty:
            out.append(problem(N_("Choose at least one group, area or role.")))
        for key in self.groups:
            if key not in catalog:
                out.append(problem(N_("Unknown group: {key}"), key=key))
        for code in self.kecamatan:
            if city.kecamatan_by_code(code) is None:
                out.append(problem(N_("Unknown kecamatan: {code}"), code=code))
        for code in self.kelurahan:
            if not city.has_kelurahan(code):
                out.append(problem(N_("Unknown kelurahan: {code}"), code=code))
        for role in self.roles:
            if role not in ROLES:
                out.append(problem(N_("Unknown role: {role}"), role=role))
        for channel in self.channels:
            if channel not in CHANNELS:
                out.append(problem(N_("Unknown channel: {channel}"), channel=channel))
        for language in self.languages:
            if language not in LANGUAGES:
                out.append(problem(N_("Unknown language: {language}"), language=language))
        return out

    def area_kelurahan(self, city: City) -> list[str]:
        """Kelurahan whose residents are chosen by area (not by subscription)."""
        codes = set(self.kelurahan)
        for kec in self.kecamatan:
            codes |= {k.code for k in city.kelurahan_in(kec)}
        return sorted(codes)

    def relay_kelurahan(self, catalog: GroupCatalog, area: Iterable[str]) -> list[str] | None:
        """Kelurahan whose relays receive the kit (`area`: what `area_kelurahan` gave); None
        means every relay (city-wide)."""
        codes = set(area) | set(catalog.kelurahan_covered(self.groups))
        return sorted(codes) if codes else None
