"""Polls and quizzes as residents and staff read them: the question with its options, the
acknowledgement of an answer, a quiz's score, the results sent back at the close, and the
option ids a tap or a typed number comes back with ("pl:<poll>:<question>:<option>")."""

from __future__ import annotations

import csv
import io
from datetime import datetime
from typing import Any

from bot.broadcast_texts import CampaignWords
from bot.i18n import N_, _, format_datetime, format_number, ngettext, use_locale
from bot.messages import Option
from broadcasts.polls import Answered, AnswerStatus, PollCard, Question
from storage.models.poll import PollKind

PREFIX = "pl"
WRITE = "w"
# A quiz's results list each question this long at most (one message holds ten).
RESULTS_QUESTION = 120
BAR = 10
# WhatsApp's limit for one message (as it counts: UTF-16 code units).
MESSAGE_LIMIT = 1600

PHASE_LABELS = {
    "draft": N_("draft"),
    "scheduled": N_("scheduled"),
    "open": N_("open for answers"),
    "closed": N_("closed to answers"),
    "cancelled": N_("cancelled"),
}
KIND_LABELS = {PollKind.POLL: N_("Poll"), PollKind.QUIZ: N_("Quiz")}


def phase_label(phase: str) -> str:
    label = PHASE_LABELS.get(phase)
    return _(label) if label is not None else phase


def kind_label(kind: str) -> str:
    label = KIND_LABELS.get(PollKind(kind)) if kind in tuple(PollKind) else None
    return _(label) if label is not None else kind


# -- option ids ---------------------------------------------------------------------------------


def option_id(poll_id: int, position: int, index: int | str) -> str:
    return f"{PREFIX}:{poll_id}:{position}:{index}"


def parse_option_id(raw: str | None) -> tuple[int, int, int | None] | None:
    """(poll, question position, option index or None for "write my answer"), or None when
    `raw` is not a poll's option."""
    parts = (raw or "").split(":")
    if len(parts) != 4 or parts[0] != PREFIX or not parts[1].isdigit() \
            or not parts[2].isdigit():
        return None
    if parts[3] == WRITE:
        return int(parts[1]), int(parts[2]), None
    if not parts[3].isdigit():
        return None
    return int(parts[1]), int(parts[2]), int(parts[3])


def write_label(question: Question) -> str:
    return _("✍️ Other answer (write it)") if question.options else _("✍️ Write my answer")


def question_options(poll_id: int, question: Question, locale: str, *,
                     marked: int | None = None) -> list[Option]:
    """The options of a question (the one chosen so far marked), and "write my answer" where
    the question takes the resident's own words."""
    options = []
    for index, label in enumerate(question.labels(locale)):
        options.append(Option(option_id(poll_id, question.position, index),
                              ("✅ " if index == marked else "") + label))
    if question.allow_text:
        options.append(Option(option_id(poll_id, question.position, WRITE),
                              write_label(question)))
    return options


# -- the question -------------------------------------------------------------------------------


def question_text(card: PollCard, locale: str) -> str:
    """A poll's or quiz question's message (the options go with it as buttons or a list)."""
    question = card.question
    lines: list[str] = []
    if card.kind == PollKind.QUIZ:
        lines.append(_("🏆 Quiz: {title}").format(title=card.title))
        lines.append(ngettext("Question {n} of {total} · {points} point",
                              "Question {n} of {total} · {points} points",
                              question.points).format(n=question.position + 1,
                                                      total=card.questions,
                                                      points=question.points))
        lines += ["", question.text(locale), "", _("Choose the right answer.")]
        return "\n".join(lines)
    lines += [_("📊 A poll from the Binjai City Government"), "", question.text(locale), ""]
    if question.options:
        how = _("Choose your answer below.")
        if question.allow_text:
            how += " " + _("If none fits, choose “Other answer” and write your own.")
    else:
        how = _("Choose “Write my answer” to answer in your own words.")
    lines.append(how + " " + change_hint(card.closes_at))
    if card.share_results:
        lines.append(_("We will send you the results when the poll closes."))
    return "\n".join(lines)


def answered_text(card: PollCard, ack: str, locale: str) -> str:
    """A poll's message once answered (on Telegram it replaces the question's message)."""
    return "\n".join([_("📊 A poll from the Binjai City Government"), "",
                      card.question.text(locale), "", ack])


