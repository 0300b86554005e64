"""The dispatcher against the Bot API double: every subscriber once, at Telegram's limits."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest

from bot.app import Container, build_container
from bot.handlers.telegram_bulk import TelegramBulkSender, bulk_bot
from bot.settings import Settings
from broadcasting import (
    BERNGAM,
    add_subscribers,
    create_campaign,
    deliveries,
    delivery_counts,
    running,
    wait_for_status,
    windows_over,
)
from broadcasts.dispatcher import Dispatcher
from broadcasts.hub import BroadcastHub
from doubles.telegram_api import TelegramDouble, create_bot_api, serve_bot_api
from storage import repo_broadcasts
from storage.models.broadcast import Subscriber

TOKEN = "4242:BROADCAST"


@dataclass
class Env:
    box: Container
    hub: BroadcastHub
    double: TelegramDouble
    settings: Settings
    notes: list[tuple[str, str, str, str]]

    def dispatcher(self) -> Dispatcher:
        return self.hub.build_dispatcher(idle_poll=0.05, backoff=0.05)

    async def people(self, n: int, start: int = 800_000, **kw: object) -> list[int]:
        ids = list(range(start, start + n))
        await add_subscribers(self.box.db, self.box.city, self.settings,
                              [str(i) for i in ids], **kw)  # type: ignore[arg-type]
        return ids

    async def campaign(self, **kw: object) -> int:
        return await create_campaign(self.box.db, self.box.city, self.settings,
                                     **kw)  # type: ignore[arg-type]


@pytest.fixture
async def env(settings: Settings) -> AsyncIterator[Env]:
    from conftest import _reset

    double = create_bot_api(TOKEN)
    async with serve_bot_api(double) as root:
        # A little under 30/s: the double shares this test's event loop, so it sees requests
        # with some delay; bench/broadcast.py measures the full rate.
        tg = settings.model_copy(update={"telegram_token": TOKEN, "telegram_api_url": root,
                                         "broadcast_lease_seconds": 5.0,
                                         "broadcast_telegram_rate": 28.5})
        box = build_container(tg)
        await _reset(box.db)
        hub = box.broadcasts
        notes: list[tuple[str, str, str, str]] = []

        async def notify(channel: str, address: str, locale: str, text: str) -> None:
            notes.append((channel, address, locale, text))

        hub.notify = notify
        sender = TelegramBulkSender(bulk_bot(TOKEN, root),
                                    per_second=tg.broadcast_telegram_rate)
        hub.register_sender(sender)
        try:
            yield Env(box, hub, double, tg, notes)
        finally:
            await sender.stop()
            await box.db.dispose()


def _sends(double: TelegramDouble) -> list[float]:
    return [c.timestamp for c in double.sent if c.method in ("sendMessage", "sendPhoto")]


async def test_every_subscriber_gets_it_once_without_flood_errors(env: Env) -> None:
    people = await env.people(75)
    campaign = await env.campaign(text_id="Kerja bakti Minggu pagi di Kelurahan Pahlawan.")
    dispatcher = env.dispatcher()
    async with running(dispatcher) as task:
        await wait_for_status(env.box.db, campaign, "completed", task=task)
    received = Counter(c.chat_id for c in env.double.sent if c.method == "sendMessage")
    assert set(received) == set(people)
    assert set(received.values()) == {1}
    assert not [c for c in env.double.rejected if c.status == 429]
    assert windows_over(_sends(env.double), 30, 1.0) == 0
    assert env.double.texts_to(people[0]) == ["Kerja bakti Minggu pagi di Kelurahan Pahlawan."]
    assert await delivery_counts(env.box.db, campaign) == {"delivered": 75}


async def test_429_pauses_the_lane_and_nothing_is_lost(env: Env) -> None:
    people = await env.people(40)
    campaign = await env.campaign()
    env.double.fail_next(3, status=429, retry_after=1, methods=["sendMessage"])
    dispatcher = env.dispatcher()
    async with running(dispatcher) as task:
        await wait_for_status(env.box.db, campaign, "completed", task=task)
    received = Counter(c.chat_id for c in env.double.sent if c.method == "sendMessage")
    assert set(received) == set(people) and set(received.values()) == {1}
    limiter = env.hub.limiter.get("telegram")
    assert limiter is not None and limiter.penalties == 3
    # After the 429s, nothing was sent until retry_after had passed.
    refused = [c.timestamp for c in env.double.rejected if c.status == 429]
    after = [t for t in _sends(env.double) if t > refused[0]]
    assert min(after) - refused[0] >= 0.95


async def test_server_errors_are_retried_then_failed_with_the_reason(env: Env) -> None:
    people = await env.people(10)
    campaign = await env.campaign()
    env.double.fail_next(4, status=502, methods=["sendMessage"])
    dispatcher = env.dispatcher()
    async with running(dispatcher) as task:
        await wait_for_status(env.box.db, campaign, "completed", task=task)
    received = Counter(c.chat_id for c in env.double.sent if c.method == "sendMessage")
    assert set(received) == set(people) and set(received.values()) == {1}

    # A recipient the platform never accepts fails after the bounded number of attempts.
    env.double.clear()
    doomed = await env.people(1, start=900_000, kelurahan=BERNGAM, groups=["kim:" + BERNGAM])
    second = await env.campaign(groups=["kim:" + BERNGAM])
    env.double.fail_next(50, status=500, methods=["sendMessage"])
    async with running(env.dispatcher()) as task:
        await wait_for_status(env.box.db, second, "completed", task=task)
    rows = {d.address: d for d in await deliveries(env.box.db, second)}
    assert rows[str(doomed[0])].status == "failed"
    assert rows[str(doomed[0])].reason == "server_error"
    attempts = [c for c in env.double.rejected if c.params.get("chat_id") == str(doomed[0])]
    assert len(attempts) == env.settings.broadcast_max_attempts


async def test_a_blocked_bot_marks_the_subscriber_stopped(env: Env) -> None:
    people = await env.people(5)
    env.double.block_chat(people[2])
    campaign = await env.campaign()
    async with running(env.dispatcher()) as task:
        await wait_for_status(env.box.db, campaign, "completed", task=task)
    rows = {d.address: d for d in await deliveries(env.box.db, campaign)}
    assert rows[str(people[2])].status == "failed"
    assert rows[str(people[2])].reason == "blocked"
    async with env.box.db.reader() as session:
        sub = await repo_broadcasts.get_subscriber(session=session, channel="telegram",
                                                   address=str(people[2]))
    assert isinstance(sub, Subscriber) and sub.stopped and sub.stop_reason == "blocked"
    # The next campaign skips them: stopped people are not sent to.
    second = await env.campaign()
    async with running(env.dispatcher()) as task:
        await wait_for_status(env.box.db, second, "completed", task=task)
    again = {d.address: d for d in await deliveries(env.box.db, second)}
    assert again[str(people[2])].status == "skipped"
    assert again[str(people[2])].reason == "opted_out"


async def test_a_kim_group_chat_gets_it_within_the_group_limit(env: Env) -> None:
    """Group chats are paced at 20 a minute each: two campaigns in a row reach one group."""
    group = "-100777"
    await add_subscribers(env.box.db, env.box.city, env.settings, [group], role="kim")
    first, second = await env.campaign(text_id="Satu"), await env.campaign(text_id="Dua")
    async with running(env.dispatcher()) as task:
        await wait_for_status(env.box.db, first, "completed", task=task)
        await wait_for_status(env.box.db, second, "completed", task=task)
    assert sorted(env.double.texts_to(int(group))) == ["Dua", "Satu"]
    limiter = env.hub.limiter.get("telegram")
    assert limiter is not None
    for _i in range(18):
        limiter.note_chat(group)
    assert limiter.chat_wait(group) > 55  # a 21st message would wait for the minute


async def test_reach_summary_goes_to_the_sender(env: Env) -> None:
    from broadcasts.campaigns import CampaignService
    from broadcasts.groups import load_catalog
    from storage.models.broadcast import Campaign
    from storage.types import utcnow

    await env.people(3)
    campaign = await env.campaign(send=False)
    async with env.box.db.session() as session:
        row = await session.get(Campaign, campaign)
        assert row is not None
        row.notify_channel, row.notify_address, row.notify_locale = "telegram", "555", "en"
        session.add(row)
        await CampaignService(session=session, city=env.box.city,
                              catalog=load_catalog(env.box.city, env.settings.city_dir),
                              settings=env.settings, now=utcnow).send(campaign, by="operator")
    async with running(env.dispatcher()) as task:
        await wait_for_status(env.box.db, campaign, "completed", task=task)
        for _i in range(40):
            if env.notes:
                break
            await asyncio.sleep(0.05)
    assert env.notes, "no summary sent"
    channel, address, locale, text = env.notes[0]
    assert (channel, address, locale) == ("telegram", "555", "en")
    assert "Targeted: 3" in text and "Sent: 3" in text


async def test_a_picture_is_uploaded_once_then_reused(env: Env) -> None:
    from factories import png_bytes
    from storage.media import MediaStore

    people = await env.people(3)
    store = MediaStore(env.settings.media_dir, max_bytes=env.settings.max_photo_bytes)
    image = store.save_image(png_bytes(seed=3)).path
    campaign = await env.campaign(text_id="Festival Kreatif Binjai, Sabtu ini!",
                                  image_path=image, link_url="https://binjaikota.go.id/fest")
    async with running(env.dispatcher()) as task:
        await wait_for_status(env.box.db, campaign, "completed", task=task)
    photos = [c for c in env.double.sent if c.method == "sendPhoto"]
    assert sorted(c.chat_id for c in photos) == sorted(people)
    uploads = [c for c in photos if not isinstance(c.params.get("photo"), str)]
    assert len(uploads) == 1  # the others reuse Telegram's file id
    assert all(c.text == "Festival Kreatif Binjai, Sabtu ini!" for c in photos)
    # No public URL here: the button links straight to the page.
    assert photos[0].reply_markup == {"inline_keyboard": [[
        {"text": "Buka tautan", "url": "https://binjaikota.go.id/fest"}]]} or \
        photos[0].reply_markup == {"inline_keyboard": [[
            {"text": "Open the link", "url": "https://binjaikota.go.id/fest"}]]}


async def test_pause_resume_and_cancel_steer_a_running_campaign(env: Env) -> None:
    from broadcasts.campaigns import CampaignService
    from broadcasts.groups import load_catalog
    from storage.types import utcnow

    people = await env.people(60)
    campaign = await env.campaign()

    async def service_call(name: str) -> None:
        async with env.box.db.session() as session:
            service = CampaignService(
                session=session, city=env.box.city,
                catalog=load_catalog(env.box.city, env.settings.city_dir),
                settings=env.settings, now=utcnow)
            await getattr(service, name)(campaign)

    async with running(env.dispatcher()) as task:
        for _ in range(400):
            if len(env.double.sent) >= 15:
                break
            await asyncio.sleep(0.02)
        await service_call("pause")
        await asyncio.sleep(0.3)  # what was on the wire lands
        paused_at = len(env.double.sent)
        await asyncio.sleep(1.0)
        assert len(env.double.sent) == paused_at  # nothing more while paused
        assert 0 < paused_at < 60
        await service_call("resume")
        await wait_for_status(env.box.db, campaign, "completed", task=task)
    received = Counter(c.chat_id for c in env.double.sent if c.method == "sendMessage")
    assert set(received) == set(people) and set(received.values()) == {1}

    second = await env.campaign()
    async with running(env.dispatcher()) as task:
        for _ in range(400):
            if len(env.double.sent) >= 70:
                break
            await asyncio.sleep(0.02)
        campaign = second
        await service_call("cancel")
        await asyncio.sleep(0.5)
        sent = len(env.double.sent)
        await asyncio.sleep(0.5)
        assert len(env.double.sent) == sent
    states = Counter((d.status, d.reason) for d in await deliveries(env.box.db, second))
    assert states[("skipped", "cancelled")] > 0
    assert sum(states.values()) == 60


async def test_a_claim_cut_off_by_shutdown_is_given_back(env: Env) -> None:
    """Stopping while a claim's transaction is in flight: the claim commits, but its rows never
    reach the pump. They must go back to the queue, or the next dispatcher would wait out the
    lease before those residents get the message."""
    from storage.types import utcnow

    await env.people(60)
    campaign = await env.campaign()
    dispatcher = env.dispatcher()
    async with running(dispatcher):
        for _ in range(400):
            if len(env.double.sent) >= 5:
                break
            await asyncio.sleep(0.02)
        # The claim the shutdown cut off: committed under this dispatcher's name, seen by no one.
        async with env.box.db.session() as session:
            orphans = await repo_broadcasts.claim_deliveries(
                session=session, campaign_id=campaign, channel="telegram",
                dispatcher_id=dispatcher.id, now=utcnow(), limit=5)
        assert orphans
    held = [d for d in await deliveries(env.box.db, campaign) if d.claimed_by is not None]
    assert held == []
    orphan_rows = {d.id: d for d in await deliveries(env.box.db, campaign)
                   if d.id in {o.id for o in orphans}}
    assert {d.status for d in orphan_rows.values()} <= {"queued", "delivered"}
    # Given back untouched: the aborted claim did not use up one of the message's attempts.
    assert all(d.attempts == 0 for d in orphan_rows.values() if d.status == "queued")


async def test_a_scheduled_weekly_campaign_starts_on_time_and_plans_the_next(
        env: Env) -> None:
    from datetime import timedelta

    from storage.types import utcnow

    await env.people(3)
    when = utcnow() + timedelta(seconds=1)
    campaign = await env.campaign(send_at=when, repeat_weekly=True)
    from broadcasting import campaign_status

    assert await campaign_status(env.box.db, campaign) == "scheduled"
    async with running(env.dispatcher()) as task:
        await wait_for_status(env.box.db, campaign, "completed", task=task)
    sends = [c for c in env.double.sent if c.method == "sendMessage"]
    assert len(sends) == 3
    async with env.box.db.reader() as session:
        from storage import repo_broadcasts as repo

        nxt = [c for c in await repo.list_campaigns(session=session) if c.parent_id == campaign]
    assert len(nxt) == 1 and nxt[0].status == "scheduled"
    assert nxt[0].send_at is not None
    assert abs((nxt[0].send_at - when) - timedelta(days=7)) < timedelta(seconds=1)
