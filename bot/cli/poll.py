"""`emas poll create|preview|send|close|results|list` and `emas quiz create|leaderboard`:
polls and quizzes from the command line (operators are trusted)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import click

from bot.cli import count, echo_json, get_settings, open_database_and_city, run
from bot.settings import Settings

T = TypeVar("T")

LEADERBOARDS = ("school", "campus", "kelurahan", "group")


async def _with_service(settings: Settings, fn: Callable[[Any], Awaitable[T]]) -> T:
    from broadcasts.groups import load_catalog
    from broadcasts.polls import PollService
    from storage.types import utcnow

    async with open_database_and_city(settings) as (database, city), \
            database.session() as session:
        service = PollService(session=session, city=city,
                              catalog=load_catalog(city, settings.city_dir),
                              settings=settings, now=utcnow)
        return await fn(service)


def _call(ctx: click.Context, fn: Callable[[Any], Awaitable[T]]) -> T:
    from bot.broadcast_texts import problem_texts
    from broadcasts.campaigns import CampaignError
    from broadcasts.polls import PollError

    try:
        return run(_with_service(get_settings(ctx), fn))
    except (PollError, CampaignError) as error:
        raise click.ClickException("; ".join(problem_texts(error.problems))) from None


def _moment(value: str | None, option: str) -> datetime | None:
    """'YYYY-MM-DD HH:MM' in WIB, a time to come."""
    if not value:
        return None
    try:
        moment = datetime.strptime(value + " +0700", "%Y-%m-%d %H:%M %z")
    except ValueError:
        raise click.BadParameter("use 'YYYY-MM-DD HH:MM' (WIB)", param_hint=option) from None
    if moment <= datetime.now(UTC):
        raise click.BadParameter(f"{value} WIB has already passed", param_hint=option)
    return moment


def _summary(poll: Any, phase: str) -> dict[str, Any]:
    return {"id": poll.id, "kind": poll.kind, "title": poll.title, "status": poll.status,
            "phase": phase, "opens_at": poll.opens_at.isoformat() if poll.opens_at else None,
            "closes_at": poll.closes_at.isoformat() if poll.closes_at else None,
            "share_results": poll.share_results, "campaign_id": poll.campaign_id,
            "results_campaign_id": poll.results_campaign_id, "created_by": poll.created_by}


def _audience_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """The audience, times and sharing every poll and quiz takes, as a campaign's."""
    for decorator in reversed([
        click.option("--group", "groups", multiple=True,
                     help="Group key or name: kim:12.75.04, 'KIM Binjai Timur', cgen, ... "
                          "(no group, area or role: everyone subscribed)."),
        click.option("--kecamatan", multiple=True, help="Kecamatan code or name."),
        click.option("--kelurahan", multiple=True, help="Kelurahan code or name."),
        click.option("--role", "roles", multiple=True,
                     type=click.Choice(["resident", "kim", "kepling"])),
        click.option("--channel", "channels", multiple=True,
                     type=click.Choice(["telegram", "whatsapp"])),
        click.option("--language", "languages", multiple=True, type=click.Choice(["id", "en"])),
        click.option("--opens", help="Open at this time, WIB: 'YYYY-MM-DD HH:MM' (default: "
                                     "when sent)."),
        click.option("--closes", help="Close at this time, WIB: 'YYYY-MM-DD HH:MM' (default: "
                                      "when you run `emas poll close`)."),
        click.option("--share-results", is_flag=True,
                     help="Send the results to the people who answered when it closes."),
        click.option("--template", help="WhatsApp ContentSid (HX...) for recipients outside "
                                        "24 h."),
        click.option("--by", default="operator", show_default=True, help="Who writes it."),
        click.option("--json", "as_json", is_flag=True),
    ]):
        command = decorator(command)
    return command


def _audience(service: Any, groups: tuple[str, ...], kecamatan: tuple[str, ...],
              kelurahan: tuple[str, ...], roles: tuple[str, ...], channels: tuple[str, ...],
              languages: tuple[str, ...]) -> Any:
    from bot.cli.campaign import _area_codes
    from broadcasts.audience import ROLES, Audience

    if not (groups or kecamatan or kelurahan or roles):
        # No group, area or role chosen: the poll asks everyone subscribed, whatever their role.
        roles = ROLES
    keys = []
    for name in groups:
        group = service.catalog.resolve(name)
        if group is None:
            raise click.BadParameter(f"unknown group {name!r}", param_hint="--group")
        keys.append(group.key)
    return Audience(groups=keys, kecamatan=_area_codes(service.city, kecamatan, kecamatan=True),
                    kelurahan=_area_codes(service.city, kelurahan, kecamatan=False),
                    roles=list(roles), channels=list(channels), languages=list(languages),
                    relays=False)


