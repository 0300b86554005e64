"""WhatsApp's sending rules: the 24-hour window, templates, waiting messages, opt-outs, errors,
length, and options drawn as numbered lists or Twilio Content templates."""

from __future__ import annotations

from typing import Any

import pytest
from sqlmodel import select

from bot.engine import Outgoing
from bot.flows.menu import MENU_ITEMS
from bot.messages import Reply
from chat import WhatsAppChat, id_
from conftest import Clock
from factories import png_bytes
from storage.media import MediaRejected
from storage.models import Identity
from storage.models.outbound import OutboundMessage, PendingMessage
from whatsapp_fixtures import WhatsAppEnv

UPDATE = "Laporan BJI-2026-000001 sedang ditangani oleh Dinas PUTR."


@pytest.fixture
def twilio_options() -> dict[str, Any]:
    # Strict: free text outside the window is refused at once, so any slip shows.
    return {"reject_outside_window": True}


async def notify(env: WhatsAppEnv, chat: WhatsAppChat, text: str = UPDATE,
                 kind: str = "report_status") -> None:
    """A message that does not answer the resident (a status change made by staff)."""
    reply = Reply(text, kind=kind,
                  template_vars={"1": "BJI-2026-000001", "2": "sedang ditangani"})
    mark = len(env.double.messages)
    await env.box.outbound.deliver([Outgoing("whatsapp", chat.user_key, reply, "id")])
    await env.double.settle()
    chat.collect(mark)


async def records(env: WhatsAppEnv) -> list[OutboundMessage]:
    async with env.box.db.reader() as session:
        return list((await session.exec(select(OutboundMessage))).all())


async def pending(env: WhatsAppEnv) -> list[PendingMessage]:
    async with env.box.db.reader() as session:
        return list((await session.exec(select(PendingMessage))).all())


async def opted_out(env: WhatsAppEnv, chat: WhatsAppChat) -> bool:
    async with env.box.db.reader() as session:
        identity = (await session.exec(
            select(Identity).where(Identity.user_key == chat.user_key))).one()
    return identity.opted_out


async def test_inside_the_window_a_notification_is_free_text(whatsapp: WhatsAppEnv,
                                                              clock: Clock) -> None:
    chat = whatsapp.chat()
    await chat.say("halo")
    clock.advance(hours=23)
    await notify(whatsapp, chat)
    assert chat.texts == [UPDATE]
    assert chat.sent[0].content_sid is None
    assert (await records(whatsapp))[-1].kind == "report_status"


async def test_outside_the_window_the_approved_template_is_used(whatsapp: WhatsAppEnv,
                                                                 clock: Clock) -> None:
    sid = whatsapp.double.add_template("Laporan {{1}}: {{2}}. Balas pesan ini untuk detailnya.")
    whatsapp.configure(twilio_templates={"report_status": sid})
    chat = whatsapp.chat()
    await chat.say("halo")
    clock.advance(days=3)
    await notify(whatsapp, chat)
    [message] = chat.sent
    assert message.content_sid == sid
    assert message.content_variables == {"1": "BJI-2026-000001", "2": "sedang ditangani"}
    assert chat.texts == ["Laporan BJI-2026-000001: sedang ditangani. Balas pesan ini untuk "
                          "detailnya."]
    assert whatsapp.double.rejected == []


async def test_a_template_per_locale_is_preferred(whatsapp: WhatsAppEnv, clock: Clock) -> None:
    generic = whatsapp.double.add_template("Report {{1}}: {{2}}")
    indonesian = whatsapp.double.add_template("Laporan {{1}}: {{2}}")
    whatsapp.configure(twilio_templates={"report_status": generic,
                                         "report_status:id": indonesian})
    chat = whatsapp.chat()
    await chat.say("halo")
    clock.advance(days=2)
    await notify(whatsapp, chat)
    assert chat.sent[0].content_sid == indonesian


async def test_without_a_template_the_message_waits_for_the_next_message(
    whatsapp: WhatsAppEnv, clock: Clock
) -> None:
    chat = whatsapp.chat()
    await chat.say("halo")
    clock.advance(days=2)
    await notify(whatsapp, chat)
    assert chat.sent == [] and whatsapp.double.rejected == []
    [waiting] = await pending(whatsapp)
    assert waiting.text == UPDATE
    assert (await records(whatsapp))[-1].status == "pending_window"

    await chat.say("halo lagi")
    assert chat.texts[0] == UPDATE  # the older news first
    assert id_("What would you like to do?") in chat.texts[-1]
    assert await pending(whatsapp) == []  # the text is not kept once sent
    update = [r for r in await records(whatsapp) if r.kind == "report_status"]
    assert [(r.status, r.provider_id) for r in update] == [("queued", chat.sent[0].sid)]

    await chat.say("menu")
    assert UPDATE not in chat.text  # sent once only


