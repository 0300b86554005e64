"""Asking the city, as a transcript on every channel: browsing, free text, staff answers."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from click.testing import CliRunner
from sqlmodel import select

from bot.cli import main
from bot.engine import Outgoing
from bot.faq_answers import deliver_answers
from bot.handlers.terminal import render
from bot.i18n import use_locale
from chat import Chat, TerminalChat, conversation_of
from conftest import Clock
from storage import repo_agencies, repo_console
from storage.models.agency import StaffMember
from storage.models.faq import FaqFeedback, FaqQuestion, FaqView

# Everything the WhatsApp adapter draws must fit one 1600-character body.
WHATSAPP_BODY = 1600


async def rows(env: Any, model: Any) -> list[Any]:
    async with env.box.db.reader() as session:
        return list((await session.exec(select(model))).all())


def mark(env: Any, chat: Chat) -> int:
    """Where the channel's record of sent messages stands now."""
    if chat.channel == "telegram":
        return len(env.double.sent)
    if chat.channel == "whatsapp":
        return len(env.double.messages)
    return 0


async def received_since(env: Any, chat: Chat, since: int) -> str:
    """What `chat` was sent since `since`, though someone else's action caused it."""
    if chat.channel == "telegram":
        chat._collect(since)  # type: ignore[attr-defined]
    else:
        await env.channel.drain()
        await env.double.settle()
        chat.collect(since)  # type: ignore[attr-defined]
    return chat.text


async def make_kominfo_staff(env: Any, chat: Chat, name: str = "Rina") -> None:
    async with env.box.db.session() as session:
        await repo_agencies.save_staff(session=session, staff=StaffMember(
            channel=chat.channel, user_key=chat.user_key, role="kominfo", name=name))


async def test_resident_browses_topics_reads_pages_and_rates_the_article(
    channel_env: Any, en_chat: Chat
) -> None:
    chat = en_chat
    await chat.say("/start")
    await chat.tap("Ask about the city's apps")
    assert "type your question" in chat.text
    assert "Binjai Smart City apps" in chat.options
    await chat.tap("Reporting through this bot")
    assert "How to make a report in this bot" in chat.options
    await chat.tap("How to make a report in this bot")
    assert "📖 How to make a report in this bot" in chat.text
    assert "(page 1 of 2)" in chat.text
    assert "Was this helpful?" not in chat.text
    await chat.tap("Next page")
    assert "(page 2 of 2)" in chat.text
    assert "Was this helpful?" in chat.text
    assert any("After you send a report" in o for o in chat.options)  # related articles
    await chat.tap("Yes")
    assert "Thank you for your feedback" in chat.text
    assert "What would you like to do?" in chat.text  # back at the main menu

    [feedback] = await rows(channel_env, FaqFeedback)
    assert (feedback.article, feedback.helpful) == ("cara-lapor", True)
    # One opening counted, though the resident turned a page and rated it; no one's name in it.
    [view] = await rows(channel_env, FaqView)
    assert (view.article, view.shown, view.day.isoformat()) == ("cara-lapor", 1, "2026-12-07")
    await chat.say("how do I report a problem with this bot?")
    assert "📖 How to make a report in this bot" in chat.text
    [view] = await rows(channel_env, FaqView)
    assert view.shown == 2


async def test_questions_in_residents_own_words_open_the_right_article(chat: Chat) -> None:
    await chat.say("/start")
    await chat.say("gmn cara bayar pbb online?")
    assert "📖 e-PBB: Pajak Bumi dan Bangunan" in chat.text
    await chat.say("izin usaha dmn ngurusnya")
    assert "📖 e-Perizinan: mengurus izin secara daring" in chat.text
    assert "DPMPTSP" in chat.text


async def test_a_complaint_starts_a_report_in_its_category(
    channel_env: Any, en_chat: Chat
) -> None:
    chat = en_chat
    await chat.say("/start")
    await chat.say("lampu jalan mati di jl. t. amir hamzah")
    assert "a problem to report: Street light out" in chat.text
    await chat.tap("Make a report: Street light out")
    assert "Where is the problem" in chat.text
    conversation = await conversation_of(channel_env.box, chat)
    assert (conversation.flow, conversation.state) == ("report", "place")
    assert conversation.data["draft"]["category"] == "pju"
    # The resident's own words are the report's description: not asked again.
    assert conversation.data["draft"]["description"] == "lampu jalan mati di jl. t. amir hamzah"
    await chat.tap("Binjai Kota")
    await chat.tap("Kartini")
    assert "landmark" in chat.text
    await chat.tap("Skip")
    await chat.tap("Skip photos")
    await chat.tap("Yes, show my name")
    assert "Description: lampu jalan mati di jl. t. amir hamzah" in chat.text


