"""Answering a poll in chat, on every channel: a tap, a number, an option's word or a typo;
a changed answer; a late answer; a redelivered update; the results sent back; a message about
something else while a poll waits; a quiz with its school question and score."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import select

from bot.app import Container
from broadcasts.polls import PollService
from chat import (
    Chat,
    TelegramChat,
    TerminalChat,
    WhatsAppChat,
    conversation_of,
    id_,
    replies_to,
    stored_reports,
)
from conftest import TelegramEnv
from doubles.telegram_updates import callback_update, text_update
from polling import create_poll, deliver, dispatch, get_poll, question, service, subscribe
from storage.models.poll import PollAnswer

QUESTION = "Setujukah Bapak/Ibu car free day diadakan setiap Minggu pagi di Jl. Sudirman?"


def box_of(env: object) -> Container:
    return env.box  # type: ignore[attr-defined,no-any-return]


async def answers(box: Container, poll_id: int) -> list[PollAnswer]:
    async with box.db.reader() as session:
        return list((await session.exec(
            select(PollAnswer).where(PollAnswer.poll_id == poll_id))).all())


async def results(box: Container, poll_id: int) -> dict[str, object]:
    from broadcasts.poll_results import poll_results

    async with box.db.reader() as session:
        polls = service(box, session)
        poll = await polls.get(poll_id)
        return await poll_results(session=session, city=box.city, catalog=polls.catalog,
                                  poll=poll, questions=await polls.questions(poll),
                                  phase=polls.phase(poll))


def counts(figures: dict[str, object]) -> dict[str, int]:
    return {o["label"]: o["count"] for o in figures["options"]}  # type: ignore[attr-defined]


async def _asked(channel_env: object, chat: Chat, **poll: object) -> int:
    """A resident of KIM Pahlawan who has talked to the bot, and a poll just delivered."""
    box = box_of(channel_env)
    await subscribe(box, chat)
    await chat.say("halo")
    options = poll.pop("options", ("Setuju", "Tidak setuju"))
    poll_id = await create_poll(box, question(QUESTION, *options), **poll)  # type: ignore[arg-type]
    await deliver(box, chat, poll_id)
    return poll_id


async def test_a_tap_or_its_number_answers_and_is_acknowledged(channel_env: object,
                                                               chat: Chat) -> None:
    poll_id = await _asked(channel_env, chat)
    assert QUESTION in chat.text
    assert chat.options[:2] == ["Setuju", "Tidak setuju"]
    await chat.tap("Setuju")
    assert id_("Thank you, your answer is recorded: {answer}.", answer="Setuju") in chat.text
    assert id_("You can change your answer while the poll is open.") in chat.text
    # The options stay in front of the resident, the chosen one marked.
    assert "✅ Setuju" in chat.options
    figures = await results(box_of(channel_env), poll_id)
    assert counts(figures) == {"Setuju": 1, "Tidak setuju": 0}
    assert figures["responses"] == 1 and figures["response_rate"] == 1.0


@pytest.fixture
def typed_chat(channel_env: object, chat: Chat) -> Chat:
    if isinstance(chat, TelegramChat):
        pytest.skip("Telegram residents tap; typed answers are the WhatsApp and terminal way")
    return chat


async def test_a_word_a_typo_or_a_negation_answers(channel_env: object, typed_chat: Chat) -> None:
    chat = typed_chat
    poll_id = await _asked(channel_env, chat)
    await chat.say("stuju")
    assert id_("Thank you, your answer is recorded: {answer}.", answer="Setuju") in chat.text
    await chat.say("gak setuju")
    assert id_("Your answer is changed to: {answer}.", answer="Tidak setuju") in chat.text
    await chat.say("2")
    assert id_("Your answer stays: {answer}.", answer="Tidak setuju") in chat.text
    figures = await results(box_of(channel_env), poll_id)
    assert counts(figures) == {"Setuju": 0, "Tidak setuju": 1}
    rows = await answers(box_of(channel_env), poll_id)
    assert len(rows) == 1 and rows[0].changes == 1


async def test_ya_answers_a_yes_or_no_poll(channel_env: object, typed_chat: Chat) -> None:
    poll_id = await _asked(channel_env, typed_chat, options=("Ya", "Tidak"))
    await typed_chat.say("iya")
    assert id_("Thank you, your answer is recorded: {answer}.", answer="Ya") in typed_chat.text
    assert counts(await results(box_of(channel_env), poll_id)) == {"Ya": 1, "Tidak": 0}


async def test_a_changed_answer_counts_once(channel_env: object, chat: Chat) -> None:
    poll_id = await _asked(channel_env, chat)
    await chat.tap("Setuju")
    await chat.tap("Tidak setuju")
    assert id_("Your answer is changed to: {answer}.", answer="Tidak setuju") in chat.text
    assert "✅ Tidak setuju" in chat.options
    figures = await results(box_of(channel_env), poll_id)
    assert counts(figures) == {"Setuju": 0, "Tidak setuju": 1}
    assert figures["responses"] == 1


async def test_a_report_while_a_poll_waits_is_filed_not_taken_for_an_answer(
        channel_env: object, en_chat: Chat) -> None:
    chat = en_chat
    box = box_of(channel_env)
    poll_id = await _asked(channel_env, chat)
    await chat.say("jalan depan rumah rusak")
    assert "a problem to report" in chat.text
    await chat.tap("Make a report: Damaged road")
    await chat.place_to_summary("Tangsi")
    await chat.tap("Send report")
    chat.ticket()
    reports = await stored_reports(box)
    assert len(reports) == 1 and reports[0].description == "jalan depan rumah rusak"
    assert await answers(box, poll_id) == []
    # The poll still waits: its word answers it.
    await chat.say("setuju")
    assert "Thank you, your answer is recorded: Setuju." in chat.text


async def test_a_question_while_a_poll_waits_is_answered_from_the_faq(
        channel_env: object, chat: Chat) -> None:
    poll_id = await _asked(channel_env, chat)
    await chat.say("gmn cara bayar pbb online?")
    assert "e-PBB" in chat.text
    assert await answers(box_of(channel_env), poll_id) == []


async def test_a_number_answers_a_poll_that_arrives_in_the_middle_of_a_report(
        channel_env: object, typed_chat: Chat) -> None:
    chat = typed_chat
    box = box_of(channel_env)
    await subscribe(box, chat)
    await chat.say("/start")
    await chat.tap(id_("📝 Make a report"))
    asked = chat.text
    poll_id = await create_poll(box, question(QUESTION, "Setuju", "Tidak setuju"))
    await deliver(box, chat, poll_id)
    await chat.say("1")
    assert id_("Thank you, your answer is recorded: {answer}.", answer="Setuju") in chat.text
    # ...and the report's question is asked again: the resident carries on where they were.
    assert asked.splitlines()[0] in chat.text
    conversation = await conversation_of(box, chat)
    assert conversation.flow == "report"
    # Now the numbers are the report's again.
    await chat.say("Lampu jalan di depan sekolah mati sejak tiga hari")
    assert await stored_reports(box) == []
    assert len(await answers(box, poll_id)) == 1


async def test_an_answer_after_the_close_is_refused_politely(channel_env: object,
                                                             chat: Chat) -> None:
    box = box_of(channel_env)
    poll_id = await _asked(channel_env, chat)
    await chat.tap("Setuju")
    async with box.db.session() as session:
        await service(box, session).close(poll_id, by="operator")
    await chat.tap("Tidak setuju")
    assert "Maaf, jajak pendapat ini sudah ditutup" in chat.text
    assert counts(await results(box, poll_id)) == {"Setuju": 1, "Tidak setuju": 0}


async def test_the_closing_time_ends_answers_before_anyone_closes_it(
        channel_env: object, chat: Chat) -> None:
    box = box_of(channel_env)
    clock = box.engine.clock
    poll_id = await _asked(channel_env, chat, closes_at=clock() + timedelta(hours=2))
    assert "Senin, 7 Des 2026 11.00 WIB" in chat.text  # the closing time, as people write it
    clock.advance(hours=3)  # type: ignore[attr-defined]
    await chat.tap("Setuju")
    assert "Maaf, jajak pendapat ini sudah ditutup pada Senin, 7 Des 2026 11.00 WIB" in chat.text
    assert await answers(box, poll_id) == []


async def test_a_redelivered_tap_has_no_second_effect(telegram: TelegramEnv) -> None:
    chat = telegram.chat()
    poll_id = await _asked(telegram, chat)
    buttons = [b for row in chat.keyboard["inline_keyboard"] for b in row]  # type: ignore[index]
    update = callback_update(chat.chat_id, buttons[0]["callback_data"],
                             chat.keyboard_message_id or 1)
    await chat.post(update)
    first = replies_to(telegram.double, chat.chat_id)
    await chat.post(update)  # Telegram sends the same update again
    assert replies_to(telegram.double, chat.chat_id) == first  # no second acknowledgement
    rows = await answers(telegram.box, poll_id)
    assert len(rows) == 1 and rows[0].changes == 0


async def test_a_redelivered_whatsapp_message_has_no_second_effect(whatsapp: object) -> None:
    chat = whatsapp.chat()  # type: ignore[attr-defined]
    poll_id = await _asked(whatsapp, chat)
    form = chat.form(body="1")
    await chat.post(form)
    assert "Setuju" in chat.text
    await chat.post(form)  # Twilio retries the webhook with the same MessageSid
    assert chat.sent == []
    rows = await answers(box_of(whatsapp), poll_id)
    assert len(rows) == 1 and rows[0].changes == 0


async def test_a_telegram_poll_is_answered_by_tapping_its_buttons(telegram: TelegramEnv) -> None:
    chat = telegram.chat()
    await _asked(telegram, chat)
    poll_message = telegram.double.messages_to(chat.chat_id)[-1]
    markup = poll_message.reply_markup
    assert markup is not None
    data = [b["callback_data"] for row in markup["inline_keyboard"] for b in row]
    assert all(len(d.encode()) <= 64 for d in data)
    await chat.tap("Tidak setuju")
    # The poll's own message now shows the answer, with the options to change it.
    edited = [c for c in telegram.double.sent if c.method == "editMessageText"]
    assert edited and "Tidak setuju" in (edited[-1].plain_text or "")
    assert "✅ Tidak setuju" in chat.options


async def test_results_go_back_to_the_people_who_answered(channel_env: object,
                                                          chat: Chat) -> None:
    if isinstance(chat, TerminalChat):
        pytest.skip("the terminal receives no broadcasts")
    box = box_of(channel_env)
    poll_id = await _asked(channel_env, chat, share_results=True)
    assert id_("We will send you the results when the poll closes.") in chat.text
    await chat.tap("Setuju")
    silent = channel_env.chat(chat_id=700_002)  # type: ignore[attr-defined]
    async with box.db.session() as session:
        polls = service(box, session)
        await polls.close(poll_id, by="operator")
    poll = await get_poll(box, poll_id)
    assert poll.results_campaign_id is not None
    mark = len(chat.double.sent if isinstance(chat, TelegramChat)
               else chat.double.messages)  # type: ignore[attr-defined]
    await dispatch(box, poll.results_campaign_id)
    if isinstance(chat, WhatsAppChat):
        await chat.double.settle()
        chat.collect(mark)
    else:
        assert isinstance(chat, TelegramChat)
        chat._collect(mark)
    assert "Hasil jajak pendapat" in chat.text
    assert "100%" in chat.text and QUESTION in chat.text
    assert "1 warga menjawab" in chat.text
    if isinstance(chat, TelegramChat):
        assert chat.double.texts_to(silent.chat_id) == []


async def test_an_answer_in_the_residents_own_words(channel_env: object, chat: Chat) -> None:
    box = box_of(channel_env)
    await subscribe(box, chat)
    await chat.say("halo")
    poll_id = await create_poll(box, question("Apa saran Bapak/Ibu untuk taman kota?",
                                              allow_text=True))
    await deliver(box, chat, poll_id)
    assert chat.options == [id_("✍️ Write my answer")]
    await chat.tap(id_("✍️ Write my answer"))
    assert id_("Please write your answer in one message.") in chat.text
    await chat.say("Tambah lampu taman dan tempat sampah di taman kota")
    assert id_("Thank you, we have received your answer.") in chat.text
    rows = await answers(box, poll_id)
    assert [r.text for r in rows] == ["Tambah lampu taman dan tempat sampah di taman kota"]
    figures = await results(box, poll_id)
    words = {w["word"] for w in figures["top_words"]}  # type: ignore[attr-defined]
    assert {"lampu", "taman", "sampah"} <= words and "dan" not in words


async def test_a_quiz_asks_one_question_at_a_time_and_gives_the_score(
        channel_env: object, chat: Chat) -> None:
    box = box_of(channel_env)
    await subscribe(box, chat)
    await chat.say("halo")
    poll_id = await create_poll(
        box,
        question("Aplikasi untuk membayar PBB di Binjai?", "e-PBB", "e-Dokter", "TransBinjai",
                 correct=0, points=10),
        question("Berapa kecamatan di Kota Binjai?", "Tiga", "Lima", "Tujuh", correct=1,
                 points=10),
        question("Di mana melapor jalan rusak?", "e-Masyarakat", "e-Perizinan", correct=0,
                 points=10),
        kind="quiz", title="Cerdas Cermat Smart City")
    await deliver(box, chat, poll_id)
    assert "Kuis: Cerdas Cermat Smart City" in chat.text and "1 dari 3" in chat.text
    await chat.tap("e-PBB")
    assert "Benar! +10 poin" in chat.text
    # The school or campus, asked once.
    assert "bersekolah atau berkuliah di mana" in chat.text
    await chat.say("SMAN 1 Binjai")
    assert "SMAN 1 Binjai" in chat.text
    assert "2 dari 3" in chat.text
    await chat.tap("Tujuh")
    assert "Kurang tepat" in chat.text and "Lima" in chat.text
    assert "3 dari 3" in chat.text
    await chat.tap("e-Masyarakat")
    assert "Skor Bapak/Ibu: 20 dari 30 poin" in chat.text
    async with box.db.reader() as session:
        polls = PollService(session=session, city=box.city,
                            catalog=service(box, session).catalog, settings=box.settings,
                            now=box.engine.clock)
        participant = await polls.participant(chat.channel, chat.user_key)
    assert participant is not None and participant.institution_key == "sma negeri 1 binjai"


async def test_an_ignored_telegram_update_is_not_an_answer(telegram: TelegramEnv) -> None:
    """Someone the poll was not sent to (a forwarded button, a forged one) is told so."""
    chat = telegram.chat()
    poll_id = await _asked(telegram, chat)
    other = telegram.chat(chat_id=700_009)
    await other.post(text_update(700_009, "halo"))
    await other.post(callback_update(700_009, f"pl:{poll_id}:0:0", 1))
    assert "dikirim kepada warga lain" in other.text
    assert await answers(telegram.box, poll_id) == []


async def test_a_quiz_for_two_schools_and_a_poll_for_binjai_timur(telegram: TelegramEnv) -> None:
    """Done when: Kominfo runs a three-question quiz for two high schools and a one-question
    poll for all KIM of Binjai Timur, watches the results fill in per kelurahan, and sends the
    results back."""
    box = telegram.box
    students = {700_501: "SMA Negeri 1 Binjai", 700_502: "SMAN 1 Binjai",
                700_503: "SMA Negeri 2 Binjai"}
    timur = {700_601: "12.75.04.1001", 700_602: "12.75.04.1001", 700_603: "12.75.04.1007"}
    for chat_id in students:
        await subscribe(box, telegram.chat(chat_id=chat_id), groups=("cgen",))
    for chat_id, kelurahan in timur.items():
        await subscribe(box, telegram.chat(chat_id=chat_id), kelurahan=kelurahan,
                        groups=("kim:" + kelurahan,))
    chats = {c: telegram.chat(chat_id=c) for c in (*students, *timur)}
    for chat in chats.values():
        await chat.say("halo")

    quiz_id = await create_poll(
        box, question("Aplikasi untuk membayar PBB?", "e-PBB", "e-Dokter", correct=0,
                      points=10),
        question("Berapa kecamatan di Kota Binjai?", "Empat", "Lima", correct=1, points=10),
        question("Di mana melapor jalan rusak?", "e-Masyarakat", "e-Perizinan", correct=0,
                 points=10),
        kind="quiz", title="Cerdas Cermat SMA", groups=["cgen"], share_results=True)
    poll_id = await create_poll(box, question("Perlukah ruang baca di kantor lurah?", "Perlu",
                                              "Tidak perlu"),
                                groups=["kim:12.75.04"], share_results=True)
    mark = len(telegram.double.sent)
    for found in (quiz_id, poll_id):
        campaign = (await get_poll(box, found)).campaign_id
        assert campaign is not None
        await dispatch(box, campaign)
    for chat in chats.values():
        chat._collect(mark)

    for chat_id, school in students.items():
        chat = chats[chat_id]
        await chat.tap("e-PBB")
        await chat.say(school)
        await chat.tap("Lima" if chat_id != 700_503 else "Empat")
        await chat.tap("e-Masyarakat")
        assert "Skor Bapak/Ibu" in chat.text
    await chats[700_601].tap("Perlu")
    await chats[700_602].tap("Tidak perlu")
    figures = await results(box, poll_id)
    assert figures["by_kelurahan"] == {"Tanah Tinggi": {"Perlu": 1, "Tidak perlu": 1}}
    await chats[700_603].tap("Perlu")
    figures = await results(box, poll_id)
    assert figures["by_kelurahan"] == {"Tanah Tinggi": {"Perlu": 1, "Tidak perlu": 1},
                                       "Sumber Karya": {"Perlu": 1}}
    assert figures["response_rate"] == 1.0

    from broadcasts.poll_results import leaderboard

    async with box.db.reader() as session:
        schools = await leaderboard(session=session, city=box.city,
                                    catalog=service(box, session).catalog, poll_id=quiz_id,
                                    by="school")
    assert [(r["name"], r["participants"], r["points"]) for r in schools] == [
        ("SMA Negeri 1 Binjai", 2, 60), ("SMA Negeri 2 Binjai", 1, 20)]

    async with box.db.session() as session:
        polls = service(box, session)
        await polls.close(quiz_id, by="operator")
        await polls.close(poll_id, by="operator")
    for found in (quiz_id, poll_id):
        poll = await get_poll(box, found)
        assert poll.results_campaign_id is not None
        await dispatch(box, poll.results_campaign_id)
    assert "Hasil kuis" in telegram.double.texts_to(700_501)[-1]
    assert "Hasil jajak pendapat" in telegram.double.texts_to(700_603)[-1]


async def test_own_words_in_one_message_with_jawab(channel_env: object, typed_chat: Chat) -> None:
    box = box_of(channel_env)
    await subscribe(box, typed_chat)
    await typed_chat.say("halo")
    poll_id = await create_poll(box, question("Apa saran untuk taman kota?", allow_text=True))
    await deliver(box, typed_chat, poll_id)
    await typed_chat.say("JAWAB: bangku taman diperbanyak")
    assert id_("Thank you, we have received your answer.") in typed_chat.text
    assert [r.text for r in await answers(box, poll_id)] == ["bangku taman diperbanyak"]


async def test_a_tap_in_the_middle_of_a_report_leaves_the_report_as_it_was(
        telegram: TelegramEnv) -> None:
    box = telegram.box
    chat = telegram.chat()
    await subscribe(box, chat)
    poll_id = await create_poll(box, question(QUESTION, "Setuju", "Tidak setuju"))
    await chat.say("/start")
    await deliver(box, chat, poll_id)
    poll_keyboard, poll_message = chat.keyboard, chat.keyboard_message_id
    await chat.say("/start")
    await chat.tap(id_("📝 Make a report"))
    await chat.say("Lampu jalan di depan sekolah mati sejak tiga hari")
    report_options = list(chat.options)
    assert report_options
    # Back to the poll's message, further up the chat: a tap there answers it...
    chat.keyboard, chat.keyboard_message_id = poll_keyboard, poll_message
    chat.options = ["Setuju", "Tidak setuju"]
    await chat.tap("Setuju")
    assert id_("Thank you, your answer is recorded: {answer}.", answer="Setuju") in chat.text
    assert not [c for c in telegram.double.sent if c.method == "editMessageText"]
    conversation = await conversation_of(box, chat)
    assert (conversation.flow, conversation.data["nav"]["options"][0][1]) == (
        "report", report_options[0])
    assert len(await answers(box, poll_id)) == 1
