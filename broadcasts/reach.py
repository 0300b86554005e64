"""How far a campaign reached: overall and per kecamatan and kelurahan (worded for staff by
bot.broadcast_texts)."""

from __future__ import annotations

from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from storage import repo_broadcasts as repo
from storage.city import City
from storage.models.broadcast import Campaign, DeliveryStatus

COUNTERS = ("targeted", "queued", "sending", "sent", "delivered", "read", "failed", "skipped",
            "clicks", "forwards", "joins")


def _blank() -> dict[str, Any]:
    out: dict[str, Any] = dict.fromkeys(COUNTERS, 0)
    out["failed_by_reason"] = {}
    out["skipped_by_reason"] = {}
    return out


def _add(bucket: dict[str, Any], status: str, reason: str | None, n: int) -> None:
    bucket["targeted"] += n
    if status in (DeliveryStatus.SENT, DeliveryStatus.DELIVERED, DeliveryStatus.READ):
        bucket["sent"] += n
    if status in (DeliveryStatus.DELIVERED, DeliveryStatus.READ):
        bucket["delivered"] += n
    if status == DeliveryStatus.READ:
        bucket["read"] += n
    if status in (DeliveryStatus.QUEUED, DeliveryStatus.SENDING, DeliveryStatus.FAILED, DeliveryStatus.SKIPPED):
        bucket[status] += n
    if status in (DeliveryStatus.FAILED, DeliveryStatus.SKIPPED):
        by = bucket[f"{status}_by_reason"]
        key = reason or "unknown"
        by[key] = by.get(key, 0) + n


async def campaign_reach(*, session: AsyncSession, city: City,
                         campaign: Campaign) -> dict[str, Any]:
    """Every reach figure of one campaign (what `emas campaign status --json` prints)."""
    assert campaign.id is not None
    totals = _blank()
    by_kel: dict[str | None, dict[str, Any]] = {}
    for kel, status, reason, n in await repo.reach_rows(session=session,
                                                        campaign_id=campaign.id):
        _add(totals, status, reason, n)
        _add(by_kel.setdefault(kel, _blank()), status, reason, n)
    for name, rows in (("clicks", await repo.click_rows(session=session, campaign_id=campaign.id)),
                       ("forwards", await repo.forward_rows(session=session,
                                                            campaign_id=campaign.id)),
                       ("joins", await repo.join_rows(session=session, campaign_id=campaign.id))):
        for kel, n in rows:
            totals[name] += n
            by_kel.setdefault(kel, _blank())[name] += n

    kecamatan: list[dict[str, Any]] = []
    for kec in city.kecamatan:
        kec_total = _blank()
        kelurahan: list[dict[str, Any]] = []
        for place in city.kelurahan_in(kec.code):
            figures = by_kel.get(place.code)
            if figures is None:
                continue
            kelurahan.append({"code": place.code, "name": place.name, **figures})
            _merge(kec_total, figures)
        if kelurahan:
            kecamatan.append({"code": kec.code, "name": kec.name, **kec_total,
                              "kelurahan": kelurahan})
    unknown = {k: v for k, v in by_kel.items() if k is None or not city.has_kelurahan(k)}
    no_area = _blank()
    for figures in unknown.values():
        _merge(no_area, figures)

    first, last, n_sent = await repo.sending_rate(session=session, campaign_id=campaign.id)
    seconds = (last - first).total_seconds() if first and last else 0.0
    return {
        "id": campaign.id,
        "title": campaign.title,
        "status": campaign.status,
        "created_by": campaign.created_by,
        "approved_by": campaign.approved_by,
        "send_at": campaign.send_at.isoformat() if campaign.send_at else None,
        "started_at": campaign.started_at.isoformat() if campaign.started_at else None,
        "finished_at": campaign.finished_at.isoformat() if campaign.finished_at else None,
        "repeat_weekly": campaign.repeat_weekly,
        **totals,
        "no_area": no_area,
        "kecamatan": kecamatan,
        "rate": {
            "first_sent_at": first.isoformat() if first else None,
            "last_sent_at": last.isoformat() if last else None,
            "messages_per_second": round((n_sent - 1) / seconds, 2) if seconds > 0 else None,
        },
    }


def _merge(into: dict[str, Any], figures: dict[str, Any]) -> None:
    for key in COUNTERS:
        into[key] += figures[key]
    for key in ("failed_by_reason", "skipped_by_reason"):
        for reason, n in figures[key].items():
            into[key][reason] = into[key].get(reason, 0) + n