def change_hint(closes_at: datetime | None) -> str:
    if closes_at is not None:
        return _("You can change your answer until {when}.").format(
            when=format_datetime(closes_at))
    return _("You can change your answer while the poll is open.")


def numbered(options: list[tuple[str, str]]) -> str:
    """Options as a numbered list to answer with the number (a template's text)."""
    lines = [_("Reply with a number:")]
    lines += [f"{i}. {label}" for i, (_id, label) in enumerate(options, 1)]
    return "\n".join(lines)


# -- answers ------------------------------------------------------------------------------------


def answer_label(answered: Answered, locale: str) -> str:
    question = answered.question
    if question is None:
        return ""
    if answered.option is not None and 0 <= answered.option < len(question.options):
        return question.label(answered.option, locale)
    return answered.text or ""


def acknowledgement(answered: Answered, locale: str) -> str:
    """What a resident is told of their answer (an option or their own words)."""
    poll = answered.poll
    status = answered.status
    if status == AnswerStatus.CLOSED and poll is not None:
        when = poll.closed_at or poll.closes_at
        if when is not None:
            return _("Sorry, this poll closed on {when}, so your answer was not recorded. "
                     "Thank you for wanting to take part!").format(when=format_datetime(when))
        return _("Sorry, this poll has closed, so your answer was not recorded. Thank you for "
                 "wanting to take part!")
    if status == AnswerStatus.NOT_RECIPIENT:
        return _("Sorry, this poll was sent to other residents, so we cannot record your "
                 "answer.")
    if status == AnswerStatus.UNKNOWN:
        return _("Sorry, this poll is no longer available.")
    if poll is not None and poll.kind == PollKind.QUIZ:
        return quiz_acknowledgement(answered, locale)
    own_words = answered.option is None
    label = answer_label(answered, locale)
    if status == AnswerStatus.RECORDED:
        text = (_("Thank you, we have received your answer.") if own_words else
                _("Thank you, your answer is recorded: {answer}.").format(answer=label))
    elif status == AnswerStatus.CHANGED:
        text = (_("Your answer is changed; the new one counts.") if own_words else
                _("Your answer is changed to: {answer}.").format(answer=label))
    else:
        text = (_("We have this answer already, thank you.") if own_words else
                _("Your answer stays: {answer}.").format(answer=label))
    if poll is not None:
        text += " " + change_hint(poll.closes_at)
        if poll.share_results and status == AnswerStatus.RECORDED:
            text += " " + _("We will send you the results when the poll closes.")
    return text


def quiz_acknowledgement(answered: Answered, locale: str) -> str:
    question = answered.question
    assert question is not None
    if answered.status == AnswerStatus.FINAL:
        return _("You have answered this question already; your first answer counts.")
    if answered.correct:
        return ngettext("✅ Right! +{points} point.", "✅ Right! +{points} points.",
                        answered.points).format(points=answered.points)
    right = question.label(question.correct, locale) if question.correct is not None else ""
    return _("❌ Not quite. The right answer: {answer}.").format(answer=right)


def score_text(answered: Answered) -> str:
    """The end of a quiz: the score."""
    title = answered.poll.title if answered.poll is not None else ""
    return "\n".join([
        ngettext("🏁 That was the last question! Your score: {score} of {total} point.",
                 "🏁 That was the last question! Your score: {score} of {total} points.",
                 answered.total).format(score=answered.score, total=answered.total),
        ngettext("You answered {right} of {n} question right.",
                 "You answered {right} of {n} questions right.",
                 answered.questions).format(right=answered.right, n=answered.questions),
        _("Thank you for taking part in the quiz “{title}”!").format(title=title),
    ])


# -- the results --------------------------------------------------------------------------------


def _bar(share: float | None) -> str:
    filled = round((share or 0) * BAR)
    return "█" * filled + "░" * (BAR - filled)


def _percent(share: float | None) -> str:
    return f"{format_number(round((share or 0) * 100))}%"


def results_text(results: dict[str, Any], locale: str) -> str:
    """The results sent back to the people who answered, when the poll closes (one message:
    a long quiz's questions are shortened until it fits)."""
    if results.get("kind") != PollKind.QUIZ:
        return _poll_results(results, locale)
    for room in (RESULTS_QUESTION, 60, 0):
        text = _quiz_results(results, locale, room)
        if len(text.encode("utf-16-le")) // 2 <= MESSAGE_LIMIT:
            break
    return text


