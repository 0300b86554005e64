"""`emas faq reload|questions|answer|feedback`: the FAQ content and residents' questions."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import click

from bot.cli import echo_json, get_settings, open_database, run, run_or_fail
from bot.i18n import get_locale
from bot.settings import Settings

T = TypeVar("T")


async def _with_service(settings: Settings, fn: Callable[[Any], Awaitable[T]]) -> T:
    from faq.service import FaqService

    async with open_database(settings) as database, database.session() as session:
        return await fn(FaqService(session=session))


@click.group()
def faq() -> None:
    """FAQ articles and residents' questions to Kominfo staff."""


@faq.command("reload")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def reload_cmd(ctx: click.Context, as_json: bool) -> None:
    """Check the FAQ content and make the running server load it.

    The server watches the FAQ folder and reloads within EMAS_FAQ_RELOAD_SECONDS of a change;
    this command checks the content first (broken content is refused, and the server keeps the
    previous version) and touches a marker the server watches too, so the reload also happens
    when file times did not change."""
    from faq.content import FaqContentError
    from faq.library import build_snapshot, category_words
    from storage.city import City
    from storage.citypack import load_city_pack

    settings = get_settings(ctx)
    city = City(load_city_pack(settings.city_dir), reader=get_locale)
    try:
        snapshot = build_snapshot(settings.faq_dir, category_words(city.categories))
    except FaqContentError as exc:
        raise click.ClickException(f"FAQ content not reloaded: {exc}") from exc
    marker = settings.faq_reload_marker
    marker.parent.mkdir(parents=True, exist_ok=True)
    marker.write_text(f"{snapshot.fingerprint!r}\n", encoding="utf-8")
    content = snapshot.content
    summary = {"articles": len(content.articles), "topics": len(content.topics),
               "files": content.files, "reload_within_seconds": settings.faq_reload_seconds}
    if as_json:
        echo_json(summary)
        return
    click.echo(f"FAQ content is valid: {summary['articles']} articles in {summary['topics']} "
               f"topics. The running server loads it within {settings.faq_reload_seconds:g} s.")


@faq.command("questions")
@click.option("--all", "show_all", is_flag=True, help="Answered questions too.")
@click.option("--limit", default=50, show_default=True)
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def questions_cmd(ctx: click.Context, show_all: bool, limit: int, as_json: bool) -> None:
    """Residents' questions waiting for an answer, oldest first."""
    from faq.service import question_summary
    from storage.models.faq import QuestionStatus

    async def go(service: Any) -> list[dict[str, Any]]:
        rows = await service.questions(status=None if show_all else QuestionStatus.OPEN,
                                       limit=limit)
        return [question_summary(r) for r in rows]

    rows = run(_with_service(get_settings(ctx), go))
    if as_json:
        echo_json(rows)
        return
    if not rows:
        click.echo("no questions" if show_all else "no open questions")
    for r in rows:
        click.echo(f"#{r['id']}  {r['status']:<8} {r['channel']:<9} {r['created_at']}")
        click.echo(f"    {r['text']}")
        if r["answer"]:
            state = "delivered" if r["delivered_at"] else "waiting to be delivered"
            click.echo(f"    answer ({r['answered_by']}, {state}): {r['answer']}")


@faq.command("answer")
@click.argument("question_id", type=int)
@click.argument("text", nargs=-1, required=True)
@click.option("--by", "by", default="Kominfo", show_default=True, help="Who answers.")
@click.pass_context
def answer_cmd(ctx: click.Context, question_id: int, text: tuple[str, ...], by: str) -> None:
    """Answer question QUESTION_ID; the server sends the answer to the resident's chat."""
    from faq.service import FaqError

    settings = get_settings(ctx)

    async def go(service: Any) -> None:
        await service.answer(question_id=question_id, text=" ".join(text), by=by)

    run_or_fail(_with_service(settings, go), FaqError)
    click.echo(f"answer to question #{question_id} saved; the running server sends it to the "
               f"resident within {settings.faq_answer_poll_seconds:g} s")


@faq.command("feedback")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def feedback_cmd(ctx: click.Context, as_json: bool) -> None:
    """How residents rated each article ("Was this helpful?")."""

    async def go(service: Any) -> list[tuple[str, int, int]]:
        result: list[tuple[str, int, int]] = await service.feedback()
        return result

    rows = run(_with_service(get_settings(ctx), go))
    if as_json:
        echo_json([{"article": a, "helpful": y, "not_helpful": n} for a, y, n in rows])
        return
    if not rows:
        click.echo("no feedback yet")
    for article, yes, no in rows:
        click.echo(f"{article:<24} helpful {yes:>4}   not helpful {no:>4}")
