"""A campaign's impact: what residents of its audience's kelurahan did in the 14 days after it
was sent, against the 14 days before: new subscribers, reports and questions.

The audience's area is the kelurahan its areas and KIM groups stand for; an audience with no
area (C-Gen, a topic, a role) is the whole city. The days after are counted up to now while
they are not over, and the figures say so.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from broadcasts.audience import Audience
from broadcasts.groups import GroupCatalog
from storage import repo_outreach as repo
from storage.city import City
from storage.models.broadcast import Campaign

WINDOW = timedelta(days=14)
MEASURES = ("subscribers", "reports", "questions")


def audience_kelurahan(audience: Audience, catalog: GroupCatalog, city: City) -> list[str] | None:
    """The kelurahan a campaign's audience stands for; None for the whole city."""
    codes = set(audience.area_kelurahan(city)) | set(catalog.kelurahan_covered(audience.groups))
    return sorted(codes) if codes else None


def _totals(counts: dict[str, dict[str | None, int]]) -> dict[str, int]:
    return {m: sum(counts.get(m, {}).values()) for m in MEASURES}


async def campaign_impact(*, session: AsyncSession, city: City, catalog: GroupCatalog,
                          campaign: Campaign, now: datetime) -> dict[str, Any] | None:
    """The campaign's impact, or None before it was sent."""
    sent = campaign.started_at
    if sent is None:
        return None
    area = audience_kelurahan(Audience.model_validate(campaign.audience), catalog, city)
    before = await repo.activity_by_kelurahan(session=session, kelurahan=area,
                                              start=sent - WINDOW, end=sent)
    until = min(now, sent + WINDOW)
    after = await repo.activity_by_kelurahan(session=session, kelurahan=area, start=sent,
                                             end=max(until, sent))
    totals_before, totals_after = _totals(before), _totals(after)
    places: list[dict[str, Any]] = []
    codes = area if area is not None else [k.code for k in city.all_kelurahan()]
    for code in codes:
        if not city.has_kelurahan(code):
            continue
        row_before = {m: before.get(m, {}).get(code, 0) for m in MEASURES}
        row_after = {m: after.get(m, {}).get(code, 0) for m in MEASURES}
        if area is None and not any(row_before.values()) and not any(row_after.values()):
            continue  # city-wide: only the kelurahan where something happened
        kel = city.kelurahan(code)
        kec = city.kecamatan_by_code(kel.kecamatan_code)
        places.append({"code": code, "name": kel.name, "kecamatan": kec.name if kec else "",
                       "before": row_before, "after": row_after})
    days_after = max(0.0, min(WINDOW, now - sent).total_seconds() / 86400)
    return {
        "sent_at": sent.isoformat(),
        "window_days": WINDOW.days,
        "days_after": round(days_after, 1),
        "complete": now >= sent + WINDOW,
        "city_wide": area is None,
        "kelurahan": None if area is None else list(area),
        "before": totals_before,
        "after": totals_after,
        "change": {m: totals_after[m] - totals_before[m] for m in MEASURES},
        "by_kelurahan": places,
    }
