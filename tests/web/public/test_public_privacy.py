"""No public route or export ever shows who reported, their words (unless approved), their
address, a confidential category's details, an unapproved photo or staff's internal notes;
what staff approved does show.

The routes are a list of address templates ({ticket}: every seeded report's ticket; {photo}:
each of its photos, approved or not), Open311's GET answers among them: a new public route
joins PUBLIC_ROUTES and is checked the same way."""

from __future__ import annotations

import string
from dataclasses import dataclass, field

import httpx

from bot.app import Container
from console_kit import act, console_client, signed_in
from public_kit import Seeded, done, pass_on, resident_report

PUBLIC_ROUTES = [
    "/", "/?lang=en",
    "/t/{ticket}", "/t/{ticket}?lang=en",
    "/t/{ticket}/foto/{photo}",
    "/data/reports.csv", "/data/reports.csv?lang=en",
    "/data/reports.json", "/data/reports.json?lang=en",
    "/data/reports.json?from=2026-12-01&to=2026-12-31",
    "/open311/v2/requests.json", "/open311/v2/requests.xml",
    "/open311/v2/requests/{ticket}.json",
]


@dataclass
class World:
    reports: list[Seeded] = field(default_factory=list)
    secrets: list[str] = field(default_factory=list)  # must never be public
    approved: list[str] = field(default_factory=list)  # must be public
    approved_photos: set[int] = field(default_factory=set)


def addresses(world: World) -> dict[str, list[str]]:
    """Every public address, per route template: each filled in every way the seeds allow."""
    found: dict[str, list[str]] = {}
    for route in PUBLIC_ROUTES:
        names = {name for _text, name, _spec, _conv in string.Formatter().parse(route) if name}
        found[route] = [] if names else [route]
        for seeded in world.reports if names else ():
            if "photo" in names:
                found[route] += [route.format(ticket=seeded.report.ticket, photo=p.id)
                                 for p in seeded.photos]
            else:
                found[route].append(route.format(ticket=seeded.report.ticket))
    return found


async def _seed(box: Container, client: httpx.AsyncClient, clock) -> World:
    world = World()
    road = await resident_report(
        box, chat_id=612_345_987, name="Siti Rahmawati", phone="+6281377712345",
        description="Lubang dalam di depan rumah Bu Siti, mobil BK 1234 XY terperosok",
        address="Jl. Mawar Gg. Melati No. 17", point=(3.605123, 98.492456), photos=2)
    secret = await resident_report(
        box, chat_id=612_345_986, name="Agus Salimudin", phone="+6285277788899",
        category="pungli", address="Kantor Lurah Tangsi lantai 2",
        description="Oknum lurah meminta uang pelicin Rp 750.000 untuk surat domisili",
        point=(3.611111, 98.488888), photos=1)
    checking = await resident_report(
        box, chat_id=612_345_988, name="Dewi Lestari", phone="+6281299911122",
        description="Kabel listrik menjuntai di Gang Sawo rumah nomor 3")
    spam = await resident_report(
        box, chat_id=612_345_989, name="Penjual Pulsa", phone="+6281299988877",
        description="Jual pulsa murah hubungi 0812-9998-8877")
    world.reports = [road, secret, checking, spam]
    ticket = road.report.ticket

    await signed_in(box, client, "sari", role="kominfo")
    await pass_on(client, road.report)
    await pass_on(client, secret.report)
    await done(client, spam.report.ticket, "reject", reason="not_complaint")
    await done(client, ticket, "note", text="Catatan internal: pelapor tetangga kepala lingkungan")
    await done(client, ticket, "message", text="Pesan untuk pelapor: mohon kirim foto tambahan")
    clock.advance(hours=2)
    await done(client, ticket, "progress", note="Sedang dikerjakan sesuai info Siti Rahmawati")
    clock.advance(hours=2)
    await done(client, ticket, "resolve", note="Lubang sudah ditambal dengan aspal panas")
    await done(client, ticket, "publish_text",
               text="Lubang dalam di badan jalan, kendaraan terperosok")
    await done(client, ticket, "publish_photo", photo_id=str(road.photos[0].id))
    world.approved_photos.add(road.photos[0].id or 0)
    await done(client, secret.report.ticket, "resolve", note="Oknum diperiksa Inspektorat")
    # A forged form cannot publish the confidential report's words or photo.
    assert (await act(client, secret.report.ticket, "publish_text",
                      text="Oknum lurah meminta uang")).status_code == 403
    assert (await act(client, secret.report.ticket, "publish_photo",
                      photo_id=str(secret.photos[0].id))).status_code == 403
    client.cookies.clear()

    world.secrets = [
        # the reporters: names, phones (as stored and as people write them), chat ids
        "Siti Rahmawati", "Agus Salimudin", "Dewi Lestari", "Penjual Pulsa",
        "6281377712345", "81377712345", "6285277788899", "85277788899", "81299911122",
        "612345987", "612345986", "612345988", "612345989",
        # exact addresses and points (a confidential one not even rounded)
        "Jl. Mawar", "Gg. Melati", "Kantor Lurah Tangsi lantai 2", "Gang Sawo",
        "3.605123", "98.492456", "3.611111", "98.488888", "3.611", "98.489",
        # words not approved: the original description, the confidential one, a report
        # still being checked, spam
        "rumah Bu Siti", "BK 1234 XY", "uang pelicin", "surat domisili", "Kabel listrik",
        "Jual pulsa", "0812-9998-8877",
        # staff's internal note, a message to the reporter, a note naming the reporter, the
        # confidential category's note
        "Catatan internal", "tetangga kepala lingkungan", "Pesan untuk pelapor",
        "sesuai info", "Oknum diperiksa",
        # what the phone wrote into the photos (the owner's name)
        "Budi Santoso",
        # the files of photos nobody approved
        *(p.sha256 for s in world.reports for p in s.photos
          if (p.id or 0) not in world.approved_photos),
    ]
    world.approved = ["Lubang dalam di badan jalan, kendaraan terperosok",
                      "Lubang sudah ditambal dengan aspal panas",
                      f"/t/{ticket}/foto/{road.photos[0].id}", "Kartini", "Tangsi"]
    return world


async def test_no_public_route_or_export_shows_what_is_private(container: Container,
                                                               clock) -> None:
    async with console_client(container) as client:
        world = await _seed(container, client, clock)
        clock.advance(minutes=10)  # past the city page's cache
        routes = addresses(world)
        answers = {path: await client.get(path) for paths in routes.values() for path in paths}
    served = {path: a for path, a in answers.items() if a.status_code == 200}
    photos = {path for path in answers if "/foto/" in path}
    assert {p for p in photos if p in served} == {
        f"/t/{s.report.ticket}/foto/{p.id}" for s in world.reports for p in s.photos
        if p.id in world.approved_photos}
    assert set(answers) - photos == set(served) - photos, "a page or export failed"
    leaks = [(secret, path) for path, answer in answers.items() for secret in world.secrets
             if secret.encode() in answer.content
             or secret.casefold() in answer.content.decode("utf-8", "ignore").casefold()]
    assert leaks == []
    assert all("set-cookie" not in a.headers for a in answers.values())
    public = "\n".join(a.text for path, a in served.items() if path not in photos)
    missing = [item for item in world.approved if item not in public]
    assert missing == []
    assert [route for route, paths in routes.items() if not paths] == []
