"""Staff accounts, agency groups linked with a one-time code, and who may act on a report."""

from __future__ import annotations

import json
from typing import Any

from agencies_kit import actions, file_report, press, reload, send, staff, texts, worded
from bot.app import Container
from bot.messages import Channel, Inbound, Kind
from bot.settings import Settings
from cli_kit import acli
from conftest import Clock
from reports.staff import make_link_code
from storage import repo_agencies
from storage.types import utcnow

GROUP = "-1001234567890"


async def remove_staff_member(box: Container, telegram_id: str) -> None:
    from reports.staff import account_for, remove_staff

    async with box.db.session() as session:
        await remove_staff(session=session, account=account_for(telegram_id=telegram_id))


async def link(box: Container, code: str, *, user: str = "5550001",
               chat: str = GROUP) -> str:
    inbound = Inbound(channel=Channel.TELEGRAM, user_key=user, event_id=f"link-{code}-{chat}-{user}",
                      kind=Kind.COMMAND, command="link", command_arg=code, is_group=True,
                      chat_key=chat, text=f"/link {code}", locale_hint="en")
    out = await box.engine.process(inbound)
    return "\n".join(o.reply.text for o in out)


async def test_staff_are_added_listed_and_removed_from_the_command_line(
    container: Container, settings: Settings
) -> None:
    code, out = await acli(settings, "staff", "add", "--role", "officer", "--agency", "putr",
                           "--telegram-id", "5550001", "--name", "Andi", "--json")
    assert code == 0
    andi = json.loads(out)
    assert (andi["role"], andi["agency"], andi["channel"], andi["user_key"]) == (
        "officer", "putr", "telegram", "5550001")
    code, out = await acli(settings, "staff", "add", "--role", "head", "--agency", "putr",
                           "--phone", "0812-3456-7890", "--name", "Bu Sari")
    assert code == 0 and "on whatsapp" in out
    code, out = await acli(settings, "staff", "add", "--role", "kominfo", "--telegram-id",
                           "5550009", "--name", "Rina")
    assert code == 0

    code, out = await acli(settings, "staff", "list", "--json")
    listed = {(s["name"], s["channel"], s["user_key"]) for s in json.loads(out)}
    assert listed == {("Andi", "telegram", "5550001"), ("Bu Sari", "whatsapp", "+6281234567890"),
                      ("Rina", "telegram", "5550009")}

    code, out = await acli(settings, "staff", "remove", "--telegram-id", "5550001")
    assert code == 0 and "Andi" in out
    code, out = await acli(settings, "staff", "list", "--agency", "putr", "--json")
    assert [s["name"] for s in json.loads(out)] == ["Bu Sari"]
    code, out = await acli(settings, "staff", "remove", "--telegram-id", "5550001")
    assert code == 1 and "no active staff" in out


async def test_staff_commands_refuse_what_makes_no_sense(
    container: Container, settings: Settings
) -> None:
    code, out = await acli(settings, "staff", "add", "--role", "officer", "--telegram-id", "1",
                           "--name", "X")
    assert code == 1 and "needs --agency" in out
    code, out = await acli(settings, "staff", "add", "--role", "officer", "--agency", "pln",
                           "--telegram-id", "1", "--name", "X")
    assert code == 1 and "not a city agency" in out
    code, out = await acli(settings, "staff", "add", "--role", "officer", "--agency", "putr",
                           "--telegram-id", "1", "--phone", "+6281234567890", "--name", "X")
    assert code != 0 and "exactly one" in out
    code, out = await acli(settings, "staff", "add", "--role", "officer", "--agency", "putr",
                           "--phone", "12", "--name", "X")
    assert code != 0 and "not a phone number" in out