async def test_power_cuts_are_referred_to_pln_before_reporting(en_chat: Chat) -> None:
    chat = en_chat
    await chat.say("/start")
    await chat.say("mati lampu dari tadi sore")
    await chat.tap("Make a report: Power outage")
    assert "PLN" in chat.text and "123" in chat.text
    assert "Where is the problem" in chat.text


async def test_greetings_thanks_and_help_get_a_friendly_answer_and_the_menu(
    en_chat: Chat
) -> None:
    chat = en_chat
    await chat.say("/start")
    await chat.say("halo min")
    assert "Hello!" in chat.text
    assert "Make a report" in " ".join(chat.options)
    await chat.say("makasih ya")
    assert "You're welcome" in chat.text
    await chat.say("help")
    assert "jalan berlubang" in chat.text
    assert "What would you like to do?" in chat.text


async def test_an_emergency_shows_the_numbers_first(en_chat: Chat) -> None:
    chat = en_chat
    await chat.say("/start")
    await chat.say("tolong ada kebakaran di jl. diponegoro!")
    assert "112" in chat.text and "113" in chat.text
    assert "Make a report" in " ".join(chat.options)


async def _resident_asks_staff(chat: Chat) -> None:
    await chat.say("/start")
    await chat.say("kapan pasar malam dibuka")
    assert "I do not have an answer to that yet" in chat.text
    assert "“kapan pasar malam dibuka”" in chat.text
    await chat.tap("Yes, send it to staff")
    assert "number #1" in chat.text


async def test_unanswerable_question_reaches_staff_who_answer_from_chat(
    channel_env: Any, en_chat: Chat
) -> None:
    resident = en_chat
    staff = channel_env.chat(chat_id=700_009, language_code="id")
    await make_kominfo_staff(channel_env, staff)

    await staff.say("/jawab 1 belum ada")  # before any question: nothing to answer
    assert "#1" in staff.text
    since = mark(channel_env, staff)
    await _resident_asks_staff(resident)
    if staff.channel == "terminal":
        told = resident.text  # the terminal shows every message of the event
    else:
        told = await received_since(channel_env, staff, since)
    assert "New question #1" in told or "Pertanyaan baru #1" in told
    [question] = await rows(channel_env, FaqQuestion)
    assert (question.status, question.text, question.locale) == \
        ("open", "kapan pasar malam dibuka", "en")

    await staff.say("/pertanyaan")
    assert "#1" in staff.text and "kapan pasar malam dibuka" in staff.text
    since = mark(channel_env, resident)
    await staff.say("/jawab 1 Pasar malam Ramadan dibuka mulai pukul 17.00 WIB.")
    assert "#1" in staff.text
    if resident.channel == "terminal":
        received = staff.text  # the terminal shows every message of the event
    else:
        received = await received_since(channel_env, resident, since)
    assert "Kominfo staff answered your question #1" in received
    assert "Pasar malam Ramadan dibuka mulai pukul 17.00 WIB." in received
    [question] = await rows(channel_env, FaqQuestion)
    assert question.status == "answered" and question.delivered_at is not None
    assert question.answered_by == "Rina"
    async with channel_env.box.db.reader() as session:  # audited as in the console
        audit = await repo_console.list_audit(session=session, action="faq.answer")
    assert [(a.source, a.target) for a in audit] == [("chat", "question:1")]
    assert audit[0].staff_id is not None


async def test_only_kominfo_staff_may_answer(channel_env: Any, en_chat: Chat) -> None:
    await _resident_asks_staff(en_chat)
    stranger = channel_env.chat(chat_id=700_010, language_code="en")
    officer = channel_env.chat(chat_id=700_011, language_code="en")
    async with channel_env.box.db.session() as session:
        await repo_agencies.save_staff(session=session, staff=StaffMember(
            channel=officer.channel, user_key=officer.user_key, role="officer",
            agency_key="putr", name="Budi"))
    for someone in (stranger, officer):
        await someone.say("/start")
        await someone.say("/jawab 1 hello")
        assert "do not know that command" in someone.text
    [question] = await rows(channel_env, FaqQuestion)
    assert question.status == "open"


class Recorder:
    """A channel sender that keeps what it was given."""

    def __init__(self) -> None:
        self.sent: list[Outgoing] = []

    async def deliver(self, outgoing: list[Outgoing], *, edit_message: Any = None) -> None:
        self.sent.extend(outgoing)