@pytest.mark.parametrize("template", [None, "HX" + "1" * 32], ids=["no-template", "template"])
async def test_the_receipt_says_updates_may_wait_only_when_no_template_exists(
    whatsapp: WhatsAppEnv, template: str | None
) -> None:
    note = id_("On WhatsApp we can only write to you within 24 hours of your last message. If "
               "there is news about your report after that, it will wait here until you next "
               "write to us; any message will do.")
    if template:
        whatsapp.configure(twilio_templates={"report_status": template})
    chat = whatsapp.chat()
    await chat.say("/start")
    await chat.tap(id_("📝 Make a report"))
    await chat.say("Jalan berlubang dalam di depan sekolah")
    await chat.tap("Jalan rusak")
    await chat.say("Tangsi")
    await chat.tap(id_("Skip"))
    await chat.tap(id_("Skip photos"))
    await chat.tap(id_("Yes, show my name"))
    await chat.tap(id_("✅ Send report"))
    assert chat.ticket()
    assert (note in chat.text) is (template is None)


async def test_a_window_closed_at_twilio_is_not_retried_as_free_text(
    whatsapp: WhatsAppEnv,
) -> None:
    chat = whatsapp.chat()
    await chat.say("halo")
    whatsapp.double.last_inbound.clear()  # our record says open; WhatsApp says closed
    await notify(whatsapp, chat)
    assert chat.sent == []
    assert [r.code for r in whatsapp.double.rejected] == [63016]
    assert [(r.status, r.error_code) for r in await records(whatsapp)][-2:] == [
        ("failed", 63016), ("pending_window", None)]
    await notify(whatsapp, chat, "Kabar kedua.")  # the window is now known to be closed
    assert [r.code for r in whatsapp.double.rejected] == [63016]

    await chat.say("halo")
    assert chat.texts[:2] == [UPDATE, "Kabar kedua."]


async def test_a_window_closed_at_twilio_falls_back_to_the_template(
    whatsapp: WhatsAppEnv,
) -> None:
    sid = whatsapp.double.add_template("Laporan {{1}}: {{2}}")
    whatsapp.configure(twilio_templates={"report_status": sid})
    chat = whatsapp.chat()
    await chat.say("halo")
    whatsapp.double.last_inbound.clear()
    await notify(whatsapp, chat)
    assert [m.content_sid for m in chat.sent] == [sid]


async def test_an_opted_out_number_gets_no_more_messages(whatsapp: WhatsAppEnv) -> None:
    chat = whatsapp.chat()
    await chat.say("halo")
    whatsapp.double.opt_out(chat.address)  # blocked the number at Twilio
    await notify(whatsapp, chat)
    assert [r.code for r in whatsapp.double.rejected] == [21610]
    assert await opted_out(whatsapp, chat)
    await notify(whatsapp, chat, "Kabar kedua.")
    assert [r.code for r in whatsapp.double.rejected] == [21610]  # not even tried
    assert (await records(whatsapp))[-1].status == "skipped"


async def test_throttling_is_retried_with_backoff(whatsapp: WhatsAppEnv) -> None:
    chat = whatsapp.chat()
    await chat.say("halo")
    whatsapp.double.fail_next(2, status=429, code=20429)
    await notify(whatsapp, chat)
    assert chat.texts == [UPDATE]
    assert [r.code for r in whatsapp.double.rejected] == [20429, 20429]
    assert (await records(whatsapp))[-1].status == "queued"


async def test_server_errors_are_retried_a_bounded_number_of_times(
    whatsapp: WhatsAppEnv,
) -> None:
    chat = whatsapp.chat()
    await chat.say("halo")
    whatsapp.double.fail_next(50, status=503, code=20503)
    await notify(whatsapp, chat)
    assert chat.sent == []
    assert len(whatsapp.double.rejected) == 4  # one try and three retries
    assert [(r.status, r.error_code) for r in await records(whatsapp)][-1] == ("failed", 20503)


