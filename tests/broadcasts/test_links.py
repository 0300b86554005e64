"""A campaign's tracked link counts each recipient once; a flood of clicks writes nothing."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import event, func, select

from bot.app import Container, create_app
from broadcasts.campaigns import tracked_url
from storage.models.broadcast import Campaign, Delivery, LinkClick, Subscriber
from storage.types import utcnow

PUBLIC = "https://emas.binjaikota.test"


async def _campaign_to(box: Container, recipients: int) -> list[str]:
    """A sent campaign with a link; each recipient's tracked link."""
    async with box.db.session() as session:
        campaign = Campaign(title="Kerja bakti", status="completed", created_by="kominfo",
                            link_url="https://binjaikota.go.id/kerja-bakti", link_salt="s4lt",
                            created_at=utcnow())
        session.add(campaign)
        await session.flush()
        urls = []
        for n in range(recipients):
            subscriber = Subscriber(channel="telegram", address=str(800_000 + n),
                                    kelurahan_code="12.75.02.1004")
            session.add(subscriber)
            await session.flush()
            delivery = Delivery(campaign_id=campaign.id or 0, subscriber_id=subscriber.id or 0,
                                channel="telegram", address=subscriber.address,
                                kelurahan_code=subscriber.kelurahan_code, status="delivered")
            session.add(delivery)
            await session.flush()
            urls.append(tracked_url(PUBLIC, campaign.link_salt, delivery.id or 0,
                                    campaign.link_url or ""))
    return urls


async def test_each_recipient_counts_once_and_a_flood_writes_nothing(
    container: Container,
) -> None:
    box = container
    urls = await _campaign_to(box, 5)
    app = create_app(box.settings, container=box, start_channels=False)
    writes: list[str] = []

    def count_writes(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if statement.lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE")):
            writes.append(statement)

    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                 base_url=PUBLIC) as client:
        for url in urls[:3]:  # three recipients click, one of them twice
            first = await client.get(url.removeprefix(PUBLIC))
            assert first.status_code == 302
            assert first.headers["location"] == "https://binjaikota.go.id/kerja-bakti"
        await client.get(urls[0].removeprefix(PUBLIC))
        event.listen(box.db.engine.sync_engine, "before_cursor_execute", count_writes)
        try:
            for _ in range(100):  # someone hammers one recipient's link
                response = await client.get(urls[1].removeprefix(PUBLIC))
                assert response.status_code == 302
        finally:
            event.remove(box.db.engine.sync_engine, "before_cursor_execute", count_writes)
    assert writes == []
    async with box.db.reader() as session:
        clicks = (await session.exec(select(func.count()).select_from(LinkClick))).one()[0]
    assert clicks == 3