async def test_a_group_is_linked_once_with_a_code_from_the_command_line(
    container: Container, settings: Settings, clock: Clock
) -> None:
    clock.now = utcnow()  # the command line issues the code on the real clock
    code, out = await acli(settings, "agency", "link-code", "putr", "--json")
    assert code == 0
    issued = json.loads(out)
    assert issued["agency"] == "putr" and len(issued["code"]) == 9

    # A group member who is not staff cannot use the code, and does not spend it.
    text = await link(container, issued["code"].lower(), user="5550077")
    assert "Only the agency's staff or Kominfo can link a group" in text
    await staff(container, "5550001", role="officer", agency="putr", name="Andi",
                channel="telegram")
    text = await link(container, issued["code"].lower())
    assert "Dinas Pekerjaan Umum dan Tata Ruang" in text
    code, out = await acli(settings, "agency", "groups", "--json")
    assert [(g["agency"], g["chat"]) for g in json.loads(out)] == [("putr", GROUP)]

    # One time only: the same code does nothing in another group.
    text = await link(container, issued["code"], chat="-1009999")
    assert "not valid" in text
    async with container.db.reader() as session:
        assert len(await repo_agencies.list_groups(session=session)) == 1


async def test_only_the_agencys_staff_or_kominfo_link_a_group(
    container: Container, clock: Clock
) -> None:
    async with container.db.session() as session:
        code, _expires = await make_link_code(session=session, city=container.city,
                                              agency_key="dlh", now=clock(), hours=24)
    await staff(container, "5550001", role="officer", agency="putr", name="Andi",
                channel="telegram")
    assert "Only the agency's staff" in await link(container, code)  # another agency's
    await remove_staff_member(container, "5550001")
    await staff(container, "5550003", role="officer", agency="dlh", name="Dewi",
                channel="telegram")
    assert "Dinas Lingkungan Hidup" in await link(container, code, user="5550003")
    async with container.db.reader() as session:
        assert [g.agency_key for g in await repo_agencies.list_groups(session=session)] == [
            "dlh"]


async def test_an_expired_link_code_links_nothing(container: Container, clock: Clock) -> None:
    async with container.db.session() as session:
        code, _expires = await make_link_code(session=session, city=container.city,
                                              agency_key="dlh", now=clock(), hours=24)
    clock.advance(hours=25)
    await staff(container, "5550001", role="kominfo", name="Rina", channel="telegram")
    assert "expired" in await link(container, code)
    async with container.db.reader() as session:
        assert await repo_agencies.list_groups(session=session) == []


def _alerts(out: list[Any]) -> list[str]:
    return [o.reply.alert for o in out if o.reply.alert]


async def test_only_the_agencys_staff_or_kominfo_may_act_on_a_report(
    container: Container,
) -> None:
    box = container
    report = await file_report(box)
    async with box.db.session() as session:
        found = await repo_agencies.get_report(session=session, report_id=report.id or 0)
        assert found is not None
        await actions(box, session).assign(found, "putr", actor_id=None, verifying=True)
    await staff(box, "5550001", role="officer", agency="putr", name="Andi", channel="telegram")
    await staff(box, "5550002", role="officer", agency="dlh", name="Dewi", channel="telegram")
    await staff(box, "5550009", role="kominfo", name="Rina", channel="telegram")
    rid = report.id

    stranger = await press(box, "5550003", f"st:take:{rid}", channel="telegram", group=GROUP)
    assert _alerts(stranger) and "Only staff" in _alerts(stranger)[0]
    assert all(not o.reply.text for o in stranger)  # nothing posted in the group
    other = await press(box, "5550002", f"st:prog:{rid}", channel="telegram", group=GROUP)
    assert _alerts(other)
    triage = await press(box, "5550001", f"st:rej:{rid}", channel="telegram", group=GROUP)
    assert _alerts(triage)  # rejecting is Kominfo's
    unchanged = await reload(box, rid or 0)
    assert (unchanged.status, unchanged.handler_id) == ("assigned", None)

    took = await press(box, "5550001", f"st:take:{rid}", channel="telegram", group=GROUP)
    assert "Andi is handling report" in took[0].reply.text and took[0].to == GROUP
    kominfo = await press(box, "5550009", f"st:prog:{rid}", channel="telegram", group=GROUP)
    assert not _alerts(kominfo)
    assert (await reload(box, rid or 0)).status == "in_progress"

    # A refused move answers with the lifecycle's reason and changes nothing.
    again = await press(box, "5550001", f"st:prog:{rid}", channel="telegram", group=GROUP)
    assert "cannot move to “in_progress”" in _alerts(again)[0]