def _print_preview(preview: dict[str, Any]) -> None:
    click.echo(f"recipients: {preview['recipients']} (opted out: {preview['opted_out']})",
               err=True)
    for channel, f in preview["channels"].items():
        state = "" if f["enabled"] else " [channel off]"
        left_out = f.get("group_chats_left_out", 0)
        click.echo(f"  {channel}{state}: {count(f['people'], 'person', 'people')}, "
                   f"~{f['seconds']} s at {f['rate_per_second']}/s"
                   + (f" ({count(left_out, 'group chat', 'group chats')} not asked)"
                      if left_out else ""), err=True)
    if preview["needs_template"]:
        click.echo(f"WhatsApp outside the 24-hour window: {preview['needs_template']} "
                   f"(skipped without a template: {preview['skipped_no_template']})", err=True)


@click.group()
def poll() -> None:
    """Polls: one question to KIM, C-Gen, areas; answered in chat; results per kelurahan."""


@poll.command("create")
@click.option("--question", "question_id", required=True, help="The question, in Indonesian.")
@click.option("--question-en", help="The question in English (optional).")
@click.option("--option", "options", multiple=True,
              help="An answer to choose (2 to 6, in order); none with --free-text.")
@click.option("--option-en", "options_en", multiple=True,
              help="The English label of each --option, in the same order (optional).")
@click.option("--free-text", is_flag=True,
              help="Residents may answer in their own words (besides the options, if any).")
@click.option("--title", default="", help="A name for staff (default: the question).")
@_audience_options
@click.pass_context
def create(ctx: click.Context, question_id: str, question_en: str | None,
           options: tuple[str, ...], options_en: tuple[str, ...], free_text: bool, title: str,
           groups: tuple[str, ...], kecamatan: tuple[str, ...], kelurahan: tuple[str, ...],
           roles: tuple[str, ...], channels: tuple[str, ...], languages: tuple[str, ...],
           opens: str | None, closes: str | None, share_results: bool, template: str | None,
           by: str, as_json: bool) -> None:
    """Write a poll (a draft: preview it, then send it); prints its id."""
    from broadcasts.polls import PollDraft, QuestionDraft

    if options_en and len(options_en) != len(options):
        raise click.BadParameter("give one --option-en for each --option",
                                 param_hint="--option-en")
    labels = [{"id": o} for o in options]
    for label, english in zip(labels, options_en, strict=False):
        label["en"] = english
    texts = {"id": question_id}
    if question_en:
        texts["en"] = question_en
    opens_at, closes_at = _moment(opens, "--opens"), _moment(closes, "--closes")

    async def go(service: Any) -> dict[str, Any]:
        draft = PollDraft(
            questions=[QuestionDraft(texts=texts, options=labels, allow_text=free_text)],
            audience=_audience(service, groups, kecamatan, kelurahan, roles, channels,
                               languages),
            title=title, opens_at=opens_at, closes_at=closes_at, share_results=share_results,
            template_sid=template)
        created = await service.create(draft, created_by=by)
        return {**_summary(created, service.phase(created)),
                "preview": await service.preview(created)}

    data = _call(ctx, go)
    if as_json:
        echo_json(data)
        return
    click.echo(data["id"])
    click.echo(f"poll #{data['id']} created (draft)", err=True)
    _print_preview(data["preview"])
    click.echo(f"send it with: emas poll send {data['id']}", err=True)


@poll.command("preview")
@click.argument("poll_id", type=int)
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def preview(ctx: click.Context, poll_id: int, as_json: bool) -> None:
    """The question and its options, the audience, when it opens and closes, whom it reaches
    and how long sending takes."""
    from bot.broadcast_texts import describe_audience
    from broadcasts.audience import Audience

    async def go(service: Any) -> dict[str, Any]:
        found = await service.get(poll_id)
        questions = await service.questions(found)
        return {**_summary(found, service.phase(found)),
                "questions": [{"texts": q.texts, "options": q.options,
                               "free_text": q.allow_text, "correct": q.correct,
                               "points": q.points} for q in questions],
                "audience": describe_audience(Audience.model_validate(found.audience),
                                              service.catalog, service.city),
                "preview": await service.preview(found)}

    data = _call(ctx, go)
    if as_json:
        echo_json(data)
        return
    click.echo(f"{data['kind']} #{data['id']} \u201c{data['title']}\u201d ({data['phase']})")
    for number, question in enumerate(data["questions"], 1):
        click.echo(f"question {number}: {question['texts'].get('id', '')}")
        if question["texts"].get("en"):
            click.echo(f"  (en) {question['texts']['en']}")
        for index, option in enumerate(question["options"], 1):
            right = " (correct)" if question["correct"] == index - 1 else ""
            english = f" / {option['en']}" if option.get("en") else ""
            click.echo(f"  {index}. {option.get('id', '')}{english}{right}")
        if question["free_text"]:
            click.echo("  (answers in the resident's own words)")
    click.echo(f"audience: {data['audience']}")
    click.echo(f"opens: {_when(data['opens_at'], 'when sent')}; closes: "
               f"{_when(data['closes_at'], 'when closed with `emas poll close`')}")
    click.echo("results go back to the people who answered" if data["share_results"]
               else "results stay with staff")
    pre = data["preview"]
    click.echo(f"recipients: {pre['recipients']} (opted out: {pre['opted_out']}); time to "
               f"send: ~{pre['seconds']} s")


