"""A poll's results as staff read them while it is open: answers per option, the response
rate, by kecamatan, kelurahan, group and channel, the words residents used most in their own
answers; a quiz's scores and its leaderboards (per school, campus, kelurahan or community)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from functools import cache
from typing import TYPE_CHECKING, Any

from sqlmodel.ext.asyncio.session import AsyncSession

from broadcasts.audience import Audience
from broadcasts.groups import COMMUNITY, GroupCatalog
from storage import repo_polls as repo
from storage.city import City
from storage.models.poll import Poll, PollKind
from storage.places import fold

if TYPE_CHECKING:
    from broadcasts.polls import Question

# How many answers in residents' own words the most frequent words are counted over (the
# latest), and how many words are listed.
WORDS_OVER = 20_000
TOP_WORDS = 15
LEADERBOARDS = ("school", "campus", "kelurahan", "group")

# Chat words and fillers the stop-word list of Sastrawi does not have, and English ones.
_CHAT_WORDS = frozenset({
    "yg", "nya", "sih", "dong", "deh", "nih", "tuh", "lah", "kok", "kak", "pak", "bu", "bang",
    "min", "admin", "mimin", "aja", "gak", "ga", "nggak", "enggak", "ngga", "gk", "tdk", "udah",
    "udh", "sdh", "jg", "juga", "biar", "klo", "kalo", "kalau", "trs", "terus", "bgt", "banget",
    "lg", "lagi", "sy", "aku", "gue", "gw", "kami", "kita", "mau", "pengen", "ingin", "tolong",
    "mohon", "terima", "kasih", "makasih", "ok", "oke", "ya", "iya", "the", "and", "for", "with",
    "that", "this", "are", "was", "you", "your", "our", "not", "but", "have", "has", "all", "any",
    "can", "will", "just",
})


# Words of Sastrawi's list that say what residents want of their city ("tempat sampah",
# "tambah lampu", "masalah banjir"): kept.
_MEANINGFUL = frozenset({"tempat", "tambah", "masalah", "penting", "besar", "kecil", "baru",
                         "lama", "jauh", "dekat", "kerja", "naik", "enak", "bulan", "hari",
                         "keadaan", "kasus", "jumlah", "waktu", "pertanyaan", "persoalan"})


@cache
def stop_words() -> frozenset[str]:
    """Indonesian stop words (Sastrawi's list) and chat fillers: not what an answer is about."""
    from Sastrawi.StopWordRemover.StopWordRemoverFactory import StopWordRemoverFactory

    listed = StopWordRemoverFactory().get_stop_words()
    return (frozenset(fold(w) for w in listed) | _CHAT_WORDS) - _MEANINGFUL


def top_words(texts: Iterable[str], limit: int = TOP_WORDS) -> list[dict[str, Any]]:
    """The words most answers use (each answer counts a word once), without stop words,
    numbers and words of one or two letters."""
    stops = stop_words()
    counter: Counter[str] = Counter()
    for text in texts:
        counter.update({w for w in fold(text).split()
                        if len(w) > 2 and not w.isdigit() and w not in stops})
    return [{"word": word, "count": n}
            for word, n in sorted(counter.items(), key=lambda item: (-item[1], item[0]))[:limit]]


def kelurahan_names(city: City) -> dict[str, str]:
    """Each kelurahan's name, with its kecamatan where two kelurahan share one."""
    places = city.all_kelurahan()
    seen = Counter(k.name for k in places)
    out = {}
    for place in places:
        name = place.name
        if seen[name] > 1:
            kec = city.kecamatan_by_code(place.kecamatan_code)
            name = f"{name} ({kec.name if kec else place.kecamatan_code})"
        out[place.code] = name
    return out


def _share(count: int, total: int) -> float | None:
    return round(count / total, 4) if total else None


def _add(bucket: dict[str, dict[str, int]], key: str, label: str, n: int) -> None:
    row = bucket.setdefault(key, {})
    row[label] = row.get(label, 0) + n


async def poll_results(*, session: AsyncSession, city: City, catalog: GroupCatalog, poll: Poll,
                       questions: Sequence[Question], phase: str) -> dict[str, Any]:
    """Every figure of a poll (what `emas poll results --json` prints and the console draws)."""
    assert poll.id is not None
    names = kelurahan_names(city)
    delivered = targeted = 0
    reached: dict[str, dict[str, int]] = {}  # kelurahan code → targeted, delivered
    reached_channel: dict[str, dict[str, int]] = {}
    if poll.campaign_id is not None:
        for kel, channel, sent, n in await repo.delivery_counts(session=session,
                                                                campaign_id=poll.campaign_id):
            targeted += n
            delivered += n if sent else 0
            for bucket, key in ((reached, kel or ""), (reached_channel, channel)):
                row = bucket.setdefault(key, {"targeted": 0, "delivered": 0})
                row["targeted"] += n
                row["delivered"] += n if sent else 0
    counts = await repo.answer_counts(session=session, poll_id=poll.id)
    groups = await repo.answer_counts_by_group(session=session, poll_id=poll.id)
    audience = Audience.model_validate(poll.audience)
    wanted_groups = set(catalog.expand(audience.groups)) if audience.groups else None
    out_questions = []
    answered_kel: dict[str, int] = {}
    answered_channel: dict[str, int] = {}
    for question in questions:
        labels = question.labels("id")
        totals = [0] * len(labels)
        text_count = 0
        by_kel: dict[str, dict[str, int]] = {}
        by_kec: dict[str, dict[str, int]] = {}
        by_channel: dict[str, dict[str, int]] = {}
        by_group: dict[str, dict[str, int]] = {}
        no_area: dict[str, int] = {}
        for qid, option, kel, channel, n in counts:
            if qid != question.id:
                continue
            if question.position == 0:
                answered_kel[kel or ""] = answered_kel.get(kel or "", 0) + n
                answered_channel[channel] = answered_channel.get(channel, 0) + n
            if option is None or not 0 <= option < len(labels):
                text_count += n
                continue
            totals[option] += n
            label = labels[option]
            _add(by_channel, channel, label, n)
            if kel and kel in names:
                _add(by_kel, names[kel], label, n)
                kec = city.kecamatan_by_code(city.kelurahan(kel).kecamatan_code)
                _add(by_kec, kec.name if kec else "", label, n)
            else:
                no_area[label] = no_area.get(label, 0) + n
        for qid, option, key, n in groups:
            if qid != question.id or option is None or not 0 <= option < len(labels):
                continue
            if wanted_groups is not None and key not in wanted_groups:
                continue
            group = catalog.get(key)
            _add(by_group, group.name() if group else key, labels[option], n)
        chosen = sum(totals)
        entry: dict[str, Any] = {
            "position": question.position,
            "question": question.text("id"),
            "question_en": question.texts.get("en"),
            "texts": dict(question.texts),
            "options": [{"label": label, "label_en": question.options[i].get("en"),
                         "count": totals[i], "share": _share(totals[i], chosen)}
                        for i, label in enumerate(labels)],
            "responses": chosen + text_count,
            "text_answers": text_count,
            "allow_text": question.allow_text,
            "by_kecamatan": by_kec, "by_kelurahan": by_kel, "by_group": by_group,
            "by_channel": by_channel, "no_area": no_area,
        }
        if question.allow_text and text_count:
            latest = await repo.text_answers(session=session, question_id=question.id,
                                             limit=WORDS_OVER)
            entry["top_words"] = top_words(t for t, _kel, _at in latest)
        else:
            entry["top_words"] = []
        if poll.kind == PollKind.QUIZ and question.correct is not None:
            right = totals[question.correct] if question.correct < len(totals) else 0
            entry.update(correct=question.correct, correct_label=labels[question.correct],
                         points=question.points, right=right, right_share=_share(right, chosen))
        out_questions.append(entry)
    first: dict[str, Any] = out_questions[0] if out_questions else {
        "question": "", "texts": {}, "options": [], "responses": 0, "text_answers": 0,
        "top_words": [], "by_kecamatan": {}, "by_kelurahan": {}, "by_group": {},
        "by_channel": {}, "no_area": {}}
    people = await repo.respondents(session=session, poll_id=poll.id)
    rates = []
    for code, figures in sorted(reached.items(), key=lambda item: names.get(item[0], "~")):
        answered = answered_kel.get(code, 0)
        rates.append({"code": code or None, "name": names.get(code) if code else None,
                      **figures, "responses": answered,
                      "rate": _share(answered, figures["delivered"])})
    channel_rates = {channel: {**figures, "responses": answered_channel.get(channel, 0),
                               "rate": _share(answered_channel.get(channel, 0),
                                              figures["delivered"])}
                     for channel, figures in sorted(reached_channel.items())}
    result: dict[str, Any] = {
        "id": poll.id, "kind": poll.kind, "title": poll.title, "status": poll.status,
        "phase": phase, "question": first["question"], "texts": first["texts"],
        "share_results": poll.share_results,
        "opens_at": poll.opens_at.isoformat() if poll.opens_at else None,
        "closes_at": poll.closes_at.isoformat() if poll.closes_at else None,
        "closed_at": poll.closed_at.isoformat() if poll.closed_at else None,
        "campaign_id": poll.campaign_id, "results_campaign_id": poll.results_campaign_id,
        "targeted": targeted, "delivered": delivered,
        "responses": people if poll.kind == PollKind.QUIZ else first["responses"],
        "response_rate": _share(people if poll.kind == PollKind.QUIZ else first["responses"],
                                delivered),
        "options": first["options"], "text_answers": first["text_answers"],
        "top_words": first["top_words"],
        "by_kecamatan": first["by_kecamatan"], "by_kelurahan": first["by_kelurahan"],
        "by_group": first["by_group"], "by_channel": first["by_channel"],
        "no_area": first["no_area"],
        "kelurahan_rates": rates, "channel_rates": channel_rates,
        "questions": out_questions,
    }
    if poll.kind == PollKind.QUIZ:
        total = sum(q.points for q in questions)
        points = sum(q.get("points", 0) * q.get("right", 0) for q in out_questions)
        result["quiz"] = {"participants": people, "max_score": total,
                          "average_score": round(points / people, 1) if people else None}
    return result


def shared_results(figures: dict[str, Any]) -> dict[str, Any]:
    """What respondents are sent back at the close: the counts per option of each question,
    never anyone's own words."""
    return {
        "kind": figures["kind"], "title": figures["title"], "responses": figures["responses"],
        "questions": [{"texts": q["texts"], "options": [
            {"labels": {k: v for k, v in (("id", o["label"]), ("en", o["label_en"])) if v},
             "count": o["count"], "share": o["share"]} for o in q["options"]],
            "correct": q.get("correct"), "text_answers": q["text_answers"]}
            for q in figures["questions"]],
    }


async def answer_rows(*, session: AsyncSession, city: City, poll: Poll,
                      questions: Sequence[Question]) -> list[dict[str, Any]]:
    """Every count as a row (question, answer, kecamatan, kelurahan, channel, count): the
    results as a spreadsheet reads them."""
    assert poll.id is not None
    names = kelurahan_names(city)
    by_id = {q.id: q for q in questions}
    rows = []
    for qid, option, kel, channel, n in await repo.answer_counts(session=session,
                                                                 poll_id=poll.id):
        question = by_id.get(qid)
        if question is None:
            continue
        known = kel is not None and city.has_kelurahan(kel)
        kec = city.kecamatan_by_code(city.kelurahan(kel).kecamatan_code) \
            if known and kel is not None else None
        rows.append({
            "question": question.position + 1, "question_text": question.text("id"),
            "answer": (question.label(option, "id")
                       if option is not None and 0 <= option < len(question.options) else None),
            "kecamatan": kec.name if kec else None,
            "kelurahan": names.get(kel) if known and kel is not None else None,
            "channel": channel, "count": n})
    rows.sort(key=lambda r: (r["question"], r["answer"] is None, r["answer"] or "",
                             r["kecamatan"] or "~", r["kelurahan"] or "~", r["channel"]))
    return rows


async def leaderboard(*, session: AsyncSession, city: City, catalog: GroupCatalog,
                      poll_id: int | None, by: str) -> list[dict[str, Any]]:
    """The quiz's (or every quiz's) participants and points per school, campus, kelurahan or
    community group, ranked by points (ties share a rank)."""
    if by not in LEADERBOARDS:
        raise ValueError(f"unknown leaderboard {by!r}")
    groups = [g.key for g in catalog.of_kind(COMMUNITY)] if by == "group" else []
    rows = await repo.scores(session=session, poll_ids=[poll_id] if poll_id else None, by=by,
                             group_keys=groups)
    if by in ("school", "campus"):
        names = await repo.institution_names(session=session,
                                             keys=[k for k, _n, _p in rows if k])
    elif by == "kelurahan":
        names = kelurahan_names(city)
    else:
        names = {}
        for key, _n, _p in rows:
            group = catalog.get(key or "")
            names[key or ""] = group.name() if group else (key or "")
    entries: list[dict[str, Any]] = [
        {"key": key, "name": names.get(key, key), "participants": n, "points": p,
         "average": round(p / n, 1) if n else 0.0}
        for key, n, p in rows if key]
    entries.sort(key=lambda e: (-e["points"], -e["average"], e["name"]))
    rank, last = 0, None
    for index, entry in enumerate(entries, 1):
        if entry["points"] != last:
            rank, last = index, entry["points"]
        entry["rank"] = rank
    return entries