async def test_removed_staff_can_no_longer_act(container: Container, settings: Settings) -> None:
    report = await file_report(container)
    await staff(container, "5550009", role="kominfo", name="Rina", channel="telegram")
    code, _out = await acli(settings, "staff", "remove", "--telegram-id", "5550009")
    assert code == 0
    out = await press(container, "5550009", f"st:ver:{report.id}", channel="telegram",
                      group=GROUP)
    assert _alerts(out)
    assert (await reload(container, report.id or 0)).status == "submitted"


async def test_an_officer_without_a_group_works_from_a_private_chat(
    container: Container,
) -> None:
    box = container
    await staff(box, "petugas-dlh", role="officer", agency="dlh", name="Dewi")
    report = await file_report(box, category="sampah", description="Sampah menumpuk di TPS "
                               "pasar, belum diangkut seminggu")
    async with box.db.session() as session:
        found = await repo_agencies.get_report(session=session, report_id=report.id or 0)
        assert found is not None
        outcome = await actions(box, session).verify(found, actor_id=None)
    post, = [n for n in worded(box, outcome.notices) if n.recipient.user_key == "petugas-dlh"]
    assert post.recipient.channel == "terminal"  # no group: the officer in private

    out = await press(box, "petugas-dlh", f"st:res:{report.id}")
    assert "What was done about report" in texts(out)
    out = await send(box, "petugas-dlh", "Sampah sudah diangkut truk pagi ini")
    assert "Send a photo of the result" in texts(out)
    out = await send(box, "petugas-dlh", "1")  # typed: the first option, "Skip photo"
    assert f"Report {report.ticket} resolved (Dewi)" in texts(out)
    assert "Sampah sudah diangkut truk pagi ini" in texts(out, "warga-1")
    assert (await reload(box, report.id or 0)).status == "resolved"


async def test_a_staff_question_can_be_cancelled(container: Container) -> None:
    box = container
    await staff(box, "5550009", role="kominfo", name="Rina", channel="telegram")
    report = await file_report(box)
    out = await press(box, "5550009", f"st:rej:{report.id}", channel="telegram", group=GROUP)
    assert [o.label for o in out[0].reply.options] == [
        "Not enough information to act on", "Not a complaint about a public service",
        "Abusive or offensive content", "✖️ Cancel"]
    out = await press(box, "5550009", f"st:x:{report.id}", channel="telegram", group=GROUP)
    assert "unchanged" in texts(out)
    out = await press(box, "5550009", f"st:why:{report.id}:abusive", channel="telegram",
                      group=GROUP)
    assert "no longer open" in _alerts(out)[0]
    assert (await reload(box, report.id or 0)).status == "submitted"


async def test_kominfo_routes_through_an_agency_picker_that_fits_one_screen(
        container: Container) -> None:
    """Fifteen agencies do not fit Telegram's screen: nine at a time, then "Other ›"."""
    box = container
    report = await file_report(box)
    await staff(box, "5550009", role="kominfo", name="Rina", channel="telegram")
    out = await press(box, "5550009", f"st:route:{report.id}", channel="telegram", group=GROUP)
    first = next(o.reply for o in out if o.reply.options)
    assert len(first.options) <= 12 and first.options[-2].label == "Other ›"
    shown = {o.id for o in first.options}
    more = first.options[-2].id
    out = await press(box, "5550009", more, channel="telegram", group=GROUP)
    second = next(o.reply for o in out if o.reply.options)
    assert len(second.options) <= 12
    assert not shown & {o.id for o in second.options if o.id.startswith("st:to:")}
    every = {o.id.rsplit(":", 1)[1] for o in [*first.options, *second.options]
             if o.id.startswith("st:to:")}
    assert every == set(box.city.agencies)  # between the two screens, every agency
    dlh = next(o.id for o in [*first.options, *second.options] if o.id.endswith(":dlh"))
    await press(box, "5550009", dlh, channel="telegram", group=GROUP)
    found = await reload(box, report.id or 0)
    assert (found.status, found.agency_key) == ("assigned", "dlh")