def _when(value: str | None, otherwise: str) -> str:
    from bot.i18n import format_datetime

    return format_datetime(datetime.fromisoformat(value)) if value else otherwise


def _mover(name: str, doc: str) -> click.Command:
    @click.argument("poll_id", type=int)
    @click.option("--by", default="operator", show_default=True, help="Who does it.")
    @click.option("--json", "as_json", is_flag=True)
    @click.pass_context
    def command(ctx: click.Context, poll_id: int, by: str, as_json: bool) -> None:
        async def go(service: Any) -> dict[str, Any]:
            moved = await getattr(service, name)(poll_id, by=by)
            data = _summary(moved, service.phase(moved))
            sending = await service.campaigns().get(moved.campaign_id) \
                if moved.campaign_id else None
            data["campaign_status"] = sending.status if sending is not None else None
            return data

        data = _call(ctx, go)
        if as_json:
            echo_json(data)
        else:
            click.echo(f"poll #{data['id']}: {data['phase']}")
            if data["campaign_status"] == "pending_approval":
                click.echo(f"it goes out once another staff member approves it: "
                           f"emas campaign approve {data['campaign_id']}")
            if data["results_campaign_id"]:
                click.echo(f"results go to the people who answered as campaign "
                           f"#{data['results_campaign_id']}")

    command.__doc__ = doc
    return poll.command(name)(command)


_mover("send", "Send a poll now (or at its opening time); a second staff member approves it "
               "first where the city requires that (`emas campaign approve`).")
_mover("close", "Close a poll now: answers stop counting; with --share-results the people who "
                "answered get the results. A draft is cancelled.")


@poll.command("results")
@click.argument("poll_id", type=int)
@click.option("--json", "as_json", is_flag=True)
@click.option("--csv", "as_csv", is_flag=True, help="Every count as a CSV row.")
@click.pass_context
def results(ctx: click.Context, poll_id: int, as_json: bool, as_csv: bool) -> None:
    """Answers per option, the response rate, by kecamatan, kelurahan, group and channel; the
    words used most in answers in residents' own words."""
    from broadcasts.poll_results import answer_rows, poll_results

    async def go(service: Any) -> dict[str, Any]:
        found = await service.get(poll_id)
        questions = await service.questions(found)
        figures: dict[str, Any] = await poll_results(
            session=service.session, city=service.city, catalog=service.catalog, poll=found,
            questions=questions, phase=service.phase(found))
        if as_csv:
            figures["rows"] = await answer_rows(session=service.session, city=service.city,
                                                poll=found, questions=questions)
        return figures

    data = _call(ctx, go)
    if as_csv:
        from bot.poll_texts import results_csv

        click.echo(results_csv(data["rows"]), nl=False)
        return
    if as_json:
        echo_json(data)
        return
    rate = f"{data['response_rate']:.0%}" if data["response_rate"] is not None else "-"
    click.echo(f"{data['kind']} #{data['id']} \u201c{data['title']}\u201d ({data['phase']}): "
               f"{data['responses']} responses of {data['delivered']} delivered ({rate})")
    for number, question in enumerate(data["questions"], 1):
        if len(data["questions"]) > 1:
            click.echo(f"question {number}: {question['question']}")
        for option in question["options"]:
            share = f"{option['share']:.0%}" if option["share"] is not None else "-"
            right = " (correct)" if question.get("correct_label") == option["label"] else ""
            click.echo(f"  {option['label']}: {option['count']} ({share}){right}")
        if question["text_answers"]:
            words = ", ".join(f"{w['word']} ({w['count']})" for w in question["top_words"])
            click.echo(f"  in their own words: {question['text_answers']}"
                       + (f"; most used: {words}" if words else ""))
    for name, row in data["by_kelurahan"].items():
        click.echo(f"  {name}: " + ", ".join(f"{k} {v}" for k, v in row.items()))


@poll.command("list")
@click.option("--limit", default=20, show_default=True)
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def list_cmd(ctx: click.Context, limit: int, as_json: bool) -> None:
    """The newest polls and quizzes."""

    async def go(service: Any) -> list[dict[str, Any]]:
        return [_summary(p, service.phase(p)) for p in await service.recent(limit=limit)]

    rows = _call(ctx, go)
    if as_json:
        echo_json(rows)
        return
    if not rows:
        click.echo("no polls")
    for r in rows:
        click.echo(f"#{r['id']:<5} {r['kind']:<5} {r['phase']:<10} {r['title']}")