def _quiz_results(results: dict[str, Any], locale: str, room: int) -> str:
    questions = results.get("questions") or []
    responses = int(results.get("responses") or 0)
    title = results.get("title", "")
    if len(title) > RESULTS_QUESTION:
        title = title[:RESULTS_QUESTION - 1].rstrip() + "…"
    lines = [_("🏆 Results of the quiz “{title}”").format(title=title),
             ngettext("{n} participant.", "{n} participants.", responses).format(
                 n=format_number(responses)), ""]
    for number, question in enumerate(questions, 1):
        text = _pick(question["texts"], locale)
        if len(text) > room:
            text = text[:room - 1].rstrip() + "…" if room else ""
        lines.append(f"{number}. {text}".rstrip())
        correct = question.get("correct")
        options = question.get("options") or []
        if correct is not None and 0 <= correct < len(options):
            right = options[correct]
            lines.append(_("✅ {answer}: {share} answered it right").format(
                answer=_pick(right["labels"], locale), share=_percent(right["share"])))
    lines += ["", _("Thank you for taking part!")]
    return "\n".join(lines)


def _poll_results(results: dict[str, Any], locale: str) -> str:
    questions = results.get("questions") or []
    responses = int(results.get("responses") or 0)
    lines = [_("📊 Results of the poll from the Binjai City Government"), ""]
    if questions:
        question = questions[0]
        lines += [_pick(question["texts"], locale), ""]
        for option in question.get("options") or []:
            lines.append(f"{_pick(option['labels'], locale)}")
            lines.append(f"{_bar(option['share'])} {_percent(option['share'])} "
                         f"({format_number(option['count'])})")
        if question.get("text_answers"):
            lines.append(ngettext("{n} answer in residents' own words, which Diskominfo "
                                  "reads.", "{n} answers in residents' own words, which "
                                  "Diskominfo reads.", question["text_answers"]).format(
                n=format_number(question["text_answers"])))
        lines.append("")
    lines.append(ngettext("{n} resident answered. Thank you for taking part!",
                          "{n} residents answered. Thank you for taking part!",
                          responses).format(n=format_number(responses)))
    return "\n".join(lines)


def _pick(texts: dict[str, str], locale: str) -> str:
    return texts.get(locale) or texts.get("id") or next(iter(texts.values()), "")


# -- for staff ----------------------------------------------------------------------------------


def cell(value: object) -> object:
    """A value for a CSV cell: text a spreadsheet would run as a formula ("=...", "+...")
    is kept as text."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def results_csv(rows: list[dict[str, Any]]) -> str:
    """Every count of a poll's results as CSV (UTF-8, one row per question, answer, kelurahan
    and channel), headed in the reader's language."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([_("Question"), _("Question text"), _("Answer"), _("Kecamatan"),
                     _("Kelurahan"), _("Channel"), _("Answers")])
    for row in rows:
        writer.writerow([cell(v) for v in (
            row["question"], row["question_text"],
            row["answer"] if row["answer"] is not None else _("(own words)"),
            row["kecamatan"] or "", row["kelurahan"] or "", row["channel"], row["count"])])
    return out.getvalue()


# -- the dispatcher's words ---------------------------------------------------------------------


class BroadcastWords(CampaignWords):
    """The dispatcher's words (broadcasts.dispatcher.CampaignWords): an announcement's, and a
    poll's question and results, in the recipient's language."""

    def poll_message(self, locale: str, card: PollCard) -> tuple[str, list[tuple[str, str]]]:
        with use_locale(locale) as chosen:
            options = question_options(card.poll_id, card.question, chosen)
            return question_text(card, chosen), [(o.id, o.label) for o in options]

    def poll_plain(self, locale: str, card: PollCard) -> str:
        text, options = self.poll_message(locale, card)
        with use_locale(locale):
            tail = "\n\n" + numbered(options)
        room = 1000 - len(tail)
        if len(text) > room:
            text = text[:room - 1].rstrip() + "…"
        return text + tail

    def poll_results(self, locale: str, results: dict[str, Any]) -> str:
        with use_locale(locale) as chosen:
            return results_text(results, chosen)


BROADCAST_WORDS = BroadcastWords()
