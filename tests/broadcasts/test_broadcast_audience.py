"""Who a campaign reaches: groups, areas, roles, relays, languages; opt-outs; the template rule."""

from __future__ import annotations

from datetime import timedelta

from bot.app import Container
from broadcasting import (
    BERNGAM,
    PAHLAWAN,
    add_subscribers,
    create_campaign,
    deliveries,
    running,
    wait_for_status,
)
from broadcasts.audience import Audience
from broadcasts.campaigns import CampaignDraft, CampaignService
from broadcasts.groups import load_catalog
from broadcasts.subscribers import SubscriberService
from storage import repo
from storage.types import utcnow
from whatsapp_fixtures import WhatsAppEnv

UTARA = "12.75.01"
KOTA = "12.75.02"


async def _people(box: Container, addresses: list[str], **kw: object) -> None:
    await add_subscribers(box.db, box.city, box.settings, addresses, **kw)  # type: ignore[arg-type]


async def _relay(box: Container, address: str, kelurahan: str) -> None:
    await _people(box, [address], groups=(), kelurahan=kelurahan, role="kepling")
    async with box.db.session() as session:
        service = SubscriberService(session=session, city=box.city,
                                    catalog=load_catalog(box.city, box.settings.city_dir),
                                    now=utcnow)
        me = await service.find("telegram", address)
        assert me is not None
        await service.make_relay(me, kelurahan_code=kelurahan, name=None, lingkungan=None)


async def _city(box: Container) -> None:
    """A small city: residents, C-Gen, a topic, two kepala lingkungan, a KIM group chat."""
    await _people(box, ["1"], kelurahan=PAHLAWAN, groups=["kim:" + PAHLAWAN, "cgen"])
    await _people(box, ["2"], kelurahan=BERNGAM, groups=["kim:" + BERNGAM])
    await _people(box, ["3"], kelurahan=BERNGAM, groups=["cgen"])
    await _people(box, ["4"], kelurahan=None, groups=["topic:acara"])
    await _people(box, ["6"], kelurahan=PAHLAWAN, groups=["kim:" + PAHLAWAN], locale="en")
    await _people(box, ["-1007"], kelurahan=None, groups=["kim:" + UTARA], role="kim")
    await _relay(box, "5", PAHLAWAN)
    await _relay(box, "9", BERNGAM)


async def _recipients(box: Container, audience: Audience) -> dict[str, int | None]:
    """address -> relay id (None for an ordinary recipient) of the deliveries created."""
    campaign = await create_campaign(box.db, box.city, box.settings, audience=audience)
    dispatcher = box.broadcasts.build_dispatcher()
    await dispatcher.housekeeping()
    return {d.address: d.relay_id for d in await deliveries(box.db, campaign)}


async def test_kim_binjai_utara_and_cgen(container: Container) -> None:
    await _city(container)
    got = await _recipients(container, Audience(groups=["kim:" + UTARA, "cgen"]))
    # KIM Binjai Utara reaches its kelurahan KIMs and its own group chat; C-Gen is city-wide;
    # the kepala lingkungan of Binjai Utara get it as relays, Berngam's does not.
    assert set(got) == {"1", "3", "6", "-1007", "5"}
    assert got["5"] is not None and got["1"] is None


async def test_areas_roles_and_languages(container: Container) -> None:
    await _city(container)
    by_area = await _recipients(container, Audience(kecamatan=[KOTA]))
    assert set(by_area) == {"2", "3", "9"}
    relays_only = await _recipients(container, Audience(roles=["kepling"], relays=False))
    assert set(relays_only) == {"5", "9"}
    english = await _recipients(container, Audience(groups=["kim:" + UTARA], languages=["en"]))
    assert set(english) == {"6"}
    no_relays = await _recipients(container, Audience(groups=["kim:" + UTARA], relays=False))
    assert "5" not in no_relays


async def test_one_delivery_per_subscriber_however_often_they_match(
        container: Container) -> None:
    await _city(container)
    got = await _recipients(container, Audience(groups=["kim:" + PAHLAWAN, "cgen"],
                                                kelurahan=[PAHLAWAN]))
    campaign_rows = [a for a in got if a == "1"]
    assert campaign_rows == ["1"]


async def test_opted_out_people_are_counted_and_never_sent(container: Container) -> None:
    await _people(container, ["11", "12", "13"])
    await _people(container, ["14"], stopped=True)
    # "13" sent STOP in the chat: their identity is opted out.
    async with container.db.session() as session:
        identity = await repo.get_or_create_identity(session=session, channel="telegram",
                                                     user_key="13")
        identity.opted_out = True
        session.add(identity)
    catalog = load_catalog(container.city, container.settings.city_dir)
    async with container.db.session() as session:
        service = CampaignService(session=session, city=container.city, catalog=catalog,
                                  settings=container.settings, now=utcnow)
        preview = await service.preview(CampaignDraft(
            title="t", texts={"id": "x"}, audience=Audience(groups=["kim:" + PAHLAWAN])))
    assert preview["recipients"] == 4 and preview["opted_out"] == 2
    campaign = await create_campaign(container.db, container.city, container.settings)
    await container.broadcasts.build_dispatcher().housekeeping()
    rows = {d.address: d for d in await deliveries(container.db, campaign)}
    # (Telegram is switched off in this installation: the others are skipped for that.)
    assert {a for a, d in rows.items() if d.reason == "opted_out"} == {"13", "14"}
    assert {d.reason for a, d in rows.items() if a in ("11", "12")} == {"channel_off"}