# --- quizzes -----------------------------------------------------------------------------------


@click.group()
def quiz() -> None:
    """Quizzes: questions with a correct answer and points, one at a time, with leaderboards
    per school, campus, kelurahan and community (send, close and results: `emas poll`)."""


def _read_quiz(path: Path) -> tuple[str, list[Any]]:
    """The title and questions of a quiz file (YAML)."""
    import yaml

    from broadcasts.polls import QuestionDraft

    def bad(why: str) -> click.BadParameter:
        return click.BadParameter(f"{path.name}: {why}", param_hint="FILE")

    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as error:
        raise bad(f"not a readable YAML file ({type(error).__name__})") from None
    if not isinstance(data, dict) or not isinstance(data.get("questions"), list):
        raise bad("expected a mapping with a title and a list of questions")
    questions = []
    for number, entry in enumerate(data["questions"], 1):
        if not isinstance(entry, dict) or not isinstance(entry.get("options"), list):
            raise bad(f"question {number} needs a question and a list of options")
        options = [{"id": str(o)} for o in entry["options"]]
        for label, english in zip(options, entry.get("options_en") or [], strict=False):
            label["en"] = str(english)
        correct = entry.get("correct")
        if isinstance(correct, int) and not isinstance(correct, bool):
            index: int | None = correct - 1
        else:
            index = next((i for i, o in enumerate(options) if o["id"] == str(correct)), None)
        texts = {"id": str(entry.get("question") or "")}
        if entry.get("question_en"):
            texts["en"] = str(entry["question_en"])
        points = entry.get("points", 10)
        questions.append(QuestionDraft(texts=texts, options=options, correct=index,
                                       points=points if isinstance(points, int) else 0))
    return str(data.get("title") or ""), questions


@quiz.command("create")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@_audience_options
@click.pass_context
def quiz_create(ctx: click.Context, file: Path, groups: tuple[str, ...],
                kecamatan: tuple[str, ...], kelurahan: tuple[str, ...], roles: tuple[str, ...],
                channels: tuple[str, ...], languages: tuple[str, ...], opens: str | None,
                closes: str | None, share_results: bool, template: str | None, by: str,
                as_json: bool) -> None:
    """Write a quiz from a YAML FILE (title; questions, each with options, the correct one by
    number or label, points); prints its id. Send it with `emas poll send ID`."""
    from broadcasts.polls import PollDraft

    title, questions = _read_quiz(file)
    opens_at, closes_at = _moment(opens, "--opens"), _moment(closes, "--closes")

    async def go(service: Any) -> dict[str, Any]:
        draft = PollDraft(questions=questions, kind="quiz", title=title,
                          audience=_audience(service, groups, kecamatan, kelurahan, roles,
                                             channels, languages),
                          opens_at=opens_at, closes_at=closes_at, share_results=share_results,
                          template_sid=template)
        created = await service.create(draft, created_by=by)
        return {**_summary(created, service.phase(created)),
                "questions": len(questions), "preview": await service.preview(created)}

    data = _call(ctx, go)
    if as_json:
        echo_json(data)
        return
    click.echo(data["id"])
    click.echo(f"quiz #{data['id']} created (draft), {data['questions']} questions", err=True)
    _print_preview(data["preview"])
    click.echo(f"send it with: emas poll send {data['id']}", err=True)


@quiz.command("leaderboard")
@click.argument("poll_id", type=int, required=False)
@click.option("--by", "by", type=click.Choice(LEADERBOARDS), default="school",
              show_default=True)
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def leaderboard(ctx: click.Context, poll_id: int | None, by: str, as_json: bool) -> None:
    """Participants and points per school, campus, kelurahan or community group, for one quiz
    (or, without POLL_ID, every quiz)."""
    from broadcasts.poll_results import leaderboard as board

    async def go(service: Any) -> dict[str, Any]:
        if poll_id is not None:
            found = await service.get(poll_id)
            if found.kind != "quiz":
                raise click.ClickException(f"#{poll_id} is a poll, not a quiz")
        rows = await board(session=service.session, city=service.city,
                           catalog=service.catalog, poll_id=poll_id, by=by)
        return {"quiz": poll_id, "by": by, "rows": rows}

    data = _call(ctx, go)
    if as_json:
        echo_json(data)
        return
    if not data["rows"]:
        click.echo("no scores yet")
    for row in data["rows"]:
        click.echo(f"{row['rank']:>3}. {row['name']}: {row['points']} points, "
                   f"{count(row['participants'], 'participant', 'participants')} "
                   f"(average {row['average']})")
