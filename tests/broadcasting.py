"""Helpers for broadcast tests and the benchmark: subscribers in bulk, a running dispatcher."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Sequence
from typing import Any

from sqlalchemy import insert, select, text

from bot.settings import Settings
from broadcasts.audience import Audience
from broadcasts.campaigns import CampaignDraft, CampaignService
from broadcasts.dispatcher import Dispatcher
from broadcasts.groups import load_catalog
from broadcasts.subscribers import ensure_groups
from storage.city import City
from storage.db import Database
from storage.models.broadcast import Campaign, Delivery, Subscriber, Subscription
from storage.types import utcnow

PAHLAWAN = "12.75.01.1001"  # Binjai Utara
BERNGAM = "12.75.02.1001"  # Binjai Kota


async def add_subscribers(
    db: Database,
    city: City,
    settings: Settings,
    addresses: Sequence[str],
    *,
    channel: str = "telegram",
    groups: Sequence[str] = ("kim:" + PAHLAWAN,),
    kelurahan: str | None = PAHLAWAN,
    role: str = "resident",
    locale: str | None = None,
    stopped: bool = False,
    batch: int = 5_000,
) -> None:
    """Subscribers in bulk, straight into the tables (the way an import would leave them)."""
    catalog = load_catalog(city, settings.city_dir)
    now = utcnow()
    async with db.session() as session:
        await ensure_groups(session, catalog)
    sub_t = Subscriber.__table__  # type: ignore[attr-defined]
    subn_t = Subscription.__table__  # type: ignore[attr-defined]
    for start in range(0, len(addresses), batch):
        chunk = addresses[start:start + batch]
        async with db.session() as session:
            await session.exec(insert(sub_t), params=[
                {"channel": channel, "address": a, "kelurahan_code": kelurahan, "role": role,
                 "locale": locale, "is_group": channel == "telegram" and a.startswith("-"),
                 "source": "import", "consent_source": "test", "stopped": stopped,
                 "created_at": now, "updated_at": now}
                for a in chunk
            ])
            rows = await session.exec(
                select(sub_t.c.id).where(sub_t.c.channel == channel,
                                         sub_t.c.address.in_(list(chunk))))
            ids = [r[0] for r in rows.all()]
            if groups:
                await session.exec(insert(subn_t), params=[
                    {"subscriber_id": i, "group_key": g, "created_at": now}
                    for i in ids for g in groups
                ])


async def create_campaign(db: Database, city: City, settings: Settings, *,
                          groups: Sequence[str] = ("kim:" + PAHLAWAN,), text_id: str = "Halo",
                          text_en: str | None = None, send: bool = True,
                          **draft: Any) -> int:
    catalog = load_catalog(city, settings.city_dir)
    audience = draft.pop("audience", None) or Audience(groups=list(groups))
    title = draft.pop("title", "Uji")
    created_by = draft.pop("created_by", "operator")
    texts = {"id": text_id}
    if text_en:
        texts["en"] = text_en
    async with db.session() as session:
        service = CampaignService(session=session, city=city, catalog=catalog,
                                  settings=settings, now=utcnow)
        campaign = await service.create(
            CampaignDraft(title=title, texts=texts, audience=audience, **draft),
            created_by=created_by)
        assert campaign.id is not None
        if send:
            await service.send(campaign.id, by="operator")
        return campaign.id


async def campaign_status(db: Database, campaign_id: int) -> str:
    async with db.reader() as session:
        campaign = await session.get(Campaign, campaign_id)
        assert campaign is not None
        return campaign.status


async def delivery_counts(db: Database, campaign_id: int) -> dict[str, int]:
    async with db.reader() as session:
        rows = await session.exec(text(
            "SELECT status, count(*) FROM delivery WHERE campaign_id = :c GROUP BY status"),
            params={"c": campaign_id})
        return {r[0]: int(r[1]) for r in rows.all()}


async def deliveries(db: Database, campaign_id: int) -> list[Delivery]:
    async with db.reader() as session:
        from sqlmodel import select as sm_select

        result = await session.exec(
            sm_select(Delivery).where(Delivery.campaign_id == campaign_id))
        return list(result.all())


@contextlib.asynccontextmanager
async def running(dispatcher: Dispatcher) -> AsyncIterator[asyncio.Task[None]]:
    task = asyncio.create_task(dispatcher.run())
    try:
        yield task
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def wait_for_status(db: Database, campaign_id: int, status: str,
                          within: float = 30.0, task: asyncio.Task[None] | None = None) -> float:
    """Seconds it took for the campaign to reach `status`."""
    start = time.monotonic()
    while True:
        if await campaign_status(db, campaign_id) == status:
            return time.monotonic() - start
        if task is not None and task.done():
            task.result()
            raise AssertionError("the dispatcher stopped")
        if time.monotonic() - start > within:
            raise AssertionError(
                f"campaign {campaign_id} not {status} after {within} s: "
                f"{await delivery_counts(db, campaign_id)}")
        await asyncio.sleep(0.05)


def windows_over(times: Sequence[float], limit: int, window: float) -> int:
    """How many sends had more than `limit` sends within `window` seconds up to them."""
    ordered = sorted(times)
    over = 0
    first = 0
    for last, moment in enumerate(ordered):
        while ordered[first] <= moment - window:
            first += 1
        if last - first + 1 > limit:
            over += 1
    return over
