"""`emas serve`, `emas chat`, `emas db upgrade`, `emas seed`."""

from __future__ import annotations

import asyncio
import logging

import click

from bot.cli import configure_logging, echo_json, get_settings, open_database, run


@click.command()
@click.pass_context
def serve(ctx: click.Context) -> None:
    """Run the bot: webhooks, polling and background tasks, on EMAS_HOST:EMAS_PORT."""
    import uvicorn

    from bot.app import channel_status, create_app

    settings = get_settings(ctx)
    for line in channel_status(settings):
        click.echo(line)
    app = create_app(settings)
    uvicorn.run(app, host=settings.host, port=settings.port, log_level="info",
                proxy_headers=True, forwarded_allow_ips="127.0.0.1")


@click.command()
@click.option("--user", default="terminal", help="Who you are in the chat (a local user key).")
@click.option("--lang", type=click.Choice(["id", "en"]),
              help="Speak this language (else the one saved for --user; Indonesian at first).")
@click.pass_context
def chat(ctx: click.Context, user: str, lang: str | None) -> None:
    """Talk to the bot in the terminal, as a resident, with no credentials."""
    from bot.app import build_container
    from bot.handlers.terminal import TerminalChannel

    settings = get_settings(ctx)
    # The terminal shows only the conversation: the log goes to a file beside the data (or,
    # with no data folder yet, only warnings to stderr).
    if settings.data_dir.is_dir():
        configure_logging(verbose=ctx.obj.get("verbose", False),
                          log_file=str(settings.data_dir / "chat.log"))
    else:
        configure_logging(verbose=False, level=logging.WARNING)

    async def go() -> None:
        box = build_container(settings)
        try:
            await TerminalChannel(box.engine, user_key=user, locale=lang).run()
        finally:
            await box.db.dispose()

    asyncio.run(go())


@click.group()
def db() -> None:
    """The database schema."""


@db.command("upgrade")
@click.pass_context
def db_upgrade(ctx: click.Context) -> None:
    """Apply every migration."""
    from storage.migrate import upgrade

    upgrade(get_settings(ctx).database_url)
    click.echo("database is up to date")


@click.command()
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def seed(ctx: click.Context, as_json: bool) -> None:
    """Load the city pack into the reference tables (safe to run again)."""
    from storage.citypack import load_city_pack
    from storage.citypack import seed as seed_pack

    settings = get_settings(ctx)
    pack = load_city_pack(settings.city_dir)

    async def go() -> dict[str, int]:
        async with open_database(settings) as database, database.session() as session:
            return await seed_pack(session=session, pack=pack)

    counts = run(go())
    if as_json:
        echo_json(counts)
    else:
        click.echo(", ".join(f"{k}: {v}" for k, v in counts.items()))