async def test_campaign_texts_and_links_are_validated(container: Container) -> None:
    catalog = load_catalog(container.city, container.settings.city_dir)
    async with container.db.session() as session:
        service = CampaignService(session=session, city=container.city, catalog=catalog,
                                  settings=container.settings, now=utcnow)
        problems = service.problems(CampaignDraft(
            title="", texts={"en": "only English"}, audience=Audience(groups=["kim:nowhere"]),
            link_url="javascript:alert(1)", template_sid="HX123"))
    assert len(problems) == 5


async def test_whatsapp_outside_the_window_needs_the_template(whatsapp: WhatsAppEnv) -> None:
    box = whatsapp.box
    now = box.engine.clock()
    inside, never, stale = "+6281200000001", "+6281200000002", "+6281200000003"
    await _people(box, [inside, never, stale], channel="whatsapp")
    async with box.db.session() as session:
        for number, when in ((inside, now - timedelta(hours=2)),
                             (stale, now - timedelta(days=2))):
            identity = await repo.get_or_create_identity(session=session, channel="whatsapp",
                                                         user_key=number)
            identity.last_inbound_at = when
            session.add(identity)
    whatsapp.double.mark_inbound(f"whatsapp:{inside}", now - timedelta(hours=2))

    catalog = load_catalog(box.city, box.settings.city_dir)
    async with box.db.session() as session:
        service = CampaignService(session=session, city=box.city, catalog=catalog,
                                  settings=box.settings, now=box.engine.clock)
        preview = await service.preview(CampaignDraft(
            title="t", texts={"id": "x"}, audience=Audience(groups=["kim:" + PAHLAWAN])))
    assert preview["channels"]["whatsapp"]["needs_template"] == 2
    assert preview["skipped_no_template"] == 2

    plain = await create_campaign(box.db, box.city, box.settings, text_id="Info air bersih")
    async with running(box.broadcasts.build_dispatcher(idle_poll=0.05)) as task:
        await wait_for_status(box.db, plain, "completed", task=task)
    rows = {d.address: d for d in await deliveries(box.db, plain)}
    assert rows[inside].status == "sent"
    assert (rows[never].status, rows[never].reason) == ("skipped", "no_template")
    assert (rows[stale].status, rows[stale].reason) == ("skipped", "no_template")
    assert whatsapp.double.bodies_to(f"whatsapp:{inside}") == ["Info air bersih"]
    # WhatsApp's receipts come back through the status callbacks and count in the reach.
    message = whatsapp.double.messages_to(f"whatsapp:{inside}")[0]
    await whatsapp.double.advance(message.sid, "delivered")
    await whatsapp.double.advance(message.sid, "read")
    async with box.db.session() as session:
        reach = await CampaignService(session=session, city=box.city, catalog=catalog,
                                      settings=box.settings, now=box.engine.clock).status(plain)
    assert (reach["sent"], reach["delivered"], reach["read"]) == (1, 1, 1)
    assert reach["skipped_by_reason"] == {"no_template": 2}

    template = whatsapp.double.add_template("Pengumuman Pemkot Binjai: {{1}}")
    with_template = await create_campaign(box.db, box.city, box.settings,
                                          text_id="Info air bersih", template_sid=template)
    async with running(box.broadcasts.build_dispatcher(idle_poll=0.05)) as task:
        await wait_for_status(box.db, with_template, "completed", task=task)
    sent = {m.to: m for m in whatsapp.double.messages}
    assert sent[f"whatsapp:{never}"].content_sid == template
    assert sent[f"whatsapp:{never}"].body == "Pengumuman Pemkot Binjai: Info air bersih"


async def test_the_kepala_lingkungan_get_their_copies_first(container: Container) -> None:
    """Relays forward the news by hand: their copies lead the queue (deliveries are claimed
    and sent in id order), even when they subscribed after everyone else."""
    await _people(container, [str(n) for n in range(100, 130)], kelurahan=PAHLAWAN,
                  groups=["kim:" + PAHLAWAN])
    await _relay(container, "5", PAHLAWAN)
    await _relay(container, "9", BERNGAM)
    campaign = await create_campaign(container.db, container.city, container.settings,
                                     audience=Audience(groups=["kim:" + UTARA], kecamatan=[KOTA]))
    await container.broadcasts.build_dispatcher().housekeeping()
    queue = sorted(await deliveries(container.db, campaign), key=lambda d: d.id or 0)
    assert len(queue) == 32
    assert [d.address for d in queue[:2]] == ["5", "9"]
    assert all(d.relay_id is not None for d in queue[:2])
    assert all(d.relay_id is None for d in queue[2:])
