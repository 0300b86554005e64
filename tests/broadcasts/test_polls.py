"""Polls and quizzes in the broadcasts domain: what a poll may be, how it goes out through the
dispatcher (same lanes, limits and durability as a campaign), who may answer and how often,
closing at its time, results per kelurahan, group and channel, results sent back, quizzes'
scores and leaderboards, and the platforms' message limits."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest

from bot.app import Container
from bot.handlers.whatsapp_render import BODY_LIMIT, render_body, utf16_len
from bot.i18n import use_locale
from bot.messages import Option, Reply
from bot.poll_texts import BROADCAST_WORDS
from broadcasting import BERNGAM, PAHLAWAN, add_subscribers, campaign_status, delivery_counts
from broadcasts.audience import Audience
from broadcasts.poll_results import leaderboard, poll_results, shared_results, top_words
from broadcasts.polls import (
    MAX_OPTIONS,
    OPTION_LIMIT,
    QUESTION_LIMIT,
    AnswerStatus,
    PollDraft,
    PollError,
    PollService,
    institution_key,
    institution_kind,
    snap_key,
    units,
)
from conftest import TelegramEnv
from polling import KIM_PAHLAWAN, create_poll, dispatch, get_poll, question, service

TELEGRAM_LIMIT = 4096


@pytest.fixture
async def box(telegram: TelegramEnv) -> AsyncIterator[Container]:
    """The app with its Telegram channel and bulk sender, on the Bot API double."""
    yield telegram.box


async def _problems(box: Container, draft: PollDraft) -> list[str]:
    async with box.db.session() as session:
        return [p.msgid for p in service(box, session).problems(draft)]


def _draft(*questions: object, kind: str = "poll", **more: object) -> PollDraft:
    return PollDraft(questions=list(questions), audience=Audience(groups=[KIM_PAHLAWAN]),  # type: ignore[arg-type]
                     kind=kind, **more)  # type: ignore[arg-type]


async def _answer(box: Container, poll_id: int, address: str, option: int | None = None,
                  text: str | None = None, position: int = 0) -> str:
    async with box.db.session() as session:
        answered = await service(box, session).answer(
            poll_id=poll_id, position=position, channel="telegram", address=address,
            option=option, text=text)
    return str(answered.status)


async def _results(box: Container, poll_id: int) -> dict[str, object]:
    async with box.db.reader() as session:
        polls = service(box, session)
        poll = await polls.get(poll_id)
        return await poll_results(session=session, city=box.city, catalog=polls.catalog,
                                  poll=poll, questions=await polls.questions(poll),
                                  phase=polls.phase(poll))


async def test_what_a_poll_may_be(container: Container) -> None:
    now = container.engine.clock()
    ok = question("Setuju?", "Ya", "Tidak")
    assert await _problems(container, _draft(ok)) == []
    assert await _problems(container, _draft(question("Saran?", allow_text=True))) == []
    found = await _problems(container, _draft(question("Setuju?", "Ya")))
    assert found == ["Question {n}: give from {low} to {high} options, or none for an answer "
                     "in the resident's own words."]
    many = question("Pilih?", *[f"Pilihan {i}" for i in range(MAX_OPTIONS + 1)])
    assert len(await _problems(container, _draft(many))) == 1
    assert "Question {n}: options must differ from each other and not be numbers alone " \
        "(residents answer with their number)." in await _problems(
            container, _draft(question("Setuju?", "Ya", "ya")))
    assert len(await _problems(container, _draft(question("Berapa?", "1", "2")))) == 1
    assert "Question {n}: the Indonesian text is required." in await _problems(
        container, _draft(question("", "Ya", "Tidak")))
    assert "Question {n}: the {locale} text is longer than {limit} characters." in \
        await _problems(container, _draft(question("x" * (QUESTION_LIMIT + 1), "Ya", "Tidak")))
    assert "Question {n}: an option is longer than {limit} characters." in await _problems(
        container, _draft(question("Setuju?", "Ya", "T" * (OPTION_LIMIT + 1))))
    assert "Question {n}: give the English labels of every option or of none." in \
        await _problems(container, _draft(question("Setuju?", "Ya", "Tidak",
                                                   options_en=["Yes"])))
    assert "A poll asks one question; a quiz asks several." in await _problems(
        container, _draft(ok, ok))
    assert "The closing time has passed; choose a later time." in await _problems(
        container, _draft(ok, closes_at=now - timedelta(minutes=5)))
    assert "The poll must close after it opens." in await _problems(
        container, _draft(ok, opens_at=now + timedelta(hours=3),
                          closes_at=now + timedelta(hours=2)))
    quiz = await _problems(container, _draft(question("PBB?", "e-PBB", "e-Dokter", points=5),
                                             kind="quiz"))
    assert quiz == ["A quiz needs a title.", "Question {n}: choose which option is correct."]
    with pytest.raises(PollError):
        async with container.db.session() as session:
            await service(container, session).create(_draft(question("Setuju?", "Ya")),
                                                     created_by="operator")


async def test_a_poll_goes_out_like_a_campaign_to_people_not_group_chats(
        box: Container, telegram: TelegramEnv) -> None:
    people = [str(900_000 + i) for i in range(5)]
    await add_subscribers(box.db, box.city, box.settings, people)
    await add_subscribers(box.db, box.city, box.settings, ["-1001234"], kelurahan=PAHLAWAN)
    await add_subscribers(box.db, box.city, box.settings, ["900099"], groups=["cgen"])
    poll_id = await create_poll(box, question("Setuju?", "Ya", "Tidak"))
    poll = await get_poll(box, poll_id)
    assert poll.status == "open" and poll.campaign_id is not None
    await dispatch(box, poll.campaign_id)
    assert await delivery_counts(box.db, poll.campaign_id) == {"delivered": 5, "skipped": 1}
    for person in people:
        sent = telegram.double.messages_to(int(person))
        assert len(sent) == 1
        buttons = sent[0].reply_markup["inline_keyboard"]
        assert [b[0]["callback_data"] for b in buttons] == [f"pl:{poll_id}:0:0",
                                                           f"pl:{poll_id}:0:1"]
    assert telegram.double.texts_to(-1001234) == []  # a group chat is not asked
    assert telegram.double.texts_to(900099) == []  # not in the audience
    async with box.db.reader() as session:
        from broadcasts.reach import campaign_reach
        from storage import repo_broadcasts

        campaign = await repo_broadcasts.get_campaign(session=session,
                                                      campaign_id=poll.campaign_id)
        assert campaign is not None
        reach = await campaign_reach(session=session, city=box.city, campaign=campaign)
    assert reach["skipped_by_reason"] == {"group_chat": 1}


async def test_a_poll_opens_and_closes_at_its_times(box: Container,
                                                    telegram: TelegramEnv) -> None:
    clock = box.engine.clock
    await add_subscribers(box.db, box.city, box.settings, ["900001", "900002", "900003"])
    poll_id = await create_poll(box, question("Setuju?", "Ya", "Tidak"),
                                opens_at=clock() + timedelta(hours=1),
                                closes_at=clock() + timedelta(hours=5), share_results=True)
    poll = await get_poll(box, poll_id)
    assert poll.campaign_id is not None
    assert await campaign_status(box.db, poll.campaign_id) == "scheduled"
    async with box.db.reader() as session:
        assert service(box, session).phase(poll) == "scheduled"
    dispatcher = box.broadcasts.build_dispatcher(idle_poll=0.05)
    await dispatcher.housekeeping()
    assert telegram.double.texts_to(900001) == []  # not yet
    clock.advance(hours=1)  # type: ignore[attr-defined]
    await dispatch(box, poll.campaign_id)
    assert len(telegram.double.texts_to(900001)) == 1
    assert await _answer(box, poll_id, "900001", 0) == "recorded"
    assert await _answer(box, poll_id, "900002", 1) == "recorded"

    clock.advance(hours=4)  # type: ignore[attr-defined]
    await box.broadcasts.build_dispatcher(idle_poll=0.05).housekeeping()
    poll = await get_poll(box, poll_id)
    assert poll.status == "closed" and poll.closed_by == "schedule"
    assert poll.results_campaign_id is not None
    await dispatch(box, poll.results_campaign_id)
    # The results go back to the two who answered, not to the one who did not.
    assert len(telegram.double.texts_to(900001)) == 2
    assert len(telegram.double.texts_to(900002)) == 2
    assert len(telegram.double.texts_to(900003)) == 1
    results = telegram.double.texts_to(900001)[-1]
    assert "Hasil jajak pendapat" in results and "50%" in results and "2 warga" in results
    assert await _answer(box, poll_id, "900003", 0) == "closed"


async def test_results_need_no_second_approval(box: Container) -> None:
    box.settings = box.settings.model_copy(update={"broadcast_require_approval": True})
    box.broadcasts.settings = box.settings
    await add_subscribers(box.db, box.city, box.settings, ["900011"])
    poll_id = await create_poll(box, question("Setuju?", "Ya", "Tidak"), share_results=True)
    poll = await get_poll(box, poll_id)
    assert poll.campaign_id is not None
    # The question waits for a second staff member...
    assert await campaign_status(box.db, poll.campaign_id) == "pending_approval"
    async with box.db.session() as session:
        await service(box, session).campaigns().approve(poll.campaign_id, by="another")
    await dispatch(box, poll.campaign_id)
    assert await _answer(box, poll_id, "900011", 0) == "recorded"
    async with box.db.session() as session:
        closed = await service(box, session).close(poll_id, by="operator")
    # ...its results, the poll's own figures, do not.
    assert closed.results_campaign_id is not None
    assert await campaign_status(box.db, closed.results_campaign_id) == "sending"


async def test_who_may_answer_and_how_often(box: Container) -> None:
    await add_subscribers(box.db, box.city, box.settings, ["900021", "900022"])
    await add_subscribers(box.db, box.city, box.settings, ["900029"], groups=["cgen"])
    poll_id = await create_poll(box, question("Setuju?", "Ya", "Tidak"))
    poll = await get_poll(box, poll_id)
    assert poll.campaign_id is not None
    # Before the dispatcher has sent it, nobody has it to answer.
    assert await _answer(box, poll_id, "900021", 0) == "not_recipient"
    await dispatch(box, poll.campaign_id)
    assert await _answer(box, poll_id, "900021", 0) == "recorded"
    assert await _answer(box, poll_id, "900021", 0) == "same"
    assert await _answer(box, poll_id, "900021", 1) == "changed"
    assert await _answer(box, poll_id, "900021", 5) == "unknown"
    assert await _answer(box, poll_id, "900021", text="kata saya") == "unknown"
    assert await _answer(box, poll_id, "900029", 0) == "not_recipient"
    assert await _answer(box, poll_id, "123", 0) == "not_recipient"
    async with box.db.session() as session:
        unknown = await service(box, session).answer(poll_id=999, position=0,
                                                     channel="telegram", address="900021",
                                                     option=0)
    assert unknown.status == AnswerStatus.UNKNOWN
    figures = await _results(box, poll_id)
    assert [(o["label"], o["count"]) for o in figures["options"]] == [("Ya", 0), ("Tidak", 1)]  # type: ignore[index]


async def test_results_by_kelurahan_group_and_channel(box: Container) -> None:
    await add_subscribers(box.db, box.city, box.settings, ["900031", "900032"],
                          groups=[KIM_PAHLAWAN, "cgen"])
    await add_subscribers(box.db, box.city, box.settings, ["900033"],
                          groups=["kim:" + BERNGAM], kelurahan=BERNGAM)
    poll_id = await create_poll(box, question("Saran untuk taman?", "Lampu", "Bangku",
                                              allow_text=True),
                                groups=[KIM_PAHLAWAN, "kim:" + BERNGAM])
    poll = await get_poll(box, poll_id)
    assert poll.campaign_id is not None
    await dispatch(box, poll.campaign_id)
    await _answer(box, poll_id, "900031", 0)
    await _answer(box, poll_id, "900032", text="Tambah lampu dan tempat sampah ya min")
    await _answer(box, poll_id, "900033", 1)
    figures = await _results(box, poll_id)
    assert figures["responses"] == 3 and figures["delivered"] == 3
    assert figures["text_answers"] == 1
    assert figures["by_kelurahan"] == {"Pahlawan": {"Lampu": 1}, "Berngam": {"Bangku": 1}}
    assert figures["by_kecamatan"] == {"Binjai Utara": {"Lampu": 1},
                                       "Binjai Kota": {"Bangku": 1}}
    # Groups of the poll's audience only (C-Gen was not asked as such).
    assert set(figures["by_group"]) == {"KIM Pahlawan (Binjai Utara)",  # type: ignore[arg-type]
                                        "KIM Berngam (Binjai Kota)"}
    assert figures["by_channel"] == {"telegram": {"Lampu": 1, "Bangku": 1}}
    assert [w["word"] for w in figures["top_words"]] == ["lampu", "sampah", "tambah",  # type: ignore[attr-defined]
                                                         "tempat"]
    shared = shared_results(figures)
    assert "Tambah" not in str(shared)  # nobody's own words go back to residents


def test_top_words_count_each_answer_once_without_stop_words() -> None:
    words = top_words(["Jalan jalan rusak di depan sekolah", "jalan berlubang dan rusak",
                       "Mohon perbaiki jalan yang rusak, terima kasih 2026"])
    assert words[:2] == [{"word": "jalan", "count": 3}, {"word": "rusak", "count": 3}]
    assert not {"di", "dan", "yang", "mohon", "terima", "kasih", "2026"} & {
        w["word"] for w in words}


async def test_a_quiz_scores_and_its_answers_are_final(box: Container) -> None:
    await add_subscribers(box.db, box.city, box.settings, ["900041", "900042", "900043"],
                          groups=["cgen"])
    quiz_id = await create_poll(
        box, question("PBB?", "e-PBB", "e-Dokter", correct=0, points=10),
        question("Kecamatan?", "Tiga", "Lima", correct=1, points=20),
        kind="quiz", title="Kuis Smart City", groups=["cgen"])
    poll = await get_poll(box, quiz_id)
    assert poll.campaign_id is not None
    await dispatch(box, poll.campaign_id)
    async with box.db.session() as session:
        polls = service(box, session)
        first = await polls.answer(poll_id=quiz_id, position=0, channel="telegram",
                                   address="900041", option=0)
        assert (first.status, first.correct, first.points, first.first) == (
            "recorded", True, 10, True)
        assert first.next_question is not None and first.next_question.position == 1
        again = await polls.answer(poll_id=quiz_id, position=0, channel="telegram",
                                   address="900041", option=1)
        assert (again.status, again.correct) == ("final", True)
        last = await polls.answer(poll_id=quiz_id, position=1, channel="telegram",
                                  address="900041", option=0)
        assert (last.correct, last.next_question, last.score, last.total, last.right) == (
            False, None, 10, 30, 1)
        for address, school in (("900041", "SMA N 1 Binjai"), ("900042", "sman 1 binjai"),
                                ("900043", "Politeknik Negeri Medan")):
            await polls.state_institution("telegram", address, school)
        await polls.answer(poll_id=quiz_id, position=0, channel="telegram", address="900042",
                           option=0)
        await polls.answer(poll_id=quiz_id, position=0, channel="telegram", address="900043",
                           option=0)
        await polls.answer(poll_id=quiz_id, position=1, channel="telegram", address="900043",
                           option=1)
    async with box.db.reader() as session:
        catalog = service(box, session).catalog
        schools = await leaderboard(session=session, city=box.city, catalog=catalog,
                                    poll_id=quiz_id, by="school")
        campuses = await leaderboard(session=session, city=box.city, catalog=catalog,
                                     poll_id=quiz_id, by="campus")
        kelurahan = await leaderboard(session=session, city=box.city, catalog=catalog,
                                      poll_id=None, by="kelurahan")
    assert [(r["key"], r["participants"], r["points"]) for r in schools] == [
        ("sma negeri 1 binjai", 2, 20)]
    assert [(r["name"], r["points"], r["rank"]) for r in campuses] == [
        ("Politeknik Negeri Medan", 30, 1)]
    assert [(r["name"], r["participants"], r["points"]) for r in kelurahan] == [
        ("Pahlawan", 3, 50)]


def test_schools_and_campuses_are_one_whatever_the_spelling() -> None:
    for spelled in ("SMAN 1 Binjai", "SMA N 1 Binjai", "sma negeri 1 binjai",
                    "SMA Negri 1 Binjai"):
        assert institution_key(spelled) == "sma negeri 1 binjai", spelled
    assert institution_key("Univ. Negeri Medan") == "universitas negeri medan"
    assert institution_kind("universitas negeri medan") == "campus"
    assert institution_kind("politeknik negeri medan") == "campus"
    assert institution_kind("smk negeri 2 binjai") == "school"
    assert snap_key("sma negeri 1 binjal", ["sma negeri 1 binjai"]) == "sma negeri 1 binjai"
    assert snap_key("sma negeri 2 binjai", ["sma negeri 1 binjai"]) == "sma negeri 2 binjai"


async def test_every_message_fits_the_platforms_limits(container: Container) -> None:
    """The longest question with six of the longest options, in both languages, as a message,
    as a template's text and as the results: within WhatsApp's 1,600 and Telegram's 4,096."""
    wide = "Ŵ" * 10 + "🏛" * 5  # characters WhatsApp counts twice are in here too

    def longest(text: str, limit: int) -> str:
        while units(text) > limit:
            text = text[:-1]
        return text

    long_question = longest(wide * 100, QUESTION_LIMIT)
    long_options = [longest(f"{i}" + wide * 10, OPTION_LIMIT) for i in range(MAX_OPTIONS)]
    draft = question(long_question, *long_options, en=long_question, options_en=long_options,
                     allow_text=True)
    poll_id = await create_poll(container, draft, title="T" * 200,
                                closes_at=container.engine.clock() + timedelta(days=3),
                                share_results=True, send=False)
    quiz_id = await create_poll(
        container, *[question(long_question, *long_options, correct=0, points=1000)
                     for _ in range(10)], kind="quiz", title="Q" * 200, send=False)
    async with container.db.reader() as session:
        polls: PollService = service(container, session)
        for found in (poll_id, quiz_id):
            poll = await polls.get(found)
            card = await polls.card(poll)
            figures = await poll_results(session=session, city=container.city,
                                         catalog=polls.catalog, poll=poll,
                                         questions=await polls.questions(poll), phase="closed")
            for option in figures["questions"][0]["options"]:
                option.update(count=123_456, share=0.333)
            for locale in ("id", "en"):
                text, options = BROADCAST_WORDS.poll_message(locale, card)
                with use_locale(locale):
                    body = render_body(Reply(text, options=[Option(i, o) for i, o in options]))
                assert utf16_len(body) <= BODY_LIMIT, (found, locale, utf16_len(body))
                assert len(text) <= TELEGRAM_LIMIT
                assert all(len(o.encode()) <= 64 for o, _label in options)
                assert len(BROADCAST_WORDS.poll_plain(locale, card)) <= 1000
                results = BROADCAST_WORDS.poll_results(locale, shared_results(figures))
                assert utf16_len(results) <= BODY_LIMIT, (found, locale)
