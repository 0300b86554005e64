"""Announcements in chat: residents subscribe, relays register and forward, staff compose."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

import pytest

from bot.app import Container
from broadcasting import (
    PAHLAWAN,
    add_subscribers,
    deliveries,
    running,
    wait_for_status,
)
from broadcasts.groups import load_catalog
from broadcasts.subscribers import SubscriberService
from chat import TelegramChat, TerminalChat
from conftest import WEBHOOK_SECRET, TelegramEnv
from doubles.telegram_updates import group_text_update
from reports.staff import Account, add_staff
from storage import repo, repo_broadcasts
from storage.models import Report
from storage.types import utcnow

STAFF = 700_100


async def _subscriptions(box: Container, channel: str, address: str) -> tuple[list[str], bool]:
    async with box.db.reader() as session:
        sub = await repo_broadcasts.get_subscriber(session=session, channel=channel,
                                                   address=address)
        if sub is None or sub.id is None:
            return [], False
        keys = await repo_broadcasts.list_subscriptions(session=session, subscriber_id=sub.id)
        return keys, sub.stopped


@contextlib.asynccontextmanager
async def _service(box: Container) -> AsyncIterator[SubscriberService]:
    async with box.db.session() as session:
        yield SubscriberService(session=session, city=box.city,
                                catalog=load_catalog(box.city, box.settings.city_dir),
                                now=utcnow)


async def _invite(box: Container, kelurahan: str = PAHLAWAN) -> str:
    async with _service(box) as service:
        return await service.create_invite(kelurahan_code=kelurahan, name="Pak Amir",
                                           lingkungan="Lingkungan II", created_by="operator")


async def test_a_resident_subscribes_stops_and_comes_back(container: Container) -> None:
    chat = TerminalChat(container.engine, user_key="warga-1", locale="en")
    await chat.say("/start")
    await chat.tap("Subscribe to announcements")
    assert "do not receive any announcements yet" in chat.text
    await chat.tap("Choose my kelurahan")
    await chat.say("pahlawan")
    assert "Subscribed: KIM Pahlawan (Binjai Utara)." in chat.text
    await chat.tap("C-Gen")
    assert "Subscribed: C-Gen" in chat.text
    keys, stopped = await _subscriptions(container, "terminal", "warga-1")
    assert keys == ["cgen", "kim:" + PAHLAWAN] and not stopped

    await chat.tap("Stop all announcements")
    assert "will not receive announcements" in chat.text
    assert (await _subscriptions(container, "terminal", "warga-1"))[1] is True
    await chat.tap("Receive announcements again")
    keys, stopped = await _subscriptions(container, "terminal", "warga-1")
    assert keys == ["cgen", "kim:" + PAHLAWAN] and not stopped
    # Tapping a subscribed group again unsubscribes.
    await chat.tap("C-Gen")
    assert "Unsubscribed: C-Gen" in chat.text
    assert (await _subscriptions(container, "terminal", "warga-1"))[0] == ["kim:" + PAHLAWAN]


async def test_the_kelurahan_of_the_last_report_is_offered(container: Container) -> None:
    chat = TerminalChat(container.engine, user_key="warga-2", locale="en")
    await chat.say("/start")
    async with container.db.session() as session:
        identity = await repo.get_identity(session=session, channel="terminal",
                                           user_key="warga-2")
        assert identity is not None and identity.id is not None
        await repo.create_report(session=session, report=Report(
            ticket="BJI-2026-000001", category_key="sampah", kelurahan_code="12.75.04.1007",
            kecamatan_code="12.75.04", description="Sampah menumpuk", channel="terminal",
            reporter_id=identity.id))
    await chat.tap("Subscribe to announcements")
    assert any("KIM Sumber Karya" in o for o in chat.options)
    await chat.tap("KIM Sumber Karya")
    assert (await _subscriptions(container, "terminal", "warga-2"))[0] == [
        "kim:12.75.04.1007"]


async def test_stop_word_is_respected_until_the_resident_opts_in(container: Container) -> None:
    chat = TerminalChat(container.engine, user_key="warga-3", locale="en")
    await chat.say("/start")
    await chat.tap("Subscribe to announcements")
    await chat.tap("C-Gen")
    await chat.say("STOP")
    async with container.db.reader() as session:
        identity = await repo.get_identity(session=session, channel="terminal",
                                           user_key="warga-3")
        assert identity is not None and identity.opted_out
    # Choosing announcements again is opting in again.
    await chat.say("/start")
    await chat.tap("Subscribe to announcements")
    await chat.tap("C-Gen")  # unsubscribe
    await chat.tap("C-Gen")  # and subscribe again
    async with container.db.reader() as session:
        identity = await repo.get_identity(session=session, channel="terminal",
                                           user_key="warga-3")
        assert identity is not None and not identity.opted_out


async def test_relay_invitation_and_join_attribution(container: Container) -> None:
    code = await _invite(container)
    kepling = TerminalChat(container.engine, user_key="kepling-1", locale="en")
    await kepling.say(f"/start {code}")
    assert "registered as kepala lingkungan for Kelurahan Pahlawan" in kepling.text
    async with container.db.reader() as session:
        relays = await repo_broadcasts.list_relays(session=session)
    assert len(relays) == 1
    relay, subscriber = relays[0]
    assert subscriber.role == "kepling" and relay.name == "Pak Amir"
    # The invitation works once.
    other = TerminalChat(container.engine, user_key="kepling-2", locale="en")
    await other.say(f"/start {code}")
    assert "not valid or was already used" in other.text

    resident = TerminalChat(container.engine, user_key="warga-9", locale="en")
    await resident.say(f"/start j{relay.code}-7")
    assert "Through Pak Amir you now receive the announcements of KIM Pahlawan" in resident.text
    # The WhatsApp way: the link opens the chat with the code typed in.
    typed = TerminalChat(container.engine, user_key="warga-10", locale="en")
    await typed.say(f"j{relay.code}")
    assert "Through Pak Amir" in typed.text
    async with container.db.reader() as session:
        joins = await repo_broadcasts.join_rows(session=session, campaign_id=7)
    assert joins == [(PAHLAWAN, 1)]
    keys, _stopped = await _subscriptions(container, "terminal", "warga-9")
    assert keys == ["kim:" + PAHLAWAN]


async def test_only_kominfo_staff_may_broadcast(container: Container) -> None:
    resident = TerminalChat(container.engine, user_key="warga-5", locale="en")
    await resident.say("/start")
    await resident.say("/siaran")
    assert "do not know that command" in resident.text
    async with container.db.session() as session:
        await add_staff(session=session, city=container.city, role="officer", name="Budi PUTR",
                        account=Account("terminal", "officer-1"), agency_key="putr")
    officer = TerminalChat(container.engine, user_key="officer-1", locale="en")
    await officer.say("/start")
    await officer.say("/siaran")
    assert "do not know that command" in officer.text
    async with container.db.session() as session:
        await add_staff(session=session, city=container.city, role="kominfo", name="Sari",
                        account=Account("terminal", "kominfo-1"))
    staff = TerminalChat(container.engine, user_key="kominfo-1", locale="en")
    await staff.say("/siaran")
    assert "Broadcasts (Kominfo)" in staff.text


async def test_a_kim_group_chat_links_with_a_one_time_code(telegram: TelegramEnv) -> None:
    box = telegram.box
    async with _service(box) as service:
        code = await service.create_group_code(group_key="kim:12.75.01",
                                               created_by="operator")
    group = -100_555_0001
    chat = TelegramChat(telegram.client, telegram.double, WEBHOOK_SECRET, telegram.box.outbound,
                        chat_id=5_550_001)
    update = group_text_update(group, f"/kim {code}", mention_bot=False, language_code="en")
    await chat.post(update)
    assert "this group now receives the announcements of KIM Binjai Utara" in \
        (telegram.double.last_text(group) or "")
    keys, _stopped = await _subscriptions(box, "telegram", str(group))
    assert keys == ["kim:12.75.01"]
    await chat.post(group_text_update(group, f"/kim {code}", mention_bot=False,
                                      language_code="en"))
    assert "not valid or was already used" in (telegram.double.last_text(group) or "")


@pytest.fixture
def double_options() -> dict[str, object]:
    return {"private_burst": 60}


async def test_compose_send_forward_join_and_reach(telegram: TelegramEnv) -> None:
    """Done when: a staff member composes a campaign for KIM Binjai Utara and C-Gen, previews,
    sends; every subscriber gets it once; relays forward; the status shows the reach."""
    box = telegram.box
    residents = [str(i) for i in range(710_001, 710_006)]
    await add_subscribers(box.db, box.city, box.settings, residents[:3])
    await add_subscribers(box.db, box.city, box.settings, residents[3:], kelurahan=None,
                          groups=["cgen"])
    await add_subscribers(box.db, box.city, box.settings, ["710099"], kelurahan=None,
                          groups=["topic:acara"])  # not in the audience
    async with box.db.session() as session:
        await add_staff(session=session, city=box.city, role="kominfo", name="Sari",
                        account=Account("telegram", str(STAFF)))
    code = await _invite(box)
    kepling = telegram.chat(chat_id=720_001, language_code="en")
    await kepling.say(f"/start {code}")
    assert "registered as kepala lingkungan" in kepling.text

    nobody = telegram.chat(chat_id=710_001, language_code="en")
    await nobody.say("/start")
    await nobody.say("/siaran")
    assert "do not know that command" in nobody.text

    staff = telegram.chat(chat_id=STAFF, language_code="en")
    await staff.say("/siaran")
    await staff.tap("New announcement")
    await staff.say("Kerja bakti Desember")
    await staff.say("Kerja bakti serentak Minggu, 13 Desember, pukul 07.00 WIB.")
    await staff.tap("Skip")  # English
    await staff.tap("Skip")  # picture
    await staff.say("https://binjaikota.go.id/kerja-bakti")
    await staff.tap("KIM Binjai Utara")
    await staff.tap("C-Gen")
    await staff.tap("Continue")
    await staff.tap("Now")
    assert "Audience: 6 recipients" in staff.text
    assert "Telegram: 6 people, 0 group chats, 1 kepala lingkungan" in staff.text
    await staff.tap("Send")
    assert "Campaign #1 is being sent" in staff.text

    async with running(box.broadcasts.build_dispatcher(idle_poll=0.05)) as task:
        await wait_for_status(box.db, 1, "completed", task=task)
        double = telegram.double
        for address in [*residents, "720001"]:
            texts = double.texts_to(int(address))
            assert sum("Kerja bakti serentak" in t for t in texts) == 1, address
        assert double.texts_to(710_099) == []
        # The relay's copy carries their join link, then the kit with the "forwarded" button.
        relay_texts = double.texts_to(720_001)
        assert "?start=j" in relay_texts[-2]
        kepling._collect(len(double.sent) - 2)
        await kepling.tap("Forwarded")
        assert "Thank you for forwarding it" in kepling.text

        # A resident opens the relay's link from the forwarded message.
        link = relay_texts[-2].rsplit("?start=", 1)[1].split()[0]
        newcomer = telegram.chat(chat_id=730_001, language_code="en")
        await newcomer.say(f"/start {link}")
        assert "you now receive the announcements of KIM Pahlawan" in newcomer.text

        # Someone follows the link button: counted, and sent on to the campaign's page.
        button = double.messages_to(int(residents[0]))[-1].reply_markup
        assert button is not None
        url = button["inline_keyboard"][0][0]["url"]
        assert url.startswith("https://emas.binjaikota.test/l/")
        response = await telegram.client.get(url.removeprefix("https://emas.binjaikota.test"))
        assert response.status_code == 302
        assert response.headers["location"] == "https://binjaikota.go.id/kerja-bakti"
        code = url.rsplit("/", 1)[1]
        forged = code[:-1] + ("A" if code[-1] != "A" else "B")
        bad = await telegram.client.get("/l/" + forged)
        assert bad.status_code == 404

        # The summary reaches the staff member when the campaign finishes.
        for _ in range(40):
            if any("has finished" in t for t in double.texts_to(STAFF)):
                break
            import asyncio

            await asyncio.sleep(0.05)
        assert any("has finished" in t and "Targeted: 6" in t for t in double.texts_to(STAFF))

    async with box.db.session() as session:
        from broadcasts.campaigns import CampaignService

        reach = await CampaignService(
            session=session, city=box.city, catalog=load_catalog(box.city, box.settings.city_dir),
            settings=box.settings, now=utcnow).status(1)
    assert reach["targeted"] == 6 and reach["delivered"] == 6 and reach["failed"] == 0
    assert (reach["clicks"], reach["forwards"], reach["joins"]) == (1, 1, 1)
    utara = next(k for k in reach["kecamatan"] if k["name"] == "Binjai Utara")
    pahlawan = next(k for k in utara["kelurahan"] if k["name"] == "Pahlawan")
    assert (pahlawan["targeted"], pahlawan["forwards"], pahlawan["joins"]) == (4, 1, 1)
    assert reach["no_area"]["targeted"] == 2  # the C-Gen members with no kelurahan
    rows = await deliveries(box.db, 1)
    assert len(rows) == len({r.subscriber_id for r in rows}) == 6
    from storage import repo_console

    async with box.db.reader() as session:  # the chat's campaign actions, audited
        audit = await repo_console.list_audit(session=session)
    done = [(a.action, a.source, a.target) for a in audit if a.action.startswith("campaign.")]
    assert sorted(done) == [("campaign.create", "chat", "campaign:1"),
                            ("campaign.send", "chat", "campaign:1")]
    assert all(a.staff_id is not None for a in audit if a.action.startswith("campaign."))


async def test_the_link_redirect_refuses_unknown_codes(telegram: TelegramEnv) -> None:
    for path in ("/l/zzz", "/l/" + "A" * 30, "/l/abcdefghij"):
        response = await telegram.client.get(path)
        assert response.status_code == 404



async def test_the_audience_picker_pages_and_keeps_every_choice(telegram: TelegramEnv) -> None:
    """Nine groups and the KIM of chosen kelurahan do not fit one screen: seven at a time,
    then "Other ›"; a choice on one screen is kept on the others."""
    box = telegram.box
    async with box.db.session() as session:
        await add_staff(session=session, city=box.city, role="kominfo", name="Sari",
                        account=Account("telegram", str(STAFF)))
    staff = telegram.chat(chat_id=STAFF, language_code="en")
    await staff.say("/siaran")
    await staff.tap("New announcement")
    await staff.say("Siaga banjir")
    await staff.say("Waspada banjir malam ini di bantaran Sungai Bingai.")
    await staff.tap("Skip")
    await staff.tap("Skip")
    await staff.tap("Skip")
    await staff.tap("KIM Binjai Utara")
    assert "Emergency and disaster alerts" not in " ".join(staff.options)
    await staff.tap("Other ›")
    assert "KIM Binjai Utara" not in " ".join(staff.options)
    await staff.tap("Emergency and disaster alerts")
    await staff.tap("Back to the first")
    assert "✅ KIM Binjai Utara" in staff.options
    await staff.tap("Continue")
    await staff.tap("Now")
    assert "KIM Binjai Utara" in staff.text and "Emergency and disaster alerts" in staff.text
