"""`emas source create|list|qr`: tracked sources (a banner, a school visit, an event, a social
post), their links and printable QR codes, and the residents each brought."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import quote

import click

from bot.cli import count, echo_json, get_settings, open_database, run
from bot.settings import Settings

KINDS = ("poster", "school", "event", "social")


def source_links(settings: Settings, code: str) -> dict[str, str]:
    """The links that open the bot with the source's code: Telegram's deep link when the bot's
    username is known, WhatsApp's pre-filled text when the sender is configured."""
    from bot.outreach_texts import whatsapp_join_text
    from broadcasts.links import telegram_start_link, whatsapp_text_link

    links: dict[str, str] = {}
    if settings.telegram_bot_username:
        links["telegram"] = telegram_start_link(settings.telegram_bot_username.lstrip("@"), code)
    if settings.twilio_whatsapp_from:
        links["whatsapp"] = whatsapp_text_link(settings.twilio_whatsapp_from,
                                               quote(whatsapp_join_text(code), safe=""))
    return links


def _no_links() -> click.ClickException:
    return click.ClickException(
        "no link can be made: set EMAS_TELEGRAM_BOT_USERNAME (Telegram) or "
        "EMAS_TWILIO_WHATSAPP_FROM (WhatsApp)")


def _posters(settings: Settings, source: Any, links: dict[str, str],
             out: Path | None) -> dict[str, dict[str, str]]:
    from bot.posters import write_posters

    folder = out if out is not None else settings.data_dir / "sources"
    written = write_posters(folder=folder, code=source.code, name=source.name, links=links)
    return {p.channel: {"svg": str(p.svg), "png": str(p.png)} for p in written}


def _row(source: Any, links: dict[str, str]) -> dict[str, Any]:
    return {"id": source.id, "code": source.code, "name": source.name, "kind": source.kind,
            "created_at": source.created_at.isoformat(), "created_by": source.created_by,
            "telegram": links.get("telegram"), "whatsapp": links.get("whatsapp")}


@click.group()
def source() -> None:
    """Tracked sources: a link and a QR code per banner, school visit, event or social post."""


@source.command("create")
@click.argument("name")
@click.option("--kind", required=True, type=click.Choice(KINDS),
              help="What the source is: a poster or banner, a school or campus visit, an "
                   "event, a social media post.")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path),
              help="Folder for the QR codes (default: EMAS_DATA_DIR/sources).")
@click.option("--by", default="operator", show_default=True, help="Who makes it.")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def create(ctx: click.Context, name: str, kind: str, out: Path | None, by: str,
           as_json: bool) -> None:
    """Make a source: its code, its Telegram and WhatsApp links, and a printable QR code for
    each (SVG and PNG, the name under the code)."""
    from bot.broadcast_texts import problem_texts
    from broadcasts.outreach import OutreachService, SourceError
    from storage.types import utcnow

    settings = get_settings(ctx)
    if not (settings.telegram_bot_username or settings.twilio_whatsapp_from):
        raise _no_links()

    async def go() -> Any:
        async with open_database(settings) as database, database.session() as session:
            return await OutreachService(session=session, now=utcnow).create_source(
                name, kind, created_by=by)

    try:
        made = run(go())
    except SourceError as error:
        raise click.ClickException("; ".join(problem_texts(error.problems))) from None
    links = source_links(settings, made.code)
    data = {**_row(made, links), "qr": _posters(settings, made, links, out)}
    if as_json:
        echo_json(data)
        return
    click.echo(f"source {data['code']} \u201c{data['name']}\u201d ({data['kind']})")
    for channel, link in links.items():
        click.echo(f"  {channel}: {link}")
        files = data["qr"][channel]
        click.echo(f"    QR: {files['svg']}, {files['png']}")


@source.command("qr")
@click.argument("code")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path),
              help="Folder for the QR codes (default: EMAS_DATA_DIR/sources).")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def qr(ctx: click.Context, code: str, out: Path | None, as_json: bool) -> None:
    """Write a source's QR codes again (after the bot's username or number changed, say)."""
    from broadcasts.outreach import OutreachService
    from storage.types import utcnow

    settings = get_settings(ctx)
    if not (settings.telegram_bot_username or settings.twilio_whatsapp_from):
        raise _no_links()

    async def go() -> Any:
        async with open_database(settings) as database, database.reader() as session:
            return await OutreachService(session=session, now=utcnow).source(code)

    found = run(go())
    if found is None:
        raise click.ClickException(f"there is no source with the code {code!r}")
    links = source_links(settings, found.code)
    files = _posters(settings, found, links, out)
    if as_json:
        echo_json({**_row(found, links), "qr": files})
        return
    for channel, paths in files.items():
        click.echo(f"{channel}: {paths['svg']}, {paths['png']}")


@source.command("list")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def list_cmd(ctx: click.Context, as_json: bool) -> None:
    """Every source with what it brought: residents (first touch), of them new to the bot
    (joins), first reports and first questions made after arriving through it."""
    from broadcasts.outreach import OutreachService
    from storage.types import utcnow

    settings = get_settings(ctx)

    async def go() -> list[Any]:
        async with open_database(settings) as database, database.reader() as session:
            return await OutreachService(session=session, now=utcnow).figures()

    rows = []
    for figures in run(go()):
        links = source_links(settings, figures.source.code)
        rows.append({**_row(figures.source, links), "residents": figures.residents,
                     "joins": figures.joined, "first_reports": figures.first_reports,
                     "first_questions": figures.first_questions})
    if as_json:
        echo_json(rows)
        return
    if not rows:
        click.echo("no sources yet: make one with `emas source create NAME --kind KIND`")
        return
    for row in rows:
        click.echo(f"{row['code']}  {row['kind']:<7} {row['name']}")
        click.echo(f"    {count(row['joins'], 'join', 'joins')}, "
                   f"{count(row['first_reports'], 'first report', 'first reports')}, "
                   f"{count(row['first_questions'], 'first question', 'first questions')} "
                   f"({count(row['residents'], 'resident', 'residents')} in all)")