async def test_stop_silences_notifications_but_not_replies(whatsapp: WhatsAppEnv,
                                                           clock: Clock) -> None:
    chat = whatsapp.chat()
    await chat.say("halo")
    for word in ("BERHENTI", "unsubscribe", "Stop"):
        await chat.say(word)
        assert id_("Done: we will no longer send you announcements or updates on your reports. "
                   "You can still write to us at any time and we will answer. To receive them "
                   "again, send START.") in chat.text
    await notify(whatsapp, chat)
    assert chat.sent == []
    await chat.say("menu")  # a reply to the resident's own message still goes out
    assert id_("What would you like to do?") in chat.text
    await chat.say("start")
    assert id_("Welcome back! You will receive announcements and updates on your reports "
               "again. To stop them, send STOP.") in chat.text
    await notify(whatsapp, chat)
    assert chat.texts == [UPDATE]


async def test_waiting_messages_are_dropped_for_a_resident_who_stopped(
    whatsapp: WhatsAppEnv, clock: Clock
) -> None:
    chat = whatsapp.chat()
    await chat.say("halo")
    clock.advance(days=2)
    await notify(whatsapp, chat)
    await chat.say("STOP")
    assert UPDATE not in chat.text
    assert await pending(whatsapp) == []
    assert "skipped" in [r.status for r in await records(whatsapp)]


async def test_long_texts_are_split_at_sentence_boundaries(whatsapp: WhatsAppEnv) -> None:
    chat = whatsapp.chat()
    await chat.say("halo")
    sentence = "Petugas sudah memeriksa lokasi dan menjadwalkan perbaikan minggu ini. "
    long_text = (sentence * 60).strip()  # about 4,200 characters
    await notify(whatsapp, chat, long_text)
    assert len(chat.sent) == 3
    assert all(len(body) <= 1600 and body.endswith(".") for body in chat.texts)
    assert " ".join(chat.texts) == long_text


async def test_quick_replies_and_list_pickers_where_templates_are_configured(
    whatsapp: WhatsAppEnv,
) -> None:
    quick = whatsapp.double.add_template("{{1}}")
    picker = whatsapp.double.add_template("{{1}}")
    whatsapp.configure(twilio_quick_reply_templates={2: quick},
                       twilio_list_picker_templates={len(MENU_ITEMS): picker})
    chat = whatsapp.chat()
    await chat.say("halo")
    [menu] = chat.sent
    assert menu.content_sid == picker  # the menu's entries: a list picker (at most 10)
    assert menu.content_variables is not None
    assert menu.content_variables["3"] == id_("📝 Make a report")
    assert menu.content_variables["4"] == "m:report"
    await chat.tap(id_("🔎 Check a report's status"))  # pressed: ButtonPayload "m:track"
    [question] = chat.sent
    assert question.content_sid == quick  # two options: quick-reply buttons (at most 3)
    await chat.tap(id_("📋 My reports"))
    assert id_("You have not filed any reports yet.") in chat.text


async def test_options_beyond_whatsapps_limits_stay_a_numbered_list(
    whatsapp: WhatsAppEnv,
) -> None:
    picker = whatsapp.double.add_template("{{1}}")
    whatsapp.configure(twilio_list_picker_templates={len(MENU_ITEMS): picker})
    chat = whatsapp.chat(language_code="en")
    await chat.say("hello")
    # "🔎 Check a report's status" is longer than a list item may be (24 characters).
    [menu] = chat.sent
    assert menu.content_sid is None
    assert "Reply with a number:" in menu.body


async def test_media_credentials_never_leave_twilio(whatsapp: WhatsAppEnv) -> None:
    with pytest.raises(MediaRejected):
        await whatsapp.channel.media.download("https://media.example.org/2010-04-01/x.jpg")
    assert whatsapp.double.media_requests == []


async def test_a_photo_twilio_cannot_hand_over_is_asked_for_again(
    whatsapp: WhatsAppEnv,
) -> None:
    chat = whatsapp.chat()
    await chat.say("/start")
    await chat.tap(id_("📝 Make a report"))
    await chat.say("Jalan berlubang dalam di depan sekolah")
    await chat.tap("Jalan rusak")
    await chat.say("Tangsi")
    await chat.tap(id_("Skip"))
    url = whatsapp.double.add_media(png_bytes(seed=9), "image/png")
    whatsapp.double.media.clear()  # expired before we fetched it
    await chat.send_media(url, "image/png")
    assert id_("Sorry, we could not receive that photo. Please try sending it again.") \
        in chat.text
