"""`emas subscribers import|stats|invite-relay|relays|link-code`: broadcast audiences."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from bot.cli import count, echo_json, get_settings, open_database_and_city, run, run_or_fail
from bot.settings import Settings

T = TypeVar("T")


async def _with_parts(settings: Settings, fn: Callable[..., Awaitable[T]]) -> T:
    from broadcasts.groups import load_catalog

    async with open_database_and_city(settings) as (database, city):
        return await fn(database, city, load_catalog(city, settings.city_dir))


def _links(settings: Settings, code: str, *, telegram: bool = True) -> dict[str, str | None]:
    from broadcasts.links import telegram_start_link, whatsapp_text_link

    tg = None
    if telegram and settings.telegram_enabled:
        tg = telegram_start_link(settings.telegram_bot_username or "<bot>", code)
    wa = None
    if settings.twilio_whatsapp_from:
        wa = whatsapp_text_link(settings.twilio_whatsapp_from, code)
    return {"telegram": tg, "whatsapp": wa}


@click.group()
def subscribers() -> None:
    """Who receives announcements: imports, kepala lingkungan, KIM group chats."""


@subscribers.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--partial", is_flag=True,
              help="Import the good rows even when some are rejected.")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def import_cmd(ctx: click.Context, file: Path, partial: bool, as_json: bool) -> None:
    """Import subscribers from a CSV file with the columns channel, address, name, kelurahan,
    groups, role, consent_source (UTF-8, UTF-16 or Windows-1252). Every row is checked and
    rejected rows are listed with the reason; with any rejected row nothing is imported unless
    --partial. Importing the same file again changes nothing; opt-outs are kept."""
    import io

    from broadcasts.subscribers import CsvImportError, decode_csv, import_subscribers
    from storage.types import utcnow

    async def go(db: Any, city: Any, catalog: Any) -> dict[str, Any]:
        text = decode_csv(await asyncio.to_thread(file.read_bytes))
        report = await import_subscribers(db=db, city=city, catalog=catalog,
                                          stream=io.StringIO(text, newline=""), now=utcnow,
                                          partial=partial)
        return dataclasses.asdict(report)

    data = run_or_fail(_with_parts(get_settings(ctx), go), CsvImportError)
    if as_json:
        echo_json(data)
    elif not data["applied"]:
        click.echo(f"{count(data['rows'], 'row', 'rows')}, {len(data['rejected'])} rejected: "
                   "nothing imported. "
                   "Correct the rows below, or import the good ones with --partial.")
    else:
        click.echo(f"{count(data['rows'], 'row', 'rows')}: {data['created']} new, {data['updated']} updated, "
                   f"{data['unchanged']} unchanged, {len(data['rejected'])} rejected; "
                   f"{data['relays']} kepala lingkungan registered; {data['kept_stopped']} "
                   f"opted out and kept so")
    if not as_json:
        for row in data["rejected"]:
            click.echo(f"  line {row['line']}: {row['reason']}")
    if not data["applied"] or (data["rejected"] and not data["created"]
                               and not data["updated"] and not data["unchanged"]):
        ctx.exit(1)


@subscribers.command("stats")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def stats(ctx: click.Context, as_json: bool) -> None:
    """How many subscribers per channel (and how many stopped)."""
    from storage import repo_broadcasts

    async def go(db: Any, city: Any, catalog: Any) -> dict[str, int]:
        async with db.reader() as session:
            return await repo_broadcasts.count_subscribers(session=session)

    data = run(_with_parts(get_settings(ctx), go))
    if as_json:
        echo_json(data)
    else:
        click.echo(", ".join(f"{k}: {v}" for k, v in sorted(data.items())) or "none")


@subscribers.command("invite-relay")
@click.option("--kelurahan", required=True, help="Kelurahan code or name.")
@click.option("--name", help="The kepala lingkungan's name.")
@click.option("--lingkungan", help="Which lingkungan they head.")
@click.option("--by", default="operator", show_default=True)
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def invite_relay(ctx: click.Context, kelurahan: str, name: str | None, lingkungan: str | None,
                 by: str, as_json: bool) -> None:
    """A one-time link a kepala lingkungan opens to register as a relay."""
    from bot.cli.campaign import _area_codes
    from broadcasts.subscribers import SubscriberService
    from storage.types import utcnow

    settings = get_settings(ctx)

    async def go(db: Any, city: Any, catalog: Any) -> str:
        code = _area_codes(city, (kelurahan,), kecamatan=False)[0]
        async with db.session() as session:
            service = SubscriberService(session=session, city=city, catalog=catalog, now=utcnow)
            return await service.create_invite(kelurahan_code=code, name=name,
                                               lingkungan=lingkungan, created_by=by)

    code = run(_with_parts(settings, go))
    links = _links(settings, code)
    if as_json:
        echo_json({"code": code, "links": links})
        return
    click.echo(f"invitation code: {code}")
    usable = {channel: link for channel, link in links.items() if link}
    for channel, link in usable.items():
        click.echo(f"  {channel}: {link}")
    if usable:
        click.echo("Next: send the kepala lingkungan one of these links (on the phone they will "
                   "use). Opening it registers them as the relay for their lingkungan; "
                   "`emas subscribers relays` then lists them with their join code.")
    else:
        click.echo("Next: no chat channel is configured, so there is no link to open. Set "
                   "EMAS_TELEGRAM_TOKEN or the EMAS_TWILIO_* settings, or have the kepala "
                   f"lingkungan send the code {code} to the bot.")


@subscribers.command("relays")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def relays(ctx: click.Context, as_json: bool) -> None:
    """Registered kepala lingkungan with their join codes."""
    from broadcasts.links import join_code
    from storage import repo_broadcasts

    settings = get_settings(ctx)

    async def go(db: Any, city: Any, catalog: Any) -> list[dict[str, Any]]:
        async with db.reader() as session:
            rows = await repo_broadcasts.list_relays(session=session)
        return [{"id": r.id, "name": r.name, "kelurahan": city.kelurahan(r.kelurahan_code).name,
                 "lingkungan": r.lingkungan, "channel": s.channel, "active": r.active,
                 "join_code": join_code(r.code, None),
                 "links": _links(settings, join_code(r.code, None),
                                 telegram=s.channel == "telegram")}
                for r, s in rows]

    data = run(_with_parts(settings, go))
    if as_json:
        echo_json(data)
        return
    if not data:
        click.echo("No kepala lingkungan is registered as a relay yet. Invite one with: "
                   "emas subscribers invite-relay --kelurahan NAME --name 'Pak ...'")
        return
    click.echo(f"{'id':<5} {'name':<24} {'kelurahan':<18} join code")
    for r in data:
        click.echo(f"#{r['id']:<4} {r['name'] or '-':<24} {r['kelurahan']:<18} {r['join_code']}")


@subscribers.command("link-code")
@click.argument("group")
@click.option("--by", default="operator", show_default=True)
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def link_code(ctx: click.Context, group: str, by: str, as_json: bool) -> None:
    """A one-time code that makes a KIM's own Telegram group a recipient: an admin sends
    `/kim CODE` in the group."""
    from broadcasts.subscribers import SubscriberService
    from storage.types import utcnow

    async def go(db: Any, city: Any, catalog: Any) -> dict[str, str]:
        found = catalog.resolve(group)
        if found is None:
            raise click.BadParameter(f"unknown group {group!r}")
        async with db.session() as session:
            service = SubscriberService(session=session, city=city, catalog=catalog, now=utcnow)
            code = await service.create_group_code(group_key=found.key, created_by=by)
        return {"group": found.key, "code": code, "command": f"/kim {code}"}

    data = run(_with_parts(get_settings(ctx), go))
    if as_json:
        echo_json(data)
    else:
        click.echo(f"in the {data['group']} Telegram group, send: {data['command']}")