async def test_an_answer_given_on_the_command_line_is_delivered_once(
    channel_env: Any, en_chat: Chat, clock: Clock
) -> None:
    box = channel_env.box
    await _resident_asks_staff(en_chat)
    runner = CliRunner()
    result = await asyncio.to_thread(
        runner.invoke, main, ["faq", "answer", "1", "Pasar", "malam", "dibuka", "Sabtu."],
        obj={"settings": box.settings})
    assert result.exit_code == 0, result.output
    assert "answer to question #1 saved" in result.output

    if en_chat.channel != "terminal":
        since = mark(channel_env, en_chat)
        assert await deliver_answers(db=box.db, outbound=box.outbound, now=clock) == 1
        received = await received_since(channel_env, en_chat, since)
    else:
        recorder = Recorder()
        box.outbound.register("terminal", recorder)
        assert await deliver_answers(db=box.db, outbound=box.outbound, now=clock) == 1
        [item] = recorder.sent
        assert (item.to, item.locale) == (en_chat.user_key, "en")
        with use_locale(item.locale):
            received = render(item.reply)
    assert "Kominfo staff answered your question #1" in received
    assert "Pasar malam dibuka Sabtu." in received
    assert await deliver_answers(db=box.db, outbound=box.outbound, now=clock) == 0


async def test_not_helpful_offers_to_ask_staff(channel_env: Any, en_chat: Chat) -> None:
    chat = en_chat
    await chat.say("/start")
    await chat.say("apa itu e-ssh")
    assert "📖 e-SSH: standard unit prices" in chat.text
    await chat.tap("No")
    assert "Shall I pass your question to Kominfo staff?" in chat.text
    await chat.tap("Yes, send it to staff")
    [question] = await rows(channel_env, FaqQuestion)
    assert question.text == "apa itu e-ssh"
    [feedback] = await rows(channel_env, FaqFeedback)
    assert (feedback.article, feedback.helpful) == ("e-ssh", False)


@pytest.mark.parametrize("locale", ["id", "en"])
async def test_every_article_page_fits_a_whatsapp_message(container: Any, locale: str) -> None:
    """Walk every topic, article and page; each message, with its options drawn as a numbered
    list (as WhatsApp shows them, under a one-line heading), stays within 1600 UTF-16 units."""
    chat = TerminalChat(container.engine, user_key=f"reader-{locale}", locale=locale)
    library = container.flows["faq"].library
    heading = 30
    pages = 0
    for topic in library.content.topics:
        for article in library.content.in_topic(topic.key):
            await chat.say("/start")
            await chat.tap("❓")
            await chat.tap(topic.name(locale))
            await chat.tap(article.title(locale))
            while True:
                assert f"📖 {article.title(locale)}" in chat.text
                for text in chat.texts:
                    assert len(text.encode("utf-16-le")) // 2 + heading <= WHATSAPP_BODY
                pages += 1
                if not any(o.startswith("➡️") for o in chat.options):
                    break
                await chat.tap("➡️")
    assert pages > len(library.content.articles)


async def test_a_typed_yes_accepts_what_the_bot_offered(channel_env: Any, chat: Chat) -> None:
    await chat.say("/start")
    await chat.say("sampah numpuk udah 3 hari")
    await chat.say("ya")
    conversation = await conversation_of(channel_env.box, chat)
    assert (conversation.flow, conversation.state) == ("report", "place")
    assert conversation.data["draft"]["category"] == "sampah"
    await chat.say("menu")
    await chat.say("kapan pasar malam dibuka")
    await chat.say("iya")
    [question] = await rows(channel_env, FaqQuestion)
    assert question.text == "kapan pasar malam dibuka"
    await chat.say("apa itu kim")
    await chat.say("tidak")
    [feedback] = await rows(channel_env, FaqFeedback)
    assert (feedback.article, feedback.helpful) == ("kim", False)


class Refusing:
    """A channel sender whose every send fails (the platform is down)."""

    async def deliver(self, outgoing: list[Outgoing], *, edit_message: Any = None) -> None:
        raise ConnectionError("platform unreachable")


async def test_an_answer_that_could_not_go_out_is_kept_and_sent_later(
        container: Any, clock: Clock) -> None:
    box = container
    chat = TerminalChat(box.engine, user_key="warga-9", locale="en")
    await _resident_asks_staff(chat)
    result = await asyncio.to_thread(
        CliRunner().invoke, main, ["faq", "answer", "1", "Setiap", "Sabtu."],
        obj={"settings": box.settings})
    assert result.exit_code == 0, result.output
    box.outbound.senders.pop("terminal", None)  # the channel is off: the answer waits
    assert await deliver_answers(db=box.db, outbound=box.outbound, now=clock) == 0
    box.outbound.register("terminal", Refusing())  # on, but failing: still not delivered
    assert await deliver_answers(db=box.db, outbound=box.outbound, now=clock) == 0
    assert (await _question(box)).delivered_at is None
    recorder = Recorder()
    box.outbound.register("terminal", recorder)  # back: it goes out once
    assert await deliver_answers(db=box.db, outbound=box.outbound, now=clock) == 1
    assert await deliver_answers(db=box.db, outbound=box.outbound, now=clock) == 0
    [item] = recorder.sent
    assert item.to == "warga-9"
    assert (await _question(box)).delivered_at is not None


async def _question(box: Any) -> FaqQuestion:
    async with box.db.reader() as session:
        return (await session.exec(select(FaqQuestion))).one()
