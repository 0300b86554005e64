"""Finding an open report about the same problem, so a resident can support it ("me too")."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

from rapidfuzz import fuzz
from sqlmodel.ext.asyncio.session import AsyncSession

from reports.lifecycle import OPEN
from storage import repo_agencies
from storage.models import Report
from storage.places import fold

if TYPE_CHECKING:
    from storage.city import City

NEAR_METRES = 100.0
# token_set_ratio of two descriptions, filler words removed: the same pothole described twice
# scores 85-95, two different problems of one category in one kelurahan 40-65.
SIMILAR_TEXT = 75.0
_EARTH_RADIUS_M = 6_371_000.0
# Words that say nothing about which problem it is.
_FILLER = frozenset(
    {
        "yang", "di", "ke", "dari", "dan", "ada", "sudah", "udah", "sangat", "ini", "itu",
        "tolong", "mohon", "pak", "bu", "bapak", "ibu", "sejak", "hari", "minggu", "bulan",
        "tidak", "belum", "sekali", "banget", "sekitar", "kami", "saya", "warga", "segera",
        "the", "a", "an", "is", "in", "at", "of", "and", "please", "since", "for", "there",
    }
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class Similar:
    """An open report that may be about the same problem."""

    report: Report
    distance_m: float | None  # set when both reports carry a location
    score: float  # description similarity, 0-100
    supporters: int


def _words(text: str) -> str:
    return " ".join(w for w in fold(text).split() if w not in _FILLER)


def text_similarity(first: str, second: str) -> float:
    a, b = _words(first), _words(second)
    if not a or not b:
        return 0.0
    return float(fuzz.token_set_ratio(a, b))


def distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in metres (haversine)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * _EARTH_RADIUS_M * math.asin(math.sqrt(h))


def _box(lat: float, lon: float, metres: float) -> tuple[float, float, float, float]:
    dlat = metres / 111_320.0
    dlon = metres / (111_320.0 * max(math.cos(math.radians(lat)), 0.01))
    return lat - dlat, lat + dlat, lon - dlon, lon + dlon


async def find_similar(
    *,
    session: AsyncSession,
    city: City,
    category_key: str,
    kelurahan_code: str | None,
    description: str,
    lat: float | None = None,
    lon: float | None = None,
    exclude_reporter: int | None = None,
    limit: int = 3,
) -> list[Similar]:
    """Open reports of the same category within 100 m, or in the same kelurahan with a similar
    description; nearest and most alike first. Confidential categories are never shown."""
    category = city.category(category_key)
    if category is None or category.confidential:
        return []
    box = _box(lat, lon, NEAR_METRES) if lat is not None and lon is not None else None
    candidates = await repo_agencies.list_open_candidates(
        session=session, category_key=category_key, statuses=OPEN,
        kelurahan_code=kelurahan_code, box=box)
    found: list[tuple[float, float, Report, float | None]] = []
    for report in candidates:
        if exclude_reporter is not None and report.reporter_id == exclude_reporter:
            continue
        metres = None
        if None not in (lat, lon, report.latitude, report.longitude):
            metres = distance_m(lat, lon, report.latitude, report.longitude)  # type: ignore[arg-type]
        score = text_similarity(description, report.description)
        near = metres is not None and metres <= NEAR_METRES
        alike = report.kelurahan_code == kelurahan_code and score >= SIMILAR_TEXT
        if near or alike:
            found.append((metres if near and metres is not None else NEAR_METRES * 10, -score,
                          report, metres))
    return await _ranked(session, found, limit)


# Staff look wider than residents: the same category within this distance, or in the same
# kelurahan, whatever the words (two residents rarely describe one pothole alike).
STAFF_NEAR_METRES = 250.0


async def nearby_for_staff(*, session: AsyncSession, report: Report,
                           limit: int = 5) -> list[Similar]:
    """Open reports of the same category near this one (or in its kelurahan), for staff
    deciding whether to merge it: nearest first, then the most alike."""
    lat, lon = report.latitude, report.longitude
    box = _box(lat, lon, STAFF_NEAR_METRES) if lat is not None and lon is not None else None
    candidates = await repo_agencies.list_open_candidates(
        session=session, category_key=report.category_key, statuses=OPEN,
        kelurahan_code=report.kelurahan_code, box=box)
    found: list[tuple[float, float, Report, float | None]] = []
    for other in candidates:
        if other.id == report.id:
            continue
        metres = None
        if None not in (lat, lon, other.latitude, other.longitude):
            metres = distance_m(lat, lon, other.latitude, other.longitude)  # type: ignore[arg-type]
            if metres > STAFF_NEAR_METRES and other.kelurahan_code != report.kelurahan_code:
                continue
        score = text_similarity(report.description, other.description)
        found.append((metres if metres is not None else STAFF_NEAR_METRES * 10, -score, other,
                      metres))
    return await _ranked(session, found, limit)


async def _ranked(session: AsyncSession, found: list[tuple[float, float, Report, float | None]],
                  limit: int) -> list[Similar]:
    """The `limit` first of (distance to sort by, -text score, report, metres), with how many
    residents support each."""
    found.sort(key=lambda item: (item[0], item[1]))
    chosen = found[:limit]
    counts = await repo_agencies.count_supporters(
        session=session, report_ids=[r.id or 0 for _d, _s, r, _m in chosen])
    return [Similar(report=r, distance_m=m, score=-s, supporters=counts.get(r.id or 0, 0))
            for _d, s, r, m in chosen]
